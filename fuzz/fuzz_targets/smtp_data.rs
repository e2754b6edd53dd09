//! The DATA reader: dot-unstuffing, end detection and the line-ending rule over
//! arbitrary chunking, with a small size limit. Invariants checked: it never
//! consumes more than it was given, and what it keeps holds no bare CR or LF.
#![no_main]

use congvu_protocol::smtp::parse::{DataOutcome, DataReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, body)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut reader = DataReader::new(4096);
    for piece in body.chunks(chunk) {
        let (consumed, done) = reader.feed(piece);
        assert!(consumed <= piece.len());
        if done {
            break;
        }
    }
    if let DataOutcome::Message { bytes, .. } = reader.finish() {
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\r' => assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR kept"),
                b'\n' => assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF kept"),
                _ => {}
            }
        }
    }
});
