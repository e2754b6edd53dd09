//! # congvu-directory — who is who
//!
//! Owns agencies, accounts (the address ↔ storage-account mapping) and passwords; later
//! aliases, delegation and the forms 01/02/03 request workflow (Art. 4). It shares the
//! server's sled database with the store, in trees of its own prefixed `dir.`; mail
//! itself stays in the store, which the directory asks for one storage account per
//! mailbox.
//!
//! Address rules are not decided here: they come from `congvu_policy::naming` (Art. 3).
//!
//! ## Invariants
//! 1. **Exactly one agency mailbox per agency** (Art. 2.3): the agency record and its
//!    mailbox are created together by [`Directory::add_agency`], in one transaction;
//!    nothing else creates an agency account.
//! 2. **An address is issued once, ever** (Art. 3.3.b: never silently reused): every
//!    issued local part is kept in `dir.issued`, which nothing removes, and a local part
//!    found there is taken — also for a later agency whose `sub.parent` abbreviation
//!    spells the same string as a person's `name.agency`.
//! 3. Everything stored is canonical: addresses and abbreviations lower-case ASCII,
//!    names NFC; every mailbox lives in the primary domain, the other local domains are
//!    aliases of it.
//! 4. Passwords exist only as Argon2id PHC strings, in their own tree, and only inside
//!    [`Secret`] in memory.
//! 5. Writes that issue addresses are serialised by one lock (administrative writes
//!    are rare), so "is it free?" and "take it" cannot interleave; every write is on
//!    disk before it returns, so a printed address is a durable address.
//!
//! A storage account is created before the directory transaction that points to it
//! (the store and the directory cannot share a transaction); a crash in between leaves
//! an empty, unreachable storage account, never a directory entry without storage.
//!
//! ## Trees (values JSON unless said otherwise)
//! | tree              | key                  | value                            |
//! |-------------------|----------------------|----------------------------------|
//! | `dir.agencies`    | full abbreviation    | [`AgencyRecord`]                 |
//! | `dir.accounts`    | local part           | [`AccountRecord`]                |
//! | `dir.account_ids` | `AccountId` (u64 BE) | local part (raw)                 |
//! | `dir.issued`      | local part           | tombstone: account, issue time   |
//! | `dir.passwords`   | `AccountId` (u64 BE) | Argon2id PHC string (raw)        |
//!
//! Accounts are keyed by local part alone because every mailbox lives in the primary
//! domain. Password hashes have a tree of their own so that an [`AccountRecord`] —
//! cloned, returned and debug-printed freely — never carries one.
//!
//! ## Life of an address
//! ```text
//!  free ──add_agency / add_person──▶ issued, in use ──(later: delete, Art. 4 form 03)──▶ tombstone
//!                                                                                       │
//!  (a tombstone never becomes free again) ◀────────────────────────────────────────────┘
//! ```

mod account;
mod agency;
mod error;
mod password;
mod record;
mod secret;
mod text;
mod trees;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use congvu_policy::{Address, Domain, LocalPart};
use congvu_store::MailStore;

pub use error::{DirectoryError, Result};
pub use record::{AccountRecord, AgencyRecord, Collision, DefaultQuotas};
pub use secret::Secret;

use trees::Trees;

pub struct Directory {
    db: sled::Db,
    trees: Trees,
    store: Arc<dyn MailStore>,
    /// Every mailbox lives in the primary domain.
    primary: Domain,
    /// Other domains accepted as local: aliases of the primary domain.
    extra_domains: Vec<Domain>,
    quotas: DefaultQuotas,
    /// Serialises the writes that issue addresses (invariant 5).
    write_lock: Mutex<()>,
    /// See `password::dummy_hash`.
    dummy_hash: String,
}

impl Directory {
    /// Opens the directory trees in `db`. `primary_domain` is the domain addresses
    /// are created in and, until [`Directory::with_local_domains`] adds more, the only
    /// local domain.
    pub fn open(
        db: &sled::Db,
        store: Arc<dyn MailStore>,
        primary_domain: &str,
        default_quota: DefaultQuotas,
    ) -> Result<Directory> {
        let primary = primary_domain
            .parse()
            .map_err(|e| DirectoryError::Invalid(format!("primary domain {primary_domain:?}: {e}")))?;
        Ok(Directory {
            db: db.clone(),
            trees: Trees::open(db)?,
            store,
            primary,
            extra_domains: Vec::new(),
            quotas: default_quota,
            write_lock: Mutex::new(()),
            dummy_hash: password::dummy_hash()?,
        })
    }

    /// Adds domains accepted as local besides the primary one (e.g. an older domain
    /// of the province); `x@extra` reaches the mailbox `x@primary`.
    pub fn with_local_domains<I>(mut self, domains: I) -> Result<Directory>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for domain in domains {
            let domain = domain.as_ref();
            let parsed: Domain = domain
                .parse()
                .map_err(|e| DirectoryError::Invalid(format!("local domain {domain:?}: {e}")))?;
            if parsed != self.primary && !self.extra_domains.contains(&parsed) {
                self.extra_domains.push(parsed);
            }
        }
        Ok(self)
    }

    /// True when `domain` (any case) is one of ours.
    pub fn is_local_domain(&self, domain: &str) -> bool {
        std::iter::once(&self.primary)
            .chain(&self.extra_domains)
            .any(|d| d.as_str().eq_ignore_ascii_case(domain))
    }

    /// The address of a local part in the primary domain.
    fn address_of(&self, local: &LocalPart) -> String {
        format!("{local}@{}", self.primary)
    }

    /// Our local part for `address` when it is well-formed and in a local domain.
    fn local_part_of(&self, address: &str) -> Option<LocalPart> {
        let address: Address = address.parse().ok()?;
        self.is_local_domain(address.domain().as_str())
            .then(|| address.local().clone())
    }

    fn write_lock(&self) -> MutexGuard<'_, ()> {
        // The lock guards no data, only ordering: a panic while it was held leaves
        // nothing half-done in memory, so a poisoned lock is still good.
        self.write_lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes every write so far durable: called before a write method returns.
    fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
