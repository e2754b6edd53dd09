//! Art. 9.1: when a delivery takes a mailbox across 90 % of its quota, one bilingual
//! warning is delivered into that mailbox's INBOX, so the official can make room
//! before mail starts being refused (452 4.2.2 at RCPT, 552 5.2.2 at DATA).
//!
//! "Across" means usage was below the threshold before this message and at or above
//! it after, so each crossing warns once; a mailbox that stays above it is not warned
//! again until it drops below and crosses anew. Two deliveries racing across the line
//! at the same instant may both warn — harmless, and cheaper than a lock.

use chrono::{DateTime, Local};
use congvu_store::{AccountId, Delivery, DeliveryFolder, DeliveryOutcome, MailStore};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use tracing::{info, warn};

/// The warning threshold, in percent of the quota.
const WARNING_PERCENT: u64 = 90;

/// True when adding `added` bytes took usage from below to at least the threshold.
fn crossed(used_after: u64, added: u64, quota: u64) -> bool {
    let threshold = u128::from(quota) * u128::from(WARNING_PERCENT);
    let after = u128::from(used_after) * 100;
    let before = u128::from(used_after.saturating_sub(added)) * 100;
    quota > 0 && before < threshold && after >= threshold
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// The warning message: UTF-8 text, Vietnamese first, then English, built by
/// mail-builder (encoded and folded subject, addresses, MIME header fields).
fn warning_message(
    from: &str,
    hostname: &str,
    address: &str,
    used: u64,
    quota: u64,
    now: &DateTime<Local>,
) -> Vec<u8> {
    let percent = used.saturating_mul(100) / quota.max(1);
    let subject = format!("Cảnh báo: hộp thư đã dùng {percent}% dung lượng / Mailbox {percent}% full");
    let body = format!(
        "Hộp thư {address} đã dùng {} trên tổng dung lượng {} ({percent}%).\r\n\
         Khi hộp thư đầy, thư gửi đến sẽ bị từ chối. Hãy xoá thư không cần thiết hoặc\r\n\
         lưu trữ thư cũ, và dọn thư mục Thùng rác.\r\n\r\n\
         The mailbox {address} uses {} of its {} quota ({percent}%).\r\n\
         When it is full, incoming mail will be refused. Delete mail you no longer need\r\n\
         or archive old mail, and empty the Trash folder.\r\n",
        megabytes(used),
        megabytes(quota),
        megabytes(used),
        megabytes(quota),
    );
    let id: u64 = rand::random();
    let mut message = Vec::new();
    MessageBuilder::new()
        .from(Address::new_address(None::<&str>, from))
        .to(Address::new_address(None::<&str>, address))
        .subject(subject)
        // In the server's own offset (Vietnam's +0700), as a person reads it;
        // mail-builder's Date writes UTC only.
        .header("Date", Raw::new(now.to_rfc2822()))
        .message_id(format!("quota-{id:016x}@{hostname}"))
        // RFC 3834 §5: generated automatically, not to be answered automatically.
        .header("Auto-Submitted", Raw::new("auto-generated"))
        // 8bit, as a local delivery may (RFC 6152): an official's client reading the
        // raw message sees the text, and the message stays small.
        .body(
            MimePart::new(ContentType::new("text/plain").attribute("charset", "utf-8"), body)
                .transfer_encoding("8bit"),
        )
        .serialize(&mut message);
    message
}

/// Warns every recipient whose delivery of `added` bytes crossed the threshold.
/// Called after the message is durable: failures are logged and never undo it.
pub(super) struct Postmaster<'a> {
    /// The sender of the warning: `postmaster@` the local domain.
    pub(super) from: &'a str,
    /// For the Message-ID.
    pub(super) hostname: &'a str,
}

pub(super) fn warn_crossed(
    store: &dyn MailStore,
    postmaster: &Postmaster<'_>,
    recipients: &[(AccountId, String)],
    outcomes: &[DeliveryOutcome],
    added: u64,
    now: &DateTime<Local>,
) {
    for outcome in outcomes {
        let DeliveryOutcome::Delivered { account, .. } = outcome else {
            continue;
        };
        let storage = match store.account(*account) {
            Ok(Some(storage)) => storage,
            Ok(None) => continue,
            Err(e) => {
                warn!(account = account.0, error = %e, "quota check after delivery failed");
                continue;
            }
        };
        if !crossed(storage.used_bytes, added, storage.quota_bytes) {
            continue;
        }
        let address = recipients
            .iter()
            .find(|(id, _)| id == account)
            .map_or("", |(_, address)| address.as_str());
        let warning = warning_message(
            postmaster.from,
            postmaster.hostname,
            address,
            storage.used_bytes,
            storage.quota_bytes,
            now,
        );
        let delivery = Delivery {
            bytes: &[&warning],
            internal_date: now.timestamp(),
            internal_date_offset: now.offset().local_minus_utc(),
            targets: std::slice::from_ref(account),
            folder: DeliveryFolder::Inbox,
        };
        match store.deliver(&delivery) {
            Ok(_) => info!(
                account = account.0,
                used = storage.used_bytes,
                quota = storage.quota_bytes,
                "quota warning delivered"
            ),
            Err(e) => warn!(account = account.0, error = %e, "quota warning not delivered"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_table() {
        // (used after, added, quota, crossed?)
        let cases = [
            (90, 1, 100, true),
            (89, 1, 100, false),
            (95, 10, 100, true),
            (95, 4, 100, false),
            (100, 100, 100, true),
            (50, 10, 0, false),
            (u64::MAX, 1, u64::MAX, false),
        ];
        for (used, added, quota, expected) in cases {
            assert_eq!(crossed(used, added, quota), expected, "{used} {added} {quota}");
        }
    }

    #[test]
    fn warning_is_bilingual_mime() {
        let now = Local::now();
        let raw = warning_message(
            "postmaster@thanhhoa.gov.vn",
            "mail.thanhhoa.gov.vn",
            "tuanna.sttt@thanhhoa.gov.vn",
            95 << 20,
            100 << 20,
            &now,
        );
        let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            message.subject(),
            Some("Cảnh báo: hộp thư đã dùng 95% dung lượng / Mailbox 95% full")
        );
        let auto_submitted = message.header("Auto-Submitted").and_then(|value| value.as_text());
        assert_eq!(auto_submitted, Some("auto-generated"));
        let from = message
            .from()
            .and_then(|from| from.first())
            .and_then(|from| from.address());
        assert_eq!(from, Some("postmaster@thanhhoa.gov.vn"));
        assert_eq!(
            message.date().map(|date| date.to_timestamp()),
            Some(now.timestamp()),
            "dated now"
        );
        assert!(
            String::from_utf8_lossy(&raw).contains("\r\n\r\nHộp thư tuanna.sttt@"),
            "the text as it is, 8bit"
        );
        let body = message.body_text(0).unwrap();
        assert!(body.starts_with(
            "Hộp thư tuanna.sttt@thanhhoa.gov.vn đã dùng 95.0 MB trên tổng dung lượng 100.0 MB (95%)"
        ));
        assert!(body.contains("The mailbox tuanna.sttt@thanhhoa.gov.vn uses 95.0 MB"));
    }
}
