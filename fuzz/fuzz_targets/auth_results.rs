//! Removing forged `Authentication-Results:` fields from an MX message (RFC 8601 §5):
//! any bytes in, never a panic; the body and every other field pass unchanged, and
//! removing again from the output finds nothing more.
#![no_main]

use congvu_mailauth::without_own_results;
use libfuzzer_sys::fuzz_target;

const OURS: &str = "mail.thanhhoa.gov.vn";

fuzz_target!(|message: &[u8]| {
    let Some((kept, removed)) = without_own_results(message, OURS) else {
        return;
    };
    assert!(removed > 0, "a rewrite must have removed something");
    assert!(kept.len() < message.len(), "removal only shortens the message");
    assert_eq!(without_own_results(&kept, OURS), None, "one pass removes all of ours");
    // What is kept is the message with whole fields cut out: a subsequence, in order.
    let mut rest = message;
    for byte in &kept {
        let at = rest.iter().position(|b| b == byte).expect("kept bytes come from the message");
        rest = &rest[at + 1..];
    }
});
