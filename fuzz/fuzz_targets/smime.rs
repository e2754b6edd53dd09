//! S/MIME verification (congvu-smime) over arbitrary messages: any bytes in, never a
//! panic; the result agrees with its reason, nothing passes without anchors, and the
//! `Authentication-Results:` field is ASCII lines each ending in CRLF.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use congvu_smime::{SmimeConfig, SmimeResult, Verifier};
use libfuzzer_sys::fuzz_target;

static VERIFIER: LazyLock<Verifier> =
    LazyLock::new(|| Verifier::new(&SmimeConfig::default()).expect("no CA file to read"));

fuzz_target!(|message: &[u8]| {
    // A fixed time keeps runs reproducible (2027-01-15, inside the seeds' validity).
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let outcome = VERIFIER.verify(message, now);
    assert_eq!(outcome.result, outcome.reason.result());
    assert_ne!(outcome.result, SmimeResult::Pass, "no pass without anchors");
    let header = outcome.header("mail.thanhhoa.gov.vn");
    assert!(header.is_ascii());
    assert!(header.ends_with("\r\n"));
    assert_eq!(header.matches('\n').count(), header.matches("\r\n").count());
    assert!(!header.contains("\r\n\r\n"), "the field never ends the header section");
});
