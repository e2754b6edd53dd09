//! Verified credentials, remembered for a short while so that a client reconnecting
//! again and again (Thunderbird opens up to 5 connections, phones reconnect at every
//! network change) does not cost a full Argon2 run each time. Dovecot's auth cache
//! is the model.
//!
//! - Only a *successful* check is remembered, under a keyed BLAKE2b-256 of
//!   (account id, password), the key random per process: the table holds no
//!   password and nothing that can be tested against one without the key. Wrong
//!   passwords are never remembered: guesses all pay for Argon2 and the throttle.
//! - Entries live [`CredentialCacheSettings::ttl`] at most, and there are at most
//!   [`CredentialCacheSettings::entries`]: when full, expired entries go first, then
//!   the one closest to expiry.
//! - An entry is keyed by the stored password hash too, read at every login (one
//!   key-value read, no Argon2): a password changed by another node sharing the
//!   directory (PostgreSQL) misses at once, as does one changed here.
//! - A password change, a disabled or a deleted account removes the account's
//!   entries at once (`Directory::revoke`). A check that read the old hash and
//!   finishes after the revocation is not remembered (`remember`'s `still_valid`,
//!   asked under the table's lock).
//! - With the throttle (see `throttle`): a throttled client is refused before the
//!   cache is asked, since a cheap hit-or-miss would otherwise let a blocked guesser
//!   test passwords at memory speed. A hit is a success like a verified password:
//!   it gives back the throttle's reservation and clears that login's failures from
//!   that address, nothing more.
//! - A hit answers in microseconds and a miss in tens of milliseconds: the
//!   difference tells only someone who already has the right password that it was
//!   used lately.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use blake2::Blake2bMac;
use blake2::digest::consts::U32;
use blake2::digest::{KeyInit, Mac};
use congvu_store::AccountId;
use rand::Rng;

/// `[directory] credential_cache_secs` and `credential_cache_entries`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialCacheSettings {
    /// How long a verified password is taken without Argon2. Zero turns the cache
    /// off.
    pub ttl: Duration,
    /// Entries kept at most (about 100 bytes each). Zero turns the cache off.
    pub entries: usize,
}

impl Default for CredentialCacheSettings {
    fn default() -> CredentialCacheSettings {
        CredentialCacheSettings {
            ttl: Duration::from_secs(5 * 60),
            entries: 10_000,
        }
    }
}

type Digest = [u8; 32];

struct Entry {
    account: AccountId,
    expires: Instant,
}

pub(crate) struct CredentialCache {
    key: [u8; 32],
    settings: CredentialCacheSettings,
    entries: Mutex<HashMap<Digest, Entry>>,
}

impl CredentialCache {
    pub fn new(settings: CredentialCacheSettings) -> CredentialCache {
        CredentialCache {
            key: rand::rng().random(),
            settings,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn is_off(&self) -> bool {
        self.settings.ttl.is_zero() || self.settings.entries == 0
    }

    fn digest(&self, account: AccountId, stored: &str, password: &str) -> Option<Digest> {
        if self.is_off() {
            return None;
        }
        // A 32-byte key is always a valid BLAKE2b key; `None` would only turn the
        // cache off.
        let mut mac = <Blake2bMac<U32> as KeyInit>::new_from_slice(&self.key).ok()?;
        mac.update(&account.0.to_be_bytes());
        // Length-prefixed, so that no (hash, password) pair reads as another.
        mac.update(&(stored.len() as u64).to_be_bytes());
        mac.update(stored.as_bytes());
        mac.update(password.as_bytes());
        Some(mac.finalize().into_bytes().into())
    }

    /// True when `password` was verified for `account`, against the `stored` hash,
    /// within the TTL.
    pub fn hit(&self, account: AccountId, stored: &str, password: &str, now: Instant) -> bool {
        let Some(digest) = self.digest(account, stored, password) else {
            return false;
        };
        let mut entries = self.lock();
        match entries.get(&digest) {
            Some(entry) if entry.account == account && entry.expires > now => true,
            Some(_) => {
                entries.remove(&digest);
                false
            }
            None => false,
        }
    }

    /// Remembers a verified password, unless `still_valid` (asked under the lock,
    /// so that it cannot interleave with [`CredentialCache::forget`]) says the
    /// account was revoked since the check began.
    pub fn remember(
        &self,
        account: AccountId,
        stored: &str,
        password: &str,
        now: Instant,
        still_valid: impl FnOnce() -> bool,
    ) {
        let Some(digest) = self.digest(account, stored, password) else {
            return;
        };
        let mut entries = self.lock();
        if !still_valid() {
            return;
        }
        if !entries.contains_key(&digest) && entries.len() >= self.settings.entries {
            entries.retain(|_, entry| entry.expires > now);
            if entries.len() >= self.settings.entries {
                let soonest = entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.expires)
                    .map(|(digest, _)| *digest);
                if let Some(soonest) = soonest {
                    entries.remove(&soonest);
                }
            }
        }
        let expires = now + self.settings.ttl;
        entries.insert(digest, Entry { account, expires });
    }

    /// Forgets every password remembered for `account`.
    pub fn forget(&self, account: AccountId) {
        self.lock().retain(|_, entry| entry.account != account);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Digest, Entry>> {
        // Plain entries: a panic elsewhere cannot leave one half-written.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(entries: usize) -> CredentialCache {
        CredentialCache::new(CredentialCacheSettings {
            ttl: Duration::from_secs(60),
            entries,
        })
    }

    #[test]
    fn hits_only_the_same_account_and_password_within_the_ttl() {
        let cache = cache(10);
        let t0 = Instant::now();
        let (tuan, hoa) = (AccountId(1), AccountId(2));
        assert!(!cache.hit(tuan, "phc", "mật khẩu", t0));
        cache.remember(tuan, "phc", "mật khẩu", t0, || true);
        assert!(cache.hit(tuan, "phc", "mật khẩu", t0 + Duration::from_secs(59)));
        assert!(!cache.hit(tuan, "phc", "mật khẩu khác", t0));
        assert!(!cache.hit(hoa, "phc", "mật khẩu", t0));
        assert!(
            !cache.hit(tuan, "phc of a new password", "mật khẩu", t0),
            "a hash changed elsewhere misses"
        );
        assert!(!cache.hit(tuan, "phc", "mật khẩu", t0 + Duration::from_secs(60)));
        // The expired entry was dropped on that miss.
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn forget_and_a_revocation_during_the_check() {
        let cache = cache(10);
        let now = Instant::now();
        cache.remember(AccountId(1), "phc", "a", now, || true);
        cache.remember(AccountId(1), "phc", "b", now, || true);
        cache.remember(AccountId(2), "phc", "a", now, || true);
        cache.forget(AccountId(1));
        assert!(!cache.hit(AccountId(1), "phc", "a", now) && !cache.hit(AccountId(1), "phc", "b", now));
        assert!(cache.hit(AccountId(2), "phc", "a", now));
        cache.remember(AccountId(3), "phc", "c", now, || false);
        assert!(!cache.hit(AccountId(3), "phc", "c", now));
    }

    #[test]
    fn bounded_expired_first_then_the_soonest_to_expire() {
        let cache = cache(3);
        let t0 = Instant::now();
        for (i, at) in [(1, 0), (2, 10), (3, 20)] {
            cache.remember(AccountId(i), "phc", "p", t0 + Duration::from_secs(at), || true);
        }
        cache.remember(AccountId(4), "phc", "p", t0 + Duration::from_secs(30), || true);
        assert_eq!(cache.len(), 3);
        let now = t0 + Duration::from_secs(30);
        assert!(
            !cache.hit(AccountId(1), "phc", "p", now),
            "the soonest to expire went"
        );
        assert!(cache.hit(AccountId(2), "phc", "p", now) && cache.hit(AccountId(4), "phc", "p", now));
        // Past account 2's and 3's expiry both go before anything live.
        let later = t0 + Duration::from_secs(85);
        cache.remember(AccountId(5), "phc", "p", later, || true);
        assert!(cache.hit(AccountId(4), "phc", "p", later) && cache.hit(AccountId(5), "phc", "p", later));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn off_when_ttl_or_size_is_zero() {
        for settings in [
            CredentialCacheSettings {
                ttl: Duration::ZERO,
                entries: 10,
            },
            CredentialCacheSettings {
                ttl: Duration::from_secs(60),
                entries: 0,
            },
        ] {
            let cache = CredentialCache::new(settings);
            cache.remember(AccountId(1), "phc", "p", Instant::now(), || true);
            assert!(!cache.hit(AccountId(1), "phc", "p", Instant::now()));
        }
    }
}
