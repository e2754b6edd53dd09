//! The sled-backed [`MailStore`]: metadata in a sled database under `data_dir/meta`,
//! bodies in the blob store under `data_dir/blobs`.
//!
//! ## How a write runs
//! ```text
//!   [pin blob] ─► [put blob file, fsynced] ─► sled transaction ─► group commit ─► notify ─► return
//!                                            (point reads only;   (one Db::flush
//!                                             exact counters)      per batch)
//! ```
//! - Operations that need a range scan (expunge, delete and rename of INBOX) scan
//!   before the transaction and check inside it that the scan is still current: a
//!   mailbox whose UIDNEXT moved got new messages, and the operation scans again.
//! - sled runs transactions one at a time, so two deliveries to one mailbox can never
//!   take the same UID; the transaction body only touches sled (no file I/O, no wait),
//!   which keeps that serial section short. The flush runs on the committer thread
//!   while no lock of ours is held.
//! - Mailbox CREATE/DELETE/RENAME also hold a store-wide namespace lock from their
//!   scan of the name tree to their commit (never across the flush), so the set of
//!   names they scanned cannot change under them.
//! - Blob references are counted in the same transactions as the messages and queue
//!   entries that hold them; the committer deletes a file only after the flush that
//!   made its last reference's removal durable (see `committer`).
//!
//! ## Policies
//! - CREATE makes missing superiors (RFC 3501 §6.3.3), so every name has its parent.
//! - DELETE of a mailbox that has inferiors is refused (`Invalid`): RFC 3501 §6.3.4
//!   would keep the name as `\Noselect`, and refusing keeps every stored name a real
//!   mailbox. Delete the children first.
//! - COPY and MOVE may go to another account; MOVE within one account does not change
//!   its usage and is never refused for quota.
//! - The data directory and every directory the store creates in it are made
//!   `0700`, blob files `0600`: mail is readable by the server's user only. sled
//!   creates its files with the process umask; those present at open are made
//!   `0600`, and any it makes later are unreachable inside the `0700` directory.
//!   Directories that already exist keep their mode; [`SledStore::loose_modes`]
//!   finds those the operator should tighten.
//! - sled's page cache is sized by [`StoreOptions::cache_mb`] (`[store]`), not left
//!   at sled's 1 GiB default: the cache fills with use and is never given back.
//! - Every change to a message (append, flag change) takes its own MODSEQ; an expunge
//!   takes one for all the messages it removes, and logs their UIDs under it in the
//!   same transaction (the expunge log, for RFC 7162 VANISHED). The log of a mailbox
//!   is kept as long as the mailbox: one small record per expunging command.
//! - The change log names, per writing transaction and mailbox, the UIDs it appended
//!   or re-flagged; the same transactions write it, so `changed_since` reads the
//!   changes, not the mailbox (see `tx` and `change_log`).
//! - Change notifications go to the subscribers of the account that owns the
//!   mailbox, after the change is durable (see `notify`).
//! - The supervision facts are outside the transactions: access and mail events
//!   are appended, acknowledgements set by compare-and-swap; each write waits for
//!   the same group commit as the others (see `access`, `events`, `acks`).

mod access;
mod acks;
pub mod backup;
mod change_log;
mod check;
mod committer;
mod events;
mod recent;
mod subscriptions;
mod tx;

use crate::blob::{BlobFile, BlobStore, Contents};
use crate::names::{self, INBOX};
use crate::notify::ChangeHub;
use crate::rules::{
    self, FlagChange, change, check_quota, message_contents, new_message, sorted_unique, store_on_message,
    unique_keywords,
};
use crate::{
    AccessEvent, AccessSpan, AccountId, AccountKind, AccountStorage, Append, Appended, BackupManifest,
    BackupSpec, BlobId, Change, ChangeKind, Changes, Copied, DEFAULT_MAILBOXES, Delivery, DeliveryFolder,
    DeliveryOutcome, EventRecord, FlagStore, Flags, MailStore, MailboxId, MailboxInfo, MessageMeta, Outbound,
    PendingAck, Progress, QueueEntry, QueueId, QueueUpdate, QuotaRule, Result, SpecialUse, StoreError,
    StoreOutcome, StoreSize, Subscription, Uid,
};
pub use check::{CheckReport, Inconsistency, RepairReport};
use committer::{Committer, Pins};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use tx::{Abort, NEXT_ACCOUNT, NEXT_QUEUE, Trees, decode, stale};

/// How often an operation rescans when concurrent writes keep making its snapshot
/// stale, before it gives up with a server error.
const MAX_ATTEMPTS: usize = 64;

/// `[store]` in the server configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreOptions {
    /// sled's page cache, in MiB. sled's own default is 1 GiB, which a busy server
    /// fills and keeps; the working set of the metadata is far smaller (15 MB of
    /// data directory after 20,000 deliveries), so a small cache costs little
    /// speed.
    pub cache_mb: u64,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions { cache_mb: 64 }
    }
}

/// Mode of the directories the store creates (the data directory included).
pub(crate) const PRIVATE_DIR: u32 = 0o700;

/// Creates `dir` (and missing parents) as `0700`; an existing directory is left as
/// it is.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(PRIVATE_DIR).create(dir)
}

/// Gives what sled made in `meta` with the process umask (`db`, `conf`, snapshots,
/// its `blobs` directory) mode `0600` (files) or `0700` (directories). What sled
/// makes later is still unreachable inside the `0700` directory.
fn make_private(meta: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(meta)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        let private = if metadata.is_dir() {
            PRIVATE_DIR
        } else if metadata.is_file() {
            0o600
        } else {
            continue;
        };
        if metadata.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(private))?;
        }
    }
    Ok(())
}

/// Opens (creating if needed) the sled database in `data_dir/meta`, private.
fn open_database(data_dir: &Path, options: &StoreOptions) -> Result<sled::Db> {
    create_private_dir(data_dir)?;
    let meta = data_dir.join("meta");
    // Before sled, which would create it with the umask's mode.
    create_private_dir(&meta)?;
    let config = sled::Config::new()
        .path(&meta)
        .cache_capacity(options.cache_mb.saturating_mul(1024 * 1024));
    // A `sled::Db` dropped in this process releases its file lock only when its
    // flusher thread ends, a moment later (sled issues #1234, #1289): a reopen
    // right after a close (a test, a restore) waits for it rather than failing.
    // Another process is kept out before this by the data directory's own lock.
    let deadline = std::time::Instant::now() + SLED_LOCK_WAIT;
    let db = loop {
        match config.open() {
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            opened => break opened?,
        }
    };
    make_private(&meta)?;
    Ok(db)
}

/// How long an open waits for a lock a closed `sled::Db` of this process still holds.
const SLED_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A path in the data directory that users other than the server's may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LooseMode {
    pub path: PathBuf,
    /// The permission bits (e.g. `0o755`).
    pub mode: u32,
}

/// The store. Open one per data directory per process; share it with `Arc`.
pub struct SledStore {
    db: sled::Db,
    trees: Trees,
    /// The access log (see `access`): outside `Trees`, as no transaction touches it.
    access: sled::Tree,
    /// The mail events (see `events`), outside `Trees` likewise.
    events: sled::Tree,
    /// The acknowledgement records (see `acks`), changed by compare-and-swap.
    acks: sled::Tree,
    /// The first UID of each mailbox no session claimed as `\Recent` (see `recent`):
    /// outside `Trees`, claimed by compare-and-swap.
    recent: sled::Tree,
    /// Names subscribed with no mailbox (see `subscriptions`).
    subscriptions: sled::Tree,
    blobs: Arc<BlobStore>,
    committer: Committer,
    /// The subscribers to changes, per account (see `notify`).
    changes: Arc<ChangeHub>,
    /// Held by mailbox CREATE/DELETE/RENAME from their name scan to their commit.
    namespace: Mutex<()>,
}

impl SledStore {
    /// Opens (creating if needed) the store in `data_dir` with the default
    /// [`StoreOptions`].
    pub fn open(data_dir: &Path) -> Result<SledStore> {
        SledStore::open_with(data_dir, &StoreOptions::default())
    }

    /// Opens (creating if needed) the store in `data_dir`; new directories are
    /// `0700`.
    pub fn open_with(data_dir: &Path, options: &StoreOptions) -> Result<SledStore> {
        let db = open_database(data_dir, options)?;
        let blobs = Arc::new(BlobStore::open(&data_dir.join("blobs"))?);
        SledStore::from_parts(db, blobs)
    }

    /// The store over an open database and blob store.
    fn from_parts(db: sled::Db, blobs: Arc<BlobStore>) -> Result<SledStore> {
        let trees = Trees::open(&db)?;
        let access = db.open_tree("store.access")?;
        let events = db.open_tree(events::EVENTS_TREE)?;
        let acks = db.open_tree(acks::ACKS_TREE)?;
        let recent = db.open_tree(recent::RECENT_TREE)?;
        let subscriptions = db.open_tree(subscriptions::SUBSCRIPTIONS_TREE)?;
        let committer = Committer::start(db.clone(), trees.refs.clone(), blobs.clone())?;
        let store = SledStore {
            db,
            trees,
            access,
            events,
            acks,
            recent,
            subscriptions,
            blobs,
            committer,
            changes: Arc::default(),
            namespace: Mutex::new(()),
        };
        store.build_change_log()?;
        Ok(store)
    }

    /// The data directory, the store's directories and what sled keeps directly in
    /// `meta` (not every blob file: there may be millions, and they are made
    /// private inside private directories) that have any permission for group or
    /// others. `serve` warns of
    /// each at start.
    pub fn loose_modes(data_dir: &Path) -> io::Result<Vec<LooseMode>> {
        let meta = data_dir.join("meta");
        let mut paths = vec![data_dir.to_path_buf(), meta.clone(), data_dir.join("blobs")];
        if meta.is_dir() {
            for entry in std::fs::read_dir(&meta)? {
                paths.push(entry?.path());
            }
        }
        let mut loose = Vec::new();
        for path in paths {
            let metadata = match std::fs::symlink_metadata(&path) {
                Ok(metadata) => metadata,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let mode = metadata.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                loose.push(LooseMode { path, mode });
            }
        }
        Ok(loose)
    }

    /// The sled database, for other components' own trees (the directory's are
    /// prefixed `dir.`; the store's are prefixed `store.`).
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// Deletes blob files that no metadata refers to — left by a crash between a
    /// blob's put and its transaction, or by a failed removal — and unfinished puts.
    /// Safe while the store is in use. Returns how many files were deleted.
    pub fn collect_orphans(&self) -> Result<usize> {
        let mut unreferenced = Vec::new();
        let mut partial = Vec::new();
        for file in self.blobs.list()? {
            match file {
                BlobFile::Stored(blob) => {
                    if !self.trees.refs.contains_key(blob.0)? {
                        unreferenced.push(blob);
                    }
                }
                BlobFile::Partial(blob, path) => partial.push((blob, path)),
            }
        }
        let partial_deleted = self.committer.collect(unreferenced.clone(), partial)?;
        let unreferenced_deleted = unreferenced
            .iter()
            .filter(|blob| !self.blobs.path(blob).exists())
            .count();
        if partial_deleted + unreferenced_deleted > 0 {
            tracing::info!(partial_deleted, unreferenced_deleted, "orphan blob files deleted");
        }
        Ok(partial_deleted + unreferenced_deleted)
    }

    /// Runs attempts of an operation (scan, then transaction) until its snapshot is
    /// not stale.
    fn retrying<T>(&self, mut attempt: impl FnMut() -> std::result::Result<T, Abort>) -> Result<T> {
        for _ in 0..MAX_ATTEMPTS {
            match attempt() {
                Ok(value) => return Ok(value),
                Err(Abort::Store(error)) => return Err(error),
                Err(Abort::Stale) => tracing::debug!("store snapshot stale; scanning again"),
            }
        }
        Err(StoreError::Db(format!(
            "mailbox kept changing during {MAX_ATTEMPTS} attempts"
        )))
    }

    /// The name of the account's mailbox with this special use, if it has one.
    fn special_use_name(&self, account: AccountId, special_use: SpecialUse) -> Result<Option<String>> {
        Ok(self
            .list_mailboxes(account)?
            .into_iter()
            .find(|m| m.special_use == Some(special_use))
            .map(|m| m.name))
    }

    /// After a transaction committed: waits until it is durable, then tells the
    /// subscribers.
    fn finish(
        &self,
        pins: Pins<'_>,
        removals: Vec<BlobId>,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<()> {
        self.committer.commit(pins, removals)?;
        for change in changes {
            self.changes.send(change);
        }
        Ok(())
    }

    /// Stores the body of a new message, pinned until its reference commits.
    fn put_blob<'a>(&'a self, contents: &Contents<'_>) -> Result<Pins<'a>> {
        let pins = self.committer.pin([contents.id()]);
        self.blobs.put(contents)?;
        Ok(pins)
    }

    fn require_mailbox(&self, id: MailboxId) -> Result<MailboxInfo> {
        self.trees
            .mailbox(id)?
            .ok_or_else(|| StoreError::NotFound(format!("mailbox {}", id.0)))
    }

    /// Removes a mailbox with its messages (no checks: callers hold the namespace lock
    /// and decided it may go), releasing their blobs and their bytes from the quota.
    fn drop_mailbox(&self, id: MailboxId) -> Result<()> {
        let mut pins = self.committer.no_pins();
        let (removals, changes) = self.retrying(|| {
            // UIDNEXT first, then the messages: an append that lands after this read
            // changes UIDNEXT, and the transaction below starts over (read the other
            // way round, a message appended between the two reads was missed, and its
            // size stayed in the account's usage).
            let uidnext = self.require_mailbox(id).map_err(Abort::Store)?.uidnext;
            let snapshot = self.trees.messages_of(id).map_err(Abort::Store)?;
            pins = self.committer.pin(snapshot.iter().map(|m| m.blob));
            self.trees.transact(|tx| {
                let mut info = tx.mailbox(id)?;
                if info.uidnext != uidnext {
                    return stale();
                }
                let mut removals = Vec::new();
                let mut freed = 0;
                for meta in &snapshot {
                    if let Some(meta) = tx.message(id, meta.uid)? {
                        tx.remove_message(&mut info, &meta)?;
                        if tx.release_ref(&meta.blob)? {
                            removals.push(meta.blob);
                        }
                        freed += meta.size;
                    }
                }
                tx.remove_mailbox(&info)?;
                let mut owner = tx.account(info.account)?;
                owner.used_bytes = owner.used_bytes.saturating_sub(freed);
                tx.put_account(&owner)?;
                Ok((removals, [change(&info, ChangeKind::MailboxList)]))
            })
        })?;
        self.finish(pins, removals, changes)?;
        self.forget_recent(id)?;
        self.trees.forget_logs(id)
    }

    fn lock_namespace(&self) -> std::sync::MutexGuard<'_, ()> {
        self.namespace.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// COPY, or MOVE when `moving` (RFC 6851: atomically, in one transaction).
    fn transfer(&self, from: MailboxId, uids: &[Uid], to: MailboxId, moving: bool) -> Result<Copied> {
        let sources = sorted_unique(uids);
        let (copied, changes) = self.retrying(|| {
            self.trees.transact(|tx| {
                let mut dest = tx.mailbox(to)?;
                let mut source = tx.mailbox(from)?;
                let mut pairs = Vec::new();
                let mut taken = Vec::new();
                let mut total = 0u64;
                for &uid in &sources {
                    let Some(meta) = tx.message(from, uid)? else {
                        continue;
                    };
                    pairs.push((uid, tx.add_message(&mut dest, meta.clone())?));
                    total += meta.size;
                    if !moving {
                        tx.add_refs(&meta.blob, 1)?;
                    }
                    taken.push(meta);
                }
                if pairs.is_empty() {
                    return Ok((
                        Copied {
                            uidvalidity: dest.uidvalidity,
                            pairs,
                        },
                        Vec::new(),
                    ));
                }
                let same_account = source.account == dest.account;
                if !(moving && same_account) {
                    let mut account = tx.account(dest.account)?;
                    check_quota(&account, total)?;
                    account.used_bytes += total;
                    tx.put_account(&account)?;
                }
                let mut changes = Vec::new();
                if moving {
                    let source = if from == to { &mut dest } else { &mut source };
                    for meta in &taken {
                        tx.remove_message(source, meta)?;
                    }
                    source.highestmodseq += 1;
                    tx.log_expunged(source, &pairs.iter().map(|(uid, _)| *uid).collect::<Vec<_>>())?;
                    tx.put_mailbox(source)?;
                    changes.push(change(source, ChangeKind::Expunge));
                    if !same_account {
                        let mut account = tx.account(source.account)?;
                        account.used_bytes = account.used_bytes.saturating_sub(total);
                        tx.put_account(&account)?;
                    }
                }
                tx.put_mailbox(&dest)?;
                changes.push(change(&dest, ChangeKind::New));
                Ok((
                    Copied {
                        uidvalidity: dest.uidvalidity,
                        pairs,
                    },
                    changes,
                ))
            })
        })?;
        if !changes.is_empty() {
            self.finish(self.committer.no_pins(), Vec::new(), changes)?;
        }
        Ok(copied)
    }

    fn rename_inbox(&self, account: AccountId, to: &str) -> Result<()> {
        let inbox_id = self
            .trees
            .mailbox_id(account, INBOX)?
            .ok_or_else(|| no_account(account))?;
        let now = crate::unix_now();
        let changes = self.retrying(|| {
            let snapshot = self.trees.messages_of(inbox_id).map_err(Abort::Store)?;
            let uidnext = self.require_mailbox(inbox_id).map_err(Abort::Store)?.uidnext;
            self.trees.transact(|tx| {
                let mut inbox = tx.mailbox(inbox_id)?;
                if inbox.uidnext != uidnext {
                    return stale();
                }
                if tx.mailbox_id(account, to)?.is_some() {
                    return Err(StoreError::Exists(to.to_owned()).into());
                }
                let mut changes: Vec<Change> = tx
                    .create_parents(account, to, now)?
                    .iter()
                    .map(|parent| change(parent, ChangeKind::MailboxList))
                    .collect();
                let mut target = tx.create_mailbox(account, to, None, now)?;
                let mut moved = Vec::new();
                for meta in &snapshot {
                    if let Some(meta) = tx.message(inbox_id, meta.uid)? {
                        tx.remove_message(&mut inbox, &meta)?;
                        moved.push(meta.uid);
                        tx.add_message(&mut target, meta)?;
                    }
                }
                inbox.highestmodseq += 1;
                tx.log_expunged(&inbox, &moved)?;
                tx.put_mailbox(&inbox)?;
                tx.put_mailbox(&target)?;
                changes.push(change(&inbox, ChangeKind::Expunge));
                changes.push(change(&target, ChangeKind::MailboxList));
                Ok(changes)
            })
        })?;
        self.finish(self.committer.no_pins(), Vec::new(), changes)
    }
}

impl MailStore for SledStore {
    fn create_account(&self, kind: AccountKind, quota_bytes: u64) -> Result<AccountId> {
        let now = crate::unix_now();
        let id = self.retrying(|| {
            self.trees.transact(|tx| {
                let id = AccountId(tx.next_id(NEXT_ACCOUNT)?);
                tx.put_account(&AccountStorage {
                    id,
                    kind,
                    quota_bytes,
                    used_bytes: 0,
                })?;
                for (name, special_use) in DEFAULT_MAILBOXES {
                    tx.create_mailbox(id, name, special_use, now)?;
                }
                Ok(id)
            })
        })?;
        self.finish(self.committer.no_pins(), Vec::new(), [])?;
        Ok(id)
    }

    fn account(&self, id: AccountId) -> Result<Option<AccountStorage>> {
        self.trees
            .accounts
            .get(id.0.to_be_bytes())?
            .map(|v| decode(&v, "account record"))
            .transpose()
    }

    fn set_quota(&self, id: AccountId, quota_bytes: u64) -> Result<()> {
        self.retrying(|| {
            self.trees.transact(|tx| {
                let mut account = tx.account(id)?;
                account.quota_bytes = quota_bytes;
                tx.put_account(&account)
            })
        })?;
        self.finish(self.committer.no_pins(), Vec::new(), [])
    }

    fn list_mailboxes(&self, account: AccountId) -> Result<Vec<MailboxInfo>> {
        let mut mailboxes = Vec::new();
        for (_, id) in self.trees.names_with_prefix(account, "")? {
            // A mailbox deleted since the scan is simply not listed.
            if let Some(info) = self.trees.mailbox(id)? {
                mailboxes.push(info);
            }
        }
        mailboxes.sort_by(|a, b| (a.name != INBOX, &a.name).cmp(&(b.name != INBOX, &b.name)));
        Ok(mailboxes)
    }

    fn mailbox_by_name(&self, account: AccountId, name: &str) -> Result<Option<MailboxInfo>> {
        match self.trees.mailbox_id(account, names::canonical(name))? {
            Some(id) => self.trees.mailbox(id),
            None => Ok(None),
        }
    }

    fn mailbox(&self, id: MailboxId) -> Result<Option<MailboxInfo>> {
        self.trees.mailbox(id)
    }

    fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<MailboxId> {
        let name = names::validate(name)?;
        let now = crate::unix_now();
        let namespace = self.lock_namespace();
        let (id, changes) = self.retrying(|| {
            self.trees.transact(|tx| {
                tx.account(account)?;
                if tx.mailbox_id(account, name)?.is_some() {
                    return Err(StoreError::Exists(name.to_owned()).into());
                }
                let parents = tx.create_parents(account, name, now)?;
                let info = tx.create_mailbox(account, name, special_use, now)?;
                let changes: Vec<Change> = parents
                    .iter()
                    .chain([&info])
                    .map(|m| change(m, ChangeKind::MailboxList))
                    .collect();
                Ok((info.id, changes))
            })
        })?;
        drop(namespace);
        self.finish(self.committer.no_pins(), Vec::new(), changes)?;
        Ok(id)
    }

    fn delete_mailbox(&self, account: AccountId, name: &str) -> Result<()> {
        let name = names::canonical(name);
        if name == INBOX {
            return Err(StoreError::Invalid("INBOX cannot be deleted".into()));
        }
        let namespace = self.lock_namespace();
        let id = self
            .trees
            .mailbox_id(account, name)?
            .ok_or_else(|| StoreError::NotFound(name.to_owned()))?;
        let children = format!("{name}{}", crate::HIERARCHY_SEPARATOR);
        if !self.trees.names_with_prefix(account, &children)?.is_empty() {
            return Err(StoreError::Invalid(format!(
                "{name} has inferior mailboxes; delete them first"
            )));
        }
        // RFC 3501 §6.3.6: the name stays subscribed after its mailbox is gone.
        if self.trees.mailbox(id)?.is_some_and(|m| m.subscribed) {
            self.keep_subscription(account, name)?;
        }
        self.drop_mailbox(id)?;
        drop(namespace);
        Ok(())
    }

    fn delete_account(&self, account: AccountId) -> Result<()> {
        if self.account(account)?.is_none() {
            return Err(StoreError::NotFound(format!("account {}", account.0)));
        }
        let namespace = self.lock_namespace();
        for (_, id) in self.trees.names_with_prefix(account, "")? {
            self.drop_mailbox(id)?;
        }
        self.retrying(|| {
            self.trees.transact(|tx| {
                tx.remove_account(account)?;
                Ok(())
            })
        })?;
        self.forget_subscriptions(account)?;
        acks::forget(&self.acks, account)?;
        drop(namespace);
        self.finish(self.committer.no_pins(), Vec::new(), [])
    }

    fn rename_mailbox(&self, account: AccountId, from: &str, to: &str) -> Result<()> {
        let from = names::canonical(from);
        let to = names::validate(to)?;
        if to == INBOX || to == from {
            return Err(StoreError::Exists(to.to_owned()));
        }
        if from != INBOX && names::is_inferior(to, from) {
            return Err(StoreError::Invalid(format!("cannot rename {from} into itself")));
        }
        let namespace = self.lock_namespace();
        if from == INBOX {
            let result = self.rename_inbox(account, to);
            drop(namespace);
            return result;
        }
        self.trees
            .mailbox_id(account, from)?
            .ok_or_else(|| StoreError::NotFound(from.to_owned()))?;
        let family: Vec<(MailboxId, String)> = self
            .trees
            .names_with_prefix(account, from)?
            .into_iter()
            .filter_map(|(name, id)| names::renamed(&name, from, to).map(|new| (id, new)))
            .collect();
        let now = crate::unix_now();
        let changes = self.retrying(|| {
            self.trees.transact(|tx| {
                for (_, new) in &family {
                    if tx.mailbox_id(account, new)?.is_some() {
                        return Err(StoreError::Exists(new.clone()).into());
                    }
                }
                let mut changes: Vec<Change> = tx
                    .create_parents(account, to, now)?
                    .iter()
                    .map(|parent| change(parent, ChangeKind::MailboxList))
                    .collect();
                for (id, new) in &family {
                    let mut info = tx.mailbox(*id)?;
                    tx.rename(&mut info, new)?;
                    changes.push(change(&info, ChangeKind::MailboxList));
                }
                Ok(changes)
            })
        })?;
        drop(namespace);
        self.finish(self.committer.no_pins(), Vec::new(), changes)
    }

    fn set_subscribed(&self, account: AccountId, name: &str, subscribed: bool) -> Result<()> {
        let name = names::canonical(name);
        let kept = !subscribed && self.drop_kept_subscription(account, name)?;
        if self.trees.mailbox_id(account, name)?.is_none() {
            // RFC 3501 §6.3.6: a name with no mailbox may be subscribed too.
            return match (subscribed, kept) {
                (true, _) => self.keep_subscription(account, names::validate(name)?),
                (false, true) => Ok(()),
                (false, false) => Err(StoreError::NotFound(name.to_owned())),
            };
        }
        let changed = self.retrying(|| {
            self.trees.transact(|tx| {
                let id = tx
                    .mailbox_id(account, name)?
                    .ok_or_else(|| StoreError::NotFound(name.to_owned()))?;
                let mut info = tx.mailbox(id)?;
                if info.subscribed == subscribed {
                    return Ok(None);
                }
                info.subscribed = subscribed;
                tx.put_mailbox(&info)?;
                Ok(Some(change(&info, ChangeKind::MailboxList)))
            })
        })?;
        match changed {
            Some(change) => self.finish(self.committer.no_pins(), Vec::new(), [change]),
            None => Ok(()),
        }
    }

    fn deliver(&self, delivery: &Delivery<'_>) -> Result<Vec<DeliveryOutcome>> {
        let contents = message_contents(delivery.bytes)?;
        let mut accounts: Vec<AccountId> = Vec::with_capacity(delivery.targets.len());
        for target in delivery.targets {
            if !accounts.contains(target) {
                accounts.push(*target);
            }
        }
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        // Transactions only read points: the folder's name is found beforehand.
        let special_use = match delivery.folder {
            DeliveryFolder::Inbox => None,
            DeliveryFolder::Junk => Some(SpecialUse::Junk),
            DeliveryFolder::Sent => Some(SpecialUse::Sent),
        };
        let folders: Vec<Option<String>> = match special_use {
            None => vec![None; accounts.len()],
            Some(special_use) => accounts
                .iter()
                .map(|&account| self.special_use_name(account, special_use))
                .collect::<Result<_>>()?,
        };
        let blob = contents.id();
        let pins = self.put_blob(&contents)?;
        let mut template = new_message(
            blob,
            contents.len(),
            delivery.internal_date,
            delivery.internal_date_offset,
        );
        if delivery.folder == DeliveryFolder::Sent {
            template.flags = Flags::SEEN;
        }
        let (outcomes, changes, unreferenced) = self.retrying(|| {
            self.trees.transact(|tx| {
                let mut outcomes = Vec::with_capacity(accounts.len());
                let mut changes = Vec::new();
                for (&account, folder) in accounts.iter().zip(&folders) {
                    let mut owner = tx.account(account)?;
                    if check_quota(&owner, template.size).is_err() {
                        outcomes.push(DeliveryOutcome::OverQuota { account });
                        continue;
                    }
                    // A Junk or Sent mailbox deleted since it was looked up: the INBOX.
                    let folder_id = match folder {
                        Some(name) => tx.mailbox_id(account, name)?,
                        None => None,
                    };
                    let inbox_id = match folder_id {
                        Some(id) => id,
                        None => tx.mailbox_id(account, INBOX)?.ok_or_else(|| {
                            StoreError::Corrupt(format!("account {} has no INBOX", account.0))
                        })?,
                    };
                    let mut inbox = tx.mailbox(inbox_id)?;
                    let uid = tx.add_message(&mut inbox, template.clone())?;
                    tx.put_mailbox(&inbox)?;
                    owner.used_bytes += template.size;
                    tx.put_account(&owner)?;
                    outcomes.push(DeliveryOutcome::Delivered {
                        account,
                        mailbox: inbox_id,
                        uid,
                    });
                    changes.push(change(&inbox, ChangeKind::New));
                }
                let delivered = changes.len() as u64;
                if delivered > 0 {
                    tx.add_refs(&blob, delivered)?;
                }
                let unreferenced = tx.ref_count(&blob)? == 0;
                Ok((outcomes, changes, unreferenced))
            })
        })?;
        // Every target over quota: the stored blob may be unreferenced.
        let removals = if unreferenced { vec![blob] } else { Vec::new() };
        self.finish(pins, removals, changes)?;
        let by_account: HashMap<AccountId, DeliveryOutcome> = accounts.into_iter().zip(outcomes).collect();
        delivery
            .targets
            .iter()
            .map(|target| {
                by_account
                    .get(target)
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt("delivery outcome missing".into()))
            })
            .collect()
    }

    fn append(&self, mailbox: MailboxId, append: &Append<'_>) -> Result<Appended> {
        let contents = message_contents(std::slice::from_ref(&append.bytes))?;
        let pins = self.put_blob(&contents)?;
        let mut template = new_message(
            contents.id(),
            contents.len(),
            append.internal_date,
            append.internal_date_offset,
        );
        template.flags = append.flags;
        template.keywords = unique_keywords(append.keywords.iter());
        let (appended, change) = self.retrying(|| {
            self.trees.transact(|tx| {
                let mut info = tx.mailbox(mailbox)?;
                let mut owner = tx.account(info.account)?;
                if append.quota == QuotaRule::Enforce {
                    check_quota(&owner, template.size)?;
                }
                let uid = tx.add_message(&mut info, template.clone())?;
                tx.put_mailbox(&info)?;
                owner.used_bytes += template.size;
                tx.put_account(&owner)?;
                tx.add_refs(&template.blob, 1)?;
                Ok((
                    Appended {
                        uidvalidity: info.uidvalidity,
                        uid,
                    },
                    change(&info, ChangeKind::New),
                ))
            })
        })?;
        self.finish(pins, Vec::new(), [change])?;
        Ok(appended)
    }

    fn messages(&self, mailbox: MailboxId) -> Result<Vec<MessageMeta>> {
        self.require_mailbox(mailbox)?;
        self.trees.messages_of(mailbox)
    }

    fn message(&self, mailbox: MailboxId, uid: Uid) -> Result<Option<MessageMeta>> {
        self.trees.message(mailbox, uid)
    }

    fn message_window(
        &self,
        mailbox: MailboxId,
        newest_first: bool,
        skip: usize,
        take: usize,
    ) -> Result<Vec<MessageMeta>> {
        self.require_mailbox(mailbox)?;
        self.trees.message_window(mailbox, newest_first, skip, take)
    }

    fn vanished_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Vec<Uid>> {
        self.trees.expunged_between(mailbox, modseq, u64::MAX)
    }

    fn changed_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Changes> {
        // Everything is read up to the HIGHESTMODSEQ read first: what commits
        // meanwhile is for the caller's next call from there.
        let info = self.require_mailbox(mailbox)?;
        let until = info.highestmodseq;
        Ok(Changes {
            changed: self.trees.changed_between(mailbox, modseq, until)?,
            expunged: self.trees.expunged_between(mailbox, modseq, until)?,
            mailbox: info,
        })
    }

    fn subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .list_mailboxes(account)?
            .into_iter()
            .filter(|m| m.subscribed)
            .map(|m| m.name)
            .collect();
        names.extend(self.kept_subscriptions(account)?);
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    fn recent_from(&self, mailbox: MailboxId) -> Result<u32> {
        self.first_unclaimed_recent(mailbox)
    }

    fn claim_recent(&self, mailbox: MailboxId, below: u32) -> Result<u32> {
        self.claim_recent_below(mailbox, below)
    }

    fn read_blob(&self, blob: &BlobId) -> Result<Vec<u8>> {
        self.blobs.read(blob).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotFound(format!("blob {}", blob.to_hex())),
            _ => StoreError::Io(e),
        })
    }

    fn store_flags(&self, mailbox: MailboxId, request: &FlagStore<'_>) -> Result<StoreOutcome> {
        let uids = sorted_unique(request.uids);
        let keywords = unique_keywords(request.keywords.iter());
        let (outcome, info) = self.retrying(|| {
            self.trees.transact(|tx| {
                let mut info = tx.mailbox(mailbox)?;
                let mut outcome = StoreOutcome::default();
                for &uid in &uids {
                    let Some(mut meta) = tx.message(mailbox, uid)? else {
                        continue;
                    };
                    match store_on_message(request, &keywords, &mut info, &mut meta) {
                        FlagChange::Failed => {
                            outcome.failed.push(uid);
                            continue;
                        }
                        FlagChange::Unchanged => continue,
                        FlagChange::Changed => {}
                    }
                    tx.put_message(mailbox, &meta)?;
                    outcome.changed.push(meta);
                }
                if !outcome.changed.is_empty() {
                    tx.put_mailbox(&info)?;
                }
                Ok((outcome, info))
            })
        })?;
        if !outcome.changed.is_empty() {
            self.finish(
                self.committer.no_pins(),
                Vec::new(),
                [change(&info, ChangeKind::Flags)],
            )?;
        }
        Ok(outcome)
    }

    fn expunge(&self, mailbox: MailboxId, only: Option<&[Uid]>) -> Result<Vec<Uid>> {
        let snapshot = match only {
            Some(uids) => {
                let mut found = Vec::new();
                for uid in sorted_unique(uids) {
                    found.extend(self.trees.message(mailbox, uid)?);
                }
                found
            }
            None => self.messages(mailbox)?,
        };
        let deleted: Vec<MessageMeta> = snapshot
            .into_iter()
            .filter(|m| m.flags.contains(Flags::DELETED))
            .collect();
        if deleted.is_empty() {
            self.require_mailbox(mailbox)?;
            return Ok(Vec::new());
        }
        // A UID names one message for the life of the mailbox, so the blobs pinned
        // here are the ones the transaction finds.
        let pins = self.committer.pin(deleted.iter().map(|m| m.blob));
        let (expunged, removals, change) = self.retrying(|| {
            self.trees.transact(|tx| {
                let mut info = tx.mailbox(mailbox)?;
                let mut expunged = Vec::new();
                let mut removals = Vec::new();
                let mut freed = 0;
                for candidate in &deleted {
                    let Some(meta) = tx.message(mailbox, candidate.uid)? else {
                        continue;
                    };
                    if !meta.flags.contains(Flags::DELETED) {
                        continue;
                    }
                    tx.remove_message(&mut info, &meta)?;
                    if tx.release_ref(&meta.blob)? {
                        removals.push(meta.blob);
                    }
                    freed += meta.size;
                    expunged.push(meta.uid);
                }
                if expunged.is_empty() {
                    return Ok((expunged, removals, None));
                }
                info.highestmodseq += 1;
                tx.log_expunged(&info, &expunged)?;
                tx.put_mailbox(&info)?;
                let mut owner = tx.account(info.account)?;
                owner.used_bytes = owner.used_bytes.saturating_sub(freed);
                tx.put_account(&owner)?;
                Ok((expunged, removals, Some(change(&info, ChangeKind::Expunge))))
            })
        })?;
        if let Some(change) = change {
            self.finish(pins, removals, [change])?;
        }
        Ok(expunged)
    }

    fn copy(&self, from: MailboxId, uids: &[Uid], to: MailboxId) -> Result<Copied> {
        self.transfer(from, uids, to, false)
    }

    fn move_messages(&self, from: MailboxId, uids: &[Uid], to: MailboxId) -> Result<Copied> {
        self.transfer(from, uids, to, true)
    }

    fn enqueue(&self, message: &Outbound<'_>) -> Result<QueueId> {
        let contents = message_contents(message.bytes)?;
        rules::check_outbound(message)?;
        let pins = self.put_blob(&contents)?;
        let now = crate::unix_now();
        let id = self.retrying(|| {
            self.trees.transact(|tx| {
                let id = QueueId(tx.next_id(NEXT_QUEUE)?);
                tx.put_queue(&rules::queue_entry(
                    id,
                    message,
                    contents.id(),
                    contents.len(),
                    now,
                ))?;
                tx.add_refs(&contents.id(), 1)?;
                Ok(id)
            })
        })?;
        self.finish(pins, Vec::new(), [])?;
        Ok(id)
    }

    fn queue(&self) -> Result<Vec<QueueEntry>> {
        self.trees
            .queue
            .iter()
            .map(|item| decode(&item?.1, "queue record"))
            .collect()
    }

    fn queue_entry(&self, id: QueueId) -> Result<Option<QueueEntry>> {
        self.trees
            .queue
            .get(id.0.to_be_bytes())?
            .map(|v| decode(&v, "queue record"))
            .transpose()
    }

    fn queue_update(&self, id: QueueId, update: &QueueUpdate<'_>) -> Result<()> {
        rules::check_queue_update(update)?;
        self.retrying(|| {
            self.trees.transact(|tx| {
                let mut entry = tx.queue_entry(id)?;
                rules::apply_queue_update(&mut entry, update)?;
                tx.put_queue(&entry)
            })
        })?;
        self.finish(self.committer.no_pins(), Vec::new(), [])
    }

    fn claim_queue(&self, ids: &[QueueId], now: i64, _lease_until: i64) -> Result<Vec<QueueEntry>> {
        let mut claimed = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some(entry) = self.queue_entry(id)?
                && entry.next_attempt <= now
            {
                claimed.push(entry);
            }
        }
        claimed.sort_by_key(|e| e.id);
        Ok(claimed)
    }

    fn queue_remove(&self, id: QueueId) -> Result<()> {
        // The entry's blob is pinned before the transaction may drop its last
        // reference (committer invariant); an entry names one blob for its life.
        let Some(snapshot) = self.queue_entry(id)? else {
            return Err(StoreError::NotFound(format!("queue entry {}", id.0)));
        };
        let pins = self.committer.pin([snapshot.blob]);
        let removals = self.retrying(|| {
            self.trees.transact(|tx| {
                let entry = tx.queue_entry(id)?;
                tx.remove_queue(id)?;
                Ok(if tx.release_ref(&entry.blob)? {
                    vec![entry.blob]
                } else {
                    Vec::new()
                })
            })
        })?;
        self.finish(pins, removals, [])
    }

    fn record_access(&self, event: &AccessEvent) -> Result<()> {
        access::insert(&self.db, &self.access, event)?;
        self.finish(self.committer.no_pins(), Vec::new(), [])
    }

    fn record_login(&self, access: &AccessEvent, event: &EventRecord) -> Result<()> {
        access::insert(&self.db, &self.access, access)?;
        events::insert(&self.db, &self.events, std::slice::from_ref(event))?;
        self.finish(self.committer.no_pins(), Vec::new(), [])
    }

    fn access_events(&self, account: AccountId, from: i64, until: i64) -> Result<Vec<AccessEvent>> {
        access::range(&self.access, account, from, until)
    }

    fn access_spans(&self, account: AccountId, from: i64, until: i64) -> Result<Vec<AccessSpan>> {
        access::spans(&self.access, account, from, until)
    }

    fn record_events(&self, events: &[EventRecord]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        events::insert(&self.db, &self.events, events)?;
        self.finish(self.committer.no_pins(), Vec::new(), [])
    }

    fn events(&self, from: i64, until: i64) -> Result<Vec<EventRecord>> {
        events::range(&self.events, from, until)
    }

    fn prune_events(&self, before: i64) -> Result<u64> {
        let removed = events::prune(&self.events, before)?
            + access::prune(&self.access, before)?
            + acks::prune(&self.acks, before)?;
        self.finish(self.committer.no_pins(), Vec::new(), [])?;
        if removed > 0 {
            tracing::info!(removed, before, "supervision records past retention pruned");
        }
        Ok(removed)
    }

    fn record_pending_ack(&self, ack: &PendingAck) -> Result<()> {
        acks::insert(&self.acks, ack)?;
        self.finish(self.committer.no_pins(), Vec::new(), [])
    }

    fn acknowledge(
        &self,
        account: AccountId,
        message_id: &str,
        by: &str,
        at: i64,
    ) -> Result<Option<PendingAck>> {
        let acknowledged = acks::acknowledge(&self.acks, account, message_id, by, at)?;
        if acknowledged.is_some() {
            self.finish(self.committer.no_pins(), Vec::new(), [])?;
        }
        Ok(acknowledged)
    }

    fn acks(&self, account: Option<AccountId>) -> Result<Vec<PendingAck>> {
        acks::list(&self.acks, account)
    }

    fn job_lock(&self, _job: &str) -> Result<Option<crate::JobLock>> {
        Ok(Some(crate::JobLock::new(Box::new(()))))
    }

    fn check(&self) -> Result<CheckReport> {
        SledStore::check(self)
    }

    fn repair(&self) -> Result<RepairReport> {
        SledStore::repair(self)
    }

    fn account_ids(&self) -> Result<Vec<AccountId>> {
        self.trees
            .accounts
            .iter()
            .map(|entry| Ok(AccountId(tx::decode_u64(&entry?.0, "account key")?)))
            .collect()
    }

    fn size(&self) -> Result<StoreSize> {
        let mut size = StoreSize {
            metadata_bytes: self.db.size_on_disk()?,
            ..StoreSize::default()
        };
        for entry in self.trees.accounts.iter() {
            let account: AccountStorage = decode(&entry?.1, "account record")?;
            size.accounts += 1;
            size.mailbox_bytes = size.mailbox_bytes.saturating_add(account.used_bytes);
        }
        Ok(size)
    }

    fn backup(&self, spec: &BackupSpec<'_>, progress: &Progress) -> Result<BackupManifest> {
        SledStore::backup(self, spec, progress)
    }

    fn subscribe(&self, account: AccountId) -> Subscription {
        self.changes.subscribe(account)
    }
}

fn no_account(account: AccountId) -> StoreError {
    StoreError::NotFound(format!("account {}", account.0))
}

#[cfg(test)]
mod tests;
