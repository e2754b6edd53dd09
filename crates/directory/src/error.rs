//! [`DirectoryError`]: user faults (`NotFound`, `Exists`, `Invalid`) kept apart from
//! server faults (`Store`, `Db`) so callers can pick the reply and the log level.

use congvu_policy::NamingError;
use sled::transaction::TransactionError;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    Exists(String),
    #[error("invalid: {0}")]
    Invalid(String),
    /// The operation does not fit the current state (approving an applied request).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many failed logins from the client lately; no password was checked.
    #[error("too many failed logins: retry in {} s", retry_after.as_secs().max(1))]
    Throttled { retry_after: std::time::Duration },
    #[error(transparent)]
    Store(#[from] congvu_store::StoreError),
    #[error("directory database error: {0}")]
    Db(String),
}

impl DirectoryError {
    /// The variant's name: a stable label for logs and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            DirectoryError::NotFound(_) => "NotFound",
            DirectoryError::Exists(_) => "Exists",
            DirectoryError::Invalid(_) => "Invalid",
            DirectoryError::Conflict(_) => "Conflict",
            DirectoryError::Throttled { .. } => "Throttled",
            DirectoryError::Store(_) => "Store",
            DirectoryError::Db(_) => "Db",
        }
    }

    /// True for faults of the server (disk, database, corrupt record), false for faults
    /// of the request.
    pub fn is_server_fault(&self) -> bool {
        match self {
            DirectoryError::Store(e) => e.is_server_fault(),
            DirectoryError::Db(_) => true,
            DirectoryError::NotFound(_)
            | DirectoryError::Exists(_)
            | DirectoryError::Invalid(_)
            | DirectoryError::Conflict(_)
            | DirectoryError::Throttled { .. } => false,
        }
    }
}

impl From<sled::Error> for DirectoryError {
    fn from(e: sled::Error) -> DirectoryError {
        DirectoryError::Db(e.to_string())
    }
}

impl From<TransactionError<DirectoryError>> for DirectoryError {
    fn from(e: TransactionError<DirectoryError>) -> DirectoryError {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}

impl From<NamingError> for DirectoryError {
    fn from(e: NamingError) -> DirectoryError {
        DirectoryError::Invalid(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, DirectoryError>;
