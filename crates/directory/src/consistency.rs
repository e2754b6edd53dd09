//! The directory's side of the consistency check (issue 12) and of a backup's cut.
//!
//! 1. Every directory account names a storage account that exists (a mailbox whose
//!    storage is gone cannot receive or be read).
//! 2. Every storage account is named by exactly one directory account: one left by
//!    a crash between the store's `create_account` and the directory's commit is an
//!    orphan, and one named twice would mix two officials' mail.
//!
//! A purged mailbox's record is gone with its storage, so neither side names it.

use std::collections::HashMap;

use congvu_store::{AccountId, CheckReport, Inconsistency};

use crate::Directory;
use crate::error::Result;
use crate::record::AccountRecord;
use crate::trees::T;

impl Directory {
    /// Runs `f` while no directory write runs. Directory writes hold this across a
    /// store call and their own commit, so a backup that reads the database inside
    /// `f` (and the store's own gate) sees both sides of every write or neither.
    /// Backups are of a sled store, which one process owns: this process's writers
    /// are all there are.
    pub fn while_quiet(&self, f: &mut dyn FnMut()) {
        let _write = self.local_write_lock();
        f()
    }

    /// The whole check: the store's own ([`congvu_store::MailStore::check`]) with
    /// the directory ↔ storage problems added (`congvu check`, the tests' last step).
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = self.store.check()?;
        report.problems.extend(self.check_accounts()?);
        Ok(report)
    }

    /// Directory accounts against storage accounts (module docs).
    pub fn check_accounts(&self) -> Result<Vec<Inconsistency>> {
        let _write = self.write_lock()?;
        self.account_problems()
    }

    /// Deletes the storage accounts no address names that hold no mail (what a
    /// crash during account creation leaves); one that holds mail is kept and stays
    /// reported. Returns how many were deleted.
    pub fn repair_accounts(&self) -> Result<u64> {
        let _write = self.write_lock()?;
        let records: Vec<AccountRecord> = self.trees.all(T::Accounts)?;
        let mut deleted = 0;
        for id in self.store.account_ids()? {
            if records.iter().any(|r| r.account == id) {
                continue;
            }
            let empty = self
                .store
                .list_mailboxes(id)?
                .iter()
                .all(|mailbox| mailbox.messages == 0);
            if empty {
                self.store.delete_account(id)?;
                tracing::warn!(account = id.0, "empty storage account of no address deleted");
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    fn account_problems(&self) -> Result<Vec<Inconsistency>> {
        let records: Vec<AccountRecord> = self.trees.all(T::Accounts)?;
        let mut problems = Vec::new();
        let mut named: HashMap<AccountId, &str> = HashMap::new();
        for record in &records {
            if let Some(other) = named.insert(record.account, &record.address) {
                problems.push(Inconsistency {
                    kind: "storage_account_shared",
                    detail: format!(
                        "{} and {other} name the same storage account {}",
                        record.address, record.account.0
                    ),
                });
            }
            if self.store.account(record.account)?.is_none() {
                problems.push(Inconsistency {
                    kind: "directory_account_without_storage",
                    detail: format!(
                        "{} names missing storage account {}",
                        record.address, record.account.0
                    ),
                });
            }
        }
        for id in self.store.account_ids()? {
            if !named.contains_key(&id) {
                problems.push(Inconsistency {
                    kind: "storage_account_without_directory_account",
                    detail: format!("storage account {} belongs to no address", id.0),
                });
            }
        }
        Ok(problems)
    }
}
