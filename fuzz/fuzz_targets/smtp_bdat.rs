//! BDAT chunks (RFC 3030) over arbitrary chunking: the first bytes choose the chunk
//! sizes and the read size, the rest is the data. Invariants checked: a chunk reader
//! takes exactly its size, never past it; the chunks collected in one sink give the
//! same canonical message as the data pushed whole; what is kept holds no bare CR
//! or LF.
#![no_main]

use congvu_protocol::smtp::parse::{CanonicalSink, ChunkReader, DataOutcome};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[chunk_size, read_size], body)) = data.split_first_chunk::<2>() else { return };
    let chunk_size = usize::from(chunk_size).max(1);
    let read_size = usize::from(read_size).max(1);
    let mut whole = CanonicalSink::new(4096);
    whole.push(body);
    let mut chunked = CanonicalSink::new(4096);
    for chunk in body.chunks(chunk_size) {
        let mut reader = ChunkReader::new(chunk.len() as u64);
        // The chunk followed by the next command, read in pieces.
        let stream = [chunk, b"BDAT 0 LAST\r\n"].concat();
        for piece in stream.chunks(read_size) {
            if reader.is_complete() {
                break;
            }
            let taken = reader.take(piece);
            assert!(piece.starts_with(taken));
            chunked.push(taken);
        }
        assert!(reader.is_complete());
        assert_eq!(reader.received(), chunk.len() as u64);
    }
    let outcome = chunked.finish();
    assert_eq!(outcome, whole.finish());
    if let DataOutcome::Message { bytes, .. } = outcome {
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\r' => assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR kept"),
                b'\n' => assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF kept"),
                _ => {}
            }
        }
    }
});
