//! SMTP without I/O: the command and DATA/BDAT parsers (`parse`) and the typed
//! replies (`reply`), which `congvu-smtp`'s sessions drive and the fuzz targets
//! drive alone. `parse::encode` writes a parsed command back as a client sends it,
//! so parse → encode → parse gives the same command (the `smtp_roundtrip` target).
//! The client side reads another server's replies with `reply_parser`, which
//! `congvu-relay` drives; a [`Reply`] written by `reply` reads back as the same code
//! and lines (the `smtp_reply_roundtrip` target).

pub mod parse;
pub mod reply;
pub mod reply_parser;

pub use reply::Reply;
