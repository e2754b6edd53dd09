//! Verdict counters since start, for `GET /api/v1/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Decision;
use crate::verify::Refusal;

/// One counter per decision; shared by every MX session through the [`crate::Verifier`].
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    quarantined: AtomicU64,
    refused_local_spoof: AtomicU64,
    refused_dmarc: AtomicU64,
    deferred: AtomicU64,
}

/// A copy of the counters (each read atomically).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    pub accepted: u64,
    /// DMARC failed under a policy not enforced by refusal; delivered, tagged.
    pub quarantined: u64,
    pub refused_local_spoof: u64,
    pub refused_dmarc: u64,
    /// 451 4.4.3: DNS failures.
    pub deferred: u64,
}

impl Metrics {
    pub fn record(&self, decision: &Decision) {
        let counter = match decision {
            Decision::Accept => &self.accepted,
            Decision::Quarantine => &self.quarantined,
            Decision::Refuse(Refusal::LocalSpoof { .. }) => &self.refused_local_spoof,
            Decision::Refuse(Refusal::Dmarc { .. }) => &self.refused_dmarc,
            Decision::Defer => &self.deferred,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        MetricsSnapshot {
            accepted: read(&self.accepted),
            quarantined: read(&self.quarantined),
            refused_local_spoof: read(&self.refused_local_spoof),
            refused_dmarc: read(&self.refused_dmarc),
            deferred: read(&self.deferred),
        }
    }
}
