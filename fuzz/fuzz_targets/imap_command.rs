//! IMAP framing and parsing: a client's byte stream is framed (literals bounded) and
//! every complete command parsed, with mailbox names read as modified UTF-7 and as
//! UTF-8 (after ENABLE UTF8=ACCEPT, RFC 6855). Never a panic, never a frame longer
//! than the input.
#![no_main]

use congvu_imap::codec::mutf7::NameEncoding;
use congvu_imap::codec::{Frame, Limits, frame, parse_command_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_line: 1024, max_append_literal: 1 << 16, max_other_literal: 1 << 12 };
    let mut rest = data;
    loop {
        match frame(rest, &limits) {
            Frame::Command(len) => {
                assert!(len > 0 && len <= rest.len());
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
            Frame::Incomplete | Frame::NeedsContinuation | Frame::LineTooLong { line_end: None, .. } => return,
        }
    }
});
