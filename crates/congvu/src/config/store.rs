//! `[store]`: where the mail and the directory live — sled in the data directory
//! (the embedded default, one process) or a PostgreSQL database several congvu
//! processes share (docs/scale-out.md).

use std::path::PathBuf;
use std::time::Duration;

/// The problem of `backend = "postgres"` without `url`.
const NO_URL: &str = "[store] url: backend = \"postgres\" needs the database's URL";

/// Which backend keeps the store and the directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Sled,
    Postgres,
}

/// `[store]` in the configuration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    pub backend: Backend,
    /// sled's page cache, in MiB (sled only).
    pub cache_mb: u64,
    /// PostgreSQL: `postgres://user@host:port/database`, without the password.
    pub url: Option<String>,
    /// PostgreSQL: a file whose first line is the password (kept out of this file).
    pub password_file: Option<PathBuf>,
    /// PostgreSQL: connections in each process's pool.
    pub pool_size: usize,
    /// PostgreSQL: longest a statement may run before the server cancels it.
    pub statement_timeout_secs: u64,
    /// PostgreSQL: keep bodies in this directory (every node mounts it) instead of
    /// in the database. Unset: in the database (the default; docs/scale-out.md).
    pub blobs: Option<PathBuf>,
}

impl Default for StoreSection {
    fn default() -> StoreSection {
        StoreSection {
            backend: Backend::Sled,
            cache_mb: congvu_store::StoreOptions::default().cache_mb,
            url: None,
            password_file: None,
            pool_size: 16,
            statement_timeout_secs: 30,
            blobs: None,
        }
    }
}

impl StoreSection {
    /// The sled store's options.
    pub fn sled(&self) -> congvu_store::StoreOptions {
        congvu_store::StoreOptions {
            cache_mb: self.cache_mb,
        }
    }

    /// The configuration's problems, one line each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.backend == Backend::Postgres {
            match self
                .url
                .as_deref()
                .map(|url| (url, url.parse::<tokio_postgres::Config>()))
            {
                None => problems.push(NO_URL.to_owned()),
                Some((url, Err(_))) => problems.push(format!("[store] url: not a PostgreSQL URL: {url:?}")),
                Some((_, Ok(parsed))) if parsed.get_password().is_some() => {
                    problems.push("[store] url: put the password in password_file, not in the URL".to_owned())
                }
                Some(_) => {}
            }
        }
        if self.backend == Backend::Sled && self.blobs.is_some() {
            problems.push(
                "[store] blobs: only with backend = \"postgres\" (sled keeps bodies in data_dir)".to_owned(),
            );
        }
        if self.pool_size == 0 {
            problems.push("[store] pool_size: must be larger than zero".to_owned());
        }
        if self.statement_timeout_secs == 0 {
            problems.push("[store] statement_timeout_secs: must be larger than zero".to_owned());
        }
        problems
    }

    /// How to reach the database; the password file is read now.
    pub fn postgres(&self) -> Result<congvu_store_pg::PgConfig, String> {
        let url = self.url.clone().ok_or_else(|| NO_URL.to_owned())?;
        let password = match &self.password_file {
            Some(path) => Some(congvu_directory::Secret::new(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("[store] password_file {}: {e}", path.display()))?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            )),
            None => None,
        };
        Ok(congvu_store_pg::PgConfig {
            url,
            password,
            blobs: self.blobs.clone(),
            pool_size: self.pool_size,
            statement_timeout: Duration::from_secs(self.statement_timeout_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postgres(url: Option<&str>) -> StoreSection {
        StoreSection {
            backend: Backend::Postgres,
            url: url.map(str::to_owned),
            ..StoreSection::default()
        }
    }

    #[test]
    fn every_bad_store_section_is_named() {
        assert!(StoreSection::default().problems().is_empty());
        assert!(
            postgres(Some("postgres://congvu@10.0.0.5/congvu"))
                .problems()
                .is_empty()
        );
        assert_eq!(postgres(None).problems(), [NO_URL]);
        assert_eq!(postgres(None).postgres().err().as_deref(), Some(NO_URL));
        assert_eq!(
            postgres(Some("postgres://congvu@h:notaport/x")).problems(),
            ["[store] url: not a PostgreSQL URL: \"postgres://congvu@h:notaport/x\""]
        );
        assert_eq!(
            postgres(Some("postgres://congvu:secret@10.0.0.5/congvu")).problems(),
            ["[store] url: put the password in password_file, not in the URL"]
        );
        let sled_with_blobs = StoreSection {
            blobs: Some("/srv/blobs".into()),
            pool_size: 0,
            statement_timeout_secs: 0,
            ..StoreSection::default()
        };
        assert_eq!(
            sled_with_blobs.problems().len(),
            3,
            "{:?}",
            sled_with_blobs.problems()
        );
    }
}
