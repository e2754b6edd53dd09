//! Purges deleted mailboxes once their retention period is over (Form 03 deletions
//! keep the mail `[directory] retention_days`, then the address answers 5.1.1). Runs
//! at start and then hourly; the purge itself is idempotent, so a crash or a stop
//! midway is finished by the next run.

use std::sync::Arc;
use std::time::Duration;

use congvu_directory::Directory;
use tokio::sync::watch;

/// How often due mailboxes are looked for: retention is counted in days.
const INTERVAL: Duration = Duration::from_secs(3600);

pub async fn run(directory: Arc<Directory>, mut stop: watch::Receiver<bool>) {
    loop {
        let directory = directory.clone();
        let purged = tokio::task::spawn_blocking(move || {
            directory.purge_expired(congvu_directory::unix_now(), "retention")
        })
        .await;
        match purged {
            Ok(Ok(purged)) if !purged.is_empty() => {
                tracing::info!(count = purged.len(), "expired mailboxes purged");
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!(error = %error, "purging expired mailboxes failed"),
            Err(error) => tracing::error!(error = %error, "the purge task failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
    }
}
