//! Walks a parsed message (mail-parser) for what the rules look at: the subject, the
//! text parts, and every attachment with its decoded bytes — including the attachments
//! of forwarded messages (message/rfc822), to a bounded depth.

use std::borrow::Cow;

use mail_parser::{HeaderName, Message, MessagePart, MimeHeaders, PartType};

/// Forwarded messages inside forwarded messages are opened this deep; mail-parser
/// bounds its own nesting too.
const MAX_NESTING: usize = 4;

/// A text part of the top-level message (the ones a conversion may rewrite).
pub struct TextPart<'a> {
    /// Index into `Message::parts`.
    pub index: usize,
    pub html: bool,
    pub text: Cow<'a, str>,
}

/// An attachment anywhere in the message.
pub struct Attachment<'a> {
    pub name: Option<&'a str>,
    /// Decoded content (transfer encoding removed).
    pub data: &'a [u8],
}

pub struct Walked<'a> {
    pub subject: Option<String>,
    pub texts: Vec<TextPart<'a>>,
    pub attachments: Vec<Attachment<'a>>,
    /// Attachments nested deeper than [`MAX_NESTING`] were not opened.
    pub too_deep: bool,
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
    let header = message
        .root_part()
        .headers()
        .iter()
        .find(|h| h.name == HeaderName::Subject)?;
    let bytes = raw.get(header.offset_start as usize..header.offset_end as usize)?;
    Some(latin1(bytes).split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The decoded text of a text part, with the same Latin-1 fallback for raw 8-bit
/// bodies without a charset.
fn part_text<'a>(part: &'a MessagePart<'a>, raw: &[u8]) -> Option<Cow<'a, str>> {
    let (PartType::Text(text) | PartType::Html(text)) = &part.body else {
        return None;
    };
    if text.contains('\u{FFFD}')
        && part.encoding == mail_parser::Encoding::None
        && let Some(body) = raw.get(part.offset_body as usize..part.offset_end as usize)
        && std::str::from_utf8(body).is_err()
    {
        return Some(Cow::Owned(latin1(body)));
    }
    Some(Cow::Borrowed(text.as_ref()))
}

pub fn walk<'a>(message: &'a Message<'a>, raw: &'a [u8]) -> Walked<'a> {
    let mut walked = Walked {
        subject: subject(message, raw),
        texts: Vec::new(),
        attachments: Vec::new(),
        too_deep: false,
    };
    for &index in message.text_body.iter().chain(&message.html_body) {
        let index = index as usize;
        if walked.texts.iter().any(|t| t.index == index) {
            continue;
        }
        if let Some(part) = message.parts.get(index)
            && let Some(text) = part_text(part, raw)
        {
            walked.texts.push(TextPart {
                index,
                html: part.is_text_html(),
                text,
            });
        }
    }
    collect_attachments(message, 0, &mut walked);
    walked
}

fn collect_attachments<'a>(message: &'a Message<'a>, depth: usize, walked: &mut Walked<'a>) {
    for &index in &message.attachments {
        let Some(part) = message.parts.get(index as usize) else {
            continue;
        };
        match &part.body {
            PartType::Message(inner) => {
                if depth + 1 >= MAX_NESTING {
                    walked.too_deep = true;
                } else {
                    collect_attachments(inner, depth + 1, walked);
                }
            }
            PartType::Multipart(_) => {}
            _ => walked.attachments.push(Attachment {
                name: part.attachment_name(),
                data: part.contents(),
            }),
        }
    }
}
