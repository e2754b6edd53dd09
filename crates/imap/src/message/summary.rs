//! What SORT and THREAD need of a message's header (RFC 5256 §2–§4, RFC 5957),
//! read once per message.
//!
//! The address keys read the first address of the field as ENVELOPE gives it
//! (RFC 5256 §3: "the first "from" address"): when the field begins with a group,
//! that is the group's start, whose mailbox is the group's name — as Dovecot sorts.

use super::address::{Address, parse_list};
use super::header::fields;
use super::subject::{BaseSubject, base_subject};
use super::text::decode_value;
use unicode_normalization::UnicodeNormalization;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// The Date: header in seconds since the epoch, UTC (RFC 5256 §2.2); `None`
    /// when missing or unparseable, and the caller falls back to INTERNALDATE.
    pub sent: Option<i64>,
    pub subject: BaseSubject,
    /// The addr-mailbox (local part) of the first address, or the name of the group
    /// it begins (RFC 5256 §3 CC, FROM, TO).
    pub from: String,
    pub to: String,
    pub cc: String,
    /// RFC 5957: the decoded display name of the first address, or its
    /// `local@domain` when it has none (or an empty one); a group's name.
    pub display_from: String,
    pub display_to: String,
    /// The Message-ID without its angle brackets.
    pub message_id: Option<String>,
    /// References, or when it names no valid id the first id of In-Reply-To
    /// (RFC 5256 §4 step 1).
    pub references: Vec<String>,
}

impl Summary {
    /// `header` is a message's header block.
    pub fn parse(header: &[u8]) -> Summary {
        let mut summary = Summary::default();
        let (mut subject, mut from, mut to, mut cc, mut in_reply_to) = (None, None, None, None, None);
        let mut date = None;
        // The first of each field counts, as for ENVELOPE.
        for field in fields(header) {
            let slot = match field.name.to_ascii_lowercase().as_slice() {
                b"date" => &mut date,
                b"subject" => &mut subject,
                b"from" => &mut from,
                b"to" => &mut to,
                b"cc" => &mut cc,
                b"in-reply-to" => &mut in_reply_to,
                b"message-id" => {
                    if summary.message_id.is_none() {
                        summary.message_id = message_ids(field.value).into_iter().next();
                    }
                    continue;
                }
                b"references" => {
                    if summary.references.is_empty() {
                        summary.references = message_ids(field.value);
                    }
                    continue;
                }
                _ => continue,
            };
            slot.get_or_insert(field.value);
        }
        summary.sent = date
            .and_then(|value| std::str::from_utf8(value).ok())
            .and_then(|value| mail_parser::DateTime::parse_rfc822(value.trim()))
            .filter(mail_parser::DateTime::is_valid)
            .map(|date| date.to_timestamp());
        if let Some(value) = subject {
            summary.subject = base_subject(&decode_value(value));
        }
        if let Some(value) = from {
            (summary.from, summary.display_from) = first_address(value);
        }
        if let Some(value) = to {
            (summary.to, summary.display_to) = first_address(value);
        }
        if let Some(value) = cc {
            summary.cc = first_address(value).0;
        }
        if summary.references.is_empty()
            && let Some(value) = in_reply_to
        {
            summary.references = message_ids(value).into_iter().take(1).collect();
        }
        summary
    }
}

/// The first address of an address list: its addr-mailbox and its RFC 5957 display
/// form. Empty strings when there is none.
fn first_address(value: &[u8]) -> (String, String) {
    let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    match parse_list(value).into_iter().next() {
        Some(Address::Mailbox {
            name, local, domain, ..
        }) => {
            let display = match name.filter(|name| !name.is_empty()) {
                Some(name) => decode_value(&name),
                None => format!("{}@{}", lossy(&local), lossy(&domain)),
            };
            (lossy(&local), display)
        }
        Some(Address::GroupStart(name)) => (lossy(&name), decode_value(&name)),
        Some(Address::GroupEnd) | None => Default::default(),
    }
}

/// A sort key under the i;unicode-casemap collation (RFC 5051 §2): each character
/// upper-cased, then decomposed (NFKD), compared as octets. So "ánh" and "Ánh"
/// are equal and sort among the A's, as Dovecot sorts; on ASCII this is
/// i;ascii-casemap. Upper case stands in for the simple titlecase mapping, from
/// which it differs only for a few Latin digraphs (ǅ) and Greek with ypogegrammeni.
pub(crate) fn unicode_casemap(s: &str) -> String {
    s.chars().flat_map(char::to_uppercase).nfkd().collect()
}

/// The `<id>`s of a Message-ID, References or In-Reply-To value, brackets removed,
/// in order. Comments are skipped (In-Reply-To often carries one with an address
/// in it); ids that are empty or hold white space are not valid and are dropped.
fn message_ids(value: &[u8]) -> Vec<String> {
    let mut ids = Vec::new();
    let mut i = 0;
    let mut depth = 0usize;
    while let Some(&b) = value.get(i) {
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b'\\' if depth > 0 => i += 1,
            b'<' if depth == 0 => {
                let Some(len) = value[i + 1..].iter().position(|c| *c == b'>') else {
                    break;
                };
                let id = &value[i + 1..i + 1 + len];
                if !id.is_empty() && !id.iter().any(|c| c.is_ascii_whitespace() || *c == b'<') {
                    ids.push(String::from_utf8_lossy(id).into_owned());
                }
                i += len + 1;
            }
            _ => {}
        }
        i += 1;
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_for_sort_and_thread() {
        let header = b"From: =?UTF-8?Q?Nguy=E1=BB=85n_V=C4=83n_A?= <nva@thanhhoa.gov.vn>\r\n\
To: undisclosed-recipients:;, b@x.vn\r\n\
Cc: \"\" <Cc.Person@x.vn>\r\n\
Subject: Re: =?UTF-8?Q?C=C3=B4ng_v=C4=83n?= (fwd)\r\n\
Date: Tue, 5 Mar 2024 09:30:00 +0700\r\n\
Message-ID: <a1@x.vn>\r\n\
Message-ID: <second@x.vn>\r\n\
In-Reply-To: <irt@x.vn> (from Someone <s@x.vn>)\r\n\
References: <r1@x.vn>\r\n <r2@x.vn> <bad id> <>\r\n\
\r\n";
        let s = Summary::parse(header);
        assert_eq!(s.sent, Some(1_709_605_800));
        assert_eq!(s.subject.text, "Công văn");
        assert!(s.subject.reply_or_forward);
        assert_eq!(
            (s.from.as_str(), s.display_from.as_str()),
            ("nva", "Nguyễn Văn A")
        );
        // The field begins with a group: its name (RFC 5256 §3, the ENVELOPE's mailbox).
        assert_eq!(
            (s.to.as_str(), s.display_to.as_str()),
            ("undisclosed-recipients", "undisclosed-recipients")
        );
        assert_eq!(s.cc, "Cc.Person");
        assert_eq!(s.message_id.as_deref(), Some("a1@x.vn"));
        assert_eq!(s.references, ["r1@x.vn", "r2@x.vn"]);
    }

    /// RFC 5256 §3: CC, FROM and TO sort on the first address of the field, and
    /// when that is a group's start, on the group's name (its ENVELOPE mailbox);
    /// RFC 5957 DISPLAYFROM/DISPLAYTO on the decoded display name — a comment after
    /// the address counts — else `local@domain`. As Dovecot 2.3 sorts.
    #[test]
    fn first_address_with_groups_and_comments() {
        let s = Summary::parse(
            b"From: nva@thanhhoa.gov.vn (=?UTF-8?Q?Nguy=E1=BB=85n?=)\r\n\
To: undisclosed-recipients:;\r\nCc: nhom: ;, dave@y.vn\r\n\r\n",
        );
        assert_eq!((s.from.as_str(), s.display_from.as_str()), ("nva", "Nguyễn"));
        assert_eq!(
            (s.to.as_str(), s.display_to.as_str()),
            ("undisclosed-recipients", "undisclosed-recipients")
        );
        assert_eq!(s.cc, "nhom");
        let s = Summary::parse(b"From: \"\" <aaa@x.vn>\r\nTo: \"  \" <zz@y.vn>\r\nCc:\r\n\r\n");
        assert_eq!(s.display_from, "aaa@x.vn");
        assert_ne!(s.display_to, "zz@y.vn", "a name of spaces is a name");
        assert_eq!(s.cc, "");
    }

    /// RFC 5051 §2: case and composition do not count.
    #[test]
    fn casemap_keys() {
        assert_eq!(unicode_casemap("ánh"), unicode_casemap("A\u{301}NH"));
        assert!(unicode_casemap("Ánh") < unicode_casemap("bob"));
        assert!(unicode_casemap("Émile") < unicode_casemap("Mike"));
        assert_eq!(unicode_casemap("Carl"), "CARL");
        assert_ne!(unicode_casemap("Đặng"), unicode_casemap("Dang"));
    }

    #[test]
    fn in_reply_to_stands_in_for_missing_references() {
        let s = Summary::parse(b"In-Reply-To: (note <x@y>) <irt@x.vn> <other@x.vn>\r\nDate: garbage\r\n\r\n");
        assert_eq!(s.references, ["irt@x.vn"]);
        assert_eq!(s.sent, None);
        assert_eq!(s.message_id, None);
        assert_eq!(s.from, "");
        assert_eq!(s.subject.text, "");
    }
}
