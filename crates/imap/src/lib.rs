//! # congvu-imap — the IMAP4rev1 server
//!
//! Owns the IMAP side of congvu: the listeners on the STARTTLS port (143) and the
//! implicit-TLS port (993), one session per connection, and the translation between
//! IMAP and the [`congvu_store::MailStore`]. RFC 3501, with IDLE (2177), UIDPLUS
//! (4315), UNSELECT (3691), MOVE (6851), LITERAL+ (7888), ENABLE (5161), ID (2971),
//! NAMESPACE (2342), CHILDREN (3348), SPECIAL-USE (6154), SASL-IR (4959), QUOTA
//! (9208), CONDSTORE and QRESYNC (7162), ESEARCH (4731), CREATE-SPECIAL-USE (6154),
//! LIST-EXTENDED (5258) and LIST-STATUS (5819) — the capability list names exactly
//! these. Not implemented (so not advertised): UTF8=ACCEPT, BINARY, SORT, THREAD,
//! COMPRESS=DEFLATE, IMAP4rev2, ACL and shared namespaces.
//!
//! Connections are limited per client address and per account
//! (`max_connections_per_ip`, `max_connections_per_user`); every login and every
//! selection of an agency's INBOX is recorded in the store's access log (Art. 10).
//!
//! ## Layout
//! - [`codec`]: I/O-free. The framer finds where a command ends (literals included,
//!   limits enforced on announced sizes), the parser turns it into a typed
//!   [`codec::Command`], the encoder writes responses; modified UTF-7 for names.
//! - `message`: ENVELOPE, BODYSTRUCTURE and `BODY[section]` from raw bytes, and the
//!   decoded text SEARCH matches against.
//! - `session`: the connection, the state machine, the selected-mailbox snapshot.
//! - `op`: one module per command.
//! - [`serve`]: the accept loop and graceful shutdown.
//!
//! ## States (RFC 3501 §3)
//! ```text
//!        connect (993: after the TLS handshake)
//!            │
//!            ▼           STARTTLS (143 only, once; input pipelined before it is dropped)
//!   ┌─ Not Authenticated ◄──┐
//!   │        │  └───────────┘
//!   │        │ LOGIN / AUTHENTICATE PLAIN (only under TLS)
//!   │        ▼
//!   │  Authenticated ◄──────────────┐
//!   │        │ SELECT / EXAMINE      │ CLOSE / UNSELECT / failed SELECT
//!   │        ▼                       │
//!   │    Selected ───────────────────┘
//!   │        │
//!   └────────┴──► Logout: LOGOUT, shutdown (BYE at the next command boundary),
//!                 autologout, too many BADs or failed logins, connection loss
//!
//!   IDLE is a sub-state of Authenticated or Selected: `+ idling` … `DONE`.
//!   ENABLE (CONDSTORE, QRESYNC) is valid only in Authenticated before any
//!   SELECT (RFC 5161 §3.1); what it enables lasts until the connection ends.
//! ```
//!
//! ## Client quirks handled on purpose
//! - **Thunderbird's extra separator**: `CREATE Folder/` creates `Folder`
//!   (RFC 3501 §6.3.3 allows the trailing separator; see `op/create.rs`).
//! - **EXISTS while a UID FETCH runs**: UID FETCH/STORE/SEARCH may carry EXPUNGE
//!   and EXISTS (RFC 3501 §7.4.1); the plain forms never carry EXPUNGE, so a
//!   client walking sequence numbers never has them shift under it.
//! - **Pipelining after DONE**: whatever a client sends after `DONE` in the same
//!   packet stays buffered and runs next (`op/idle.rs`).
//! - **New Outlook's ESEARCH**: the tag in `* ESEARCH (TAG "a1")` is quoted.
//!
//! ## Invariants
//! 1. Message sequence numbers live in the session's snapshot of the selected
//!    mailbox. The snapshot changes only where the client is told in the same
//!    breath: after a command completes, in NOOP/CHECK/IDLE, and for the session's
//!    own changes. EXPUNGE is never sent while answering FETCH, STORE or SEARCH
//!    (RFC 3501 §7.4.1); their UID forms may carry it. Expunges are announced
//!    highest sequence number first, so each number is right when it is sent.
//! 2. A tagged OK for APPEND, STORE, EXPUNGE, COPY, MOVE and mailbox changes is sent
//!    only after the store call returned, and store writes return only once durable.
//!    They run on the blocking pool, never on the async workers.
//! 3. Bounded input: a command's text is at most `max_command_line_bytes`, an APPEND
//!    literal at most `max_literal_bytes`, other literals together at most the
//!    line limit. An oversized synchronising literal is refused with a tagged
//!    `NO [TOOBIG]` and never gets a `+`; an oversized non-synchronising one ends the
//!    connection (RFC 7888 §4).
//! 4. Passwords and message contents are never logged; neither is a command line.
//!    Each connection has a span (session, peer, listener, user) and ends with one
//!    `imap session ended` line with stable fields.

pub mod codec;
mod limits;
mod message;
mod op;
mod server;
mod session;

pub use server::{ImapConfig, ImapContext, ListenerKind, serve};
