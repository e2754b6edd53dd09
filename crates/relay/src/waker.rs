//! [`QueueWaker`]: how whoever queues mail tells the worker that something is due now.
//!
//! The worker sleeps until the earliest scheduled retry; an entry that becomes due
//! earlier (a new message, an operator's `queue retry`) is noticed only when the code
//! that wrote it calls [`QueueWaker::wake`] after its store write returned.
//!
//! ## Invariants
//! 1. **A wake is never lost**: one that arrives while the worker is busy delivering
//!    is kept (one stored permit, [`tokio::sync::Notify::notify_one`]) and makes the
//!    worker read the queue again as soon as it is done.
//! 2. **Wakes coalesce**: a thousand wakes during a delivery pass cost one queue read
//!    after it, not a thousand.

use std::sync::Arc;

use tokio::sync::Notify;

/// A cloneable handle: the binary makes one, gives it to the worker
/// ([`crate::Relay::with_waker`]) and to every place that queues mail.
#[derive(Clone, Debug, Default)]
pub struct QueueWaker(Arc<Notify>);

impl QueueWaker {
    pub fn new() -> QueueWaker {
        QueueWaker::default()
    }

    /// Call after a queue write that made an entry due now (enqueue, retry).
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Resolves at the next wake, or at once when one came since the last call.
    pub(crate) async fn woken(&self) {
        self.0.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_wake_before_the_worker_waits_is_kept_once() {
        let waker = QueueWaker::new();
        waker.wake();
        waker.wake();
        let first = tokio::time::timeout(Duration::from_millis(100), waker.woken()).await;
        assert!(first.is_ok(), "the stored wake resolves at once");
        let second = tokio::time::timeout(Duration::from_millis(100), waker.woken()).await;
        assert!(second.is_err(), "two wakes while busy coalesce into one");
    }

    #[tokio::test]
    async fn a_clone_wakes_the_waiting_worker() {
        let waker = QueueWaker::new();
        let queuer = waker.clone();
        let worker = tokio::spawn(async move { waker.woken().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        queuer.wake();
        let woke = tokio::time::timeout(Duration::from_secs(2), worker).await;
        assert!(matches!(woke, Ok(Ok(()))));
    }
}
