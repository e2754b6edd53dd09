//! The access log (Art. 10 check report): who logged in, and who opened an agency's
//! INBOX and left it again, when, from where, over which protocol, in which session.
//!
//! | tree           | key                                      | value              |
//! |----------------|------------------------------------------|--------------------|
//! | `store.access` | AccountId BE ‖ Unix seconds (u64 BE) ‖ id | JSON [`AccessEvent`] |
//!
//! Keyed by account then time, so one account's events over a period are one
//! range scan in time order. The id (sled's monotonic id generator) keeps two
//! events of the same second apart. Events are appended, never changed; retention
//! removes the old ones ([`prune`]).
//!
//! ## Check spans (paired by [`rules::pair_spans`], shared with the PostgreSQL store)
//! A **span** is the time a session had the agency INBOX selected (IDLE included:
//! it runs in the selected state): from its `AgencyInboxSelected` to its
//! `AgencyInboxLeft`, paired by [`AccessEvent::session`] so that interleaved
//! sessions never close each other's spans. Invariants of [`spans`]:
//! 1. A selection with no leaving (the server stopped, or recording the leaving
//!    failed) ends at the session's next event or [`OPEN_SPAN_LIMIT`] after it,
//!    whichever first, and is marked `closed: false`. A session still open when
//!    the spans are read shows the same way until it leaves.
//! 2. The events read are those within [`SPAN_SEARCH`] of the period: a leaving
//!    whose selection is further back starts at the search's start, a selection
//!    whose leaving is further on is treated as never left.
//! 3. A selection recorded before sessions were numbered (session 0) is a span of
//!    no length, closed: the old log knew only the moment.

use crate::{AccessEvent, AccessSpan, AccountId, Result, SPAN_SEARCH, StoreError, rules};

use super::events::{remove_picked, unreadable};
use super::tx::{decode, encode};

fn key(account: AccountId, at: i64, id: u64) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..8].copy_from_slice(&account.0.to_be_bytes());
    // Times before 1970 do not occur; clamping keeps the key order monotonic.
    key[8..16].copy_from_slice(&(at.max(0) as u64).to_be_bytes());
    key[16..].copy_from_slice(&id.to_be_bytes());
    key
}

/// The time in a key (0 for a key too short to hold one: the check reports its
/// record, which does not decode either).
fn key_time(key: &[u8]) -> i64 {
    key.get(8..16)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map_or(0, i64::from_be_bytes)
}

pub(super) fn insert(db: &sled::Db, tree: &sled::Tree, event: &AccessEvent) -> Result<()> {
    let id = db.generate_id()?;
    tree.insert(key(event.account, event.at, id), encode(event)?)?;
    Ok(())
}

pub(super) fn range(
    tree: &sled::Tree,
    account: AccountId,
    from: i64,
    until: i64,
) -> Result<Vec<AccessEvent>> {
    if until < from {
        return Ok(Vec::new());
    }
    tree.range(key(account, from, 0)..=key(account, until, u64::MAX))
        .map(|item| decode(&item?.1, "access event"))
        .collect()
}

/// The account's check spans that meet `from..=until` (module docs), by start.
pub(super) fn spans(tree: &sled::Tree, account: AccountId, from: i64, until: i64) -> Result<Vec<AccessSpan>> {
    if until < from {
        return Ok(Vec::new());
    }
    let search_from = from.saturating_sub(SPAN_SEARCH);
    let events = range(tree, account, search_from, until.saturating_add(SPAN_SEARCH))?;
    Ok(rules::pair_spans(&events, from, until))
}

/// Removes the events before `before`, of every account; returns how many went.
/// The log is keyed by account first, so this reads every key once.
pub(super) fn prune(tree: &sled::Tree, before: i64) -> Result<u64> {
    remove_picked(tree, tree.iter(), |key, _| key_time(key) < before)
}

/// The events that do not decode (consistency check), with why.
pub(super) fn undecodable(tree: &sled::Tree) -> Result<(u64, Vec<(sled::IVec, String)>)> {
    unreadable(tree, |key, value| {
        if key.len() != 24 {
            return Err(StoreError::Corrupt(format!(
                "access event key of {} bytes",
                key.len()
            )));
        }
        decode::<AccessEvent>(value, "access event").map(drop)
    })
}
