//! Acknowledgement of receipt (Decision 3380 Art. 16.2.a "trả lời đã tiếp nhận"), the
//! SMTP side: which delivered messages await one, and the acknowledgement a keeper's
//! mail client sends itself.
//!
//! ## Which messages await an acknowledgement
//! A message delivered to an **agency mailbox** (directory kind `agency`, not an
//! official's) awaits one — a [`PendingAck`] in `store.acks` — when
//! - it comes from another agency: its envelope sender is another agency mailbox of
//!   this server, or it came in on MX from an agency relay network
//!   (`[policy] agency_relays`); or
//! - its sender asks for one: `Disposition-Notification-To` (RFC 8098 §2.1).
//!
//! Never for the null sender, a report (`multipart/report`: DSNs, and MDNs — an MDN
//! is not answered by another, RFC 8098 §2.1) or an automatic message
//! (`Auto-Submitted` other than `no`, RFC 3834 §5). The record keeps the
//! `Message-ID`; a message without one gets `Message-ID: <congvu.{transaction}.{unix
//! time}@{hostname}>` added to the stored copies (RFC 6409 §8.3 lets the submission
//! server add it; on MX this is the final delivery), so that the keeper's
//! acknowledgement and the MDN name what the agency received.
//!
//! ## How the keeper acknowledges (the decision)
//! - **In the mail client** (Thunderbird, Outlook: "send receipt"): the client sends
//!   the MDN itself through submission. A submitted `multipart/report;
//!   report-type=disposition-notification` whose `Original-Message-ID` names a
//!   pending message of an agency mailbox the official may use — their own login or
//!   a delegation in force (Art. 16.1), the mailbox named by the MDN's
//!   `Final-Recipient` or else its envelope sender — marks that message acknowledged
//!   by the official's login at that time. The dispositions `displayed`,
//!   `dispatched` and `processed` acknowledge; `deleted` does not. The MDN itself goes
//!   on like any message.
//! - **In congvu** (`congvu ack`, `POST /api/v1/acks`, later the console and
//!   webmail): the server writes the MDN itself (`congvu_relay::dsn::mdn`) and records
//!   the operator's login; see `crates/congvu/src/http/admin/ack.rs`.
//!
//! Either way the first acknowledgement wins (the store's compare-and-swap); a later
//! one finds it. Like the mail events, all of it is written after the message is
//! durable, in the blocking task that stored it, and a failure is logged, never
//! turned into a reply (`data.rs`).

use std::sync::{Arc, LazyLock};

use congvu_directory::Directory;
use congvu_protocol::rfc5322;
use congvu_store::{AccountId, AccountKind, DeliveryOutcome, MailStore, PendingAck};
use mail_parser::{HeaderName, MessageParser, MimeHeaders};
use tracing::{error, info, warn};

/// Parses the fields the acknowledgement depends on, and nothing else.
static ACK_FIELDS: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .header_id(HeaderName::MessageId)
        .header_address(HeaderName::From)
        .header_address(HeaderName::DispositionNotificationTo)
        .header_content_type(HeaderName::ContentType)
        .header_raw(HeaderName::AutoSubmitted)
        .default_header_ignore()
});

/// What a message's header says about acknowledgements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct AckHeader {
    /// `Message-ID`, without angle brackets.
    pub(super) message_id: Option<String>,
    /// The first `From` address.
    pub(super) author: Option<String>,
    /// The first `Disposition-Notification-To` address.
    pub(super) notify_to: Option<String>,
    /// A report (`multipart/report`) or an automatic message (`Auto-Submitted`).
    pub(super) automatic: bool,
    /// A disposition notification (`report-type=disposition-notification`).
    pub(super) disposition_notification: bool,
}

pub(super) fn read_header(message: &[u8]) -> AckHeader {
    let Some(parsed) = ACK_FIELDS.parse_headers(message) else {
        return AckHeader::default();
    };
    let first_address = |name: HeaderName<'static>| {
        parsed
            .header(name)
            .and_then(|value| value.as_address())
            .and_then(|list| list.first())
            .and_then(|addr| addr.address())
            .filter(|address| !address.is_empty())
            .map(str::to_owned)
    };
    let content_type = parsed.content_type();
    let report = content_type.is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let report_type = content_type.and_then(|ct| ct.attribute("report-type"));
    let auto_submitted = parsed
        .header(HeaderName::AutoSubmitted)
        .and_then(|value| value.as_text())
        .is_some_and(|value| !value.trim().eq_ignore_ascii_case("no"));
    AckHeader {
        message_id: parsed
            .message_id()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
        author: first_address(HeaderName::From),
        notify_to: first_address(HeaderName::DispositionNotificationTo),
        automatic: report || auto_submitted,
        disposition_notification: report
            && report_type.is_some_and(|t| t.eq_ignore_ascii_case("disposition-notification")),
    }
}

/// Whether a message delivered to an agency mailbox awaits its acknowledgement.
pub(super) fn awaits_acknowledgement(
    header: &AckHeader,
    null_sender: bool,
    from_another_agency: bool,
) -> bool {
    !null_sender && !header.automatic && (from_another_agency || header.notify_to.is_some())
}

/// What a disposition notification acknowledges (RFC 8098 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Disposition {
    /// `Original-Message-ID`, without angle brackets.
    pub(super) original_message_id: String,
    /// The address of `Final-Recipient` (`rfc822; …`), if it has one.
    pub(super) final_recipient: Option<String>,
}

/// The acknowledgement a `multipart/report; report-type=disposition-notification`
/// carries: `None` when it has no `message/disposition-notification` part, no
/// `Original-Message-ID`, or a disposition that is not a receipt (`deleted`).
pub(super) fn read_disposition(message: &[u8]) -> Option<Disposition> {
    let parsed = MessageParser::default().parse(message)?;
    let part = parsed.parts.iter().find(|part| {
        part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("message")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("disposition-notification"))
        })
    })?;
    let fields = part.contents();
    let text = |name: &str| {
        rfc5322::field(fields, name).map(|value| String::from_utf8_lossy(value).trim().to_owned())
    };
    // RFC 8098 §3.2.6: `action-mode/sending-mode; disposition-type[/modifier]`.
    let disposition = text("Disposition")?;
    let kind = disposition
        .rsplit(';')
        .next()?
        .split('/')
        .next()?
        .trim()
        .to_ascii_lowercase();
    if !matches!(kind.as_str(), "displayed" | "dispatched" | "processed") {
        return None;
    }
    let original = text("Original-Message-ID")?;
    let original = original.trim_start_matches('<').trim_end_matches('>').trim();
    if original.is_empty() {
        return None;
    }
    // RFC 8098 §3.2.4: `address-type ";" generic-address`.
    let final_recipient = text("Final-Recipient")
        .and_then(|value| {
            value
                .split_once(';')
                .map(|(_, address)| address.trim().to_owned())
        })
        .filter(|address| !address.is_empty());
    Some(Disposition {
        original_message_id: original.to_owned(),
        final_recipient,
    })
}

/// What the blocking task that stores a message needs for the acknowledgements,
/// gathered before it.
pub(super) struct AckContext {
    pub(super) directory: Arc<Directory>,
    /// The envelope sender, empty for the null reverse path.
    pub(super) sender: String,
    /// The message came in on MX from an agency relay network.
    pub(super) from_agency_relay: bool,
    /// The local recipients that are agency mailboxes.
    pub(super) agency_recipients: Vec<AccountId>,
    /// The authenticated official (submission): account and login.
    pub(super) submitter: Option<(AccountId, String)>,
    /// The `Message-ID` given to a message that has none.
    pub(super) fallback_message_id: String,
}

/// The acknowledgement work of one message, decided from its header before it is
/// stored.
pub(super) struct AckPlan {
    context: AckContext,
    header: AckHeader,
    /// The agency mailboxes whose copy will await an acknowledgement.
    awaiting: Vec<AccountId>,
    /// A `Message-ID:` field to add to the stored copies (empty: none).
    pub(super) added_message_id: Vec<u8>,
}

impl AckContext {
    /// Reads the header (only when an agency mailbox receives the message or an
    /// official submits it) and decides.
    pub(super) fn plan(self, message: &[u8]) -> AckPlan {
        let relevant = !self.agency_recipients.is_empty() || self.submitter.is_some();
        let mut header = if relevant {
            read_header(message)
        } else {
            AckHeader::default()
        };
        let agency_sender = self.agency_sender();
        let awaiting: Vec<AccountId> = self
            .agency_recipients
            .iter()
            .copied()
            .filter(|recipient| {
                let from_another_agency =
                    self.from_agency_relay || agency_sender.is_some_and(|sender| sender != *recipient);
                awaits_acknowledgement(&header, self.sender.is_empty(), from_another_agency)
            })
            .collect();
        let mut added_message_id = Vec::new();
        if !awaiting.is_empty() && header.message_id.is_none() {
            added_message_id = format!("Message-ID: <{}>\r\n", self.fallback_message_id).into_bytes();
            header.message_id = Some(self.fallback_message_id.clone());
        }
        AckPlan {
            context: self,
            header,
            awaiting,
            added_message_id,
        }
    }

    /// The envelope sender's account when it is an agency mailbox of this server.
    fn agency_sender(&self) -> Option<AccountId> {
        if self.sender.is_empty() {
            return None;
        }
        match self.directory.lookup(&self.sender) {
            Ok(Some(record)) if record.kind == AccountKind::Agency => Some(record.account),
            Ok(_) => None,
            Err(error) => {
                warn!(%error, "directory lookup of the sender failed: not taken for an agency");
                None
            }
        }
    }
}

impl AckPlan {
    /// After delivery: records the copies that await an acknowledgement, and the
    /// acknowledgement a submitted MDN carries. Failures are logged.
    pub(super) fn record(
        &self,
        store: &dyn MailStore,
        outcomes: &[DeliveryOutcome],
        message: &[u8],
        now: i64,
        id: &str,
    ) {
        for outcome in outcomes {
            let DeliveryOutcome::Delivered {
                account,
                mailbox,
                uid,
            } = outcome
            else {
                continue;
            };
            if !self.awaiting.contains(account) {
                continue;
            }
            let Some(message_id) = self.header.message_id.clone() else {
                continue;
            };
            let sender = self
                .header
                .author
                .clone()
                .unwrap_or_else(|| self.context.sender.clone());
            let pending = PendingAck {
                account: *account,
                mailbox: *mailbox,
                uid: *uid,
                message_id,
                sender,
                notify_to: self.header.notify_to.clone(),
                received_at: now,
                acknowledged: None,
            };
            match store.record_pending_ack(&pending) {
                Ok(()) => info!(
                    id,
                    account = account.0,
                    "message awaits acknowledgement of receipt"
                ),
                Err(error) => error!(id, account = account.0, %error, "pending acknowledgement not recorded"),
            }
        }
        if self.header.disposition_notification
            && let Some((official, login)) = &self.context.submitter
            && let Some(disposition) = read_disposition(message)
        {
            self.acknowledge(store, *official, login, &disposition, now, id);
        }
    }

    /// Marks acknowledged the pending message an official's MDN names, in the
    /// first agency mailbox named by it that the official may use.
    fn acknowledge(
        &self,
        store: &dyn MailStore,
        official: AccountId,
        login: &str,
        disposition: &Disposition,
        now: i64,
        id: &str,
    ) {
        let named = disposition
            .final_recipient
            .iter()
            .chain(std::iter::once(&self.context.sender));
        for address in named {
            let Some(agency) = self.usable_agency(official, address) else {
                continue;
            };
            match store.acknowledge(agency, &disposition.original_message_id, login, now) {
                Ok(Some(ack)) => {
                    let first = ack
                        .acknowledged
                        .as_ref()
                        .is_some_and(|a| a.by == login && a.at == now);
                    info!(
                        id,
                        agency = agency.0,
                        by = ack.acknowledged.as_ref().map_or("", |a| a.by.as_str()),
                        already = !first,
                        "acknowledgement of receipt sent by the mail client"
                    );
                    return;
                }
                Ok(None) => {}
                Err(error) => {
                    error!(id, agency = agency.0, %error, "acknowledgement not recorded");
                    return;
                }
            }
        }
    }

    /// The agency mailbox at `address` if the official may use it (own, delegated).
    fn usable_agency(&self, official: AccountId, address: &str) -> Option<AccountId> {
        let directory = &self.context.directory;
        let record = match directory.lookup(address) {
            Ok(Some(record)) if record.kind == AccountKind::Agency => record,
            Ok(_) => return None,
            Err(error) => {
                warn!(%error, "directory lookup of an acknowledging agency failed");
                return None;
            }
        };
        match directory.may_access(official, record.account) {
            Ok(true) => Some(record.account),
            Ok(false) => None,
            Err(error) => {
                warn!(%error, "delegation check of an acknowledgement failed");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &[u8] = b"From: \"S\xe1\xbb\x9f TT\" <sttt@thanhhoa.gov.vn>\r\n\
        Message-ID: <cv12@thanhhoa.gov.vn>\r\n\
        Disposition-Notification-To: Van thu <vanthu.sttt@thanhhoa.gov.vn>\r\n\
        Subject: x\r\n\r\nbody\r\n";

    #[test]
    fn the_header_names_the_message_its_author_and_whom_to_notify() {
        let header = read_header(PLAIN);
        assert_eq!(
            header,
            AckHeader {
                message_id: Some("cv12@thanhhoa.gov.vn".to_owned()),
                author: Some("sttt@thanhhoa.gov.vn".to_owned()),
                notify_to: Some("vanthu.sttt@thanhhoa.gov.vn".to_owned()),
                automatic: false,
                disposition_notification: false,
            }
        );
        let lower = read_header(b"disposition-notification-to: a@b.vn\r\n\r\n");
        assert_eq!(lower.notify_to.as_deref(), Some("a@b.vn"));
        assert_eq!(lower.message_id, None);
        assert_eq!(read_header(b"no header at all"), AckHeader::default());
    }

    #[test]
    fn reports_and_automatic_messages_are_automatic() {
        let dsn =
            read_header(b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n");
        assert!(dsn.automatic && !dsn.disposition_notification);
        let mdn = read_header(
            b"Content-Type: multipart/report; report-type=\"disposition-notification\"; boundary=x\r\n\r\n",
        );
        assert!(mdn.automatic && mdn.disposition_notification);
        assert!(read_header(b"Auto-Submitted: auto-replied\r\n\r\n").automatic);
        assert!(!read_header(b"Auto-Submitted: no\r\n\r\n").automatic);
    }

    #[test]
    fn which_messages_await_an_acknowledgement() {
        let asked = read_header(PLAIN);
        let plain = AckHeader {
            notify_to: None,
            ..asked.clone()
        };
        let automatic = AckHeader {
            automatic: true,
            ..asked.clone()
        };
        // (header, null sender, from another agency, awaits)
        let table = [
            (&plain, false, false, false),
            (&plain, false, true, true),
            (&asked, false, false, true),
            (&asked, true, true, false),
            (&automatic, false, true, false),
        ];
        for (header, null_sender, from_agency, expected) in table {
            assert_eq!(
                awaits_acknowledgement(header, null_sender, from_agency),
                expected,
                "{header:?} {null_sender} {from_agency}"
            );
        }
    }

    fn mdn(disposition: &str) -> Vec<u8> {
        format!(
            "From: syt@thanhhoa.gov.vn\r\n\
             Content-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nread\r\n\
             --b\r\nContent-Type: message/disposition-notification; name=\"MDNPart2.txt\"\r\n\r\n\
             Reporting-UA: client; Thunderbird\r\n\
             Final-Recipient: rfc822;syt@thanhhoa.gov.vn\r\n\
             Original-Message-ID: <cv12@thanhhoa.gov.vn>\r\n\
             Disposition: {disposition}\r\n\r\n\
             --b--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn a_client_mdn_names_the_message_and_the_agency() {
        let expected = Disposition {
            original_message_id: "cv12@thanhhoa.gov.vn".to_owned(),
            final_recipient: Some("syt@thanhhoa.gov.vn".to_owned()),
        };
        let sent = mdn("manual-action/MDN-sent-manually; displayed");
        assert!(read_header(&sent).disposition_notification);
        assert_eq!(read_disposition(&sent), Some(expected.clone()));
        assert_eq!(
            read_disposition(&mdn("automatic-action/MDN-sent-automatically; processed/error")),
            Some(expected)
        );
        assert_eq!(
            read_disposition(&mdn("manual-action/MDN-sent-manually; deleted")),
            None
        );
        assert_eq!(read_disposition(PLAIN), None);
        // The MDN the server itself writes reads back the same way.
        let built = congvu_relay::dsn::mdn::build(&congvu_relay::dsn::mdn::Receipt {
            reporting_host: "mail.thanhhoa.gov.vn",
            agency: "syt@thanhhoa.gov.vn",
            agency_name: "Sở Y tế",
            to: "sttt@thanhhoa.gov.vn",
            original_message_id: "cv12@thanhhoa.gov.vn",
            received_at: 0,
            original: None,
            now: 0,
        });
        assert_eq!(
            read_disposition(&built).map(|d| d.original_message_id),
            Some("cv12@thanhhoa.gov.vn".to_owned())
        );
    }
}
