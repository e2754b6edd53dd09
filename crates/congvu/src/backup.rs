//! Backups of the running server (issue 12, Art. 8.2 and 12.3): the `[backup]`
//! section, the one operation that the admin API, the CLI and the daily schedule
//! share, and its last result (shown by `GET /api/v1/backups` and the metrics).
//!
//! 1. One backup at a time per server: a second request while one runs is refused
//!    (409), never queued behind it.
//! 2. After each backup into the configured directory the snapshots beyond `keep`
//!    are pruned with the bodies only they named (`congvu_store::sled_store::backup`).
//! 3. The data directory's `dkim/` and `tls/` (signing keys, the generated
//!    certificate) travel with each snapshot, so a restored server signs with the
//!    keys DNS publishes.
//! 4. The schedule fires at `at`, Vietnamese time (UTC+7, no daylight saving), so a
//!    server whose clock is in UTC still backs up at 02:00 in Thanh Hóa.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use congvu_directory::Directory;
use congvu_store::sled_store::backup::{PruneReport, prune};
use congvu_store::{BackupManifest, BackupSpec, MailStore, Progress};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Asia/Ho_Chi_Minh: UTC+7 all year.
const VIETNAM_OFFSET_SECS: i64 = 7 * 3600;

/// `[backup]` in the server configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupConfig {
    /// Where scheduled backups go; none means no schedule (backups only on request,
    /// into the directory the request names).
    pub dir: Option<PathBuf>,
    /// Time of day of the scheduled backup, `HH:MM` in Vietnamese time.
    pub at: String,
    /// Snapshots kept in `dir`; older ones are pruned after each backup.
    pub keep: usize,
}

impl Default for BackupConfig {
    fn default() -> BackupConfig {
        BackupConfig {
            dir: None,
            at: "02:00".to_owned(),
            keep: 14,
        }
    }
}

impl BackupConfig {
    /// Minutes after midnight of `at`; `Err` with the reason when it is not `HH:MM`.
    pub fn minute_of_day(&self) -> Result<u32, String> {
        let parsed = self.at.split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
            (h < 24 && m < 60 && self.at.len() == 5).then_some(h * 60 + m)
        });
        parsed.ok_or_else(|| format!("[backup] at = {:?}: expected HH:MM, e.g. \"02:00\"", self.at))
    }
}

/// What became of a backup.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupResult {
    pub dir: PathBuf,
    /// `schedule` or `request`.
    pub trigger: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub error: Option<String>,
    pub manifest: Option<BackupManifest>,
    pub pruned: Option<PruneReport>,
}

/// `GET /api/v1/backups`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupStatus {
    pub config: BackupConfig,
    pub running: bool,
    pub last: Option<BackupResult>,
    pub last_success: Option<BackupResult>,
}

/// The newest complete snapshot in `dir`, as a backup result; none when the directory
/// holds none or cannot be read (logged: the next backup will say more).
fn newest_snapshot(dir: &Path) -> Option<BackupResult> {
    let snapshots = match congvu_store::sled_store::backup::snapshots(dir) {
        Ok(snapshots) => snapshots,
        Err(error) => {
            tracing::warn!(dir = %dir.display(), %error, "cannot list the backups");
            return None;
        }
    };
    let newest = snapshots.into_iter().last()?;
    let duration = i64::try_from(newest.duration_ms / 1000).unwrap_or(0);
    Some(BackupResult {
        dir: dir.to_path_buf(),
        trigger: "found at start".to_owned(),
        started_at: newest.created_at,
        finished_at: newest.created_at.saturating_add(duration),
        error: None,
        manifest: Some(newest),
        pruned: None,
    })
}

/// Directories of the data directory carried along with each snapshot.
const CARRIED: [&str; 2] = ["dkim", "tls"];

/// The server's backups: configuration, the one-at-a-time guard, the last results.
pub struct Backups {
    config: BackupConfig,
    data_dir: PathBuf,
    running: Mutex<()>,
    last: Mutex<(Option<BackupResult>, Option<BackupResult>)>,
}

impl Backups {
    /// The backups of `config`. The newest complete snapshot already in the configured
    /// directory counts as the last successful backup, so its age is known across
    /// restarts (`/metrics`, the console).
    pub fn new(config: BackupConfig, data_dir: &Path) -> Backups {
        let found = config.dir.as_deref().and_then(newest_snapshot);
        Backups {
            config,
            data_dir: data_dir.to_path_buf(),
            running: Mutex::new(()),
            last: Mutex::new((found.clone(), found)),
        }
    }

    /// Backs up into `dir` (the configured directory when `None`) and prunes to
    /// `keep`. `Err` only when no backup could start (no directory, one running);
    /// a failed backup is an `Ok` result with its error, recorded as the last one.
    pub fn run(
        &self,
        store: &dyn MailStore,
        directory: &Directory,
        dir: Option<&Path>,
        trigger: &str,
        progress: &Progress,
    ) -> Result<BackupResult, BackupRefused> {
        let dir = dir
            .map(Path::to_path_buf)
            .or_else(|| self.config.dir.clone())
            .ok_or(BackupRefused::NoDirectory)?;
        let _running = self.running.try_lock().map_err(|_| BackupRefused::Busy)?;
        let started_at = chrono::Utc::now().timestamp();
        let carried: Vec<(&str, PathBuf)> = CARRIED
            .iter()
            .map(|name| (*name, self.data_dir.join(name)))
            .collect();
        let carry: Vec<(&str, &Path)> = carried
            .iter()
            .map(|(name, path)| (*name, path.as_path()))
            .collect();
        let spec = BackupSpec {
            dir: &dir,
            quiesce: &|f| directory.while_quiet(f),
            carry: &carry,
        };
        let outcome = store
            .backup(&spec, progress)
            .and_then(|manifest| Ok((manifest, prune(&dir, self.config.keep.max(1))?)));
        let result = BackupResult {
            dir: dir.clone(),
            trigger: trigger.to_owned(),
            started_at,
            finished_at: chrono::Utc::now().timestamp(),
            error: outcome.as_ref().err().map(ToString::to_string),
            manifest: outcome.as_ref().ok().map(|(m, _)| m.clone()),
            pruned: outcome.ok().map(|(_, p)| p),
        };
        match &result.error {
            Some(error) => tracing::error!(dir = %dir.display(), %error, "backup failed"),
            None => tracing::info!(dir = %dir.display(), trigger, "backup done"),
        }
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if result.error.is_none() {
            last.1 = Some(result.clone());
        }
        last.0 = Some(result.clone());
        Ok(result)
    }

    pub fn status(&self) -> BackupStatus {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner).clone();
        BackupStatus {
            config: self.config.clone(),
            running: self.running.try_lock().is_err(),
            last: last.0,
            last_success: last.1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupRefused {
    #[error(
        "chưa cấu hình thư mục sao lưu: đặt [backup] dir hoặc chỉ định thư mục / no backup directory: set [backup] dir or name one"
    )]
    NoDirectory,
    #[error("đang có một bản sao lưu chạy / a backup is already running")]
    Busy,
}

/// Seconds from `now` (Unix seconds) to the next `minute_of_day` in Vietnamese time.
fn seconds_until(now: i64, minute_of_day: u32) -> i64 {
    let local = now + VIETNAM_OFFSET_SECS;
    let since_midnight = local.rem_euclid(86_400);
    let target = i64::from(minute_of_day) * 60;
    let wait = target - since_midnight;
    if wait > 0 { wait } else { wait + 86_400 }
}

/// The daily schedule: runs until `stop`. Without `[backup] dir` it does nothing.
pub async fn schedule(
    backups: Arc<Backups>,
    store: Arc<dyn MailStore>,
    directory: Arc<Directory>,
    mut stop: watch::Receiver<bool>,
) {
    if backups.config.dir.is_none() {
        return;
    }
    let Ok(minute) = backups.config.minute_of_day() else {
        return; // Refused when the configuration was loaded.
    };
    loop {
        let wait = seconds_until(chrono::Utc::now().timestamp(), minute);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        let (backups, store, directory) = (backups.clone(), store.clone(), directory.clone());
        let ran = tokio::task::spawn_blocking(move || {
            backups.run(store.as_ref(), &directory, None, "schedule", &Progress::default())
        })
        .await;
        if let Ok(Err(refused)) = ran {
            tracing::warn!(%refused, "scheduled backup not started");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_in_vietnamese_time() {
        // 2026-12-04 18:00 UTC is 01:00 in Thanh Hóa: 02:00 is one hour away.
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T18:00:00Z")
            .unwrap()
            .timestamp();
        assert_eq!(seconds_until(now, 120), 3600);
        // 19:00 UTC is 02:00 there: the next one is tomorrow.
        assert_eq!(seconds_until(now + 3600, 120), 86_400);
    }

    #[test]
    fn at_must_be_hh_mm() {
        let config = |at: &str| BackupConfig {
            at: at.to_owned(),
            ..BackupConfig::default()
        };
        assert_eq!(config("02:00").minute_of_day(), Ok(120));
        assert_eq!(config("23:59").minute_of_day(), Ok(1439));
        for bad in ["2:00", "24:00", "02:60", "0200", "", "02:00:00"] {
            assert!(config(bad).minute_of_day().is_err(), "{bad}");
        }
    }
}
