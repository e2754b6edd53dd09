//! Deletion (Form 03), restore within the retention period, and purge.
//!
//! ```text
//!  live ──Form 03 approved──▶ deleted (disabled: no login, 5.2.1 on delivery;
//!   ▲                          content kept until purge_after)
//!   └───────restore───────────┘  │
//!                                └──purge_expired──▶ purged: content removed, address
//!                                                    refused 5.1.1, tombstone kept
//! ```
//! A purged address stays in `dir.issued`, so it is never issued again.

use congvu_store::{AccountKind, MailStore, StoreError};

use crate::account::{index_name, now, plan_existing};
use crate::error::{DirectoryError, Result};
use crate::plan::Plan;
use crate::record::{AccountRecord, Deletion};
use crate::trees::T;
use crate::{Delegation, Directory};

const DAY_SECONDS: i64 = 86_400;

impl Directory {
    /// Restores a deleted mailbox before its purge (undo of a Form 03 line).
    pub fn restore(&self, address: &str, actor: &str) -> Result<AccountRecord> {
        let _write = self.write_lock()?;
        let mut plan = Plan::new(self, actor, now());
        let (local, mut record) = plan_existing(&plan, address)?;
        if record.deleted.take().is_none() {
            return Err(DirectoryError::Invalid(format!(
                "{} is not deleted",
                record.address
            )));
        }
        if record.kind == AccountKind::Agency
            && let Some(mut agency) = plan.agency(&record.agency)?
        {
            agency.dissolved = None;
            plan.put(T::Agencies, agency.abbr.as_bytes(), &agency)?;
        }
        record.disabled = false;
        plan.put_account(&local, &record)?;
        plan.audit("restore", &record.address, "");
        plan.commit()?;
        tracing::info!(address = %record.address, "mailbox restored");
        Ok(record)
    }

    /// Purges every deleted mailbox whose retention ended before `now` (Unix seconds):
    /// its mail is removed and its address no longer delivers, but stays issued.
    /// Returns the purged addresses. Safe to run again after a crash midway.
    ///
    /// Art. 6.3, 13: the mailbox's archive is written first ([`Archiver`]) and
    /// recorded in the audit log; a mailbox whose archive could not be written is
    /// not purged (logged, and tried again on the next run), and with no archiver
    /// set nothing is purged at all.
    pub fn purge_expired(&self, now: i64, actor: &str) -> Result<Vec<String>> {
        let Some(archiver) = self.archiver.clone() else {
            return Err(DirectoryError::Invalid(
                "chưa cấu hình nơi lưu trữ: không xóa hộp thư nào / no archiver: nothing is purged".into(),
            ));
        };
        let _write = self.write_lock()?;
        let due: Vec<AccountRecord> = self
            .trees
            .all::<AccountRecord>(T::Accounts)?
            .into_iter()
            .filter(|r| r.deleted.as_ref().is_some_and(|d| d.purge_after <= now))
            .collect();
        let mut purged = Vec::new();
        for record in due {
            // A storage account already gone was archived by the run that deleted
            // it (a crash before the directory forgot the record).
            if self.store.account(record.account)?.is_some() {
                match archiver.archive(&record) {
                    Ok(place) => {
                        let mut plan = Plan::new(self, actor, now);
                        plan.audit("archive", &record.address, &place);
                        plan.commit()?;
                        tracing::info!(address = %record.address, archive = %place, "mailbox archived before purge");
                    }
                    Err(error) => {
                        tracing::error!(address = %record.address, %error, "archive failed: the mailbox is not purged");
                        continue;
                    }
                }
            }
            // Content next: a crash here leaves a deleted record that the next run
            // purges again.
            purge_content(self.store.as_ref(), &record)?;
            let mut plan = Plan::new(self, actor, now);
            plan_forget(&mut plan, &record)?;
            plan.audit("purge", &record.address, "");
            plan.commit()?;
            tracing::info!(address = %record.address, "mailbox purged");
            purged.push(record.address);
        }
        Ok(purged)
    }
}

/// Form 03: disables the mailbox and schedules its purge. Agency mailboxes only
/// through dissolution (`agency_mailbox`).
pub(crate) fn plan_delete(
    plan: &mut Plan<'_>,
    address: &str,
    reason: &str,
    agency_mailbox: bool,
) -> Result<()> {
    let (local, mut record) = plan_existing(plan, address)?;
    if record.kind == AccountKind::Agency && !agency_mailbox {
        return Err(DirectoryError::Invalid(format!(
            "{} is an agency mailbox: it is deleted only with its agency (dissolution)",
            record.address
        )));
    }
    if record.deleted.is_some() {
        return Err(DirectoryError::Invalid(format!(
            "{} is already deleted",
            record.address
        )));
    }
    let retention = i64::from(plan.dir().settings.retention_days) * DAY_SECONDS;
    record.disabled = true;
    record.deleted = Some(Deletion {
        reason: reason.to_owned(),
        at: plan.now,
        purge_after: plan.now.saturating_add(retention),
        request: plan.request,
    });
    plan.put_account(&local, &record)?;
    plan.audit("delete", &record.address, reason);
    Ok(())
}

/// Removes every directory trace of a purged mailbox except its `dir.issued` tombstone.
fn plan_forget(plan: &mut Plan<'_>, record: &AccountRecord) -> Result<()> {
    let dir = plan.dir();
    let local = dir
        .local_part_of(&record.address)
        .ok_or_else(|| DirectoryError::Db(format!("stored address {} is malformed", record.address)))?;
    plan.remove(T::Accounts, local.as_str().as_bytes());
    plan.remove(T::AccountIds, &record.account.0.to_be_bytes());
    plan.remove(T::Passwords, &record.account.0.to_be_bytes());
    for alias in &record.aliases {
        if let Some(alias) = dir.local_part_of(alias) {
            plan.remove(T::Aliases, alias.as_str().as_bytes());
        }
    }
    if let Some(id) = &record.person_id {
        plan.remove(T::PersonIds, id.as_bytes());
    }
    index_name(plan, &record.agency, &record.display_name, &local, false)?;
    for (key, grant) in dir.trees.entries(T::Delegations)? {
        if let Ok(grant) = serde_json::from_slice::<Delegation>(&grant)
            && (grant.delegate == record.account || grant.mailbox == record.account)
        {
            plan.remove(T::Delegations, &key);
        }
    }
    Ok(())
}

/// Deletes the storage account with all its mail. Already gone (a crash after this
/// step, before the directory forgot the record) counts as done.
fn purge_content(store: &dyn MailStore, record: &AccountRecord) -> Result<()> {
    match store.delete_account(record.account) {
        Ok(()) | Err(StoreError::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
