//! Per-IP and per-user connection limits. A session holds a [`Slot`] for its
//! client address from the start and one for its account from login; dropping the
//! slot (the session ending, however it ends) gives the place back, so the counts
//! can never leak. Password checks run on their own threads ([`PasswordPool`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use congvu_store::AccountId;

/// Live connection counts by key, bounded by a limit.
pub(crate) struct Counter<K: Eq + Hash + Copy> {
    counts: Mutex<HashMap<K, u32>>,
}

impl<K: Eq + Hash + Copy> Default for Counter<K> {
    fn default() -> Self {
        Counter {
            counts: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Copy> Counter<K> {
    /// Takes a place for `key` unless `limit` are taken already (0: no limit).
    pub fn acquire(self: &Arc<Self>, key: K, limit: u32) -> Option<Slot<K>> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(key).or_insert(0);
        if limit != 0 && *count >= limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            counter: self.clone(),
            key,
        })
    }

    fn release(&self, key: K) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&key);
            }
        }
    }

    #[cfg(test)]
    fn count(&self, key: K) -> u32 {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(&key).copied().unwrap_or(0)
    }
}

/// One connection's place in a [`Counter`]; released on drop.
pub(crate) struct Slot<K: Eq + Hash + Copy> {
    counter: Arc<Counter<K>>,
    key: K,
}

impl<K: Eq + Hash + Copy> Drop for Slot<K> {
    fn drop(&mut self) {
        self.counter.release(self.key);
    }
}

/// The counters every listener of one server shares.
pub(crate) struct Connections {
    pub per_user: Arc<Counter<AccountId>>,
    pub password_checks: PasswordPool,
}

impl Default for Connections {
    fn default() -> Connections {
        Connections {
            per_user: Arc::default(),
            password_checks: PasswordPool::start(),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Threads that do nothing but password checks, one per core, so a login storm
/// queues here instead of filling tokio's blocking pool. Argon2's 19 MiB of working
/// memory is the directory's: lent from a bounded set of kept buffers
/// (`Directory::with_password_checks`), never allocated per check, and a reconnect
/// with a password verified lately skips Argon2 altogether (the directory's
/// credential cache).
pub(crate) struct PasswordPool {
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
}

impl PasswordPool {
    fn start() -> PasswordPool {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        for i in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("imap-password-{i}"))
                .spawn(move || {
                    loop {
                        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            // The context is gone: no more checks.
                            Err(_) => return,
                        }
                    }
                });
            if let Err(err) = spawned {
                tracing::error!(error = %err, "cannot start a password check thread");
            }
        }
        PasswordPool {
            jobs: Mutex::new(jobs),
        }
    }

    /// Runs `check` on the pool; `None` if the pool is gone.
    pub async fn run<T: Send + 'static>(&self, check: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(check());
        });
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .ok()?;
        result.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_count_up_to_the_limit_and_release_on_drop() {
        let counter: Arc<Counter<u8>> = Arc::default();
        let a = counter.acquire(1, 2).unwrap();
        let b = counter.acquire(1, 2).unwrap();
        assert!(counter.acquire(1, 2).is_none(), "third over a limit of 2");
        assert!(counter.acquire(2, 2).is_some(), "other keys are separate");
        drop(a);
        assert_eq!(counter.count(1), 1);
        let c = counter.acquire(1, 2).unwrap();
        drop((b, c));
        assert_eq!(counter.count(1), 0);
        let unlimited: Vec<_> = (0..100).map(|_| counter.acquire(3, 0).unwrap()).collect();
        assert_eq!(counter.count(3), 100);
        drop(unlimited);
        assert_eq!(counter.count(3), 0);
    }
}
