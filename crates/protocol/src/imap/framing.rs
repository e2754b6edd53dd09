//! Finding where one command ends in the input, before it is parsed.
//!
//! An IMAP command is one line, except that any string in it may be a literal
//! `{n}CRLF` followed by `n` raw bytes, after which the line goes on (RFC 3501 §4.3).
//! The framer walks the buffer line by line, jumping over literals without looking
//! at them, and answers:
//! - [`Frame::Command`]: the first `len` bytes are one whole command;
//! - [`Frame::NeedsContinuation`]: the buffer ends right after a synchronising literal
//!   announcement: the server must send `+` before the client sends the data
//!   (RFC 3501 §7.5). A non-synchronising literal `{n+}` (RFC 7888) never asks;
//! - [`Frame::Incomplete`]: read more;
//! - [`Frame::LineTooLong`] / [`Frame::LiteralTooBig`]: a limit was crossed. Limits are
//!   checked on the announced size, so a literal larger than allowed is refused before a
//!   single byte of it is buffered, and never gets a `+`.
//!
//! The framer is stateless: it is called again after every read, and rescans only
//! line headers (literals are skipped in O(1)).
//!
//! Limits depend on the session's state, which the caller knows and the framer does
//! not: before login ([`Limits::unauthenticated`]) a command may carry at most
//! [`UNAUTHENTICATED_MAX`] bytes of text and as much again of literals, whatever the
//! command (RFC 7888 §4 lets a server refuse literals it will not take; RFC 3501
//! §7.5 lets it refuse to send `+`). Only LOGIN and AUTHENTICATE can succeed there
//! and their arguments fit; an APPEND's message can wait until the client has
//! logged in, so a connection that never logs in can make the server hold at most
//! that much of its input.

/// Bytes of command text, and bytes of literals, one command may carry before login:
/// a LOGIN with a 1024-byte password, or an AUTHENTICATE PLAIN initial response
/// (base64 of two names and the password), fits several times over.
pub const UNAUTHENTICATED_MAX: usize = 8 * 1024;

/// Limits on one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of command text, literals excluded.
    pub max_line: usize,
    /// Total literal bytes in an APPEND command (the message).
    pub max_append_literal: u64,
    /// Total literal bytes in any other command (mailbox names, search strings,
    /// passwords).
    pub max_other_literal: u64,
}

impl Limits {
    /// These limits as they apply before login: no command, APPEND included, may
    /// announce more than [`UNAUTHENTICATED_MAX`] literal bytes or send more text.
    #[must_use]
    pub fn unauthenticated(self) -> Limits {
        let max = UNAUTHENTICATED_MAX as u64;
        Limits {
            max_line: self.max_line.min(UNAUTHENTICATED_MAX),
            max_append_literal: self.max_append_literal.min(max),
            max_other_literal: self.max_other_literal.min(max),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Incomplete,
    NeedsContinuation,
    /// The first `len` bytes of the buffer are one command, its final CRLF included.
    Command(usize),
    /// More than `max_line` bytes of command text. The caller answers BAD and
    /// discards the first `line_end` bytes, or, when the line has not ended yet
    /// (`None`), all input through the next LF still to come.
    LineTooLong {
        tag: Option<String>,
        line_end: Option<usize>,
    },
    /// A literal over the limit. The first `line_end` bytes (through the CRLF after
    /// the announcement) belong to the refused command; `non_synchronizing` literals
    /// are already on their way, so the connection cannot be resynchronised
    /// (RFC 7888 §4) and must be closed.
    LiteralTooBig {
        tag: Option<String>,
        line_end: usize,
        non_synchronizing: bool,
    },
}

/// The literal announced at the end of `line` (which excludes the line end), if any:
/// its size (saturating) and whether it is non-synchronising.
fn trailing_literal(line: &[u8]) -> Option<(u64, bool)> {
    let inner = line.strip_suffix(b"}")?;
    let (inner, non_sync) = match inner.strip_suffix(b"+") {
        Some(rest) => (rest, true),
        None => (inner, false),
    };
    let open = inner.iter().rposition(|b| *b == b'{')?;
    let digits = &inner[open + 1..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let size = digits.iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some((size, non_sync))
}

/// The tag of the command starting `buf`, when it has a valid one.
fn tag_of(buf: &[u8]) -> Option<String> {
    let end = buf.iter().position(|b| !super::lexer::is_tag_char(*b))?;
    (end > 0 && buf.get(end) == Some(&b' ')).then(|| String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// Is the command in `first_line` an APPEND (whose literal is the message)?
fn is_append(first_line: &[u8]) -> bool {
    let mut words = first_line.split(|b| *b == b' ').filter(|w| !w.is_empty());
    words.next();
    words
        .next()
        .is_some_and(|verb| verb.eq_ignore_ascii_case(b"APPEND"))
}

pub fn frame(buf: &[u8], limits: &Limits) -> Frame {
    let mut line_start = 0usize;
    let mut text_bytes = 0usize;
    let mut literal_bytes = 0u64;
    let mut append: Option<bool> = None;
    loop {
        let rest = &buf[line_start..];
        let Some(lf) = rest.iter().position(|b| *b == b'\n') else {
            return if text_bytes + rest.len() > limits.max_line {
                Frame::LineTooLong {
                    tag: tag_of(buf),
                    line_end: None,
                }
            } else {
                Frame::Incomplete
            };
        };
        text_bytes += lf + 1;
        if text_bytes > limits.max_line {
            return Frame::LineTooLong {
                tag: tag_of(buf),
                line_end: Some(line_start + lf + 1),
            };
        }
        let line = &rest[..lf];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line_end = line_start + lf + 1;
        let is_append = *append.get_or_insert_with(|| is_append(line));
        let Some((size, non_synchronizing)) = trailing_literal(line) else {
            return Frame::Command(line_end);
        };
        let limit = if is_append {
            limits.max_append_literal
        } else {
            limits.max_other_literal
        };
        literal_bytes = literal_bytes.saturating_add(size);
        if literal_bytes > limit {
            return Frame::LiteralTooBig {
                tag: tag_of(buf),
                line_end,
                non_synchronizing,
            };
        }
        // `size` <= limit, which is far below usize::MAX on 64-bit targets.
        let literal_end = usize::try_from(size).ok().and_then(|s| line_end.checked_add(s));
        if !non_synchronizing && line_end == buf.len() {
            return Frame::NeedsContinuation;
        }
        match literal_end {
            Some(end) if end <= buf.len() => line_start = end,
            _ => return Frame::Incomplete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_line: 100,
        max_append_literal: 1000,
        max_other_literal: 10,
    };

    #[test]
    fn frames() {
        let cases: &[(&[u8], Frame)] = &[
            (b"", Frame::Incomplete),
            (b"a NOOP", Frame::Incomplete),
            (b"a NOOP\r", Frame::Incomplete),
            (b"a NOOP\r\n", Frame::Command(8)),
            (b"a NOOP\n", Frame::Command(7)),
            (b"a NOOP\r\nb NOOP\r\n", Frame::Command(8)),
            (b"a LOGIN {3}\r\n", Frame::NeedsContinuation),
            (b"a LOGIN {3}\r\nab", Frame::Incomplete),
            (b"a LOGIN {3}\r\nabc", Frame::Incomplete),
            (b"a LOGIN {3}\r\nabc {2}\r\n", Frame::NeedsContinuation),
            (b"a LOGIN {3}\r\nabc {2}\r\nxy\r\n", Frame::Command(26)),
            (b"a LOGIN {3+}\r\n", Frame::Incomplete),
            (b"a LOGIN {3+}\r\nabc \"x\"\r\n", Frame::Command(23)),
            (b"a LOGIN {0}\r\n", Frame::NeedsContinuation),
            (b"a LOGIN {0}\r\n \"\"\r\n", Frame::Command(18)),
            (b"a LOGIN \"x{3}\"\r\n", Frame::Command(16)),
            (b"a APPEND INBOX {500}\r\n", Frame::NeedsContinuation),
            (
                b"a LOGIN {11}\r\n",
                Frame::LiteralTooBig {
                    tag: Some("a".into()),
                    line_end: 14,
                    non_synchronizing: false,
                },
            ),
            (
                b"t1 APPEND INBOX {4294967296}\r\n",
                Frame::LiteralTooBig {
                    tag: Some("t1".into()),
                    line_end: 30,
                    non_synchronizing: false,
                },
            ),
            (
                b"t1 append INBOX {99999999999999999999999+}\r\nxx",
                Frame::LiteralTooBig {
                    tag: Some("t1".into()),
                    line_end: 44,
                    non_synchronizing: true,
                },
            ),
            (
                b"a LOGIN {6}\r\nabcdef {6}\r\n",
                Frame::LiteralTooBig {
                    tag: Some("a".into()),
                    line_end: 25,
                    non_synchronizing: false,
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                &frame(input, &LIMITS),
                want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn before_login_no_literal_over_8_kib_gets_a_continuation() {
        let after = Limits {
            max_line: 64 * 1024,
            max_append_literal: 64 * 1024 * 1024,
            max_other_literal: 64 * 1024,
        };
        let before = after.unauthenticated();
        let append = b"a APPEND INBOX {67108864}\r\n";
        assert_eq!(frame(append, &after), Frame::NeedsContinuation);
        assert_eq!(
            frame(append, &before),
            Frame::LiteralTooBig {
                tag: Some("a".into()),
                line_end: append.len(),
                non_synchronizing: false,
            }
        );
        let pushed = b"a APPEND INBOX {67108864+}\r\nFrom: x\r\n";
        assert_eq!(
            frame(pushed, &before),
            Frame::LiteralTooBig {
                tag: Some("a".into()),
                line_end: 28,
                non_synchronizing: true,
            }
        );
        // Two literals that each fit, but not together.
        let mut login = b"a LOGIN {4096+}\r\n".to_vec();
        login.extend(std::iter::repeat_n(b'u', 4096));
        login.extend_from_slice(b" {4097}\r\n");
        assert!(matches!(frame(&login, &before), Frame::LiteralTooBig { .. }));
        // A LOGIN at the bound is still taken.
        let mut login = b"a LOGIN user {8192}\r\n".to_vec();
        assert_eq!(frame(&login, &before), Frame::NeedsContinuation);
        login.extend(std::iter::repeat_n(b'p', 8192));
        login.extend_from_slice(b"\r\n");
        assert_eq!(frame(&login, &before), Frame::Command(login.len()));
        // Command text is bounded the same way.
        let mut text = b"a ID (".to_vec();
        text.extend(std::iter::repeat_n(b'x', UNAUTHENTICATED_MAX));
        assert!(matches!(frame(&text, &before), Frame::LineTooLong { .. }));
        assert_eq!(frame(&text, &after), Frame::Incomplete);
        // Limits already below the bound stay as configured.
        assert_eq!(LIMITS.unauthenticated(), LIMITS);
    }

    #[test]
    fn long_lines() {
        let mut long = b"t1 ".to_vec();
        long.extend(std::iter::repeat_n(b'x', 101));
        assert_eq!(
            frame(&long, &LIMITS),
            Frame::LineTooLong {
                tag: Some("t1".into()),
                line_end: None
            }
        );
        let mut line = vec![b'x'; 99];
        line.extend_from_slice(b"\r\nnext");
        assert_eq!(
            frame(&line, &LIMITS),
            Frame::LineTooLong {
                tag: None,
                line_end: Some(101)
            }
        );
        // Literal bytes do not count against the line limit.
        let mut with_literal = b"a APPEND INBOX {500}\r\n".to_vec();
        with_literal.extend(std::iter::repeat_n(b'x', 500));
        with_literal.extend_from_slice(b"\r\n");
        assert_eq!(frame(&with_literal, &LIMITS), Frame::Command(with_literal.len()));
    }

    #[test]
    fn split_reads_reach_the_same_frame() {
        let command = b"a1 APPEND \"Sent\" (\\Seen) {11+}\r\nhello world\r\n";
        for cut in 0..command.len() {
            let f = frame(&command[..cut], &LIMITS);
            assert!(
                matches!(f, Frame::Incomplete | Frame::NeedsContinuation),
                "{cut}: {f:?}"
            );
        }
        assert_eq!(frame(command, &LIMITS), Frame::Command(command.len()));
    }
}
