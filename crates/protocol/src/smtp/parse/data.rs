//! The DATA phase (RFC 5321 §4.1.1.4, §4.5.2): finds the end of the mail data and
//! removes the transparency dots; the data goes through [`CanonicalSink`], which
//! turns bare CR and bare LF into CRLF (see `canonical.rs` for why).
//!
//! End detection reads the bytes as sent: the end is `CRLF . CRLF` and nothing else.
//! A bare LF or CR neither ends a line nor starts one here, so `\n.\n` or `\n.\r\n`
//! inside a body cannot end the message early (SMTP smuggling, CVE-2023-51766 class)
//! and a dot after one is not a transparency dot. Once canonical, such a dot starts a
//! line of the stored message, and whatever relays it onwards dot-stuffs it.

use super::canonical::{CanonicalSink, DataOutcome, DataOutput};

/// Incremental reader fed with whatever the socket delivers, in any chunking.
#[derive(Debug)]
pub struct DataReader {
    state: State,
    sink: CanonicalSink,
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

impl DataReader {
    /// At most `limit` bytes of (canonical) mail data are kept, in memory.
    pub fn new(limit: u64) -> DataReader {
        DataReader::with_output(limit, Box::new(Vec::new()))
    }

    /// At most `limit` bytes of (canonical) mail data are kept, in `output`.
    pub fn with_output(limit: u64, output: Box<dyn DataOutput>) -> DataReader {
        DataReader {
            state: State::LineStart,
            sink: CanonicalSink::with_output(limit, output),
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
                    match memchr::memchr(b'\r', rest) {
                        Some(p) => {
                            self.sink.push(&rest[..=p]);
                            i += p + 1;
                            self.state = State::Cr;
                        }
                        None => {
                            self.sink.push(rest);
                            i = input.len();
                        }
                    }
                }
                State::Cr => {
                    self.sink.push(&[b]);
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
                    self.sink.push(b"\r");
                    self.state = State::Cr;
                }
            }
        }
        (i, false)
    }

    /// Mail data bytes seen so far.
    pub fn size(&self) -> u64 {
        self.sink.size()
    }

    pub fn finish(self) -> DataOutcome {
        self.sink.finish()
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
        let mut reader = DataReader::new(limit);
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

    fn message(data: &[u8], repaired: u64) -> DataOutcome {
        DataOutcome::Message {
            bytes: data.to_vec(),
            size: data.len() as u64,
            repaired,
        }
    }

    #[test]
    fn end_detection_and_dot_unstuffing() {
        let cases: [(&[u8], &[u8], u64, usize); 11] = [
            (b".\r\n", b"", 0, 3),
            (
                b"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n",
                b"Subject: x\r\n\r\nbody\r\n",
                0,
                23,
            ),
            (b"..\r\n.\r\n", b".\r\n", 0, 7),
            (b"...x\r\n.\r\n", b"..x\r\n", 0, 9),
            (b"a\r\n.b\r\n.\r\n", b"a\r\nb\r\n", 0, 10),
            // A bare LF never delimits a line for framing: no end, no unstuffing;
            // it is stored as CRLF.
            (b"a\n.\nb\n.\r\nc\r\n.\r\n", b"a\r\n.\r\nb\r\n.\r\nc\r\n", 3, 15),
            (b"a\r\n.\nb\r\n.\r\n", b"a\r\n\r\nb\r\n", 1, 11),
            // `.` CR not followed by LF: dot removed, the bare CR becomes CRLF.
            (b".\r.\r\n.\r\n", b"\r\n.\r\n", 1, 8),
            (b"a\r\r\n..\r\r\n.\r\n", b"a\r\n\r\n.\r\n\r\n", 2, 12),
            (b"\x00\xff\r\n\r\n.\r\n", b"\x00\xff\r\n\r\n", 0, 9),
            // The header smuggling of issue 10: what is checked is two lines.
            (
                b"X-Mailer: a\rFrom: b@c\r\n\r\nx\r\n.\r\n",
                b"X-Mailer: a\r\nFrom: b@c\r\n\r\nx\r\n",
                1,
                31,
            ),
        ];
        for (input, body, repaired, used) in cases {
            assert_eq!(
                read_all_splits(input, 1000),
                (message(body, repaired), used),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn size_limit_is_counted_while_reading() {
        // Exactly at the limit is accepted.
        assert_eq!(read_all_splits(b"12345\r\n.\r\n", 7).0, message(b"12345\r\n", 0));
        assert_eq!(
            read_all_splits(b"123456\r\n..\r\n.\r\nNOOP\r\n", 7),
            (DataOutcome::TooBig { size: 11 }, 15)
        );
    }

    #[test]
    fn large_message_is_not_held_past_the_limit() {
        let mut reader = DataReader::new(1 << 20);
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..64 {
            assert_eq!(reader.feed(&chunk), (chunk.len(), false));
        }
        assert!(reader.sink.held() <= 2 << 20);
        assert_eq!(reader.size(), 4 << 20);
        assert_eq!(reader.feed(b"\r\n.\r\n"), (5, true));
        assert_eq!(reader.finish(), DataOutcome::TooBig { size: (4 << 20) + 2 });
    }
}
