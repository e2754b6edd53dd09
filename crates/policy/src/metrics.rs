//! Per-reason counters for the metrics endpoint: lock-free, shared by every session.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::evaluate::Evaluation;
use crate::verdict::{ReasonCode, Verdict};

const N: usize = ReasonCode::ALL.len();

#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    converted: AtomicU64,
    refused: [AtomicU64; N],
    tagged: [AtomicU64; N],
}

/// A consistent-enough copy of the counters (each read atomically).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    pub accepted: u64,
    pub converted: u64,
    /// Reason code → count, every reason present.
    pub refused: BTreeMap<&'static str, u64>,
    pub tagged: BTreeMap<&'static str, u64>,
}

impl Metrics {
    pub fn record(&self, evaluation: &Evaluation) {
        match &evaluation.verdict {
            Verdict::Accept => {
                self.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Verdict::Refuse(finding) => {
                self.refused[finding.reason.index()].fetch_add(1, Ordering::Relaxed);
            }
        }
        for finding in &evaluation.findings {
            self.tagged[finding.reason.index()].fetch_add(1, Ordering::Relaxed);
        }
        if evaluation.converted.is_some() {
            self.converted.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let table = |counters: &[AtomicU64; N]| {
            ReasonCode::ALL
                .iter()
                .map(|r| (r.as_str(), counters[r.index()].load(Ordering::Relaxed)))
                .collect()
        };
        MetricsSnapshot {
            accepted: self.accepted.load(Ordering::Relaxed),
            converted: self.converted.load(Ordering::Relaxed),
            refused: table(&self.refused),
            tagged: table(&self.tagged),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MessageInput, Origin, PolicyConfig, evaluate};

    #[test]
    fn counts_verdicts_and_tags() {
        let metrics = Metrics::default();
        let config = PolicyConfig::default();
        for (subject, origin) in [
            ("Hello there", Origin::Submission),
            ("Hello there", Origin::Internet),
            ("Thông báo", Origin::Submission),
        ] {
            let raw = format!("Subject: {subject}\r\n\r\nx\r\n");
            metrics.record(&evaluate(
                &MessageInput {
                    raw: raw.as_bytes(),
                    origin,
                },
                &config,
            ));
        }
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.accepted, 2);
        assert_eq!(snapshot.refused["subject_not_vietnamese"], 1);
        assert_eq!(snapshot.tagged["subject_not_vietnamese"], 1);
        assert_eq!(snapshot.refused.len(), ReasonCode::ALL.len());
    }
}
