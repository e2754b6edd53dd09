//! [`Plan`]: every directory change is first planned, then committed in one sled
//! transaction.
//!
//! A plan reads through its own pending writes (so the second line of a request sees
//! what the first one did: the agency it created, the address it took), collects the
//! audit entries, and touches nothing on disk. A dry run is a plan that is dropped.
//! Committing creates the storage accounts the plan asked for (the store cannot join a
//! directory transaction: a crash after that leaves empty unreachable storage
//! accounts, never a directory entry without storage), writes their ids into the
//! planned records, then commits every write at once and flushes.
//!
//! Plans are made and committed under the directory's write lock, so nothing changes
//! between reading and committing. Once a commit is durable, every account it
//! disabled (disable, deletion) or whose password it wrote or removed (purge) is
//! revoked (`revocation`): its IMAP sessions end and its cached passwords go.

use std::collections::HashMap;

use congvu_policy::LocalPart;
use congvu_store::{AccountId, AccountKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Directory;
use crate::audit::AuditEntry;
use crate::error::{DirectoryError, Result};
use crate::record::{AccountRecord, AgencyRecord, Issued};
use crate::trees::{T, decode, encode};

/// Storage accounts created in parallel when a plan needs many (a bulk import): the
/// store's group commit then shares one flush between them.
const ACCOUNT_WORKERS: usize = 8;

/// A storage account the plan needs, for the record at `local`.
struct Pending {
    local: LocalPart,
    kind: AccountKind,
    quota_bytes: u64,
    /// Also patch this agency record (the agency mailbox).
    agency: Option<String>,
}

pub(crate) struct Plan<'a> {
    dir: &'a Directory,
    writes: HashMap<(T, Vec<u8>), Option<Vec<u8>>>,
    pending: Vec<Pending>,
    audit: Vec<AuditEntry>,
    pub actor: String,
    pub request: Option<u64>,
    /// Unix seconds: one instant for every change of the plan.
    pub now: i64,
}

impl<'a> Plan<'a> {
    pub fn new(dir: &'a Directory, actor: &str, now: i64) -> Plan<'a> {
        Plan {
            dir,
            writes: HashMap::new(),
            pending: Vec::new(),
            audit: Vec::new(),
            actor: actor.to_owned(),
            request: None,
            now,
        }
    }

    pub fn dir(&self) -> &'a Directory {
        self.dir
    }

    pub fn get<V: DeserializeOwned>(&self, t: T, key: &[u8]) -> Result<Option<V>> {
        match self.writes.get(&(t, key.to_vec())) {
            Some(Some(json)) => decode(t, key, json).map(Some),
            Some(None) => Ok(None),
            None => self.dir.trees.get(t, key),
        }
    }

    pub fn contains(&self, t: T, key: &[u8]) -> Result<bool> {
        match self.writes.get(&(t, key.to_vec())) {
            Some(value) => Ok(value.is_some()),
            None => Ok(self.dir.trees.get_raw(t, key)?.is_some()),
        }
    }

    pub fn put<V: Serialize>(&mut self, t: T, key: &[u8], value: &V) -> Result<()> {
        self.writes.insert((t, key.to_vec()), Some(encode(value)?));
        Ok(())
    }

    pub fn put_raw(&mut self, t: T, key: &[u8], value: &[u8]) {
        self.writes.insert((t, key.to_vec()), Some(value.to_vec()));
    }

    pub fn remove(&mut self, t: T, key: &[u8]) {
        self.writes.insert((t, key.to_vec()), None);
    }

    pub fn audit(&mut self, action: &str, subject: &str, detail: impl Into<String>) {
        self.audit.push(AuditEntry {
            at: self.now,
            actor: self.actor.clone(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            detail: detail.into(),
            request: self.request,
        });
    }

    /// The account at `local` as planned so far.
    pub fn account(&self, local: &LocalPart) -> Result<Option<AccountRecord>> {
        self.get(T::Accounts, local.as_str().as_bytes())
    }

    pub fn put_account(&mut self, local: &LocalPart, record: &AccountRecord) -> Result<()> {
        self.put(T::Accounts, local.as_str().as_bytes(), record)
    }

    pub fn agency(&self, abbr: &str) -> Result<Option<AgencyRecord>> {
        self.get(T::Agencies, abbr.as_bytes())
    }

    /// True when `local` was ever issued (or is an alias), here or earlier.
    pub fn is_taken(&self, local: &LocalPart) -> Result<bool> {
        let key = local.as_str().as_bytes();
        Ok(self.contains(T::Issued, key)? || self.contains(T::Aliases, key)?)
    }

    /// Issues a new mailbox at `local`; its storage account is created at commit.
    pub fn issue(
        &mut self,
        local: &LocalPart,
        record: &AccountRecord,
        agency: Option<&AgencyRecord>,
    ) -> Result<()> {
        if self.is_taken(local)? {
            return Err(DirectoryError::Exists(format!(
                "address {} has been issued before",
                record.address
            )));
        }
        let quota_bytes = match record.kind {
            AccountKind::Agency => self.dir.quotas.agency_bytes,
            AccountKind::Personal => self.dir.quotas.personal_bytes,
        };
        self.put_account(local, record)?;
        if let Some(agency) = agency {
            self.put(T::Agencies, agency.abbr.as_bytes(), agency)?;
        }
        self.put(
            T::Issued,
            local.as_str().as_bytes(),
            &Issued {
                account: AccountId(0),
                issued_at: self.now,
            },
        )?;
        self.pending.push(Pending {
            local: local.clone(),
            kind: record.kind,
            quota_bytes,
            agency: agency.map(|a| a.abbr.clone()),
        });
        Ok(())
    }

    /// Creates the storage accounts, then commits every write and the audit entries in
    /// one transaction, then flushes.
    pub fn commit(mut self) -> Result<()> {
        if self.writes.is_empty() && self.pending.is_empty() && self.audit.is_empty() {
            return Ok(());
        }
        let ids = self.create_accounts()?;
        if let Err(error) = self.write_all(&ids) {
            self.remove_accounts(&ids);
            return Err(error);
        }
        self.dir.flush()?;
        // Durable now: sessions of accounts it disabled or re-keyed end.
        self.dir.revoke_written(self.writes.iter());
        Ok(())
    }

    /// Points the planned records at their new storage accounts and commits every
    /// write with the audit entries in one transaction.
    fn write_all(&mut self, ids: &[AccountId]) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        for (p, &id) in pending.iter().zip(ids) {
            let key = p.local.as_str().as_bytes();
            let mut record = self
                .account(&p.local)?
                .ok_or_else(|| DirectoryError::Db(format!("planned account {} vanished", p.local)))?;
            record.account = id;
            self.put_account(&p.local, &record)?;
            self.put_raw(T::AccountIds, &id.0.to_be_bytes(), key);
            self.put(
                T::Issued,
                key,
                &Issued {
                    account: id,
                    issued_at: self.now,
                },
            )?;
            if let Some(abbr) = &p.agency
                && let Some(mut agency) = self.agency(abbr)?
            {
                agency.account = id;
                self.put(T::Agencies, abbr.as_bytes(), &agency)?;
            }
        }
        for entry in std::mem::take(&mut self.audit) {
            let seq = self.dir.trees.storage().next_id()?;
            self.put(T::Audit, &seq.to_be_bytes(), &entry)?;
        }
        self.dir.trees.commit(self.writes.iter())
    }

    /// Creates the planned storage accounts (in parallel for a large import). If one
    /// fails, those already created are removed again.
    fn create_accounts(&self) -> Result<Vec<AccountId>> {
        let store = &self.dir.store;
        let create = |part: &[Pending]| {
            let mut ids = Vec::with_capacity(part.len());
            for p in part {
                match store.create_account(p.kind, p.quota_bytes) {
                    Ok(id) => ids.push(id),
                    Err(e) => return (ids, Some(DirectoryError::from(e))),
                }
            }
            (ids, None)
        };
        let (ids, failure) = if self.pending.len() < ACCOUNT_WORKERS * 4 {
            create(&self.pending)
        } else {
            let chunk = self.pending.len().div_ceil(ACCOUNT_WORKERS);
            std::thread::scope(|scope| {
                let workers: Vec<_> = self
                    .pending
                    .chunks(chunk)
                    .map(|part| scope.spawn(move || create(part)))
                    .collect();
                let mut ids = Vec::with_capacity(self.pending.len());
                let mut failure = None;
                for worker in workers {
                    match worker.join() {
                        Ok((part, error)) => {
                            ids.extend(part);
                            failure = failure.or(error);
                        }
                        Err(_) => {
                            let panicked = DirectoryError::Db("a storage account worker panicked".into());
                            failure = failure.or(Some(panicked));
                        }
                    }
                }
                (ids, failure)
            })
        };
        match failure {
            None => Ok(ids),
            Some(error) => {
                self.remove_accounts(&ids);
                Err(error)
            }
        }
    }

    /// Removes storage accounts no record names (a failed commit's): otherwise each
    /// failed attempt would leave an unreachable empty account behind.
    fn remove_accounts(&self, ids: &[AccountId]) {
        for &id in ids {
            if let Err(cleanup) = self.dir.store.delete_account(id) {
                tracing::warn!(account = id.0, error = %cleanup, "orphan storage account left");
            }
        }
    }
}
