//! SMTP command lines: the bounded line buffer, then the parser in both strictness
//! modes. Any input must yield a command or a parse error with a reply, never a panic.
#![no_main]

use congvu_protocol::smtp::parse::{Line, LineBuffer, Strictness, parse_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = LineBuffer::new(512);
    // Feed in two pieces so split lines are exercised as well.
    let (first, second) = data.split_at(data.len() / 2);
    for piece in [first, second] {
        lines.push(piece);
        while let Some(line) = lines.next_line() {
            if let Line::Complete(line) = line {
                for strictness in [Strictness::Strict, Strictness::Lenient] {
                    if let Err(error) = parse_command(line, strictness) {
                        let _ = error.reply();
                    }
                }
            }
        }
    }
});
