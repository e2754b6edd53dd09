//! Art. 15.3: an agency reports a personnel change within 10 days of the decision.
//! A draft request records the decision's effective date when the clerk starts the
//! form; once it is `[directory] filing_reminder_days` old (7 by default) and still
//! not submitted, one reminder goes to the agency mailbox, while there is still time
//! to file on time. Run with the hourly housekeeping (`retention`).
//!
//! ## Invariants
//! 1. **Once per request.** The reminder is recorded on the request (and in the audit
//!    log) after it is delivered; a crash in between delivers it again at the next
//!    run, never zero times.
//! 2. A request submitted meanwhile, or an agency dissolved, gets none.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use congvu_directory::Directory;
use congvu_directory::request::Request;
use congvu_store::{Delivery, DeliveryFolder, MailStore};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;

/// Vietnam's offset (no daylight saving since 1975): reminders are dated as read there.
const VIETNAM: i32 = 7 * 3600;

/// The reminder for `request`, from `from` to the agency mailbox `to`.
fn message(
    request: &Request,
    late_filing_days: u32,
    from: &str,
    to: &str,
    hostname: &str,
    now: i64,
) -> Vec<u8> {
    let deadline = NaiveDate::parse_from_str(&request.effective_date, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.checked_add_signed(Duration::days(i64::from(late_filing_days))))
        .map_or_else(|| "?".to_owned(), |date| date.format("%d/%m/%Y").to_string());
    let form = request.form.number();
    let id = request.id;
    let subject = format!(
        "Nhắc gửi Mẫu {form} (yêu cầu số {id}) trước ngày {deadline} / Reminder: file Form {form} (request {id}) by {deadline}"
    );
    let body = format!(
        "Kính gửi {agency},\r\n\r\n\
         Yêu cầu số {id} (Mẫu {form}) lập bởi {by} cho quyết định có hiệu lực từ ngày {effective} \
         vẫn là bản nháp, chưa gửi Văn phòng UBND tỉnh.\r\n\
         Theo khoản 3 Điều 15 Quy chế (Quyết định 3380/2013/QĐ-UBND), thay đổi phải được báo \
         trong vòng {late_filing_days} ngày kể từ ngày quyết định có hiệu lực, tức là đến hết ngày {deadline}.\r\n\
         Hãy kiểm tra và gửi yêu cầu tại bảng điều khiển: /console/requests/{id}\r\n\r\n\
         Request {id} (Form {form}), drafted by {by} for a decision effective {effective}, is still a \
         draft and has not been submitted to the Provincial Office. Art. 15.3 asks for changes to be \
         reported within {late_filing_days} days of the decision, that is by {deadline}. Check and \
         submit it in the console: /console/requests/{id}\r\n",
        agency = request.agency_name,
        by = request.filed_by,
        effective = request.effective_date,
    );
    let date = DateTime::from_timestamp(now, 0)
        .zip(FixedOffset::east_opt(VIETNAM))
        .map(|(utc, offset)| utc.with_timezone(&offset).to_rfc2822())
        .unwrap_or_default();
    let mut out = Vec::new();
    MessageBuilder::new()
        .from(Address::new_address(None::<&str>, from))
        .to(Address::new_address(Some(request.agency_name.as_str()), to))
        .subject(subject)
        .header("Date", Raw::new(date))
        .message_id(format!("filing-reminder-{id}-{now}@{hostname}"))
        // RFC 3834 §5: generated, not to be answered automatically.
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .body(
            MimePart::new(ContentType::new("text/plain").attribute("charset", "utf-8"), body)
                .transfer_encoding("8bit"),
        )
        .serialize(&mut out);
    out
}

/// Sends every reminder due at `now`; returns how many were sent. One that fails is
/// logged and tried again at the next run.
pub fn send_due(
    directory: &Directory,
    store: &dyn MailStore,
    hostname: &str,
    reminder_days: u32,
    late_filing_days: u32,
    now: i64,
) -> usize {
    let due = match directory.filing_reminders_due(reminder_days, now) {
        Ok(due) => due,
        Err(error) => {
            tracing::error!(error = %error, "cannot list the drafts due a filing reminder");
            return 0;
        }
    };
    let from = format!("postmaster@{}", directory.primary_domain());
    let mut sent = 0;
    for request in due {
        let agency = match directory.agency(&request.agency) {
            Ok(Some(agency)) => agency,
            Ok(None) => continue,
            Err(error) => {
                tracing::error!(request = request.id, error = %error, "filing reminder: agency not read");
                continue;
            }
        };
        let bytes = message(&request, late_filing_days, &from, &agency.address, hostname, now);
        let delivery = Delivery {
            bytes: &[&bytes],
            internal_date: now,
            internal_date_offset: VIETNAM,
            targets: std::slice::from_ref(&agency.account),
            folder: DeliveryFolder::Inbox,
        };
        if let Err(error) = store.deliver(&delivery) {
            tracing::error!(request = request.id, error = %error, "filing reminder not delivered");
            continue;
        }
        match directory.record_filing_reminder(request.id, "congvu", now) {
            Ok(_) => {
                sent += 1;
                tracing::info!(request = request.id, agency = %agency.abbr, "filing reminder sent");
            }
            // Delivered but not recorded: the next run sends it again (invariant 1).
            Err(error) => {
                tracing::error!(request = request.id, error = %error, "filing reminder not recorded")
            }
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;
    use congvu_directory::request::{Form, Requester, State};

    #[test]
    fn the_reminder_names_the_request_and_its_deadline_in_both_languages() {
        let request = Request {
            id: 42,
            form: Form::Change,
            agency: "sttt".into(),
            agency_name: "Sở Thông tin và Truyền thông".into(),
            requester: Requester::default(),
            effective_date: "2026-12-01".into(),
            lines: Vec::new(),
            state: State::Draft,
            filed_by: "tuanna.sttt@thanhhoa.gov.vn".into(),
            created_at: 0,
            submitted_at: None,
            filing_date: None,
            days_after_effect: None,
            late: false,
            decided_by: None,
            decided_at: None,
            reason: None,
            reminded_at: None,
            results: Vec::new(),
        };
        let raw = message(
            &request,
            10,
            "postmaster@thanhhoa.gov.vn",
            "sttt@thanhhoa.gov.vn",
            "mail.thanhhoa.gov.vn",
            1_764_900_000,
        );
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            parsed.subject(),
            Some(
                "Nhắc gửi Mẫu 02 (yêu cầu số 42) trước ngày 11/12/2026 / Reminder: file Form 02 (request 42) by 11/12/2026"
            )
        );
        let body = parsed.body_text(0).unwrap();
        assert!(
            body.starts_with("Kính gửi Sở Thông tin và Truyền thông,"),
            "{body}"
        );
        assert!(body.contains("/console/requests/42") && body.contains("Request 42 (Form 02)"));
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("Auto-Submitted: auto-generated") && text.contains("+0700"),
            "{text}"
        );
    }
}
