//! IMAP framing and parsing: a client's byte stream is framed (literals bounded) and
//! every complete command parsed, with mailbox names read as modified UTF-7 and as
//! UTF-8 (after ENABLE UTF8=ACCEPT, RFC 6855). The framer runs with the limits of
//! both session states, before login (`Limits::unauthenticated`: at most 8 KiB of
//! text and 8 KiB of literals) and after. Never a panic, never a frame longer than
//! the input, never a command longer than its state's limits allow.
#![no_main]

use congvu_protocol::imap::mutf7::NameEncoding;
use congvu_protocol::imap::{Frame, Limits, frame, parse_command_with};
use libfuzzer_sys::fuzz_target;

fn run(data: &[u8], limits: &Limits) {
    let longest_literal = limits.max_append_literal.max(limits.max_other_literal);
    let mut rest = data;
    loop {
        match frame(rest, limits) {
            Frame::Command(len) => {
                assert!(len > 0 && len <= rest.len());
                assert!(len as u64 <= limits.max_line as u64 + longest_literal);
                for names in [NameEncoding::ModifiedUtf7, NameEncoding::Utf8] {
                    let _ = parse_command_with(&rest[..len], names);
                }
                rest = &rest[len..];
            }
            Frame::LineTooLong { line_end: Some(end), .. } | Frame::LiteralTooBig { line_end: end, .. } => {
                assert!(end <= rest.len());
                if end == 0 {
                    return;
                }
                rest = &rest[end..];
            }
            Frame::Incomplete | Frame::LineTooLong { line_end: None, .. } => return,
            Frame::NeedsContinuation => {
                // A `+` is only ever asked for with the input within the limits.
                assert!(rest.len() as u64 <= limits.max_line as u64 + longest_literal);
                return;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let authenticated = Limits { max_line: 64 * 1024, max_append_literal: 1 << 20, max_other_literal: 64 * 1024 };
    run(data, &authenticated);
    run(data, &authenticated.unauthenticated());
});
