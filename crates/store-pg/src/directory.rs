//! The directory's storage on PostgreSQL (`congvu_directory::storage`): its trees
//! in the `directory` table of migration 2, so every node reads and writes one
//! directory. Commits are one transaction (invariant 1, durable at commit); writers
//! of every node take turns on an advisory lock held on a connection of its own for
//! the length of the write (invariant 3); audit keys come from a sequence
//! (invariant 4). The login throttle counts failures in `login_failures`, so every
//! node sees every node's. A revocation (password changed, account disabled or
//! deleted) is announced on `congvu_revoke`, and [`forward_revocations`] ends on
//! every node what the old credentials opened.

use std::sync::Arc;

use congvu_directory::{Directory, Result};
use congvu_store::AccountId;
use std::time::Duration;

use congvu_directory::storage::{DirectoryStorage, SharedFailures, Write, WriteLock};
use congvu_store::StoreError;

use crate::PgStore;
use crate::advisory::AdvisoryLock;

/// The advisory lock directory writers hold.
const DIRECTORY_WRITE_LOCK: i64 = crate::advisory::BASE + 2;

/// The directory of the database `store` is on.
pub struct PgDirectory {
    store: Arc<PgStore>,
}

impl PgDirectory {
    pub fn new(store: Arc<PgStore>) -> PgDirectory {
        PgDirectory { store }
    }

    fn run<T: Send>(
        &self,
        work: impl std::future::Future<Output = std::result::Result<T, StoreError>> + Send,
    ) -> Result<T> {
        Ok(self.store.run(work)?)
    }

    /// [`PgDirectory::run`] for a write: run again after a deadlock or a
    /// serialization failure (`PgStore::run_retrying`).
    fn run_retrying<T: Send, F, Fut>(&self, work: F) -> Result<T>
    where
        F: FnMut() -> Fut + Send,
        Fut: std::future::Future<Output = std::result::Result<T, StoreError>> + Send,
    {
        Ok(self.store.run_retrying(work)?)
    }
}

impl WriteLock for AdvisoryLock {}

impl DirectoryStorage for PgDirectory {
    fn get(&self, tree: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.run(async {
            let c = self.store.pool().get().await.map_err(crate::pool_error)?;
            let row = c
                .query_opt(
                    "SELECT value FROM directory WHERE tree = $1 AND key = $2",
                    &[&tree, &key],
                )
                .await
                .map_err(|e| crate::db_error(&e))?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    fn scan_prefix(&self, tree: &'static str, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.run(async {
            let c = self.store.pool().get().await.map_err(crate::pool_error)?;
            // bytea compares bytewise: key order is sled's.
            let rows = c
                .query(
                    "SELECT key, value FROM directory
                     WHERE tree = $1 AND substring(key FROM 1 FOR length($2::BYTEA)) = $2::BYTEA
                     ORDER BY key",
                    &[&tree, &prefix],
                )
                .await
                .map_err(|e| crate::db_error(&e))?;
            Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
        })
    }

    fn last_key(&self, tree: &'static str) -> Result<Option<Vec<u8>>> {
        self.run(async {
            let c = self.store.pool().get().await.map_err(crate::pool_error)?;
            let row = c
                .query_opt(
                    "SELECT key FROM directory WHERE tree = $1 ORDER BY key DESC LIMIT 1",
                    &[&tree],
                )
                .await
                .map_err(|e| crate::db_error(&e))?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    fn put(&self, tree: &'static str, key: &[u8], value: &[u8]) -> Result<()> {
        self.commit(&[(tree, key, Some(value))])
    }

    fn remove(&self, tree: &'static str, key: &[u8]) -> Result<()> {
        self.commit(&[(tree, key, None)])
    }

    fn commit(&self, writes: &[Write<'_>]) -> Result<()> {
        self.run_retrying(|| async {
            let mut c = self.store.pool().get().await.map_err(crate::pool_error)?;
            let tx = c.transaction().await.map_err(|e| crate::db_error(&e))?;
            for (tree, key, value) in writes {
                match value {
                    Some(value) => {
                        tx.execute(
                            "INSERT INTO directory (tree, key, value) VALUES ($1, $2, $3)
                             ON CONFLICT (tree, key) DO UPDATE SET value = $3",
                            &[tree, key, value],
                        )
                        .await
                    }
                    None => {
                        tx.execute("DELETE FROM directory WHERE tree = $1 AND key = $2", &[tree, key])
                            .await
                    }
                }
                .map_err(|e| crate::db_error(&e))?;
            }
            tx.commit().await.map_err(|e| crate::db_error(&e))
        })
    }

    fn next_id(&self) -> Result<u64> {
        self.run(async {
            let c = self.store.pool().get().await.map_err(crate::pool_error)?;
            let row = c
                .query_one("SELECT nextval('directory_ids')", &[])
                .await
                .map_err(|e| crate::db_error(&e))?;
            Ok(row.get::<_, i64>(0) as u64)
        })
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn lock_writes(&self) -> Result<Box<dyn WriteLock>> {
        Ok(Box::new(AdvisoryLock::acquire(
            &self.store,
            DIRECTORY_WRITE_LOCK,
        )?))
    }

    fn shared_failures(&self) -> Option<&dyn SharedFailures> {
        Some(self)
    }

    fn announce_revocation(&self, account: AccountId) -> Result<()> {
        self.run(async {
            let c = self.store.pool().get().await.map_err(crate::pool_error)?;
            c.execute(
                "SELECT pg_notify($1, $2)",
                &[&crate::REVOKE_CHANNEL, &account.0.to_string()],
            )
            .await
            .map_err(|e| crate::db_error(&e))?;
            Ok(())
        })
    }
}

/// Hands the revocations other nodes announce to `directory` (its sessions opened
/// with the old credentials end, its cache forgets them), on a thread of its own
/// for as long as the store lives. Every node on PostgreSQL runs it once.
pub fn forward_revocations(store: &PgStore, directory: Arc<Directory>) {
    let mut revocations = store.revocations();
    let spawned = std::thread::Builder::new()
        .name("congvu-revocations".into())
        .spawn(move || {
            loop {
                match revocations.blocking_recv() {
                    Ok(account) => directory.revoked_elsewhere(account),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::error!(missed, "revocations from other nodes were missed");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the revocation thread: other nodes' revocations end no session here");
    }
}

/// The throttle's windows in `login_failures` (migration 3): read under row locks
/// and counted in one transaction, so two nodes' attempts at one key are both
/// counted.
impl SharedFailures for PgDirectory {
    fn attempt(
        &self,
        keys: &[(String, u32)],
        window: Duration,
        now: i64,
    ) -> Result<std::result::Result<(), Duration>> {
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        // Rows are locked in key order, by the SELECT and by the upserts alike, so
        // two attempts at the same keys wait for each other and never deadlock.
        let mut names: Vec<&str> = keys.iter().map(|(key, _)| key.as_str()).collect();
        names.sort_unstable();
        let names = &names;
        self.run_retrying(|| async move {
            let mut c = self.store.pool().get().await.map_err(crate::pool_error)?;
            let tx = c.transaction().await.map_err(|e| crate::db_error(&e))?;
            let rows = tx
                .query(
                    "SELECT key, started, failures FROM login_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE",
                    &[&names],
                )
                .await
                .map_err(|e| crate::db_error(&e))?;
            let mut wait = 0i64;
            for row in &rows {
                let (key, started, failures): (String, i64, i32) = (row.get(0), row.get(1), row.get(2));
                let limit = keys.iter().find(|(k, _)| *k == key).map_or(u32::MAX, |(_, limit)| *limit);
                if now - started < window && u32::try_from(failures).unwrap_or(0) >= limit {
                    wait = wait.max(started + window - now);
                }
            }
            if wait > 0 {
                tx.rollback().await.map_err(|e| crate::db_error(&e))?;
                return Ok(Err(Duration::from_secs(wait.unsigned_abs())));
            }
            for name in names {
                tx.execute(
                    "INSERT INTO login_failures (key, started, failures) VALUES ($1, $2, 1)
                     ON CONFLICT (key) DO UPDATE SET
                         started = CASE WHEN login_failures.started <= $2 - $3 THEN $2 ELSE login_failures.started END,
                         failures = CASE WHEN login_failures.started <= $2 - $3 THEN 1 ELSE login_failures.failures + 1 END",
                    &[name, &now, &window],
                )
                .await
                .map_err(|e| crate::db_error(&e))?;
            }
            // Windows long over are nobody's: dropped as attempts come.
            tx.execute("DELETE FROM login_failures WHERE started < $1", &[&(now - window)])
                .await
                .map_err(|e| crate::db_error(&e))?;
            tx.commit().await.map_err(|e| crate::db_error(&e))?;
            Ok(Ok(()))
        })
    }

    fn succeeded(&self, login_key: &str, address_key: &str) -> Result<()> {
        self.run(async {
            let c = self.store.pool().get().await.map_err(crate::pool_error)?;
            c.execute("DELETE FROM login_failures WHERE key = $1", &[&login_key])
                .await
                .map_err(|e| crate::db_error(&e))?;
            c.execute(
                "UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = $1",
                &[&address_key],
            )
            .await
            .map_err(|e| crate::db_error(&e))?;
            Ok(())
        })
    }
}
