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
//! Invariants:
//! 1. The output holds CR only directly before LF and LF only directly after CR.
//! 2. A CRLF of the input is copied unchanged; any chunking of the input gives the
//!    same output.
//! 3. Nothing past `limit` output bytes is held in memory; the size is still counted.

/// Collects mail data (DATA after dot removal, or BDAT chunks) into canonical form.
#[derive(Debug)]
pub struct CanonicalSink {
    message: Vec<u8>,
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
}

impl CanonicalSink {
    pub fn new(limit: u64) -> CanonicalSink {
        CanonicalSink {
            message: Vec::new(),
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
            // Keep counting to the end, but hold nothing more in memory.
            self.over_limit = true;
            self.message = Vec::new();
        } else {
            self.message.extend_from_slice(bytes);
        }
    }

    /// Mail data bytes so far (canonical form).
    pub fn size(&self) -> u64 {
        self.size + u64::from(self.pending_cr)
    }

    /// Bytes held in memory (capacity), for tests of the limit.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.message.capacity()
    }

    pub fn finish(mut self) -> DataOutcome {
        if self.pending_cr {
            // A bare CR at the very end.
            self.pending_cr = false;
            self.repaired += 1;
            self.emit(b"\r\n");
        }
        if self.over_limit {
            DataOutcome::TooBig { size: self.size }
        } else {
            DataOutcome::Message {
                bytes: self.message,
                size: self.size,
                repaired: self.repaired,
            }
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
