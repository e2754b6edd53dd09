//! DATA (RFC 5321 §4.1.1.4): reading is the driver's job with a [`DataReader`];
//! this file opens the phase and, at the terminating dot, stores the message.
//!
//! `250` is sent only after everything is durable: local copies delivered by the
//! store and remote recipients queued, both inside one blocking task.
//!
//! Before anything is stored, mail on the MX port goes through sender authentication
//! (`sender_auth.rs`: SPF, DKIM, ARC, DMARC), then every message through the
//! regulation's policy (`policy.rs`); on submission, the `From:`/`Sender:` addresses
//! must be the official's to send as (`from_header.rs`) before the policy runs. A
//! refusal by any of them stores nothing. After local
//! delivery, a recipient whose mailbox crossed 90 % of its quota gets a warning
//! (`quota_warning.rs`).
//!
//! Supervision records (issue 14): the mail events of the transaction (`events.rs`)
//! and the acknowledgements of receipt (`ack.rs`) are written in the blocking task
//! that stored the message, after the store made it durable, and a failure to write
//! them is logged, not replied: once the copies are delivered and queued the `250` is
//! decided, and a `451` would make the client send the message again to everybody
//! for the sake of a statistic. The events of a refusal (5xx) are written before its
//! reply, on the blocking pool, with the same rule.
//!
//! Over quota at DATA (the mailbox filled up after RCPT): SMTP has one reply for all
//! recipients of a DATA. If no copy was stored anywhere the reply is `552 5.2.2`;
//! if some copy was, the reply is `250` — a failure would make the client send it
//! again to everybody — and the lost recipients are logged (a bounce to the sender
//! comes with outbound delivery).

use std::sync::Arc;
use std::time::Instant;

use chrono::Local;
use congvu_store::{Delivery, DeliveryFolder, DeliveryOutcome, DsnRequest, Outbound, QueueId};
use tracing::{error, info, warn};

use super::ack::AckContext;
use super::dsn::local_request;
use super::events;
use super::message::Message;
use super::quota_warning::{Postmaster, warn_crossed};
use super::spool::Spool;
use super::trace::return_path;
use super::{Action, Envelope, Session, State};
use crate::parse::{DataOutcome, DataOutput, DataReader, ReversePath};
use crate::reply::Reply;

/// Microseconds each check took (0: not run).
#[derive(Debug, Default)]
struct Timings {
    sender_auth: u64,
    originators: u64,
    policy: u64,
    smime: u64,
    antivirus: u64,
}

fn lap(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// A check's refusal: the log outcome, the reply, and the policy's reason code when
/// the policy refused.
struct Refusal {
    outcome: &'static str,
    reply: Reply,
    rule: Option<&'static str>,
}

impl Refusal {
    fn new(outcome: &'static str, reply: Reply) -> Refusal {
        Refusal {
            outcome,
            reply,
            rule: None,
        }
    }
}

/// What the store made of one message.
struct Stored {
    queue: Option<QueueId>,
    outcomes: Vec<DeliveryOutcome>,
}

impl Session {
    pub(super) fn data(&mut self) -> Action {
        let envelope = match self.envelope_for_data() {
            Ok(envelope) => envelope,
            Err(reply) => return Action::Reply(reply),
        };
        let reader = DataReader::with_output(self.ctx.config.max_message_bytes, self.data_output());
        self.state = State::Data(envelope);
        Action::ReadData(Reply::START_DATA, reader)
    }

    pub(super) async fn finish_transaction(&mut self, outcome: DataOutcome) -> Action {
        let idle = self.idle_state();
        let envelope = match std::mem::replace(&mut self.state, idle) {
            State::Data(envelope) => envelope,
            other => {
                self.state = other;
                return Action::Reply(Reply::BAD_SEQUENCE);
            }
        };
        let (mut message, size) = match outcome {
            DataOutcome::Message {
                bytes,
                size,
                repaired,
            } => {
                if repaired > 0 {
                    info!(session = %self.id, id = %envelope.id, repaired, "bare CR/LF made CRLF");
                }
                (Message::new(bytes), size)
            }
            DataOutcome::TooBig { size } => {
                self.log_transaction(&envelope, size, "too_big", None, "");
                self.record_refusal(&envelope, &Reply::MESSAGE_TOO_BIG, None)
                    .await;
                return Action::Reply(Reply::MESSAGE_TOO_BIG);
            }
            DataOutcome::Lost { size, error } => {
                error!(id = %envelope.id, %error, "mail data could not be spooled");
                self.log_transaction(&envelope, size, "failed", None, "");
                return Action::Reply(Reply::LOCAL_ERROR);
            }
        };
        if let Err(refusal) = self.check(&envelope, &mut message).await {
            self.log_transaction(&envelope, size, refusal.outcome, None, "");
            self.record_refusal(&envelope, &refusal.reply, refusal.rule).await;
            return Action::Reply(refusal.reply);
        }
        let Some(stored) = self.store_message(&envelope, &message).await else {
            self.log_transaction(&envelope, size, "failed", None, "");
            return Action::Reply(Reply::LOCAL_ERROR);
        };
        let mut uids = Vec::new();
        for outcome in &stored.outcomes {
            match outcome {
                DeliveryOutcome::Delivered { account, uid, .. } => uids.push(format!("{}:{uid}", account.0)),
                DeliveryOutcome::OverQuota { account } => warn!(
                    id = %envelope.id,
                    account = account.0,
                    "recipient over quota at DATA, copy not stored"
                ),
            }
        }
        let uids = uids.join(",");
        if uids.is_empty() && stored.queue.is_none() {
            self.log_transaction(&envelope, size, "over_quota", None, "");
            self.record_refusal(&envelope, &Reply::MAILBOX_FULL, None).await;
            return Action::Reply(Reply::MAILBOX_FULL);
        }
        let some_over_quota = stored
            .outcomes
            .iter()
            .any(|o| matches!(o, DeliveryOutcome::OverQuota { .. }));
        let outcome = if some_over_quota { "partial" } else { "accepted" };
        self.log_transaction(&envelope, size, outcome, stored.queue, &uids);
        let counters = self.ctx.admission.metrics().listener(self.kind.name());
        counters.message(size);
        Action::Reply(Reply::new(
            250,
            (2, 0, 0),
            format!("OK queued as {}", envelope.id),
        ))
    }

    /// Where this transaction's mail data waits while it arrives (`spool.rs`).
    pub(super) fn data_output(&self) -> Box<dyn DataOutput> {
        let config = &self.ctx.config;
        Box::new(Spool::new(
            config.spool_dir.clone(),
            config.spool_threshold_bytes,
            Arc::clone(&self.ctx.memory_budget),
        ))
    }

    /// Every check, in order; the first refusal stops them. Each check's time goes
    /// in one log line (microseconds), which is also where the benchmark reads them.
    async fn check(&self, envelope: &Envelope, message: &mut Message) -> Result<(), Refusal> {
        let mut timings = Timings::default();
        let result = self.run_checks(envelope, message, &mut timings).await;
        info!(
            session = %self.id,
            id = %envelope.id,
            size = message.body().len(),
            sender_auth_us = timings.sender_auth,
            originators_us = timings.originators,
            policy_us = timings.policy,
            smime_us = timings.smime,
            antivirus_us = timings.antivirus,
            body_copies = message.copies(),
            added_bytes = message.added().len(),
            passed = result.is_ok(),
            "message checked"
        );
        result
    }

    async fn run_checks(
        &self,
        envelope: &Envelope,
        message: &mut Message,
        timings: &mut Timings,
    ) -> Result<(), Refusal> {
        let started = Instant::now();
        self.authenticate_sender(envelope, message)
            .await
            .map_err(|reply| {
                let outcome = if reply.is_permanent_failure() {
                    "refused_by_sender_auth"
                } else {
                    "deferred_by_sender_auth"
                };
                Refusal::new(outcome, reply)
            })?;
        timings.sender_auth = lap(started);
        let started = Instant::now();
        self.check_originators(envelope, message)
            .await
            .map_err(|reply| Refusal::new("refused_by_from_header", reply))?;
        timings.originators = lap(started);
        let started = Instant::now();
        let extracted = self
            .apply_policy(envelope, message)
            .await
            .map_err(|(reply, rule)| Refusal {
                outcome: "refused_by_policy",
                reply,
                rule,
            })?;
        timings.policy = lap(started);
        let started = Instant::now();
        self.verify_smime(envelope, message).await;
        timings.smime = lap(started);
        let started = Instant::now();
        self.scan_for_malware(envelope, message, &extracted)
            .await
            .map_err(|reply| {
                let outcome = if reply.is_permanent_failure() {
                    "refused_by_antivirus"
                } else {
                    "deferred_by_antivirus"
                };
                Refusal::new(outcome, reply)
            })?;
        timings.antivirus = lap(started);
        Ok(())
    }

    /// Queues the remote copy and delivers the local ones; `None` (already logged)
    /// when anything failed, in which case nothing may be acknowledged.
    async fn store_message(&self, envelope: &Envelope, message: &Message) -> Option<Stored> {
        let store = Arc::clone(&self.ctx.store);
        let queue_waker = self.ctx.queue_waker.clone();
        let sender = match &envelope.from {
            ReversePath::Null => String::new(),
            ReversePath::Mailbox(mailbox) => mailbox.to_string(),
        };
        let remote = envelope.remote.clone();
        let targets: Vec<_> = envelope.local.iter().map(|r| r.account).collect();
        let recipients: Vec<_> = envelope
            .local
            .iter()
            .map(|r| (r.account, r.address.clone()))
            .collect();
        let hostname = self.ctx.config.hostname.clone();
        let postmaster = self
            .postmaster()
            .unwrap_or_else(|| format!("postmaster@{hostname}"));
        let submitted_by = self.auth.as_ref().map(|a| a.account);
        let now = Local::now();
        // RFC 5321 §4.4: Return-Path is added by the final delivery, so only local
        // copies carry it.
        let return_path = return_path(&envelope.from);
        let added = [message.added(), &self.received(envelope, &now)].concat();
        let body = message.body();
        let dsn = DsnRequest::from(envelope);
        let local_dsn = local_request(envelope);
        let folder = if message.quarantine {
            DeliveryFolder::Junk
        } else {
            DeliveryFolder::Inbox
        };
        // Art. 16.1: the agency's own copy of what a clerk sent in its name, with
        // the clerk's address, since the Received header does not name a person.
        let sent_copy = envelope
            .sent_as_agency
            .zip(self.auth.as_ref())
            .map(|(agency, clerk)| (agency, format!("X-Congvu-Sent-By: <{}>\r\n", clerk.address)));
        let envelope_id = envelope.id.clone();
        let parties = self.parties(envelope);
        let acks = AckContext {
            directory: Arc::clone(&self.ctx.directory),
            sender: sender.clone(),
            from_agency_relay: self.origin() == congvu_policy::Origin::AgencyRelay,
            agency_recipients: envelope
                .local
                .iter()
                .filter(|r| r.agency_mailbox)
                .map(|r| r.account)
                .collect(),
            submitter: self.auth.as_ref().map(|a| (a.account, a.address.clone())),
            fallback_message_id: format!("congvu.{}.{}@{hostname}", envelope.id, now.timestamp()),
        };
        let task = tokio::task::spawn_blocking(move || -> congvu_store::Result<Stored> {
            let acks = acks.plan(&body);
            let message_id = &acks.added_message_id;
            let queue = if remote.is_empty() {
                None
            } else {
                let queued = store.enqueue(&Outbound {
                    bytes: &[&added, message_id, &body],
                    sender: &sender,
                    recipients: &remote,
                    submitted_by,
                    dsn: &dsn,
                })?;
                queue_waker.wake();
                Some(queued)
            };
            let outcomes = if targets.is_empty() {
                Vec::new()
            } else {
                let parts: [&[u8]; 4] = [&return_path, &added, message_id, &body];
                let outcomes = store.deliver(&Delivery {
                    bytes: &parts,
                    internal_date: now.timestamp(),
                    internal_date_offset: now.offset().local_minus_utc(),
                    targets: &targets,
                    folder,
                })?;
                let postmaster = Postmaster {
                    from: &postmaster,
                    hostname: &hostname,
                };
                let size = parts.iter().map(|p| p.len() as u64).sum();
                warn_crossed(&*store, &postmaster, &recipients, &outcomes, size, &now);
                report_success(
                    &*store,
                    &queue_waker,
                    &hostname,
                    &sender,
                    submitted_by,
                    &local_dsn,
                    &recipients,
                    &outcomes,
                    &body,
                );
                outcomes
            };
            if let Some((agency, sent_by)) = &sent_copy {
                file_sent_copy(&*store, *agency, sent_by, &body, &now, &envelope_id);
            }
            let at = now.timestamp();
            events::record(&*store, &events::accepted(&parties, &outcomes, at), &envelope_id);
            acks.record(&*store, &outcomes, &body, at, &envelope_id);
            Ok(Stored { queue, outcomes })
        });
        match task.await {
            Ok(Ok(stored)) => Some(stored),
            Ok(Err(e)) if e.is_server_fault() => {
                error!(id = %envelope.id, error = %e, "storing the message failed");
                None
            }
            Ok(Err(e)) => {
                warn!(id = %envelope.id, error = %e, "store refused the message");
                None
            }
            Err(e) => {
                error!(id = %envelope.id, error = %e, "delivery task failed");
                None
            }
        }
    }

    /// The events of a message refused for good (`events.rs`); a temporary refusal
    /// is none. Written before the refusal is replied, a failure logged.
    async fn record_refusal(&self, envelope: &Envelope, reply: &Reply, rule: Option<&'static str>) {
        if !reply.is_permanent_failure() {
            return;
        }
        let rule = rule.map_or_else(|| reply.code.to_string(), str::to_owned);
        let recorded = events::refused(&self.parties(envelope), &rule, Local::now().timestamp());
        let store = Arc::clone(&self.ctx.store);
        let id = envelope.id.clone();
        let task = tokio::task::spawn_blocking(move || events::record(&*store, &recorded, &id));
        if let Err(error) = task.await {
            error!(id = %envelope.id, %error, "recording the refusal failed");
        }
    }

    /// The one log line per finished transaction. Stable field names; never the
    /// body, never a credential.
    fn log_transaction(
        &self,
        envelope: &Envelope,
        size: u64,
        outcome: &str,
        queue: Option<QueueId>,
        uids: &str,
    ) {
        info!(
            session = %self.id,
            listener = self.kind.name(),
            id = %envelope.id,
            from = %envelope.from,
            rcpt_count = envelope.recipient_count(),
            size,
            outcome,
            queue = queue.map(|q| q.0),
            uids,
            "smtp transaction"
        );
    }
}

/// Files the sent copy in the agency's `\Sent`. The mail itself is already queued
/// and delivered, so a copy that cannot be filed (agency mailbox over quota, a
/// store fault) is logged rather than failing a transaction whose other effects
/// are durable: the client would send it again.
fn file_sent_copy(
    store: &dyn congvu_store::MailStore,
    agency: congvu_store::AccountId,
    sent_by: &str,
    body: &[u8],
    now: &chrono::DateTime<Local>,
    id: &str,
) {
    let filed = store.deliver(&Delivery {
        bytes: &[sent_by.as_bytes(), body],
        internal_date: now.timestamp(),
        internal_date_offset: now.offset().local_minus_utc(),
        targets: &[agency],
        folder: DeliveryFolder::Sent,
    });
    match filed.as_deref() {
        Ok([DeliveryOutcome::OverQuota { .. }]) => {
            warn!(
                id,
                agency = agency.0,
                "agency mailbox over quota: the sent copy was not filed"
            );
        }
        Ok(_) => {}
        Err(error) => error!(id, agency = agency.0, %error, "the agency's sent copy was not filed"),
    }
}

/// RFC 3461 §6.2.2: local recipients that asked `NOTIFY=SUCCESS` and got their copy
/// are reported `delivered` to the sender. The message is already stored: a report
/// that cannot be sent is logged, never a reason to fail the transaction.
#[allow(clippy::too_many_arguments)]
fn report_success(
    store: &dyn congvu_store::MailStore,
    queue_waker: &congvu_relay::QueueWaker,
    hostname: &str,
    sender: &str,
    submitted_by: Option<congvu_store::AccountId>,
    dsn: &DsnRequest,
    recipients: &[(congvu_store::AccountId, String)],
    outcomes: &[DeliveryOutcome],
    original: &[u8],
) {
    let delivered: Vec<String> = recipients
        .iter()
        .zip(outcomes)
        .filter(|(_, outcome)| matches!(outcome, DeliveryOutcome::Delivered { .. }))
        .map(|((_, address), _)| address.clone())
        .collect();
    let now = chrono::Utc::now().timestamp();
    let Some(report) = congvu_relay::dsn::delivered_report(hostname, sender, dsn, &delivered, original, now)
    else {
        return;
    };
    match congvu_relay::send_report(store, submitted_by, sender, &report) {
        // A sender elsewhere gets the report through the queue.
        Ok(()) if submitted_by.is_none() => queue_waker.wake(),
        Ok(()) => {}
        Err(e) => warn!(error = %e, "the delivery report could not be sent"),
    }
}
