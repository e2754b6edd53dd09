//! Versioned schema migrations (`congvu db migrate`): the SQL files of
//! `migrations/`, compiled in, applied in order, each in its own transaction with its
//! version recorded in `schema_migrations`. An advisory lock makes two nodes that
//! migrate at once take turns; a database already at the last version is left alone.
//! A store refuses to open a database that is not at the last version.

use congvu_store::StoreError;

use crate::{PgConfig, db_error};

/// (version, name, SQL), in order.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "mail", include_str!("../migrations/0001_mail.sql")),
    (2, "records", include_str!("../migrations/0002_records.sql")),
    (3, "nodes", include_str!("../migrations/0003_nodes.sql")),
];

/// The advisory lock migrations hold.
const MIGRATION_LOCK: i64 = crate::advisory::BASE + 1;

/// Applies the migrations `url`'s database lacks; returns the versions applied.
pub fn migrate(url: &str) -> Result<Vec<i64>, StoreError> {
    migrate_with(&PgConfig {
        url: url.to_owned(),
        password: None,
        blobs: None,
        pool_size: 1,
        statement_timeout: std::time::Duration::from_secs(600),
    })
}

/// [`migrate`] with the password of the configuration.
pub fn migrate_with(config: &PgConfig) -> Result<Vec<i64>, StoreError> {
    let pg = config.connection()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (mut client, connection) = pg
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| db_error(&e))?;
        let driver = tokio::spawn(connection);
        let applied = apply(&mut client).await;
        drop(client);
        let _ = driver.await;
        applied
    })
}

async fn apply(client: &mut tokio_postgres::Client) -> Result<Vec<i64>, StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    BIGINT PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await
        .map_err(|e| db_error(&e))?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| db_error(&e))?;
    let mut applied = Vec::new();
    let result = async {
        for (version, name, sql) in MIGRATIONS {
            let done = client
                .query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[version])
                .await
                .map_err(|e| db_error(&e))?
                .is_some();
            if done {
                continue;
            }
            let tx = client.transaction().await.map_err(|e| db_error(&e))?;
            tx.batch_execute(sql).await.map_err(|e| db_error(&e))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await
            .map_err(|e| db_error(&e))?;
            tx.commit().await.map_err(|e| db_error(&e))?;
            tracing::info!(version, name, "schema migration applied");
            applied.push(*version);
        }
        Ok::<_, StoreError>(())
    }
    .await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| db_error(&e))?;
    result.map(|()| applied)
}

/// `Ok` when the database is at the last version.
pub(crate) async fn require_current(pool: &deadpool_postgres::Pool) -> Result<(), StoreError> {
    let client = pool.get().await.map_err(crate::pool_error)?;
    let last = MIGRATIONS.last().map_or(0, |(version, _, _)| *version);
    let found: Option<i64> = client
        .query_opt("SELECT max(version) FROM schema_migrations", &[])
        .await
        .ok()
        .flatten()
        .and_then(|row| row.get(0));
    match found {
        Some(version) if version == last => Ok(()),
        other => Err(StoreError::Invalid(format!(
            "the database's schema is at version {}, this congvu needs {last}: run `congvu db migrate`",
            other.map_or_else(|| "none".to_owned(), |v| v.to_string())
        ))),
    }
}
