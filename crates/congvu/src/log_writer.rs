//! The text log's writer: one event, one line, whatever a client sent.
//!
//! Fields often hold text a client chose — a login name, a HELO name, a `MAIL FROM`
//! address. In the text format tracing prints them as they are, so a login name
//! holding CR LF could write a forged line into the log (issue 11). Each event is
//! collected whole and written once, with every control character inside it
//! escaped (`\r`, `\n`, `\x1b`, …); only the final line feed stays. The JSON format
//! needs none of this: JSON strings escape control characters themselves.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// Makes one [`EventWriter`] per event, writing to standard error.
#[derive(Clone, Copy, Debug, Default)]
pub struct EscapingStderr;

/// Collects one event; escapes and writes it when dropped.
#[derive(Debug, Default)]
pub struct EventWriter {
    line: Vec<u8>,
}

impl<'a> MakeWriter<'a> for EscapingStderr {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> EventWriter {
        EventWriter::default()
    }
}

impl Write for EventWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        if self.line.is_empty() {
            return;
        }
        // Nothing sensible is left to do when standard error is gone.
        let _ = io::stderr().lock().write_all(&escape_event(&self.line));
    }
}

/// `event` with every control character but the final LF (and TAB) escaped.
pub fn escape_event(event: &[u8]) -> Vec<u8> {
    let (body, end) = match event.strip_suffix(b"\n") {
        Some(body) => (body, &b"\n"[..]),
        None => (event, &b""[..]),
    };
    let mut out = Vec::with_capacity(event.len() + 8);
    for &b in body {
        match b {
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.push(b),
            0x00..=0x1f | 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.extend_from_slice(end);
    out
}

#[cfg(test)]
mod tests {
    use super::escape_event;

    #[test]
    fn a_client_string_never_starts_a_line() {
        let cases: [(&[u8], &[u8]); 4] = [
            (
                b"INFO login user=a\r\nINFO forged\n",
                b"INFO login user=a\\r\\nINFO forged\n",
            ),
            (b"x\x1b[31mred\tok\n", b"x\\x1b[31mred\tok\n"),
            (b"Vi\xe1\xbb\x87t\n", b"Vi\xe1\xbb\x87t\n"),
            (b"no newline", b"no newline"),
        ];
        for (event, expected) in cases {
            assert_eq!(
                escape_event(event),
                expected,
                "{}",
                String::from_utf8_lossy(event)
            );
        }
    }
}
