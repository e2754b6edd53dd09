//! Walks a message for what the rules look at: the subject, the text parts, and every
//! attachment with its exact decoded size and the decoded bytes the format checks read —
//! including the attachments of forwarded messages (message/rfc822), to a bounded depth.
//!
//! The walker is the policy's own, because a general parser does work the rules do not
//! need: mail-parser decodes every body and scans it a byte at a time for boundaries,
//! which was most of the time spent on a large message. Here
//!
//! - boundaries (RFC 2046 §5.1.1: `--boundary` at the start of a line, `--` after it
//!   closes) and header ends are found with SIMD substring search (`memchr`);
//! - each entity's header block is parsed by mail-parser (names, types, RFC 2047 and
//!   RFC 2231 values, charsets), nothing else;
//! - text parts are decoded whole; attachments only as far as the format checks read
//!   them ([`crate::formats::needs_whole`]: the first KiB, the whole file for zips and
//!   `MZ` files), and their decoded size is counted exactly from the encoded bytes
//!   ([`crate::transfer`]).
//!
//! What is a text part: a `text/plain` or `text/html` part of the message itself (not of
//! a forwarded one) that is not `Content-Disposition: attachment` and is the first part
//! of its multipart or carries no `name` (outside multipart/related, where only the
//! first part is the text) — mail-parser's rule. Everything else that is not a
//! container is an attachment.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{HeaderName, Message, MessageParser, MessagePart, MimeHeaders};
use memchr::{memchr_iter, memmem};

use crate::formats::{SNIFF_LEN, needs_whole};
use crate::transfer::{self, TransferEncoding};

/// Forwarded messages inside forwarded messages are opened this deep.
const MAX_NESTING: usize = 4;
/// Multiparts inside multiparts are opened this deep; real mail nests a few levels.
const MAX_MULTIPART_DEPTH: usize = 32;

/// A text part of the message (the ones a conversion may rewrite); ranges are offsets
/// into the message.
pub struct TextPart {
    pub html: bool,
    pub text: String,
    /// Where the part's header block starts.
    pub header_start: usize,
    /// Its `Content-Type` and `Content-Transfer-Encoding` fields, whole lines.
    pub encoding_fields: Vec<Range<usize>>,
    /// Its body as received.
    pub body: Range<usize>,
}

/// An attachment anywhere in the message.
pub struct Attachment<'a> {
    pub name: Option<String>,
    /// Length of the content once its transfer encoding is removed.
    pub size: u64,
    /// The decoded content: whole when the format checks read past its first
    /// [`SNIFF_LEN`] bytes, else at most those.
    pub data: Cow<'a, [u8]>,
}

impl Attachment<'_> {
    fn into_owned<'b>(self) -> Attachment<'b> {
        Attachment {
            name: self.name,
            size: self.size,
            data: Cow::Owned(self.data.into_owned()),
        }
    }
}

pub struct Walked<'a> {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    /// The `Subject` field, whole line, for a conversion to replace.
    pub subject_field: Option<Range<usize>>,
    pub texts: Vec<TextPart>,
    pub attachments: Vec<Attachment<'a>>,
    /// Forwarded messages or multiparts nested deeper than the limits were not opened.
    pub too_deep: bool,
}

/// mail-parser for header blocks: MIME fields parsed (types, names, charsets), the
/// subject and Message-ID decoded, every other field kept raw.
static HEADERS: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .with_mime_headers()
        .header_text(HeaderName::Subject)
        .header_id(HeaderName::MessageId)
});

/// Where the body starts in an entity: after the first empty line (RFC 5322 §2.1), at
/// the end when there is none.
fn body_start(entity: &[u8]) -> usize {
    if entity.starts_with(b"\r\n") {
        return 2;
    }
    if entity.starts_with(b"\n") {
        return 1;
    }
    for at in memchr_iter(b'\n', entity) {
        match entity.get(at + 1..) {
            Some([b'\n', ..]) => return at + 2,
            Some([b'\r', b'\n', ..]) => return at + 3,
            _ => {}
        }
    }
    entity.len()
}

/// The parts of a multipart body: the ranges between delimiter lines, the line break
/// before a delimiter belonging to it (RFC 2046 §5.1.1). `None` when no delimiter is
/// there. A body that is never closed ends its last part at its end.
fn split_parts(body: &[u8], boundary: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut delimiter = b"\n--".to_vec();
    delimiter.extend_from_slice(boundary);
    let at_start = body.starts_with(&delimiter[1..]).then_some(0);
    let found = at_start
        .into_iter()
        .chain(memmem::find_iter(body, &delimiter).map(|at| at + 1));
    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    let mut any = false;
    for at in found {
        any = true;
        if let Some(start) = open.take() {
            let mut end = at.saturating_sub(1);
            if end > 0 && body[end - 1] == b'\r' {
                end -= 1;
            }
            parts.push(start..end.max(start));
        }
        let after = at + delimiter.len() - 1;
        if body[after..].starts_with(b"--") {
            return Some(parts);
        }
        open = Some(memchr::memchr(b'\n', &body[after..]).map_or(body.len(), |n| after + n + 1));
    }
    if let Some(start) = open {
        parts.push(start..body.len());
    }
    any.then_some(parts)
}

/// The part's transfer encoding, from the raw value of its last
/// `Content-Transfer-Encoding` field (the one mail-parser reads).
fn encoding(part: &MessagePart<'_>, headers: &[u8]) -> TransferEncoding {
    part.headers()
        .iter()
        .rev()
        .find(|h| h.name == HeaderName::ContentTransferEncoding)
        .and_then(|h| headers.get(h.offset_start as usize..h.offset_end as usize))
        .map_or(TransferEncoding::Identity, TransferEncoding::from_header)
}

/// Latin-1 view of raw bytes: legacy 8-bit text sent without a charset.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The subject as decoded (RFC 2047, declared charsets). Raw 8-bit subjects without
/// any declared charset are read as Latin-1 instead of being replaced by U+FFFD, so
/// legacy TCVN3/VNI bytes stay recognisable.
fn subject(message: &Message<'_>, raw: &[u8]) -> Option<String> {
    let decoded = message.subject()?;
    if !decoded.contains('\u{FFFD}') {
        return Some(decoded.to_owned());
    }
    let header = message.headers().iter().find(|h| h.name == HeaderName::Subject)?;
    let bytes = raw.get(header.offset_start as usize..header.offset_end as usize)?;
    Some(latin1(bytes).split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The text of a text part: transfer encoding removed, then the declared charset (as
/// mail-parser reads charsets). Bytes that are neither the declared charset nor UTF-8
/// are read as Latin-1 instead of U+FFFD, so legacy TCVN3/VNI text stays recognisable.
fn text(part: &MessagePart<'_>, encoding: TransferEncoding, received: &[u8]) -> String {
    let decoded = match transfer::decode(encoding, received, usize::MAX) {
        Some(decoded) => Cow::Owned(decoded.head),
        // Not valid in its declared encoding: read as received.
        None => Cow::Borrowed(received),
    };
    let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
    if charset.is_none_or(|c| c.eq_ignore_ascii_case("utf-8"))
        && let Ok(text) = std::str::from_utf8(&decoded)
    {
        return text.to_owned();
    }
    let text = match charset.and_then(|c| charset_decoder(c.as_bytes())) {
        Some(decoder) => decoder(&decoded),
        None => String::from_utf8_lossy(&decoded).into_owned(),
    };
    if text.contains('\u{FFFD}') && std::str::from_utf8(&decoded).is_err() {
        return latin1(&decoded);
    }
    text
}

/// An attachment's decoded size and the decoded bytes its checks read.
fn attachment<'r>(name: Option<String>, encoding: TransferEncoding, received: &'r [u8]) -> Attachment<'r> {
    let as_received = |name| Attachment {
        name,
        size: received.len() as u64,
        data: Cow::Borrowed(received),
    };
    if encoding == TransferEncoding::Identity {
        return as_received(name);
    }
    let decoded = transfer::decode(encoding, received, SNIFF_LEN).and_then(|head| {
        if head.size > head.head.len() as u64 && needs_whole(&head.head) {
            transfer::decode(encoding, received, usize::MAX)
        } else {
            Some(head)
        }
    });
    match decoded {
        Some(decoded) => Attachment {
            name,
            size: decoded.size,
            data: Cow::Owned(decoded.head),
        },
        // Not valid in its declared encoding: checked as received, as mail-parser
        // delivers such parts.
        None => as_received(name),
    }
}

/// Where an entity sits.
#[derive(Clone, Copy)]
struct Place {
    /// Forwarded messages above it.
    nesting: usize,
    /// Multiparts above it, within its message.
    multipart_depth: usize,
    /// First part of its multipart, or the body of a message.
    first: bool,
    in_related: bool,
    in_digest: bool,
}

/// One walk over one buffer: the message, or a forwarded message decoded from it.
struct Walker<'r, 'w> {
    raw: &'r [u8],
    texts: &'w mut Vec<TextPart>,
    attachments: &'w mut Vec<Attachment<'r>>,
    too_deep: &'w mut bool,
}

impl<'r> Walker<'r, '_> {
    /// The entity at `range` of the buffer.
    fn entity(&mut self, range: Range<usize>, place: Place) {
        let entity = self.raw.get(range.clone()).unwrap_or_default();
        let split = body_start(entity);
        let parsed = HEADERS.parse_headers(&entity[..split]);
        let part = parsed.as_ref().and_then(|m| m.parts.first());
        let body = range.start + split..range.end;
        let received = self.raw.get(body.clone()).unwrap_or_default();
        let content_type = part.and_then(|p| p.content_type());
        let (ctype, subtype) = match content_type {
            Some(ct) => (ct.ctype(), ct.subtype().unwrap_or_default()),
            None if place.in_digest => ("message", "rfc822"),
            None => ("text", "plain"),
        };
        let encoding = part.map_or(TransferEncoding::Identity, |p| encoding(p, &entity[..split]));

        if ctype.eq_ignore_ascii_case("multipart")
            && let Some(boundary) = content_type
                .and_then(|ct| ct.attribute("boundary"))
                .filter(|b| !b.is_empty())
            && let Some(parts) = split_parts(received, boundary.as_bytes())
        {
            if place.multipart_depth >= MAX_MULTIPART_DEPTH {
                *self.too_deep = true;
                return;
            }
            for (i, part) in parts.into_iter().enumerate() {
                let inner = Place {
                    multipart_depth: place.multipart_depth + 1,
                    first: i == 0,
                    in_related: subtype.eq_ignore_ascii_case("related"),
                    in_digest: subtype.eq_ignore_ascii_case("digest"),
                    ..place
                };
                self.entity(body.start + part.start..body.start + part.end, inner);
            }
            return;
        }
        if ctype.eq_ignore_ascii_case("message")
            && (subtype.eq_ignore_ascii_case("rfc822") || subtype.eq_ignore_ascii_case("global"))
        {
            if place.nesting + 1 >= MAX_NESTING {
                *self.too_deep = true;
                return;
            }
            if self.forwarded(encoding, body.clone(), place.nesting + 1) {
                return;
            }
            // Not a message after all (no header): checked as an attachment.
        }
        let part_name = part.and_then(|p| p.attachment_name()).map(str::to_owned);
        let is_text = ctype.eq_ignore_ascii_case("text")
            && (subtype.eq_ignore_ascii_case("plain") || subtype.eq_ignore_ascii_case("html"))
            && !part
                .and_then(|p| p.content_disposition())
                .is_some_and(|d| d.is_attachment())
            && (place.first || !place.in_related && !content_type.is_some_and(|ct| ct.has_attribute("name")));
        if is_text && place.nesting > 0 {
            // The text of a forwarded message: neither a text part of this message
            // nor an attachment.
            return;
        }
        if is_text {
            let encoding_fields = part
                .map(|p| p.headers())
                .unwrap_or_default()
                .iter()
                .filter(|h| {
                    matches!(
                        h.name,
                        HeaderName::ContentType | HeaderName::ContentTransferEncoding
                    )
                })
                .map(|h| range.start + h.offset_field as usize..range.start + h.offset_end as usize)
                .collect();
            self.texts.push(TextPart {
                html: subtype.eq_ignore_ascii_case("html"),
                text: part.map_or_else(
                    || String::from_utf8_lossy(received).into_owned(),
                    |p| text(p, encoding, received),
                ),
                header_start: range.start,
                encoding_fields,
                body,
            });
        } else {
            self.attachments.push(attachment(part_name, encoding, received));
        }
    }

    /// A forwarded message: walked in place, or decoded first when it was sent with a
    /// transfer encoding (RFC 2046 §5.2.1 forbids it; some clients do it). `false` when
    /// the body has no header: not a message.
    fn forwarded(&mut self, encoding: TransferEncoding, body: Range<usize>, nesting: usize) -> bool {
        let received = self.raw.get(body.clone()).unwrap_or_default();
        let place = Place {
            nesting,
            multipart_depth: 0,
            first: true,
            in_related: false,
            in_digest: false,
        };
        let is_message = |bytes: &[u8]| HEADERS.parse_headers(&bytes[..body_start(bytes)]).is_some();
        if encoding == TransferEncoding::Identity {
            if !is_message(received) {
                return false;
            }
            self.entity(body, place);
            return true;
        }
        let Some(decoded) = transfer::decode(encoding, received, usize::MAX) else {
            return false;
        };
        let decoded = decoded.head;
        if !is_message(&decoded) {
            return false;
        }
        let mut attachments = Vec::new();
        let mut texts = Vec::new();
        Walker {
            raw: &decoded,
            texts: &mut texts,
            attachments: &mut attachments,
            too_deep: &mut *self.too_deep,
        }
        .entity(0..decoded.len(), place);
        self.attachments
            .extend(attachments.into_iter().map(Attachment::into_owned));
        true
    }
}

/// Walks `raw`; `None` when it has no header at all (not a message).
pub fn walk(raw: &[u8]) -> Option<Walked<'_>> {
    let root = HEADERS.parse_headers(&raw[..body_start(raw)])?;
    let mut walked = Walked {
        message_id: root.message_id().map(str::to_owned),
        subject: subject(&root, raw),
        subject_field: root
            .headers()
            .iter()
            .find(|h| h.name == HeaderName::Subject)
            .map(|h| h.offset_field as usize..h.offset_end as usize),
        texts: Vec::new(),
        attachments: Vec::new(),
        too_deep: false,
    };
    let place = Place {
        nesting: 0,
        multipart_depth: 0,
        first: true,
        in_related: false,
        in_digest: false,
    };
    Walker {
        raw,
        texts: &mut walked.texts,
        attachments: &mut walked.attachments,
        too_deep: &mut walked.too_deep,
    }
    .entity(0..raw.len(), place);
    Some(walked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_ends() {
        for (entity, expected) in [
            (&b"A: 1\r\nB: 2\r\n\r\nbody"[..], 14),
            (b"A: 1\n\nbody", 6),
            (b"\r\nbody", 2),
            (b"\nbody", 1),
            (b"A: 1\r\n", 6),
            (b"", 0),
        ] {
            assert_eq!(
                body_start(entity),
                expected,
                "{:?}",
                String::from_utf8_lossy(entity)
            );
        }
    }

    #[test]
    fn delimiters() {
        fn parts(body: &[u8]) -> Option<Vec<&[u8]>> {
            split_parts(body, b"B").map(|ranges| ranges.into_iter().map(|r| &body[r]).collect())
        }
        let body = b"preamble\r\n--B\r\none\r\n--B \r\ntwo\r\n\r\n--B--\r\nepilogue\r\n--B\r\nnot a part";
        assert_eq!(parts(body), Some(vec![&b"one"[..], b"two\r\n"]));
        // At the very start, LF line ends, never closed.
        assert_eq!(parts(b"--B\nx\n--B\ny"), Some(vec![&b"x"[..], b"y"]));
        // Only at the start of a line: inside a line it is content.
        assert_eq!(parts(b"--B\r\na --B b\r\n--B--"), Some(vec![&b"a --B b"[..]]));
        // Adjacent delimiters: an empty part.
        assert_eq!(parts(b"--B\r\n--B\r\nx\r\n--B--"), Some(vec![&b""[..], b"x"]));
        assert_eq!(parts(b"no delimiter --B here"), None);
    }

    /// The attachment's size is exact and its data is the head, or the whole file when
    /// the checks read past the head.
    #[test]
    fn attachments_keep_what_the_checks_read() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let pdf: Vec<u8> = b"%PDF-1.4\n".iter().copied().cycle().take(5000).collect();
        let mut zip = b"PK\x03\x04".to_vec();
        zip.resize(5000, 0);
        let mut exe = b"MZ".to_vec();
        exe.resize(5000, b'a');
        for (data, whole) in [(pdf, false), (zip, true), (exe, true)] {
            let encoded = STANDARD.encode(&data);
            let a = attachment(None, TransferEncoding::Base64, encoded.as_bytes());
            assert_eq!(a.size, 5000);
            let expected = if whole { &data[..] } else { &data[..SNIFF_LEN] };
            assert_eq!(&a.data[..], expected);
        }
        let a = attachment(None, TransferEncoding::Base64, b"not*base64");
        assert_eq!((a.size, &a.data[..]), (10, &b"not*base64"[..]));
    }
}
