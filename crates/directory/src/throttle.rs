//! Failed-login throttling across connections and protocols.
//!
//! The SMTP and IMAP sessions already slow down and close a connection after a few
//! failures, but a password guesser simply opens another connection. The directory is
//! the one place every login passes through (SMTP AUTH, IMAP LOGIN/AUTHENTICATE, the
//! admin API), so it counts failures here, in memory, over a sliding window:
//!
//! - per client address **and** account: a guesser working on one official's password
//!   is stopped after [`ThrottleLimits::per_login`] failures — whichever login form
//!   names the account (`tuanna.sttt`, the full address, an alias, another local
//!   domain: the caller passes the account, not the typed text) — while the other officials
//!   behind the same agency NAT (one public address for a whole agency is the norm on
//!   the provincial WAN) keep logging in;
//! - per client address: password spraying over many logins from one address is
//!   stopped after [`ThrottleLimits::per_address`] failures.
//!
//! An attempt is counted when it starts, before the slow password check, and given
//! back when the password was right, so parallel connections cannot all pass the
//! check while their hashes run. IPv6 clients are counted per /64, the smallest
//! prefix a site is normally given.
//! A refused attempt costs no Argon2 work, so throttling is also a CPU guard. When
//! the directory's storage is shared by several processes (PostgreSQL), the counts
//! are kept there ([`crate::storage::SharedFailures`], keys from [`shared_keys`]),
//! so a guesser spread over the nodes meets one budget. Otherwise counts
//! live in memory only: a restart forgets them, which costs an attacker a restart of
//! the server they cannot cause. The table is bounded ([`MAX_TRACKED`]); when it is
//! full of live entries new keys are not tracked (and a warning is logged) rather
//! than letting memory grow without end.
//!
//! Every login's end is also counted since start ([`LoginCounts`]), for the admin
//! listener's `/metrics`: succeeded, failed (wrong password, unknown or disabled
//! login) and throttled (refused before any check).

use congvu_listener::client_group;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Entries kept at most (about 100 bytes each).
const MAX_TRACKED: usize = 200_000;

/// How logins ended since start.
#[derive(Debug, Default)]
pub(crate) struct LoginCounters {
    succeeded: AtomicU64,
    failed: AtomicU64,
    throttled: AtomicU64,
}

/// [`LoginCounters`] as read at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoginCounts {
    pub succeeded: u64,
    pub failed: u64,
    pub throttled: u64,
}

/// How one login ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginEnd {
    Succeeded,
    Failed,
    Throttled,
}

impl LoginCounters {
    pub(crate) fn count(&self, end: LoginEnd) {
        let counter = match end {
            LoginEnd::Succeeded => &self.succeeded,
            LoginEnd::Failed => &self.failed,
            LoginEnd::Throttled => &self.throttled,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> LoginCounts {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        LoginCounts {
            succeeded: read(&self.succeeded),
            failed: read(&self.failed),
            throttled: read(&self.throttled),
        }
    }
}

/// How many failed logins are tolerated within the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Failures at one account (by any of its login names) from one client address.
    pub per_login: u32,
    /// Failures of any logins from one client address.
    pub per_address: u32,
    /// The sliding window; a key is free again this long after its first failure.
    pub window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> ThrottleLimits {
        ThrottleLimits {
            per_login: 10,
            per_address: 100,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// The keys of one attempt as [`crate::storage::SharedFailures`] counts them, with
/// their limits: the login at the client's group first, then the group.
pub(crate) fn shared_keys(limits: &ThrottleLimits, client: IpAddr, login: &str) -> [(String, u32); 2] {
    let group = client_group(client);
    [
        (
            format!("login {group} {}", login.to_lowercase()),
            limits.per_login,
        ),
        (format!("address {group}"), limits.per_address),
    ]
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Key {
    Address(IpAddr),
    LoginAt(IpAddr, String),
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

#[derive(Default)]
pub(crate) struct LoginThrottle {
    windows: Mutex<HashMap<Key, Window>>,
}

impl LoginThrottle {
    /// Reserves one attempt of `client` at `login`: `Err(retry_after)` while either
    /// count is at its limit; otherwise the attempt is counted as a failure *before*
    /// the (slow) password check, so parallel connections cannot all slip through
    /// while the checks run. [`LoginThrottle::succeeded`] takes it back.
    pub(crate) fn attempt(
        &self,
        limits: &ThrottleLimits,
        client: IpAddr,
        login: &str,
        now: Instant,
    ) -> Result<(), Duration> {
        let client = client_group(client);
        let keys = [
            (Key::LoginAt(client, login.to_lowercase()), limits.per_login),
            (Key::Address(client), limits.per_address),
        ];
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut wait = Duration::ZERO;
        for (key, limit) in &keys {
            if let Some(window) = windows.get(key)
                && now.saturating_duration_since(window.started) < limits.window
                && window.failures >= *limit
            {
                let ends = window.started + limits.window;
                wait = wait.max(ends.saturating_duration_since(now));
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (key, _) in keys {
            if !windows.contains_key(&key) && windows.len() >= MAX_TRACKED {
                windows.retain(|_, w| now.saturating_duration_since(w.started) < limits.window);
                if windows.len() >= MAX_TRACKED {
                    tracing::warn!(tracked = windows.len(), "login throttle table full: not tracking");
                    return Ok(());
                }
            }
            let window = windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now.saturating_duration_since(window.started) >= limits.window {
                *window = Window {
                    started: now,
                    failures: 0,
                };
            }
            window.failures = window.failures.saturating_add(1);
        }
        Ok(())
    }

    /// A correct password: the attempt reserved for it is not a failure, and that
    /// login's count from that address is cleared (not the address's other
    /// failures: a sprayer who knows one password must not reset their budget).
    pub(crate) fn succeeded(&self, client: IpAddr, login: &str) {
        let client = client_group(client);
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        windows.remove(&Key::LoginAt(client, login.to_lowercase()));
        if let Some(window) = windows.get_mut(&Key::Address(client)) {
            window.failures = window.failures.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ThrottleLimits {
        ThrottleLimits {
            per_login: 3,
            per_address: 5,
            window: Duration::from_secs(60),
        }
    }

    const GUESSER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));

    #[test]
    fn one_login_is_locked_for_one_address_until_the_window_ends() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.attempt(&limits(), GUESSER, "tuanna.sttt", t0), Ok(()));
        }
        let later = t0 + Duration::from_secs(20);
        assert_eq!(
            throttle.attempt(&limits(), GUESSER, "TuanNA.sttt", later),
            Err(Duration::from_secs(40))
        );
        // Another official behind the same address is not affected.
        assert_eq!(throttle.attempt(&limits(), GUESSER, "hoalt.sttt", later), Ok(()));
        // Another address is not affected.
        let colleague: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(
            throttle.attempt(&limits(), colleague, "tuanna.sttt", later),
            Ok(())
        );
        // After the window the login may try again.
        let after = t0 + Duration::from_secs(60);
        assert_eq!(throttle.attempt(&limits(), GUESSER, "tuanna.sttt", after), Ok(()));
        assert_eq!(throttle.attempt(&limits(), GUESSER, "tuanna.sttt", after), Ok(()));
    }

    #[test]
    fn spraying_many_logins_from_one_address_is_stopped() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for login in ["a", "b", "c", "d", "e"] {
            assert_eq!(throttle.attempt(&limits(), GUESSER, login, now), Ok(()));
        }
        assert!(throttle.attempt(&limits(), GUESSER, "f", now).is_err());
    }

    #[test]
    fn success_clears_the_login_and_returns_its_reservation_only() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..2 {
            throttle.attempt(&limits(), GUESSER, "tuanna.sttt", now).unwrap();
        }
        // The third attempt has the right password.
        throttle.attempt(&limits(), GUESSER, "tuanna.sttt", now).unwrap();
        throttle.succeeded(GUESSER, "tuanna.sttt");
        for _ in 0..2 {
            throttle.attempt(&limits(), GUESSER, "tuanna.sttt", now).unwrap();
        }
        // 2 + 2 failures from the address, whatever succeeded in between: one more
        // is the fifth, then the address is stopped.
        throttle.attempt(&limits(), GUESSER, "x", now).unwrap();
        assert!(throttle.attempt(&limits(), GUESSER, "y", now).is_err());
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for host in 1..=5 {
            let client: IpAddr = format!("2001:db8:1:2::{host}").parse().unwrap();
            throttle
                .attempt(&limits(), client, &format!("u{host}"), now)
                .unwrap();
        }
        let neighbour: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        assert!(throttle.attempt(&limits(), neighbour, "z", now).is_err());
        let other_site: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(throttle.attempt(&limits(), other_site, "z", now), Ok(()));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_group(mapped), GUESSER);
    }
}
