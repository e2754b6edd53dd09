//! IMAP command round trip: any bytes through `parse_command_with`, with mailbox
//! names read as modified UTF-7 and as UTF-8 (RFC 6855); every command the parser
//! accepts is encoded with `Command::encode_with` and parsed again. The second parse
//! must give the same command, and the encoding must be one whole frame that asks
//! for no `+` (its literals are LITERAL+). AUTHENTICATE is spared the frame check
//! alone: its initial response is the rest of the line as the client sent it, which
//! may end like a literal announcement.
#![no_main]

use congvu_protocol::imap::mutf7::NameEncoding;
use congvu_protocol::imap::{CommandBody, Frame, Limits, frame, parse_command_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let unbounded = Limits { max_line: usize::MAX, max_append_literal: u64::MAX, max_other_literal: u64::MAX };
    for names in [NameEncoding::ModifiedUtf7, NameEncoding::Utf8] {
        let Ok(command) = parse_command_with(data, names) else {
            continue;
        };
        let mut wire = Vec::new();
        command.encode_with(&mut wire, names);
        let again = parse_command_with(&wire, names);
        assert_eq!(again.as_ref(), Ok(&command), "{names:?}: {:?}", String::from_utf8_lossy(&wire));
        if !matches!(command.body, CommandBody::Authenticate { .. }) {
            assert_eq!(frame(&wire, &unbounded), Frame::Command(wire.len()), "{:?}", String::from_utf8_lossy(&wire));
        }
    }
});
