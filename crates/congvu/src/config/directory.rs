//! `[directory]`: the directory's settings — retention, late filings, sessions, the
//! login throttle and the credential cache — and their conversion into
//! `congvu_directory`'s types.

use std::time::Duration;

use congvu_directory::{CredentialCacheSettings, Settings, ThrottleLimits};

use super::Config;

/// `[directory]` in the configuration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectorySection {
    /// Days a deleted mailbox keeps its mail and can be restored before it is purged.
    pub retention_days: u32,
    /// Art. 15.3: requests filed more than this many days after the personnel decision
    /// took effect are flagged late.
    pub late_filing_days: u32,
    /// Days after a decision took effect when a draft still unfiled gets one reminder
    /// in its agency mailbox (0: none); before `late_filing_days`, so it can still be
    /// filed on time.
    pub filing_reminder_days: u32,
    /// Lifetime of an admin API session (`POST /api/v1/login`).
    pub session_hours: u32,
    /// Failed logins (SMTP AUTH, IMAP, admin API together) of one login from one
    /// client address before that pair is refused until the window ends.
    pub failed_logins_per_login: u32,
    /// Failed logins of any logins from one client address (IPv6: per /64).
    pub failed_logins_per_address: u32,
    /// The window those counts are kept over.
    pub failed_login_window_minutes: u32,
    /// How long a verified password is taken again without Argon2 (the credential
    /// cache); 0 turns the cache off.
    pub credential_cache_secs: u64,
    /// Verified credentials kept at most (about 100 bytes each); 0 turns it off.
    pub credential_cache_entries: usize,
    /// Password checks (Argon2, 19 MiB each) running at once; 0: one per core, at
    /// most 4.
    pub password_checks: usize,
}

impl Default for DirectorySection {
    fn default() -> DirectorySection {
        let defaults = Settings::default();
        DirectorySection {
            retention_days: defaults.retention_days,
            late_filing_days: defaults.late_filing_days,
            filing_reminder_days: 7,
            session_hours: (defaults.session_seconds / 3600) as u32,
            failed_logins_per_login: defaults.login_throttle.per_login,
            failed_logins_per_address: defaults.login_throttle.per_address,
            failed_login_window_minutes: (defaults.login_throttle.window.as_secs() / 60) as u32,
            credential_cache_secs: CredentialCacheSettings::default().ttl.as_secs(),
            credential_cache_entries: CredentialCacheSettings::default().entries,
            password_checks: 0,
        }
    }
}

/// The credential cache from the configuration.
pub fn credential_cache(config: &Config) -> CredentialCacheSettings {
    CredentialCacheSettings {
        ttl: std::time::Duration::from_secs(config.directory.credential_cache_secs),
        entries: config.directory.credential_cache_entries,
    }
}

/// Password checks at once from the configuration.
pub fn password_checks(config: &Config) -> usize {
    match config.directory.password_checks {
        0 => congvu_directory::default_password_checks(),
        n => n,
    }
}

/// The directory's settings from the configuration.
pub fn settings(config: &Config) -> Settings {
    Settings {
        postmaster: config.domain.postmaster.clone(),
        retention_days: config.directory.retention_days,
        late_filing_days: config.directory.late_filing_days,
        session_seconds: i64::from(config.directory.session_hours) * 3600,
        login_throttle: ThrottleLimits {
            per_login: config.directory.failed_logins_per_login,
            per_address: config.directory.failed_logins_per_address,
            window: Duration::from_secs(u64::from(config.directory.failed_login_window_minutes) * 60),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commented example documents the defaults.
    #[test]
    fn documented_defaults() {
        assert_eq!(Config::embedded().directory, DirectorySection::default());
        let settings = settings(&Config::embedded());
        assert_eq!((settings.retention_days, settings.late_filing_days), (90, 10));
        assert_eq!(settings.session_seconds, 8 * 3600);
    }
}
