//! The `dir.*` sled trees (layout in the crate doc) and their JSON records. Every key a
//! write transaction touches is a point key: sled transactions cannot range-scan.
//! Writes go through a [`crate::plan::Plan`]; this module only reads and commits.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, Transactional};

use crate::error::{DirectoryError, Result};

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

pub(crate) struct Trees {
    trees: Vec<sled::Tree>,
}

impl Trees {
    pub fn open(db: &sled::Db) -> Result<Trees> {
        let trees = T::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Trees { trees })
    }

    pub fn tree(&self, t: T) -> &sled::Tree {
        // ALL lists every variant in discriminant order, so the index always exists.
        &self.trees[t as usize]
    }

    pub fn get<V: DeserializeOwned>(&self, t: T, key: &[u8]) -> Result<Option<V>> {
        self.tree(t)
            .get(key)?
            .map(|json| decode(t, key, &json))
            .transpose()
    }

    pub fn get_raw(&self, t: T, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.tree(t).get(key)?.map(|v| v.to_vec()))
    }

    /// Every record of a tree, in key order.
    pub fn all<V: DeserializeOwned>(&self, t: T) -> Result<Vec<V>> {
        self.tree(t)
            .iter()
            .map(|entry| {
                let (key, json) = entry?;
                decode(t, &key, &json)
            })
            .collect()
    }

    /// Records whose key starts with `prefix`, in key order.
    pub fn scan_prefix<V: DeserializeOwned>(&self, t: T, prefix: &[u8]) -> Result<Vec<V>> {
        self.tree(t)
            .scan_prefix(prefix)
            .map(|entry| {
                let (key, json) = entry?;
                decode(t, &key, &json)
            })
            .collect()
    }

    /// Writes outside a plan: for trees no invariant ties to another (passwords,
    /// sessions).
    pub fn put_raw(&self, t: T, key: &[u8], value: &[u8]) -> Result<()> {
        self.tree(t).insert(key, value)?;
        Ok(())
    }

    pub fn remove(&self, t: T, key: &[u8]) -> Result<()> {
        self.tree(t).remove(key)?;
        Ok(())
    }

    /// Applies every write in one transaction over all trees: a crash leaves all of
    /// them or none.
    pub fn commit<'k>(
        &self,
        writes: impl Iterator<Item = (&'k (T, Vec<u8>), &'k Option<Vec<u8>>)>,
    ) -> Result<()> {
        let writes: Vec<_> = writes.collect();
        let refs: Vec<&sled::Tree> = self.trees.iter().collect();
        refs.as_slice().transaction(|trees| {
            for ((t, key), value) in &writes {
                let tree = trees.get(*t as usize).ok_or_else(|| {
                    ConflictableTransactionError::Abort(DirectoryError::Db("tree index".into()))
                })?;
                match value {
                    Some(value) => tree.insert(key.as_slice(), value.as_slice())?,
                    None => tree.remove(key.as_slice())?,
                };
            }
            Ok(())
        })?;
        Ok(())
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
