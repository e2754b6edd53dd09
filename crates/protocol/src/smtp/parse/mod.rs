//! I/O-free protocol parsing: bytes in, typed values out, so that every parser can be
//! unit-tested and fuzzed without a socket.
//!
//! - [`parse_command`]: one command line (CRLF already removed) → [`Command`].
//! - [`LineBuffer`]: splits the input stream into bounded command lines.
//! - [`DataReader`]: the DATA phase — end detection and dot-unstuffing.
//! - [`ChunkReader`]: one BDAT chunk (RFC 3030) — exactly its size in octets.
//! - [`CanonicalSink`]: the one line-ending rule (bare CR/LF → CRLF) for DATA and BDAT.
//! - DSN parameters (RFC 3461): [`DsnRet`], [`Notify`], [`Orcpt`] and xtext
//!   ([`encode_xtext`] and its decoder).
//! - [`sasl`]: AUTH PLAIN/LOGIN responses (RFC 4954, RFC 4616).
//! - `Command::encode`: a command written back as a client sends it (the parser
//!   reads it back equal; see `encode`).

mod canonical;
mod chunk;
mod command;
mod data;
mod dsn;
mod encode;
mod line;
mod path;
pub mod sasl;

pub use canonical::{CanonicalSink, DataOutcome, DataOutput};
pub use chunk::ChunkReader;
pub use command::{Body, Command, MailParams, Mechanism, RcptParams, parse_command};
pub use data::DataReader;
pub use dsn::{DsnRet, Notify, Orcpt, encode_xtext, is_atext};
pub use line::{Line, LineBuffer};
pub use path::{ForwardPath, HeloName, Mailbox, PathError, ReversePath};

use crate::smtp::reply::Reply;

/// How forgiving the command parser is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    /// The RFC 5321 grammar exactly (MX: the peers are mail servers).
    Strict,
    /// Submission: also the quirks of real mail clients — spaces after `MAIL FROM:` /
    /// `RCPT TO:`, repeated spaces between arguments, trailing white space,
    /// underscores in host names.
    Lenient,
}

/// Why a command line was refused. Each maps to one reply (see [`ParseError::reply`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command")]
    UnknownCommand,
    #[error("command not implemented")]
    NotImplemented,
    #[error("syntax error: {0}")]
    Syntax(&'static str),
    #[error("bad sender path: {0}")]
    Sender(PathError),
    #[error("bad recipient path: {0}")]
    Recipient(PathError),
    #[error("unrecognized MAIL/RCPT parameter")]
    UnknownParameter,
    #[error("unsupported SASL mechanism")]
    UnsupportedMechanism,
    #[error("invalid base64")]
    Base64,
    /// A BDAT command that is not `BDAT <size> [LAST]`. With the size known, its
    /// octets can still be read and dropped; without, the framing is lost.
    #[error("bad BDAT command")]
    ChunkSize(Option<u64>),
}

impl ParseError {
    pub fn reply(self) -> Reply {
        match self {
            // RFC 5321 §4.2.4: 500 for an unrecognized command, 502 for a known one
            // that is not implemented.
            ParseError::UnknownCommand => Reply::UNKNOWN_COMMAND,
            ParseError::NotImplemented => Reply::NOT_IMPLEMENTED,
            ParseError::Syntax(_) | ParseError::ChunkSize(_) => Reply::SYNTAX_ERROR,
            // RFC 3463 §3.2: X.1.7 bad sender's mailbox syntax, X.1.3 bad destination.
            ParseError::Sender(_) => Reply::BAD_SENDER_SYNTAX,
            ParseError::Recipient(_) => Reply::BAD_RECIPIENT_SYNTAX,
            // RFC 5321 §4.1.1.11: 555 for unrecognized MAIL/RCPT parameters.
            ParseError::UnknownParameter => Reply::UNKNOWN_PARAMETER,
            // RFC 4954 §4: 504 for an unsupported mechanism.
            ParseError::UnsupportedMechanism => Reply::UNSUPPORTED_MECHANISM,
            ParseError::Base64 => Reply::BAD_BASE64,
        }
    }
}

/// A read position in one command line.
pub(crate) struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Cursor<'a> {
        Cursor { input, pos: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest().is_empty()
    }

    fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    /// Consumes `token` if the input continues with it.
    fn eat(&mut self, token: &[u8]) -> bool {
        let matched = self.rest().starts_with(token);
        if matched {
            self.pos += token.len();
        }
        matched
    }

    /// Consumes `token` (given in ASCII lower case) in any case.
    fn eat_ignore_case(&mut self, token: &[u8]) -> bool {
        let matched = self
            .rest()
            .get(..token.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(token));
        if matched {
            self.pos += token.len();
        }
        matched
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let n = rest.iter().position(|&b| !keep(b)).unwrap_or(rest.len());
        self.pos += n;
        &rest[..n]
    }

    /// Consumes the separator between arguments: exactly one space when strict,
    /// one or more when lenient. False when there is none.
    fn separator(&mut self, strictness: Strictness) -> bool {
        match strictness {
            Strictness::Strict => self.eat(b" "),
            Strictness::Lenient => !self.take_while(|b| b == b' ').is_empty(),
        }
    }
}
