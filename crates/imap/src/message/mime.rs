//! The MIME structure of a raw message with exact byte ranges (RFC 2045/2046), as
//! BODYSTRUCTURE sizes and `BODY[section]` extraction need them.
//!
//! Boundaries follow RFC 2046 §5.1.1: a delimiter is a line starting with
//! `--boundary`; the line break before it belongs to the delimiter, not to the part.
//! Malformed input degrades, never fails: a multipart with no delimiter is treated
//! as text, a missing close delimiter ends the last part at the end of the body, and
//! nesting deeper than [`MAX_DEPTH`] is not descended into.

use std::ops::Range;

use super::header::{self, ContentType, line_length};

/// Bound on multipart / message nesting, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

#[derive(Clone, Debug)]
pub(crate) struct Entity {
    /// The header block, the empty line that ends it included.
    pub header: Range<usize>,
    pub body: Range<usize>,
    pub content_type: ContentType,
    pub children: Children,
}

#[derive(Clone, Debug)]
pub(crate) enum Children {
    Leaf,
    Multipart(Vec<Entity>),
    /// A message/rfc822 part: the encapsulated message.
    Message(Box<Entity>),
}

impl Entity {
    /// Parses the whole message.
    pub fn parse(raw: &[u8]) -> Entity {
        parse_entity(raw, 0..raw.len(), ContentType::default_text(), 0)
    }

    pub fn header_bytes<'a>(&self, raw: &'a [u8]) -> &'a [u8] {
        raw.get(self.header.clone()).unwrap_or_default()
    }

    pub fn body_bytes<'a>(&self, raw: &'a [u8]) -> &'a [u8] {
        raw.get(self.body.clone()).unwrap_or_default()
    }

    /// The entity named by a part path, from the top of the message (RFC 3501
    /// §6.4.5). A multipart's part `n` is its `n`th child. A non-multipart entity
    /// has only part 1, itself, and only as the last number, unless it is a
    /// message/rfc822 part: then the numbers after it count in the message it
    /// encapsulates, whose own part 1 (when it is not multipart) is its body. At the
    /// top, the message itself plays that part: part 1 of a non-multipart message is
    /// its body, and `1.1` of a message/rfc822 message is the part 1 of the message
    /// inside. A text part's `2.1` is itself, its `2.1.1` nothing (as Dovecot answers).
    pub fn find(&self, path: &[u32]) -> Option<&Entity> {
        let mut entity = self;
        let mut numbers = path.iter().peekable();
        while let Some(&n) = numbers.next() {
            let more = numbers.peek().is_some();
            entity = match &entity.children {
                Children::Multipart(children) => children.get(usize::try_from(n).ok()?.checked_sub(1)?)?,
                Children::Message(_) if n == 1 => entity,
                Children::Leaf if n == 1 && !more => entity,
                _ => return None,
            };
            // Numbers that follow a message/rfc822 part count inside its message.
            if more && let Children::Message(inner) = &entity.children {
                entity = inner;
            }
        }
        Some(entity)
    }
}

fn parse_entity(raw: &[u8], range: Range<usize>, default_type: ContentType, depth: usize) -> Entity {
    let bytes = &raw[range.clone()];
    let header_len = congvu_protocol::rfc5322::header_len(bytes);
    let header = range.start..range.start + header_len;
    let body = header.end..range.end;
    let header_bytes = &bytes[..header_len];
    let content_type = header::field(header_bytes, "Content-Type")
        .and_then(ContentType::parse)
        .unwrap_or(default_type);
    let mut entity = Entity {
        header,
        body: body.clone(),
        content_type,
        children: Children::Leaf,
    };
    if depth >= MAX_DEPTH {
        return entity;
    }
    if entity.content_type.is("MULTIPART", "*") {
        let digest = entity.content_type.is("MULTIPART", "DIGEST");
        let parts = entity
            .content_type
            .param("boundary")
            .filter(|b| !b.is_empty())
            .map(|boundary| split_parts(raw, body, boundary))
            .unwrap_or_default();
        if parts.is_empty() {
            entity.content_type = ContentType::default_text();
        } else {
            let children = parts
                .into_iter()
                .map(|part| {
                    let default = if digest {
                        ContentType::default_message()
                    } else {
                        ContentType::default_text()
                    };
                    parse_entity(raw, part, default, depth + 1)
                })
                .collect();
            entity.children = Children::Multipart(children);
        }
    } else if entity.content_type.is("MESSAGE", "RFC822") && is_identity_encoded(header_bytes) {
        entity.children = Children::Message(Box::new(parse_entity(
            raw,
            body,
            ContentType::default_text(),
            depth + 1,
        )));
    }
    entity
}

/// A message/rfc822 body can be parsed in place only if it is not transfer-encoded.
fn is_identity_encoded(header_bytes: &[u8]) -> bool {
    header::field(header_bytes, "Content-Transfer-Encoding").is_none_or(|v| {
        let v = v.trim_ascii();
        ["7bit", "8bit", "binary"]
            .iter()
            .any(|e| v.eq_ignore_ascii_case(e.as_bytes()))
    })
}

/// The byte ranges of the body parts between delimiter lines of `boundary`.
fn split_parts(raw: &[u8], body: Range<usize>, boundary: &[u8]) -> Vec<Range<usize>> {
    let mut parts = Vec::new();
    // Start of the current part's content, once the first delimiter is seen.
    let mut open: Option<usize> = None;
    let mut pos = body.start;
    while pos < body.end {
        let line_end = pos + line_length(&raw[pos..body.end]);
        let line = &raw[pos..line_end];
        if let Some(after) = line.strip_prefix(b"--").and_then(|l| l.strip_prefix(boundary)) {
            let closing = after.starts_with(b"--");
            let after = if closing { &after[2..] } else { after };
            // Only transport padding may follow the boundary (RFC 2046 §5.1.1).
            if after.iter().all(|b| b.is_ascii_whitespace()) {
                if let Some(start) = open {
                    parts.push(start..part_end(raw, start, pos));
                }
                if closing {
                    return parts;
                }
                open = Some(line_end);
            }
        }
        pos = line_end;
    }
    if let Some(start) = open {
        parts.push(start..body.end);
    }
    parts
}

/// Where a part ends: before the line break that precedes its closing delimiter.
fn part_end(raw: &[u8], start: usize, delimiter: usize) -> usize {
    let mut end = delimiter;
    if end > start && raw[end - 1] == b'\n' {
        end -= 1;
        if end > start && raw[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &[u8] = b"Subject: t\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
preamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\n\r\nno header\r\n--XX--\r\nepilogue\r\n";

    #[test]
    fn multipart_ranges() {
        let root = Entity::parse(MIXED);
        let Children::Multipart(parts) = &root.children else {
            panic!("not multipart");
        };
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].header_bytes(MIXED), b"Content-Type: text/plain\r\n\r\n");
        assert_eq!(parts[0].body_bytes(MIXED), b"hello");
        assert_eq!(parts[1].header_bytes(MIXED), b"\r\n");
        assert_eq!(parts[1].body_bytes(MIXED), b"no header");
        assert!(parts[1].content_type.is("text", "plain"));
        assert_eq!(
            root.find(&[2]).map(|e| e.body_bytes(MIXED)),
            Some(&b"no header"[..])
        );
        assert!(root.find(&[3]).is_none());
        assert!(root.find(&[0]).is_none());
        assert!(root.find(&[1, 1]).is_some());
        assert!(root.find(&[1, 1, 1]).is_none());
        assert!(root.find(&[1, 2]).is_none());
    }

    #[test]
    fn degraded_input() {
        // No delimiter at all: treated as text.
        let raw = b"Content-Type: multipart/mixed; boundary=Q\r\n\r\nnothing here\r\n";
        let root = Entity::parse(raw);
        assert!(matches!(root.children, Children::Leaf));
        assert!(root.content_type.is("TEXT", "PLAIN"));
        // No close delimiter: the last part runs to the end.
        let raw = b"Content-Type: multipart/mixed; boundary=Q\r\n\r\n--Q\r\n\r\ntail";
        let root = Entity::parse(raw);
        assert_eq!(root.find(&[1]).unwrap().body_bytes(raw), b"tail");
        // Header only.
        let raw = b"Subject: x\r\n";
        let root = Entity::parse(raw);
        assert_eq!(root.header_bytes(raw), raw);
        assert!(root.body_bytes(raw).is_empty());
        // Empty input.
        assert!(Entity::parse(b"").body.is_empty());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut raw = Vec::new();
        for _ in 0..200 {
            raw.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        }
        raw.extend_from_slice(b"body");
        let root = Entity::parse(&raw);
        let mut depth = 0;
        let mut e = &root;
        while let Children::Message(inner) = &e.children {
            e = inner;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH);
    }
}
