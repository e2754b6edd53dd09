//! A stored message read for display, and one attachment found by its path.
//!
//! An attachment's path is the list of part numbers (mail-parser's, 0 the root) from
//! the message down: `[3]` is part 3 of the message, `[2, 1]` part 1 of the message
//! forwarded as part 2. Paths travel in URLs as `3` and `2.1`.

use mail_parser::{Address, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::sanitize::{Sanitized, sanitize};

/// Forwarded messages inside forwarded messages are shown this deep, no deeper.
const MAX_DEPTH: usize = 4;

/// One address of a header field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, decoded; empty when there is none.
    pub name: String,
    pub address: String,
}

impl Mailbox {
    /// `Name <address>`, or the address alone.
    pub fn display(&self) -> String {
        if self.name.is_empty() {
            self.address.clone()
        } else {
            format!("{} <{}>", self.name, self.address)
        }
    }
}

/// One attachment, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Its path (see the module docs).
    pub path: Vec<u32>,
    /// The file name, decoded (RFC 2231 and RFC 2047 both); a made-up one when the
    /// sender gave none.
    pub name: String,
    /// `type/subtype`, lower case.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// The `Content-ID` without angle brackets, for inline images.
    pub content_id: Option<String>,
}

/// A message as a page shows it.
#[derive(Clone, Debug, Default)]
pub struct Reading {
    pub subject: String,
    pub from: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    /// `Date:` as Unix seconds.
    pub date: Option<i64>,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub references: Vec<String>,
    /// The plain text body, when there is one.
    pub text: Option<String>,
    /// The HTML body, sanitised; `None` when the message has no HTML part.
    pub html: Option<Sanitized>,
    pub attachments: Vec<Attachment>,
    /// Messages forwarded as attachments (`message/rfc822`), read the same way.
    pub forwarded: Vec<(Vec<u32>, Reading)>,
}

/// A downloaded attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    address
        .map(|a| {
            a.iter()
                .map(|addr| Mailbox {
                    name: addr.name().unwrap_or_default().trim().to_owned(),
                    address: addr.address().unwrap_or_default().to_owned(),
                })
                .filter(|m| !m.address.is_empty() || !m.name.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn content_type(part: &MessagePart<'_>) -> String {
    part.content_type().map_or_else(
        || "application/octet-stream".to_owned(),
        |ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")).to_ascii_lowercase(),
    )
}

/// The name shown for an attachment without one.
fn fallback_name(part: &MessagePart<'_>, index: u32) -> String {
    if part.is_message() {
        format!("thu-chuyen-tiep-{index}.eml")
    } else {
        format!("tep-dinh-kem-{index}")
    }
}

/// Reads `raw` for display (invariant 2 of the crate). `allow_remote`: the reader
/// asked for this message's remote images. `part_url` makes the URL of an
/// attachment path, for inline images.
pub fn read(raw: &[u8], allow_remote: bool, part_url: &dyn Fn(&[u32]) -> String) -> Reading {
    match MessageParser::default().parse(raw) {
        Some(message) => read_message(&message, &[], allow_remote, part_url, 0),
        None => Reading {
            text: Some(String::from_utf8_lossy(raw).into_owned()),
            ..Reading::default()
        },
    }
}

fn read_message(
    message: &Message<'_>,
    prefix: &[u32],
    allow_remote: bool,
    part_url: &dyn Fn(&[u32]) -> String,
    depth: usize,
) -> Reading {
    let path = |id: u32| {
        let mut path = prefix.to_vec();
        path.push(id);
        path
    };
    let mut reading = Reading {
        subject: message.subject().unwrap_or_default().to_owned(),
        from: mailboxes(message.from()),
        to: mailboxes(message.to()),
        cc: mailboxes(message.cc()),
        reply_to: mailboxes(message.reply_to()),
        date: message.date().map(|d| d.to_timestamp()),
        message_id: message.message_id().map(str::to_owned),
        references: ids(message.references()),
        ..Reading::default()
    };
    // RFC 2045 §5.2: a part without a Content-Type is text/plain.
    let plain = |part: &MessagePart<'_>| {
        part.content_type().is_none_or(|ct| {
            ct.ctype().eq_ignore_ascii_case("text")
                && ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain"))
        })
    };
    let text_part = message
        .text_body
        .iter()
        .find(|id| message.part(**id).is_some_and(plain));
    reading.text = text_part
        .and_then(|id| message.part(*id))
        .and_then(|p| p.text_contents())
        .map(str::to_owned);
    for id in &message.attachments {
        let Some(part) = message.part(*id) else { continue };
        let name = part
            .attachment_name()
            .map(str::to_owned)
            .unwrap_or_else(|| fallback_name(part, *id));
        reading.attachments.push(Attachment {
            path: path(*id),
            name,
            content_type: content_type(part),
            size: part.len(),
            content_id: part
                .content_id()
                .map(|cid| cid.trim_matches(['<', '>']).to_owned()),
        });
        if let PartType::Message(inner) = &part.body
            && depth < MAX_DEPTH
        {
            let nested = read_message(inner, &path(*id), allow_remote, part_url, depth + 1);
            reading.forwarded.push((path(*id), nested));
        }
    }
    let html_part = message.html_body.iter().find(|id| {
        message
            .part(**id)
            .is_some_and(|p| p.is_content_type("text", "html"))
    });
    if let Some(html) = html_part
        .and_then(|id| message.part(*id))
        .and_then(|p| p.text_contents())
    {
        let inline: Vec<(String, String)> = reading
            .attachments
            .iter()
            .filter_map(|a| a.content_id.clone().map(|cid| (cid, part_url(&a.path))))
            .collect();
        reading.html = Some(sanitize(html, allow_remote, &inline));
    }
    reading
}

/// The attachment at `path` in `raw`, transfer-decoded (invariant 3 of the crate).
pub fn attachment(raw: &[u8], path: &[u32]) -> Option<Download> {
    let message = MessageParser::default().parse(raw)?;
    find(&message, path)
}

fn find(message: &Message<'_>, path: &[u32]) -> Option<Download> {
    let (&first, rest) = path.split_first()?;
    let part = message.part(first)?;
    if !rest.is_empty() {
        let PartType::Message(inner) = &part.body else {
            return None;
        };
        return find(inner, rest);
    }
    let bytes = match &part.body {
        PartType::Message(inner) => inner.raw_message().to_vec(),
        _ => part.contents().to_vec(),
    };
    Some(Download {
        name: part
            .attachment_name()
            .map(str::to_owned)
            .unwrap_or_else(|| fallback_name(part, first)),
        content_type: content_type(part),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED_FORWARD: &[u8] = b"From: =?UTF-8?Q?L=C3=AA_Th=E1=BB=8B_Hoa?= <hoa@thanhhoa.gov.vn>\r\n\
To: tuan@thanhhoa.gov.vn\r\n\
Subject: =?UTF-8?Q?C=C3=B4ng_v=C4=83n_s=E1=BB=91_12?=\r\n\
Message-ID: <a1@thanhhoa.gov.vn>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
K\xc3\xadnh g\xe1\xbb\xadi anh.\r\n\
--b\r\n\
Content-Type: application/pdf\r\n\
Content-Disposition: attachment; filename*=UTF-8''B%C3%A1o%20c%C3%A1o.pdf\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERi0xLjQK\r\n\
--b\r\n\
Content-Type: message/rfc822\r\n\
Content-Disposition: attachment\r\n\
\r\n\
From: a@b.vn\r\n\
Subject: Inner\r\n\
Content-Type: multipart/mixed; boundary=\"c\"\r\n\
\r\n\
--c\r\n\
Content-Type: text/plain\r\n\
\r\n\
inner text\r\n\
--c\r\n\
Content-Type: text/plain\r\n\
Content-Disposition: attachment; filename=\"ghi-chu.txt\"\r\n\
\r\n\
note\r\n\
--c--\r\n\
--b--\r\n";

    fn url(path: &[u32]) -> String {
        format!("/part/{path:?}")
    }

    #[test]
    fn a_message_reads_with_its_vietnamese_names_and_its_forward() {
        let reading = read(SIGNED_FORWARD, false, &url);
        assert_eq!(reading.subject, "Công văn số 12");
        assert_eq!(reading.from[0].display(), "Lê Thị Hoa <hoa@thanhhoa.gov.vn>");
        assert_eq!(reading.text.as_deref().map(str::trim), Some("Kính gửi anh."));
        let names: Vec<_> = reading.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names[0], "Báo cáo.pdf");
        assert_eq!(reading.attachments[0].content_type, "application/pdf");
        assert_eq!(reading.forwarded.len(), 1);
        let (path, inner) = &reading.forwarded[0];
        assert_eq!(inner.subject, "Inner");
        assert_eq!(inner.attachments[0].name, "ghi-chu.txt");
        let nested = attachment(SIGNED_FORWARD, &inner.attachments[0].path).unwrap();
        assert_eq!(nested.bytes, b"note");
        assert_eq!(inner.attachments[0].path[0], path[0]);
        let pdf = attachment(SIGNED_FORWARD, &reading.attachments[0].path).unwrap();
        assert_eq!(pdf.bytes, b"%PDF-1.4\n");
        assert_eq!(pdf.name, "Báo cáo.pdf");
    }

    #[test]
    fn a_message_without_content_type_is_plain_text() {
        let reading = read(b"Subject: x\r\n\r\nNoi dung.\r\n", false, &url);
        assert_eq!(reading.text.as_deref(), Some("Noi dung.\r\n"));
        assert!(reading.html.is_none());
    }

    #[test]
    fn anything_reads() {
        for raw in [&b""[..], b"\xff\xfe", b"Subject: x", b"\r\n\r\n\r\n"] {
            let _ = read(raw, false, &url);
        }
        assert!(attachment(b"Subject: x\r\n\r\nbody", &[9, 9]).is_none());
        assert!(attachment(b"Subject: x\r\n\r\nbody", &[]).is_none());
    }
}
