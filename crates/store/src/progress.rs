//! Progress of a long operation (backup, restore, import, export), shared between the
//! thread doing the work and whoever shows it (the admin API's job view, the CLI's
//! progress bar).
//!
//! Counters only grow, except that a phase may announce more work with
//! [`Progress::add_total`] as it discovers it (an import learns a folder's size when it
//! opens it). Readers take a [`ProgressView`] at any time; no lock is held while the
//! work runs.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
pub struct Progress {
    phase: Mutex<String>,
    items_done: AtomicU64,
    items_total: AtomicU64,
    bytes_done: AtomicU64,
    bytes_total: AtomicU64,
}

/// A reading of [`Progress`] (what the admin API returns).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressView {
    pub phase: String,
    pub items_done: u64,
    pub items_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

impl Progress {
    /// Names what is being done now (e.g. "blobs", "INBOX").
    pub fn set_phase(&self, phase: &str) {
        let mut current = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        current.clear();
        current.push_str(phase);
    }

    /// Announces more work.
    pub fn add_total(&self, items: u64, bytes: u64) {
        self.items_total.fetch_add(items, Ordering::Relaxed);
        self.bytes_total.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Records work done.
    pub fn advance(&self, items: u64, bytes: u64) {
        self.items_done.fetch_add(items, Ordering::Relaxed);
        self.bytes_done.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn view(&self) -> ProgressView {
        ProgressView {
            phase: self.phase.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            items_done: self.items_done.load(Ordering::Relaxed),
            items_total: self.items_total.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_reads_what_was_announced_and_done() {
        let progress = Progress::default();
        progress.set_phase("blobs");
        progress.add_total(3, 300);
        progress.advance(1, 100);
        progress.advance(1, 50);
        let view = progress.view();
        assert_eq!(view.phase, "blobs");
        assert_eq!((view.items_done, view.items_total), (2, 3));
        assert_eq!((view.bytes_done, view.bytes_total), (150, 300));
    }
}
