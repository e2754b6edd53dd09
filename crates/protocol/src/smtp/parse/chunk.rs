//! One BDAT chunk (RFC 3030 §2): exactly `size` octets following the command line,
//! with no dot-stuffing and no end marker.
//!
//! Invariant: over all its `take` calls the reader hands out exactly `size` octets,
//! whatever the chunking of the input; the bytes after them belong to the next
//! command (BDAT may be pipelined, RFC 3030 §4.2). What is done with the octets —
//! the transaction's [`super::CanonicalSink`], or nothing for a refused BDAT — is
//! the session's choice.

/// Counts one chunk's octets off the input.
#[derive(Debug)]
pub struct ChunkReader {
    size: u64,
    remaining: u64,
}

impl ChunkReader {
    pub fn new(size: u64) -> ChunkReader {
        ChunkReader {
            size,
            remaining: size,
        }
    }

    /// The part of `input` that belongs to the chunk (a prefix of it).
    pub fn take<'a>(&mut self, input: &'a [u8]) -> &'a [u8] {
        let take = usize::try_from(self.remaining).map_or(input.len(), |r| r.min(input.len()));
        let (chunk, _) = input.split_at(take);
        // `take` ≤ `remaining`, which is a u64.
        self.remaining -= take as u64;
        chunk
    }

    pub fn is_complete(&self) -> bool {
        self.remaining == 0
    }

    /// Octets of the chunk taken so far.
    pub fn received(&self) -> u64 {
        self.size - self.remaining
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::parse::{CanonicalSink, DataOutcome};

    /// Sends `chunks` as the BDAT chunks of one transaction into one sink, each
    /// followed by a pipelined command and fed in pieces of `piece` bytes.
    fn transfer(chunks: &[&[u8]], piece: usize) -> DataOutcome {
        let mut sink = CanonicalSink::new(1000);
        for chunk in chunks {
            let mut reader = ChunkReader::new(chunk.len() as u64);
            let input = [*chunk, b"BDAT 1 LAST\r\n"].concat();
            for part in input.chunks(piece) {
                if reader.is_complete() {
                    break;
                }
                let taken = reader.take(part);
                assert!(part.starts_with(taken));
                sink.push(taken);
            }
            assert!(reader.is_complete());
            assert_eq!(reader.received(), chunk.len() as u64, "took more than the chunk");
        }
        sink.finish()
    }

    #[test]
    fn exactly_size_octets_whatever_the_pieces() {
        let message: &[u8] = b"Subject: x\n\r\nline\rmore\r\n";
        let mut whole = CanonicalSink::new(1000);
        whole.push(message);
        let whole = whole.finish();
        assert!(matches!(whole, DataOutcome::Message { repaired: 2, .. }));
        // Every split into two chunks, fed in every piece size: the same canonical
        // message as in one piece, bare CR and LF at the boundary included.
        for split in 0..=message.len() {
            for piece in 1..=message.len() + 14 {
                let (a, b) = message.split_at(split);
                assert_eq!(transfer(&[a, b], piece), whole, "split {split}, piece {piece}");
            }
        }
    }

    #[test]
    fn sizes_at_the_edges() {
        let mut empty = ChunkReader::new(0);
        assert!(empty.is_complete());
        assert_eq!(empty.take(b"QUIT\r\n"), b"");
        let mut reader = ChunkReader::new(10);
        assert_eq!(reader.take(b"12345"), b"12345");
        assert!(!reader.is_complete());
        assert_eq!(reader.take(b"67890QUIT\r\n"), b"67890");
        assert!(reader.is_complete());
        assert_eq!(reader.received(), 10);
        let mut huge = ChunkReader::new(u64::MAX);
        assert_eq!(huge.take(b"abc"), b"abc");
        assert_eq!(huge.received(), 3);
    }
}
