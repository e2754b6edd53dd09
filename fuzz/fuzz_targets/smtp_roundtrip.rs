//! SMTP command round trip: any line the parser accepts, in either strictness,
//! encoded back (`Command::encode`) parses to the same command in that strictness.
//! Needs only congvu-protocol: the parser stands alone (issue 13).
#![no_main]

use congvu_protocol::smtp::parse::{Strictness, parse_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    for strictness in [Strictness::Strict, Strictness::Lenient] {
        if let Ok(command) = parse_command(line, strictness) {
            let encoded = command.encode();
            assert_eq!(
                parse_command(encoded.as_bytes(), strictness),
                Ok(command),
                "{strictness:?} {encoded:?}"
            );
        }
    }
});
