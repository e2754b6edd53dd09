//! # congvu-store-pg — the mail store and the directory on PostgreSQL (issue 17)
//!
//! `congvu_store::MailStore` on a PostgreSQL database that several congvu processes
//! share: the scale-out backend beside sled, the embedded default. PostgreSQL does the
//! clustering (streaming replication, failover, `pg_basebackup`); congvu only keeps its
//! invariants when several nodes write to one mailbox at once.
//!
//! ## Invariants (those of `crates/store`, kept across nodes)
//! 1. **Durable before the reply.** Every write is one transaction committed before
//!    the call returns (`synchronous_commit` as the server has it: on by default).
//! 2. **UIDs ascend and are never reused.** A UID is taken from `mailboxes.uidnext`
//!    under that row's lock in the transaction that stores the message: a second
//!    node appending to the same mailbox waits for the first to commit, so UIDs become
//!    visible in ascending order.
//! 3. **MODSEQ per mailbox**, bumped under the same lock by every change.
//! 4. **A body goes with its last reference**: `blobs.refs` changes in the transaction
//!    that adds or drops a message, and that transaction deletes the body at zero.
//! 5. **Changes reach every node.** A transaction that changes a mailbox sends
//!    `NOTIFY congvu_change` (delivered at commit); each process LISTENs and feeds its
//!    own `ChangeHub`, so an IDLE on node B wakes for a delivery through node A.
//!
//! 6. **One process per queue entry at a time**: a worker claims due entries with a
//!    lease (`claim_queue`, `FOR UPDATE SKIP LOCKED`); the attempt's record ends it.
//! 7. **One writer of the directory at a time** across nodes (`directory`), and one
//!    node per housekeeping round (`MailStore::job_lock`): advisory locks, released
//!    by PostgreSQL when a node's connection dies.
//!
//! The same behaviour tests as sled's run here (`tests/conformance.rs`, from
//! `congvu_store::conformance`); `tests/pg_store.rs` adds what only several nodes
//! show. Backups are PostgreSQL's (`pg_basebackup`, WAL archiving): `backup`
//! refuses. See docs/scale-out.md.

mod advisory;
mod check;
#[cfg(feature = "test-postgres")]
pub mod cluster;
pub mod copy;
pub mod directory;
mod listen;
mod mail;
mod migrate;
mod records;

use std::sync::Arc;
use std::time::Duration;

use congvu_store::{ChangeHub, StoreError};

pub use migrate::{MIGRATIONS, migrate, migrate_with};

/// How to reach the database.
#[derive(Clone, Debug)]
pub struct PgConfig {
    /// `postgres://user@host:port/database`.
    pub url: String,
    /// The password, when the URL has none.
    pub password: Option<congvu_directory::Secret<String>>,
    /// Connections in this process's pool.
    pub pool_size: usize,
    /// Longest a statement may run before the server cancels it.
    pub statement_timeout: Duration,
    /// Where bodies are kept: `None` in PostgreSQL (the default), or a directory
    /// every node mounts (`[store] blobs`; docs/scale-out.md).
    pub blobs: Option<std::path::PathBuf>,
}

impl PgConfig {
    /// The driver's configuration: the URL, the password, the statement timeout.
    pub(crate) fn connection(&self) -> Result<tokio_postgres::Config, StoreError> {
        let mut pg: tokio_postgres::Config = self
            .url
            .parse()
            .map_err(|e| StoreError::Invalid(format!("[store] url: {e}")))?;
        if let Some(password) = &self.password {
            pg.password(password.expose().as_bytes());
        }
        pg.options(format!(
            "-c statement_timeout={}",
            self.statement_timeout.as_millis()
        ));
        Ok(pg)
    }
}

/// The notification channel of mailbox changes (invariant 5).
const CHANNEL: &str = "congvu_change";

/// The notification channel of revoked credentials (`directory`): the payload is
/// the account id.
const REVOKE_CHANNEL: &str = "congvu_revoke";

/// How long `connect` waits for its LISTEN before it gives up: a database that
/// takes connections cannot fail to take this one for longer.
const LISTEN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A `MailStore` on PostgreSQL. Its calls are synchronous, like sled's: they run
/// their queries on a small runtime of their own, so they may be made from the
/// blocking pool, from a plain thread (the CLI), or — through a scoped thread —
/// from an async task without stalling it.
pub struct PgStore {
    pool: deadpool_postgres::Pool,
    /// The body directory, when bodies are kept in files (`PgConfig::blobs`).
    files: Option<congvu_store::blob::BlobStore>,
    runtime: Arc<StoreRuntime>,
    hub: Arc<ChangeHub>,
    /// Accounts whose credentials some node revoked (`directory::forward_revocations`).
    revocations: tokio::sync::broadcast::Sender<congvu_store::AccountId>,
}

/// The store's own runtime. Dropped with `shutdown_background`, which, unlike a
/// plain drop, may happen inside another runtime (the server's last reference to
/// the store goes in an async task).
pub(crate) struct StoreRuntime(Option<tokio::runtime::Runtime>);

impl StoreRuntime {
    fn get(&self) -> &tokio::runtime::Runtime {
        // Some until drop.
        self.0
            .as_ref()
            .expect("the store's runtime lives until the store is dropped")
    }
}

impl Drop for StoreRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A database error as the store's: a unique violation is `Exists`, everything
/// else the server's fault.
pub(crate) fn db_error(error: &tokio_postgres::Error) -> StoreError {
    if error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        return StoreError::Exists(error.to_string());
    }
    match error.as_db_error() {
        // The SQLSTATE first: `is_retryable` reads it, operators grep for it.
        Some(db) => StoreError::Db(format!("{}: {}", db.code().code(), db.message())),
        None => StoreError::Db(error.to_string()),
    }
}

/// True for a failure that running the transaction again may clear: a deadlock
/// PostgreSQL broke (40P01) or a serialization failure (40001).
pub(crate) fn is_retryable(error: &StoreError) -> bool {
    matches!(error, StoreError::Db(text) if text.starts_with("40P01:") || text.starts_with("40001:"))
}

/// Times a transaction is run again after a retryable failure.
const MAX_RETRIES: u32 = 5;

/// A failure to get a pooled connection.
pub(crate) fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Db(format!("connection pool: {error}"))
}

impl PgStore {
    /// Connects (checking the schema is at [`MIGRATIONS`]' last version) and starts
    /// listening for other nodes' changes.
    pub fn connect(config: &PgConfig) -> Result<PgStore, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("congvu-pg")
            .enable_all()
            .build()?;
        let pg = config.connection()?;
        let manager = deadpool_postgres::Manager::from_config(
            pg.clone(),
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Invalid(format!("[store] pool: {e}")))?;
        let hub = Arc::new(ChangeHub::default());
        let files = config
            .blobs
            .as_deref()
            .map(congvu_store::blob::BlobStore::open)
            .transpose()
            .map_err(|e| StoreError::Invalid(format!("[store] blobs: {e}")))?;
        let store = PgStore {
            pool,
            files,
            runtime: Arc::new(StoreRuntime(Some(runtime))),
            hub,
            revocations: tokio::sync::broadcast::channel(1024).0,
        };
        store.run(migrate::require_current(&store.pool))?;
        let (listening, first_listen) = tokio::sync::oneshot::channel();
        store.runtime.get().spawn(listen::forward_changes(
            pg,
            Arc::clone(&store.hub),
            store.revocations.clone(),
            listening,
        ));
        // Changes reach this node's sessions only through the LISTEN, its own
        // included: wait for it, or the first writes would go unannounced.
        store.run(async {
            match tokio::time::timeout(LISTEN_WAIT, first_listen).await {
                Ok(Ok(())) => Ok(()),
                _ => Err(StoreError::Db(format!(
                    "LISTEN {CHANNEL} không thành công sau {} s / not listening after {} s",
                    LISTEN_WAIT.as_secs(),
                    LISTEN_WAIT.as_secs()
                ))),
            }
        })?;
        Ok(store)
    }

    /// Runs `work` on the store's runtime and waits for it (see the type's docs).
    pub(crate) fn run<T: Send>(
        &self,
        work: impl std::future::Future<Output = Result<T, StoreError>> + Send,
    ) -> Result<T, StoreError> {
        block_on(&self.runtime, work)
    }

    /// [`PgStore::run`] for a write transaction: one that failed in a way running
    /// it again may clear (`is_retryable`) runs again from the start, a few
    /// milliseconds later, up to [`MAX_RETRIES`] times.
    pub(crate) fn run_retrying<T: Send, F, Fut>(&self, mut work: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut + Send,
        Fut: std::future::Future<Output = Result<T, StoreError>> + Send,
    {
        self.run(async move {
            let mut attempt = 0;
            loop {
                match work().await {
                    Err(error) if is_retryable(&error) && attempt < MAX_RETRIES => {
                        attempt += 1;
                        tracing::debug!(%error, attempt, "transaction retried");
                        tokio::time::sleep(Duration::from_millis(u64::from(attempt) * 5)).await;
                    }
                    other => return other,
                }
            }
        })
    }

    pub(crate) fn runtime(&self) -> &Arc<StoreRuntime> {
        &self.runtime
    }

    pub(crate) fn files(&self) -> Option<&congvu_store::blob::BlobStore> {
        self.files.as_ref()
    }

    pub(crate) fn revocations(&self) -> tokio::sync::broadcast::Receiver<congvu_store::AccountId> {
        self.revocations.subscribe()
    }

    pub(crate) fn pool(&self) -> &deadpool_postgres::Pool {
        &self.pool
    }

    pub(crate) fn hub(&self) -> &Arc<ChangeHub> {
        &self.hub
    }
}

/// Runs `work` on `runtime` and waits for it: directly on a plain thread, and on a
/// scoped thread of its own when called inside a runtime (never blocking an async
/// worker).
pub(crate) fn block_on<T: Send>(
    runtime: &StoreRuntime,
    work: impl std::future::Future<Output = Result<T, StoreError>> + Send,
) -> Result<T, StoreError> {
    let runtime = runtime.get();
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(work);
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime.block_on(work))
            .join()
            .unwrap_or_else(|_| Err(StoreError::Db("store thread panicked".into())))
    })
}
