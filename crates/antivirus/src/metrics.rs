//! Scan counters since start, for `GET /api/v1/metrics`.
//!
//! Invariant: `scanned = clean + infected + errors`, and `skipped_on_error ≤ errors`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::decision::Decision;

/// One counter per outcome; shared by every session through the [`crate::Scanner`].
#[derive(Debug, Default)]
pub struct Metrics {
    scanned: AtomicU64,
    clean: AtomicU64,
    infected: AtomicU64,
    errors: AtomicU64,
    skipped_on_error: AtomicU64,
}

/// A copy of the counters (each read atomically).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    /// Messages given to the scanner.
    pub scanned: u64,
    pub clean: u64,
    /// Refused with 554 5.7.1.
    pub infected: u64,
    /// Not scanned: clamd unreachable, too slow, or answering an error.
    pub errors: u64,
    /// Of `errors`, accepted unscanned because `on_error = "accept"`.
    pub skipped_on_error: u64,
}

impl Metrics {
    pub fn record(&self, decision: &Decision) {
        let add = |counter: &AtomicU64| counter.fetch_add(1, Ordering::Relaxed);
        add(&self.scanned);
        match decision {
            Decision::Accept => add(&self.clean),
            Decision::Refuse { .. } => add(&self.infected),
            Decision::Defer(_) => add(&self.errors),
            Decision::AcceptUnscanned(_) => {
                add(&self.errors);
                add(&self.skipped_on_error)
            }
        };
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        MetricsSnapshot {
            scanned: read(&self.scanned),
            clean: read(&self.clean),
            infected: read(&self.infected),
            errors: read(&self.errors),
            skipped_on_error: read(&self.skipped_on_error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::reply::{ScanReply, parse_scan_reply};
    use crate::scanner::Error;

    #[test]
    fn counts_each_decision() {
        let metrics = Metrics::default();
        let Ok(ScanReply::Infected(signature)) = parse_scan_reply(b"stream: X FOUND") else {
            panic!("a finding");
        };
        let timeout = || Error::Timeout(Duration::from_secs(1));
        for decision in [
            Decision::Accept,
            Decision::Accept,
            Decision::Refuse { signature },
            Decision::Defer(timeout()),
            Decision::AcceptUnscanned(timeout()),
        ] {
            metrics.record(&decision);
        }
        assert_eq!(
            metrics.snapshot(),
            MetricsSnapshot {
                scanned: 5,
                clean: 2,
                infected: 1,
                errors: 2,
                skipped_on_error: 1,
            }
        );
    }
}
