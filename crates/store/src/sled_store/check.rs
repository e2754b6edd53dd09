//! The store's consistency check (issue 12): every invariant the metadata keeps
//! about itself and about the blob files, read back and compared. It reads the
//! trees while no store transaction runs (`Trees::quiesced`), so it may run on a
//! live server: writers wait for the scan (tens of milliseconds for 20,000
//! messages), never see an error.
//!
//! What it verifies:
//! 1. Every message belongs to an existing mailbox, its UID is below the mailbox's
//!    UIDNEXT and its MODSEQ at most the mailbox's HIGHESTMODSEQ (crate invariants
//!    2 and 3).
//! 2. Each mailbox's message count and size, and each account's used bytes, equal
//!    the sums of its messages (quota accounting).
//! 3. Each blob's reference count equals the messages and queue entries naming it,
//!    and every referenced blob's file exists (crate invariant 4).
//! 4. Every mailbox belongs to an existing account.
//! 5. Every `\Recent` claim mark (`recent`) belongs to an existing mailbox, and
//!    every subscription kept by name (`subscriptions`) to an existing account.
//! 6. Modseqs are unique in a mailbox, and the change log (`store.changes`) covers
//!    every message: the first record of its mailbox at or above the message's
//!    modseq names its UID, and every record decodes. The repair writes the log
//!    again from the records.
//! 7. Every mail event (`store.events`), access event (`store.access`) and
//!    acknowledgement record (`store.acks`) decodes, and every acknowledgement
//!    record belongs to an existing account. The repair removes those that do
//!    not: a record nobody can read would fail every report of its period. These
//!    trees are read outside the gate (they are appended to without
//!    transactions), so a large log does not hold writers.
//!
//! Blob files that nothing references are reported as orphans (a crash between a
//! put and its transaction leaves them); `SledStore::collect_orphans` removes them.

use std::collections::{BTreeMap, HashMap};

use super::tx::{decode, decode_u64, decode_uid_ranges, encode};
use super::{SledStore, access, acks, events};
use crate::blob::BlobFile;
use crate::{AccountId, AccountStorage, BlobId, MailboxId, MailboxInfo, MessageMeta, QueueEntry, Result};

/// One inconsistency: a stable kind and what was found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Inconsistency {
    pub kind: &'static str,
    pub detail: String,
}

/// What [`SledStore::check`] read and found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CheckReport {
    pub accounts: u64,
    pub mailboxes: u64,
    pub messages: u64,
    pub queue_entries: u64,
    pub blobs: u64,
    /// Mail events, access events and acknowledgement records read (invariant 7).
    pub mail_events: u64,
    pub access_events: u64,
    pub acks: u64,
    /// Unreferenced blob files (harmless; `collect_orphans` deletes them).
    pub orphan_blobs: u64,
    pub problems: Vec<Inconsistency>,
}

impl CheckReport {
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, kind: &'static str, detail: String) {
        self.problems.push(Inconsistency { kind, detail });
    }
}

/// What the records should say, as counted from the messages and queue entries.
#[derive(Default)]
struct Tally {
    accounts: HashMap<AccountId, AccountStorage>,
    mailboxes: HashMap<MailboxId, MailboxInfo>,
    /// Per mailbox: messages and bytes.
    per_mailbox: HashMap<MailboxId, (u32, u64)>,
    /// Per mailbox: the highest UID and MODSEQ of its messages.
    highest: HashMap<MailboxId, (u32, u64)>,
    used: HashMap<AccountId, u64>,
    /// Blobs whose stored reference count is wrong, with the right one.
    refs: Vec<(BlobId, u64)>,
    /// `\Recent` claim marks and kept subscriptions whose owner is gone.
    stale_recent: Vec<MailboxId>,
    stale_subscriptions: Vec<Vec<u8>>,
    /// The change log does not cover the message records.
    change_log_wrong: bool,
}

/// What [`SledStore::repair`] did and what is left.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RepairReport {
    /// The problems found before the repair.
    pub found: Vec<Inconsistency>,
    /// Unreferenced blob files deleted.
    pub orphans_removed: u64,
    /// The check after the repair: what could not be fixed without losing mail.
    pub after: CheckReport,
}

impl SledStore {
    /// Fixes what the check finds that can be fixed without losing mail: claim marks
    /// and subscriptions of what is gone (removed), the change log (rebuilt), mailbox totals, quota usage, UIDNEXT (raised above the highest UID, so UIDVALIDITY
    /// stays and clients need not resync), HIGHESTMODSEQ (raised), blob reference
    /// counts (set to the references that exist), and orphan blob files (deleted).
    /// A message whose body is missing, a message without a mailbox and a mailbox
    /// without an account are left and reported: removing them would hide a loss.
    pub fn repair(&self) -> Result<RepairReport> {
        let found = self.trees.quiesced(|| -> Result<Vec<Inconsistency>> {
            let (report, tally) = self.check_trees()?;
            if report.problems.is_empty() {
                return Ok(report.problems);
            }
            for (id, mailbox) in &tally.mailboxes {
                let (messages, size) = tally.per_mailbox.get(id).copied().unwrap_or_default();
                let (uid, modseq) = tally.highest.get(id).copied().unwrap_or_default();
                let mut fixed = mailbox.clone();
                fixed.messages = messages;
                fixed.size = size;
                fixed.uidnext = fixed.uidnext.max(uid.saturating_add(1));
                fixed.highestmodseq = fixed.highestmodseq.max(modseq);
                if fixed != *mailbox {
                    self.trees.mailboxes.insert(id.0.to_be_bytes(), encode(&fixed)?)?;
                }
            }
            for (id, account) in &tally.accounts {
                let used = tally.used.get(id).copied().unwrap_or_default();
                if used != account.used_bytes {
                    let mut fixed = account.clone();
                    fixed.used_bytes = used;
                    self.trees.accounts.insert(id.0.to_be_bytes(), encode(&fixed)?)?;
                }
            }
            for mailbox in &tally.stale_recent {
                self.recent.remove(mailbox.0.to_be_bytes())?;
            }
            for key in &tally.stale_subscriptions {
                self.subscriptions.remove(key.as_slice())?;
            }
            if tally.change_log_wrong {
                self.rebuild_change_log()?;
            }
            for (blob, count) in &tally.refs {
                if *count == 0 {
                    self.trees.refs.remove(blob.0)?;
                } else {
                    self.trees.refs.insert(blob.0, &count.to_be_bytes())?;
                }
            }
            Ok(report.problems)
        })?;
        let mut found = found;
        let mut facts = CheckReport::default();
        for (tree, key) in self.check_facts(&mut facts)? {
            tree.remove(key)?;
        }
        found.extend(facts.problems);
        self.db.flush()?;
        let orphans_removed = self.collect_orphans()? as u64;
        if !found.is_empty() {
            tracing::warn!(problems = found.len(), orphans_removed, "store repaired");
        }
        Ok(RepairReport {
            found,
            orphans_removed,
            after: self.check()?,
        })
    }

    /// Checks the store's invariants (see the module docs); `Err` only when the
    /// database or the blob directory cannot be read.
    pub fn check(&self) -> Result<CheckReport> {
        let (mut report, _) = self.trees.quiesced(|| self.check_trees())?;
        self.check_facts(&mut report)?;
        // Outside the gate: a put whose transaction has not committed yet shows as
        // an orphan, which is harmless either way.
        for file in self.blobs.list()? {
            if let BlobFile::Stored(blob) = file
                && !self.trees.refs.contains_key(blob.0)?
            {
                report.orphan_blobs += 1;
            }
        }
        Ok(report)
    }

    /// The scan behind [`SledStore::check`]: the report, and what the records should
    /// say (for [`SledStore::repair`]). Run it quiesced.
    fn check_trees(&self) -> Result<(CheckReport, Tally)> {
        let mut report = CheckReport::default();
        let mut accounts: HashMap<AccountId, AccountStorage> = HashMap::new();
        for entry in self.trees.accounts.iter() {
            let (_, value) = entry?;
            let account: AccountStorage = decode(&value, "account")?;
            accounts.insert(account.id, account);
        }
        let mut mailboxes: HashMap<MailboxId, MailboxInfo> = HashMap::new();
        for entry in self.trees.mailboxes.iter() {
            let (_, value) = entry?;
            let mailbox: MailboxInfo = decode(&value, "mailbox")?;
            if !accounts.contains_key(&mailbox.account) {
                report.problem(
                    "mailbox_without_account",
                    format!(
                        "mailbox {} ({}) of missing account {}",
                        mailbox.id.0, mailbox.name, mailbox.account.0
                    ),
                );
            }
            mailboxes.insert(mailbox.id, mailbox);
        }
        let mut tally = Tally::default();
        let mut refs: HashMap<BlobId, u64> = HashMap::new();
        let mut per_mailbox: HashMap<MailboxId, (u32, u64)> = HashMap::new();
        // Every message's (mailbox, modseq) → UID, for invariant 6.
        let mut indexed: HashMap<(MailboxId, u64), u32> = HashMap::new();
        for entry in self.trees.messages.iter() {
            let (key, value) = entry?;
            report.messages += 1;
            let meta: MessageMeta = decode(&value, "message")?;
            let mailbox_id = MailboxId(decode_u64(key.get(..8).unwrap_or_default(), "message key")?);
            *refs.entry(meta.blob).or_default() += 1;
            if let Some(other) = indexed.insert((mailbox_id, meta.modseq), meta.uid.get()) {
                report.problem(
                    "modseq_not_unique",
                    format!(
                        "mailbox {} UIDs {other} and {} share MODSEQ {}",
                        mailbox_id.0, meta.uid, meta.modseq
                    ),
                );
            }
            let Some(mailbox) = mailboxes.get(&mailbox_id) else {
                report.problem(
                    "message_without_mailbox",
                    format!("UID {} of missing mailbox {}", meta.uid, mailbox_id.0),
                );
                continue;
            };
            if meta.uid.get() >= mailbox.uidnext {
                report.problem(
                    "uid_not_below_uidnext",
                    format!(
                        "mailbox {} UID {} ≥ UIDNEXT {}",
                        mailbox_id.0, meta.uid, mailbox.uidnext
                    ),
                );
            }
            if meta.modseq > mailbox.highestmodseq {
                report.problem(
                    "modseq_above_highest",
                    format!(
                        "mailbox {} UID {} MODSEQ {} > {}",
                        mailbox_id.0, meta.uid, meta.modseq, mailbox.highestmodseq
                    ),
                );
            }
            let counted = per_mailbox.entry(mailbox_id).or_default();
            counted.0 += 1;
            counted.1 += meta.size;
            let highest = tally.highest.entry(mailbox_id).or_default();
            highest.0 = highest.0.max(meta.uid.get());
            highest.1 = highest.1.max(meta.modseq);
        }
        self.check_change_log(indexed, &mut tally, &mut report)?;
        let mut used: HashMap<AccountId, u64> = HashMap::new();
        for (id, mailbox) in &mailboxes {
            let (count, size) = per_mailbox.get(id).copied().unwrap_or_default();
            if (count, size) != (mailbox.messages, mailbox.size) {
                report.problem(
                    "mailbox_totals",
                    format!(
                        "mailbox {} ({}) says {} messages / {} bytes, holds {count} / {size}",
                        id.0, mailbox.name, mailbox.messages, mailbox.size
                    ),
                );
            }
            *used.entry(mailbox.account).or_default() += size;
        }
        for account in accounts.values() {
            let sum = used.get(&account.id).copied().unwrap_or_default();
            if sum != account.used_bytes {
                report.problem(
                    "quota_usage",
                    format!(
                        "account {} uses {} bytes by its record, {sum} by its messages",
                        account.id.0, account.used_bytes
                    ),
                );
            }
        }
        for entry in self.trees.queue.iter() {
            let (_, value) = entry?;
            report.queue_entries += 1;
            let queued: QueueEntry = decode(&value, "queue entry")?;
            *refs.entry(queued.blob).or_default() += 1;
        }
        for entry in self.trees.refs.iter() {
            let (key, value) = entry?;
            let Ok(digest) = <[u8; 32]>::try_from(key.as_ref()) else {
                report.problem("bad_blob_key", format!("{} bytes", key.len()));
                continue;
            };
            let blob = BlobId(digest);
            let stored = decode_u64(&value, "blob reference count")?;
            let counted = refs.remove(&blob).unwrap_or(0);
            if stored != counted {
                tally.refs.push((blob, counted));
                report.problem(
                    "blob_ref_count",
                    format!(
                        "blob {} counts {stored} references, {counted} exist",
                        blob.to_hex()
                    ),
                );
            }
            if !self.blobs.path(&blob).exists() {
                report.problem(
                    "missing_blob",
                    format!("blob {} is referenced but has no file", blob.to_hex()),
                );
            }
            report.blobs += 1;
        }
        for (blob, counted) in refs {
            tally.refs.push((blob, counted));
            report.problem(
                "blob_ref_count",
                format!(
                    "blob {} has no reference count, {counted} references exist",
                    blob.to_hex()
                ),
            );
        }
        for key in self.recent.iter().keys() {
            let mailbox = MailboxId(decode_u64(&key?, "recent key")?);
            if !mailboxes.contains_key(&mailbox) {
                tally.stale_recent.push(mailbox);
                report.problem(
                    "recent_without_mailbox",
                    format!("claim mark of missing mailbox {}", mailbox.0),
                );
            }
        }
        for key in self.subscriptions.iter().keys() {
            let key = key?;
            let account = AccountId(decode_u64(key.get(..8).unwrap_or_default(), "subscription key")?);
            if !accounts.contains_key(&account) {
                tally.stale_subscriptions.push(key.to_vec());
                report.problem(
                    "subscription_without_account",
                    format!("a name subscribed by missing account {}", account.0),
                );
            }
        }
        report.accounts = accounts.len() as u64;
        report.mailboxes = mailboxes.len() as u64;
        tally.per_mailbox = per_mailbox;
        tally.used = used;
        tally.accounts = accounts;
        tally.mailboxes = mailboxes;
        Ok((report, tally))
    }
}

impl SledStore {
    /// Invariant 7: reports the supervision records that do not decode, and the
    /// acknowledgement records of missing accounts; returns where they are (for
    /// the repair).
    fn check_facts(&self, report: &mut CheckReport) -> Result<Vec<(&sled::Tree, sled::IVec)>> {
        let mut found = Vec::new();
        let (records, bad) = events::undecodable(&self.events)?;
        report.mail_events = records;
        for (key, why) in bad {
            report.problem("undecodable_mail_event", why);
            found.push((&self.events, key));
        }
        let (records, bad) = access::undecodable(&self.access)?;
        report.access_events = records;
        for (key, why) in bad {
            report.problem("undecodable_access_event", why);
            found.push((&self.access, key));
        }
        let (records, bad) = acks::inconsistent(&self.acks, |account| {
            Ok(self.trees.accounts.contains_key(account.0.to_be_bytes())?)
        })?;
        report.acks = records;
        for (key, kind, why) in bad {
            report.problem(kind, why);
            found.push((&self.acks, key));
        }
        Ok(found)
    }

    /// Invariant 6: for each message, the first change log record of its mailbox
    /// at or above its modseq names its UID. Reads one mailbox's log at a time.
    fn check_change_log(
        &self,
        messages: HashMap<(MailboxId, u64), u32>,
        tally: &mut Tally,
        report: &mut CheckReport,
    ) -> Result<()> {
        let mut by_mailbox: HashMap<MailboxId, Vec<(u64, u32)>> = HashMap::new();
        for ((mailbox, modseq), uid) in messages {
            by_mailbox.entry(mailbox).or_default().push((modseq, uid));
        }
        let mut logged: Vec<MailboxId> = Vec::new();
        for key in self.trees.changes.iter().keys() {
            let mailbox = MailboxId(decode_u64(key?.get(..8).unwrap_or_default(), "change log key")?);
            if logged.last() != Some(&mailbox) {
                logged.push(mailbox);
            }
        }
        for mailbox in logged {
            by_mailbox.entry(mailbox).or_default();
        }
        for (mailbox, messages) in by_mailbox {
            let mut log = BTreeMap::new();
            for entry in self.trees.changes.scan_prefix(mailbox.0.to_be_bytes()) {
                let (key, value) = entry?;
                let modseq = decode_u64(key.get(8..).unwrap_or_default(), "change log key")?;
                match decode_uid_ranges(&value) {
                    Ok(uids) => {
                        log.insert(modseq, uids);
                    }
                    Err(err) => {
                        tally.change_log_wrong = true;
                        report.problem(
                            "change_log",
                            format!("mailbox {} MODSEQ {modseq}: {err}", mailbox.0),
                        );
                    }
                }
            }
            for (modseq, uid) in messages {
                let covered = log
                    .range(modseq..)
                    .next()
                    .is_some_and(|(_, uids)| uids.binary_search_by_key(&uid, |u| u.get()).is_ok());
                if !covered {
                    tally.change_log_wrong = true;
                    report.problem(
                        "change_log",
                        format!(
                            "mailbox {} UID {uid} MODSEQ {modseq} is not in the change log record that gave it",
                            mailbox.0
                        ),
                    );
                }
            }
        }
        Ok(())
    }
}
