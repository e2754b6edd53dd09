//! The DATA reader: dot-unstuffing and end detection over arbitrary chunking, with a
//! small size limit. Invariant checked: it never consumes more than it was given.
#![no_main]

use congvu_smtp::parse::DataReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, body)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut reader = DataReader::new(b"Received: test\r\n".to_vec(), 4096);
    for piece in body.chunks(chunk) {
        let (consumed, done) = reader.feed(piece);
        assert!(consumed <= piece.len());
        if done {
            break;
        }
    }
});
