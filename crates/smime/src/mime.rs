//! The top level of a message as S/MIME reads it: its `From:` addresses and where its
//! signature and signed content are (I/O-free, nothing copied but the decoded
//! signature).
//!
//! Only the message's own structure is read, not a signed message forwarded inside a
//! `multipart/mixed` or `message/rfc822`: the result is a statement about the author
//! named in this message's `From:`, and a forwarded signature speaks for someone else.
//!
//! Invariants:
//! 1. The input is CRLF-canonical (the SMTP door makes it so): only CRLF ends a line
//!    here, and the signed content of a `multipart/signed` is exactly the bytes after
//!    the CRLF ending the first delimiter line up to the CRLF before the second
//!    (RFC 2046 §5.1.1: that CRLF belongs to the delimiter; RFC 1847 §2.1,
//!    RFC 8551 §3.5).
//! 2. A delimiter is `--boundary` at the start of a line followed only by transport
//!    padding (spaces, tabs) and CRLF, or by `--` for the closing one; a line that
//!    merely starts with the boundary is content.
//! 3. A `multipart/signed` holds exactly two parts and is closed; anything else is
//!    [`Reason::Malformed`], as are two `Content-Type` fields of which one claims a
//!    signature (readers would disagree on what was signed).
//! 4. A detached signature is read only up to [`MAX_SIGNATURE_PART`] encoded bytes.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use congvu_protocol::rfc5322;
use mail_parser::{Address, ContentType, HeaderName, HeaderValue, Message, MessageParser};
use memchr::memmem;

use crate::Reason;

/// Encoded size of a detached signature part. A signature with a chain of four
/// RSA-4096 certificates is about 12 KiB of base64.
pub(crate) const MAX_SIGNATURE_PART: usize = 256 * 1024;

static HEADERS: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .header_content_type(HeaderName::ContentType)
        .header_text(HeaderName::ContentTransferEncoding)
        .header_address(HeaderName::From)
});

/// Where the signature of a message is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Signed<'a> {
    /// Not an S/MIME signed message at its top level.
    No,
    /// `multipart/signed`: the first part as received, and the CMS object of the second.
    Detached { content: &'a [u8], cms: Vec<u8> },
    /// `application/pkcs7-mime`: the CMS object, content inside.
    Opaque { cms: Vec<u8> },
}

/// What S/MIME reads at the top of a message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TopLevel<'a> {
    /// Every address of every `From:` field, as written.
    pub from: Vec<String>,
    pub signed: Result<Signed<'a>, Reason>,
}

pub(crate) fn read(message: &[u8]) -> TopLevel<'_> {
    let (headers, body) = split(message);
    let Some(parsed) = headers.and_then(|h| HEADERS.parse_headers(h)) else {
        return TopLevel {
            from: Vec::new(),
            signed: Ok(Signed::No),
        };
    };
    TopLevel {
        from: from_addresses(&parsed),
        signed: signed(&parsed, body),
    }
}

/// The header block (with the line end of its last field) and the body, cut by
/// `congvu_protocol::rfc5322` at the first empty line (RFC 5322 §2.1), as everywhere
/// in congvu. No header block when the message starts with the empty line; the body
/// is empty when there is none.
fn split(entity: &[u8]) -> (Option<&[u8]>, &[u8]) {
    let (fields, header) = (rfc5322::fields_len(entity), rfc5322::header_len(entity));
    let body = entity.get(header..).unwrap_or_default();
    if fields == 0 && header > 0 {
        return (None, body);
    }
    (entity.get(..fields), body)
}

fn from_addresses(parsed: &Message<'_>) -> Vec<String> {
    let mut from = Vec::new();
    for header in parsed.headers().iter().filter(|h| h.name == HeaderName::From) {
        let HeaderValue::Address(address) = &header.value else {
            continue;
        };
        let entries: Vec<_> = match address {
            Address::List(list) => list.iter().collect(),
            Address::Group(groups) => groups.iter().flat_map(|g| g.addresses.iter()).collect(),
        };
        from.extend(
            entries
                .into_iter()
                .filter_map(|a| a.address.as_deref().map(str::to_owned)),
        );
    }
    from
}

/// The signature structure the top-level `Content-Type` announces.
fn signed<'a>(parsed: &Message<'_>, body: &'a [u8]) -> Result<Signed<'a>, Reason> {
    let kinds: Vec<Kind> = content_types(parsed)
        .iter()
        .map(|ct| kind(ct.ctype(), ct.subtype().unwrap_or(""), |name| ct.attribute(name)))
        .collect();
    match kinds.as_slice() {
        [Kind::Detached { boundary }] => detached(body, boundary.as_bytes()),
        [Kind::Opaque] => decoded(is_base64(parsed), body).map(|cms| Signed::Opaque { cms }),
        several if several.iter().any(|k| *k != Kind::Other) && several.len() > 1 => Err(Reason::Malformed),
        _ => Ok(Signed::No),
    }
}

/// Every `Content-Type` field of a header block.
fn content_types<'p>(parsed: &'p Message<'_>) -> Vec<&'p ContentType<'p>> {
    parsed
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::ContentType)
        .filter_map(|h| h.value.as_content_type())
        .collect()
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Detached { boundary: String },
    Opaque,
    Other,
}

/// What a `Content-Type` announces: `multipart/signed` with an S/MIME protocol
/// (RFC 8551 §3.5), or `application/pkcs7-mime` that is (or may be) signed-data
/// (RFC 8551 §3.2.2: without `smime-type` the CMS content type decides). A
/// `multipart/signed` without a boundary keeps an empty one, which [`detached`]
/// refuses as malformed rather than reading the message as unsigned.
fn kind<'a>(ctype: &str, subtype: &str, attribute: impl Fn(&str) -> Option<&'a str>) -> Kind {
    if ctype.eq_ignore_ascii_case("multipart") && subtype.eq_ignore_ascii_case("signed") {
        let protocol = attribute("protocol").unwrap_or("");
        if is_signature_type(protocol) {
            let boundary = attribute("boundary").unwrap_or("").to_owned();
            return Kind::Detached { boundary };
        }
        return Kind::Other;
    }
    if ctype.eq_ignore_ascii_case("application") && is_pkcs7_mime(subtype) {
        let smime_type = attribute("smime-type");
        if smime_type.is_none_or(|t| t.eq_ignore_ascii_case("signed-data")) {
            return Kind::Opaque;
        }
    }
    Kind::Other
}

fn is_pkcs7_mime(subtype: &str) -> bool {
    subtype.eq_ignore_ascii_case("pkcs7-mime") || subtype.eq_ignore_ascii_case("x-pkcs7-mime")
}

/// `application/pkcs7-signature` or its pre-standard `x-` form (RFC 8551 §3.5).
fn is_signature_type(media_type: &str) -> bool {
    let media_type = media_type.trim();
    media_type.eq_ignore_ascii_case("application/pkcs7-signature")
        || media_type.eq_ignore_ascii_case("application/x-pkcs7-signature")
}

/// RFC 4648 §4 alphabet; the padding may be left out, as some agents do.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// True when the entity declares `Content-Transfer-Encoding: base64`; a CMS object
/// under any other encoding (`binary`, none) is read as it is.
fn is_base64(parsed: &Message<'_>) -> bool {
    parsed
        .headers()
        .iter()
        .find(|h| h.name == HeaderName::ContentTransferEncoding)
        .and_then(|h| h.value.as_text())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("base64"))
}

/// `body` with its transfer encoding removed; base64 with a character outside its
/// alphabet (line breaks and the spaces around lines aside, RFC 2045 §6.8) is
/// malformed.
fn decoded(base64: bool, body: &[u8]) -> Result<Vec<u8>, Reason> {
    if !base64 {
        return Ok(body.to_vec());
    }
    // Line by line (memchr, copies of whole lines): an opaque signature holds the
    // whole message, megabytes of base64.
    let mut compact = Vec::with_capacity(body.len());
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', body).chain([body.len()]) {
        compact.extend_from_slice(body.get(start..end).unwrap_or_default().trim_ascii());
        start = end + 1;
    }
    BASE64.decode(compact).map_err(|_| Reason::Malformed)
}

/// The two parts of a `multipart/signed` body: the first as received, the second's CMS
/// object decoded.
fn detached<'a>(body: &'a [u8], boundary: &[u8]) -> Result<Signed<'a>, Reason> {
    if boundary.is_empty() {
        return Err(Reason::Malformed);
    }
    let mut delimiters = delimiters(body, boundary);
    let (Some(first), Some(second), Some(close)) = (delimiters.next(), delimiters.next(), delimiters.next())
    else {
        return Err(Reason::Malformed);
    };
    if first.closing || second.closing || !close.closing {
        return Err(Reason::Malformed);
    }
    let content = body
        .get(first.next..second.start.saturating_sub(2))
        .ok_or(Reason::Malformed)?;
    let signature = body
        .get(second.next..close.start.saturating_sub(2))
        .ok_or(Reason::Malformed)?;
    if signature.len() > MAX_SIGNATURE_PART {
        return Err(Reason::TooLarge);
    }
    let (headers, encoded) = split(signature);
    let parsed = headers
        .and_then(|h| HEADERS.parse_headers(h))
        .ok_or(Reason::Malformed)?;
    let is_signature =
        |ct: &ContentType<'_>| is_signature_type(&format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")));
    if !matches!(content_types(&parsed).as_slice(), [ct] if is_signature(ct)) {
        return Err(Reason::Malformed);
    }
    let cms = decoded(is_base64(&parsed), encoded)?;
    Ok(Signed::Detached { content, cms })
}

/// A delimiter line of a multipart body.
#[derive(Debug, PartialEq, Eq)]
struct Delimiter {
    /// Offset of its `--`.
    start: usize,
    /// Offset after its CRLF (the body's end when it has none).
    next: usize,
    closing: bool,
}

/// The delimiter lines of `boundary` in `body`, in order (invariant 2).
fn delimiters<'b>(body: &'b [u8], boundary: &'b [u8]) -> impl Iterator<Item = Delimiter> + 'b {
    let mut line_start = b"\r\n--".to_vec();
    line_start.extend_from_slice(boundary);
    let at_start = body.starts_with(&line_start[2..]).then_some(0);
    let found: Vec<usize> = memmem::find_iter(body, &line_start).map(|at| at + 2).collect();
    at_start.into_iter().chain(found).filter_map(move |start| {
        let after = start + 2 + boundary.len();
        let rest = body.get(after..)?;
        if rest.starts_with(b"--") {
            let next = memmem::find(rest, b"\r\n").map_or(body.len(), |n| after + n + 2);
            return Some(Delimiter {
                start,
                next,
                closing: true,
            });
        }
        let padding = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        let rest = rest.get(padding..)?;
        if rest.is_empty() || rest.starts_with(b"\r\n") {
            let next = (after + padding + 2).min(body.len());
            return Some(Delimiter {
                start,
                next,
                closing: false,
            });
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_of(message: &[u8]) -> Result<Signed<'_>, Reason> {
        read(message).signed
    }

    const SIGNED: &[u8] = b"Received: from x\r\nFrom: A <a@x.vn>\r\nContent-Type: multipart/signed;\r\n \
        protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"B\"\r\n\r\n\
        preamble\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n\r\n--B \r\n\
        Content-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n\
        MAMCAQE=\r\n--B--\r\nepilogue\r\n";

    #[test]
    fn multipart_signed_splits_at_the_delimiters() {
        let top = read(SIGNED);
        assert_eq!(top.from, vec!["a@x.vn".to_owned()]);
        assert_eq!(
            top.signed,
            Ok(Signed::Detached {
                content: b"Content-Type: text/plain\r\n\r\nhi\r\n",
                cms: vec![0x30, 0x03, 0x02, 0x01, 0x01],
            })
        );
    }

    #[test]
    fn longer_boundaries_are_content_and_the_structure_must_close() {
        let with_lookalike = String::from_utf8_lossy(SIGNED).replace("hi\r\n", "hi\r\n--BX\r\n");
        let Ok(Signed::Detached { content, .. }) = signed_of(with_lookalike.as_bytes()) else {
            panic!("not split");
        };
        assert!(content.ends_with(b"--BX\r\n"));
        let unclosed = String::from_utf8_lossy(SIGNED).replace("--B--", "--C--");
        assert_eq!(signed_of(unclosed.as_bytes()), Err(Reason::Malformed));
        let three = String::from_utf8_lossy(SIGNED).replace("--B--", "--B\r\nx\r\n--B--");
        assert_eq!(signed_of(three.as_bytes()), Err(Reason::Malformed));
        let no_boundary = String::from_utf8_lossy(SIGNED).replace("boundary=\"B\"", "x=y");
        assert_eq!(signed_of(no_boundary.as_bytes()), Err(Reason::Malformed));
    }

    #[test]
    fn the_signature_part_must_be_a_signature_in_valid_base64() {
        let wrong_type = String::from_utf8_lossy(SIGNED).replace(
            "Content-Type: application/pkcs7-signature\r\n",
            "Content-Type: text/plain\r\n",
        );
        assert_eq!(signed_of(wrong_type.as_bytes()), Err(Reason::Malformed));
        let garbage = String::from_utf8_lossy(SIGNED).replace("MAMCAQE=", "not base64 at all!");
        assert_eq!(signed_of(garbage.as_bytes()), Err(Reason::Malformed));
        let huge = String::from_utf8_lossy(SIGNED).replace("MAMCAQE=", &"A".repeat(MAX_SIGNATURE_PART));
        assert_eq!(signed_of(huge.as_bytes()), Err(Reason::TooLarge));
    }

    #[test]
    fn other_shapes() {
        assert_eq!(
            signed_of(b"From: a@x.vn\r\nSubject: hi\r\n\r\nbody\r\n"),
            Ok(Signed::No)
        );
        assert_eq!(signed_of(b""), Ok(Signed::No));
        assert_eq!(signed_of(b"\r\n\r\n"), Ok(Signed::No));
        let pgp =
            b"Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=B\r\n\r\n";
        assert_eq!(signed_of(pgp), Ok(Signed::No));
        let enveloped = b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMAA=\r\n";
        assert_eq!(signed_of(enveloped), Ok(Signed::No));
        let opaque = b"Content-Type: application/x-pkcs7-mime; smime-type=signed-data\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nMAA=\r\n";
        assert_eq!(
            signed_of(opaque),
            Ok(Signed::Opaque {
                cms: vec![0x30, 0x00]
            })
        );
        let twice = b"Content-Type: text/plain\r\nContent-Type: application/pkcs7-mime\r\n\r\nMAA=\r\n";
        assert_eq!(signed_of(twice), Err(Reason::Malformed));
    }
}
