//! COMPRESS=DEFLATE (RFC 4978): raw deflate (RFC 1951, no zlib header) in both
//! directions, without I/O. The IMAP server's connection feeds it what the socket
//! gives and writes what it produces.
//!
//! `miniz_oxide` (pure Rust, already in the workspace for the policy crate's zip
//! reader) does the work: its streaming API is what `flate2` wraps, and going to
//! it directly adds no dependency.
//!
//! Memory: the inflater (a 32 KiB window the client's stream may refer back to)
//! lives as long as the connection. The compressor (window and hash chains, a few
//! hundred KiB) lives only while output is being flushed: each flush ends the
//! block sequence on a byte boundary, and the next flush starts a new compressor
//! whose blocks never refer back, which a raw inflater reads as one stream. Each
//! response batch is compressed on its own; an idle session holds no compressor.

use std::io;

use miniz_oxide::deflate::core::{CompressorOxide, create_comp_flags_from_zip_params};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

/// zlib's default level: good on IMAP's text, cheap enough per response.
const LEVEL: i32 = 6;

/// Negative window bits select raw deflate; 15 is the 32 KiB window RFC 4978 §3
/// expects both sides to use.
const RAW_WINDOW_BITS: i32 = -15;

/// How much output one call to the codec produces at a time.
const CHUNK: usize = 16 * 1024;

pub struct Deflate {
    /// Only during [`Deflate::deflate_flush`].
    compressor: Option<Box<CompressorOxide>>,
    inflater: Box<InflateState>,
    /// Compressed input not inflated yet: a burst that inflates to more than the
    /// caller takes at once waits here, so a small input cannot balloon the
    /// session's buffers in one go.
    pending: Vec<u8>,
    /// The last inflate filled its output: the inflater may hold more.
    more: bool,
    /// The last inflate used none of the pending input: only new input can help.
    stalled: bool,
}

fn codec_error(what: &str, err: MZError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {err:?}"))
}

impl Deflate {
    pub fn new() -> Box<Deflate> {
        Box::new(Deflate {
            compressor: None,
            inflater: InflateState::new_boxed(DataFormat::Raw),
            pending: Vec::new(),
            more: false,
            stalled: false,
        })
    }

    /// Compressed bytes received from the peer.
    pub fn push_input(&mut self, compressed: &[u8]) {
        self.pending.extend_from_slice(compressed);
        self.stalled = false;
    }

    /// Whether [`Deflate::inflate_into`] can produce more without new input.
    pub fn has_pending(&self) -> bool {
        (!self.pending.is_empty() && !self.stalled) || self.more
    }

    /// Inflates pending input, appending at most `max` bytes to `out`; returns how
    /// many it appended (0 when the input so far ends inside a block).
    pub fn inflate_into(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        let mut produced = 0;
        let mut consumed = 0;
        self.more = false;
        while produced < max {
            let room = CHUNK.min(max - produced);
            let start = out.len();
            out.resize(start + room, 0);
            let result = miniz_oxide::inflate::stream::inflate(
                &mut self.inflater,
                &self.pending[consumed..],
                &mut out[start..],
                MZFlush::None,
            );
            out.truncate(start + result.bytes_written);
            consumed += result.bytes_consumed;
            produced += result.bytes_written;
            match result.status {
                // RFC 4978 §3: the stream never ends; data after an end is garbage.
                Ok(MZStatus::StreamEnd) if consumed < self.pending.len() => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "data after deflate end",
                    ));
                }
                Ok(_) => {}
                // No progress possible: everything given has been used.
                Err(MZError::Buf) => break,
                Err(err) => return Err(codec_error("inflate", err)),
            }
            self.more = result.bytes_written == room;
            if !self.more && (consumed == self.pending.len() || result.bytes_consumed == 0) {
                break;
            }
        }
        self.stalled = consumed == 0 && produced == 0;
        self.pending.drain(..consumed);
        if self.pending.is_empty() && self.pending.capacity() > CHUNK {
            self.pending = Vec::new();
        }
        Ok(produced)
    }

    /// Compresses all of `input` and flushes, appending to `out`: everything sent
    /// so far can be decompressed by the peer at once. The compressor is dropped
    /// afterwards (see the module documentation).
    pub fn deflate_flush(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let compressor = self.compressor.get_or_insert_with(|| {
            let flags = create_comp_flags_from_zip_params(LEVEL, RAW_WINDOW_BITS, 0);
            Box::new(CompressorOxide::new(flags))
        });
        let result = Self::compress_all(compressor, input, out);
        self.compressor = None;
        result
    }

    fn compress_all(compressor: &mut CompressorOxide, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let mut consumed = 0;
        loop {
            let start = out.len();
            out.resize(start + CHUNK, 0);
            let result = miniz_oxide::deflate::stream::deflate(
                compressor,
                &input[consumed..],
                &mut out[start..],
                MZFlush::Sync,
            );
            out.truncate(start + result.bytes_written);
            consumed += result.bytes_consumed;
            if let Err(err) = result.status {
                return Err(codec_error("deflate", err));
            }
            if consumed == input.len() && result.bytes_written < CHUNK {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flush_is_decodable_on_its_own_and_the_stream_continues() {
        let mut z = Deflate::new();
        let mut wire = Vec::new();
        z.deflate_flush(b"* OK [CAPABILITY IMAP4rev1] ready\r\n", &mut wire)
            .unwrap();
        let first = wire.len();
        // A sync flush ends in the empty stored block 00 00 FF FF, and no
        // compressor is kept between flushes.
        assert!(wire.ends_with(&[0, 0, 0xff, 0xff]));
        assert!(z.compressor.is_none());
        let big: Vec<u8> = (0..200_000u32)
            .flat_map(|n| format!("* {n} FETCH (FLAGS (\\Seen))\r\n").into_bytes())
            .collect();
        z.deflate_flush(&big, &mut wire).unwrap();
        assert!(wire.len() - first < big.len() / 10, "compresses");
        // Our own inflater reads the stream back, fed in awkward pieces.
        let mut peer = Deflate::new();
        let mut out = Vec::new();
        for piece in wire.chunks(7) {
            peer.push_input(piece);
            while peer.has_pending() {
                if peer.inflate_into(&mut out, 1000).unwrap() == 0 {
                    break;
                }
            }
        }
        let mut want = b"* OK [CAPABILITY IMAP4rev1] ready\r\n".to_vec();
        want.extend_from_slice(&big);
        assert_eq!(out, want);
    }

    #[test]
    fn a_small_burst_inflates_a_bounded_amount_at_a_time() {
        let mut sender = Deflate::new();
        let mut wire = Vec::new();
        sender.deflate_flush(&vec![b'a'; 5_000_000], &mut wire).unwrap();
        assert!(wire.len() < 10_000);
        let mut z = Deflate::new();
        z.push_input(&wire);
        let mut out = Vec::new();
        assert_eq!(z.inflate_into(&mut out, 64 * 1024).unwrap(), 64 * 1024);
        assert!(z.has_pending());
        let mut total = out.len();
        while z.has_pending() {
            out.clear();
            total += z.inflate_into(&mut out, 64 * 1024).unwrap();
        }
        assert_eq!(total, 5_000_000);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut z = Deflate::new();
        z.push_input(&[0xff; 64]);
        let mut out = Vec::new();
        assert!(z.inflate_into(&mut out, 1024).is_err());
    }
}
