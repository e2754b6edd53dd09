//! Delivery status notifications (RFC 3464): a `multipart/report` with a
//! Vietnamese-and-English explanation, the machine-readable status of each recipient,
//! and the original message's headers (`text/rfc822-headers`, RFC 6522).

use base64::Engine;
use chrono::{TimeZone, Utc};
use congvu_store::QueueEntry;

/// Failed for good, or still being retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
}

/// One recipient's line in the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientStatus {
    pub recipient: String,
    /// The reply that decided it, as one line (`550 5.1.1 no such user`).
    pub diagnostic: String,
}

impl RecipientStatus {
    /// The RFC 3463 status: the enhanced code at the start of the reply text when
    /// there is one, else the class of the reply code (`X.0.0`).
    pub fn status(&self, action: Action) -> String {
        let enhanced = self.diagnostic.split_ascii_whitespace().nth(1).filter(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() == 3
                && matches!(parts[0], "2" | "4" | "5")
                && parts[1..]
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        });
        match (enhanced, action) {
            (Some(code), Action::Failed) if code.starts_with('5') => code.to_owned(),
            (Some(code), Action::Delayed) if code.starts_with('4') => code.to_owned(),
            (_, Action::Failed) => "5.0.0".to_owned(),
            (_, Action::Delayed) => "4.0.0".to_owned(),
        }
    }
}

fn date(unix: i64) -> String {
    Utc.timestamp_opt(unix, 0)
        .single()
        .unwrap_or_else(Utc::now)
        .to_rfc2822()
}

/// Report fields are 7-bit, one line (RFC 3464 §2.1.2).
fn field_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .take(900)
        .collect()
}

/// The header section of a message: up to the first empty line.
pub fn header_section(message: &[u8]) -> &[u8] {
    let mut offset = 0;
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            return &message[..offset];
        }
        offset += line.len();
    }
    message
}

fn explanation(action: Action, entry: &QueueEntry, recipients: &[RecipientStatus]) -> String {
    let list: String = recipients
        .iter()
        .map(|r| format!("  <{}>: {}\r\n", r.recipient, field_text(&r.diagnostic)))
        .collect();
    let queued = date(entry.queued_at);
    match action {
        Action::Failed => format!(
            "Thư của bạn (gửi lúc {queued}) KHÔNG THỂ chuyển tới các người nhận sau;\r\n\
             máy chủ sẽ không thử lại.\r\n\r\n\
             Your message (sent {queued}) could NOT be delivered to the recipients below;\r\n\
             no further attempts will be made.\r\n\r\n{list}"
        ),
        Action::Delayed => format!(
            "Thư của bạn (gửi lúc {queued}) CHƯA chuyển được tới các người nhận sau;\r\n\
             máy chủ vẫn đang thử lại, bạn không cần gửi lại.\r\n\r\n\
             Your message (sent {queued}) has NOT YET been delivered to the recipients below;\r\n\
             the server is still trying, you do not need to send it again.\r\n\r\n{list}"
        ),
    }
}

/// Builds the report for `entry` (whose sender is not null) about `recipients`.
pub fn build(
    hostname: &str,
    entry: &QueueEntry,
    original: &[u8],
    action: Action,
    recipients: &[RecipientStatus],
    now: i64,
) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let boundary = format!("=_congvu_dsn_{}_{}", entry.id.0, now);
    let subject = match action {
        Action::Failed => "Thư không gửi được / Undelivered mail",
        Action::Delayed => "Thư đang chậm / Delayed mail",
    };
    let mut out = String::new();
    out.push_str(&format!(
        "From: Mail Delivery System <MAILER-DAEMON@{hostname}>\r\n"
    ));
    out.push_str(&format!("To: <{}>\r\n", entry.sender));
    out.push_str(&format!("Subject: =?UTF-8?B?{}?=\r\n", b64.encode(subject)));
    out.push_str(&format!("Date: {}\r\n", date(now)));
    out.push_str(&format!(
        "Message-ID: <dsn.{}.{}@{}>\r\n",
        entry.id.0, now, hostname
    ));
    // RFC 3834 §5: automatic replies must not be answered automatically.
    out.push_str("Auto-Submitted: auto-replied\r\n");
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str(&format!(
        "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    ));
    out.push_str("This is a MIME-encapsulated delivery status notification.\r\n\r\n");

    out.push_str(&format!("--{boundary}\r\n"));
    out.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    let text = b64.encode(explanation(action, entry, recipients));
    for chunk in text.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str("\r\n");
    }

    out.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
    ));
    out.push_str(&format!("Reporting-MTA: dns; {hostname}\r\n"));
    out.push_str(&format!("Arrival-Date: {}\r\n", date(entry.queued_at)));
    for recipient in recipients {
        out.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {}\r\n",
            field_text(&recipient.recipient)
        ));
        out.push_str(match action {
            Action::Failed => "Action: failed\r\n",
            Action::Delayed => "Action: delayed\r\n",
        });
        out.push_str(&format!("Status: {}\r\n", recipient.status(action)));
        out.push_str(&format!(
            "Diagnostic-Code: smtp; {}\r\n",
            field_text(&recipient.diagnostic)
        ));
        out.push_str(&format!("Last-Attempt-Date: {}\r\n", date(now)));
    }

    out.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    ));
    let mut bytes = out.into_bytes();
    let headers = header_section(original);
    bytes.extend_from_slice(headers);
    if !headers.ends_with(b"\n") {
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use congvu_store::{BlobId, QueueId};

    fn status(diagnostic: &str) -> RecipientStatus {
        RecipientStatus {
            recipient: "x@y.vn".into(),
            diagnostic: diagnostic.into(),
        }
    }

    #[test]
    fn status_codes() {
        let table = [
            ("550 5.1.1 no such user", Action::Failed, "5.1.1"),
            ("550 no such user", Action::Failed, "5.0.0"),
            ("554 4.4.7 expired", Action::Failed, "5.0.0"),
            ("451 4.3.0 later", Action::Delayed, "4.3.0"),
            ("connection refused", Action::Delayed, "4.0.0"),
            ("550 5.1.1000 odd", Action::Failed, "5.0.0"),
        ];
        for (diagnostic, action, expected) in table {
            assert_eq!(status(diagnostic).status(action), expected, "{diagnostic}");
        }
    }

    #[test]
    fn report_is_parseable_multipart_with_original_headers() {
        let entry = QueueEntry {
            id: QueueId(7),
            blob: BlobId::of(b""),
            size: 0,
            sender: "tuanna.sttt@thanhhoa.gov.vn".into(),
            recipients: vec!["x@y.vn".into()],
            submitted_by: None,
            queued_at: 1_700_000_000,
            next_attempt: 0,
            attempts: 3,
            last_error: None,
            delay_notified: false,
        };
        let original = b"Subject: Hello\r\nFrom: a@b.vn\r\n\r\nsecret body\r\n";
        let report = build(
            "mx.a.vn",
            &entry,
            original,
            Action::Failed,
            &[status("550 5.1.1 no")],
            1_700_000_100,
        );
        let message = mail_parser::MessageParser::default().parse(&report).unwrap();
        assert_eq!(message.subject(), Some("Thư không gửi được / Undelivered mail"));
        let text = message.body_text(0).unwrap();
        assert!(
            text.contains("KHÔNG THỂ") && text.contains("could NOT be delivered"),
            "{text}"
        );
        let raw = String::from_utf8_lossy(&report);
        assert!(raw.contains("report-type=delivery-status"));
        assert!(raw.contains("Status: 5.1.1") && raw.contains("Action: failed"));
        assert!(raw.contains("Subject: Hello") && !raw.contains("secret body"));
    }
}
