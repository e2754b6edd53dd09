//! # congvu-webmail — what the webmail makes of messages
//!
//! The webmail (`congvu::http::webmail`) serves officials who have no mail client:
//! this crate is the part of it that touches message bytes, apart from HTTP,
//! sessions and storage, so that it can be tested and fuzzed alone.
//!
//! - [`read`]: a stored message as a page shows it — its header fields decoded, its
//!   text, its HTML sanitised ([`sanitize`]), its attachments with their Vietnamese
//!   names, and the messages forwarded inside it, read the same way;
//! - [`attachment`]: one attachment's decoded bytes, found by its path;
//! - [`compose`]: a new message, a reply or a forward, built with `mail-builder`.
//!
//! ## Invariants
//! 1. **Nothing a message holds runs or loads.** HTML is rebuilt from html5ever's
//!    parse tree by `ammonia`'s allow-list: no script, no event handler, no style,
//!    no form, no frame, no SVG, no `javascript:` or `data:` link; an image from
//!    another site is removed (and counted) until the reader asks for it, and an
//!    inline image (`cid:`) points at our own attachment URL. The page shows the
//!    result in a sandboxed frame under a CSP of its own — a second wall, not the
//!    first.
//! 2. **Reading never fails.** Whatever the bytes, [`read`] returns a reading: a
//!    message mail-parser cannot parse is shown as its raw text.
//! 3. **Attachments are the sender's bytes.** [`attachment`] gives the transfer-
//!    decoded content, and [`compose`] encodes what it is given without changing it:
//!    a file attached in the webmail reaches the recipient byte for byte.

pub mod compose;
mod read;
pub mod sanitize;

pub use read::{Attachment, Download, Mailbox, Reading, attachment, read};
