//! Art. 9.1: when a delivery takes a mailbox across 90 % of its quota, one bilingual
//! warning is delivered into that mailbox's INBOX, so the official can make room
//! before mail starts being refused (452 4.2.2 at RCPT, 552 5.2.2 at DATA).
//!
//! "Across" means usage was below the threshold before this message and at or above
//! it after, so each crossing warns once; a mailbox that stays above it is not warned
//! again until it drops below and crosses anew. Two deliveries racing across the line
//! at the same instant may both warn — harmless, and cheaper than a lock.

use chrono::{DateTime, Local};
use congvu_policy::rewrite::encode_header_value;
use congvu_store::{AccountId, Delivery, DeliveryFolder, DeliveryOutcome, MailStore};
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

/// The warning message: UTF-8 text, Vietnamese first, then English.
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
    format!(
        "From: <{from}>\r\nTo: <{address}>\r\nSubject: {}\r\nDate: {}\r\n\
         Message-ID: <quota-{id:016x}@{hostname}>\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}",
        encode_header_value(&subject),
        now.to_rfc2822(),
    )
    .into_bytes()
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
        let text = String::from_utf8(raw).unwrap();
        assert!(text.contains("Subject: =?UTF-8?B?"));
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(body.starts_with(
            "Hộp thư tuanna.sttt@thanhhoa.gov.vn đã dùng 95.0 MB trên tổng dung lượng 100.0 MB (95%)"
        ));
        assert!(body.contains("The mailbox tuanna.sttt@thanhhoa.gov.vn uses 95.0 MB"));
    }
}
