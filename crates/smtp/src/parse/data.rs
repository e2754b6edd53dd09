//! The DATA phase (RFC 5321 §4.1.1.4, §4.5.2): finds the end of the mail data and
//! removes the transparency dots, keeping every other byte exactly as sent.
//!
//! Lines are delimited by CRLF only. The end is `CRLF . CRLF` and nothing else: a
//! bare LF neither ends a line nor starts one, so `\n.\n` or `\n.\r\n` inside a body
//! cannot end the message early (SMTP smuggling, CVE-2023-51766 class). Bare LFs are
//! kept as they are — the body is never rewritten — so whatever relays a stored
//! message onwards (outbound delivery) must not send them to the next server raw.

/// Incremental reader fed with whatever the socket delivers, in any chunking.
#[derive(Debug)]
pub struct DataReader {
    state: State,
    message: Vec<u8>,
    /// Bytes of mail data seen (after dot removal), including any discarded.
    size: u64,
    limit: u64,
    over_limit: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// After CRLF, or at the very start.
    LineStart,
    /// Inside a line.
    Middle,
    /// After a CR inside a line.
    Cr,
    /// A `.` at the start of a line, not yet known to be the end.
    Dot,
    /// `.` CR at the start of a line.
    DotCr,
}

/// The result of a completed DATA phase.
#[derive(Debug, PartialEq, Eq)]
pub enum DataOutcome {
    Message {
        /// The prefix given to [`DataReader::new`] followed by the mail data.
        bytes: Vec<u8>,
        /// Bytes of mail data (without the prefix).
        size: u64,
    },
    /// More than the limit was sent; the data was read to its end and dropped
    /// (RFC 1870 §6.3: 552 after the terminating dot).
    TooBig { size: u64 },
}

impl DataReader {
    /// `prefix` (the trace headers) starts the stored message and does not count
    /// against `limit`.
    pub fn new(prefix: Vec<u8>, limit: u64) -> DataReader {
        DataReader {
            state: State::LineStart,
            message: prefix,
            size: 0,
            limit,
            over_limit: false,
        }
    }

    /// Consumes input up to the end of the data. Returns how many bytes were used
    /// and whether the end was reached; bytes after the end belong to the next
    /// command (RFC 2920 pipelining).
    pub fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            match self.state {
                State::Middle => {
                    // Fast path: copy up to and including the next CR in one go.
                    let rest = &input[i..];
                    match rest.iter().position(|&b| b == b'\r') {
                        Some(p) => {
                            self.emit(&rest[..=p]);
                            i += p + 1;
                            self.state = State::Cr;
                        }
                        None => {
                            self.emit(rest);
                            i = input.len();
                        }
                    }
                }
                State::Cr => {
                    self.emit(&[b]);
                    i += 1;
                    self.state = match b {
                        b'\n' => State::LineStart,
                        b'\r' => State::Cr,
                        _ => State::Middle,
                    };
                }
                State::LineStart if b == b'.' => {
                    i += 1;
                    self.state = State::Dot;
                }
                State::LineStart => self.state = State::Middle,
                State::Dot if b == b'\r' => {
                    i += 1;
                    self.state = State::DotCr;
                }
                // RFC 5321 §4.5.2: the leading dot of any other line is removed.
                State::Dot => self.state = State::Middle,
                State::DotCr if b == b'\n' => {
                    return (i + 1, true);
                }
                // `.` CR followed by something else: a line holding a transparency
                // dot and a CR; the dot goes, the CR stays, `b` is looked at again.
                State::DotCr => {
                    self.emit(b"\r");
                    self.state = State::Cr;
                }
            }
        }
        (i, false)
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len() as u64);
        if self.over_limit {
            return;
        }
        if self.size > self.limit {
            // Keep reading to the end, but hold nothing more in memory.
            self.over_limit = true;
            self.message = Vec::new();
        } else {
            self.message.extend_from_slice(bytes);
        }
    }

    /// Mail data bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> DataOutcome {
        if self.over_limit {
            DataOutcome::TooBig { size: self.size }
        } else {
            DataOutcome::Message {
                bytes: self.message,
                size: self.size,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` split at every possible pair of points and checks that the
    /// result never depends on the chunking.
    fn read_all_splits(input: &[u8], limit: u64) -> (DataOutcome, usize) {
        let whole = read(input, &[], limit);
        for a in 0..=input.len() {
            for b in a..=input.len() {
                assert_eq!(read(input, &[a, b], limit), whole, "split at {a},{b}");
            }
        }
        whole
    }

    fn read(input: &[u8], splits: &[usize], limit: u64) -> (DataOutcome, usize) {
        let mut reader = DataReader::new(b"P:".to_vec(), limit);
        let mut offset = 0;
        let mut bounds = splits.to_vec();
        bounds.push(input.len());
        for end in bounds {
            let (used, done) = reader.feed(&input[offset..end]);
            offset += used;
            if done {
                return (reader.finish(), offset);
            }
            assert_eq!(offset, end, "consumed everything while not done");
        }
        panic!("no end found in {:?}", String::from_utf8_lossy(input));
    }

    fn message(data: &[u8]) -> DataOutcome {
        let mut bytes = b"P:".to_vec();
        bytes.extend_from_slice(data);
        DataOutcome::Message {
            bytes,
            size: data.len() as u64,
        }
    }

    #[test]
    fn end_detection_and_dot_unstuffing() {
        let cases: [(&[u8], &[u8], usize); 10] = [
            (b".\r\n", b"", 3),
            (
                b"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n",
                b"Subject: x\r\n\r\nbody\r\n",
                23,
            ),
            (b"..\r\n.\r\n", b".\r\n", 7),
            (b"...x\r\n.\r\n", b"..x\r\n", 9),
            (b"a\r\n.b\r\n.\r\n", b"a\r\nb\r\n", 10),
            // Bare LF is kept and never delimits a line: no end, no unstuffing.
            (b"a\n.\nb\n.\r\nc\r\n.\r\n", b"a\n.\nb\n.\r\nc\r\n", 15),
            (b"a\r\n.\nb\r\n.\r\n", b"a\r\n\nb\r\n", 11),
            // `.` CR not followed by LF: dot removed, CR kept.
            (b".\r.\r\n.\r\n", b"\r.\r\n", 8),
            (b"a\r\r\n..\r\r\n.\r\n", b"a\r\r\n.\r\r\n", 12),
            (b"\x00\xff\r\n\r\n.\r\n", b"\x00\xff\r\n\r\n", 9),
        ];
        for (input, body, used) in cases {
            assert_eq!(
                read_all_splits(input, 1000),
                (message(body), used),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn size_limit_is_counted_while_reading() {
        // Exactly at the limit is accepted.
        assert_eq!(read_all_splits(b"12345\r\n.\r\n", 7).0, message(b"12345\r\n"));
        assert_eq!(
            read_all_splits(b"123456\r\n..\r\n.\r\nNOOP\r\n", 7),
            (DataOutcome::TooBig { size: 11 }, 15)
        );
    }

    #[test]
    fn large_message_is_not_held_past_the_limit() {
        let mut reader = DataReader::new(Vec::new(), 1 << 20);
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..64 {
            assert_eq!(reader.feed(&chunk), (chunk.len(), false));
        }
        assert!(reader.message.capacity() <= 2 << 20);
        assert_eq!(reader.size(), 4 << 20);
        assert_eq!(reader.feed(b"\r\n.\r\n"), (5, true));
        assert_eq!(reader.finish(), DataOutcome::TooBig { size: (4 << 20) + 2 });
    }
}
