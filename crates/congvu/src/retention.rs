//! Housekeeping by age, at start and then hourly:
//! - purges deleted mailboxes once their retention period is over (Form 03 deletions
//!   keep the mail `[directory] retention_days`, then the address answers 5.1.1);
//! - drops the mail events, access events and acknowledged acknowledgement records
//!   older than `[retention] events_days` (the reports' record, issue 14; 0 keeps them);
//! - reminds agencies of drafts still unfiled `[directory] filing_reminder_days` after
//!   their decision took effect (`filing_reminder`, Art. 15.3).
//!
//! All are idempotent, so a crash or a stop midway is finished by the next run.
//! Several nodes on one PostgreSQL store take turns: a round runs under the
//! store's `housekeeping` job lock, and a node that finds it held skips the hour.

use std::sync::Arc;
use std::time::Duration;

use congvu_directory::Directory;
use congvu_store::MailStore;
use tokio::sync::watch;

/// How often due mailboxes are looked for: retention is counted in days.
const INTERVAL: Duration = Duration::from_secs(3600);

const SECONDS_PER_DAY: i64 = 86_400;

/// What the housekeeping needs from the configuration.
pub struct Housekeeping {
    pub events_days: u32,
    pub hostname: String,
    pub filing_reminder_days: u32,
    pub late_filing_days: u32,
}

pub async fn run(
    directory: Arc<Directory>,
    store: Arc<dyn MailStore>,
    settings: Housekeeping,
    mut stop: watch::Receiver<bool>,
) {
    let settings = Arc::new(settings);
    loop {
        // One process of those sharing a PostgreSQL store does the round; the
        // others skip this hour (every part is idempotent, none may run twice at
        // once: a reminder is sent before it is recorded).
        let locking = store.clone();
        let held = match tokio::task::spawn_blocking(move || locking.job_lock("housekeeping")).await {
            Ok(Ok(held)) => held,
            Ok(Err(error)) => {
                tracing::error!(error = %error, "cannot take the housekeeping lock");
                None
            }
            Err(error) => {
                tracing::error!(error = %error, "the housekeeping lock task failed");
                None
            }
        };
        if let Some(held) = held {
            housekeep(&directory, &store, &settings).await;
            drop(held);
        } else {
            tracing::debug!("housekeeping skipped: another node is doing it");
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
    }
}

/// One round: purge, prune, remind.
async fn housekeep(directory: &Arc<Directory>, store: &Arc<dyn MailStore>, settings: &Arc<Housekeeping>) {
    let events_days = settings.events_days;
    let purging = directory.clone();
    let purged =
        tokio::task::spawn_blocking(move || purging.purge_expired(congvu_directory::unix_now(), "retention"))
            .await;
    match purged {
        Ok(Ok(purged)) if !purged.is_empty() => {
            tracing::info!(count = purged.len(), "expired mailboxes purged");
        }
        Ok(Ok(_)) => {}
        Ok(Err(error)) => tracing::error!(error = %error, "purging expired mailboxes failed"),
        Err(error) => tracing::error!(error = %error, "the purge task failed"),
    }
    if events_days > 0 {
        let store = store.clone();
        let before = congvu_directory::unix_now() - i64::from(events_days) * SECONDS_PER_DAY;
        match tokio::task::spawn_blocking(move || store.prune_events(before)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(count)) => tracing::info!(count, events_days, "old events pruned"),
            Ok(Err(error)) => tracing::error!(error = %error, "pruning old events failed"),
            Err(error) => tracing::error!(error = %error, "the event pruning task failed"),
        }
    }
    let (dir, mail, reminders) = (directory.clone(), store.clone(), settings.clone());
    let reminded = tokio::task::spawn_blocking(move || {
        crate::filing_reminder::send_due(
            &dir,
            mail.as_ref(),
            &reminders.hostname,
            reminders.filing_reminder_days,
            reminders.late_filing_days,
            congvu_directory::unix_now(),
        )
    })
    .await;
    if let Err(error) = reminded {
        tracing::error!(error = %error, "the filing reminder task failed");
    }
}
