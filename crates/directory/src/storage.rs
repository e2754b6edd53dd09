//! Where the directory keeps its trees: [`DirectoryStorage`], an ordered key-value
//! store with all-or-nothing commits. Two implementations: [`SledStorage`], trees of
//! the server's sled database (the embedded default), and the PostgreSQL one in
//! `congvu-store-pg`, for several congvu processes on one database.
//!
//! ## What an implementation keeps
//! 1. `commit` applies every write or none; they are durable once `flush` returns
//!    (PostgreSQL: at the commit itself).
//! 2. Reads return keys in byte order.
//! 3. `lock_writes` serialises the directory's writers across every process that
//!    shares the storage (sled: one process owns it, so nothing more than the
//!    directory's own mutex; PostgreSQL: an advisory lock), so "is this address
//!    free?" and "take it" never interleave with another node's.
//! 4. `next_id` never returns the same number twice.

use crate::error::{DirectoryError, Result};

/// The login throttle's failure windows kept where every process counts
/// (PostgreSQL), so that a guesser spread over several nodes meets one budget.
/// Keys are the throttle's (`throttle::shared_keys`); times Unix seconds.
pub trait SharedFailures: Send + Sync {
    /// Counts one failure on each key, reserved before the password check, unless
    /// one key is at its limit within its window: then `Ok(Err(wait))`, counting
    /// nothing.
    fn attempt(
        &self,
        keys: &[(String, u32)],
        window: std::time::Duration,
        now: i64,
    ) -> Result<std::result::Result<(), std::time::Duration>>;
    /// A correct password: the login's window is forgotten and the address's gets
    /// its reserved failure back.
    fn succeeded(&self, login_key: &str, address_key: &str) -> Result<()>;
}

/// One write of a commit: `(tree, key, Some(value))` puts, `None` removes.
pub type Write<'a> = (&'static str, &'a [u8], Option<&'a [u8]>);

/// Held while a directory write plans and commits (invariant 3); dropping it lets
/// the next writer in.
pub trait WriteLock: Send {}

impl WriteLock for () {}

pub trait DirectoryStorage: Send + Sync {
    fn get(&self, tree: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The records whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, tree: &'static str, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// The greatest key of the tree.
    fn last_key(&self, tree: &'static str) -> Result<Option<Vec<u8>>>;
    /// A write outside a commit (trees no invariant ties to another: passwords,
    /// sessions); durable once [`DirectoryStorage::flush`] returns.
    fn put(&self, tree: &'static str, key: &[u8], value: &[u8]) -> Result<()>;
    fn remove(&self, tree: &'static str, key: &[u8]) -> Result<()>;
    /// Applies every write or none (invariant 1).
    fn commit(&self, writes: &[Write<'_>]) -> Result<()>;
    /// A number never given before (invariant 4): the audit log's keys.
    fn next_id(&self) -> Result<u64>;
    /// Makes the writes outside commits durable.
    fn flush(&self) -> Result<()>;
    /// Serialises writers across processes (invariant 3).
    fn lock_writes(&self) -> Result<Box<dyn WriteLock>>;
    /// Where failed logins are counted when several processes share this storage;
    /// `None` (sled: one process) counts in this process's memory.
    fn shared_failures(&self) -> Option<&dyn SharedFailures> {
        None
    }
    /// Tells the other processes sharing this storage that `account`'s credentials
    /// were revoked (a password change, a disabled or deleted account), so that
    /// they end what the old ones opened too ([`crate::Directory::revoked_elsewhere`]).
    /// sled: one process, nothing to tell.
    fn announce_revocation(&self, _account: congvu_store::AccountId) -> Result<()> {
        Ok(())
    }
}

/// The directory's trees in a sled database (`dir.*`, beside the store's).
pub struct SledStorage {
    db: sled::Db,
}

impl SledStorage {
    pub fn new(db: &sled::Db) -> SledStorage {
        SledStorage { db: db.clone() }
    }

    fn tree(&self, name: &'static str) -> Result<sled::Tree> {
        Ok(self.db.open_tree(name)?)
    }
}

fn pairs(
    iter: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    iter.map(|entry| {
        let (key, value) = entry?;
        Ok((key.to_vec(), value.to_vec()))
    })
    .collect()
}

impl DirectoryStorage for SledStorage {
    fn get(&self, tree: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.tree(tree)?.get(key)?.map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, tree: &'static str, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        pairs(self.tree(tree)?.scan_prefix(prefix))
    }

    fn last_key(&self, tree: &'static str) -> Result<Option<Vec<u8>>> {
        Ok(self.tree(tree)?.last()?.map(|(key, _)| key.to_vec()))
    }

    fn put(&self, tree: &'static str, key: &[u8], value: &[u8]) -> Result<()> {
        self.tree(tree)?.insert(key, value)?;
        Ok(())
    }

    fn remove(&self, tree: &'static str, key: &[u8]) -> Result<()> {
        self.tree(tree)?.remove(key)?;
        Ok(())
    }

    fn commit(&self, writes: &[Write<'_>]) -> Result<()> {
        use sled::transaction::{ConflictableTransactionError, Transactional};
        let mut names: Vec<&'static str> = writes.iter().map(|(tree, _, _)| *tree).collect();
        names.sort_unstable();
        names.dedup();
        let trees = names
            .iter()
            .map(|name| self.tree(name))
            .collect::<Result<Vec<_>>>()?;
        trees.as_slice().transaction(|tx_trees| {
            for (tree, key, value) in writes {
                let index = names.binary_search(tree).map_err(|_| {
                    ConflictableTransactionError::Abort(DirectoryError::Db("tree index".into()))
                })?;
                let tx_tree = &tx_trees[index];
                match value {
                    Some(value) => tx_tree.insert(*key, *value)?,
                    None => tx_tree.remove(*key)?,
                };
            }
            Ok(())
        })?;
        Ok(())
    }

    fn next_id(&self) -> Result<u64> {
        Ok(self.db.generate_id()?)
    }

    fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    fn lock_writes(&self) -> Result<Box<dyn WriteLock>> {
        Ok(Box::new(()))
    }
}
