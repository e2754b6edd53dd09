//! The `dir.*` trees (layout in the crate doc) and their JSON records, in a
//! [`DirectoryStorage`]. Every key a write transaction touches is a point key: sled
//! transactions cannot range-scan.
//! Writes go through a [`crate::plan::Plan`]; this module only reads and commits.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{DirectoryError, Result};
use crate::storage::{DirectoryStorage, Write};

/// One `dir.*` tree; the discriminant indexes [`Trees`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum T {
    Agencies,
    Accounts,
    AccountIds,
    Issued,
    Passwords,
    Aliases,
    PersonIds,
    Names,
    Requests,
    Audit,
    Delegations,
    Sessions,
}

impl T {
    const ALL: [T; 12] = [
        T::Agencies,
        T::Accounts,
        T::AccountIds,
        T::Issued,
        T::Passwords,
        T::Aliases,
        T::PersonIds,
        T::Names,
        T::Requests,
        T::Audit,
        T::Delegations,
        T::Sessions,
    ];

    fn name(self) -> &'static str {
        match self {
            T::Agencies => "dir.agencies",
            T::Accounts => "dir.accounts",
            T::AccountIds => "dir.account_ids",
            T::Issued => "dir.issued",
            T::Passwords => "dir.passwords",
            T::Aliases => "dir.aliases",
            T::PersonIds => "dir.person_ids",
            T::Names => "dir.names",
            T::Requests => "dir.requests",
            T::Audit => "dir.audit",
            T::Delegations => "dir.delegations",
            T::Sessions => "dir.sessions",
        }
    }
}

/// The names of every directory tree (copying a directory from one storage to
/// another: `congvu store migrate`).
pub fn tree_names() -> Vec<&'static str> {
    T::ALL.iter().map(|t| t.name()).collect()
}

pub(crate) struct Trees {
    storage: Arc<dyn DirectoryStorage>,
}

impl Trees {
    pub fn new(storage: Arc<dyn DirectoryStorage>) -> Trees {
        Trees { storage }
    }

    pub fn storage(&self) -> &dyn DirectoryStorage {
        self.storage.as_ref()
    }

    pub fn get<V: DeserializeOwned>(&self, t: T, key: &[u8]) -> Result<Option<V>> {
        self.storage
            .get(t.name(), key)?
            .map(|json| decode(t, key, &json))
            .transpose()
    }

    pub fn get_raw(&self, t: T, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.storage.get(t.name(), key)
    }

    /// Every record of a tree, in key order.
    pub fn all<V: DeserializeOwned>(&self, t: T) -> Result<Vec<V>> {
        self.scan_prefix(t, &[])
    }

    /// Records whose key starts with `prefix`, in key order.
    pub fn scan_prefix<V: DeserializeOwned>(&self, t: T, prefix: &[u8]) -> Result<Vec<V>> {
        self.storage
            .scan_prefix(t.name(), prefix)?
            .iter()
            .map(|(key, json)| decode(t, key, json))
            .collect()
    }

    /// Every (key, value) of a tree, in key order, undecoded.
    pub fn entries(&self, t: T) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.storage.scan_prefix(t.name(), &[])
    }

    pub fn last_key(&self, t: T) -> Result<Option<Vec<u8>>> {
        self.storage.last_key(t.name())
    }

    /// Writes outside a plan: for trees no invariant ties to another (passwords,
    /// sessions).
    pub fn put_raw(&self, t: T, key: &[u8], value: &[u8]) -> Result<()> {
        self.storage.put(t.name(), key, value)
    }

    pub fn remove(&self, t: T, key: &[u8]) -> Result<()> {
        self.storage.remove(t.name(), key)
    }

    /// Applies every write in one transaction over all trees: a crash leaves all of
    /// them or none.
    pub fn commit<'k>(
        &self,
        writes: impl Iterator<Item = (&'k (T, Vec<u8>), &'k Option<Vec<u8>>)>,
    ) -> Result<()> {
        let writes: Vec<Write<'_>> = writes
            .map(|((t, key), value)| (t.name(), key.as_slice(), value.as_deref()))
            .collect();
        self.storage.commit(&writes)
    }
}

pub(crate) fn decode<V: DeserializeOwned>(t: T, key: &[u8], json: &[u8]) -> Result<V> {
    serde_json::from_slice(json).map_err(|e| corrupt(t.name(), &String::from_utf8_lossy(key), &e.to_string()))
}

pub(crate) fn encode<V: Serialize>(value: &V) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| DirectoryError::Db(format!("cannot encode record: {e}")))
}

pub(crate) fn corrupt(tree: &str, key: &str, why: &str) -> DirectoryError {
    DirectoryError::Db(format!("corrupt record in {tree} at {key}: {why}"))
}
