//! Group commit, blob pins and deferred blob removal.
//!
//! ## Group commit
//! A writer commits its sled transaction, then [`Committer::commit`] joins the *open*
//! batch and waits. The committer thread takes the open batch (a new one opens at
//! once), runs one `Db::flush` for it, and wakes every writer in it with the flush's
//! result. A writer joins only after its transaction committed and only a batch whose
//! flush has not started, so the flush that wakes it covers its write. Writers that
//! arrive during a flush form the next batch: one flush serves all of them.
//!
//! ```text
//!   writer:    tx commit ──► join open batch ──► wait ─────────────► Ok / Err
//!   committer: take batch ──► Db::flush ──► remove released blobs ──► wake batch
//! ```
//!
//! ## Blob removal
//! A blob whose last reference went is queued as a removal candidate; the committer
//! deletes its file after the *next* flush (so the reference's removal is durable
//! first, crate invariant 4) and only if, at that moment and under the state lock, the
//! blob is not pinned, not queued again, and still has no reference. Every operation
//! that may add the first reference of a blob, or drop its last, pins it from before
//! it touches the file (or reads the snapshot) until its removal candidates are
//! queued; so a blob with no reference that is neither pinned nor queued again has
//! not been touched since the flush began, and its file is safe to delete.

use crate::blob::{self, BlobStore};
use crate::{BlobId, Result, StoreError};
use std::collections::{HashMap, HashSet};
use std::mem;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

/// Owns the committer thread; dropping it flushes what is pending and stops it.
pub(super) struct Committer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a writer joins the open batch, or at shutdown.
    work: Condvar,
}

#[derive(Default)]
struct State {
    /// The batch whose flush has not started yet.
    open: Arc<Batch>,
    /// Writers in `open`.
    joined: usize,
    /// Removal candidates for the end of the next flush.
    removals: HashSet<BlobId>,
    pins: HashMap<BlobId, usize>,
    /// Live [`RemovalHold`]s: while any is held no blob file is deleted.
    holds: usize,
    shutdown: bool,
}

/// Writers waiting for one flush.
#[derive(Default)]
struct Batch {
    result: Mutex<Option<std::result::Result<(), String>>>,
    done: Condvar,
}

/// Blobs kept from removal while an operation works with them. [`Committer::commit`]
/// releases them; dropping the value instead (an error path) releases them and
/// queues them as removal candidates.
#[must_use]
pub(super) struct Pins<'a> {
    committer: &'a Committer,
    blobs: Vec<BlobId>,
}

/// See [`Committer::hold_removals`].
#[must_use]
pub(crate) struct RemovalHold<'a> {
    committer: &'a Committer,
}

impl Drop for RemovalHold<'_> {
    fn drop(&mut self) {
        let mut state = self.committer.shared.lock();
        state.holds -= 1;
    }
}

impl Drop for Pins<'_> {
    fn drop(&mut self) {
        if self.blobs.is_empty() {
            return;
        }
        let mut state = self.committer.shared.lock();
        // The operation failed after pinning: a blob it stored may have no reference.
        // Queuing is always safe: the committer re-checks after the next flush.
        state.removals.extend(self.blobs.iter().copied());
        unpin(&mut state, self.blobs.drain(..));
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not wedge every writer: the state stays consistent
        // because each critical section is a few field updates.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Committer {
    pub fn start(db: sled::Db, refs: sled::Tree, blobs: Arc<BlobStore>) -> Result<Committer> {
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            work: Condvar::new(),
        });
        let worker = Worker {
            shared: shared.clone(),
            db,
            refs,
            blobs,
        };
        let thread = std::thread::Builder::new()
            .name("congvu-store-commit".into())
            .spawn(move || worker.run())?;
        Ok(Committer {
            shared,
            thread: Some(thread),
        })
    }

    /// Pins `blobs` (see the module docs) until the returned value is committed or
    /// dropped.
    pub fn pin(&self, blobs: impl IntoIterator<Item = BlobId>) -> Pins<'_> {
        let blobs: Vec<BlobId> = blobs.into_iter().collect();
        let mut state = self.shared.lock();
        for blob in &blobs {
            *state.pins.entry(*blob).or_default() += 1;
        }
        Pins {
            committer: self,
            blobs,
        }
    }

    /// Keeps every blob file in place until the hold is dropped (a backup copying the
    /// blobs its metadata names); removal candidates wait for the next flush after.
    pub fn hold_removals(&self) -> RemovalHold<'_> {
        self.shared.lock().holds += 1;
        RemovalHold { committer: self }
    }

    /// Pins nothing: for writes that neither add a first reference nor drop a last.
    pub fn no_pins(&self) -> Pins<'_> {
        Pins {
            committer: self,
            blobs: Vec::new(),
        }
    }

    /// Called after a transaction committed: queues `removals` (blobs whose last
    /// reference the transaction dropped), releases `pins`, and returns once a flush
    /// that started after this call has completed.
    pub fn commit(&self, mut pins: Pins<'_>, removals: Vec<BlobId>) -> Result<()> {
        let batch = {
            let mut state = self.shared.lock();
            state.removals.extend(removals);
            unpin(&mut state, pins.blobs.drain(..));
            self.join(&mut state)
        };
        batch.wait()
    }

    /// Orphan collection: deletes the unfinished puts in `partial` that no operation
    /// is writing, queues `unreferenced` as removal candidates and waits for the flush
    /// that handles them. Returns how many partial files were deleted.
    pub fn collect(&self, unreferenced: Vec<BlobId>, partial: Vec<(BlobId, PathBuf)>) -> Result<usize> {
        let (batch, deleted) = {
            let mut state = self.shared.lock();
            let mut deleted = 0;
            for (blob, path) in partial {
                // Every put pins its blob before it creates its temporary file.
                if !state.pins.contains_key(&blob) {
                    blob::remove_if_present(&path)?;
                    deleted += 1;
                }
            }
            state.removals.extend(unreferenced);
            (self.join(&mut state), deleted)
        };
        batch.wait()?;
        Ok(deleted)
    }

    fn join(&self, state: &mut State) -> Arc<Batch> {
        state.joined += 1;
        self.shared.work.notify_one();
        state.open.clone()
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_one();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("store committer thread panicked");
        }
    }
}

fn unpin(state: &mut State, blobs: impl Iterator<Item = BlobId>) {
    for blob in blobs {
        if let Some(count) = state.pins.get_mut(&blob) {
            *count -= 1;
            if *count == 0 {
                state.pins.remove(&blob);
            }
        }
    }
}

impl Batch {
    fn wait(&self) -> Result<()> {
        let mut result = self.result.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match &*result {
                Some(Ok(())) => return Ok(()),
                Some(Err(message)) => {
                    return Err(StoreError::Db(format!("flush failed: {message}")));
                }
                None => result = self.done.wait(result).unwrap_or_else(PoisonError::into_inner),
            }
        }
    }

    fn finish(&self, outcome: std::result::Result<(), String>) {
        *self.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        self.done.notify_all();
    }
}

/// The committer thread's side.
struct Worker {
    shared: Arc<Shared>,
    db: sled::Db,
    refs: sled::Tree,
    blobs: Arc<BlobStore>,
}

impl Worker {
    fn run(self) {
        loop {
            let (batch, removals, last) = {
                let mut state = self.shared.lock();
                while state.joined == 0 && !state.shutdown {
                    state = self
                        .shared
                        .work
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                state.joined = 0;
                (
                    mem::take(&mut state.open),
                    mem::take(&mut state.removals),
                    state.shutdown,
                )
            };
            let outcome = self.db.flush().map(drop).map_err(|e| e.to_string());
            match &outcome {
                Ok(()) => self.remove_released(removals),
                Err(error) => {
                    tracing::error!(%error, "store flush failed; writers in the batch get an error");
                    self.shared.lock().removals.extend(removals);
                }
            }
            batch.finish(outcome);
            if last {
                return;
            }
        }
    }

    /// Deletes the files of `candidates` that are still unreferenced (module docs);
    /// pinned ones are reconsidered after the next flush.
    fn remove_released(&self, candidates: HashSet<BlobId>) {
        if candidates.is_empty() {
            return;
        }
        let mut state = self.shared.lock();
        for blob in candidates {
            if state.removals.contains(&blob) {
                continue;
            }
            if state.pins.contains_key(&blob) || state.holds > 0 {
                state.removals.insert(blob);
                continue;
            }
            let removed = match self.refs.contains_key(blob.0) {
                Ok(true) => Ok(()),
                Ok(false) => self.blobs.remove(&blob).map_err(StoreError::from),
                Err(e) => Err(StoreError::from(e)),
            };
            if let Err(error) = removed {
                // The file stays; orphan collection finds it later.
                tracing::warn!(blob = %blob.to_hex(), %error, "cannot remove released blob");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_step_reaches_every_waiter_of_the_batch() {
        let batch = Arc::new(Batch::default());
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let batch = batch.clone();
                std::thread::spawn(move || batch.wait())
            })
            .collect();
        batch.finish(Err("disk full".into()));
        for waiter in waiters {
            let result = waiter.join().unwrap();
            assert!(matches!(result, Err(StoreError::Db(m)) if m.contains("disk full")));
        }
    }
}
