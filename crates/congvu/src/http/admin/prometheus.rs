//! `GET /metrics` on the admin listener: what a monitoring system scrapes, in the
//! Prometheus text format (OpenMetrics, written by the Prometheus project's
//! `prometheus-client` encoder). Every name is listed in `docs/operations.md`.
//!
//! Nothing is kept here: a scrape reads the counters that the listeners, the policy,
//! the sender checks, the scanner, the queue worker and the directory keep since
//! start, and measures the queue, the store, the data disk and the last backup. It
//! reads the whole queue and every storage account record once: a scrape's work
//! (every 15–60 s), not a hot path's. No token is asked: the admin listener is the
//! operators' network, and no figure names a person or an address.

use std::fmt;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::AdminState;
use super::handlers::blocking;

/// One metric: its name (without `_total`, which the encoder adds to counters), its
/// help, its type, and its series (labels, value).
#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    kind: MetricType,
    series: Vec<(Vec<(&'static str, String)>, i64)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str, kind: MetricType) -> Family {
        Family {
            name,
            help,
            kind,
            series: Vec::new(),
        }
    }

    fn with(mut self, labels: &[(&'static str, &str)], value: u64) -> Family {
        let labels = labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self.series
            .push((labels, i64::try_from(value).unwrap_or(i64::MAX)));
        self
    }

    fn one(self, value: u64) -> Family {
        self.with(&[], value)
    }
}

/// Everything one scrape reports.
#[derive(Debug)]
struct Scrape(Vec<Family>);

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        for family in &self.0 {
            let mut metric = encoder.encode_descriptor(family.name, family.help, None, family.kind)?;
            for (labels, value) in &family.series {
                let encoder = metric.encode_family(labels)?;
                match family.kind {
                    MetricType::Counter => {
                        ConstCounter::new(u64::try_from(*value).unwrap_or(0)).encode(encoder)?
                    }
                    _ => ConstGauge::new(*value).encode(encoder)?,
                }
            }
        }
        Ok(())
    }
}

const COUNTER: MetricType = MetricType::Counter;
const GAUGE: MetricType = MetricType::Gauge;

/// Reads every figure (on the blocking pool: the queue and the store are read).
fn scrape(state: &AdminState, now: i64) -> Result<Scrape, super::ApiError> {
    let mut families = Vec::new();

    let mut accepted = Family::new(
        "congvu_connections",
        "Connections accepted, by listener.",
        COUNTER,
    );
    let mut refused = Family::new(
        "congvu_connections_refused",
        "Connections refused over a cap (server_full, client_over_limit), by listener.",
        COUNTER,
    );
    let mut active = Family::new("congvu_sessions", "Sessions running now, by listener.", GAUGE);
    let mut messages = Family::new(
        "congvu_messages_received",
        "Messages taken in (SMTP after they are durable, IMAP APPEND), by listener.",
        COUNTER,
    );
    let mut bytes = Family::new(
        "congvu_message_bytes_received",
        "Bytes of the messages taken in, by listener.",
        COUNTER,
    );
    for snapshot in state.listener_metrics.iter().flat_map(|m| m.snapshot()) {
        let listener = [("listener", snapshot.listener)];
        accepted = accepted.with(&listener, snapshot.accepted);
        refused = refused
            .with(
                &[("listener", snapshot.listener), ("reason", "server_full")],
                snapshot.refused_full,
            )
            .with(
                &[("listener", snapshot.listener), ("reason", "client_over_limit")],
                snapshot.refused_client,
            );
        active = active.with(&listener, snapshot.active);
        messages = messages.with(&listener, snapshot.messages);
        bytes = bytes.with(&listener, snapshot.message_bytes);
    }
    families.extend([accepted, refused, active, messages, bytes]);

    let policy = state.policy_metrics.snapshot();
    let mut verdicts = Family::new(
        "congvu_policy_verdicts",
        "Policy verdicts by rule: refused (the message was refused) or tagged (delivered with a warning).",
        COUNTER,
    );
    for (rule, count) in &policy.refused {
        verdicts = verdicts.with(&[("rule", rule), ("verdict", "refused")], *count);
    }
    for (rule, count) in &policy.tagged {
        verdicts = verdicts.with(&[("rule", rule), ("verdict", "tagged")], *count);
    }
    families.push(verdicts);
    families.push(
        Family::new(
            "congvu_policy_messages",
            "Messages the policy accepted, and of them those converted.",
            COUNTER,
        )
        .with(&[("result", "accepted")], policy.accepted)
        .with(&[("result", "converted")], policy.converted),
    );

    let auth = state.inbound_auth_metrics.snapshot();
    families.push(
        Family::new(
            "congvu_inbound_auth_decisions",
            "Sender authentication (SPF, DKIM, DMARC) decisions on the MX port.",
            COUNTER,
        )
        .with(&[("decision", "accepted")], auth.accepted)
        .with(&[("decision", "quarantined")], auth.quarantined)
        .with(&[("decision", "refused_local_spoof")], auth.refused_local_spoof)
        .with(&[("decision", "refused_dmarc")], auth.refused_dmarc)
        .with(&[("decision", "deferred")], auth.deferred),
    );
    let scans = state.antivirus_metrics.snapshot();
    families.push(
        Family::new("congvu_antivirus_scans", "Virus scans by result.", COUNTER)
            .with(&[("result", "clean")], scans.clean)
            .with(&[("result", "infected")], scans.infected)
            .with(&[("result", "error")], scans.errors),
    );

    let deliveries = state.deliveries.snapshot();
    families.push(
        Family::new(
            "congvu_delivery_attempts",
            "Outbound delivery attempts by result, one per recipient per attempt.",
            COUNTER,
        )
        .with(&[("result", "delivered")], deliveries.delivered)
        .with(&[("result", "deferred")], deliveries.deferred)
        .with(&[("result", "failed")], deliveries.failed)
        .with(&[("result", "expired")], deliveries.expired),
    );

    let logins = state.directory.login_counts();
    families.push(
        Family::new(
            "congvu_logins",
            "Logins (IMAP, SMTP AUTH, admin API, console) by how they ended.",
            COUNTER,
        )
        .with(&[("result", "succeeded")], logins.succeeded)
        .with(&[("result", "failed")], logins.failed)
        .with(&[("result", "throttled")], logins.throttled),
    );

    let queue = state.store.queue()?;
    let oldest = queue.iter().map(|e| e.queued_at).min();
    let recipients: usize = queue.iter().map(|e| e.recipients.len()).sum();
    families.push(
        Family::new("congvu_queue_messages", "Messages in the outbound queue.", GAUGE)
            .one(queue.len() as u64),
    );
    families.push(
        Family::new(
            "congvu_queue_recipients",
            "Recipients still to deliver in the outbound queue.",
            GAUGE,
        )
        .one(recipients as u64),
    );
    families.push(
        Family::new(
            "congvu_queue_oldest_age_seconds",
            "Age of the oldest message in the outbound queue (0 when empty).",
            GAUGE,
        )
        .one(oldest.map_or(0, |queued| u64::try_from(now - queued).unwrap_or(0))),
    );

    let size = state.store.size()?;
    families.push(
        Family::new("congvu_store_accounts", "Storage accounts (mailboxes).", GAUGE).one(size.accounts),
    );
    families.push(
        Family::new(
            "congvu_store_mailbox_bytes",
            "Bytes of mail as quotas count them (every copy in every mailbox).",
            GAUGE,
        )
        .one(size.mailbox_bytes),
    );
    families.push(
        Family::new(
            "congvu_store_metadata_bytes",
            "The metadata database's files on disk.",
            GAUGE,
        )
        .one(size.metadata_bytes),
    );
    if let Ok(disk) = rustix::fs::statvfs(&state.data_dir) {
        let block = disk.f_frsize;
        families.push(
            Family::new(
                "congvu_data_disk_bytes",
                "Size of the data directory's filesystem.",
                GAUGE,
            )
            .one(disk.f_blocks.saturating_mul(block)),
        );
        families.push(
            Family::new(
                "congvu_data_disk_free_bytes",
                "Free space of the data directory's filesystem (for unprivileged users).",
                GAUGE,
            )
            .one(disk.f_bavail.saturating_mul(block)),
        );
    }

    let backups = state.backups.status();
    let last_success = backups.last_success.as_ref().map(|b| b.finished_at);
    let mut age = Family::new(
        "congvu_backup_age_seconds",
        "Seconds since the last successful backup finished (the newest snapshot in [backup] dir at start, or any since; no value while there is none).",
        GAUGE,
    );
    if let Some(at) = last_success {
        age = age.one(u64::try_from(now - at).unwrap_or(0));
    }
    families.push(age);
    families.push(
        Family::new(
            "congvu_backup_last_failed",
            "1 when the last backup failed, else 0.",
            GAUGE,
        )
        .one(u64::from(
            backups.last.as_ref().is_some_and(|b| b.error.is_some()),
        )),
    );
    Ok(Scrape(families))
}

/// `GET /metrics`.
pub async fn get_metrics(State(state): State<Arc<AdminState>>) -> Response {
    let now = congvu_directory::unix_now();
    let scraped = blocking(&state, move |s| scrape(s, now)).await;
    let scrape = match scraped {
        Ok(scrape) => scrape,
        Err(error) => return error.into_response(),
    };
    let mut registry = Registry::default();
    registry.register_collector(Box::new(scrape));
    let mut text = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &registry) {
        tracing::error!(error = %error, "metrics did not encode");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
