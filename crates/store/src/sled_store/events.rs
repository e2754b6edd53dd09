//! The mail events (issue 14; Art. 12.6 yearly report, Art. 15.4 statistics on
//! request): one durable fact per delivery, submission, refusal, bounce and login,
//! from which any report can be computed again for any past period.
//!
//! | tree           | key                                   | value                                  |
//! |----------------|---------------------------------------|----------------------------------------|
//! | `store.events` | Unix seconds (u64 BE) ‖ id (u64 BE)   | AccountId (u64 BE) ‖ tag (u8) ‖ detail |
//!
//! Keyed by time across accounts, so a period of the whole province is one range
//! scan in time order; the id (sled's monotonic id generator) keeps the events of
//! one second apart, in recording order.
//!
//! The value is a fixed binary layout, not JSON like the other records: the
//! yearly report reads a million of them. JSON (`{"at":…,"account":…,"type":
//! "delivered","origin":"internet"}`) is about 60 bytes an event; this is 10 bytes
//! (a refusal: 9 plus its rule), and the time is only in the key.
//!
//! | tag | kind        | detail                                                    |
//! |-----|-------------|-----------------------------------------------------------|
//! | 1   | `delivered` | origin: 0 internal, 1 agency relay, 2 Internet            |
//! | 2   | `submitted` | destination: 0 internal, 1 other agency, 2 Internet       |
//! | 3   | `refused`   | the rule or reply code, UTF-8, 1–[`MAX_RULE_LEN`] bytes   |
//! | 4   | `bounced`   | none                                                      |
//! | 5   | `login`     | none                                                      |
//!
//! ## Invariants
//! 1. A batch is one sled batch (all of it or none), durable through the group
//!    commit before [`crate::MailStore::record_events`] returns.
//! 2. Tags and codes are never renumbered: a new kind takes a new tag. A record
//!    that does not decode is reported by the consistency check and dropped by the
//!    repair; reading a period that holds one fails rather than miscount.
//! 3. Times before 1970 do not occur; they are kept as 0 so the key order stays the
//!    time order.

use crate::{AccountId, Destination, EventRecord, MAX_RULE_LEN, MailEventKind, Origin, Result, StoreError};

/// The tree's name.
pub(super) const EVENTS_TREE: &str = "store.events";

/// Removals per sled batch when pruning (bounds the batch's memory).
const PRUNE_BATCH: usize = 10_000;

const DELIVERED: u8 = 1;
const SUBMITTED: u8 = 2;
const REFUSED: u8 = 3;
const BOUNCED: u8 = 4;
const LOGIN: u8 = 5;

/// The key of an event at `at` (clamped to 1970, invariant 3) with id `id`.
pub(super) fn time_key(at: i64, id: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&at.max(0).to_be_bytes());
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

pub(super) fn encode_value(event: &EventRecord) -> Vec<u8> {
    let mut value = Vec::with_capacity(10);
    value.extend_from_slice(&event.account.0.to_be_bytes());
    match &event.kind {
        MailEventKind::Delivered { origin } => {
            value.push(DELIVERED);
            value.push(match origin {
                Origin::Internal => 0,
                Origin::AgencyRelay => 1,
                Origin::Internet => 2,
            });
        }
        MailEventKind::Submitted { destination } => {
            value.push(SUBMITTED);
            value.push(match destination {
                Destination::Internal => 0,
                Destination::OtherAgency => 1,
                Destination::Internet => 2,
            });
        }
        MailEventKind::Refused { rule } => {
            value.push(REFUSED);
            value.extend_from_slice(rule.as_bytes());
        }
        MailEventKind::Bounced => value.push(BOUNCED),
        MailEventKind::Login => value.push(LOGIN),
    }
    value
}

/// The event a record holds.
pub(super) fn decode(key: &[u8], value: &[u8]) -> Result<EventRecord> {
    let corrupt = |why: &str| StoreError::Corrupt(format!("mail event: {why}"));
    let at = key
        .get(..8)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(i64::from_be_bytes)
        .ok_or_else(|| corrupt("key shorter than 8 bytes"))?;
    let account = value
        .get(..8)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(|bytes| AccountId(u64::from_be_bytes(bytes)))
        .ok_or_else(|| corrupt("value shorter than 9 bytes"))?;
    let (tag, detail) = value
        .get(8..)
        .and_then(<[u8]>::split_first)
        .ok_or_else(|| corrupt("value shorter than 9 bytes"))?;
    let kind = match (*tag, detail) {
        (DELIVERED, [code]) => MailEventKind::Delivered {
            origin: match code {
                0 => Origin::Internal,
                1 => Origin::AgencyRelay,
                2 => Origin::Internet,
                _ => return Err(corrupt(&format!("origin {code}"))),
            },
        },
        (SUBMITTED, [code]) => MailEventKind::Submitted {
            destination: match code {
                0 => Destination::Internal,
                1 => Destination::OtherAgency,
                2 => Destination::Internet,
                _ => return Err(corrupt(&format!("destination {code}"))),
            },
        },
        (REFUSED, rule) if !rule.is_empty() && rule.len() <= MAX_RULE_LEN => MailEventKind::Refused {
            rule: String::from_utf8(rule.to_vec()).map_err(|_| corrupt("rule is not UTF-8"))?,
        },
        (BOUNCED, []) => MailEventKind::Bounced,
        (LOGIN, []) => MailEventKind::Login,
        (tag, detail) => {
            return Err(corrupt(&format!(
                "tag {tag} with {} bytes of detail",
                detail.len()
            )));
        }
    };
    Ok(EventRecord { at, account, kind })
}

/// Appends the events as one batch (not yet flushed: the caller waits for the
/// group commit).
pub(super) fn insert(db: &sled::Db, tree: &sled::Tree, events: &[EventRecord]) -> Result<()> {
    for event in events {
        crate::rules::validate_event(event)?;
    }
    let mut batch = sled::Batch::default();
    for event in events {
        batch.insert(&time_key(event.at, db.generate_id()?), encode_value(event));
    }
    tree.apply_batch(batch)?;
    Ok(())
}

/// Every event with `from <= at <= until`, in time order.
pub(super) fn range(tree: &sled::Tree, from: i64, until: i64) -> Result<Vec<EventRecord>> {
    if until < from || until < 0 {
        return Ok(Vec::new());
    }
    tree.range(time_key(from, 0)..=time_key(until, u64::MAX))
        .map(|item| {
            let (key, value) = item?;
            decode(&key, &value)
        })
        .collect()
}

/// Removes the events before `before`; returns how many went.
pub(super) fn prune(tree: &sled::Tree, before: i64) -> Result<u64> {
    remove_picked(tree, tree.range(..time_key(before, 0)), |_, _| true)
}

/// Removes the records of `records` (of `tree`) that `pick` picks, in batches of
/// [`PRUNE_BATCH`]; returns how many went.
pub(super) fn remove_picked(
    tree: &sled::Tree,
    records: sled::Iter,
    mut pick: impl FnMut(&[u8], &[u8]) -> bool,
) -> Result<u64> {
    let mut removed = 0;
    let mut batch = sled::Batch::default();
    let mut pending = 0;
    for item in records {
        let (key, value) = item?;
        if pick(&key, &value) {
            batch.remove(key);
            pending += 1;
            if pending == PRUNE_BATCH {
                tree.apply_batch(std::mem::take(&mut batch))?;
                removed += pending as u64;
                pending = 0;
            }
        }
    }
    tree.apply_batch(batch)?;
    Ok(removed + pending as u64)
}

/// The records of `tree` that `read` cannot read (consistency check), with why;
/// and how many records there are.
pub(super) fn unreadable(
    tree: &sled::Tree,
    read: impl Fn(&[u8], &[u8]) -> Result<()>,
) -> Result<(u64, Vec<(sled::IVec, String)>)> {
    let mut records = 0;
    let mut bad = Vec::new();
    for item in tree.iter() {
        let (key, value) = item?;
        records += 1;
        if let Err(error) = read(&key, &value) {
            bad.push((key, error.to_string()));
        }
    }
    Ok((records, bad))
}

/// The events that do not decode (consistency check), with why.
pub(super) fn undecodable(tree: &sled::Tree) -> Result<(u64, Vec<(sled::IVec, String)>)> {
    unreadable(tree, |key, value| decode(key, value).map(drop))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<MailEventKind> {
        vec![
            MailEventKind::Delivered {
                origin: Origin::Internal,
            },
            MailEventKind::Delivered {
                origin: Origin::AgencyRelay,
            },
            MailEventKind::Delivered {
                origin: Origin::Internet,
            },
            MailEventKind::Submitted {
                destination: Destination::Internal,
            },
            MailEventKind::Submitted {
                destination: Destination::OtherAgency,
            },
            MailEventKind::Submitted {
                destination: Destination::Internet,
            },
            MailEventKind::Refused {
                rule: "attachment_format".into(),
            },
            MailEventKind::Refused { rule: "550".into() },
            MailEventKind::Bounced,
            MailEventKind::Login,
        ]
    }

    #[test]
    fn every_kind_reads_back_as_written_in_ten_bytes_or_its_rule() {
        for (n, kind) in every_kind().into_iter().enumerate() {
            let event = EventRecord {
                at: 1_767_574_800 + n as i64,
                account: AccountId(42),
                kind,
            };
            let value = encode_value(&event);
            let detail = match &event.kind {
                MailEventKind::Refused { rule } => rule.len(),
                MailEventKind::Delivered { .. } | MailEventKind::Submitted { .. } => 1,
                MailEventKind::Bounced | MailEventKind::Login => 0,
            };
            assert_eq!(value.len(), 9 + detail, "{event:?}");
            assert_eq!(decode(&time_key(event.at, 7), &value).unwrap(), event);
        }
    }

    #[test]
    fn a_damaged_record_is_an_error_never_a_panic() {
        let key = time_key(100, 1);
        let good = encode_value(&EventRecord {
            at: 100,
            account: AccountId(1),
            kind: MailEventKind::Delivered {
                origin: Origin::Internet,
            },
        });
        for len in 0..good.len() {
            assert!(decode(&key, &good[..len]).is_err(), "truncated to {len}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(decode(&key, &longer).is_err(), "trailing byte");
        let mut unknown_origin = good.clone();
        unknown_origin[9] = 3;
        assert!(decode(&key, &unknown_origin).is_err());
        let mut unknown_tag = good.clone();
        unknown_tag[8] = 0;
        assert!(decode(&key, &unknown_tag).is_err());
        let mut bad_rule = good[..8].to_vec();
        bad_rule.extend_from_slice(&[REFUSED, 0xff, 0xfe]);
        assert!(decode(&key, &bad_rule).is_err(), "a rule that is not UTF-8");
        assert!(decode(&key[..4], &good).is_err(), "short key");
    }

    #[test]
    fn refusal_rules_are_bounded() {
        let refused = |rule: String| EventRecord {
            at: 0,
            account: AccountId(1),
            kind: MailEventKind::Refused { rule },
        };
        assert!(crate::rules::validate_event(&refused(String::new())).is_err());
        assert!(crate::rules::validate_event(&refused("x".repeat(MAX_RULE_LEN))).is_ok());
        assert!(crate::rules::validate_event(&refused("x".repeat(MAX_RULE_LEN + 1))).is_err());
    }

    #[test]
    fn keys_sort_by_time_and_clamp_before_1970() {
        assert!(time_key(1, u64::MAX) < time_key(2, 0));
        assert_eq!(time_key(-5, 3), time_key(0, 3));
    }
}
