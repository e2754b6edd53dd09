//! Messages the webmail sends or saves: a new one, a reply (to the sender or to
//! all) and a forward, built by `mail-builder` (RFC 5322, RFC 2047 and RFC 2231 for
//! Vietnamese names and subjects, base64 for attachments: invariant 3 of the crate).
//!
//! A reply threads: `In-Reply-To:` is the original's Message-ID and `References:`
//! the original's references and that id (RFC 5322 §3.6.4). A forward quotes the
//! original's header fields and text, and carries its attachments again.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;

use crate::read::{Mailbox, Reading};

/// One file to attach, as uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What the page's form gives, addresses already parsed.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    pub text: String,
    /// `Message-ID` without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Unix seconds.
    pub date: i64,
    pub files: Vec<File>,
}

fn address(mailbox: &Mailbox) -> Address<'static> {
    let name = (!mailbox.name.is_empty()).then(|| mailbox.name.clone());
    Address::new_address(name, mailbox.address.clone())
}

fn list(mailboxes: &[Mailbox]) -> Address<'static> {
    Address::new_list(mailboxes.iter().map(address).collect())
}

/// The message's bytes (CRLF line endings).
pub fn build(draft: &Draft) -> Vec<u8> {
    let mut builder = MessageBuilder::new()
        .from(address(&draft.from))
        .subject(draft.subject.clone())
        .message_id(draft.message_id.clone())
        .date(draft.date)
        .text_body(draft.text.clone());
    if !draft.to.is_empty() {
        builder = builder.to(list(&draft.to));
    }
    if !draft.cc.is_empty() {
        builder = builder.cc(list(&draft.cc));
    }
    if let Some(parent) = &draft.in_reply_to {
        builder = builder.in_reply_to(parent.clone());
    }
    if !draft.references.is_empty() {
        builder = builder.references(draft.references.clone());
    }
    for file in &draft.files {
        builder = builder.attachment(file.content_type.clone(), file.name.clone(), file.bytes.clone());
    }
    // Writing to a Vec cannot fail.
    builder.write_to_vec().unwrap_or_default()
}

/// `prefix` once before `subject`: "Re: Re: x" is not written.
fn prefixed(prefix: &str, subject: &str) -> String {
    let trimmed = subject.trim();
    if trimmed
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    {
        trimmed.to_owned()
    } else {
        format!("{prefix}{trimmed}")
    }
}

fn quoted(text: &str) -> String {
    text.lines().map(|line| format!("> {line}\n")).collect()
}

fn moment(unix: Option<i64>) -> String {
    unix.and_then(|t| chrono::DateTime::from_timestamp(t + 7 * 3600, 0))
        .map_or_else(String::new, |t| t.format("%d/%m/%Y %H:%M").to_string())
}

fn names(mailboxes: &[Mailbox]) -> String {
    mailboxes
        .iter()
        .map(Mailbox::display)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A reply's recipients, subject, threading and quoted text. `all`: reply to every
/// recipient too, without `me`.
pub fn reply(original: &Reading, me: &str, all: bool) -> Draft {
    let to = if original.reply_to.is_empty() {
        original.from.clone()
    } else {
        original.reply_to.clone()
    };
    let cc = if all {
        original
            .to
            .iter()
            .chain(&original.cc)
            .filter(|m| {
                !m.address.eq_ignore_ascii_case(me)
                    && !to.iter().any(|t| t.address.eq_ignore_ascii_case(&m.address))
            })
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let mut references = original.references.clone();
    references.extend(original.message_id.clone());
    let text = format!(
        "\n\nVào {}, {} đã viết:\n{}",
        moment(original.date),
        names(&original.from),
        quoted(original.text.as_deref().unwrap_or_default())
    );
    Draft {
        to,
        cc,
        subject: prefixed("Re: ", &original.subject),
        text,
        in_reply_to: original.message_id.clone(),
        references,
        ..Draft::default()
    }
}

/// A forward's subject and quoted original; the original's attachments are the
/// caller's to add (they are bytes of the stored message).
pub fn forward(original: &Reading) -> Draft {
    let text = format!(
        "\n\n-------- Thư chuyển tiếp / Forwarded message --------\nTừ / From: {}\nNgày / Date: {}\nTiêu đề / Subject: {}\nGửi / To: {}\n\n{}",
        names(&original.from),
        moment(original.date),
        original.subject,
        names(&original.to),
        original.text.as_deref().unwrap_or_default()
    );
    Draft {
        subject: prefixed("Fwd: ", &original.subject),
        text,
        ..Draft::default()
    }
}

/// Addresses typed in a field: separated by commas or semicolons, each
/// `Name <address>` or a bare address. `Err` names the first one that is not an
/// address.
pub fn parse_addresses(field: &str) -> Result<Vec<Mailbox>, String> {
    let mut found = Vec::new();
    for item in field.split([',', ';']).map(str::trim).filter(|s| !s.is_empty()) {
        let (name, address) = match (item.rfind('<'), item.ends_with('>')) {
            (Some(open), true) => (
                item[..open].trim().trim_matches('"').trim().to_owned(),
                item[open + 1..item.len() - 1].trim().to_owned(),
            ),
            _ => (String::new(), item.to_owned()),
        };
        let valid = address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !address
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        });
        if !valid {
            return Err(item.to_owned());
        }
        found.push(Mailbox { name, address });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{attachment, read};

    fn me() -> Mailbox {
        Mailbox {
            name: "Nguyễn Văn Tuấn".into(),
            address: "tuan@thanhhoa.gov.vn".into(),
        }
    }

    #[test]
    fn a_built_message_reads_back_with_its_file_byte_for_byte() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let draft = Draft {
            from: me(),
            to: parse_addresses("Lê Thị Hoa <hoa@thanhhoa.gov.vn>; vanthu@sttt.thanhhoa.gov.vn").unwrap(),
            subject: "Báo cáo tuần".into(),
            text: "Kính gửi chị.\n".into(),
            message_id: "w1@thanhhoa.gov.vn".into(),
            date: 1_796_259_600,
            files: vec![File {
                name: "Bảng số liệu.xlsx".into(),
                content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
                bytes: bytes.clone(),
            }],
            ..Draft::default()
        };
        let raw = build(&draft);
        assert!(raw.windows(2).any(|w| w == b"\r\n"));
        let reading = read(&raw, false, &|_| String::new());
        assert_eq!(reading.subject, "Báo cáo tuần");
        assert_eq!(reading.to.len(), 2);
        assert_eq!(reading.to[0].name, "Lê Thị Hoa");
        assert_eq!(reading.attachments[0].name, "Bảng số liệu.xlsx");
        assert_eq!(
            attachment(&raw, &reading.attachments[0].path).unwrap().bytes,
            bytes
        );
    }

    #[test]
    fn replies_thread_and_do_not_stack_prefixes() {
        let original = Reading {
            subject: "Re: Lịch họp".into(),
            from: vec![Mailbox {
                name: "Hoa".into(),
                address: "hoa@thanhhoa.gov.vn".into(),
            }],
            to: vec![me()],
            cc: vec![Mailbox {
                name: String::new(),
                address: "an@thanhhoa.gov.vn".into(),
            }],
            message_id: Some("m2@x".into()),
            references: vec!["m1@x".into()],
            text: Some("Họp lúc 8h.".into()),
            ..Reading::default()
        };
        let one = reply(&original, "tuan@thanhhoa.gov.vn", false);
        assert_eq!(one.subject, "Re: Lịch họp");
        assert_eq!(one.to[0].address, "hoa@thanhhoa.gov.vn");
        assert!(one.cc.is_empty());
        assert_eq!(one.references, ["m1@x", "m2@x"]);
        assert!(one.text.contains("> Họp lúc 8h."));
        let all = reply(&original, "TUAN@thanhhoa.gov.vn", true);
        assert_eq!(all.cc.len(), 1);
        assert_eq!(all.cc[0].address, "an@thanhhoa.gov.vn");
        assert_eq!(forward(&original).subject, "Fwd: Re: Lịch họp");
    }

    #[test]
    fn typed_addresses() {
        assert_eq!(parse_addresses(" , ").unwrap(), vec![]);
        assert_eq!(parse_addresses("\"Hoa\" <hoa@x.vn>").unwrap()[0].name, "Hoa");
        assert_eq!(parse_addresses("hoa@x.vn, bad").unwrap_err(), "bad");
        assert!(parse_addresses("a b@x.vn").is_err());
    }
}
