//! `\Recent` (RFC 3501 §2.3.2): "this session is the first session to have been
//! notified about this message". Per mailbox the store keeps one number, the first
//! UID no session has claimed, in the tree `store.recent` (MailboxId BE → UID
//! u32 BE; no record means no UID claimed yet, i.e. 1).
//!
//! ## Invariants
//! 1. A claim moves the number up, never down, in one atomic compare-and-swap, and
//!    returns where it stood: two sessions' claims never overlap, so no UID is ever
//!    recent in two sessions.
//! 2. The number is not flushed by the claim itself (a SELECT must not wait for the
//!    disk for it); it is durable with the next group commit or sled's own periodic
//!    flush. A claim lost in a crash ends with every session that saw it, so a
//!    message may be recent once more after a restart, never in two live sessions.
//! 3. The record goes with its mailbox; mailbox ids are never reused.

use super::SledStore;
use crate::{MailboxId, Result, StoreError, Uid};

/// The tree's name.
pub(super) const RECENT_TREE: &str = "store.recent";

fn decode_first(bytes: Option<&[u8]>) -> Result<u32> {
    let Some(bytes) = bytes else {
        return Ok(Uid::MIN.get());
    };
    <[u8; 4]>::try_from(bytes)
        .map(u32::from_be_bytes)
        .map_err(|_| StoreError::Corrupt(format!("recent record: expected 4 bytes, found {}", bytes.len())))
}

impl SledStore {
    pub(super) fn first_unclaimed_recent(&self, mailbox: MailboxId) -> Result<u32> {
        decode_first(self.recent.get(mailbox.0.to_be_bytes())?.as_deref())
    }

    pub(super) fn claim_recent_below(&self, mailbox: MailboxId, below: u32) -> Result<u32> {
        // Nothing to claim (a reselect, another session was first): no write.
        let first = self.first_unclaimed_recent(mailbox)?;
        if first >= below {
            return Ok(first);
        }
        let previous =
            self.recent
                .fetch_and_update(mailbox.0.to_be_bytes(), |old| match decode_first(old) {
                    Ok(first) => Some(first.max(below).to_be_bytes().to_vec()),
                    // A damaged record is left as it is, and reported below.
                    Err(_) => old.map(<[u8]>::to_vec),
                })?;
        decode_first(previous.as_deref())
    }

    /// Drops a deleted mailbox's record.
    pub(super) fn forget_recent(&self, mailbox: MailboxId) -> Result<()> {
        self.recent.remove(mailbox.0.to_be_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{AccountKind, MailStore, SledStore};
    use std::sync::Arc;

    /// RFC 3501 §2.3.2: "the message is recent in at most one session". Claims
    /// made at once from several threads cover every UID exactly once.
    #[test]
    fn claims_never_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(dir.path()).unwrap());
        let account = store.create_account(AccountKind::Personal, 1 << 20).unwrap();
        let inbox = store.mailbox_by_name(account, "INBOX").unwrap().unwrap().id;
        assert_eq!(store.recent_from(inbox).unwrap(), 1);
        // A claim below what was claimed already gets nothing and moves nothing.
        assert_eq!(store.claim_recent(inbox, 4).unwrap(), 1);
        assert_eq!(store.claim_recent(inbox, 2).unwrap(), 4);
        assert_eq!(store.recent_from(inbox).unwrap(), 4);

        let threads: Vec<_> = (0..4u32)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    (0..50u32)
                        .map(|i| {
                            let below = 5 + i * 4 + t;
                            (store.claim_recent(inbox, below).unwrap(), below)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut claimed = vec![0u32; 300];
        for thread in threads {
            for (first, below) in thread.join().unwrap() {
                for uid in first..below {
                    claimed[uid as usize] += 1;
                }
            }
        }
        let top = store.recent_from(inbox).unwrap();
        assert_eq!(top, 5 + 49 * 4 + 3);
        assert!(claimed[4..top as usize].iter().all(|n| *n == 1), "{claimed:?}");

        // The record goes with its mailbox.
        let other = store.create_mailbox(account, "Lưu", None).unwrap();
        store.claim_recent(other, 10).unwrap();
        store.delete_mailbox(account, "Lưu").unwrap();
        assert!(!store.recent.contains_key(other.0.to_be_bytes()).unwrap());
        assert!(store.check().unwrap().is_consistent());
    }
}
