//! IMAP framing and parsing: a client's byte stream is framed (literals bounded) and
//! every complete command parsed. Never a panic, never a frame longer than the input.
#![no_main]

use congvu_imap::codec::{Frame, Limits, frame, parse_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_line: 1024, max_append_literal: 1 << 16, max_other_literal: 1 << 12 };
    let mut rest = data;
    loop {
        match frame(rest, &limits) {
            Frame::Command(len) => {
                assert!(len > 0 && len <= rest.len());
                let _ = parse_command(&rest[..len]);
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
