//! The one line-ending rule at the door: every bare CR and every bare LF in mail
//! data becomes CRLF before anything looks at the message.
//!
//! Why canonicalise rather than refuse (`550 5.6.0`): RFC 5322 §2.3 forbids bare CR
//! and LF in a message, and a message holding them is read differently by different
//! programs — a header check that sees `X-Mailer: a\rFrom: x` as one line, a relay or
//! a mail client that sees two, so a second `From:` could leave under our DKIM
//! signature unseen by the From rule. Turning them into the line break that the
//! most liberal reader would see (Postfix 3.9's `smtpd_forbid_bare_newline =
//! normalize` does the same for LF) removes the ambiguity while still accepting
//! the old scripts and appliances that send bare LF. From here on, what is checked
//! is what is stored, signed and relayed, byte for byte.
//!
//! Where the canonical bytes go is the caller's [`DataOutput`]: memory by default,
//! the session's spool file past a threshold (`session/spool.rs`), so that this
//! module does no I/O itself.
//!
//! Invariants:
//! 1. The output holds CR only directly before LF and LF only directly after CR.
//! 2. A CRLF of the input is copied unchanged; any chunking of the input gives the
//!    same output.
//! 3. Nothing past `limit` output bytes is kept; the size is still counted.

use std::fmt;
use std::io;

/// Where a transaction's mail data is kept while it arrives.
pub trait DataOutput: fmt::Debug + Send + Sync {
    /// Appends canonical bytes. A failure is kept and reported by `into_bytes`.
    fn append(&mut self, bytes: &[u8]);
    /// Drops everything kept (the message went over the limit).
    fn discard(&mut self);
    /// Bytes held in memory now (for tests of the limits).
    fn held(&self) -> usize;
    /// The whole message, once it has arrived.
    fn into_bytes(self: Box<Self>) -> io::Result<Vec<u8>>;
}

impl DataOutput for Vec<u8> {
    fn append(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn discard(&mut self) {
        *self = Vec::new();
    }
    fn held(&self) -> usize {
        self.capacity()
    }
    fn into_bytes(self: Box<Self>) -> io::Result<Vec<u8>> {
        Ok(*self)
    }
}

/// Collects mail data (DATA after dot removal, or BDAT chunks) into canonical form.
#[derive(Debug)]
pub struct CanonicalSink {
    message: Box<dyn DataOutput>,
    /// A CR was seen last; whether it is bare depends on the next byte.
    pending_cr: bool,
    /// Bytes of canonical output, including any discarded past the limit.
    size: u64,
    limit: u64,
    over_limit: bool,
    /// Bare CRs and LFs turned into CRLF (for the log).
    repaired: u64,
}

/// The result of a completed DATA or BDAT transfer.
#[derive(Debug, PartialEq, Eq)]
pub enum DataOutcome {
    Message {
        /// The mail data in canonical form.
        bytes: Vec<u8>,
        /// Bytes of mail data.
        size: u64,
        /// Bare CRs and LFs that were turned into CRLF.
        repaired: u64,
    },
    /// More than the limit was sent; the data was read to its end and dropped
    /// (RFC 1870 §6.3: 552 after the terminating dot).
    TooBig { size: u64 },
    /// The data could not be kept (the spool file failed): nothing may be
    /// acknowledged.
    Lost { size: u64, error: String },
}

impl CanonicalSink {
    /// Kept in memory.
    pub fn new(limit: u64) -> CanonicalSink {
        CanonicalSink::with_output(limit, Box::new(Vec::new()))
    }

    /// Kept in `output`.
    pub fn with_output(limit: u64, output: Box<dyn DataOutput>) -> CanonicalSink {
        CanonicalSink {
            message: output,
            pending_cr: false,
            size: 0,
            limit,
            over_limit: false,
            repaired: 0,
        }
    }

    /// Appends `input`, turning bare CR and bare LF into CRLF.
    pub fn push(&mut self, input: &[u8]) {
        let mut rest = input;
        while !rest.is_empty() {
            if self.pending_cr {
                self.pending_cr = false;
                if rest[0] == b'\n' {
                    self.emit(b"\r\n");
                    rest = &rest[1..];
                } else {
                    // A bare CR: the line break the liberal reader would see.
                    self.repaired += 1;
                    self.emit(b"\r\n");
                }
                continue;
            }
            match memchr::memchr2(b'\r', b'\n', rest) {
                None => {
                    self.emit(rest);
                    rest = &[];
                }
                Some(p) => {
                    self.emit(&rest[..p]);
                    if rest[p] == b'\r' {
                        self.pending_cr = true;
                    } else {
                        self.repaired += 1;
                        self.emit(b"\r\n");
                    }
                    rest = &rest[p + 1..];
                }
            }
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len() as u64);
        if self.over_limit {
            return;
        }
        if self.size > self.limit {
            // Keep counting to the end, but keep nothing more.
            self.over_limit = true;
            self.message.discard();
        } else {
            self.message.append(bytes);
        }
    }

    /// Mail data bytes so far (canonical form).
    pub fn size(&self) -> u64 {
        self.size + u64::from(self.pending_cr)
    }

    /// Bytes held in memory, for tests of the limits.
    pub fn held(&self) -> usize {
        self.message.held()
    }

    pub fn finish(mut self) -> DataOutcome {
        if self.pending_cr {
            // A bare CR at the very end.
            self.pending_cr = false;
            self.repaired += 1;
            self.emit(b"\r\n");
        }
        if self.over_limit {
            return DataOutcome::TooBig { size: self.size };
        }
        match self.message.into_bytes() {
            Ok(bytes) => DataOutcome::Message {
                bytes,
                size: self.size,
                repaired: self.repaired,
            },
            Err(error) => DataOutcome::Lost {
                size: self.size,
                error: error.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(input: &[u8], limit: u64) -> DataOutcome {
        let whole = {
            let mut sink = CanonicalSink::new(limit);
            sink.push(input);
            sink.finish()
        };
        for split in 0..=input.len() {
            let mut sink = CanonicalSink::new(limit);
            sink.push(&input[..split]);
            sink.push(&input[split..]);
            assert_eq!(sink.finish(), whole, "split at {split}");
        }
        whole
    }

    #[test]
    fn bare_cr_and_lf_become_crlf() {
        let cases: [(&[u8], &[u8], u64); 8] = [
            (b"a\r\nb\r\n", b"a\r\nb\r\n", 0),
            (b"a\nb\n", b"a\r\nb\r\n", 2),
            (b"X-Mailer: a\rFrom: x\r\n", b"X-Mailer: a\r\nFrom: x\r\n", 1),
            (b"a\r\r\n", b"a\r\n\r\n", 1),
            (b"a\n\r", b"a\r\n\r\n", 2),
            (b"\r", b"\r\n", 1),
            (b"\n\n", b"\r\n\r\n", 2),
            (b"", b"", 0),
        ];
        for (input, output, repaired) in cases {
            let expected = DataOutcome::Message {
                bytes: output.to_vec(),
                size: output.len() as u64,
                repaired,
            };
            assert_eq!(
                canonical(input, 100),
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn output_never_holds_a_bare_line_ending() {
        let input: Vec<u8> = (0..2000u32)
            .map(|i| [b'\r', b'\n', b'x'][(i * 7 % 11 % 3) as usize])
            .collect();
        let DataOutcome::Message { bytes, .. } = canonical(&input, 1 << 20) else {
            panic!("within the limit");
        };
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\r' {
                assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}");
            }
            if b == b'\n' {
                assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at {i}");
            }
        }
    }

    #[test]
    fn limit_counts_canonical_bytes() {
        // `a\nbc` is 5 bytes once canonical.
        assert!(matches!(canonical(b"a\nbc", 4), DataOutcome::TooBig { size: 5 }));
        assert!(matches!(
            canonical(b"a\nb", 4),
            DataOutcome::Message { size: 4, .. }
        ));
    }
}
