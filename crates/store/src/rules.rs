//! The rules of a mail store that do not depend on its backend: what a STORE does to
//! flags and keywords (RFC 3501 §6.4.6), quotas (RFC 9208), the records a new
//! message starts from. The sled store and the PostgreSQL store apply the same ones.

use crate::blob::Contents;
use crate::notify::{Change, ChangeKind};
use crate::{AccountStorage, BlobId, FlagOp, Flags, MailboxInfo, MessageMeta, Result, StoreError, Uid};

pub fn change(info: &MailboxInfo, kind: ChangeKind) -> Change {
    Change {
        account: info.account,
        mailbox: info.id,
        kind,
        modseq: info.highestmodseq,
    }
}

pub fn message_contents<'a>(parts: &'a [&'a [u8]]) -> Result<Contents<'a>> {
    let contents = Contents::new(parts);
    if contents.is_empty() {
        return Err(StoreError::Invalid("empty message".into()));
    }
    Ok(contents)
}

/// A message record before the transaction gives it a UID and a modseq.
pub fn new_message(blob: BlobId, size: u64, internal_date: i64, internal_date_offset: i32) -> MessageMeta {
    MessageMeta {
        uid: Uid::MIN,
        blob,
        size,
        internal_date,
        internal_date_offset,
        flags: Flags::empty(),
        keywords: Vec::new(),
        modseq: 0,
    }
}

pub fn check_quota(account: &AccountStorage, adding: u64) -> Result<()> {
    if account.used_bytes.saturating_add(adding) > account.quota_bytes {
        return Err(StoreError::OverQuota {
            used: account.used_bytes,
            adding,
            limit: account.quota_bytes,
        });
    }
    Ok(())
}

pub fn sorted_unique(uids: &[Uid]) -> Vec<Uid> {
    let mut uids = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    uids
}

/// Keywords deduplicated case-insensitively (RFC 3501 §2.3.2: flag names are
/// case-insensitive), first spelling kept.
pub fn unique_keywords<'a>(keywords: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for keyword in keywords {
        if !unique.iter().any(|k| k.eq_ignore_ascii_case(keyword)) {
            unique.push(keyword.clone());
        }
    }
    unique
}

pub fn same_keywords(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|k| b.iter().any(|o| o.eq_ignore_ascii_case(k)))
}

/// The flags and keywords a message has after a STORE (RFC 3501 §6.4.6).
pub fn apply_flags(
    op: FlagOp,
    flags: Flags,
    keywords: &[String],
    meta: &MessageMeta,
) -> (Flags, Vec<String>) {
    match op {
        FlagOp::Replace => (flags, keywords.to_vec()),
        FlagOp::Add => (
            meta.flags.union(flags),
            unique_keywords(meta.keywords.iter().chain(keywords)),
        ),
        FlagOp::Remove => (
            meta.flags.difference(flags),
            meta.keywords
                .iter()
                .filter(|k| !keywords.iter().any(|r| r.eq_ignore_ascii_case(k)))
                .cloned()
                .collect(),
        ),
    }
}
