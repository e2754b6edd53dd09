//! MTA-STS (RFC 8461) TXT records and policy files as a hostile web server or DNS
//! answer could write them: never a panic; a parsed policy's MX patterns match the
//! hosts they name.
#![no_main]

use congvu_relay::mta_sts::Policy;
use congvu_relay::mta_sts::policy::{mx_matches, parse_record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let txts: Vec<String> = String::from_utf8_lossy(data).split('\0').map(str::to_owned).collect();
    if let Some(record) = parse_record(&txts) {
        assert!((1..=32).contains(&record.id.len()));
    }
    if let Ok(policy) = Policy::parse(data) {
        for pattern in &policy.mx {
            let host = pattern.strip_prefix("*.").map_or_else(|| pattern.clone(), |rest| format!("mx.{rest}"));
            assert!(mx_matches(pattern, &host), "{pattern} must match {host}");
            assert!(policy.allows(&host), "{host} is allowed by its own pattern");
        }
    }
});
