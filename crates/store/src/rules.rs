//! The rules of a mail store that do not depend on its backend: what a STORE does to
//! flags and keywords (RFC 3501 §6.4.6), quotas (RFC 9208), the records a new
//! message starts from. The sled store and the PostgreSQL store apply the same ones.

use std::collections::BTreeMap;

use crate::blob::Contents;
use crate::notify::{Change, ChangeKind};
use crate::{
    AccessEvent, AccessKind, AccessSpan, EventRecord, MAX_RULE_LEN, MailEventKind, OPEN_SPAN_LIMIT, Outbound,
    QueueEntry, QueueUpdate, SPAN_SEARCH,
};
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

/// What a STORE did to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagChange {
    /// Modified after `unchanged_since` (RFC 7162 §3.2): left alone, reported failed.
    Failed,
    /// Its flags and keywords already were what the STORE asks.
    Unchanged,
    /// Changed: `meta` holds its new flags, keywords and MODSEQ, and `info` the
    /// mailbox's new unseen count and HIGHESTMODSEQ; the caller writes both.
    Changed,
}

/// Applies a STORE to one message of a locked mailbox (`keywords`: the request's,
/// made unique once by the caller).
pub fn store_on_message(
    request: &crate::FlagStore<'_>,
    keywords: &[String],
    info: &mut MailboxInfo,
    meta: &mut MessageMeta,
) -> FlagChange {
    // RFC 7162 §3.2: UNCHANGEDSINCE fails messages modified after it.
    if request.unchanged_since.is_some_and(|since| meta.modseq > since) {
        return FlagChange::Failed;
    }
    let (flags, new_keywords) = apply_flags(request.op, request.flags, keywords, meta);
    if flags == meta.flags && same_keywords(&new_keywords, &meta.keywords) {
        return FlagChange::Unchanged;
    }
    match (meta.flags.contains(Flags::SEEN), flags.contains(Flags::SEEN)) {
        (false, true) => info.unseen = info.unseen.saturating_sub(1),
        (true, false) => info.unseen += 1,
        _ => {}
    }
    info.highestmodseq += 1;
    meta.flags = flags;
    meta.keywords = new_keywords;
    meta.modseq = info.highestmodseq;
    FlagChange::Changed
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

/// The check spans (Art. 10) that meet `from..=until`, by start, from one account's
/// access events over the search window around it (`from - SPAN_SEARCH ..=
/// until + SPAN_SEARCH`, in time order). The invariants are those of
/// `sled_store::access`.
pub fn pair_spans(events: &[AccessEvent], from: i64, until: i64) -> Vec<AccessSpan> {
    let search_from = from.saturating_sub(SPAN_SEARCH);
    let mut sessions: BTreeMap<u64, Vec<&AccessEvent>> = BTreeMap::new();
    for event in events {
        sessions.entry(event.session).or_default().push(event);
    }
    let mut spans = Vec::new();
    for (session, events) in sessions {
        if session == 0 {
            // Invariant 3.
            spans.extend(
                events
                    .iter()
                    .filter(|e| e.kind == AccessKind::AgencyInboxSelected)
                    .map(|e| span(e, e.at, e.at, true)),
            );
            continue;
        }
        let mut open: Option<&AccessEvent> = None;
        for (n, event) in events.iter().enumerate() {
            if let Some(selected) = open.take() {
                spans.push(match event.kind {
                    AccessKind::AgencyInboxLeft => span(selected, selected.at, event.at, true),
                    // Invariant 1: the leaving was not recorded.
                    _ => span(selected, selected.at, event.at.min(limit(selected)), false),
                });
            } else if event.kind == AccessKind::AgencyInboxLeft && n == 0 {
                // Invariant 2: selected before the search began.
                spans.push(span(event, search_from, event.at, true));
            }
            if event.kind == AccessKind::AgencyInboxSelected {
                open = Some(event);
            }
        }
        if let Some(selected) = open {
            spans.push(span(selected, selected.at, limit(selected), false));
        }
    }
    spans.retain(|s| s.until >= from && s.from <= until);
    spans.sort_by_key(|s| (s.from, s.until, s.session));
    spans
}

/// Where a selection never left ends at the latest (invariant 1).
fn limit(selected: &AccessEvent) -> i64 {
    selected.at.saturating_add(OPEN_SPAN_LIMIT)
}

/// A span of the session, login and protocol of `event`.
fn span(event: &AccessEvent, from: i64, until: i64, closed: bool) -> AccessSpan {
    AccessSpan {
        account: event.account,
        login: event.login.clone(),
        from,
        until,
        protocol: event.protocol.clone(),
        session: event.session,
        closed,
    }
}

/// Refuses a mail event that cannot be recorded: a refusal rule that is empty or
/// longer than [`MAX_RULE_LEN`] bytes.
pub fn validate_event(event: &EventRecord) -> Result<()> {
    if let MailEventKind::Refused { rule } = &event.kind
        && (rule.is_empty() || rule.len() > MAX_RULE_LEN)
    {
        return Err(StoreError::Invalid(format!(
            "a refusal rule has 1 to {MAX_RULE_LEN} bytes, not {}",
            rule.len()
        )));
    }
    Ok(())
}

/// The longest Message-ID kept, in bytes (RFC 5322 §2.1.1: a line is at most 998
/// characters).
pub const MAX_MESSAGE_ID_LEN: usize = 998;

/// A Message-ID as acknowledgement records keep it: without its angle brackets and
/// the white space around them (RFC 5322 §3.6.4), exactly otherwise.
pub fn bare_message_id(message_id: &str) -> &str {
    let trimmed = message_id.trim();
    trimmed
        .strip_prefix('<')
        .and_then(|id| id.strip_suffix('>'))
        .unwrap_or(trimmed)
        .trim()
}

/// The Message-ID an acknowledgement record keeps, or `Invalid` for one that is
/// empty or longer than [`MAX_MESSAGE_ID_LEN`].
pub fn kept_message_id(message_id: &str) -> Result<&str> {
    let message_id = bare_message_id(message_id);
    if message_id.is_empty() || message_id.len() > MAX_MESSAGE_ID_LEN {
        return Err(StoreError::Invalid(format!(
            "a Message-ID has 1 to {MAX_MESSAGE_ID_LEN} bytes, not {}",
            message_id.len()
        )));
    }
    Ok(message_id)
}

/// Refuses an outbound message with no recipient, or whose DSN parameters name an
/// address that is not one of its recipients.
pub fn check_outbound(message: &Outbound<'_>) -> Result<()> {
    if message.recipients.is_empty() {
        return Err(StoreError::Invalid("queued message has no recipient".into()));
    }
    if let Some(stranger) = message
        .dsn
        .recipients
        .iter()
        .find(|r| !message.recipients.contains(&r.address))
    {
        return Err(StoreError::Invalid(format!(
            "DSN parameters for {}, who is not a recipient of the message",
            stranger.address
        )));
    }
    Ok(())
}

/// A new queue entry for `message`, queued at `now`.
pub fn queue_entry(
    id: crate::QueueId,
    message: &Outbound<'_>,
    blob: BlobId,
    size: u64,
    now: i64,
) -> QueueEntry {
    QueueEntry {
        id,
        blob,
        size,
        sender: message.sender.to_owned(),
        recipients: message.recipients.to_vec(),
        submitted_by: message.submitted_by,
        queued_at: now,
        next_attempt: now,
        attempts: 0,
        last_error: None,
        delay_notified: false,
        dsn: message.dsn.clone(),
    }
}

/// Refuses an update that keeps no recipient (a finished entry is removed instead).
pub fn check_queue_update(update: &QueueUpdate<'_>) -> Result<()> {
    if update.recipients.is_empty() {
        return Err(StoreError::Invalid(
            "a queue entry keeps at least one recipient; remove it instead".into(),
        ));
    }
    Ok(())
}

/// Records an attempt in `entry`; `Invalid` when the update names a recipient the
/// entry does not hold. The DSN parameters of the recipients that leave go with them.
pub fn apply_queue_update(entry: &mut QueueEntry, update: &QueueUpdate<'_>) -> Result<()> {
    if let Some(stranger) = update.recipients.iter().find(|r| !entry.recipients.contains(r)) {
        return Err(StoreError::Invalid(format!(
            "queue entry {} has no recipient {stranger}",
            entry.id.0
        )));
    }
    entry.next_attempt = update.next_attempt;
    entry.attempts = update.attempts;
    entry.last_error = update.last_error.map(str::to_owned);
    entry.recipients = update.recipients.to_vec();
    entry
        .dsn
        .recipients
        .retain(|r| update.recipients.contains(&r.address));
    entry.delay_notified = update.delay_notified;
    Ok(())
}
