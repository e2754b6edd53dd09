//! The IMAP codec (RFC 3501, RFC 9051 and the extensions congvu-imap announces),
//! I/O-free: framing, command parsing, command encoding (the client side, and the
//! round-trip check), response encoding, modified UTF-7 and COMPRESS's deflate.
//! Bytes in, typed values out, so every piece can be tested and fuzzed without a
//! socket. The server (`congvu-imap`) knows it as `codec`.
//!
//! ## Invariants
//! 1. Nothing here names the store, the directory or the server: flags, rights and
//!    secrets are this crate's own types (issue 13).
//! 2. [`parse_command_with`] takes any bytes and answers with a command or a typed
//!    error, never a panic; [`Command::encode_with`] writes a command the parser
//!    reads back equal (fuzz targets `imap_command` and `imap_roundtrip`).

pub mod acl;
pub mod command;
pub mod datetime;
pub mod deflate;
mod encode;
pub mod fetch;
pub mod framing;
mod lexer;
pub mod mutf7;
pub mod parse;
pub mod response;
pub mod search;
pub mod sequence;
pub mod sort;

pub use command::{
    Command, CommandBody, FlagSet, ListOptions, MailboxName, QResyncParams, SearchReturn, SelectParams,
    StatusItem, Tag,
};
pub use framing::{Frame, Limits, frame};
pub use parse::{ParseError, parse_command, parse_command_with};
