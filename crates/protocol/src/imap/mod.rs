//! The I/O-free protocol layer: framing, command parsing, response encoding and
//! modified UTF-7. Bytes in, typed values out, so every piece can be tested and
//! fuzzed without a socket.

pub mod acl;
pub mod command;
pub mod datetime;
pub mod deflate;
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
