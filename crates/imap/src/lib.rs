//! # congvu-imap — the IMAP4rev1 and IMAP4rev2 server
//!
//! Owns the IMAP side of congvu: the listeners on the STARTTLS port (143) and the
//! implicit-TLS port (993), one session per connection, and the translation between
//! IMAP and the [`congvu_store::MailStore`]. RFC 3501 and RFC 9051 (see below), with
//! IDLE (2177), UIDPLUS (4315), UNSELECT (3691), MOVE (6851), LITERAL+ (7888), ENABLE
//! (5161), ID (2971), NAMESPACE (2342), CHILDREN (3348), SPECIAL-USE (6154), SASL-IR
//! (4959), QUOTA (9208), CONDSTORE and QRESYNC (7162), ESEARCH (4731), CREATE-SPECIAL-USE (6154),
//! LIST-EXTENDED (5258), LIST-STATUS (5819), SORT and THREAD=ORDEREDSUBJECT /
//! THREAD=REFERENCES (5256), SORT=DISPLAY (5957), I18NLEVEL=1 (5255: SEARCH and
//! SORT compare under i;unicode-casemap), COMPRESS=DEFLATE (4978; off with
//! `[imap] compress = false`), BINARY (3516), UTF8=ACCEPT (6855), SEARCHRES (5182)
//! and STATUS=SIZE (8438) — the capability list names exactly these (and ACL, see
//! below). Not implemented (so not advertised): ESORT, LITERAL- (LITERAL+ is its
//! superset, and what IMAP4rev2 asks of literals).
//!
//! ## IMAP4rev2 (RFC 9051)
//! Advertised beside IMAP4rev1; every extension rev2 folds in is above. A session
//! stays rev1 until `ENABLE IMAP4rev2` (`session::Enabled::rev2`), which also turns
//! on UTF-8 mailbox names; from then on (Appendix E): no `\Recent` flag and no
//! RECENT response, SELECT sends the mailbox's LIST response and no `OK [UNSEEN]`,
//! SEARCH without RETURN is answered by ESEARCH, and `SEARCH CHARSET UTF-8` stays
//! valid. Kept for rev1 clients and harmless to rev2 ones: LSUB, CHECK, the RFC822
//! FETCH items, the RECENT/NEW/OLD search keys (no message is recent) and STATUS
//! RECENT (always 0 there). Names are stored as given (no NFC normalisation), so
//! LIST never needs OLDNAME. DELETE of a mailbox with children is refused with
//! `NO [HASCHILDREN]` (allowed by both RFCs) instead of leaving a `\Noselect` level.
//!
//! ## Mailbox names (RFC 6855)
//! The store keeps names in UTF-8. A session speaks modified UTF-7 (a 7-bit name is
//! decoded as such; one with 8-bit bytes is taken as UTF-8) until the client sends
//! `ENABLE UTF8=ACCEPT`; from then on names are UTF-8 both ways (`&` is a plain
//! character, names go out as UTF-8 quoted strings), SEARCH takes UTF-8 without a
//! CHARSET (one given is BAD, as is a SORT/THREAD charset other than UTF-8) and
//! APPEND takes `UTF8 (~{n})`. The flag is `session::Enabled::utf8`; the parser
//! reads it through `codec::parse_command_with`, the encoder through
//! `codec::response::write_mailbox`. A session that did not enable it is still
//! served messages whose headers are raw UTF-8, as literals (no downgrade).
//!
//! Connections are limited per client address and per account
//! (`max_connections_per_ip`, `max_connections_per_user`); every login and every
//! selection of an agency's INBOX is recorded in the store's access log (Art. 10).
//!
//! ## Shared namespace and ACL (Art. 16.1)
//! An agency head (or the provincial administrator) delegates the agency mailbox to
//! a clerk; the clerk logs in as themselves and finds it in the shared namespace
//! (NAMESPACE (RFC 2342): `(("" "/")) NIL (("Shared/" "/"))`) as
//! `Shared/<agency>/INBOX`, `Shared/<agency>/Sent`, … ACL (RFC 4314) with
//! RIGHTS=texk: the rights are the directory's grant, one set per agency account,
//! checked at every command that names a mailbox (`session::shared`, `op/acl.rs`),
//! set with SETACL by the agency's own login or its head and recorded in the
//! directory's audit log. A clerk opening `Shared/<agency>/INBOX` is an access event
//! of the agency naming the clerk. Sending as the agency is checked by SMTP
//! submission against the same grant, and is given only through the admin API
//! (never by SETACL). A grant counts only while its clerk is a live official of the
//! agency (`Directory::delegation`, asked at every use).
//!
//! ## Layout
//! - [`codec`]: `congvu_protocol::imap` under its old name, so `crate::codec::…`
//!   paths stay as they were; it depends on no store or directory type (issue 13).
//!   I/O-free: the framer finds where a command ends (literals included, limits
//!   enforced on announced sizes), the parser turns it into a typed
//!   [`codec::Command`] (which `Command::encode_with` writes back, for clients and
//!   the round-trip fuzz target), the response encoder writes responses; modified
//!   UTF-7 for names; COMPRESS's raw deflate in both directions.
//! - `message`: ENVELOPE, BODYSTRUCTURE and `BODY[section]` from raw bytes, the
//!   decoded text SEARCH matches against, and the header summary (base subject,
//!   sent date, references) SORT and THREAD work on.
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
//!                 autologout, too many BADs or failed logins, connection loss,
//!                 the login revoked (password changed, account disabled or
//!                 deleted: BYE at once, in IDLE too)
//!
//!   IDLE is a sub-state of Authenticated or Selected: `+ idling` … `DONE`.
//!   ENABLE (CONDSTORE, QRESYNC, UTF8=ACCEPT, IMAP4rev2) is valid only in
//!   Authenticated before any SELECT (RFC 5161 §3.1); what it enables lasts
//!   until the connection ends. `SEARCH RETURN (SAVE)` keeps its result for `$`
//!   (RFC 5182) while the mailbox stays selected.
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
//! - **Outlook folder localisation**: classic Outlook in Vietnamese may create its
//!   own localised folders instead of using the SPECIAL-USE ones; the names are in
//!   `docs/clients.md` so operators can pre-create or remap them.
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
//! 3. Bounded input, by state: after login a command's text is at most
//!    `max_command_line_bytes`, an APPEND literal at most `max_literal_bytes`, other
//!    literals together at most the line limit; before login text and literals are
//!    each at most 8 KiB (`codec::framing::UNAUTHENTICATED_MAX`), APPEND included,
//!    so a connection that never logs in holds at most that much input. An
//!    oversized synchronising literal is refused with a tagged `NO [TOOBIG]` and
//!    never gets a `+`; an oversized non-synchronising one is answered
//!    `BAD [TOOBIG]` and `* BYE` and the connection is closed without reading the
//!    data (RFC 7888 §4): reading and discarding up to the announced size would keep
//!    a connection slot busy for as long as the sender cares to trickle.
//! 4. Passwords and message contents are never logged; neither is a command line.
//!    Each connection has a span (session, peer, listener, user) and ends with one
//!    `imap session ended` line with stable fields.

pub use congvu_protocol::imap as codec;
mod header_cache;
mod limits;
mod message;
mod op;
mod server;
mod session;
pub mod view;

#[doc(hidden)]
pub use message::{Rendering, render};
pub use server::{ImapConfig, ImapContext, ListenerKind, serve};
