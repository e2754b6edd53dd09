//! `congvu db migrate`: brings the PostgreSQL database of `[store] url` to the
//! schema this congvu needs (`congvu_store_pg::MIGRATIONS`, each applied once, in
//! order, under an advisory lock: two nodes migrating at once take turns).

use clap::Subcommand;

use super::client::CliError;
use crate::config::Config;
use crate::config::store::Backend;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Apply the schema migrations the database lacks (PostgreSQL backend).
    Migrate,
}

pub fn db(config: &Config, command: DbCommand) -> Result<(), CliError> {
    match command {
        DbCommand::Migrate => migrate(config),
    }
}

fn migrate(config: &Config) -> Result<(), CliError> {
    if config.store.backend != Backend::Postgres {
        return Err(CliError::Usage(
            "[store] backend là sled: không có gì để chuyển đổi / [store] backend is sled: sled needs no migrations"
                .into(),
        ));
    }
    let pg = config.store.postgres().map_err(CliError::Usage)?;
    let applied = congvu_store_pg::migrate_with(&pg).map_err(|e| CliError::Job(e.to_string()))?;
    let last = congvu_store_pg::MIGRATIONS
        .last()
        .map_or(0, |(version, _, _)| *version);
    if applied.is_empty() {
        println!("Cơ sở dữ liệu đã ở phiên bản {last} / the database is already at version {last}");
    } else {
        let versions: Vec<String> = applied.iter().map(i64::to_string).collect();
        println!(
            "Đã áp dụng / applied: {}; cơ sở dữ liệu ở phiên bản {last} / the database is at version {last}",
            versions.join(", ")
        );
    }
    Ok(())
}
