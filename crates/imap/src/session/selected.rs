//! The selected mailbox as this session has announced it to the client.
//!
//! Message sequence numbers exist only in this snapshot: entry `i` is message
//! `i + 1`. The snapshot changes only in [`Selected::sync`], which writes the untagged
//! responses that tell the client (EXPUNGE, EXISTS, RECENT, FETCH FLAGS, FLAGS), so
//! the client's view and the snapshot never disagree. Expunges are held back where
//! RFC 3501 §7.4.1 forbids them (during FETCH, STORE, SEARCH): the vanished messages
//! stay in the snapshot until a command that may announce them.
//!
//! The snapshot follows the store change by change: [`Selected::sync`] asks for what
//! changed since the modseq it reflects (`MailStore::changed_since`), so taking in
//! one new message costs the same in a mailbox of ten messages or of 20,000.
//!
//! `\Recent` (RFC 3501 §2.3.2, [`Recent`]) is claimed from the store
//! (`MailStore::claim_recent`) by a read-write SELECT when it loads the snapshot
//! and whenever [`Selected::sync`] takes in new messages: the store hands each UID
//! to one claim only, so a message is recent in exactly one session. A read-only
//! selection (EXAMINE, or a SELECT the rights make read-only) shows no message as
//! recent: it may not claim (§6.3.2 EXAMINE "MUST NOT cause messages to lose the
//! \Recent flag"), and showing what no one claimed yet would show it twice once a
//! read-write session claims it, where §2.3.2 allows "exactly one session". STATUS
//! RECENT still counts what no one claimed. An IMAP4rev2 session has no `\Recent`
//! (RFC 9051).

use congvu_directory::Rights;
use congvu_store::{AccountId, Flags, MailStore, MailboxId, MailboxInfo, MessageMeta, StoreError, Uid};

use crate::codec::response::write_flags;
use crate::codec::sequence::{Ranges, SequenceSet};

use super::Enabled;

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub meta: MessageMeta,
    /// `\Recent` for this session (see the module docs): claimed by this session,
    /// which is read-write.
    pub recent: bool,
}

pub(crate) struct Selected {
    pub id: MailboxId,
    /// The account the mailbox belongs to: the user's, or a delegated agency's.
    pub owner: AccountId,
    pub read_only: bool,
    /// How this selection takes part in `\Recent`.
    recent_mode: Recent,
    /// The session's RFC 4314 rights on the mailbox, as of SELECT.
    pub rights: Rights,
    pub messages: Vec<Entry>,
    /// Keywords announced in the last FLAGS response.
    pub keywords: Vec<String>,
    /// HIGHESTMODSEQ the snapshot reflects; a cheap test for "anything changed".
    synced_modseq: u64,
    /// UIDs of the snapshot known to be gone but not yet announced, ascending.
    pending_expunge: Vec<Uid>,
    /// UIDs kept by `SEARCH RETURN (SAVE)`, ascending (RFC 5182 §2.1); empty on
    /// SELECT, gone with the selection.
    pub saved: Vec<u32>,
}

/// Why a sequence set cannot be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidSequence;

impl Selected {
    /// Reads the mailbox, with the `\Recent` of its messages for this session.
    pub fn load(
        store: &dyn MailStore,
        info: &MailboxInfo,
        read_only: bool,
        recent_mode: Recent,
        rights: Rights,
    ) -> congvu_store::Result<Selected> {
        let mut messages: Vec<Entry> = store
            .messages(info.id)?
            .into_iter()
            .map(|meta| Entry { meta, recent: false })
            .collect();
        recent_mode.mark(store, info.id, &mut messages)?;
        let mut selected = Selected {
            id: info.id,
            owner: info.account,
            read_only,
            recent_mode,
            rights,
            messages,
            keywords: Vec::new(),
            synced_modseq: info.highestmodseq,
            pending_expunge: Vec::new(),
            saved: Vec::new(),
        };
        selected.keywords = selected.collect_keywords();
        Ok(selected)
    }

    fn collect_keywords(&self) -> Vec<String> {
        let mut keywords: Vec<String> = Vec::new();
        for entry in &self.messages {
            for k in &entry.meta.keywords {
                if !keywords.iter().any(|have| have.eq_ignore_ascii_case(k)) {
                    keywords.push(k.clone());
                }
            }
        }
        keywords
    }

    pub fn exists(&self) -> u32 {
        self.messages.len() as u32
    }

    pub fn recent(&self) -> u32 {
        self.messages.iter().filter(|e| e.recent).count() as u32
    }

    pub fn max_uid(&self) -> u32 {
        self.messages.last().map_or(0, |e| e.meta.uid.get())
    }

    /// Indices of the messages a set names. A sequence number beyond the mailbox is
    /// an error; UIDs that do not exist are simply not matched (RFC 3501 §6.4.8).
    pub fn resolve(&self, set: &SequenceSet, uid: bool) -> Result<Vec<usize>, InvalidSequence> {
        // An empty saved result (`$`, RFC 5182 §2.1) names no message, even in an
        // empty mailbox.
        if set.is_empty() {
            return Ok(Vec::new());
        }
        if uid {
            let ranges = set.resolve(self.max_uid());
            return Ok(self
                .messages
                .iter()
                .enumerate()
                .filter(|(_, e)| ranges.contains(e.meta.uid.get()))
                .map(|(i, _)| i)
                .collect());
        }
        let exists = self.exists();
        if exists == 0 || set.max_value() > exists {
            return Err(InvalidSequence);
        }
        let ranges = set.resolve(exists);
        Ok((0..self.messages.len())
            .filter(|i| ranges.contains(*i as u32 + 1))
            .collect())
    }

    /// The saved search result as UIDs, or as the sequence numbers the messages
    /// have now; expunged messages are no longer in it (RFC 5182 §2.1).
    pub fn saved_set(&self, uid: bool) -> SequenceSet {
        let present = self
            .saved
            .iter()
            .filter_map(|u| Uid::new(*u).and_then(|u| self.index_of(u)));
        if uid {
            SequenceSet::from_sorted(present.map(|i| self.messages[i].meta.uid.get()))
        } else {
            SequenceSet::from_sorted(present.map(|i| i as u32 + 1))
        }
    }

    pub fn uids(&self, indices: &[usize]) -> Vec<Uid> {
        indices
            .iter()
            .filter_map(|i| self.messages.get(*i))
            .map(|e| e.meta.uid)
            .collect()
    }

    pub fn index_of(&self, uid: Uid) -> Option<usize> {
        self.messages.binary_search_by_key(&uid, |e| e.meta.uid).ok()
    }

    /// Takes in flag changes this session made itself (STORE, FETCH setting \Seen),
    /// so the next sync does not announce them again. Writes a FLAGS response when
    /// a keyword appears that the client has not been told about.
    pub fn apply_changes(&mut self, changed: &[MessageMeta], out: &mut Vec<u8>) {
        for meta in changed {
            if let Some(i) = self.index_of(meta.uid) {
                self.messages[i].meta = meta.clone();
            }
        }
        // When this session's own write took every modseq right above the
        // snapshot's, nothing else changed in between: the snapshot is current up
        // to them, and the next sync need not read them back (a `STORE 1:*` on
        // 20,000 messages would read 20,000 records for nothing).
        let mut modseqs: Vec<u64> = changed.iter().map(|meta| meta.modseq).collect();
        modseqs.sort_unstable();
        let contiguous = modseqs.windows(2).all(|pair| pair[1] == pair[0] + 1);
        if let (Some(first), Some(last), true) = (modseqs.first(), modseqs.last(), contiguous)
            && *first == self.synced_modseq + 1
        {
            self.synced_modseq = *last;
        }
        self.announce_keywords(out);
    }

    fn announce_keywords(&mut self, out: &mut Vec<u8>) {
        let keywords = self.collect_keywords();
        let new = keywords
            .iter()
            .any(|k| !self.keywords.iter().any(|have| have.eq_ignore_ascii_case(k)));
        if new {
            self.keywords = keywords;
            self.write_flags_response(out);
        }
    }

    /// `* FLAGS (…)`: the flags defined in this mailbox (RFC 3501 §7.2.6).
    pub fn write_flags_response(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"* FLAGS ");
        let system = Flags::ALL
            .iter()
            .fold(Flags::empty(), |all, (f, _)| all.union(*f));
        write_flags(out, system, &self.keywords, false);
        out.extend_from_slice(b"\r\n");
    }

    /// `* n FETCH (FLAGS (…) UID u [MODSEQ (m)])` for the message at `index`; with
    /// CONDSTORE on, every such FETCH carries the modseq (RFC 7162 §3.1.4.1).
    pub fn write_flags_fetch(&self, index: usize, condstore: bool, out: &mut Vec<u8>) {
        let Some(entry) = self.messages.get(index) else {
            return;
        };
        out.extend_from_slice(format!("* {} FETCH (FLAGS ", index + 1).as_bytes());
        write_flags(out, entry.meta.flags, &entry.meta.keywords, entry.recent);
        out.extend_from_slice(format!(" UID {}", entry.meta.uid).as_bytes());
        if condstore {
            out.extend_from_slice(format!(" MODSEQ ({})", entry.meta.modseq).as_bytes());
        }
        out.extend_from_slice(b")\r\n");
    }

    /// The HIGHESTMODSEQ this snapshot reflects.
    pub fn modseq(&self) -> u64 {
        self.synced_modseq
    }

    /// Brings the snapshot up to date with the store and writes the untagged
    /// responses announcing the difference. `allow_expunge` is false while
    /// answering FETCH, STORE or SEARCH (RFC 3501 §7.4.1). Reads only what changed
    /// since the snapshot's modseq (`MailStore::changed_since`), never the whole
    /// mailbox.
    pub fn sync(
        &mut self,
        store: &dyn MailStore,
        allow_expunge: bool,
        enabled: Enabled,
        out: &mut Vec<u8>,
    ) -> congvu_store::Result<()> {
        let changes = match store.changed_since(self.id, self.synced_modseq) {
            Ok(changes) => changes,
            Err(StoreError::NotFound(_)) => {
                // Deleted (or renamed away and recreated) elsewhere: every message is gone.
                self.pending_expunge = self.messages.iter().map(|e| e.meta.uid).collect();
                if allow_expunge {
                    self.announce_expunges(enabled.qresync, out);
                }
                return Ok(());
            }
            Err(err) => return Err(err),
        };
        // Expunged elsewhere: held back until a command that may announce them.
        let gone: Vec<Uid> = changes
            .expunged
            .into_iter()
            .filter(|uid| self.index_of(*uid).is_some())
            .collect();
        self.pending_expunge.extend(gone);
        self.pending_expunge.sort_unstable();
        self.pending_expunge.dedup();
        if allow_expunge {
            self.announce_expunges(enabled.qresync, out);
        }
        // Flag changes made elsewhere, and new messages: UIDs only grow, so they
        // are the ones above our last.
        let last = self.max_uid();
        let before = self.messages.len();
        let mut flagged = Vec::new();
        for meta in changes.changed {
            match self.index_of(meta.uid) {
                Some(i) => {
                    let entry = &mut self.messages[i];
                    if meta.modseq != entry.meta.modseq {
                        let flags_differ =
                            meta.flags != entry.meta.flags || meta.keywords != entry.meta.keywords;
                        entry.meta = meta;
                        if flags_differ {
                            flagged.push(entry.meta.uid);
                        }
                    }
                }
                None if meta.uid.get() > last => self.messages.push(Entry { meta, recent: false }),
                // Below our last and not ours: gone before this session saw it.
                None => {}
            }
        }
        // RFC 3501 §2.3.2: the session that announces a new message first is the
        // one it is recent in — unless another claimed it already.
        if let Some(new) = self.messages.get_mut(before..) {
            self.recent_mode.mark(store, self.id, new)?;
        }
        self.announce_keywords(out);
        for uid in flagged {
            if let Some(i) = self.index_of(uid) {
                self.write_flags_fetch(i, enabled.condstore, out);
            }
        }
        if self.messages.len() != before {
            out.extend_from_slice(format!("* {} EXISTS\r\n", self.exists()).as_bytes());
            // RFC 9051 Appendix E: no RECENT response.
            if !enabled.rev2 {
                out.extend_from_slice(format!("* {} RECENT\r\n", self.recent()).as_bytes());
            }
        }
        self.synced_modseq = changes.mailbox.highestmodseq;
        Ok(())
    }

    /// Removes the messages known to be gone ([`Selected::pending_expunge`]),
    /// announcing each with its sequence number at the moment it goes: highest
    /// first, so the numbers of the ones still to go do not shift. With QRESYNC on,
    /// one `VANISHED` with the UID set replaces the EXPUNGEs (RFC 7162 §3.2.10).
    fn announce_expunges(&mut self, qresync: bool, out: &mut Vec<u8>) {
        let gone = std::mem::take(&mut self.pending_expunge);
        if gone.is_empty() {
            return;
        }
        let mut vanished = Vec::new();
        for i in (0..self.messages.len()).rev() {
            let uid = self.messages[i].meta.uid;
            if gone.binary_search(&uid).is_ok() {
                self.messages.remove(i);
                if qresync {
                    vanished.push(uid.get());
                } else {
                    out.extend_from_slice(format!("* {} EXPUNGE\r\n", i + 1).as_bytes());
                }
            }
        }
        if !vanished.is_empty() {
            vanished.reverse();
            out.extend_from_slice(format!("* VANISHED {}\r\n", Ranges::from_sorted(vanished)).as_bytes());
        }
    }
}

/// How a selection takes part in `\Recent` (RFC 3501 §2.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recent {
    /// A read-write SELECT: claims what no session has claimed.
    Claim,
    /// A read-only selection (§6.3.2: it must not claim, and may not show what
    /// another session can claim), or IMAP4rev2 (RFC 9051 Appendix E): no
    /// `\Recent` at all.
    None,
}

impl Recent {
    /// Marks the messages of `messages` (ascending by UID, new to this session)
    /// that are recent here.
    fn mark(
        self,
        store: &dyn MailStore,
        mailbox: MailboxId,
        messages: &mut [Entry],
    ) -> congvu_store::Result<()> {
        let Some(last) = messages.last().map(|e| e.meta.uid.get()) else {
            return Ok(());
        };
        let first = match self {
            Recent::Claim => store.claim_recent(mailbox, last.saturating_add(1))?,
            Recent::None => return Ok(()),
        };
        for entry in messages.iter_mut().rev() {
            if entry.meta.uid.get() < first {
                break;
            }
            entry.recent = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use congvu_store::{AccountKind, Append, QuotaRule, SledStore};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn append(store: &SledStore, mailbox: MailboxId, n: usize) {
        let bytes = format!("Subject: {n}\r\n\r\nbody {n}\r\n");
        store
            .append(
                mailbox,
                &Append {
                    bytes: bytes.as_bytes(),
                    flags: Flags::empty(),
                    keywords: &[],
                    internal_date: 1_700_000_000,
                    internal_date_offset: 0,
                    quota: QuotaRule::Enforce,
                },
            )
            .unwrap();
    }

    /// The time a session takes to take in one new message in a mailbox of
    /// `CONGVU_SYNC_MESSAGES` (20,000), median of 21 (issue 13; figures in
    /// docs/benchmarks.md). `cargo test -p congvu-imap sync_after_one_new_message
    /// -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement: fills a 20,000-message mailbox"]
    fn sync_after_one_new_message() {
        let messages: usize = std::env::var("CONGVU_SYNC_MESSAGES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(20_000);
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(dir.path()).unwrap());
        let account = store.create_account(AccountKind::Personal, 1 << 40).unwrap();
        let inbox = store.mailbox_by_name(account, "INBOX").unwrap().unwrap().id;
        // Eight writers share each group commit.
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for n in (w..messages).step_by(8) {
                        append(&store, inbox, n);
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let info = store.mailbox(inbox).unwrap().unwrap();
        let mut selected = Selected::load(store.as_ref(), &info, false, Recent::Claim, Rights::ALL).unwrap();
        let enabled = Enabled::default();
        let mut times: Vec<Duration> = (0..21)
            .map(|n| {
                append(&store, inbox, messages + n);
                let mut out = Vec::new();
                let start = Instant::now();
                selected.sync(store.as_ref(), true, enabled, &mut out).unwrap();
                let took = start.elapsed();
                assert!(String::from_utf8_lossy(&out).contains(" EXISTS"), "{out:?}");
                took
            })
            .collect();
        times.sort_unstable();
        println!(
            "sync after one new message in {messages}: median {:?} (min {:?}, max {:?})",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
        assert_eq!(selected.exists() as usize, messages + 21);
    }

    /// A session's own flag change advances its snapshot without a read back only
    /// when nothing else took a modseq in between: another session's change that
    /// came first is still announced at the next sync.
    #[test]
    fn own_changes_skip_the_read_back_but_never_hide_another_sessions() {
        use congvu_store::{FlagOp, FlagStore};
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let account = store.create_account(AccountKind::Personal, 1 << 30).unwrap();
        let inbox = store.mailbox_by_name(account, "INBOX").unwrap().unwrap().id;
        for n in 0..3 {
            append(&store, inbox, n);
        }
        let info = store.mailbox(inbox).unwrap().unwrap();
        let mut selected = Selected::load(&store, &info, false, Recent::Claim, Rights::ALL).unwrap();
        let flag = |uid: u32, flags: Flags| {
            let uids = [Uid::new(uid).unwrap()];
            store
                .store_flags(
                    inbox,
                    &FlagStore {
                        uids: &uids,
                        op: FlagOp::Add,
                        flags,
                        keywords: &[],
                        unchanged_since: None,
                    },
                )
                .unwrap()
                .changed
        };
        let mut out = Vec::new();
        // Ours alone: the snapshot moves to its modseq, nothing to announce.
        let ours = flag(1, Flags::SEEN);
        selected.apply_changes(&ours, &mut out);
        assert_eq!(selected.modseq(), ours[0].modseq);
        selected.sync(&store, true, Enabled::default(), &mut out).unwrap();
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
        // Another session's change first, then ours: the snapshot stays, and the
        // sync announces the other one.
        let before = selected.modseq();
        flag(2, Flags::FLAGGED);
        let ours = flag(3, Flags::SEEN);
        selected.apply_changes(&ours, &mut out);
        assert_eq!(selected.modseq(), before);
        selected.sync(&store, true, Enabled::default(), &mut out).unwrap();
        let said = String::from_utf8_lossy(&out);
        assert!(said.contains("* 2 FETCH (FLAGS (\\Flagged \\Recent)"), "{said}");
        assert!(!said.contains("* 3 FETCH"), "{said}");
    }
}
