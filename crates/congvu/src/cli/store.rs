//! `congvu store migrate --from sled:DATA_DIR --to postgres:URL`: moves a province
//! from the embedded store to PostgreSQL (docs/scale-out.md). The server must be
//! stopped (the data directory's lock is taken); the database must be migrated
//! (`congvu db migrate`) and empty. Everything is copied with its ids, read back and
//! compared (`congvu_store_pg::copy`); any difference fails the command.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;

use super::client::CliError;
use crate::config::Config;
use crate::data_dir::DataDirLock;

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Copy a stopped server's sled store and directory into an empty PostgreSQL
    /// database, then verify counts, ids and body hashes.
    Migrate {
        /// `sled:DATA_DIR`.
        #[arg(long)]
        from: String,
        /// `postgres:URL` (the password from `[store] password_file`, if set).
        #[arg(long)]
        to: String,
    },
}

pub fn store(config: &Config, command: StoreCommand) -> Result<(), CliError> {
    match command {
        StoreCommand::Migrate { from, to } => migrate(config, &from, &to),
    }
}

fn migrate(config: &Config, from: &str, to: &str) -> Result<(), CliError> {
    let data_dir = from
        .strip_prefix("sled:")
        .map(PathBuf::from)
        .ok_or_else(|| CliError::Usage("--from sled:DATA_DIR".into()))?;
    let url = to
        .strip_prefix("postgres:")
        .ok_or_else(|| CliError::Usage("--to postgres:URL".into()))?;
    let _lock = DataDirLock::acquire(&data_dir)?;
    let source = congvu_store::SledStore::open_with(&data_dir, &config.store.sled())
        .map_err(|e| CliError::Job(format!("{}: {e}", data_dir.display())))?;
    let directory = congvu_directory::storage::SledStorage::new(source.db());
    // The target's URL from the command line, the rest of `[store]` as configured;
    // a copy writes for minutes: no statement limit to speak of.
    let pg = crate::config::store::StoreSection {
        url: Some(url.to_owned()),
        statement_timeout_secs: 3600,
        ..config.store.clone()
    }
    .postgres()
    .map_err(CliError::Usage)?;
    let target = Arc::new(congvu_store_pg::PgStore::connect(&pg).map_err(|e| CliError::Job(e.to_string()))?);
    let report =
        congvu_store_pg::copy::copy_into(&source, &directory, &congvu_directory::tree_names(), &target)
            .map_err(|e| CliError::Job(e.to_string()))?;
    println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    if !report.differences.is_empty() {
        return Err(CliError::Job(format!(
            "bản sao khác nguồn: {} chỗ / the copy differs from the source in {} place(s)",
            report.differences.len(),
            report.differences.len()
        )));
    }
    println!(
        "Đã chuyển và kiểm tra / copied and verified: {} tài khoản / accounts, {} hộp thư / mailboxes, {} thư / messages, \
         {} tệp / bodies ({} bytes)",
        report.accounts, report.mailboxes, report.messages, report.bodies, report.body_bytes
    );
    Ok(())
}
