//! Delivery status notifications (RFC 3464): a `multipart/report` with a
//! Vietnamese-and-English explanation, the machine-readable status of each recipient,
//! and the original message — its header section (`text/rfc822-headers`, RFC 6522),
//! or the whole of it (`message/rfc822`) when the sender asked `RET=FULL`.
//!
//! Who is told what (RFC 3461), decided by the callers with [`DsnRequest::notify`]:
//! a failure only to recipients whose `NOTIFY` holds `FAILURE`, a delay only to those
//! with `DELAY` (both when `NOTIFY` was not given, §4.1), a success (`delivered`, or
//! `relayed` to a next hop without DSN, §6.2.2) only to those with `SUCCESS`.
//!
//! Invariants:
//! 1. Report fields are 7-bit and one line ([`field_text`]): no value the sender or a
//!    remote server chose can add a field or a line.
//! 2. `ENVID` and `ORCPT` are written decoded (as stored, see
//!    `congvu_store::DsnRequest`): `Original-Envelope-Id` (RFC 3464 §2.2.1) and
//!    `Original-Recipient` (§2.3.1) carry what the sender meant, not its xtext.
//! 3. `RET` governs failure reports only (RFC 3461 §4.3); the others return the
//!    header section. Without `RET` failure reports return the header section too
//!    (what congvu always did); `RET=FULL` returns the whole message up to a size
//!    limit, the header section above it (and the explanation says so).
//! 4. The MIME boundary is derived from a digest of the returned content itself, so
//!    that content cannot contain it (it would have to hold its own digest).
//!
//! The acknowledgement of receipt (RFC 8098 MDN, [`mdn`]) is the other report this
//! server writes: both are a `multipart/report` (RFC 6522) put together by one
//! function here, [`multipart_report`], with the same field rules (invariant 1) and
//! boundary rule (invariant 4).

use std::borrow::Cow;

use chrono::{TimeZone, Utc};
use congvu_protocol::rfc5322;
use congvu_store::{DsnRequest, DsnRet, OriginalRecipient};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use sha2::{Digest, Sha256};

use crate::client::data;

pub mod mdn;

/// What a report says happened to its recipients (RFC 3464 §2.3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Failed for good.
    Failed,
    /// Still being retried.
    Delayed,
    /// Put into the recipient's mailbox here.
    Delivered,
    /// Handed to a next hop that does not take DSN parameters, so no further report
    /// can be promised (RFC 3461 §6.2.2).
    Relayed,
}

impl Action {
    fn field(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
        }
    }

    /// The class digit of the status codes this action takes (RFC 3463 §3.1).
    fn class(self) -> char {
        match self {
            Action::Failed => '5',
            Action::Delayed => '4',
            Action::Delivered | Action::Relayed => '2',
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Action::Failed => "Thư không gửi được / Undelivered mail",
            Action::Delayed => "Thư đang chậm / Delayed mail",
            Action::Delivered => "Thư đã tới người nhận / Delivered mail",
            Action::Relayed => "Thư đã được chuyển tiếp / Relayed mail",
        }
    }
}

/// One recipient's block in the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientStatus {
    pub recipient: String,
    /// The reply that decided it, as one line (`550 5.1.1 no such user`); empty when
    /// no server replied (a local delivery).
    pub diagnostic: String,
    /// The recipient as the original sender wrote it (`ORCPT`), decoded.
    pub original: Option<OriginalRecipient>,
}

impl RecipientStatus {
    /// `recipient`'s status with its `ORCPT` from the message's DSN parameters.
    pub fn of(dsn: &DsnRequest, recipient: String, diagnostic: String) -> RecipientStatus {
        let original = dsn.orcpt(&recipient).cloned();
        RecipientStatus {
            recipient,
            diagnostic,
            original,
        }
    }

    /// The RFC 3463 status: the enhanced code at the start of the reply text when
    /// there is one of the action's class, else the class alone (`X.0.0`).
    pub fn status(&self, action: Action) -> String {
        let enhanced = self.diagnostic.split_ascii_whitespace().nth(1).filter(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() == 3
                && matches!(parts[0], "2" | "4" | "5")
                && parts[1..]
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        });
        match enhanced {
            Some(code) if code.starts_with(action.class()) => code.to_owned(),
            _ => format!("{}.0.0", action.class()),
        }
    }
}

/// What of the original message a report returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    /// The header section (`text/rfc822-headers`).
    Headers,
    /// The whole message (`message/rfc822`).
    Full,
    /// `RET=FULL` was asked, but the message is larger than the limit: the header
    /// section, and a line in the explanation saying why.
    HeadersOfTooLarge,
}

impl Returned {
    /// Invariant 3: `RET=FULL` on a failure report returns the whole message when it
    /// is at most `full_limit` bytes; everything else returns the header section.
    pub fn choose(ret: Option<DsnRet>, action: Action, size: usize, full_limit: u64) -> Returned {
        match (ret, action) {
            (Some(DsnRet::Full), Action::Failed) if u64::try_from(size).is_ok_and(|s| s <= full_limit) => {
                Returned::Full
            }
            (Some(DsnRet::Full), Action::Failed) => Returned::HeadersOfTooLarge,
            _ => Returned::Headers,
        }
    }
}

/// Everything a report is made of.
#[derive(Clone, Debug)]
pub struct Report<'a> {
    /// Our name: `Reporting-MTA` and the `MAILER-DAEMON` address.
    pub hostname: &'a str,
    /// The original message's envelope sender, to whom the report goes (not null).
    pub sender: &'a str,
    /// The original `ENVID`, decoded.
    pub envid: Option<&'a str>,
    /// Unix seconds the original message arrived here.
    pub arrived_at: i64,
    pub action: Action,
    pub recipients: &'a [RecipientStatus],
    /// The original message (CRLF line endings).
    pub original: &'a [u8],
    pub returned: Returned,
    /// Unix seconds: the report's date and `Last-Attempt-Date`.
    pub now: i64,
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

fn explanation(report: &Report<'_>) -> String {
    let list: String = report
        .recipients
        .iter()
        .map(|r| {
            if r.diagnostic.is_empty() {
                format!("  <{}>\r\n", field_text(&r.recipient))
            } else {
                format!(
                    "  <{}>: {}\r\n",
                    field_text(&r.recipient),
                    field_text(&r.diagnostic)
                )
            }
        })
        .collect();
    let sent = date(report.arrived_at);
    let mut text = match report.action {
        Action::Failed => format!(
            "Thư của bạn (gửi lúc {sent}) KHÔNG THỂ chuyển tới các người nhận sau;\r\n\
             máy chủ sẽ không thử lại.\r\n\r\n\
             Your message (sent {sent}) could NOT be delivered to the recipients below;\r\n\
             no further attempts will be made.\r\n\r\n{list}"
        ),
        Action::Delayed => format!(
            "Thư của bạn (gửi lúc {sent}) CHƯA chuyển được tới các người nhận sau;\r\n\
             máy chủ vẫn đang thử lại, bạn không cần gửi lại.\r\n\r\n\
             Your message (sent {sent}) has NOT YET been delivered to the recipients below;\r\n\
             the server is still trying, you do not need to send it again.\r\n\r\n{list}"
        ),
        Action::Delivered => format!(
            "Thư của bạn (gửi lúc {sent}) đã được chuyển vào hộp thư của các người nhận sau.\r\n\r\n\
             Your message (sent {sent}) was delivered to the mailboxes of the recipients below.\r\n\r\n{list}"
        ),
        Action::Relayed => format!(
            "Thư của bạn (gửi lúc {sent}) đã được chuyển cho máy chủ tiếp theo của các người nhận\r\n\
             sau. Máy chủ đó không hỗ trợ thông báo trạng thái (DSN), nên có thể bạn sẽ không\r\n\
             nhận được thông báo nào nữa về thư này.\r\n\r\n\
             Your message (sent {sent}) was relayed to the next server of the recipients below.\r\n\
             That server does not support delivery status notifications, so you may receive\r\n\
             no further notice about this message.\r\n\r\n{list}"
        ),
    };
    if report.returned == Returned::HeadersOfTooLarge {
        text.push_str(
            "\r\nThư gốc quá lớn để gửi kèm toàn bộ; chỉ kèm phần tiêu đề.\r\n\
             The original message is too large to return in full; only its header is attached.\r\n",
        );
    }
    text
}

/// A token naming the report (`Message-ID`, boundary): a digest of what it is about
/// and of the content it returns (invariant 4).
fn token(report: &Report<'_>, returned: &[u8]) -> String {
    let about = [report.hostname, report.sender, report.action.field()]
        .into_iter()
        .chain(report.recipients.iter().map(|r| r.recipient.as_str()));
    digest_token(about, report.now, returned)
}

/// The first 12 bytes, in hex, of a digest of the names a report is about (each
/// ended by NUL), its date and the content it returns.
fn digest_token<'a>(about: impl Iterator<Item = &'a str>, now: i64, returned: &[u8]) -> String {
    let mut hasher = Sha256::new();
    for name in about {
        hasher.update(name.as_bytes());
        hasher.update([0]);
    }
    hasher.update(now.to_be_bytes());
    hasher.update(returned);
    let digest = hasher.finalize();
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Builds the report (the sender is not null: see the callers) with mail-builder,
/// which writes the header fields (encoded words, folding, date) and the MIME
/// structure; the three parts' contents are ours.
pub fn build(report: &Report<'_>) -> Vec<u8> {
    let hostname = report.hostname;
    let (returned, returned_type) = match report.returned {
        Returned::Full => (report.original, "message/rfc822"),
        Returned::Headers | Returned::HeadersOfTooLarge => {
            (header_fields(report.original), "text/rfc822-headers")
        }
    };
    let token = token(report, returned);
    let parts = vec![
        explanation_part(explanation(report)),
        MimePart::new(
            ContentType::new("message/delivery-status"),
            delivery_status(report).into_bytes(),
        )
        .transfer_encoding("7bit"),
        returned_part(returned_type, returned),
    ];
    multipart_report(
        ReportHead {
            from: Address::new_address(Some("Mail Delivery System"), format!("MAILER-DAEMON@{hostname}")),
            // The reverse path as received (it may be UTF-8, RFC 6531; it holds no CR or LF).
            to: report.sender,
            subject: report.action.subject(),
            now: report.now,
            message_id: format!("dsn.{token}@{hostname}"),
        },
        "delivery-status",
        &format!("=_congvu_dsn_{token}"),
        parts,
    )
}

/// The header of a report message.
struct ReportHead<'a> {
    from: Address<'a>,
    to: &'a str,
    subject: &'a str,
    /// Unix seconds: the `Date`.
    now: i64,
    /// Without angle brackets.
    message_id: String,
}

/// The human-readable first part of a report (RFC 6522 §3), UTF-8 text.
fn explanation_part<'a>(text: String) -> MimePart<'a> {
    MimePart::new(ContentType::new("text/plain").attribute("charset", "utf-8"), text)
}

/// RFC 6522 §3 (`text/rfc822-headers`): the header fields of `original`, without
/// the empty line.
fn header_fields(original: &[u8]) -> &[u8] {
    original.get(..rfc5322::fields_len(original)).unwrap_or_default()
}

/// The last part of a report: what it returns of the original message (the header
/// section or the whole of it).
fn returned_part<'a>(content_type: &'a str, returned: &'a [u8]) -> MimePart<'a> {
    // Written as is (RFC 2046 §5.2.1: message/rfc822 is never encoded), ending with
    // its own line break so the delimiter's CRLF does not eat the last one.
    let returned: Cow<'_, [u8]> = if returned.ends_with(b"\n") {
        Cow::Borrowed(returned)
    } else {
        Cow::Owned([returned, b"\r\n"].concat())
    };
    let encoding = if data::is_8bit(&returned) { "8bit" } else { "7bit" };
    MimePart::new(ContentType::new(content_type), BodyPart::Binary(returned)).transfer_encoding(encoding)
}

/// A `multipart/report` (RFC 6522 §3) of `report_type` holding `parts` — the one
/// assembly of both reports, the DSN and the MDN; mail-builder writes the header
/// fields (encoded words, folding, date) and the MIME structure.
fn multipart_report(
    head: ReportHead<'_>,
    report_type: &str,
    boundary: &str,
    parts: Vec<MimePart<'_>>,
) -> Vec<u8> {
    // RFC 3464 §2 / RFC 8098 §3 / RFC 6522 §3: `report-type` written as the RFCs'
    // examples do (a token, unquoted); the boundary is ours (invariant 4).
    let content_type = format!("multipart/report; report-type={report_type}; boundary=\"{boundary}\"");
    let body = MimePart {
        headers: vec![("Content-Type".into(), Raw::new(content_type).into())],
        contents: BodyPart::Multipart(parts),
    };
    let mut out = Vec::new();
    MessageBuilder::new()
        .from(head.from)
        .to(Address::new_address(None::<&str>, head.to))
        .subject(head.subject)
        .date(Date::new(head.now))
        .message_id(head.message_id)
        // RFC 3834 §5: automatic replies must not be answered automatically; an MDN
        // must not be answered by another (RFC 8098 §2.1).
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(body)
        .serialize(&mut out);
    out
}

/// The `message/delivery-status` part: per-message fields, then one block per
/// recipient (RFC 3464 §2.2, §2.3, in their order).
fn delivery_status(report: &Report<'_>) -> String {
    let mut out = String::new();
    if let Some(envid) = report.envid {
        out.push_str(&format!("Original-Envelope-Id: {}\r\n", field_text(envid)));
    }
    out.push_str(&format!("Reporting-MTA: dns; {}\r\n", report.hostname));
    out.push_str(&format!("Arrival-Date: {}\r\n", date(report.arrived_at)));
    for recipient in report.recipients {
        out.push_str("\r\n");
        if let Some(original) = &recipient.original {
            out.push_str(&format!(
                "Original-Recipient: {};{}\r\n",
                field_text(&original.addr_type),
                field_text(&original.address)
            ));
        }
        out.push_str(&format!(
            "Final-Recipient: rfc822; {}\r\n",
            field_text(&recipient.recipient)
        ));
        out.push_str(&format!("Action: {}\r\n", report.action.field()));
        out.push_str(&format!("Status: {}\r\n", recipient.status(report.action)));
        if !recipient.diagnostic.is_empty() {
            out.push_str(&format!(
                "Diagnostic-Code: smtp; {}\r\n",
                field_text(&recipient.diagnostic)
            ));
        }
        out.push_str(&format!("Last-Attempt-Date: {}\r\n", date(report.now)));
    }
    out
}

/// The success report (`Action: delivered`) for the recipients of `delivered` that
/// asked `NOTIFY=SUCCESS`, after their local delivery; `None` when none of them
/// asked, or the sender is null (no report about a report). It returns the header
/// section of `original` (invariant 3). The caller hands it on as the worker does
/// its own reports: [`crate::worker::send_report`].
pub fn delivered_report(
    hostname: &str,
    sender: &str,
    dsn: &DsnRequest,
    delivered: &[String],
    original: &[u8],
    now: i64,
) -> Option<Vec<u8>> {
    if sender.is_empty() {
        return None;
    }
    let recipients: Vec<RecipientStatus> = delivered
        .iter()
        .filter(|r| dsn.notify(r).success)
        .map(|r| RecipientStatus::of(dsn, r.clone(), String::new()))
        .collect();
    if recipients.is_empty() {
        return None;
    }
    Some(build(&Report {
        hostname,
        sender,
        envid: dsn.envid.as_deref(),
        arrived_at: now,
        action: Action::Delivered,
        recipients: &recipients,
        original,
        returned: Returned::Headers,
        now,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use congvu_store::{Notify, RecipientDsn};

    fn status(diagnostic: &str) -> RecipientStatus {
        RecipientStatus {
            recipient: "x@y.vn".into(),
            diagnostic: diagnostic.into(),
            original: None,
        }
    }

    fn with_orcpt(original: &str, diagnostic: &str) -> RecipientStatus {
        RecipientStatus {
            original: Some(OriginalRecipient {
                addr_type: "rfc822".into(),
                address: original.into(),
            }),
            ..status(diagnostic)
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
            ("250 2.6.0 queued", Action::Relayed, "2.6.0"),
            ("250 queued", Action::Relayed, "2.0.0"),
            ("", Action::Delivered, "2.0.0"),
        ];
        for (diagnostic, action, expected) in table {
            assert_eq!(status(diagnostic).status(action), expected, "{diagnostic}");
        }
    }

    #[test]
    fn ret_decides_only_failure_reports_and_is_capped() {
        let table = [
            (None, Action::Failed, 10, Returned::Headers),
            (Some(DsnRet::Headers), Action::Failed, 10, Returned::Headers),
            (Some(DsnRet::Full), Action::Failed, 100, Returned::Full),
            (
                Some(DsnRet::Full),
                Action::Failed,
                101,
                Returned::HeadersOfTooLarge,
            ),
            (Some(DsnRet::Full), Action::Delayed, 10, Returned::Headers),
            (Some(DsnRet::Full), Action::Relayed, 10, Returned::Headers),
        ];
        for (ret, action, size, expected) in table {
            assert_eq!(
                Returned::choose(ret, action, size, 100),
                expected,
                "{ret:?} {action:?} {size}"
            );
        }
    }

    const ORIGINAL: &[u8] = b"Subject: Hello\r\nFrom: a@b.vn\r\n\r\nsecret body\r\n";

    fn report<'a>(recipients: &'a [RecipientStatus], returned: Returned) -> Report<'a> {
        Report {
            hostname: "mx.a.vn",
            sender: "tuanna.sttt@thanhhoa.gov.vn",
            envid: None,
            arrived_at: 1_700_000_000,
            action: Action::Failed,
            recipients,
            original: ORIGINAL,
            returned,
            now: 1_700_000_100,
        }
    }

    #[test]
    fn report_is_parseable_multipart_with_original_headers() {
        let failed = [status("550 5.1.1 no")];
        let report = build(&report(&failed, Returned::Headers));
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
        assert!(raw.contains("text/rfc822-headers"));
        assert!(raw.contains("Subject: Hello") && !raw.contains("secret body"));
        assert!(!raw.contains("Original-Envelope-Id") && !raw.contains("Original-Recipient"));
    }

    #[test]
    fn full_return_envid_and_orcpt() {
        let failed = [with_orcpt("Tuan.Anh@b.vn", "550 5.1.1 no")];
        let built = build(&Report {
            envid: Some("QQ314159"),
            ..report(&failed, Returned::Full)
        });
        let raw = String::from_utf8_lossy(&built);
        assert!(raw.contains("\r\nOriginal-Envelope-Id: QQ314159\r\nReporting-MTA: dns; mx.a.vn\r\n"));
        assert!(
            raw.contains(
                "\r\nOriginal-Recipient: rfc822;Tuan.Anh@b.vn\r\nFinal-Recipient: rfc822; x@y.vn\r\n"
            )
        );
        assert!(raw.contains(
            "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\nSubject: Hello"
        ));
        assert!(raw.contains("secret body"), "the whole message returned");
        let message = mail_parser::MessageParser::default().parse(&built).unwrap();
        let attached = message
            .attachments()
            .find_map(|part| part.message())
            .expect("the original as message/rfc822");
        assert_eq!(attached.subject(), Some("Hello"));

        let capped = String::from_utf8(build(&report(&failed, Returned::HeadersOfTooLarge))).unwrap();
        assert!(capped.contains("text/rfc822-headers") && !capped.contains("secret body"));
        let message = mail_parser::MessageParser::default()
            .parse(capped.as_bytes())
            .unwrap();
        assert!(
            message
                .body_text(0)
                .unwrap()
                .contains("too large to return in full")
        );
    }

    #[test]
    fn report_fields_stay_one_line_whatever_the_values() {
        let failed = [with_orcpt("x@y.vn\r\nX-Evil: 1", "550 5.1.1 no\r\nX-Evil: 2")];
        let built = build(&Report {
            envid: Some("id\r\nX-Evil: 3"),
            ..report(&failed, Returned::Headers)
        });
        let raw = String::from_utf8_lossy(&built);
        assert!(!raw.contains("\nX-Evil"), "{raw}");
    }

    #[test]
    fn delivered_report_only_for_success_requests() {
        let wants = |address: &str, notify| RecipientDsn {
            address: address.into(),
            notify: Some(notify),
            orcpt: Some(OriginalRecipient {
                addr_type: "rfc822".into(),
                address: address.to_uppercase(),
            }),
        };
        let success = Notify {
            success: true,
            ..Notify::NEVER
        };
        let dsn = DsnRequest {
            ret: Some(DsnRet::Full),
            envid: Some("E1".into()),
            recipients: vec![wants("a@x.vn", success), wants("b@x.vn", Notify::DEFAULT)],
        };
        let delivered = ["a@x.vn".to_string(), "b@x.vn".to_string(), "c@x.vn".to_string()];
        let built = delivered_report("mx.a.vn", "s@b.vn", &dsn, &delivered, ORIGINAL, 1_700_000_000)
            .expect("a@x.vn asked for success");
        let raw = String::from_utf8_lossy(&built);
        assert!(raw.contains("Action: delivered") && raw.contains("Status: 2.0.0"));
        assert!(
            raw.contains("Original-Envelope-Id: E1") && raw.contains("Original-Recipient: rfc822;A@X.VN")
        );
        assert!(raw.contains("Final-Recipient: rfc822; a@x.vn"));
        assert!(!raw.contains("b@x.vn") && !raw.contains("c@x.vn"));
        assert!(
            !raw.contains("Diagnostic-Code") && !raw.contains("secret body"),
            "headers only"
        );
        let message = mail_parser::MessageParser::default().parse(&built).unwrap();
        assert_eq!(message.subject(), Some("Thư đã tới người nhận / Delivered mail"));

        let nobody = &delivered[1..];
        assert!(delivered_report("mx.a.vn", "s@b.vn", &dsn, nobody, ORIGINAL, 0).is_none());
        assert!(delivered_report("mx.a.vn", "", &dsn, &delivered, ORIGINAL, 0).is_none());
    }
}
