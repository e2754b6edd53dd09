//! The response encoder: status lines with typed response codes, and the string
//! forms of RFC 3501 §4.3 (quoted when the text allows it, literal otherwise).

use std::fmt;

use crate::Flags;

use super::mutf7::{self, NameEncoding};

/// The status of a tagged or untagged status response (RFC 3501 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    Bye,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::Bye => "BYE",
        }
    }
}

/// Response codes (RFC 3501 §7.1, RFC 5530, RFC 4315, RFC 9208, RFC 7162).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    Capability(String),
    ReadOnly,
    ReadWrite,
    TryCreate,
    UidValidity(u32),
    UidNext(u32),
    Unseen(u32),
    PermanentFlags(String),
    /// RFC 4315.
    AppendUid {
        uidvalidity: u32,
        uid: u32,
    },
    /// RFC 4315: source and destination UID sets, already in set syntax.
    CopyUid {
        uidvalidity: u32,
        source: String,
        destination: String,
    },
    /// RFC 7162 (sent on SELECT while a mailbox was selected, as RFC 9051 asks).
    Closed,
    /// RFC 7162 §3.1.2.1.
    HighestModSeq(u64),
    /// RFC 7162 §3.1.3: the messages UNCHANGEDSINCE refused, in set syntax.
    Modified(String),
    /// RFC 3501 §6.4.4.
    BadCharset,
    // RFC 5530.
    Unavailable,
    AuthenticationFailed,
    PrivacyRequired,
    ExpungeIssued,
    TooBig,
    OverQuota,
    AlreadyExists,
    NonExistent,
    Cannot,
    /// RFC 9051 §7.1: DELETE of a mailbox that has inferior names.
    HasChildren,
    Limit,
    /// RFC 6154 §6: a special-use attribute the server cannot set.
    UseAttr,
    /// RFC 5530: the ACL does not allow it (RFC 4314 §4).
    NoPerm,
    /// RFC 4978 §3: COMPRESS when compression is already on.
    CompressionActive,
    /// RFC 3516 §4.3: BINARY on a part whose transfer encoding is unknown.
    UnknownCte,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Code::Capability(caps) => write!(f, "CAPABILITY {caps}"),
            Code::ReadOnly => f.write_str("READ-ONLY"),
            Code::ReadWrite => f.write_str("READ-WRITE"),
            Code::TryCreate => f.write_str("TRYCREATE"),
            Code::UidValidity(v) => write!(f, "UIDVALIDITY {v}"),
            Code::UidNext(v) => write!(f, "UIDNEXT {v}"),
            Code::Unseen(v) => write!(f, "UNSEEN {v}"),
            Code::PermanentFlags(flags) => write!(f, "PERMANENTFLAGS {flags}"),
            Code::AppendUid { uidvalidity, uid } => write!(f, "APPENDUID {uidvalidity} {uid}"),
            Code::CopyUid {
                uidvalidity,
                source,
                destination,
            } => write!(f, "COPYUID {uidvalidity} {source} {destination}"),
            Code::Closed => f.write_str("CLOSED"),
            Code::HighestModSeq(n) => write!(f, "HIGHESTMODSEQ {n}"),
            Code::Modified(set) => write!(f, "MODIFIED {set}"),
            Code::BadCharset => f.write_str("BADCHARSET (UTF-8 US-ASCII)"),
            Code::Unavailable => f.write_str("UNAVAILABLE"),
            Code::AuthenticationFailed => f.write_str("AUTHENTICATIONFAILED"),
            Code::PrivacyRequired => f.write_str("PRIVACYREQUIRED"),
            Code::ExpungeIssued => f.write_str("EXPUNGEISSUED"),
            Code::TooBig => f.write_str("TOOBIG"),
            Code::OverQuota => f.write_str("OVERQUOTA"),
            Code::AlreadyExists => f.write_str("ALREADYEXISTS"),
            Code::NonExistent => f.write_str("NONEXISTENT"),
            Code::Cannot => f.write_str("CANNOT"),
            Code::HasChildren => f.write_str("HASCHILDREN"),
            Code::Limit => f.write_str("LIMIT"),
            Code::UseAttr => f.write_str("USEATTR"),
            Code::NoPerm => f.write_str("NOPERM"),
            Code::CompressionActive => f.write_str("COMPRESSIONACTIVE"),
            Code::UnknownCte => f.write_str("UNKNOWN-CTE"),
        }
    }
}

/// A status response: `tag|* STATUS [CODE] text`.
pub fn status_line(out: &mut Vec<u8>, tag: Option<&str>, status: Status, code: Option<&Code>, text: &str) {
    out.extend_from_slice(tag.unwrap_or("*").as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    if let Some(code) = code {
        out.extend_from_slice(format!("[{code}] ").as_bytes());
    }
    // Human-readable text never carries line breaks, whatever it was built from.
    out.extend(
        text.bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// Strings up to this size that are plain 7-bit text go out quoted; anything else as a
/// literal, which carries any byte.
const MAX_QUOTED: usize = 1024;

/// Can `s` go out as a `quoted` string to any client: short, and every byte a 7-bit
/// TEXT-CHAR (RFC 3501 §9)?
pub(super) fn is_quotable(s: &[u8]) -> bool {
    s.len() <= MAX_QUOTED
        && s.iter()
            .all(|b| matches!(b, 1..=0x7f) && *b != b'\r' && *b != b'\n')
}

/// Can UTF-8 text go out as a `quoted` string once UTF-8 is enabled (RFC 6855 §3,
/// RFC 9051 §4.3): short, with no line break or NUL?
pub(super) fn is_quotable_utf8(s: &str) -> bool {
    s.len() <= MAX_QUOTED && !s.bytes().any(|b| matches!(b, 0 | b'\r' | b'\n'))
}

/// `string`: quoted when every byte is a 7-bit TEXT-CHAR (RFC 3501 §9), else literal.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if is_quotable(s) {
        write_quoted(out, s);
    } else {
        write_literal(out, s);
    }
}

/// `quoted`, escaping `"` and `\`; the caller has checked there is no CR, LF or NUL.
pub(super) fn write_quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

pub fn write_literal(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    out.extend_from_slice(s);
}

/// A literal that may carry NUL: `~{n}` (RFC 3516 §4.1 literal8) when it does, a
/// plain literal otherwise.
pub fn write_literal8(out: &mut Vec<u8>, s: &[u8]) {
    if s.contains(&0) {
        out.push(b'~');
    }
    write_literal(out, s);
}

/// `nstring`: a string, or NIL.
pub fn write_nstring(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => write_string(out, s),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// A mailbox name in the session's wire form: modified UTF-7, or after
/// `ENABLE UTF8=ACCEPT` UTF-8 in a quoted string (RFC 6855 §3).
pub fn write_mailbox(out: &mut Vec<u8>, name: &str, names: NameEncoding) {
    match names {
        NameEncoding::ModifiedUtf7 => write_string(out, mutf7::encode(name).as_bytes()),
        NameEncoding::Utf8 => write_utf8_string(out, name),
    }
}

/// `string` once UTF-8 is enabled (RFC 6855 §3, RFC 9051 §4.3): quoted when it has
/// no line break or NUL, else a literal.
pub fn write_utf8_string(out: &mut Vec<u8>, s: &str) {
    if is_quotable_utf8(s) {
        write_quoted(out, s.as_bytes());
    } else {
        write_literal(out, s.as_bytes());
    }
}

/// A parenthesised flag list: `(\Seen \Answered $Forwarded)`, plus `\Recent` when set.
pub fn write_flags(out: &mut Vec<u8>, flags: Flags, keywords: &[String], recent: bool) {
    let mut list: Vec<&[u8]> = flags.names().map(str::as_bytes).collect();
    if recent {
        list.push(b"\\Recent");
    }
    list.extend(keywords.iter().map(|k| k.as_bytes()));
    out.push(b'(');
    out.extend_from_slice(&list.join(&b' '));
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn strings() {
        let cases: &[(&[u8], &str)] = &[
            (b"abc", "\"abc\""),
            (b"", "\"\""),
            (b"a\"b\\c", "\"a\\\"b\\\\c\""),
            (b"a\r\nb", "{4}\r\na\r\nb"),
            ("Công".as_bytes(), "{5}\r\nCông"),
            (b"\0", "{1}\r\n\0"),
        ];
        for (input, want) in cases {
            assert_eq!(s(|o| write_string(o, input)), *want);
        }
        assert_eq!(s(|o| write_nstring(o, None)), "NIL");
        assert_eq!(
            s(|o| write_mailbox(o, "Công văn đến", NameEncoding::ModifiedUtf7)),
            "\"C&APQ-ng v&AQM-n &AREevw-n\""
        );
        // RFC 6855 §3: after ENABLE UTF8=ACCEPT, UTF-8 in a quoted string.
        assert_eq!(
            s(|o| write_mailbox(o, "Sở TT&TT/\"Đến\"", NameEncoding::Utf8)),
            "\"Sở TT&TT/\\\"Đến\\\"\""
        );
        assert_eq!(s(|o| write_utf8_string(o, "a\r\nb")), "{4}\r\na\r\nb");
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            s(|o| status_line(
                o,
                Some("a1"),
                Status::Ok,
                Some(&Code::AppendUid {
                    uidvalidity: 7,
                    uid: 3
                }),
                "APPEND completed"
            )),
            "a1 OK [APPENDUID 7 3] APPEND completed\r\n"
        );
        assert_eq!(
            s(|o| status_line(o, None, Status::Bye, None, "bye\r\nx")),
            "* BYE bye  x\r\n"
        );
    }

    #[test]
    fn flag_lists() {
        let kw = vec!["$Forwarded".to_string()];
        assert_eq!(
            s(|o| write_flags(o, Flags::SEEN.union(Flags::DELETED), &kw, true)),
            "(\\Seen \\Deleted \\Recent $Forwarded)"
        );
        assert_eq!(s(|o| write_flags(o, Flags::empty(), &[], false)), "()");
    }
}
