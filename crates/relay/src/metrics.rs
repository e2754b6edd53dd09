//! Delivery attempts by result since start, read by the admin listener's `/metrics`.
//!
//! One count per recipient per attempt, as the worker records the attempt: a message
//! to three recipients at a hop that answers 250, 250 and 451 adds two `delivered`
//! and one `deferred`. A deferral past `give_up_after_secs` is `expired` (it bounces),
//! not `deferred`.

use std::sync::atomic::{AtomicU64, Ordering};

/// The counters the worker keeps.
#[derive(Debug, Default)]
pub struct DeliveryMetrics {
    delivered: AtomicU64,
    deferred: AtomicU64,
    failed: AtomicU64,
    expired: AtomicU64,
}

/// The result of one recipient's attempt, as counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttemptResult {
    /// 2xx from the next hop, with or without DSN passed on.
    Delivered,
    /// 4xx or no answer: retried later.
    Deferred,
    /// 5xx: bounced.
    Failed,
    /// Deferred too long: bounced.
    Expired,
}

/// The counters as read at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliverySnapshot {
    pub delivered: u64,
    pub deferred: u64,
    pub failed: u64,
    pub expired: u64,
}

impl DeliveryMetrics {
    pub(crate) fn attempt(&self, result: AttemptResult) {
        let counter = match result {
            AttemptResult::Delivered => &self.delivered,
            AttemptResult::Deferred => &self.deferred,
            AttemptResult::Failed => &self.failed,
            AttemptResult::Expired => &self.expired,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> DeliverySnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        DeliverySnapshot {
            delivered: read(&self.delivered),
            deferred: read(&self.deferred),
            failed: read(&self.failed),
            expired: read(&self.expired),
        }
    }
}
