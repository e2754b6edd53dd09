//! Acknowledgements of receipt (Art. 16.2.a "trả lời đã tiếp nhận"): the messages
//! to agency mailboxes that await one, and who acknowledged them, when.
//!
//! | tree         | key                                         | value             |
//! |--------------|---------------------------------------------|-------------------|
//! | `store.acks` | AccountId BE ‖ MailboxId BE ‖ UID (u32 BE)  | JSON [`PendingAck`] |
//!
//! Keyed by account, so one agency's records are one prefix scan (acknowledging
//! by `Message-ID` reads them; an agency receives a few thousand a year).
//!
//! ## Invariants
//! 1. **The first acknowledgement wins.** An acknowledgement is set by
//!    compare-and-swap on the record as read, so two keepers acknowledging at once
//!    leave one `by` and one `at`, never a mix, and a later acknowledgement never
//!    overwrites it.
//! 2. A record names an existing account: the records go with their account
//!    (`delete_account`); the check reports one whose account is missing, and the
//!    repair removes it.
//! 3. Message-IDs are kept and compared without their angle brackets and the white
//!    space around them (RFC 5322 §3.6.4: `msg-id` is `"<" id-left "@" id-right ">"`),
//!    exactly otherwise.

use crate::rules::{bare_message_id, kept_message_id};
use crate::{AccountId, Acknowledgement, PendingAck, Result, StoreError};

use super::events::remove_picked;
use super::tx::{decode, encode};

/// The tree's name.
pub(super) const ACKS_TREE: &str = "store.acks";

/// How often an acknowledgement reads a record again when another changed it
/// between its read and its write.
const MAX_ATTEMPTS: usize = 64;

fn key(ack: &PendingAck) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..8].copy_from_slice(&ack.account.0.to_be_bytes());
    key[8..16].copy_from_slice(&ack.mailbox.0.to_be_bytes());
    key[16..].copy_from_slice(&ack.uid.get().to_be_bytes());
    key
}

pub(super) fn insert(tree: &sled::Tree, ack: &PendingAck) -> Result<()> {
    let message_id = kept_message_id(&ack.message_id)?;
    let mut ack = ack.clone();
    ack.message_id = message_id.to_owned();
    tree.insert(key(&ack), encode(&ack)?)?;
    Ok(())
}

/// The records of one account, or of all, in key order.
pub(super) fn list(tree: &sled::Tree, account: Option<AccountId>) -> Result<Vec<PendingAck>> {
    let records = match account {
        Some(account) => tree.scan_prefix(account.0.to_be_bytes()),
        None => tree.iter(),
    };
    records
        .map(|item| decode(&item?.1, "acknowledgement record"))
        .collect()
}

/// Sets the acknowledgement of the account's records with this Message-ID that
/// have none (invariant 1); returns the oldest of them as it now stands.
pub(super) fn acknowledge(
    tree: &sled::Tree,
    account: AccountId,
    message_id: &str,
    by: &str,
    at: i64,
) -> Result<Option<PendingAck>> {
    let message_id = bare_message_id(message_id);
    let mut matched: Vec<PendingAck> = Vec::new();
    for item in tree.scan_prefix(account.0.to_be_bytes()) {
        let (key, value) = item?;
        let ack: PendingAck = decode(&value, "acknowledgement record")?;
        if ack.message_id != message_id {
            continue;
        }
        matched.push(acknowledge_one(tree, &key, value, ack, by, at)?);
    }
    Ok(matched.into_iter().min_by_key(|ack| ack.received_at))
}

/// Acknowledges one record unless it already is, by compare-and-swap.
fn acknowledge_one(
    tree: &sled::Tree,
    key: &[u8],
    mut value: sled::IVec,
    mut ack: PendingAck,
    by: &str,
    at: i64,
) -> Result<PendingAck> {
    for _ in 0..MAX_ATTEMPTS {
        if ack.acknowledged.is_some() {
            return Ok(ack);
        }
        let mut acknowledged = ack.clone();
        acknowledged.acknowledged = Some(Acknowledgement {
            by: by.to_owned(),
            at,
        });
        match tree.compare_and_swap(key, Some(&value), Some(encode(&acknowledged)?))? {
            Ok(()) => return Ok(acknowledged),
            Err(conflict) => {
                // Changed meanwhile: another acknowledgement, or a new record for
                // the same message (`record_pending_ack` again), or gone.
                let Some(current) = conflict.current else {
                    return Ok(ack);
                };
                ack = decode(&current, "acknowledgement record")?;
                value = current;
            }
        }
    }
    Err(StoreError::Db(format!(
        "acknowledgement record kept changing during {MAX_ATTEMPTS} attempts"
    )))
}

/// Drops every record of a deleted account (invariant 2).
pub(super) fn forget(tree: &sled::Tree, account: AccountId) -> Result<()> {
    for key in tree.scan_prefix(account.0.to_be_bytes()).keys() {
        tree.remove(key?)?;
    }
    Ok(())
}

/// Removes the records acknowledged before `before`; returns how many went. One
/// that does not decode stays: the check reports it.
pub(super) fn prune(tree: &sled::Tree, before: i64) -> Result<u64> {
    remove_picked(tree, tree.iter(), |_, value| {
        decode::<PendingAck>(value, "acknowledgement record")
            .is_ok_and(|ack| ack.acknowledged.is_some_and(|a| a.at < before))
    })
}

/// A record the check reports: where it is, the problem's kind, and what was found.
pub(super) type Flaw = (sled::IVec, &'static str, String);

/// What the consistency check finds: records that do not decode or whose account
/// is missing (`exists` answers for an account), with why.
pub(super) fn inconsistent(
    tree: &sled::Tree,
    exists: impl Fn(AccountId) -> Result<bool>,
) -> Result<(u64, Vec<Flaw>)> {
    let mut records = 0;
    let mut bad = Vec::new();
    for item in tree.iter() {
        let (key, value) = item?;
        records += 1;
        match decode::<PendingAck>(&value, "acknowledgement record") {
            Err(error) => bad.push((key, "undecodable_ack", error.to_string())),
            Ok(ack) if !exists(ack.account)? => {
                let detail = format!(
                    "acknowledgement record of {} for missing account {}",
                    ack.message_id, ack.account.0
                );
                bad.push((key, "ack_without_account", detail));
            }
            Ok(_) => {}
        }
    }
    Ok((records, bad))
}
