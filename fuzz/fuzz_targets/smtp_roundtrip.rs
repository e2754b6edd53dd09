//! SMTP command round trip: any line the parser accepts, in either strictness,
//! encoded back (`Command::encode`) is one CRLF-terminated line that parses to the
//! same command in that strictness. Needs only congvu-protocol: the parser stands
//! alone (issue 13).
#![no_main]

use congvu_protocol::smtp::parse::{Strictness, parse_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    for strictness in [Strictness::Strict, Strictness::Lenient] {
        if let Ok(command) = parse_command(line, strictness) {
            let mut encoded = Vec::new();
            command.encode(&mut encoded);
            let Some(again) = encoded.strip_suffix(b"\r\n") else {
                panic!("no final CRLF: {encoded:?}");
            };
            assert!(
                !again.iter().any(|&b| b == b'\r' || b == b'\n'),
                "a CR or LF inside the line: {encoded:?}"
            );
            assert_eq!(
                parse_command(again, strictness),
                Ok(command),
                "{strictness:?} {:?}",
                String::from_utf8_lossy(&encoded)
            );
        }
    }
});
