//! The commands, one module per verb (pairs that differ by a flag share one:
//! SELECT/EXAMINE, LIST/LSUB, SUBSCRIBE/UNSUBSCRIBE, GETQUOTA/GETQUOTAROOT, and the
//! five RFC 4314 ACL commands in `acl`).
//! Each adds `op_<verb>` to [`crate::session::Session`]; the dispatcher in
//! `session::dispatch` checks the state first and syncs the selected mailbox after.

mod acl;
mod append;
mod authenticate;
mod capability;
mod close;
mod compress;
mod copy;
mod create;
mod delete;
mod enable;
mod expunge;
mod fetch;
mod id;
mod idle;
mod list;
mod login;
mod logout;
mod r#move;
mod namespace;
mod quota;
mod rename;
mod search;
mod select;
mod sort;
mod starttls;
pub(crate) mod status;
mod store;
mod subscribe;
mod thread;
mod unselect;

pub(crate) use search::SearchRequest;
pub(crate) use sort::SortRequest;
pub(crate) use store::StoreRequest;
pub(crate) use thread::ThreadRequest;
