//! # congvu-directory — who is who
//!
//! Owns the province's directory (Danh bạ): agencies (a tree: province office,
//! departments and districts, their offices), officials as person records with exactly
//! one personal mailbox, aliases, roles, API sessions, delegations of agency mailboxes
//! (Art. 16.1), and the forms 01/02/03 request workflow (Art. 4) with its audit log. It
//! shares the server's sled database with the store, in trees of its own prefixed
//! `dir.`; mail itself stays in the store, which the directory asks for one storage
//! account per mailbox.
//!
//! Address rules are not decided here: they come from `congvu_policy::naming` (Art. 3).
//!
//! ## Invariants
//! 1. **Exactly one agency mailbox per agency** (Art. 2.3): the agency record and its
//!    mailbox are created together, in one transaction; nothing else creates an
//!    agency account.
//! 2. **Exactly one personal mailbox per person** (Art. 2.4): a person id maps to one
//!    live mailbox (`dir.person_ids`); without an id, a namesake in the same agency
//!    (`dir.names`) is refused unless the operator confirms it is another person.
//! 3. **An address is issued once, ever** (Art. 3.3.b: never silently reused): every
//!    issued local part — mailbox or alias — is kept in `dir.issued`, which nothing
//!    removes, and a local part found there is taken. A purged mailbox's address stays
//!    there: it answers 5.1.1 and is never given to anyone else.
//! 4. Everything stored is canonical: addresses and abbreviations lower-case ASCII,
//!    names NFC; every mailbox lives in the primary domain, the other local domains are
//!    aliases of it. `postmaster@` every local domain resolves (RFC 5321 §4.5.1).
//! 5. Passwords exist only as Argon2id PHC strings, in their own tree, and only inside
//!    [`Secret`] in memory; session tokens only as SHA-256 hashes. Verified passwords
//!    are remembered for a few minutes only as keyed BLAKE2b digests
//!    (`credential_cache`, [`CredentialCacheSettings`]).
//! 7. **A password change, a disabled or a deleted account revokes at once** what
//!    the old credentials opened (`revocation`): the [`CredentialWatch`] of every
//!    session they opened fires, and the cache forgets them. The hook is in the plan
//!    commit and in `set_password`, so every path that disables or re-keys an
//!    account passes it.
//! 8. Argon2 memory is bounded: at most [`Directory::with_password_checks`] checks
//!    run at once, each in a kept, reused buffer (`scratch`).
//! 6. **Every change is planned, then committed in one transaction** with its audit
//!    entries (see `plan.rs`): a request's lines apply all or none. Writes are
//!    serialised by one lock (administrative writes are rare), so "is it free?" and
//!    "take it" cannot interleave; every write is on disk before it returns, so a
//!    printed address is a durable address.
//!
//! A storage account is created before the directory transaction that points to it
//! (the store and the directory cannot share a transaction); a crash in between leaves
//! an empty, unreachable storage account, never a directory entry without storage.
//!
//! ## Trees (values JSON unless said otherwise)
//! | tree                | key                          | value                              |
//! |---------------------|------------------------------|------------------------------------|
//! | `dir.agencies`      | full abbreviation            | [`AgencyRecord`]                   |
//! | `dir.accounts`      | local part                   | [`AccountRecord`]                  |
//! | `dir.account_ids`   | `AccountId` (u64 BE)         | local part (raw)                   |
//! | `dir.issued`        | local part                   | tombstone: account, issue time     |
//! | `dir.passwords`     | `AccountId` (u64 BE)         | Argon2id PHC string (raw)          |
//! | `dir.aliases`       | alias local part             | the mailbox's local part           |
//! | `dir.person_ids`    | person id                    | the mailbox's local part           |
//! | `dir.names`         | agency `\0` folded name      | local parts of namesakes           |
//! | `dir.requests`      | request id (u64 BE)          | [`request::Request`]               |
//! | `dir.audit`         | sequence (u64 BE)            | [`AuditEntry`] (append-only)       |
//! | `dir.delegations`   | delegate ‖ mailbox ids (BE)  | [`Delegation`]                     |
//! | `dir.sessions`      | SHA-256 of the token (hex)   | account, expiry                    |
//!
//! Accounts are keyed by local part alone because every mailbox lives in the primary
//! domain. Password hashes have a tree of their own so that an [`AccountRecord`] —
//! cloned, returned and debug-printed freely — never carries one.
//!
//! ## Life of an address
//! ```text
//!  free ──Mẫu 01 / import──▶ in use ──Mẫu 02 move, convert──▶ alias of the new address
//!                              │  ▲
//!                     Mẫu 03   │  │ restore (within retention_days)
//!                              ▼  │
//!                            deleted (disabled: no login, 5.2.1) ──purge──▶ tombstone (5.1.1)
//!  (a tombstone never becomes free again)
//! ```
//! The request workflow's states are drawn in [`request`].

mod account;
mod agency;
mod alias;
mod audit;
mod consistency;
mod credential_cache;
mod delegation;
mod delete;
mod error;
pub mod export;
pub mod import;
mod password;
mod plan;
mod record;
pub mod request;
mod revocation;
mod scratch;
mod search;
mod session;
pub mod storage;
mod text;
mod throttle;
mod trees;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use congvu_policy::{Address, Domain, LocalPart};
use congvu_store::MailStore;

pub use account::now as unix_now;
pub use audit::AuditEntry;
pub use congvu_protocol::Secret;
pub use congvu_protocol::{Rights, UnknownRight};
pub use credential_cache::CredentialCacheSettings;
pub use delegation::{Delegation, GrantTerms};
pub use error::{DirectoryError, Result};
pub use password::MIN_PASSWORD_CHARS;
pub use record::{AccountRecord, AgencyRecord, Collision, DefaultQuotas, Deletion, NewOfficial, Role};
pub use revocation::CredentialWatch;
pub use session::{Principal, SessionToken};
pub use throttle::{LoginCounts, ThrottleLimits};
pub use trees::tree_names;

use trees::Trees;

/// Settings from the `[directory]` and `[domain]` configuration sections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The mailbox that receives `postmaster@` every local domain (RFC 5321 §4.5.1).
    /// `None`: the first agency mailbox ever created.
    pub postmaster: Option<String>,
    /// Days a deleted mailbox keeps its content (and can be restored) before purge.
    pub retention_days: u32,
    /// Art. 15.3: a request filed more than this many days after the decision took
    /// effect is late.
    pub late_filing_days: u32,
    /// Lifetime of an API session token, in seconds.
    pub session_seconds: i64,
    /// Failed logins tolerated across connections (see [`Directory::authenticate_from`]).
    pub login_throttle: ThrottleLimits,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            postmaster: None,
            retention_days: 90,
            late_filing_days: 10,
            session_seconds: 8 * 3600,
            login_throttle: ThrottleLimits::default(),
        }
    }
}

pub struct Directory {
    trees: Trees,
    store: Arc<dyn MailStore>,
    /// Every mailbox lives in the primary domain.
    primary: Domain,
    /// Other domains accepted as local: aliases of the primary domain.
    extra_domains: Vec<Domain>,
    quotas: DefaultQuotas,
    settings: Settings,
    /// Writes a mailbox's archive before its purge; none: nothing is purged.
    archiver: Option<Arc<dyn Archiver>>,
    /// Serialises the writes that issue addresses (invariant 5).
    write_lock: Mutex<()>,
    /// See `password::dummy_hash`.
    dummy_hash: String,
    /// Failed logins per client, across connections and protocols.
    throttle: throttle::LoginThrottle,
    /// How logins ended since start (see `throttle`).
    logins: throttle::LoginCounters,
    /// Argon2 working memory, lent to one check at a time (see `scratch`).
    scratch: scratch::Scratch,
    /// Passwords verified lately (see `credential_cache`).
    credentials: credential_cache::CredentialCache,
    /// Password changes, disabled and deleted accounts (see `revocation`).
    revocations: Arc<revocation::Revocations>,
}

/// Held while a directory write plans and commits; the shared lock is released
/// before the process's own.
struct WriteGuard<'a> {
    _shared: Box<dyn storage::WriteLock>,
    _local: MutexGuard<'a, ()>,
}

/// Argon2 checks that run at once by default: one per core, at most 4 (each keeps
/// 19 MiB of working memory for the next check).
/// Writes the archive of a mailbox about to be purged (Art. 6.3, 13): every folder
/// with its flags, somewhere an operator keeps.
pub trait Archiver: Send + Sync {
    /// Archives the mailbox's content; returns where it was written (recorded in
    /// the audit log), or why it could not be.
    fn archive(&self, record: &AccountRecord) -> std::result::Result<String, String>;
}

pub fn default_password_checks() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from).min(4)
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
        Directory::open_on(
            Arc::new(storage::SledStorage::new(db)),
            store,
            primary_domain,
            default_quota,
        )
    }

    /// Opens the directory on any [`storage::DirectoryStorage`] (PostgreSQL for
    /// several nodes).
    pub fn open_on(
        storage: Arc<dyn storage::DirectoryStorage>,
        store: Arc<dyn MailStore>,
        primary_domain: &str,
        default_quota: DefaultQuotas,
    ) -> Result<Directory> {
        let primary = primary_domain
            .parse()
            .map_err(|e| DirectoryError::Invalid(format!("primary domain {primary_domain:?}: {e}")))?;
        let scratch = scratch::Scratch::new(default_password_checks());
        Ok(Directory {
            dummy_hash: password::dummy_hash(&scratch)?,
            scratch,
            credentials: credential_cache::CredentialCache::new(CredentialCacheSettings::default()),
            revocations: Arc::new(revocation::Revocations::new()),
            trees: Trees::new(storage),
            store,
            primary,
            extra_domains: Vec::new(),
            quotas: default_quota,
            settings: Settings::default(),
            archiver: None,
            write_lock: Mutex::new(()),
            throttle: throttle::LoginThrottle::default(),
            logins: throttle::LoginCounters::default(),
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

    /// Replaces the default [`Settings`]; `Invalid` for a postmaster that is not an
    /// address in a local domain.
    pub fn with_settings(mut self, settings: Settings) -> Result<Directory> {
        if let Some(postmaster) = &settings.postmaster
            && self.local_part_of(postmaster).is_none()
        {
            return Err(DirectoryError::Invalid(format!(
                "postmaster {postmaster:?} is not an address in a local domain"
            )));
        }
        self.settings = settings;
        Ok(self)
    }

    /// Sets what writes a mailbox's archive before its purge (Art. 6.3, 13).
    #[must_use]
    pub fn with_archiver(mut self, archiver: Arc<dyn Archiver>) -> Directory {
        self.archiver = Some(archiver);
        self
    }

    /// Replaces the verified-credential cache's settings (default: 5 minutes, 10,000
    /// entries); what the old cache held is dropped.
    #[must_use]
    pub fn with_credential_cache(mut self, settings: CredentialCacheSettings) -> Directory {
        self.credentials = credential_cache::CredentialCache::new(settings);
        self
    }

    /// Sets how many Argon2 checks run at once (at least 1; default
    /// [`default_password_checks`]). Each keeps its working memory (19 MiB with the
    /// default parameters) for reuse, so this bounds that memory too; further
    /// checks wait their turn.
    #[must_use]
    pub fn with_password_checks(mut self, at_once: usize) -> Directory {
        self.scratch = scratch::Scratch::new(at_once);
        self
    }

    /// The domain every mailbox lives in.
    pub fn primary_domain(&self) -> &str {
        self.primary.as_str()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// True when `domain` (any case, with or without one trailing dot) is one of ours.
    pub fn is_local_domain(&self, domain: &str) -> bool {
        let domain = domain.strip_suffix('.').unwrap_or(domain);
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

    /// Serialises the writes of this process, then of every process sharing the
    /// storage (`storage` invariant 3), in that order: a process's writers queue on
    /// its mutex, not on the database.
    fn write_lock(&self) -> Result<WriteGuard<'_>> {
        let local = self.local_write_lock();
        let shared = self.trees.storage().lock_writes()?;
        Ok(WriteGuard {
            _shared: shared,
            _local: local,
        })
    }

    fn local_write_lock(&self) -> MutexGuard<'_, ()> {
        // The lock guards no data, only ordering: a panic while it was held leaves
        // nothing half-done in memory, so a poisoned lock is still good.
        self.write_lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes every write so far durable: called before a write method returns.
    fn flush(&self) -> Result<()> {
        self.trees.storage().flush()
    }
}

#[cfg(test)]
mod credential_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod workflow_tests;
