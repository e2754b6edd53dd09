//! The protocols congvu speaks, as pure functions of bytes: no socket, no store,
//! no directory. The servers (`congvu-imap`, `congvu-smtp`) feed these parsers what
//! they read and write what the renderers give; the fuzz targets drive the same
//! code with no server at all.
//!
//! - [`imap`]: the IMAP codec — framing, command parser and encoder (they round
//!   trip), response encoder, modified UTF-7, COMPRESS=DEFLATE.
//! - [`rfc5322`]: the header section of a message and its fields, cut one way for
//!   every server (SMTP checks, policy, DSN, IMAP).
//! - [`smtp`]: the SMTP command, DATA and BDAT parsers and the typed replies; the
//!   command encoder writes back what the parser reads (they round trip).
//!
//! ## Invariants
//! 1. Nothing here does I/O or depends on a congvu crate: the compiler keeps the
//!    codecs apart from storage (issue 13).
//! 2. Every parser takes any bytes and answers with a value or a typed error, never a
//!    panic (fuzzed; see `docs/fuzzing.md`).
//! 3. The types both sides of a protocol share ([`Flags`], [`Rights`], [`Secret`])
//!    live here, and the store and the directory re-export them.

pub mod imap;
pub mod rfc5322;
pub mod smtp;

mod flags;
mod rights;
mod secret;

pub use flags::{FlagOp, Flags};
pub use rights::{Rights, UnknownRight};
pub use secret::Secret;
