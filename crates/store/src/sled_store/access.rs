//! The access log (Art. 10 check report): who logged in, and who opened an agency's
//! INBOX, when, from where, over which protocol.
//!
//! | tree           | key                                      | value              |
//! |----------------|------------------------------------------|--------------------|
//! | `store.access` | AccountId BE ‖ Unix seconds (u64 BE) ‖ id | JSON [`AccessEvent`] |
//!
//! Keyed by account then time, so one account's events over a period are one
//! range scan in time order. The id (sled's monotonic id generator) keeps two
//! events of the same second apart. Events are appended, never changed.

use crate::{AccessEvent, AccountId, Result};

use super::tx::{decode, encode};

fn key(account: AccountId, at: i64, id: u64) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..8].copy_from_slice(&account.0.to_be_bytes());
    // Times before 1970 do not occur; clamping keeps the key order monotonic.
    key[8..16].copy_from_slice(&(at.max(0) as u64).to_be_bytes());
    key[16..].copy_from_slice(&id.to_be_bytes());
    key
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
