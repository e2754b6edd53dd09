//! Decoded text of a message for SEARCH (RFC 3501 §6.4.4): header values with
//! RFC 2047 encoded words decoded, bodies with transfer encoding and charset
//! decoded (by `mail-parser`). Matching is a substring test on text lower-cased and
//! NFC-normalised, so Vietnamese typed in either normal form finds the other.

use std::cell::OnceCell;

use chrono::NaiveDate;
use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderValue, MessageParser, PartType};
use unicode_normalization::UnicodeNormalization;

use super::address::{Address, parse_list};
use super::header::{self, fields};

/// The form both sides of a text comparison are brought to.
pub(crate) fn normalize(s: &str) -> String {
    s.to_lowercase().nfc().collect()
}

/// One message, its decoded forms computed on first use. `header` is the message's
/// header block, a prefix of `raw`.
pub(crate) struct Searchable<'a> {
    raw: &'a [u8],
    header: &'a [u8],
    bodies: OnceCell<String>,
    raw_body: OnceCell<String>,
}

impl<'a> Searchable<'a> {
    pub fn new(raw: &'a [u8], header: &'a [u8]) -> Searchable<'a> {
        Searchable {
            raw,
            header,
            bodies: OnceCell::new(),
            raw_body: OnceCell::new(),
        }
    }

    /// HEADER / FROM / SUBJECT …: a field `name` contains `needle` (normalised); an
    /// empty needle matches any message that has the field.
    pub fn header_contains(&self, name: &str, needle: &str) -> bool {
        fields(self.header)
            .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
            .any(|f| needle.is_empty() || normalize(&decode_value(f.value)).contains(needle))
    }

    /// FROM / TO / CC / BCC (RFC 3501 §6.4.4): one address of a field `name`,
    /// written `Name <local@domain>` (or `<local@domain>`, or `group:` for a group's
    /// start) with the name's encoded words decoded, contains `needle`
    /// (normalised). The address is read as ENVELOPE reads it: comments inside it
    /// are not part of it, a comment after it is its name. Each address is matched
    /// alone, as Dovecot does. An empty needle matches any message with the field.
    pub fn address_contains(&self, name: &str, needle: &str) -> bool {
        fields(self.header)
            .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
            .any(|f| {
                needle.is_empty()
                    || parse_list(f.value)
                        .iter()
                        .filter_map(address_text)
                        .any(|text| normalize(&text).contains(needle))
            })
    }

    /// BODY: the decoded text of any text part contains `needle`.
    pub fn body_contains(&self, needle: &str) -> bool {
        self.bodies
            .get_or_init(|| normalize(&body_text(self.raw)))
            .contains(needle)
    }

    /// TEXT: the header or the body contains `needle`. The body is searched both
    /// decoded and as stored, so MIME part headers (attachment names) count too.
    pub fn text_contains(&self, needle: &str) -> bool {
        fields(self.header).any(|f| {
            let line = format!("{}: {}", String::from_utf8_lossy(f.name), decode_value(f.value));
            normalize(&line).contains(needle)
        }) || self.body_contains(needle)
            || self
                .raw_body
                .get_or_init(|| {
                    let body = self.raw.get(self.header.len()..).unwrap_or_default();
                    normalize(&String::from_utf8_lossy(body))
                })
                .contains(needle)
    }

    /// The date of the Date: header in its own time zone (SENTBEFORE/ON/SINCE).
    pub fn sent_date(&self) -> Option<NaiveDate> {
        let value = header::field(self.header, "Date")?;
        let date = mail_parser::DateTime::parse_rfc822(std::str::from_utf8(value).ok()?)?;
        NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
    }
}

/// A header value as text, encoded words decoded.
pub(crate) fn decode_value(value: &[u8]) -> String {
    // The unstructured parser reads up to the end of the field, which it
    // recognises by a line break not followed by white space.
    let mut terminated = value.to_vec();
    terminated.extend_from_slice(b"\r\n");
    match MessageStream::new(&terminated).parse_unstructured() {
        HeaderValue::Text(text) => text.into_owned(),
        _ => String::new(),
    }
}

/// An envelope address as SEARCH matches it (see [`Searchable::address_contains`]);
/// `None` for a group's end.
fn address_text(address: &Address) -> Option<String> {
    match address {
        Address::Mailbox {
            name, local, domain, ..
        } => {
            let spec = format!(
                "<{}@{}>",
                String::from_utf8_lossy(local),
                String::from_utf8_lossy(domain)
            );
            Some(match name {
                Some(name) => format!("{} {spec}", decode_value(name)),
                None => spec,
            })
        }
        Address::GroupStart(name) => Some(format!("{}:", decode_value(name))),
        Address::GroupEnd => None,
    }
}

/// The decoded text of every text part, nested messages included.
pub(crate) fn body_text(raw: &[u8]) -> String {
    let mut out = String::new();
    if let Some(message) = MessageParser::default().parse(raw) {
        collect_text(&message, &mut out);
    }
    out
}

fn collect_text(message: &mail_parser::Message<'_>, out: &mut String) {
    for part in &message.parts {
        match &part.body {
            PartType::Text(text) | PartType::Html(text) => {
                out.push_str(text);
                out.push('\n');
            }
            PartType::Message(inner) => collect_text(inner, out),
            PartType::Binary(_) | PartType::InlineBinary(_) | PartType::Multipart(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::mime::Entity;

    fn searchable(raw: &[u8]) -> Searchable<'_> {
        let root = Entity::parse(raw);
        let header = &raw[root.header.clone()];
        Searchable::new(raw, header)
    }

    const RAW: &[u8] = b"From: =?UTF-8?B?Tmd1eeG7hW4gVsSDbiBB?= <a@b.vn>\r\n\
Subject: =?UTF-8?Q?C=C3=B4ng_v=C4=83n_=C4=91=E1=BA=BFn?=\r\n\
Date: Tue, 5 Mar 2024 23:30:00 +0700\r\nX-Empty:\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
K=E1=BA=BF ho=E1=BA=A1ch n=C4=83m 2024\r\n";

    #[test]
    fn headers_are_decoded() {
        let s = searchable(RAW);
        assert!(s.header_contains("subject", &normalize("CÔNG VĂN")));
        assert!(s.header_contains("From", &normalize("nguyễn")));
        assert!(s.header_contains("FROM", "a@b.vn"));
        assert!(s.header_contains("X-Empty", ""));
        assert!(!s.header_contains("Cc", ""));
        assert!(!s.header_contains("Subject", "missing"));
    }

    /// RFC 3501 §6.4.4 FROM/TO/CC/BCC: the string is looked for in the envelope's
    /// field — address and display name, whether the name is a phrase, a comment
    /// after the address or an encoded word — and not in comments around the
    /// address. Expected values as Dovecot 2.3 answers them.
    #[test]
    fn address_fields() {
        let s = searchable(
            "From: <nva (phòng) @ (tỉnh) thanhhoa.gov.vn>\r\n\
To: lth@thanhhoa.gov.vn (=?UTF-8?Q?L=C3=AA_Th=E1=BB=8B_Hoa?=)\r\n\
Cc: \"Trần Bình\" <tb@thanhhoa.gov.vn>, x@y.vn\r\n\
Bcc: so: a@b.vn, c@d.vn;, ban: e@f.vn;\r\n\r\nbody\r\n"
                .as_bytes(),
        );
        let has = |field: &str, needle: &str| s.address_contains(field, &normalize(needle));
        assert!(has("From", "nva@thanhhoa.gov.vn"));
        assert!(has("From", "<NVA@"));
        assert!(!has("From", "phòng"), "a comment inside the address is not in it");
        assert!(has("To", "thị hoa"));
        assert!(has("To", "Lê Thị Hoa <lth@"));
        assert!(!has("To", "=?utf-8"));
        assert!(has("Cc", "TRẦN BÌNH"));
        assert!(has("Cc", "x@y.vn"));
        assert!(
            !has("Cc", "tb@thanhhoa.gov.vn>, x"),
            "addresses are matched one by one"
        );
        assert!(has("Bcc", "so:"));
        assert!(has("Bcc", "ban"));
        assert!(has("Bcc", "e@f.vn"));
        assert!(has("Cc", ""));
        assert!(!has("Sender", ""));
        let nfd: String = "Bình".nfd().collect();
        assert!(has("Cc", &nfd));
    }

    #[test]
    fn nfd_needle_matches_nfc_text() {
        let s = searchable(RAW);
        let nfd: String = "văn".nfd().collect();
        assert!(s.header_contains("Subject", &normalize(&nfd)));
    }

    #[test]
    fn bodies_and_text() {
        let s = searchable(RAW);
        assert!(s.body_contains(&normalize("Kế hoạch")));
        assert!(!s.body_contains("subject"));
        assert!(s.text_contains("subject: công"));
        assert!(s.text_contains(&normalize("NĂM 2024")));
    }

    #[test]
    fn sent_date_in_its_own_zone() {
        assert_eq!(searchable(RAW).sent_date(), NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(searchable(b"Date: garbage\r\n\r\n").sent_date(), None);
    }
}
