//! Message disposition notifications (RFC 8098): the acknowledgement of receipt
//! ("trả lời đã tiếp nhận", Decision 3380 Art. 16.2.a) the server writes for an
//! agency whose keeper acknowledges a message in congvu (`congvu ack`, the admin
//! API) rather than in a mail client that sends the MDN itself.
//!
//! The notification is a `multipart/report; report-type=disposition-notification`
//! (RFC 8098 §3) of three parts: a human-readable explanation (Vietnamese first, then
//! English), the `message/disposition-notification` fields (§3.2: `Reporting-UA`,
//! `Final-Recipient`, `Original-Message-ID`, `Disposition:
//! manual-action/MDN-sent-manually; displayed` — a person acted, §3.2.6), and the
//! original's header section (`text/rfc822-headers`) when it is still stored.
//!
//! Invariants (besides those of [`super`]: report fields 7-bit and one line, a
//! boundary no returned content can hold, one `multipart/report` assembly):
//! 1. `From` is the agency mailbox the MDN is issued for (RFC 8098 §3), `To` the
//!    original's `Disposition-Notification-To` or its sender (the caller decides).
//! 2. The envelope sender is null (RFC 8098 §3: no report about an MDN): the caller
//!    hands it on as it does a DSN, [`crate::send_report`].

use chrono::{FixedOffset, TimeZone};
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::MimePart;
use mail_parser::MessageParser;

use super::{
    ReportHead, digest_token, explanation_part, field_text, header_fields, multipart_report, returned_part,
};

/// The longest original subject repeated in the notification's own, in characters.
const MAX_SUBJECT_CHARS: usize = 200;

/// Everything an acknowledgement of receipt is made of.
#[derive(Clone, Debug)]
pub struct Receipt<'a> {
    /// This server's name: `Reporting-UA` (RFC 8098 §3.2.1).
    pub reporting_host: &'a str,
    /// The agency mailbox that received the message and acknowledges it.
    pub agency: &'a str,
    /// The agency's name (the display name of `From`).
    pub agency_name: &'a str,
    /// Whom the notification goes to.
    pub to: &'a str,
    /// The original's `Message-ID`, without angle brackets.
    pub original_message_id: &'a str,
    /// Unix seconds the original was delivered to the agency.
    pub received_at: i64,
    /// The original message as stored, when it still is: its header section is
    /// returned and its subject repeated.
    pub original: Option<&'a [u8]>,
    /// Unix seconds: the notification's date.
    pub now: i64,
}

/// Vietnamese date and time of a Unix second, in Vietnam's time (UTC+07:00 all year):
/// what the agencies read; the machine-readable dates stay RFC 5322's.
fn local_time(unix: i64) -> String {
    FixedOffset::east_opt(7 * 3600)
        .and_then(|vietnam| vietnam.timestamp_opt(unix, 0).single())
        .map_or_else(
            || unix.to_string(),
            |t| t.format("%H:%M ngày %d/%m/%Y").to_string(),
        )
}

fn explanation(receipt: &Receipt<'_>, subject: Option<&str>) -> String {
    let id = field_text(receipt.original_message_id);
    let agency = field_text(receipt.agency);
    let received = local_time(receipt.received_at);
    let acknowledged = local_time(receipt.now);
    let subject_vi = subject.map_or_else(String::new, |s| format!("Trích yếu: {s}\r\n"));
    let subject_en = subject.map_or_else(String::new, |s| format!("Subject: {s}\r\n"));
    format!(
        "Văn bản đã được tiếp nhận.\r\n\r\n\
         Thư của quý cơ quan gửi tới {agency} (nhận lúc {received}) đã được cơ quan nhận\r\n\
         tiếp nhận lúc {acknowledged}.\r\n\
         {subject_vi}Message-ID: <{id}>\r\n\r\n\
         Receipt acknowledged.\r\n\r\n\
         Your message to {agency} (delivered {received}, Vietnam time) was acknowledged\r\n\
         by the receiving agency at {acknowledged}.\r\n\
         {subject_en}Message-ID: <{id}>\r\n"
    )
}

/// The `message/disposition-notification` part (RFC 8098 §3.2, in its order).
fn disposition_fields(receipt: &Receipt<'_>) -> String {
    format!(
        "Reporting-UA: {}; congvu\r\n\
         Final-Recipient: rfc822; {}\r\n\
         Original-Message-ID: <{}>\r\n\
         Disposition: manual-action/MDN-sent-manually; displayed\r\n",
        field_text(receipt.reporting_host),
        field_text(receipt.agency),
        field_text(receipt.original_message_id),
    )
}

/// The original's subject, decoded, on one line and bounded.
fn original_subject(original: &[u8]) -> Option<String> {
    let parsed = MessageParser::new().parse_headers(original)?;
    let subject: String = parsed
        .subject()?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_SUBJECT_CHARS)
        .collect();
    let subject = subject.trim();
    (!subject.is_empty()).then(|| subject.to_owned())
}

/// A digest of what the notification is about and of what it returns: its
/// `Message-ID` and boundary (invariant 4 of [`super`]).
fn token(receipt: &Receipt<'_>, returned: &[u8]) -> String {
    let about = [receipt.agency, receipt.to, receipt.original_message_id];
    digest_token(about.into_iter(), receipt.now, returned)
}

/// Builds the acknowledgement of receipt.
pub fn build(receipt: &Receipt<'_>) -> Vec<u8> {
    let returned = receipt.original.map(header_fields).unwrap_or_default();
    let subject = receipt.original.and_then(original_subject);
    let token = token(receipt, returned);
    let mut parts = vec![
        explanation_part(explanation(receipt, subject.as_deref())),
        MimePart::new(
            ContentType::new("message/disposition-notification"),
            disposition_fields(receipt).into_bytes(),
        )
        .transfer_encoding("7bit"),
    ];
    if !returned.is_empty() {
        parts.push(returned_part("text/rfc822-headers", returned));
    }
    let title = match &subject {
        Some(subject) => format!("Đã tiếp nhận / Received: {subject}"),
        None => "Đã tiếp nhận văn bản / Receipt acknowledged".to_owned(),
    };
    let hostname = field_text(receipt.reporting_host);
    multipart_report(
        ReportHead {
            from: Address::new_address(Some(receipt.agency_name), receipt.agency),
            to: receipt.to,
            subject: &title,
            now: receipt.now,
            message_id: format!("mdn.{token}@{hostname}"),
        },
        "disposition-notification",
        &format!("=_congvu_mdn_{token}"),
        parts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    const ORIGINAL: &[u8] = b"From: sttt@thanhhoa.gov.vn\r\nSubject: =?utf-8?q?C=C3=B4ng_v=C4=83n_s=E1=BB=91_12?=\r\nMessage-ID: <cv12@thanhhoa.gov.vn>\r\n\r\nsecret body\r\n";

    fn receipt(original: Option<&'static [u8]>) -> Receipt<'static> {
        Receipt {
            reporting_host: "mail.thanhhoa.gov.vn",
            agency: "syt@thanhhoa.gov.vn",
            agency_name: "Sở Y tế",
            to: "sttt@thanhhoa.gov.vn",
            original_message_id: "cv12@thanhhoa.gov.vn",
            received_at: 1_767_225_600,
            original,
            now: 1_767_229_200,
        }
    }

    fn fields_of(built: &[u8]) -> String {
        let message = MessageParser::default().parse(built).expect("parses");
        let part = message
            .parts
            .iter()
            .find(|part| {
                part.content_type().is_some_and(|ct| {
                    ct.ctype().eq_ignore_ascii_case("message")
                        && ct
                            .subtype()
                            .is_some_and(|s| s.eq_ignore_ascii_case("disposition-notification"))
                })
            })
            .expect("a message/disposition-notification part");
        String::from_utf8(part.contents().to_vec()).unwrap()
    }

    #[test]
    fn parses_back_as_a_disposition_notification() {
        let built = build(&receipt(Some(ORIGINAL)));
        let message = MessageParser::default().parse(&built).expect("parses");
        let content_type = message.content_type().expect("Content-Type");
        assert_eq!(content_type.ctype(), "multipart");
        assert_eq!(content_type.subtype(), Some("report"));
        assert_eq!(
            content_type.attribute("report-type"),
            Some("disposition-notification")
        );
        assert_eq!(message.subject(), Some("Đã tiếp nhận / Received: Công văn số 12"));
        let from = message.from().and_then(|f| f.first()).expect("From");
        assert_eq!(from.address(), Some("syt@thanhhoa.gov.vn"));
        assert_eq!(from.name(), Some("Sở Y tế"));
        let to = message.to().and_then(|t| t.first()).expect("To");
        assert_eq!(to.address(), Some("sttt@thanhhoa.gov.vn"));
        assert_eq!(
            message.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-replied")
        );

        let text = message.body_text(0).expect("human-readable part");
        let vietnamese = text.find("Văn bản đã được tiếp nhận").expect("Vietnamese");
        let english = text.find("Receipt acknowledged").expect("English");
        assert!(vietnamese < english, "Vietnamese first: {text}");
        assert!(text.contains("07:00 ngày 01/01/2026") && text.contains("08:00 ngày 01/01/2026"));

        let fields = fields_of(&built);
        assert_eq!(
            fields,
            "Reporting-UA: mail.thanhhoa.gov.vn; congvu\r\n\
             Final-Recipient: rfc822; syt@thanhhoa.gov.vn\r\n\
             Original-Message-ID: <cv12@thanhhoa.gov.vn>\r\n\
             Disposition: manual-action/MDN-sent-manually; displayed\r\n"
        );
        let raw = String::from_utf8_lossy(&built);
        assert!(raw.contains("text/rfc822-headers") && raw.contains("Message-ID: <cv12@thanhhoa.gov.vn>"));
        assert!(!raw.contains("secret body"), "the header section only");
    }

    #[test]
    fn without_the_original_there_are_two_parts_and_a_plain_subject() {
        let built = build(&receipt(None));
        let message = MessageParser::default().parse(&built).expect("parses");
        assert_eq!(
            message.subject(),
            Some("Đã tiếp nhận văn bản / Receipt acknowledged")
        );
        assert!(!String::from_utf8_lossy(&built).contains("rfc822-headers"));
        assert!(fields_of(&built).contains("Original-Message-ID: <cv12@thanhhoa.gov.vn>\r\n"));
    }

    #[test]
    fn fields_stay_one_line_whatever_the_values() {
        let built = build(&Receipt {
            original_message_id: "x@y\r\nX-Evil: 1",
            reporting_host: "mail\r\nX-Evil: 2",
            ..receipt(None)
        });
        assert!(!String::from_utf8_lossy(&built).contains("\nX-Evil"));
    }
}
