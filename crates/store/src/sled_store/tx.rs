//! The sled trees of the store, their key layout, and a typed view of them inside a
//! transaction.
//!
//! | tree                  | key                            | value                    |
//! |-----------------------|--------------------------------|--------------------------|
//! | `store.meta`          | counter name                   | u64 big-endian           |
//! | `store.accounts`      | AccountId (u64 BE)             | JSON [`AccountStorage`]  |
//! | `store.mailboxes`     | MailboxId (u64 BE)             | JSON [`MailboxInfo`]     |
//! | `store.mailbox_names` | AccountId BE ‖ UTF-8 name      | MailboxId (u64 BE)       |
//! | `store.messages`      | MailboxId BE ‖ UID (u32 BE)    | JSON [`MessageMeta`]     |
//! | `store.blob_refs`     | BlobId (32 bytes)              | reference count, u64 BE  |
//! | `store.queue`         | QueueId (u64 BE)               | JSON [`QueueEntry`]      |
//! | `store.expunged`      | MailboxId BE ‖ modseq (u64 BE) | JSON `[Uid]`, ascending  |
//! | `store.changes`       | MailboxId BE ‖ modseq (u64 BE) | UID ranges, (u32 BE, u32 BE) pairs |
//!
//! `store.changes` is the change log: one record per transaction and mailbox that
//! appended messages or changed their flags, under the highest modseq the
//! transaction gave in that mailbox, naming the UIDs it touched as ranges (a
//! `STORE 1:*` on 20,000 messages is one record of one range). A message's record
//! modseq was given by the transaction whose log record is the first at or above it,
//! so `changed_since` reads the records above a modseq and then only the messages
//! they name. One record per writing command, not one index entry per message:
//! an entry moved per message tripled the time of a `STORE 1:*` (docs/benchmarks.md).
//! Like the expunge log, the change log is kept as long as its mailbox. A store from
//! before it gets one record per mailbox at open (`SledStore::build_change_log`,
//! marked by [`CHANGE_LOG_BUILT`] in `store.meta`).
//!
//! Big-endian ids make a prefix scan return a mailbox's messages in UID order and an
//! account's mailboxes together, outside transactions; inside one, every access is a
//! point read (sled transactions cannot range-scan). Records are JSON so that fields
//! can be added later without a migration; counters and ids, which are read on every
//! write, are fixed-width binary.

use crate::{
    AccountId, AccountStorage, BlobId, HIERARCHY_SEPARATOR, MailboxId, MailboxInfo, MessageMeta, QueueEntry,
    QueueId, SpecialUse, StoreError, Uid,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use std::cell::RefCell;
use std::sync::{PoisonError, RwLock};

pub(super) const NEXT_ACCOUNT: &[u8] = b"next_account";
pub(super) const NEXT_MAILBOX: &[u8] = b"next_mailbox";
pub(super) const NEXT_QUEUE: &[u8] = b"next_queue";
/// The last UIDVALIDITY handed out (any mailbox).
const LAST_UIDVALIDITY: &[u8] = b"last_uidvalidity";
/// Present in `store.meta` once `store.changes` covers every message.
pub(super) const CHANGE_LOG_BUILT: &[u8] = b"change_log_built";
/// The name of the change log tree.
pub(super) const CHANGE_LOG_TREE: &str = "store.changes";
/// The per-message modseq index an earlier version kept; dropped at open.
pub(super) const OLD_MODSEQ_TREE: &str = "store.modseq";

/// Why a transaction closure gave up.
#[derive(Debug)]
pub(super) enum Abort {
    Store(StoreError),
    /// The snapshot read before the transaction no longer matches; scan again.
    Stale,
}

impl From<StoreError> for ConflictableTransactionError<Abort> {
    fn from(error: StoreError) -> Self {
        ConflictableTransactionError::Abort(Abort::Store(error))
    }
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        match error {
            sled::Error::Io(e) => StoreError::Io(e),
            other => StoreError::Db(other.to_string()),
        }
    }
}

pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<Abort>>;

pub(super) fn stale<T>() -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(Abort::Stale))
}

pub(super) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(format!("cannot encode record: {e}")))
}

pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(super) fn decode_u64(bytes: &[u8], what: &str) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt(format!("{what}: expected 8 bytes, found {}", bytes.len())))
}

/// A change log record: ascending UIDs as `(first, last)` ranges, u32 BE each.
pub(super) fn encode_uid_ranges(uids: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut iter = uids.iter().copied().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while let Some(&next) = iter.peek() {
            if next != last.wrapping_add(1) {
                break;
            }
            last = next;
            iter.next();
        }
        out.extend_from_slice(&first.to_be_bytes());
        out.extend_from_slice(&last.to_be_bytes());
    }
    out
}

/// The UIDs of a change log record, ascending.
pub(super) fn decode_uid_ranges(bytes: &[u8]) -> Result<Vec<Uid>, StoreError> {
    let corrupt = || {
        StoreError::Corrupt(format!(
            "change log record: not UID ranges ({} bytes)",
            bytes.len()
        ))
    };
    if !bytes.len().is_multiple_of(8) {
        return Err(corrupt());
    }
    let mut uids = Vec::new();
    for pair in bytes.chunks_exact(8) {
        let (first, last) = pair.split_at(4);
        let first = u32::from_be_bytes(first.try_into().map_err(|_| corrupt())?);
        let last = u32::from_be_bytes(last.try_into().map_err(|_| corrupt())?);
        if first == 0 || last < first || uids.last().is_some_and(|prev: &Uid| prev.get() >= first) {
            return Err(corrupt());
        }
        uids.extend((first..=last).filter_map(Uid::new));
    }
    Ok(uids)
}

pub(super) fn name_key(account: AccountId, name: &str) -> Vec<u8> {
    let mut key = account.0.to_be_bytes().to_vec();
    key.extend_from_slice(name.as_bytes());
    key
}

pub(super) fn message_key(mailbox: MailboxId, uid: Uid) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&mailbox.0.to_be_bytes());
    key[8..].copy_from_slice(&uid.get().to_be_bytes());
    key
}

/// Mailbox ‖ modseq: the key of both the expunge log and the change log.
pub(super) fn modseq_key(mailbox: MailboxId, modseq: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&mailbox.0.to_be_bytes());
    key[8..].copy_from_slice(&modseq.to_be_bytes());
    key
}

/// The entries of a tree keyed mailbox ‖ modseq (the expunge log, the change
/// log) with a modseq above `since` and at most `until`, in modseq order.
fn modseq_range(
    tree: &sled::Tree,
    mailbox: MailboxId,
    since: u64,
    until: u64,
) -> impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>> {
    (since < until)
        .then(|| tree.range(modseq_key(mailbox, since.saturating_add(1))..=modseq_key(mailbox, until)))
        .into_iter()
        .flatten()
}

/// The store's trees.
pub(super) struct Trees {
    pub meta: sled::Tree,
    pub accounts: sled::Tree,
    pub mailboxes: sled::Tree,
    pub names: sled::Tree,
    pub messages: sled::Tree,
    pub refs: sled::Tree,
    pub queue: sled::Tree,
    /// The expunge log: which UIDs each expunging modseq removed (RFC 7162 §3.2.10
    /// VANISHED needs them after the messages are gone).
    pub expunged: sled::Tree,
    /// The change log: which UIDs each writing transaction touched (see the module
    /// docs).
    pub changes: sled::Tree,
    /// Every transaction holds it shared; [`Trees::quiesced`] holds it exclusively, so
    /// a reader of several trees (backup, check, repair) sees the effect of every
    /// committed transaction and of none half-done.
    gate: RwLock<()>,
}

impl Trees {
    pub fn open(db: &sled::Db) -> sled::Result<Trees> {
        Ok(Trees {
            meta: db.open_tree("store.meta")?,
            accounts: db.open_tree("store.accounts")?,
            mailboxes: db.open_tree("store.mailboxes")?,
            names: db.open_tree("store.mailbox_names")?,
            messages: db.open_tree("store.messages")?,
            refs: db.open_tree("store.blob_refs")?,
            queue: db.open_tree("store.queue")?,
            expunged: db.open_tree("store.expunged")?,
            changes: db.open_tree(CHANGE_LOG_TREE)?,
            gate: RwLock::new(()),
        })
    }

    /// Runs `f` while no store transaction runs. Transactions are short (point reads,
    /// no I/O) and a waiting one holds no lock of its own, so `f` waits for at most
    /// those in flight; writers wait for `f`.
    pub fn quiesced<T>(&self, f: impl FnOnce() -> T) -> T {
        let _exclusive = self.gate.write().unwrap_or_else(PoisonError::into_inner);
        f()
    }

    /// Runs `body` as one serialisable transaction over every tree. sled runs
    /// transactions one at a time (a process-wide lock), so the body must only touch
    /// sled: never a file, never a wait.
    pub fn transact<T>(&self, body: impl Fn(&Tx<'_>) -> TxResult<T>) -> Result<T, Abort> {
        let _shared = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        (
            &self.meta,
            &self.accounts,
            &self.mailboxes,
            &self.names,
            &self.messages,
            &self.refs,
            &self.queue,
            &self.expunged,
            &self.changes,
        )
            .transaction(
                |(meta, accounts, mailboxes, names, messages, refs, queue, expunged, changes)| {
                    let tx = Tx {
                        meta,
                        accounts,
                        mailboxes,
                        names,
                        messages,
                        refs,
                        queue,
                        expunged,
                        changes,
                        touched: RefCell::default(),
                    };
                    let done = body(&tx)?;
                    tx.write_change_log()?;
                    Ok(done)
                },
            )
            .map_err(|e| match e {
                TransactionError::Abort(abort) => abort,
                TransactionError::Storage(e) => Abort::Store(e.into()),
            })
    }

    pub fn mailbox(&self, id: MailboxId) -> Result<Option<MailboxInfo>, StoreError> {
        self.mailboxes
            .get(id.0.to_be_bytes())?
            .map(|v| decode(&v, "mailbox record"))
            .transpose()
    }

    pub fn mailbox_id(&self, account: AccountId, name: &str) -> Result<Option<MailboxId>, StoreError> {
        self.names
            .get(name_key(account, name))?
            .map(|v| decode_u64(&v, "mailbox name record").map(MailboxId))
            .transpose()
    }

    /// Every message of a mailbox in UID order: one prefix scan.
    pub fn messages_of(&self, mailbox: MailboxId) -> Result<Vec<MessageMeta>, StoreError> {
        self.messages
            .scan_prefix(mailbox.0.to_be_bytes())
            .map(|item| decode(&item?.1, "message record"))
            .collect()
    }

    /// See `MailStore::message_window`: the keys are `mailbox ‖ uid`, big-endian, so
    /// the prefix scan is in UID order both ways.
    pub fn message_window(
        &self,
        mailbox: MailboxId,
        newest_first: bool,
        skip: usize,
        take: usize,
    ) -> Result<Vec<MessageMeta>, StoreError> {
        let scan = self.messages.scan_prefix(mailbox.0.to_be_bytes());
        let records: Box<dyn Iterator<Item = _>> = if newest_first {
            Box::new(scan.rev())
        } else {
            Box::new(scan)
        };
        records
            .skip(skip)
            .take(take)
            .map(|item| decode(&item?.1, "message record"))
            .collect()
    }

    pub fn message(&self, mailbox: MailboxId, uid: Uid) -> Result<Option<MessageMeta>, StoreError> {
        self.messages
            .get(message_key(mailbox, uid))?
            .map(|v| decode(&v, "message record"))
            .transpose()
    }

    /// UIDs expunged from the mailbox by changes with a modseq above `since` and
    /// at most `until`, ascending and without repeats.
    pub fn expunged_between(
        &self,
        mailbox: MailboxId,
        since: u64,
        until: u64,
    ) -> Result<Vec<Uid>, StoreError> {
        let mut uids = Vec::new();
        for item in modseq_range(&self.expunged, mailbox, since, until) {
            uids.extend(decode::<Vec<Uid>>(&item?.1, "expunge log record")?);
        }
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// The messages whose modseq is above `since` and at most `until`, ascending by
    /// UID, as their records read now: the change log records above `since`, then a
    /// point read per UID they name. A message removed meanwhile is left out.
    pub fn changed_between(
        &self,
        mailbox: MailboxId,
        since: u64,
        until: u64,
    ) -> Result<Vec<MessageMeta>, StoreError> {
        let mut uids = Vec::new();
        // The last record may hold modseqs above `until` too: it is read whole.
        let last = self
            .changes
            .range(modseq_key(mailbox, until.saturating_add(1))..=modseq_key(mailbox, u64::MAX))
            .next()
            .transpose()?;
        for item in modseq_range(&self.changes, mailbox, since, until).chain(last.map(Ok)) {
            uids.extend(decode_uid_ranges(&item?.1)?);
        }
        uids.sort_unstable();
        uids.dedup();
        let mut changed = Vec::new();
        for uid in uids {
            changed.extend(
                self.message(mailbox, uid)?
                    .filter(|meta| meta.modseq > since && meta.modseq <= until),
            );
        }
        Ok(changed)
    }

    /// Drops the expunge and change logs of a deleted mailbox (ids are never
    /// reused, so a leftover is only wasted space; this runs after the delete
    /// committed).
    pub fn forget_logs(&self, mailbox: MailboxId) -> Result<(), StoreError> {
        for tree in [&self.expunged, &self.changes] {
            for key in tree.scan_prefix(mailbox.0.to_be_bytes()).keys() {
                tree.remove(key?)?;
            }
        }
        Ok(())
    }

    /// Names and ids of the account's mailboxes whose name starts with `prefix`, in
    /// byte order of the name.
    pub fn names_with_prefix(
        &self,
        account: AccountId,
        prefix: &str,
    ) -> Result<Vec<(String, MailboxId)>, StoreError> {
        self.names
            .scan_prefix(name_key(account, prefix))
            .map(|item| {
                let (key, value) = item?;
                let name = key
                    .get(8..)
                    .and_then(|n| std::str::from_utf8(n).ok())
                    .ok_or_else(|| StoreError::Corrupt("mailbox name key is not UTF-8".into()))?;
                Ok((
                    name.to_owned(),
                    MailboxId(decode_u64(&value, "mailbox name record")?),
                ))
            })
            .collect()
    }
}

/// The trees as seen inside one transaction, with typed accessors.
pub(super) struct Tx<'a> {
    meta: &'a TransactionalTree,
    accounts: &'a TransactionalTree,
    mailboxes: &'a TransactionalTree,
    names: &'a TransactionalTree,
    messages: &'a TransactionalTree,
    refs: &'a TransactionalTree,
    queue: &'a TransactionalTree,
    expunged: &'a TransactionalTree,
    changes: &'a TransactionalTree,
    /// (mailbox, modseq, UID) of every message this transaction wrote, for its
    /// change log records.
    touched: RefCell<Vec<(MailboxId, u64, u32)>>,
}

impl Tx<'_> {
    /// The next value of a counter; the first is 1.
    pub fn next_id(&self, counter: &[u8]) -> TxResult<u64> {
        let last = match self.meta.get(counter)? {
            Some(v) => decode_u64(&v, "counter")?,
            None => 0,
        };
        let next = last + 1;
        self.meta.insert(counter, &next.to_be_bytes())?;
        Ok(next)
    }

    /// A UIDVALIDITY never handed out before: the current Unix time, or one more than
    /// the last one when that is later (several mailboxes created in one second, or a
    /// clock set back) — so a mailbox deleted and created again gets a new one
    /// (RFC 3501 §2.3.1.1).
    fn next_uidvalidity(&self, now: i64) -> TxResult<u32> {
        let last = match self.meta.get(LAST_UIDVALIDITY)? {
            Some(v) => decode_u64(&v, "uidvalidity counter")?,
            None => 0,
        };
        let next = (last + 1).max(u64::try_from(now).unwrap_or(0));
        let Ok(value) = u32::try_from(next) else {
            return Err(StoreError::Invalid("UIDVALIDITY values exhausted".into()).into());
        };
        self.meta.insert(LAST_UIDVALIDITY, &next.to_be_bytes())?;
        Ok(value)
    }

    pub fn account(&self, id: AccountId) -> TxResult<AccountStorage> {
        match self.accounts.get(id.0.to_be_bytes())? {
            Some(v) => Ok(decode(&v, "account record")?),
            None => Err(StoreError::NotFound(format!("account {}", id.0)).into()),
        }
    }

    pub fn remove_account(&self, id: AccountId) -> TxResult<()> {
        self.accounts.remove(&id.0.to_be_bytes())?;
        Ok(())
    }

    pub fn put_account(&self, account: &AccountStorage) -> TxResult<()> {
        self.accounts
            .insert(&account.id.0.to_be_bytes(), encode(account)?)?;
        Ok(())
    }

    pub fn mailbox(&self, id: MailboxId) -> TxResult<MailboxInfo> {
        match self.mailboxes.get(id.0.to_be_bytes())? {
            Some(v) => Ok(decode(&v, "mailbox record")?),
            None => Err(StoreError::NotFound(format!("mailbox {}", id.0)).into()),
        }
    }

    pub fn put_mailbox(&self, info: &MailboxInfo) -> TxResult<()> {
        self.mailboxes.insert(&info.id.0.to_be_bytes(), encode(info)?)?;
        Ok(())
    }

    pub fn mailbox_id(&self, account: AccountId, name: &str) -> TxResult<Option<MailboxId>> {
        match self.names.get(name_key(account, name))? {
            Some(v) => Ok(Some(MailboxId(decode_u64(&v, "mailbox name record")?))),
            None => Ok(None),
        }
    }

    /// Creates a mailbox; the caller has checked that the name is free.
    pub fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
        now: i64,
    ) -> TxResult<MailboxInfo> {
        let info = MailboxInfo {
            id: MailboxId(self.next_id(NEXT_MAILBOX)?),
            account,
            name: name.to_owned(),
            uidvalidity: self.next_uidvalidity(now)?,
            uidnext: 1,
            // RFC 7162 §3.1.1: a mod-sequence value is at least 1.
            highestmodseq: 1,
            special_use,
            subscribed: true,
            messages: 0,
            unseen: 0,
            size: 0,
        };
        self.put_mailbox(&info)?;
        self.names
            .insert(name_key(account, name), &info.id.0.to_be_bytes())?;
        Ok(info)
    }

    /// Creates the missing superiors of `name` (`a` and `a/b` for `a/b/c`), as
    /// RFC 3501 §6.3.3 asks of CREATE, so no name ever lacks its parent.
    pub fn create_parents(&self, account: AccountId, name: &str, now: i64) -> TxResult<Vec<MailboxInfo>> {
        let mut created = Vec::new();
        for (end, _) in name.match_indices(HIERARCHY_SEPARATOR) {
            let parent = &name[..end];
            if self.mailbox_id(account, parent)?.is_none() {
                created.push(self.create_mailbox(account, parent, None, now)?);
            }
        }
        Ok(created)
    }

    /// Points `name` at the mailbox and records the name in it.
    pub fn rename(&self, info: &mut MailboxInfo, name: &str) -> TxResult<()> {
        self.names.remove(name_key(info.account, &info.name))?;
        self.names
            .insert(name_key(info.account, name), &info.id.0.to_be_bytes())?;
        info.name = name.to_owned();
        self.put_mailbox(info)
    }

    /// Removes the mailbox record and its name (its messages are the caller's).
    pub fn remove_mailbox(&self, info: &MailboxInfo) -> TxResult<()> {
        self.names.remove(name_key(info.account, &info.name))?;
        self.mailboxes.remove(&info.id.0.to_be_bytes())?;
        Ok(())
    }

    pub fn message(&self, mailbox: MailboxId, uid: Uid) -> TxResult<Option<MessageMeta>> {
        match self.messages.get(message_key(mailbox, uid))? {
            Some(v) => Ok(Some(decode(&v, "message record")?)),
            None => Ok(None),
        }
    }

    /// Writes one change log record per mailbox this transaction wrote messages in,
    /// under the highest modseq it gave there.
    fn write_change_log(&self) -> TxResult<()> {
        let mut touched = self.touched.take();
        touched.sort_unstable();
        for per_mailbox in touched.chunk_by(|a, b| a.0 == b.0) {
            let (Some(first), Some(highest)) = (per_mailbox.first(), per_mailbox.iter().map(|t| t.1).max())
            else {
                continue;
            };
            let mut uids: Vec<u32> = per_mailbox.iter().map(|t| t.2).collect();
            uids.sort_unstable();
            uids.dedup();
            self.changes
                .insert(&modseq_key(first.0, highest), encode_uid_ranges(&uids))?;
        }
        Ok(())
    }

    /// Writes a message record, noting it for the change log.
    pub fn put_message(&self, mailbox: MailboxId, meta: &MessageMeta) -> TxResult<()> {
        self.messages
            .insert(&message_key(mailbox, meta.uid), encode(meta)?)?;
        self.touched
            .borrow_mut()
            .push((mailbox, meta.modseq, meta.uid.get()));
        Ok(())
    }

    /// Adds a message to `info` under the next UID and a new modseq, keeping the
    /// mailbox counters exact; the caller writes `info` back. `uid` and `modseq` of
    /// `meta` are replaced.
    pub fn add_message(&self, info: &mut MailboxInfo, mut meta: MessageMeta) -> TxResult<Uid> {
        let (Some(uid), Some(uidnext)) = (Uid::new(info.uidnext), info.uidnext.checked_add(1)) else {
            return Err(StoreError::Invalid(format!("mailbox {} has no UIDs left", info.name)).into());
        };
        info.uidnext = uidnext;
        info.highestmodseq += 1;
        meta.uid = uid;
        meta.modseq = info.highestmodseq;
        info.messages += 1;
        if !meta.flags.contains(crate::Flags::SEEN) {
            info.unseen += 1;
        }
        info.size += meta.size;
        self.put_message(info.id, &meta)?;
        Ok(uid)
    }

    /// Removes a message from `info`, keeping the counters exact (the caller bumps
    /// HIGHESTMODSEQ once per operation and writes `info` back).
    pub fn remove_message(&self, info: &mut MailboxInfo, meta: &MessageMeta) -> TxResult<()> {
        self.messages.remove(&message_key(info.id, meta.uid))?;
        info.messages = info.messages.saturating_sub(1);
        if !meta.flags.contains(crate::Flags::SEEN) {
            info.unseen = info.unseen.saturating_sub(1);
        }
        info.size = info.size.saturating_sub(meta.size);
        Ok(())
    }

    /// Records that the change with `info.highestmodseq` removed `uids` (called once
    /// per expunging operation, after the modseq was bumped).
    pub fn log_expunged(&self, info: &MailboxInfo, uids: &[Uid]) -> TxResult<()> {
        if !uids.is_empty() {
            self.expunged
                .insert(&modseq_key(info.id, info.highestmodseq), encode(&uids)?)?;
        }
        Ok(())
    }

    pub fn ref_count(&self, blob: &BlobId) -> TxResult<u64> {
        match self.refs.get(blob.0)? {
            Some(v) => Ok(decode_u64(&v, "blob reference count")?),
            None => Ok(0),
        }
    }

    pub fn add_refs(&self, blob: &BlobId, count: u64) -> TxResult<()> {
        let total = self.ref_count(blob)? + count;
        self.refs.insert(&blob.0, &total.to_be_bytes())?;
        Ok(())
    }

    /// Drops one reference; true when it was the last (its key is then gone, and the
    /// file may be removed once this transaction is durable).
    pub fn release_ref(&self, blob: &BlobId) -> TxResult<bool> {
        match self.ref_count(blob)? {
            0 | 1 => {
                self.refs.remove(&blob.0)?;
                Ok(true)
            }
            n => {
                self.refs.insert(&blob.0, &(n - 1).to_be_bytes())?;
                Ok(false)
            }
        }
    }

    pub fn queue_entry(&self, id: QueueId) -> TxResult<QueueEntry> {
        match self.queue.get(id.0.to_be_bytes())? {
            Some(v) => Ok(decode(&v, "queue record")?),
            None => Err(StoreError::NotFound(format!("queue entry {}", id.0)).into()),
        }
    }

    pub fn remove_queue(&self, id: QueueId) -> TxResult<()> {
        self.queue.remove(&id.0.to_be_bytes())?;
        Ok(())
    }

    pub fn put_queue(&self, entry: &QueueEntry) -> TxResult<()> {
        self.queue.insert(&entry.id.0.to_be_bytes(), encode(entry)?)?;
        Ok(())
    }
}
