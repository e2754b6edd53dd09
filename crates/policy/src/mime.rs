//! Walks a message for what the rules look at: the subject, the message's text, and
//! every leaf part with its role in the mail's structure, its exact decoded size and the
//! decoded bytes its checks read — forwarded messages (message/rfc822), opaque-signed
//! S/MIME content, Outlook's `winmail.dat` and files encoded inside text bodies
//! included, to bounded depths.
//!
//! ## Roles: documents and the structure of a mail
//!
//! Art. 6.1 governs the documents sent, not the parts every mail client writes. A leaf
//! part is one of ([`Role`]):
//! - a **body** alternative: `text/plain` or `text/html`, not `Content-Disposition:
//!   attachment`, without a file name (a named part is a file, inline or not);
//! - an **inline image**: an image whose `Content-ID` the HTML references (`cid:`);
//! - an S/MIME **signature** (`application/pkcs7-signature`, `x-` form, or `.p7s`);
//! - a **calendar** invitation (`text/calendar`), a **card** (`text/vcard`), a delivery
//!   **report** (`message/delivery-status`, `message/disposition-notification`, …);
//! - **TNEF** (`application/ms-tnef`, or named `winmail.dat`): the files inside are read
//!   ([`crate::tnef`]) and become documents;
//! - **pkcs7-mime**: signed data is opened and its content walked as part of the
//!   message; encrypted data is flagged ([`Walked::encrypted`]);
//! - everything else is a **document**.
//!
//! Files encoded inside any body (uuencode, BinHex, yEnc: [`crate::embedded`]) are
//! documents too. The evaluation checks every part for code whatever its role, documents
//! against the allowed formats, and the other roles only for what they claim to be.
//!
//! ## Invariants
//! 1. Limits ([`LimitsRule`]): leaf parts, multipart depth and forwarded-message depth;
//!    past one the walk stops and [`Walked::too_complex`] says why (the message is then
//!    refused: what is not walked could hide code).
//! 2. Every decoding beyond a part's first KiB (whole files, forwarded messages sent
//!    encoded, TNEF, signed content, embedded files) is charged to the message's
//!    [`Budget`] first.
//! 3. The cap (Art. 9) counts every leaf part ([`Part::counted`]) except the first
//!    `text/plain` and the first `text/html` body of the message itself; containers
//!    whose files are listed (TNEF, pkcs7 signed data) count once, through their files.
//!
//! Boundaries (RFC 2046 §5.1.1) and header ends are found with SIMD substring search
//! (`memchr`); each header block is parsed by mail-parser (types, RFC 2047 and RFC 2231
//! values, charsets), nothing else. Attachments are decoded only as far as the checks
//! read them ([`crate::formats::sniff_len`]); their size is counted exactly from the
//! encoded bytes ([`crate::transfer`]).

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use congvu_protocol::rfc5322;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{HeaderName, Message, MessageParser, MessagePart, MimeHeaders};
use memchr::memmem;

use crate::cms::{self, Pkcs7};
use crate::config::LimitsRule;
use crate::embedded;
use crate::formats::{Budget, SNIFF_LEN, file_name, is_code_name, sniff_len};
use crate::tnef;
use crate::transfer::{self, TransferEncoding};

/// A text part of the message (the ones a conversion may rewrite); ranges are offsets
/// into the message (meaningless inside signed content, which is never rewritten).
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

/// What a leaf part is in the mail's structure (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Body,
    InlineImage,
    Signature,
    Calendar,
    Card,
    Report,
    Tnef,
    Pkcs7,
    Document,
}

/// A leaf part anywhere in the message.
pub struct Part<'a> {
    pub role: Role,
    /// The file name as sent (RFC 2047/2231 decoded by mail-parser).
    pub name: Option<String>,
    /// The file it was found in (`winmail.dat`, `the message text`), for messages.
    pub container: Option<String>,
    pub content_id: Option<String>,
    /// Length of the content once its transfer encoding is removed.
    pub size: u64,
    /// The decoded content: whole when the checks read past its first
    /// [`SNIFF_LEN`] bytes, else at most what they read.
    pub data: Cow<'a, [u8]>,
    /// Counted by the attachment cap.
    pub counted: bool,
}

impl Part<'_> {
    fn into_owned<'b>(self) -> Part<'b> {
        Part {
            data: Cow::Owned(self.data.into_owned()),
            role: self.role,
            name: self.name,
            container: self.container,
            content_id: self.content_id,
            size: self.size,
            counted: self.counted,
        }
    }

    /// How the part is named in messages: `winmail.dat/a.exe`, or its name.
    pub fn path(&self) -> Option<String> {
        match (&self.container, &self.name) {
            (Some(container), Some(name)) => Some(format!("{container}/{name}")),
            (Some(container), None) => Some(container.clone()),
            (None, name) => name.clone(),
        }
    }
}

/// A file decoded by the walk that a MIME reader would not see by itself (the files of
/// a TNEF stream, uuencode/BinHex/yEnc blocks): for the antivirus stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractedFile {
    pub name: Option<String>,
    pub data: Vec<u8>,
}

pub struct Walked<'a> {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    /// The `Subject` field, whole line, for a conversion to replace.
    pub subject_field: Option<Range<usize>>,
    pub texts: Vec<TextPart>,
    /// The subjects and text bodies of forwarded messages (checked for stamps; never
    /// rewritten).
    pub quoted: Vec<String>,
    pub parts: Vec<Part<'a>>,
    /// The limit that stopped the walk, if one did.
    pub too_complex: Option<&'static str>,
    /// Encrypted S/MIME content (or pkcs7-mime that cannot be read) was found.
    pub encrypted: bool,
    /// The message carries an S/MIME signature (multipart/signed or pkcs7-mime): its
    /// bytes must not change.
    pub signed: bool,
    pub extracted: Vec<ExtractedFile>,
}

/// mail-parser for header blocks: MIME fields parsed (types, names, charsets), the
/// subject and Message-ID decoded, every other field kept raw.
static HEADERS: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .with_mime_headers()
        .header_text(HeaderName::Subject)
        .header_id(HeaderName::MessageId)
});

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
        let after = at + delimiter.len() - 1;
        let rest = body.get(after..).unwrap_or_default();
        // Only the whole boundary is a delimiter: `--L1` does not end at `--L10`
        // (RFC 2046 §5.1.1: then `--`, or optional white space and the line break).
        let line_end = rest.iter().position(|b| !matches!(b, b' ' | b'\t'));
        let whole =
            rest.starts_with(b"--") || line_end.is_none_or(|n| matches!(rest.get(n), Some(b'\r' | b'\n')));
        if !whole {
            continue;
        }
        any = true;
        if let Some(start) = open.take() {
            let mut end = at.saturating_sub(1);
            if end > 0 && body[end - 1] == b'\r' {
                end -= 1;
            }
            parts.push(start..end.max(start));
        }
        if rest.starts_with(b"--") {
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

/// A text body decoded: transfer encoding removed, then the declared charset (as
/// mail-parser reads charsets). Bytes that are neither the declared charset nor UTF-8
/// are read as Latin-1 instead of U+FFFD, so legacy TCVN3/VNI text stays recognisable.
struct Text {
    text: String,
    /// The bytes before the charset was applied (what code sniffing reads).
    bytes: Vec<u8>,
}

fn text(part: Option<&MessagePart<'_>>, encoding: TransferEncoding, received: &[u8]) -> Text {
    let bytes = match transfer::decode(encoding, received, usize::MAX) {
        Some(decoded) => decoded.head,
        // Not valid in its declared encoding: read as received.
        None => received.to_vec(),
    };
    let charset = part
        .and_then(|p| p.content_type())
        .and_then(|ct| ct.attribute("charset"));
    let text = if charset.is_none_or(|c| c.eq_ignore_ascii_case("utf-8"))
        && let Ok(text) = std::str::from_utf8(&bytes)
    {
        text.to_owned()
    } else {
        let text = match charset.and_then(|c| charset_decoder(c.as_bytes())) {
            Some(decoder) => decoder(&bytes),
            None => String::from_utf8_lossy(&bytes).into_owned(),
        };
        if text.contains('\u{FFFD}') && std::str::from_utf8(&bytes).is_err() {
            latin1(&bytes)
        } else {
            text
        }
    };
    Text { text, bytes }
}

/// `cid:` references in an HTML body (RFC 2392), lower-cased, without the scheme.
fn cid_references(html: &str) -> impl Iterator<Item = String> + '_ {
    let bytes = html.as_bytes();
    memmem::find_iter(bytes, b"cid:").filter_map(move |at| {
        let rest = bytes.get(at + 4..)?;
        let end = rest
            .iter()
            .position(|b| matches!(b, b'"' | b'\'' | b'>' | b' ' | b')' | b'\r' | b'\n'))
            .unwrap_or(rest.len());
        let id = String::from_utf8_lossy(rest.get(..end)?);
        // RFC 2392 §2: the reference is URL-encoded; ids are compared as written.
        Some(id.replace("%40", "@").to_ascii_lowercase())
    })
}

/// The role a leaf part's type and name give it (bodies and TNEF by name decided by
/// the caller; inline images once the HTML has been read).
fn role_of(mime: &str, name: Option<&str>, attachment: bool) -> Role {
    let ext = name
        .map(file_name)
        .and_then(|n| n.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()));
    match mime {
        "application/pkcs7-signature" | "application/x-pkcs7-signature" => Role::Signature,
        "application/pkcs7-mime" | "application/x-pkcs7-mime" => Role::Pkcs7,
        "application/ms-tnef" | "application/vnd.ms-tnef" => Role::Tnef,
        "text/calendar" | "application/ics" => Role::Calendar,
        "text/vcard" | "text/x-vcard" | "text/directory" => Role::Card,
        "message/delivery-status"
        | "message/global-delivery-status"
        | "message/disposition-notification"
        | "message/global-disposition-notification"
        | "message/feedback-report"
        | "text/rfc822-headers"
        | "message/global-headers" => Role::Report,
        "text/plain" | "text/html" if !attachment && name.is_none() => Role::Body,
        _ if name.is_some_and(|n| file_name(n).eq_ignore_ascii_case("winmail.dat")) => Role::Tnef,
        _ => match ext.as_deref() {
            Some("p7s") => Role::Signature,
            Some("p7m") => Role::Pkcs7,
            _ => Role::Document,
        },
    }
}

/// Where an entity sits.
#[derive(Clone, Copy)]
struct Place {
    /// Forwarded messages above it.
    nesting: u32,
    /// Multiparts above it, within its message.
    multipart_depth: u32,
    in_digest: bool,
}

/// What the whole walk shares, whatever buffer it is in.
struct State<'l> {
    limits: &'l LimitsRule,
    texts: Vec<TextPart>,
    quoted: Vec<String>,
    cids: Vec<String>,
    too_complex: Option<&'static str>,
    encrypted: bool,
    signed: bool,
    extracted: Vec<ExtractedFile>,
    leaves: u32,
    /// The message's first text/plain and text/html bodies were seen (cap exemption).
    seen_plain: bool,
    seen_html: bool,
}

/// One walk over one buffer: the message, or content decoded from it.
struct Walker<'r, 's, 'l> {
    raw: &'r [u8],
    parts: Vec<Part<'r>>,
    state: &'s mut State<'l>,
    budget: &'s mut Budget,
}

impl<'r> Walker<'r, '_, '_> {
    fn stop(&mut self, why: &'static str) {
        self.state.too_complex.get_or_insert(why);
    }

    /// The entity at `range` of the buffer.
    fn entity(&mut self, range: Range<usize>, place: Place) {
        if self.state.too_complex.is_some() {
            return;
        }
        let entity = self.raw.get(range.clone()).unwrap_or_default();
        let split = rfc5322::header_len(entity);
        let parsed = HEADERS.parse_headers(&entity[..split]);
        if place.nesting > 0
            && let Some(subject) = parsed.as_ref().and_then(|m| m.subject())
        {
            self.state.quoted.push(subject.to_owned());
        }
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
            if place.multipart_depth >= self.state.limits.max_multipart_depth {
                return self.stop("multiparts nested too deep");
            }
            if subtype.eq_ignore_ascii_case("signed") {
                self.state.signed = true;
            }
            for part in parts {
                let inner = Place {
                    multipart_depth: place.multipart_depth + 1,
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
            if place.nesting >= self.state.limits.max_forward_depth {
                return self.stop("forwarded messages nested too deep");
            }
            if self.forwarded(encoding, body.clone(), place.nesting + 1) {
                return;
            }
            // Not a message after all (no header): checked as a document.
        }
        self.state.leaves += 1;
        if self.state.leaves > self.state.limits.max_parts {
            return self.stop("too many parts");
        }
        let name = part.and_then(part_name);
        let attachment = part
            .and_then(|p| p.content_disposition())
            .is_some_and(|d| d.is_attachment());
        let mime = format!("{ctype}/{subtype}").to_ascii_lowercase();
        let content_id = part
            .and_then(|p| p.content_id())
            .map(|id| id.trim_matches(['<', '>', ' ']).to_ascii_lowercase());
        match role_of(&mime, name.as_deref(), attachment) {
            Role::Body => {
                let html = mime == "text/html";
                let decoded = text(part, encoding, received);
                let first = place.nesting == 0
                    && !std::mem::replace(
                        if html {
                            &mut self.state.seen_html
                        } else {
                            &mut self.state.seen_plain
                        },
                        true,
                    );
                if html {
                    self.state.cids.extend(cid_references(&decoded.text));
                }
                self.embedded_files(&decoded.bytes);
                self.parts.push(Part {
                    role: Role::Body,
                    name: None,
                    container: None,
                    content_id,
                    size: decoded.bytes.len() as u64,
                    data: Cow::Owned(decoded.bytes.get(..SNIFF_LEN).unwrap_or(&decoded.bytes).to_vec()),
                    counted: !first,
                });
                if place.nesting == 0 {
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
                    self.state.texts.push(TextPart {
                        html,
                        text: decoded.text,
                        header_start: range.start,
                        encoding_fields,
                        body,
                    });
                } else {
                    self.state.quoted.push(decoded.text);
                }
            }
            Role::Pkcs7 => self.pkcs7(name, encoding, received, place),
            Role::Tnef => self.tnef(name, content_id, encoding, received),
            role => {
                if let Some(part) = self.file(role, name, content_id, encoding, received) {
                    self.parts.push(part);
                }
            }
        }
    }

    /// A leaf decoded as far as its checks read; `None` (and the walk stopped) when
    /// the budget does not cover it.
    fn file(
        &mut self,
        role: Role,
        name: Option<String>,
        content_id: Option<String>,
        encoding: TransferEncoding,
        received: &'r [u8],
    ) -> Option<Part<'r>> {
        let part = |size, data| Part {
            role,
            name,
            container: None,
            content_id,
            size,
            data,
            counted: true,
        };
        let head = received.get(..SNIFF_LEN.min(received.len())).unwrap_or_default();
        if encoding == TransferEncoding::Identity {
            let want = sniff_len(head);
            if want == usize::MAX && !self.budget.take_bytes(received.len() as u64) {
                self.stop("decoding budget exhausted");
                return None;
            }
            let data = received.get(..want.min(received.len())).unwrap_or(received);
            return Some(part(received.len() as u64, Cow::Borrowed(data)));
        }
        let Some(head) = transfer::decode(encoding, received, SNIFF_LEN) else {
            // Not valid in its declared encoding: checked as received, as mail-parser
            // delivers such parts.
            let data = received.get(..SNIFF_LEN.min(received.len())).unwrap_or(received);
            return Some(part(received.len() as u64, Cow::Borrowed(data)));
        };
        let want = sniff_len(&head.head);
        if head.size <= head.head.len() as u64 || want == SNIFF_LEN {
            return Some(part(head.size, Cow::Owned(head.head)));
        }
        let charge = if want == usize::MAX {
            head.size
        } else {
            want as u64
        };
        if !self.budget.take_bytes(charge) {
            self.stop("decoding budget exhausted");
            return None;
        }
        let more = transfer::decode(encoding, received, want).map_or(head.head, |d| d.head);
        Some(part(head.size, Cow::Owned(more)))
    }

    /// A body decoded whole, charged to the budget; `None` (walk stopped) past it.
    fn whole(&mut self, encoding: TransferEncoding, received: &'r [u8]) -> Option<Cow<'r, [u8]>> {
        if encoding == TransferEncoding::Identity {
            return Some(Cow::Borrowed(received));
        }
        let decoded =
            transfer::decode(encoding, received, usize::MAX).map_or_else(|| received.to_vec(), |d| d.head);
        if !self.budget.take_bytes(decoded.len() as u64) {
            self.stop("decoding budget exhausted");
            return None;
        }
        Some(Cow::Owned(decoded))
    }

    /// Files written inside a body in uuencode, BinHex or yEnc: documents.
    fn embedded_files(&mut self, bytes: &[u8]) {
        match embedded::files(bytes, self.budget) {
            Ok(files) => {
                for file in files {
                    self.extracted(file.name, file.data, format!("({})", file.encoding));
                }
            }
            Err(embedded::OverBudget) => self.stop("decoding budget exhausted"),
        }
    }

    /// A file decoded from inside another: a document, for the checks and the antivirus.
    fn extracted(&mut self, name: Option<String>, data: Vec<u8>, container: String) {
        self.parts.push(Part {
            role: Role::Document,
            name: name.clone(),
            container: Some(container),
            content_id: None,
            size: data.len() as u64,
            data: Cow::Owned(data.clone()),
            // Counted through the part that carries it.
            counted: false,
        });
        self.state.extracted.push(ExtractedFile { name, data });
    }

    /// Outlook's TNEF: its files are documents; a stream that cannot be read is an
    /// unknown document itself.
    fn tnef(
        &mut self,
        name: Option<String>,
        content_id: Option<String>,
        encoding: TransferEncoding,
        received: &'r [u8],
    ) {
        let Some(data) = self.whole(encoding, received) else {
            return;
        };
        let container = name.clone().unwrap_or_else(|| "winmail.dat".to_owned());
        let (role, files) = match tnef::files(&data, self.budget) {
            Ok(files) => (Role::Tnef, files),
            Err(tnef::TnefError::Budget) => return self.stop("decoding budget exhausted"),
            Err(_) => (Role::Document, Vec::new()),
        };
        let head = data.get(..SNIFF_LEN).unwrap_or(&data).to_vec();
        self.parts.push(Part {
            role,
            name,
            container: None,
            content_id,
            size: data.len() as u64,
            data: Cow::Owned(head),
            counted: true,
        });
        for file in files {
            self.extracted(file.name, file.data, container.clone());
        }
    }

    /// S/MIME pkcs7-mime: signed content walked as part of the message, anything else
    /// flagged as encrypted.
    fn pkcs7(&mut self, name: Option<String>, encoding: TransferEncoding, received: &'r [u8], place: Place) {
        self.state.signed = true;
        let Some(der) = self.whole(encoding, received) else {
            return;
        };
        match cms::read(&der) {
            Pkcs7::Signed(content) => {
                let inner = Place {
                    multipart_depth: place.multipart_depth + 1,
                    ..place
                };
                if place.multipart_depth >= self.state.limits.max_multipart_depth {
                    return self.stop("multiparts nested too deep");
                }
                self.nested(&content, inner);
            }
            Pkcs7::Encrypted | Pkcs7::Opaque => {
                self.state.encrypted = true;
                self.parts.push(Part {
                    role: Role::Pkcs7,
                    name,
                    container: None,
                    content_id: None,
                    size: der.len() as u64,
                    data: Cow::Owned(der.get(..SNIFF_LEN).unwrap_or(&der).to_vec()),
                    counted: true,
                });
            }
        }
    }

    /// Walks an entity decoded into its own buffer, keeping its parts.
    fn nested(&mut self, buffer: &[u8], place: Place) {
        let mut walker = Walker {
            raw: buffer,
            parts: Vec::new(),
            state: &mut *self.state,
            budget: &mut *self.budget,
        };
        walker.entity(0..buffer.len(), place);
        let parts = walker.parts;
        self.parts.extend(parts.into_iter().map(Part::into_owned));
    }

    /// A forwarded message: walked in place, or decoded first when it was sent with a
    /// transfer encoding (RFC 2046 §5.2.1 forbids it; some clients do it). `false` when
    /// the body has no header: not a message.
    fn forwarded(&mut self, encoding: TransferEncoding, body: Range<usize>, nesting: u32) -> bool {
        let received = self.raw.get(body.clone()).unwrap_or_default();
        let place = Place {
            nesting,
            multipart_depth: 0,
            in_digest: false,
        };
        let is_message = |bytes: &[u8]| {
            HEADERS
                .parse_headers(&bytes[..rfc5322::header_len(bytes)])
                .is_some()
        };
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
        if !self.budget.take_bytes(decoded.len() as u64) {
            self.stop("decoding budget exhausted");
            return true;
        }
        self.nested(&decoded, place);
        true
    }
}

/// Walks `raw` within `limits`, decoding on `budget`; `None` when it has no header at
/// all (not a message).
pub fn walk<'a>(raw: &'a [u8], limits: &LimitsRule, budget: &mut Budget) -> Option<Walked<'a>> {
    let root = HEADERS.parse_headers(&raw[..rfc5322::header_len(raw)])?;
    let mut state = State {
        limits,
        texts: Vec::new(),
        quoted: Vec::new(),
        cids: Vec::new(),
        too_complex: None,
        encrypted: false,
        signed: false,
        extracted: Vec::new(),
        leaves: 0,
        seen_plain: false,
        seen_html: false,
    };
    let place = Place {
        nesting: 0,
        multipart_depth: 0,
        in_digest: false,
    };
    let mut walker = Walker {
        raw,
        parts: Vec::new(),
        state: &mut state,
        budget,
    };
    walker.entity(0..raw.len(), place);
    let mut parts = walker.parts;
    // Images the HTML shows are part of the text, not documents.
    for part in &mut parts {
        if part.role == Role::Document && part.content_id.as_ref().is_some_and(|id| state.cids.contains(id)) {
            part.role = Role::InlineImage;
        }
    }
    Some(Walked {
        message_id: root.message_id().map(str::to_owned),
        subject: subject(&root, raw),
        subject_field: root
            .headers()
            .iter()
            .find(|h| h.name == HeaderName::Subject)
            .map(|h| h.offset_field as usize..h.offset_end as usize),
        texts: state.texts,
        quoted: state.quoted,
        parts,
        too_complex: state.too_complex,
        encrypted: state.encrypted,
        signed: state.signed,
        extracted: state.extracted,
    })
}

/// The name a part is judged by. A part may carry several — `filename=` twice in
/// `Content-Disposition`, or a Content-Type `name=` that differs from it — and mail
/// clients disagree on which one they show and save under. When they disagree the
/// most dangerous reading wins: an executable's or script's name if any of them is
/// one, else the one mail-parser reads first (`filename`, then `name`).
fn part_name(part: &MessagePart<'_>) -> Option<String> {
    let given = |header: Option<&mail_parser::ContentType<'_>>, key: &str| -> Vec<String> {
        header
            .and_then(|h| h.attributes())
            .unwrap_or_default()
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case(key))
            .map(|a| a.value.to_string())
            .collect()
    };
    let mut names = given(part.content_disposition(), "filename");
    names.extend(given(part.content_type(), "name"));
    names
        .iter()
        .find(|name| is_code_name(name))
        .or(names.first())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // A longer boundary that starts with this one is not a delimiter.
        assert_eq!(
            parts(b"--B\r\nx\r\n--B1\r\ny\r\n--B--"),
            Some(vec![&b"x\r\n--B1\r\ny"[..]])
        );
    }

    fn walked(raw: &[u8]) -> Walked<'_> {
        let formats = crate::config::FormatsRule::default();
        walk(raw, &LimitsRule::default(), &mut Budget::new(&formats)).unwrap()
    }

    /// A part's size is exact and its data is the head, or the whole file when the
    /// checks read past the head.
    #[test]
    fn parts_keep_what_the_checks_read() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let pdf: Vec<u8> = b"%PDF-1.4\n".iter().copied().cycle().take(5000).collect();
        let mut zip = b"PK\x03\x04".to_vec();
        zip.resize(5000, 0);
        let mut exe = b"MZ".to_vec();
        exe.resize(5000, b'a');
        for (data, whole) in [(pdf, false), (zip, true), (exe, true)] {
            let raw = format!(
                "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
                STANDARD.encode(&data)
            );
            let walked = walked(raw.as_bytes());
            let part = &walked.parts[0];
            assert_eq!((part.role, part.size), (Role::Document, 5000));
            let expected = if whole { &data[..] } else { &data[..SNIFF_LEN] };
            assert_eq!(&part.data[..], expected);
        }
        let raw = b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nnot*base64";
        let walked = walked(raw);
        assert_eq!(
            (walked.parts[0].size, &walked.parts[0].data[..]),
            (10, &b"not*base64"[..])
        );
    }

    /// Roles as the mail clients write them, and what the cap counts.
    #[test]
    fn roles_and_what_is_counted() {
        let raw = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n--M\r\n\
Content-Type: multipart/related; boundary=R\r\n\r\n--R\r\n\
Content-Type: multipart/alternative; boundary=A\r\n\r\n--A\r\n\
Content-Type: text/plain\r\n\r\nKinh gui\r\n--A\r\n\
Content-Type: text/html\r\n\r\n<img src=\"cid:anh1@x\">\r\n--A--\r\n--R\r\n\
Content-Type: image/png\r\nContent-ID: <ANH1@x>\r\n\r\n\x89PNG\r\n--R--\r\n--M\r\n\
Content-Type: text/plain; name=ghi-chu.txt\r\nContent-Disposition: inline\r\n\r\nghi chu\r\n--M\r\n\
Content-Type: text/plain\r\n\r\nthem\r\n--M\r\n\
Content-Type: text/calendar; method=REQUEST; name=invite.ics\r\n\r\nBEGIN:VCALENDAR\r\n--M\r\n\
Content-Type: application/pkcs7-signature; name=smime.p7s\r\n\
Content-Disposition: attachment; filename=smime.p7s\r\n\r\n0\x82\r\n--M--\r\n";
        let walked = walked(raw);
        let roles: Vec<(Role, bool)> = walked.parts.iter().map(|p| (p.role, p.counted)).collect();
        assert_eq!(
            roles,
            [
                (Role::Body, false),
                (Role::Body, false),
                (Role::InlineImage, true),
                (Role::Document, true),
                (Role::Body, true),
                (Role::Calendar, true),
                (Role::Signature, true),
            ]
        );
        assert_eq!(walked.texts.len(), 3);
    }
}
