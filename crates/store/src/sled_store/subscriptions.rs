//! Subscriptions that outlive their mailbox (RFC 3501 §6.3.6: a server "MUST NOT
//! unilaterally remove an existing mailbox name from the subscription list even if
//! a mailbox by that name no longer exists"; RFC 5258 lists them `\NonExistent`).
//!
//! A mailbox's own subscription is on its record (`MailboxInfo::subscribed`). A
//! name subscribed while no mailbox has it — subscribed before it was created, or
//! kept when its mailbox was deleted — is kept in `store.subscriptions`
//! (AccountId BE ‖ UTF-8 name → empty). An account's subscriptions are the union.
//!
//! ## Invariants
//! 1. DELETE of a subscribed mailbox keeps its name here before the mailbox goes,
//!    so a crash in between leaves the name subscribed twice, never lost.
//! 2. UNSUBSCRIBE clears both places; the records go with their account.

use super::SledStore;
use super::tx::name_key;
use crate::{AccountId, Result, StoreError};

/// The tree's name.
pub(super) const SUBSCRIPTIONS_TREE: &str = "store.subscriptions";

impl SledStore {
    /// Keeps `name` subscribed whether or not a mailbox has it.
    pub(super) fn keep_subscription(&self, account: AccountId, name: &str) -> Result<()> {
        self.subscriptions.insert(name_key(account, name), &[])?;
        Ok(())
    }

    /// Drops a kept subscription; true when there was one.
    pub(super) fn drop_kept_subscription(&self, account: AccountId, name: &str) -> Result<bool> {
        Ok(self.subscriptions.remove(name_key(account, name))?.is_some())
    }

    /// The names kept for the account, in byte order.
    pub(super) fn kept_subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        self.subscriptions
            .scan_prefix(account.0.to_be_bytes())
            .keys()
            .map(|key| {
                let key = key?;
                let name = key.get(8..).unwrap_or_default();
                String::from_utf8(name.to_vec())
                    .map_err(|_| StoreError::Corrupt("subscription name is not UTF-8".into()))
            })
            .collect()
    }

    /// Drops every kept subscription of a deleted account.
    pub(super) fn forget_subscriptions(&self, account: AccountId) -> Result<()> {
        for key in self.subscriptions.scan_prefix(account.0.to_be_bytes()).keys() {
            self.subscriptions.remove(key?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{AccountKind, MailStore, SledStore, StoreError};

    /// RFC 3501 §6.3.6: a subscription outlives its mailbox, and a name with no
    /// mailbox may be subscribed; UNSUBSCRIBE (§6.3.7) removes it either way.
    #[test]
    fn subscriptions_outlive_their_mailbox() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let account = store.create_account(AccountKind::Personal, 1 << 20).unwrap();
        let defaults = store.subscriptions(account).unwrap();
        assert!(defaults.contains(&"INBOX".to_string()), "{defaults:?}");

        store.create_mailbox(account, "Công văn", None).unwrap();
        store.delete_mailbox(account, "Công văn").unwrap();
        store.set_subscribed(account, "Chưa có", true).unwrap();
        let names = store.subscriptions(account).unwrap();
        assert!(names.contains(&"Công văn".to_string()), "{names:?}");
        assert!(names.contains(&"Chưa có".to_string()), "{names:?}");

        store.set_subscribed(account, "Công văn", false).unwrap();
        assert!(
            !store
                .subscriptions(account)
                .unwrap()
                .contains(&"Công văn".to_string())
        );
        assert!(matches!(
            store.set_subscribed(account, "Công văn", false),
            Err(StoreError::NotFound(_))
        ));
        assert!(store.set_subscribed(account, "a//b", true).is_err());

        store.delete_account(account).unwrap();
        assert!(store.kept_subscriptions(account).unwrap().is_empty());
        assert!(store.check().unwrap().is_consistent());
    }
}
