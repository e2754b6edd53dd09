//! The directory's storage on PostgreSQL (`congvu_directory::storage`): its trees
//! in the `directory` table of migration 2, so every node reads and writes one
//! directory. Commits are one transaction (invariant 1, durable at commit); writers
//! of every node take turns on an advisory lock held on a connection of its own for
//! the length of the write (invariant 3); audit keys come from a sequence
//! (invariant 4).

use std::sync::Arc;

use congvu_directory::Result;
use congvu_directory::storage::{DirectoryStorage, Write, WriteLock};
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
        self.run(async {
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
}
