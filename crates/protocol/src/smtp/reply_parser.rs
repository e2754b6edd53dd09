//! Server replies (RFC 5321 §4.2), parsed without I/O: one line in, a finished
//! [`ServerReply`] out once its last line arrived. The relay reads other servers'
//! replies with it.
//!
//! The text of a reply ends up in queue entries, logs and the `Diagnostic-Code` of
//! bounces, so a control character another server put in it (a stray CR, an escape
//! sequence) is read as a space: no reply text can break a line or a header field.

/// Longest reply line accepted (RFC 5321 §4.5.3.1.5 sets 512; servers exceed it).
pub const MAX_LINE: usize = 4096;
/// Most lines in one multi-line reply (an EHLO reply has one per extension).
pub const MAX_LINES: usize = 128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerReply {
    pub code: u16,
    /// The text of each line, without code and separator.
    pub lines: Vec<String>,
}

impl ServerReply {
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }
    /// 5xx: the server will never accept this (RFC 5321 §4.2.1).
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }
    /// The reply as one line, for logs, queue entries and bounces.
    pub fn summary(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" "))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply line is not `NNN text`: {0:?}")]
    Malformed(String),
    #[error("reply line over {MAX_LINE} bytes")]
    TooLong,
    #[error("reply over {MAX_LINES} lines")]
    TooManyLines,
    #[error("multi-line reply changed its code from {0} to {1}")]
    CodeChanged(u16, u16),
}

/// Collects the lines of one reply.
#[derive(Debug, Default)]
pub struct ReplyParser {
    code: Option<u16>,
    lines: Vec<String>,
}

impl ReplyParser {
    /// Feeds one line (CRLF or LF stripped or not). `Some` when it was the last.
    pub fn push(&mut self, line: &[u8]) -> Result<Option<ServerReply>, ReplyError> {
        if line.len() > MAX_LINE {
            return Err(ReplyError::TooLong);
        }
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        let malformed = || ReplyError::Malformed(text.chars().take(80).collect());
        let digits = line.get(..3).ok_or_else(malformed)?;
        if !digits.iter().all(u8::is_ascii_digit) || !(b'2'..=b'5').contains(&digits[0]) {
            return Err(malformed());
        }
        let code = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        // RFC 5321 §4.2.1: `NNN-text` continues, `NNN text` or a bare `NNN` ends.
        let last = match line.get(3) {
            None | Some(b' ') => true,
            Some(b'-') => false,
            Some(_) => return Err(malformed()),
        };
        match self.code {
            Some(first) if first != code => return Err(ReplyError::CodeChanged(first, code)),
            _ => self.code = Some(code),
        }
        if self.lines.len() >= MAX_LINES {
            return Err(ReplyError::TooManyLines);
        }
        let rest = text.get(4..).unwrap_or("");
        self.lines.push(
            rest.chars()
                .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
                .collect(),
        );
        Ok(last.then(|| ServerReply {
            code,
            lines: std::mem::take(&mut self.lines),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Result<Option<ServerReply>, ReplyError> {
        let mut parser = ReplyParser::default();
        let mut result = Ok(None);
        for line in lines {
            result = parser.push(line.as_bytes());
            if !matches!(result, Ok(None)) {
                break;
            }
        }
        result
    }

    #[test]
    fn replies() {
        let ok = |code, lines: &[&str]| {
            Ok(Some(ServerReply {
                code,
                lines: lines.iter().map(|l| l.to_string()).collect(),
            }))
        };
        type Parsed = Result<Option<ServerReply>, ReplyError>;
        let table: [(&[&str], Parsed); 9] = [
            (&["250 OK\r\n"], ok(250, &["OK"])),
            (&["220\r\n"], ok(220, &[""])),
            (
                &["250-mx.x.vn\r\n", "250-SIZE 100\r\n", "250 8BITMIME\r\n"],
                ok(250, &["mx.x.vn", "SIZE 100", "8BITMIME"]),
            ),
            (&["250-a\r\n"], Ok(None)),
            (
                &["250-a\r\n", "251 b\r\n"],
                Err(ReplyError::CodeChanged(250, 251)),
            ),
            (&["25"], Err(ReplyError::Malformed("25".into()))),
            (&["abc def"], Err(ReplyError::Malformed("abc def".into()))),
            (&["650 no"], Err(ReplyError::Malformed("650 no".into()))),
            (&["250xOK"], Err(ReplyError::Malformed("250xOK".into()))),
        ];
        for (lines, expected) in table {
            assert_eq!(parse(lines), expected, "{lines:?}");
        }
        let long = format!("250 {}", "x".repeat(MAX_LINE));
        assert_eq!(parse(&[&long]), Err(ReplyError::TooLong));
        let many: Vec<&str> = std::iter::repeat_n("250-x", MAX_LINES + 1).collect();
        assert_eq!(parse(&many), Err(ReplyError::TooManyLines));
    }

    #[test]
    fn classes() {
        let reply = |code| ServerReply { code, lines: vec![] };
        assert!(reply(250).is_positive() && reply(354).is_intermediate() && reply(550).is_permanent());
        assert!(!reply(451).is_permanent() && !reply(451).is_positive());
    }

    /// What the server side writes reads back as the same code and lines; control
    /// characters in another server's text are read as spaces.
    #[test]
    fn written_replies_read_back() {
        use crate::smtp::Reply;
        for reply in [
            Reply::OK,
            Reply::plain(250, "mx.example\nPIPELINING\nSIZE 10"),
            Reply::new(550, (5, 1, 1), "Người nhận không tồn tại\nno such user"),
            Reply::plain(334, ""),
        ] {
            let mut wire = Vec::new();
            reply.write_to(&mut wire);
            let lines: Vec<&str> = std::str::from_utf8(&wire)
                .unwrap()
                .split_inclusive('\n')
                .collect();
            let read = parse(&lines).unwrap().unwrap();
            assert_eq!(read.code, reply.code);
            let enhanced = reply
                .enhanced
                .map(|(class, subject, detail)| format!("{class}.{subject}.{detail} "))
                .unwrap_or_default();
            let expected: Vec<String> = reply.text.split('\n').map(|l| format!("{enhanced}{l}")).collect();
            assert_eq!(read.lines, expected);
        }
        assert_eq!(
            parse(&["550 5.1.1 a\rb\x1b[31m\tc\r\n"]),
            Ok(Some(ServerReply {
                code: 550,
                lines: vec!["5.1.1 a b [31m\tc".to_owned()],
            }))
        );
    }
}
