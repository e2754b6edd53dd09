//! Envelope addresses: RFC 5321 §4.1.2 `Path`, `Mailbox`, `Domain`, `address-literal`,
//! extended by RFC 6531 §3.3 (UTF-8 in local parts and domains).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Cursor, Strictness};

/// RFC 5321 §4.5.3.1.2: a domain name is at most 255 octets.
const MAX_DOMAIN: usize = 255;

/// A validated mailbox `local@domain`. The local part is kept decoded (quotes and
/// quoted-pairs removed) and re-quoted by `Display` only when it must be, so that
/// `"tuanna.sttt"@x` and `tuanna.sttt@x` name the same mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    local: String,
    domain: String,
}

impl Mailbox {
    /// The domain as given, or an address literal with its brackets (`[192.0.2.1]`).
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// RFC 6531: a non-ASCII address needs the SMTPUTF8 parameter.
    pub fn is_ascii(&self) -> bool {
        self.local.is_ascii() && self.domain.is_ascii()
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_dot_string(self.local.as_bytes()) {
            f.write_str(&self.local)?;
        } else {
            f.write_str("\"")?;
            for c in self.local.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        write!(f, "@{}", self.domain)
    }
}

/// `MAIL FROM` argument (RFC 5321 §4.1.1.2): a mailbox or the null path `<>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReversePath {
    Null,
    Mailbox(Mailbox),
}

impl fmt::Display for ReversePath {
    /// The path with its angle brackets, as in `Return-Path:`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReversePath::Null => f.write_str("<>"),
            ReversePath::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}

/// `RCPT TO` argument (RFC 5321 §4.1.1.3): a mailbox, or the bare `<Postmaster>` that
/// every server must accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForwardPath {
    Postmaster,
    Mailbox(Mailbox),
}

/// Why a path did not parse (the session picks 501 5.1.7 or 5.1.3 from the side).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path must be enclosed in angle brackets")]
    Brackets,
    #[error("bad local part")]
    LocalPart,
    #[error("bad domain")]
    Domain,
    #[error("address is not valid UTF-8")]
    Utf8,
}

pub(super) fn reverse_path(
    cursor: &mut Cursor<'_>,
    strictness: Strictness,
) -> Result<ReversePath, PathError> {
    if cursor.eat(b"<>") {
        return Ok(ReversePath::Null);
    }
    path(cursor, strictness).map(ReversePath::Mailbox)
}

pub(super) fn forward_path(
    cursor: &mut Cursor<'_>,
    strictness: Strictness,
) -> Result<ForwardPath, PathError> {
    if cursor.eat_ignore_case(b"<postmaster>") {
        return Ok(ForwardPath::Postmaster);
    }
    path(cursor, strictness).map(ForwardPath::Mailbox)
}

/// `Path = "<" [ A-d-l ":" ] Mailbox ">"`
fn path(cursor: &mut Cursor<'_>, strictness: Strictness) -> Result<Mailbox, PathError> {
    if !cursor.eat(b"<") {
        return Err(PathError::Brackets);
    }
    source_route(cursor, strictness)?;
    let mailbox = mailbox(cursor, strictness)?;
    if !cursor.eat(b">") {
        return Err(PathError::Brackets);
    }
    Ok(mailbox)
}

/// RFC 5321 §4.1.1.3 and Appendix C: a source route (`@a,@b:`) is accepted for
/// syntax and then ignored.
fn source_route(cursor: &mut Cursor<'_>, strictness: Strictness) -> Result<(), PathError> {
    if cursor.peek() != Some(b'@') {
        return Ok(());
    }
    loop {
        if !cursor.eat(b"@") {
            return Err(PathError::Domain);
        }
        domain(cursor, strictness)?;
        if cursor.eat(b":") {
            return Ok(());
        }
        if !cursor.eat(b",") {
            return Err(PathError::Domain);
        }
    }
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )`
pub(super) fn mailbox(cursor: &mut Cursor<'_>, strictness: Strictness) -> Result<Mailbox, PathError> {
    let local = if cursor.peek() == Some(b'"') {
        quoted_string(cursor)?
    } else {
        let raw = cursor.take_while(|b| is_atext(b) || b == b'.');
        if !is_dot_string(raw) {
            return Err(PathError::LocalPart);
        }
        std::str::from_utf8(raw).map_err(|_| PathError::Utf8)?.to_owned()
    };
    if !cursor.eat(b"@") {
        return Err(PathError::Domain);
    }
    let domain = if cursor.peek() == Some(b'[') {
        address_literal(cursor)?
    } else {
        domain(cursor, strictness)?
    };
    Ok(Mailbox { local, domain })
}

/// `Quoted-string = DQUOTE *QcontentSMTP DQUOTE`, returned decoded.
fn quoted_string(cursor: &mut Cursor<'_>) -> Result<String, PathError> {
    cursor.eat(b"\"");
    let mut decoded = Vec::new();
    loop {
        match cursor.bump() {
            Some(b'"') => break,
            // quoted-pairSMTP = %d92 %d32-126
            Some(b'\\') => match cursor.bump() {
                Some(b @ 32..=126) => decoded.push(b),
                _ => return Err(PathError::LocalPart),
            },
            // qtextSMTP = %d32-33 / %d35-91 / %d93-126, plus UTF8-non-ascii (RFC 6531)
            Some(b @ (32..=126 | 0x80..)) => decoded.push(b),
            _ => return Err(PathError::LocalPart),
        }
    }
    String::from_utf8(decoded).map_err(|_| PathError::Utf8)
}

/// `Domain = sub-domain *("." sub-domain)`; `sub-domain = Let-dig [Ldh-str]`, or a
/// U-label (RFC 6531 §3.3). Lenient mode also accepts `_`, which real hosts use.
fn domain(cursor: &mut Cursor<'_>, strictness: Strictness) -> Result<String, PathError> {
    let raw = cursor.take_while(|b| {
        b.is_ascii_alphanumeric()
            || b == b'-'
            || b == b'.'
            || b >= 0x80
            || (b == b'_' && strictness == Strictness::Lenient)
    });
    if raw.is_empty() || raw.len() > MAX_DOMAIN {
        return Err(PathError::Domain);
    }
    let valid_labels = raw
        .split(|&b| b == b'.')
        .all(|label| !label.is_empty() && !label.starts_with(b"-") && !label.ends_with(b"-"));
    if !valid_labels {
        return Err(PathError::Domain);
    }
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| PathError::Utf8)
}

/// `address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
/// General-address-literal ) "]"`, returned with its brackets.
fn address_literal(cursor: &mut Cursor<'_>) -> Result<String, PathError> {
    cursor.eat(b"[");
    // dcontent = %d33-90 / %d94-126
    let inner = cursor.take_while(|b| matches!(b, 33..=90 | 94..=126));
    if !cursor.eat(b"]") {
        return Err(PathError::Domain);
    }
    let inner = std::str::from_utf8(inner).map_err(|_| PathError::Utf8)?;
    if !is_address_literal_content(inner) {
        return Err(PathError::Domain);
    }
    Ok(format!("[{inner}]"))
}

fn is_address_literal_content(inner: &str) -> bool {
    if inner.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    match inner.split_once(':') {
        Some((tag, address)) if tag.eq_ignore_ascii_case("IPv6") => address.parse::<Ipv6Addr>().is_ok(),
        // General-address-literal = Standardized-tag ":" 1*dcontent
        Some((tag, content)) => is_ldh_label(tag.as_bytes()) && !tag.ends_with('-') && !content.is_empty(),
        None => false,
    }
}

fn is_ldh_label(label: &[u8]) -> bool {
    label.first().is_some_and(u8::is_ascii_alphanumeric)
        && label.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
}

/// RFC 5322 `atext`, plus UTF8-non-ascii (RFC 6531 §3.3).
fn is_atext(b: u8) -> bool {
    super::dsn::is_atext(b) || b >= 0x80
}

/// `Dot-string = Atom *("." Atom)`
fn is_dot_string(s: &[u8]) -> bool {
    !s.is_empty()
        && s.split(|&b| b == b'.')
            .all(|atom| !atom.is_empty() && atom.iter().all(|&b| is_atext(b)))
}

/// The domain or address literal given to EHLO/HELO, validated so that it can be
/// copied into a `Received:` header without breaking it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeloName(String);

impl HeloName {
    /// Strict: `Domain / address-literal` (RFC 5321 §4.1.1.1). Lenient: any single
    /// token of letters, digits and `-._:[]` or UTF-8, because desktop clients send
    /// their machine name (`DESKTOP-7F3K_2`) or a bare IP.
    pub(super) fn parse(token: &[u8], strictness: Strictness) -> Option<HeloName> {
        let parsed = match strictness {
            Strictness::Strict => {
                let mut cursor = Cursor::new(token);
                let name = if cursor.peek() == Some(b'[') {
                    address_literal(&mut cursor).ok()?
                } else {
                    domain(&mut cursor, strictness).ok()?
                };
                cursor.is_empty().then_some(name)?
            }
            Strictness::Lenient => {
                let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b) || b >= 0x80;
                if token.is_empty() || token.len() > MAX_DOMAIN || !token.iter().all(|&b| allowed(b)) {
                    return None;
                }
                std::str::from_utf8(token).ok()?.to_owned()
            }
        };
        Some(HeloName(parsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HeloName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fwd(input: &str, strictness: Strictness) -> Result<ForwardPath, PathError> {
        let mut cursor = Cursor::new(input.as_bytes());
        let path = forward_path(&mut cursor, strictness)?;
        assert!(cursor.is_empty(), "trailing input after {input}");
        Ok(path)
    }

    fn mbox(s: &str) -> String {
        match fwd(s, Strictness::Strict) {
            Ok(ForwardPath::Mailbox(m)) => m.to_string(),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn valid_paths_and_their_canonical_form() {
        let cases = [
            ("<tuanna.sttt@thanhhoa.gov.vn>", "tuanna.sttt@thanhhoa.gov.vn"),
            ("<User+Tag@Example.COM>", "User+Tag@Example.COM"),
            ("<\"tuanna.sttt\"@x.vn>", "tuanna.sttt@x.vn"),
            ("<\"john doe\"@x.vn>", "\"john doe\"@x.vn"),
            ("<\"a\\\"b\"@x.vn>", "\"a\\\"b\"@x.vn"),
            ("<@relay.example,@b.example:joe@x.vn>", "joe@x.vn"),
            ("<joe@[192.0.2.1]>", "joe@[192.0.2.1]"),
            ("<joe@[IPv6:2001:db8::1]>", "joe@[IPv6:2001:db8::1]"),
            ("<nguyễn@thanhhoa.gov.vn>", "nguyễn@thanhhoa.gov.vn"),
            ("<a@bücher.example>", "a@bücher.example"),
            ("<!#$%&'*+-/=?^_`{|}~@x.vn>", "!#$%&'*+-/=?^_`{|}~@x.vn"),
        ];
        for (input, canonical) in cases {
            assert_eq!(mbox(input), canonical, "{input}");
        }
    }

    #[test]
    fn invalid_paths() {
        let cases = [
            ("joe@x.vn", PathError::Brackets),
            ("<joe@x.vn", PathError::Brackets),
            ("<joe>", PathError::Domain),
            ("<@x.vn>", PathError::Domain),
            ("<.joe@x.vn>", PathError::LocalPart),
            ("<jo..e@x.vn>", PathError::LocalPart),
            ("<joe.@x.vn>", PathError::LocalPart),
            ("<jo e@x.vn>", PathError::Domain),
            ("<joe@>", PathError::Domain),
            ("<joe@-x.vn>", PathError::Domain),
            ("<joe@x-.vn>", PathError::Domain),
            ("<joe@x..vn>", PathError::Domain),
            ("<joe@x_y.vn>", PathError::Brackets),
            ("<joe@[300.1.1.1]>", PathError::Domain),
            ("<joe@[IPv6:zz]>", PathError::Domain),
            ("<joe@[1.2.3.4>", PathError::Domain),
            ("<\"unterminated@x.vn>", PathError::LocalPart),
            ("<\"a\u{1}b\"@x.vn>", PathError::LocalPart),
            ("<\u{0}@x.vn>", PathError::LocalPart),
            ("<@a.vn,b.vn:joe@x.vn>", PathError::Domain),
        ];
        for (input, error) in cases {
            assert_eq!(fwd(input, Strictness::Strict), Err(error), "{input}");
        }
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let mut cursor = Cursor::new(b"<j\xff@x.vn>");
        assert_eq!(
            forward_path(&mut cursor, Strictness::Strict),
            Err(PathError::Utf8)
        );
        let mut cursor = Cursor::new(b"<j@x\xc3.vn>");
        assert_eq!(
            forward_path(&mut cursor, Strictness::Strict),
            Err(PathError::Utf8)
        );
    }

    #[test]
    fn postmaster_and_null_path() {
        assert_eq!(
            fwd("<Postmaster>", Strictness::Strict),
            Ok(ForwardPath::Postmaster)
        );
        assert_eq!(
            fwd("<POSTMASTER>", Strictness::Strict),
            Ok(ForwardPath::Postmaster)
        );
        assert!(matches!(
            fwd("<postmaster@x.vn>", Strictness::Strict),
            Ok(ForwardPath::Mailbox(_))
        ));
        let mut cursor = Cursor::new(b"<>");
        assert_eq!(
            reverse_path(&mut cursor, Strictness::Strict),
            Ok(ReversePath::Null)
        );
        // The null path is for MAIL only.
        assert!(fwd("<>", Strictness::Strict).is_err());
    }

    #[test]
    fn underscore_domains_only_when_lenient() {
        assert!(fwd("<a@x_y.vn>", Strictness::Strict).is_err());
        assert!(fwd("<a@x_y.vn>", Strictness::Lenient).is_ok());
    }

    #[test]
    fn helo_names() {
        let cases: [(&[u8], Strictness, Option<&str>); 10] = [
            (b"mail.example.vn", Strictness::Strict, Some("mail.example.vn")),
            (b"[192.0.2.7]", Strictness::Strict, Some("[192.0.2.7]")),
            (b"[IPv6:::1]", Strictness::Strict, Some("[IPv6:::1]")),
            (b"DESKTOP-7F3K_2", Strictness::Strict, None),
            (b"DESKTOP-7F3K_2", Strictness::Lenient, Some("DESKTOP-7F3K_2")),
            (b"192.168.1.5", Strictness::Lenient, Some("192.168.1.5")),
            (b"a(b)", Strictness::Lenient, None),
            (b"a;b", Strictness::Lenient, None),
            (b"", Strictness::Lenient, None),
            (b"mail.example.vn.[", Strictness::Strict, None),
        ];
        for (token, strictness, expected) in cases {
            assert_eq!(
                HeloName::parse(token, strictness)
                    .map(|h| h.to_string())
                    .as_deref(),
                expected,
                "{:?}",
                String::from_utf8_lossy(token)
            );
        }
    }

    #[test]
    fn ascii_detection_and_reverse_path_display() {
        let Ok(ForwardPath::Mailbox(m)) = fwd("<nguyễn@x.vn>", Strictness::Strict) else {
            panic!()
        };
        assert!(!m.is_ascii());
        assert_eq!(ReversePath::Mailbox(m).to_string(), "<nguyễn@x.vn>");
        assert_eq!(ReversePath::Null.to_string(), "<>");
    }
}
