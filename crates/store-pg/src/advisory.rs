//! Session advisory locks held on a pooled connection of their own: the directory's
//! write lock and the scheduled jobs' locks. PostgreSQL releases a session's locks
//! when its connection closes, so a node that dies holds nothing.

use std::sync::Arc;

use congvu_store::StoreError;

use crate::PgStore;

/// The first key of congvu's advisory locks (any fixed number of ours); the
/// migrations hold `BASE + 1`, directory writers `BASE + 2`.
pub(crate) const BASE: i64 = 0x636f_6e67_7675_0000;

/// A held advisory lock; dropping it unlocks.
pub(crate) struct AdvisoryLock {
    runtime: Arc<crate::StoreRuntime>,
    key: i64,
    connection: Option<deadpool_postgres::Object>,
}

impl AdvisoryLock {
    /// Waits for the lock.
    pub(crate) fn acquire(store: &PgStore, key: i64) -> Result<AdvisoryLock, StoreError> {
        let connection = store.run(async {
            let c = store.pool().get().await.map_err(crate::pool_error)?;
            c.execute("SELECT pg_advisory_lock($1)", &[&key])
                .await
                .map_err(|e| crate::db_error(&e))?;
            Ok(c)
        })?;
        Ok(AdvisoryLock {
            runtime: Arc::clone(store.runtime()),
            key,
            connection: Some(connection),
        })
    }

    /// The lock, or `None` when another session holds it.
    pub(crate) fn try_acquire(store: &PgStore, key: i64) -> Result<Option<AdvisoryLock>, StoreError> {
        let connection = store.run(async {
            let c = store.pool().get().await.map_err(crate::pool_error)?;
            let row = c
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await
                .map_err(|e| crate::db_error(&e))?;
            Ok(row.get::<_, bool>(0).then_some(c))
        })?;
        Ok(connection.map(|connection| AdvisoryLock {
            runtime: Arc::clone(store.runtime()),
            key,
            connection: Some(connection),
        }))
    }
}

impl Drop for AdvisoryLock {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        let key = self.key;
        let unlocked = crate::block_on(&self.runtime, async {
            match connection.execute("SELECT pg_advisory_unlock($1)", &[&key]).await {
                Ok(_) => Ok(()),
                Err(error) => {
                    // The connection does not go back to the pool: closing it ends
                    // the session, and with it the session's locks.
                    drop(deadpool_postgres::Object::take(connection));
                    Err(crate::db_error(&error))
                }
            }
        });
        if let Err(error) = unlocked {
            tracing::warn!(error = %error, key, "advisory unlock failed, connection closed");
        }
    }
}

/// The lock key of a scheduled job: FNV-1a of its name, above [`BASE`]'s range.
pub(crate) fn job_key(job: &str) -> i64 {
    let hash = job.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash >> 16) as i64 | 0x1_0000_0000
}
