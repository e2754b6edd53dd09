//! `BODY[section]` extraction on raw bytes (RFC 3501 §6.4.5).

use std::borrow::Cow;

use crate::codec::fetch::{Section, SectionText};

use super::header::fields;
use super::mime::{Children, Entity};

/// The bytes a section names, or `None` when the message has no such section
/// (answered as NIL).
pub(crate) fn extract<'a>(raw: &'a [u8], root: &Entity, section: &Section) -> Option<Cow<'a, [u8]>> {
    let (entity, is_root) = if section.part.is_empty() {
        (root, true)
    } else {
        (root.find(&section.part)?, false)
    };
    // HEADER, TEXT and HEADER.FIELDS after a part number address the message
    // encapsulated in a message/rfc822 part.
    let message = || -> Option<&Entity> {
        if is_root {
            return Some(root);
        }
        match &entity.children {
            Children::Message(inner) => Some(inner),
            _ => None,
        }
    };
    let bytes = match &section.text {
        None if is_root => raw,
        None => entity.body_bytes(raw),
        Some(SectionText::Mime) => entity.header_bytes(raw),
        Some(SectionText::Header) => message()?.header_bytes(raw),
        Some(SectionText::Text) => message()?.body_bytes(raw),
        Some(SectionText::HeaderFields { not, fields: names }) => {
            return Some(Cow::Owned(header_fields(
                message()?.header_bytes(raw),
                names,
                *not,
            )));
        }
    };
    Some(Cow::Borrowed(bytes))
}

/// The fields named (or, with `not`, all others), in message order, folding kept,
/// followed by the empty line that ends a header (RFC 3501 §6.4.5).
fn header_fields(header: &[u8], names: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for field in fields(header) {
        let named = names
            .iter()
            .any(|n| field.name.eq_ignore_ascii_case(n.as_bytes()));
        if named != not {
            out.extend_from_slice(field.raw);
            if !field.raw.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::fetch::SectionText::*;

    const RAW: &[u8] =
        b"From: a@b\r\nSubject: hi\r\n there\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n\
--o\r\nContent-Type: text/plain\r\n\r\nfirst\r\n\
--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\n\
--- not a boundary\r\n\
--o--\r\n";

    fn get(part: &[u32], text: Option<SectionText>) -> Option<String> {
        let root = Entity::parse(RAW);
        let section = Section {
            part: part.to_vec(),
            text,
        };
        extract(RAW, &root, &section).map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn fields(not: bool, names: &[&str]) -> Option<SectionText> {
        Some(HeaderFields {
            not,
            fields: names.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn sections() {
        let header =
            "From: a@b\r\nSubject: hi\r\n there\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n";
        let cases: Vec<(&[u32], Option<SectionText>, Option<&str>)> = vec![
            (&[], None, Some(std::str::from_utf8(RAW).unwrap())),
            (&[], Some(Header), Some(header)),
            (
                &[],
                fields(false, &["subject", "X-Missing"]),
                Some("Subject: hi\r\n there\r\n\r\n"),
            ),
            (
                &[],
                fields(true, &["Subject", "Content-Type"]),
                Some("From: a@b\r\n\r\n"),
            ),
            (&[1], None, Some("first")),
            (&[1], Some(Mime), Some("Content-Type: text/plain\r\n\r\n")),
            (&[1], Some(Header), None),
            (&[2], None, Some("Subject: inner\r\n\r\n--- not a boundary")),
            (&[2], Some(Mime), Some("Content-Type: message/rfc822\r\n\r\n")),
            (&[2], Some(Header), Some("Subject: inner\r\n\r\n")),
            (&[2], Some(Text), Some("--- not a boundary")),
            (&[2], fields(false, &["SUBJECT"]), Some("Subject: inner\r\n\r\n")),
            (&[2, 1], None, Some("--- not a boundary")),
            (&[3], None, None),
            // A text part has only part 1 as the last number: 1.1 is itself, 1.1.1 is
            // nothing (as Dovecot answers).
            (&[1, 1], None, Some("first")),
            (&[1, 1, 1], None, None),
        ];
        for (part, text, want) in cases {
            assert_eq!(get(part, text.clone()).as_deref(), want, "{part:?} {text:?}");
        }
    }

    #[test]
    fn single_part_message() {
        let raw = b"Subject: x\r\n\r\nbody\r\n";
        let root = Entity::parse(raw);
        let one = Section {
            part: vec![1],
            text: None,
        };
        assert_eq!(extract(raw, &root, &one).as_deref(), Some(&b"body\r\n"[..]));
        let text = Section {
            part: vec![],
            text: Some(Text),
        };
        assert_eq!(extract(raw, &root, &text).as_deref(), Some(&b"body\r\n"[..]));
        let mime = Section {
            part: vec![1],
            text: Some(Mime),
        };
        assert_eq!(
            extract(raw, &root, &mime).as_deref(),
            Some(&b"Subject: x\r\n\r\n"[..])
        );
        let two = Section {
            part: vec![2],
            text: None,
        };
        assert!(extract(raw, &root, &two).is_none());
    }

    fn section_of(raw: &[u8], part: &[u32], text: Option<SectionText>) -> Option<String> {
        let section = Section {
            part: part.to_vec(),
            text,
        };
        extract(raw, &Entity::parse(raw), &section).map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// RFC 3501 §6.4.5: "non-multipart [MIME-IMB] messages with no encapsulated
    /// message, only have a part 1"; a message/rfc822 part's sub-parts are those of
    /// the message it encapsulates, and a non-multipart message's part 1 is its body.
    /// A forwarded message whose body is itself a forwarded message: 1.1 is that
    /// innermost message whole, 1.1.HEADER / 1.1.TEXT its header and text.
    #[test]
    fn message_inside_message() {
        const INNERMOST: &str = "From: c@thanhhoa.gov.vn\r\nSubject: goc\r\n\r\nNoi dung\r\n";
        const MIDDLE_HEADER: &str = "From: b@thanhhoa.gov.vn\r\nContent-Type: message/rfc822\r\n\r\n";
        const TOP_HEADER: &str = "From: a@thanhhoa.gov.vn\r\nContent-Type: message/rfc822\r\n\r\n";
        let raw = format!("{TOP_HEADER}{MIDDLE_HEADER}{INNERMOST}");
        let raw = raw.as_bytes();
        let get = |part: &[u32], text| section_of(raw, part, text);
        assert_eq!(get(&[1], None), Some(format!("{MIDDLE_HEADER}{INNERMOST}")));
        assert_eq!(get(&[1], Some(Mime)).as_deref(), Some(TOP_HEADER));
        assert_eq!(get(&[1], Some(Header)).as_deref(), Some(MIDDLE_HEADER));
        assert_eq!(get(&[1], Some(Text)).as_deref(), Some(INNERMOST));
        assert_eq!(get(&[1, 1], None).as_deref(), Some(INNERMOST));
        assert_eq!(get(&[1, 1], Some(Mime)).as_deref(), Some(MIDDLE_HEADER));
        assert_eq!(
            get(&[1, 1], Some(Header)).as_deref(),
            Some("From: c@thanhhoa.gov.vn\r\nSubject: goc\r\n\r\n")
        );
        assert_eq!(get(&[1, 1], Some(Text)).as_deref(), Some("Noi dung\r\n"));
        assert_eq!(
            get(&[1, 1], fields(false, &["subject"])).as_deref(),
            Some("Subject: goc\r\n\r\n")
        );
        assert_eq!(get(&[1, 1, 1], None).as_deref(), Some("Noi dung\r\n"));
        assert_eq!(
            get(&[1, 1, 1], Some(Mime)).as_deref(),
            Some("From: c@thanhhoa.gov.vn\r\nSubject: goc\r\n\r\n")
        );
        assert_eq!(get(&[1, 1, 1, 1], None), None);
        assert_eq!(get(&[1, 2], None), None);
    }

    /// A multipart whose part 1 forwards a single-part message: 1.1 is that
    /// message's body and 1.1.MIME its header (RFC 3501 §6.4.5); 1.1 is a text part,
    /// not a message, so 1.1.HEADER and 1.1.1 name nothing.
    #[test]
    fn forwarded_single_part_message() {
        const INNER_HEADER: &str = "From: x@y.vn\r\nSubject: inner\r\n\r\n";
        let raw = format!(
            "From: a@b.vn\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n\
--o\r\nContent-Type: message/rfc822\r\n\r\n{INNER_HEADER}inner body\r\n\
--o\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--o--\r\n"
        );
        let raw = raw.as_bytes();
        let get = |part: &[u32], text| section_of(raw, part, text);
        assert_eq!(get(&[1], None), Some(format!("{INNER_HEADER}inner body")));
        assert_eq!(get(&[1], Some(Header)).as_deref(), Some(INNER_HEADER));
        assert_eq!(get(&[1], Some(Text)).as_deref(), Some("inner body"));
        assert_eq!(get(&[1, 1], None).as_deref(), Some("inner body"));
        assert_eq!(get(&[1, 1], Some(Mime)).as_deref(), Some(INNER_HEADER));
        assert_eq!(get(&[1, 1], Some(Header)), None);
        assert_eq!(get(&[1, 1], Some(Text)), None);
        assert_eq!(get(&[1, 1, 1], None), None);
        assert_eq!(get(&[1, 2], None), None);
        assert_eq!(get(&[2, 1], None).as_deref(), Some("second"));
        assert_eq!(
            get(&[2, 1], Some(Mime)).as_deref(),
            Some("Content-Type: text/plain\r\n\r\n")
        );
    }
}
