//! The message as it goes on the wire after DATA (RFC 5321 §4.5.2), without I/O.
//!
//! The ingress keeps a message's line endings byte for byte, so a stored body may
//! hold a bare LF or bare CR. Relayed raw, `LF.LF` or `LF.CRLF` could end the message
//! early at a server that accepts them, and the rest would be read as new commands —
//! SMTP smuggling. Every line ending is therefore written as CRLF (RFC 5321 §2.3.8:
//! CR and LF only as CRLF) by [`normalize_crlf`], then [`wire_data`] doubles leading
//! dots and appends `.CRLF`. The body a recipient gets differs from the stored one
//! only in its line endings.

/// `message` with every line ending (CRLF, bare LF, bare CR) as CRLF, and a final
/// CRLF when the last line had none. DKIM signs this form, which is exactly what the
/// next hop receives.
pub fn normalize_crlf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 2);
    let mut bytes = message.iter().copied().peekable();
    while let Some(byte) = bytes.next() {
        match byte {
            b'\r' => {
                if bytes.peek() == Some(&b'\n') {
                    bytes.next();
                }
                out.extend_from_slice(b"\r\n");
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            other => out.push(other),
        }
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A CRLF-normalised message, dot-stuffed and terminated by `.CRLF`.
pub fn wire_data(normalized: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(normalized.len() + normalized.len() / 64 + 3);
    for line in normalized.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Whether the message has bytes above 127 (needs 8BITMIME, RFC 6152).
pub fn is_8bit(message: &[u8]) -> bool {
    !message.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_dots() {
        let table: [(&[u8], &[u8]); 8] = [
            (b"a\r\nb\r\n", b"a\r\nb\r\n.\r\n"),
            (b"a\r\nb", b"a\r\nb\r\n.\r\n"),
            (b"", b".\r\n"),
            (b".hidden\r\n..two\r\n", b"..hidden\r\n...two\r\n.\r\n"),
            // Smuggling attempts: bare LF and bare CR never reach the wire.
            (
                b"x\n.\nMAIL FROM:<e@vil>\n",
                b"x\r\n..\r\nMAIL FROM:<e@vil>\r\n.\r\n",
            ),
            (b"x\r.\r\nEVIL", b"x\r\n..\r\nEVIL\r\n.\r\n"),
            (b"x\n.\r\n", b"x\r\n..\r\n.\r\n"),
            (b"a\r\r\nb", b"a\r\n\r\nb\r\n.\r\n"),
        ];
        for (input, expected) in table {
            assert_eq!(
                wire_data(&normalize_crlf(input)),
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn eight_bit() {
        assert!(is_8bit("Thư".as_bytes()) && !is_8bit(b"mail"));
    }
}
