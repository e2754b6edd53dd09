//! The data directory: its lock (one process per data directory), opening the store
//! and the directory (in it with sled, or on PostgreSQL: `[store] backend`), the spool for arriving mail, the admin token, and the
//! check that no other local user can read it. `serve` and the offline CLI both
//! start here.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use congvu_directory::storage::{DirectoryStorage, SledStorage};
use congvu_directory::{DefaultQuotas, Directory, Secret};
use congvu_store::{MailStore, SledStore};
use congvu_store_pg::PgStore;
use congvu_store_pg::directory::PgDirectory;

use crate::config::Config;
use crate::config::store::Backend;
use crate::tls;

pub const LOCK_FILE: &str = "congvu.lock";
pub const TOKEN_FILE: &str = "admin.token";

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(
        "another congvu process is using {0} (its lock file is held); stop it first, or use the CLI, \
         which talks to the running server"
    )]
    Locked(PathBuf),
    #[error("cannot open the mail store in {path}: {source}")]
    Store {
        path: PathBuf,
        source: congvu_store::StoreError,
    },
    #[error("{0}")]
    Postgres(String),
    #[error("cannot open the directory: {0}")]
    Directory(#[from] congvu_directory::DirectoryError),
    #[error("cannot write the admin token {path}: {source}")]
    Token { path: PathBuf, source: std::io::Error },
}

/// The exclusive lock on a data directory; released when dropped (or the process dies).
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, DataDirError> {
        // Every official's mail lives below: no other local user may enter (issue 11).
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|source| DataDirError::DataDir {
                path: data_dir.to_owned(),
                source,
            })?;
        let path = data_dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .mode(0o600)
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| DataDirError::DataDir {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(DataDirError::Locked(data_dir.to_owned())),
            Err(std::fs::TryLockError::Error(source)) => Err(DataDirError::DataDir { path, source }),
        }
    }
}

/// The opened data directory: what both `serve` and the offline CLI work on.
pub struct Opened {
    pub store: Arc<dyn MailStore>,
    /// The sled store, when `[store] backend = "sled"` (flushed at shutdown).
    pub sled: Option<Arc<SledStore>>,
    pub directory: Arc<Directory>,
    pub _lock: DataDirLock,
}

pub fn open_data_dir(config: &Config) -> Result<Opened, DataDirError> {
    let data_dir = &config.server.data_dir;
    let lock = DataDirLock::acquire(data_dir)?;
    let store_error = |source| DataDirError::Store {
        path: data_dir.clone(),
        source,
    };
    let (store, sled, postgres, storage): (Arc<dyn MailStore>, _, _, Arc<dyn DirectoryStorage>) =
        match config.store.backend {
            Backend::Sled => {
                let sled =
                    Arc::new(SledStore::open_with(data_dir, &config.store.sled()).map_err(store_error)?);
                let storage = Arc::new(SledStorage::new(sled.db()));
                (sled.clone(), Some(sled), None, storage)
            }
            Backend::Postgres => {
                let pg = config.store.postgres().map_err(DataDirError::Postgres)?;
                let store = Arc::new(PgStore::connect(&pg).map_err(store_error)?);
                let storage = Arc::new(PgDirectory::new(store.clone()));
                (store.clone(), None, Some(store), storage)
            }
        };
    let quotas = DefaultQuotas {
        agency_bytes: config.quota.agency.0,
        personal_bytes: config.quota.personal.0,
    };
    let directory = Arc::new(
        Directory::open_on(storage, store.clone(), &config.domain.primary, quotas)?
            .with_settings(crate::config::directory::settings(config))?
            .with_credential_cache(crate::config::directory::credential_cache(config))
            .with_password_checks(crate::config::directory::password_checks(config))
            .with_archiver(Arc::new(crate::archive::MboxArchiver::new(store.clone(), config))),
    );
    if let Some(postgres) = &postgres {
        // Other nodes' password changes and disabled accounts end this node's
        // sessions of the old credentials too.
        congvu_store_pg::directory::forward_revocations(postgres, directory.clone());
    }
    Ok(Opened {
        store,
        sled,
        directory,
        _lock: lock,
    })
}

/// `data_dir/spool`, where arriving mail data waits in unnamed files (0700).
pub fn spool_dir(data_dir: &Path) -> Result<PathBuf, DataDirError> {
    let dir = data_dir.join("spool");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|source| DataDirError::DataDir {
            path: dir.clone(),
            source,
        })?;
    Ok(dir)
}

/// The data directory holds every official's mail: `serve` says so when another
/// local user could read it (issue 11). Directories made by the store are 0700 and
/// its files 0600; one loosened by hand is left as it is.
pub fn warn_loose_modes(data_dir: &Path) {
    match SledStore::loose_modes(data_dir) {
        Ok(loose) => {
            for entry in loose {
                tracing::warn!(
                    path = %entry.path.display(),
                    mode = format!("{:o}", entry.mode),
                    "readable by other local users: chmod 700 for directories, 600 for files"
                );
            }
        }
        Err(error) => tracing::warn!(%error, "cannot check the data directory's permissions"),
    }
}

/// Reads the admin token, creating it (mode 0600) on first start.
pub fn ensure_token(data_dir: &Path) -> Result<Secret<String>, DataDirError> {
    let path = data_dir.join(TOKEN_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let token = existing.trim().to_owned();
        if token.len() >= 32 {
            return Ok(Secret::new(token));
        }
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    tls::write_private(&path, format!("{token}\n").as_bytes()).map_err(|source| DataDirError::Token {
        path: path.clone(),
        source,
    })?;
    Ok(Secret::new(token))
}
