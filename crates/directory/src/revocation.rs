//! Revoked credentials: a password change, a disabled account or a deleted one ends
//! what the old credentials opened.
//!
//! The directory counts revocations with one process-wide epoch (a tokio `watch`
//! channel) and remembers, per account, the epoch of its latest revocation. A
//! session takes a [`CredentialWatch`] *before* its password is checked (the epoch
//! then is the watch's `since`); its credentials are revoked once its account has a
//! revocation later than that. So a password changed while the old one was being
//! checked still ends the session that check opens, and nothing is missed between
//! checking and watching.
//!
//! A revocation wakes every watching session (one `watch` for all); each then looks
//! up its own account. Revocations are administrative acts, rare next to logins, so
//! the wake-ups cost less than a channel per account would.
//!
//! ## Invariants
//! 1. [`Revocations::revoke`] is called after the change it announces is durable, so
//!    a check that starts after the revocation reads the new state.
//! 2. The map holds one entry per account ever revoked in this process: bounded by
//!    the directory's size.

use std::collections::HashMap;
use std::future::pending;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use congvu_store::AccountId;
use tokio::sync::watch;

use crate::Directory;
use crate::record::AccountRecord;
use crate::trees::T;

pub(crate) struct Revocations {
    /// The epoch of each account's latest revocation.
    latest: Mutex<HashMap<AccountId, u64>>,
    /// The number of revocations so far.
    epoch: watch::Sender<u64>,
}

impl Revocations {
    pub fn new() -> Revocations {
        Revocations {
            latest: Mutex::new(HashMap::new()),
            epoch: watch::Sender::new(0),
        }
    }

    /// The current epoch: a check that starts now compares revocations against it.
    pub fn epoch(&self) -> u64 {
        *self.epoch.borrow()
    }

    /// Revokes every credential of `account` checked before now (invariant 1: call
    /// after the change is durable).
    pub fn revoke(&self, account: AccountId) {
        let mut latest = self.lock();
        let mut revoked_at = 0;
        // `send_modify` updates the value even when nobody is watching.
        self.epoch.send_modify(|epoch| {
            *epoch += 1;
            revoked_at = *epoch;
        });
        latest.insert(account, revoked_at);
    }

    /// True when `account` was revoked after epoch `since`.
    pub fn revoked_since(&self, account: AccountId, since: u64) -> bool {
        self.lock().get(&account).is_some_and(|at| *at > since)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<AccountId, u64>> {
        // Plain numbers: a panic elsewhere cannot leave the map half-updated.
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Watches one login's credentials: [`CredentialWatch::revoked`] resolves when the
/// account's password is changed, or it is disabled or deleted, after the login was
/// checked. Given by [`crate::Directory::authenticate_watched`].
pub struct CredentialWatch {
    revocations: Arc<Revocations>,
    changes: watch::Receiver<u64>,
    since: u64,
    account: AccountId,
}

impl std::fmt::Debug for CredentialWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialWatch")
            .field("account", &self.account)
            .field("since", &self.since)
            .finish_non_exhaustive()
    }
}

/// The start of a watch, taken before the password check.
pub(crate) struct WatchStart {
    changes: watch::Receiver<u64>,
    since: u64,
}

impl WatchStart {
    pub fn new(revocations: &Revocations) -> WatchStart {
        let changes = revocations.epoch.subscribe();
        let since = *changes.borrow();
        WatchStart { changes, since }
    }

    pub fn since(&self) -> u64 {
        self.since
    }

    /// The watch over `account`, whose credentials were checked after this start.
    pub fn watch(self, revocations: &Arc<Revocations>, account: AccountId) -> CredentialWatch {
        CredentialWatch {
            revocations: revocations.clone(),
            changes: self.changes,
            since: self.since,
            account,
        }
    }
}

impl CredentialWatch {
    /// The account watched.
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// True once the credentials this login was checked with are no longer valid.
    pub fn is_revoked(&self) -> bool {
        self.revocations.revoked_since(self.account, self.since)
    }

    /// Resolves once [`CredentialWatch::is_revoked`]; never, if the directory is
    /// gone. Cancel-safe: use it in `select!`.
    pub async fn revoked(&mut self) {
        loop {
            if self.is_revoked() {
                return;
            }
            if self.changes.changed().await.is_err() {
                return pending().await;
            }
        }
    }
}

impl Directory {
    /// Ends what `account`'s current credentials opened: its sessions' watches fire,
    /// its cached passwords are forgotten and its web and API sessions end. Call once
    /// the change is durable.
    pub(crate) fn revoke(&self, account: AccountId) {
        // Revoked first, forgotten second: a check remembering its password in
        // between sees the revocation (`CredentialCache::remember`).
        self.revocations.revoke(account);
        self.credentials.forget(account);
        // The caller's change is durable already: a session that cannot be ended
        // here is still refused while the account is disabled, and is logged.
        match self.end_sessions_of(account) {
            Ok(sessions) => tracing::info!(account = account.0, sessions, "credentials revoked"),
            Err(error) => {
                tracing::error!(account = account.0, error = %error, "credentials revoked, sessions not ended")
            }
        }
        if let Err(error) = self.trees.storage().announce_revocation(account) {
            // The other nodes' sessions of the old credentials then last until they
            // end; their next login is refused all the same.
            tracing::error!(account = account.0, error = %error, "revocation not announced to the other nodes");
        }
    }

    /// Another process sharing the storage revoked `account`'s credentials (it
    /// announced it: [`crate::storage::DirectoryStorage::announce_revocation`]):
    /// the sessions they opened here end and this process's cache forgets them.
    /// The API sessions are already gone: they live in the shared storage.
    pub fn revoked_elsewhere(&self, account: AccountId) {
        self.revocations.revoke(account);
        self.credentials.forget(account);
        tracing::info!(account = account.0, "credentials revoked on another node");
    }

    /// Revokes the accounts a committed plan disabled (a disable, a deletion) or
    /// whose password it wrote or removed (a purge): whatever path the change took.
    pub(crate) fn revoke_written<'w>(
        &self,
        writes: impl Iterator<Item = (&'w (T, Vec<u8>), &'w Option<Vec<u8>>)>,
    ) {
        for ((tree, key), value) in writes {
            let account = match (tree, value) {
                (T::Passwords, _) => <[u8; 8]>::try_from(key.as_slice())
                    .ok()
                    .map(|id| AccountId(u64::from_be_bytes(id))),
                (T::Accounts, Some(json)) => serde_json::from_slice::<AccountRecord>(json)
                    .ok()
                    .filter(|record| record.disabled)
                    .map(|record| record.account),
                _ => None,
            };
            if let Some(account) = account {
                self.revoke(account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_watch_sees_only_its_account_and_only_later_revocations() {
        let revocations = Arc::new(Revocations::new());
        revocations.revoke(AccountId(1));
        let start = WatchStart::new(&revocations);
        let mut one = start.watch(&revocations, AccountId(1));
        let mut two = WatchStart::new(&revocations).watch(&revocations, AccountId(2));
        assert!(!one.is_revoked(), "a revocation before the check does not count");
        revocations.revoke(AccountId(3));
        assert!(!one.is_revoked() && !two.is_revoked());
        let quiet = tokio::time::timeout(Duration::from_millis(50), one.revoked()).await;
        assert!(
            quiet.is_err(),
            "another account's revocation does not end this one"
        );
        revocations.revoke(AccountId(1));
        tokio::time::timeout(Duration::from_secs(1), one.revoked())
            .await
            .expect("revoked at once");
        assert!(one.is_revoked() && !two.is_revoked());
        let quiet = tokio::time::timeout(Duration::from_millis(50), two.revoked()).await;
        assert!(quiet.is_err());
    }

    #[test]
    fn a_revocation_during_the_check_counts() {
        let revocations = Arc::new(Revocations::new());
        let start = WatchStart::new(&revocations);
        // The password changes while the old one is being checked.
        revocations.revoke(AccountId(7));
        assert!(revocations.revoked_since(AccountId(7), start.since()));
        assert!(start.watch(&revocations, AccountId(7)).is_revoked());
    }
}
