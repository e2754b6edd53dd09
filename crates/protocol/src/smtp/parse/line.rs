//! Splitting the command stream into lines with a bounded buffer.

/// One line taken from a [`LineBuffer`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line without its CRLF (a bare LF is accepted as the end too).
    Complete(&'a [u8]),
    /// A line longer than the limit; its bytes have been discarded up to and
    /// including its LF (RFC 5321 §4.5.3.1.4: 500 5.5.2 and go on).
    TooLong,
}

/// Buffers received bytes and hands out complete lines. Memory stays bounded by
/// `max_line` plus the size of one pushed chunk: an over-long line is dropped while
/// it arrives, never accumulated.
#[derive(Debug)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    start: usize,
    max_line: usize,
    /// Inside an over-long line: drop everything up to the next LF.
    discarding: bool,
}

impl LineBuffer {
    pub fn new(max_line: usize) -> LineBuffer {
        LineBuffer {
            buf: Vec::new(),
            start: 0,
            max_line,
            discarding: false,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line, or `None` when more input is needed.
    pub fn next_line(&mut self) -> Option<Line<'_>> {
        let pending = self.pending();
        let lf = pending.iter().position(|&b| b == b'\n');
        if self.discarding {
            match lf {
                Some(i) => {
                    self.start += i + 1;
                    self.discarding = false;
                    return Some(Line::TooLong);
                }
                None => {
                    self.clear();
                    return None;
                }
            }
        }
        let Some(i) = lf else {
            // +1: the line's CR may be here while its LF is not yet.
            if pending.len() > self.max_line + 1 {
                self.clear();
                self.discarding = true;
            }
            return None;
        };
        let start = self.start;
        self.start += i + 1;
        let line = &self.buf[start..start + i];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some(if line.len() > self.max_line {
            Line::TooLong
        } else {
            Line::Complete(line)
        })
    }

    /// The bytes received but not yet consumed (for the DATA reader).
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Marks `n` pending bytes as consumed.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
    }

    /// Drops everything buffered; returns how many bytes that was.
    pub fn clear(&mut self) -> usize {
        let dropped = self.buf.len() - self.start;
        self.buf.clear();
        self.start = 0;
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(max: usize, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, ()>> {
        let mut buffer = LineBuffer::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            buffer.push(chunk);
            while let Some(line) = buffer.next_line() {
                out.push(match line {
                    Line::Complete(l) => Ok(l.to_vec()),
                    Line::TooLong => Err(()),
                });
            }
            assert!(buffer.buf.len() <= max + 1 + chunk.len());
        }
        out
    }

    #[test]
    fn splits_crlf_and_bare_lf() {
        assert_eq!(
            lines(
                100,
                &[b"EHLO a\r\nMAIL FROM:<>\nRC", b"PT TO:<b@c>\r", b"\n", b"\r\n"]
            ),
            vec![
                Ok(b"EHLO a".to_vec()),
                Ok(b"MAIL FROM:<>".to_vec()),
                Ok(b"RCPT TO:<b@c>".to_vec()),
                Ok(Vec::new()),
            ]
        );
    }

    #[test]
    fn over_long_lines_are_dropped_in_bounded_memory() {
        let long = vec![b'x'; 200 * 1024];
        let mut chunks: Vec<&[u8]> = long.chunks(4096).collect();
        chunks.push(b"\r\nNOOP\r\n");
        assert_eq!(lines(512, &chunks), vec![Err(()), Ok(b"NOOP".to_vec())]);
        // A long line that arrives in one chunk.
        assert_eq!(
            lines(8, &[b"123456789\r\nQUIT\r\n"]),
            vec![Err(()), Ok(b"QUIT".to_vec())]
        );
        // Exactly at the limit is fine, CR split from LF.
        assert_eq!(lines(8, &[b"12345678\r", b"\n"]), vec![Ok(b"12345678".to_vec())]);
    }

    #[test]
    fn pending_and_consume() {
        let mut buffer = LineBuffer::new(100);
        buffer.push(b"DATA\r\nhello\r\n.\r\nQUIT\r\n");
        assert_eq!(buffer.next_line(), Some(Line::Complete(b"DATA")));
        assert_eq!(buffer.pending(), b"hello\r\n.\r\nQUIT\r\n");
        buffer.consume(10);
        assert_eq!(buffer.next_line(), Some(Line::Complete(b"QUIT")));
        assert!(buffer.pending().is_empty());
        buffer.push(b"junk");
        assert_eq!(buffer.clear(), 4);
        assert!(buffer.pending().is_empty());
    }
}
