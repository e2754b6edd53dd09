//! Argon2 working memory, kept and reused.
//!
//! Every Argon2id check fills `m` KiB of memory (19 MiB with the default
//! parameters). Allocated afresh per login, those blocks were freed into the
//! allocator's arenas between long-lived session allocations, which then could not
//! give them back: a login storm left hundreds of MiB resident (issue 11). Here a
//! directory keeps at most `limit` buffers and lends one to each check; a check that
//! finds them all lent waits for one (the checks are CPU-bound, so more at once than
//! there are cores would not finish sooner).
//!
//! A pool rather than a thread-local buffer: the callers' threads are not ours
//! (SMTP checks on tokio's blocking pool, up to hundreds of threads), and a
//! thread-local buffer would be kept once per thread that ever checked a password.
//!
//! ## Invariants
//! 1. At most `limit` buffers exist at once, so the memory kept is at most
//!    `limit × m` KiB, whatever the load.
//! 2. A lent buffer comes back when the check ends, even if it panics (the lending
//!    is a guard dropped on unwind).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use argon2::Block;

pub(crate) struct Scratch {
    pool: Mutex<Pool>,
    returned: Condvar,
    limit: usize,
    /// Checks run so far, for tests that must tell a cache hit from a check.
    #[cfg(test)]
    runs: std::sync::atomic::AtomicU64,
}

struct Pool {
    free: Vec<Vec<Block>>,
    /// Buffers in existence: free or lent.
    made: usize,
}

impl Scratch {
    /// A pool that keeps at most `limit` buffers (at least one).
    pub fn new(limit: usize) -> Scratch {
        Scratch {
            pool: Mutex::new(Pool {
                free: Vec::new(),
                made: 0,
            }),
            returned: Condvar::new(),
            limit: limit.max(1),
            #[cfg(test)]
            runs: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Runs `f` with at least `blocks` blocks of working memory, waiting while every
    /// buffer is lent. The caller bounds `blocks` (see `password::MAX_MEMORY_KIB`).
    pub fn with_blocks<R>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
        #[cfg(test)]
        self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut lent = Lent {
            scratch: self,
            buffer: self.take(),
        };
        if lent.buffer.len() < blocks {
            lent.buffer.resize(blocks, Block::new());
        }
        f(&mut lent.buffer)
    }

    fn take(&self) -> Vec<Block> {
        let mut pool = self.lock();
        loop {
            if let Some(buffer) = pool.free.pop() {
                return buffer;
            }
            if pool.made < self.limit {
                pool.made += 1;
                return Vec::new();
            }
            pool = self.returned.wait(pool).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        // The pool holds only buffers: a panic elsewhere leaves it consistent.
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn made(&self) -> usize {
        self.lock().made
    }

    #[cfg(test)]
    pub fn runs(&self) -> u64 {
        self.runs.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A buffer on loan; given back on drop (invariant 2).
struct Lent<'a> {
    scratch: &'a Scratch,
    buffer: Vec<Block>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        self.scratch.lock().free.push(buffer);
        self.scratch.returned.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn buffers_are_reused_and_never_more_than_the_limit() {
        let scratch = Arc::new(Scratch::new(2));
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let (scratch, busy, most) = (scratch.clone(), busy.clone(), most.clone());
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        scratch.with_blocks(64, |blocks| {
                            assert!(blocks.len() >= 64);
                            let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::yield_now();
                            busy.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= 2);
        assert!(scratch.made() <= 2);
        // A larger request grows a kept buffer rather than making another.
        scratch.with_blocks(128, |blocks| assert!(blocks.len() >= 128));
        assert!(scratch.made() <= 2);
    }

    #[test]
    fn a_panicking_check_gives_its_buffer_back() {
        let scratch = Scratch::new(1);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            scratch.with_blocks(8, |_| panic!("check failed"))
        }));
        assert!(caught.is_err());
        // With the only buffer lost, this would wait for ever.
        scratch.with_blocks(8, |blocks| assert!(blocks.len() >= 8));
        assert_eq!(scratch.made(), 1);
    }
}
