//! clamd's answers, read without I/O (bytes in, a typed reply out), so that the
//! parser is fuzzed on its own (`fuzz/fuzz_targets/clamd_reply.rs`).
//!
//! With the `z` prefix every answer ends with a NUL (clamd(8), "COMMANDS"):
//! `stream: OK`, `stream: <signature> FOUND`, `stream: <text> ERROR`, or
//! `INSTREAM size limit exceeded. ERROR` when a stream passes `StreamMaxLength`; `PING`
//! is answered `PONG`.
//!
//! Invariants:
//! 1. Text from clamd is untrusted: what is kept of it (signature names, error text)
//!    is printable ASCII (0x20–0x7E; anything else becomes `?`) and bounded in
//!    length, so it can go into an SMTP reply or a log line as it is.
//! 2. Any input gives a [`ScanReply`] or an [`UnexpectedReply`], never a panic.

use std::fmt;

/// Longest answer read from clamd; its answers are one short line.
pub const MAX_REPLY_BYTES: usize = 1024;
/// Longest signature name kept (ClamAV's own names are under 100 characters).
pub const MAX_SIGNATURE_CHARS: usize = 128;
/// Longest clamd error text kept.
pub const MAX_ERROR_CHARS: usize = 200;

const STREAM_PREFIX: &str = "stream: ";
const SIZE_LIMIT_EXCEEDED: &str = "INSTREAM size limit exceeded.";

/// A virus name as clamd reported it, made safe to show (invariant 1); non-empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureName(String);

impl SignatureName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SignatureName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// clamd's answer to one `INSTREAM`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanReply {
    Clean,
    Infected(SignatureName),
    /// The stream passed clamd's `StreamMaxLength`.
    SizeLimitExceeded,
    /// clamd could not scan; its text (invariant 1).
    Error(String),
}

/// An answer that is none of clamd's forms; its text (invariant 1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unexpected answer from clamd: {0:?}")]
pub struct UnexpectedReply(pub String);

/// Reads one answer to `zINSTREAM`: the bytes clamd sent up to its NUL (a trailing
/// NUL or newline is ignored).
pub fn parse_scan_reply(reply: &[u8]) -> Result<ScanReply, UnexpectedReply> {
    let line = printable(without_terminator(reply), MAX_REPLY_BYTES);
    if let Some(found) = line
        .strip_prefix(STREAM_PREFIX)
        .and_then(|rest| rest.strip_suffix(" FOUND"))
        .filter(|name| !name.is_empty())
    {
        return Ok(ScanReply::Infected(SignatureName(bounded(
            found,
            MAX_SIGNATURE_CHARS,
        ))));
    }
    if line.strip_prefix(STREAM_PREFIX) == Some("OK") {
        return Ok(ScanReply::Clean);
    }
    match line.strip_suffix(" ERROR") {
        Some(SIZE_LIMIT_EXCEEDED) => Ok(ScanReply::SizeLimitExceeded),
        Some(text) => {
            let text = text.strip_prefix(STREAM_PREFIX).unwrap_or(text);
            Ok(ScanReply::Error(bounded(text, MAX_ERROR_CHARS)))
        }
        None => Err(UnexpectedReply(bounded(&line, MAX_ERROR_CHARS))),
    }
}

/// Reads the answer to `zPING`: clamd's `PONG`.
pub fn parse_pong(reply: &[u8]) -> Result<(), UnexpectedReply> {
    let line = without_terminator(reply);
    if line == b"PONG" {
        Ok(())
    } else {
        Err(UnexpectedReply(bounded(
            &printable(line, MAX_REPLY_BYTES),
            MAX_ERROR_CHARS,
        )))
    }
}

fn without_terminator(reply: &[u8]) -> &[u8] {
    let reply = reply.strip_suffix(b"\0").unwrap_or(reply);
    reply.strip_suffix(b"\n").unwrap_or(reply)
}

/// Invariant 1: printable ASCII, at most `max` bytes of input looked at.
fn printable(bytes: &[u8], max: usize) -> String {
    bytes
        .iter()
        .take(max)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

/// At most `max` characters of ASCII text; a cut is shown by a final `...`.
fn bounded(text: &str, max: usize) -> String {
    match text.get(..max) {
        Some(kept) if kept.len() < text.len() => {
            format!("{}...", kept.get(..max.saturating_sub(3)).unwrap_or(kept))
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infected(name: &str) -> Result<ScanReply, UnexpectedReply> {
        Ok(ScanReply::Infected(SignatureName(name.to_owned())))
    }

    #[test]
    fn clamd_answers() {
        for (reply, parsed) in [
            (&b"stream: OK\0"[..], Ok(ScanReply::Clean)),
            (b"stream: OK", Ok(ScanReply::Clean)),
            (b"stream: OK\n", Ok(ScanReply::Clean)),
            (
                b"stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0",
                infected("Eicar-Test-Signature.UNOFFICIAL"),
            ),
            (
                b"stream: Win.Test.EICAR_HDB-1 FOUND\0",
                infected("Win.Test.EICAR_HDB-1"),
            ),
            (
                b"INSTREAM size limit exceeded. ERROR\0",
                Ok(ScanReply::SizeLimitExceeded),
            ),
            (
                b"stream: Can't allocate memory ERROR\0",
                Ok(ScanReply::Error("Can't allocate memory".into())),
            ),
            (
                b"UNKNOWN COMMAND\0",
                Err(UnexpectedReply("UNKNOWN COMMAND".into())),
            ),
            (b"", Err(UnexpectedReply(String::new()))),
            (b"stream:  FOUND\0", Err(UnexpectedReply("stream:  FOUND".into()))),
            (b"stream: OK OK\0", Err(UnexpectedReply("stream: OK OK".into()))),
        ] {
            assert_eq!(parse_scan_reply(reply), parsed, "{reply:?}");
        }
    }

    #[test]
    fn untrusted_text_is_made_printable_and_bounded() {
        assert_eq!(
            parse_scan_reply(b"stream: Evil\r\n250 OK\x1b[2J\xc3\xa9 FOUND\0"),
            infected("Evil??250 OK?[2J??")
        );
        let long = format!("stream: {} FOUND\0", "A".repeat(500));
        let Ok(ScanReply::Infected(name)) = parse_scan_reply(long.as_bytes()) else {
            panic!("a long name is still a finding");
        };
        assert_eq!(name.as_str().len(), MAX_SIGNATURE_CHARS);
        assert!(name.as_str().ends_with("AAA..."));
        let Err(UnexpectedReply(text)) = parse_scan_reply(&[b'x'; 5000]) else {
            panic!("not one of clamd's answers");
        };
        assert_eq!(text.len(), MAX_ERROR_CHARS);
    }

    #[test]
    fn pong() {
        assert_eq!(parse_pong(b"PONG\0"), Ok(()));
        assert_eq!(parse_pong(b"PONG\n"), Ok(()));
        assert_eq!(
            parse_pong(b"PONG\r\nPONG\0"),
            Err(UnexpectedReply("PONG??PONG".into()))
        );
        assert_eq!(parse_pong(b""), Err(UnexpectedReply(String::new())));
    }
}
