//! Counters per listener since start, read by the admin listener's `/metrics`:
//! connections accepted and refused over a cap, sessions running, and the messages
//! a listener took in with their bytes.
//!
//! Every counter only grows except `active`, which a guard held by the session's
//! task brings back down however the session ends (panic included).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::Refusal;

/// One listener's counters.
#[derive(Debug, Default)]
pub struct ListenerCounters {
    accepted: AtomicU64,
    refused_full: AtomicU64,
    refused_client: AtomicU64,
    active: AtomicU64,
    messages: AtomicU64,
    message_bytes: AtomicU64,
}

impl ListenerCounters {
    /// A message of `bytes` taken in (made durable) through this listener.
    pub fn message(&self, bytes: u64) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.message_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self, why: Refusal) {
        let counter = match why {
            Refusal::Full => &self.refused_full,
            Refusal::TooManyFromClient => &self.refused_client,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an admitted connection as accepted and running until the guard drops.
    pub(crate) fn session(self: &Arc<Self>) -> ActiveSession {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.active.fetch_add(1, Ordering::Relaxed);
        ActiveSession(Arc::clone(self))
    }
}

/// A running session, counted in `active` while it lives.
pub(crate) struct ActiveSession(Arc<ListenerCounters>);

impl Drop for ActiveSession {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The counters of every listener of the process, by listener name (`mx`, `imaps`, …).
#[derive(Debug, Default)]
pub struct ListenerMetrics {
    listeners: Mutex<BTreeMap<&'static str, Arc<ListenerCounters>>>,
}

/// One listener's counters as read at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ListenerSnapshot {
    pub listener: &'static str,
    pub accepted: u64,
    /// Refused because `max_connections` sessions were running.
    pub refused_full: u64,
    /// Refused because the client had `max_connections_per_ip` sessions running.
    pub refused_client: u64,
    pub active: u64,
    pub messages: u64,
    pub message_bytes: u64,
}

impl ListenerMetrics {
    /// The counters of listener `name`, created at first use.
    pub fn listener(&self, name: &'static str) -> Arc<ListenerCounters> {
        let mut listeners = self.listeners.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(listeners.entry(name).or_default())
    }

    /// Every listener's counters, by name.
    pub fn snapshot(&self) -> Vec<ListenerSnapshot> {
        let listeners = self.listeners.lock().unwrap_or_else(PoisonError::into_inner);
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        listeners
            .iter()
            .map(|(name, counters)| ListenerSnapshot {
                listener: name,
                accepted: read(&counters.accepted),
                refused_full: read(&counters.refused_full),
                refused_client: read(&counters.refused_client),
                active: read(&counters.active),
                messages: read(&counters.messages),
                message_bytes: read(&counters.message_bytes),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_listener_and_active_follows_the_guard() {
        let metrics = ListenerMetrics::default();
        let mx = metrics.listener("mx");
        let first = mx.session();
        let second = mx.session();
        mx.refused(Refusal::Full);
        mx.refused(Refusal::TooManyFromClient);
        mx.refused(Refusal::TooManyFromClient);
        metrics.listener("mx").message(1200);
        metrics.listener("imaps").message(10);
        drop(first);
        let snapshot = metrics.snapshot();
        assert_eq!(
            snapshot,
            vec![
                ListenerSnapshot {
                    listener: "imaps",
                    messages: 1,
                    message_bytes: 10,
                    ..ListenerSnapshot::default()
                },
                ListenerSnapshot {
                    listener: "mx",
                    accepted: 2,
                    refused_full: 1,
                    refused_client: 2,
                    active: 1,
                    messages: 1,
                    message_bytes: 1200,
                },
            ]
        );
        drop(second);
        assert_eq!(metrics.snapshot()[1].active, 0);
    }
}
