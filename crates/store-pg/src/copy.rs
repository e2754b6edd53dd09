//! `congvu store migrate --from sled:DATA_DIR --to postgres:URL`: copies a stopped
//! province's store and directory into an empty PostgreSQL database, keeping every
//! id (accounts, mailboxes, UIDs, UIDVALIDITY, MODSEQs, queue entries), then reads
//! everything back and compares.
//!
//! The source is read through `MailStore` and `DirectoryStorage` only, so what is
//! copied is what the server serves. Two things the trait does not give exactly:
//! - the expunge log keeps its UIDs, each at the mailbox's HIGHESTMODSEQ: a client
//!   resynchronising (RFC 7162 QRESYNC) from an older MODSEQ is told of every UID
//!   expunged since, and perhaps of some expunged before, which §3.2.5.2 allows;
//! - access events are copied for the accounts that exist (events of an account
//!   already purged are not reachable through the trait).
//!
//! ## What the verification compares
//! Counts of accounts, mailboxes, messages, queue entries, mail events, access
//! events, acknowledgement records and directory records; every mailbox's
//! (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ) and every message's (UID, body, flags,
//! keywords, MODSEQ, dates); and every body read back from PostgreSQL hashes to its
//! id (SHA-256: the content address).

use std::collections::BTreeMap;
use std::sync::Arc;

use congvu_directory::storage::DirectoryStorage;
use congvu_store::{AccountId, BlobId, MailStore, MailboxInfo, MessageMeta, Result, SpecialUse, StoreError};
use tokio_postgres::types::Json;

use crate::PgStore;
use crate::mail::{begin, client, commit, execute, insert_message_row, put_blob, query_opt};

/// What was copied and checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CopyReport {
    pub accounts: u64,
    pub mailboxes: u64,
    pub messages: u64,
    pub bodies: u64,
    pub body_bytes: u64,
    pub queue_entries: u64,
    pub mail_events: u64,
    pub access_events: u64,
    pub acks: u64,
    pub directory_records: u64,
    /// What differs between the source and the copy (empty: verified).
    pub differences: Vec<String>,
}

/// Every mailbox with its messages, by mailbox id.
type Snapshot = BTreeMap<u64, (MailboxInfo, Vec<MessageMeta>)>;

fn snapshot(store: &dyn MailStore) -> Result<Snapshot> {
    let mut mailboxes = BTreeMap::new();
    for account in store.account_ids()? {
        for mut info in store.list_mailboxes(account)? {
            // `subscribed` is compared through `subscriptions`.
            info.subscribed = false;
            let messages = store.messages(info.id)?;
            mailboxes.insert(info.id.0, (info, messages));
        }
    }
    Ok(mailboxes)
}

/// Copies `source` (store and directory) into `target`, whose database must hold
/// no account yet, and verifies the copy.
pub fn copy_into(
    source: &dyn MailStore,
    directory: &dyn DirectoryStorage,
    trees: &[&'static str],
    target: &Arc<PgStore>,
) -> Result<CopyReport> {
    target.run(async {
        let c = client(target.pool()).await?;
        let row = c
            .query_one("SELECT count(*) FROM accounts", &[])
            .await
            .map_err(|e| crate::db_error(&e))?;
        if row.get::<_, i64>(0) > 0 {
            return Err(StoreError::Invalid(
                "cơ sở dữ liệu đích đã có dữ liệu / the target database is not empty".into(),
            ));
        }
        Ok(())
    })?;
    let mut report = CopyReport::default();
    let accounts = source.account_ids()?;
    let mut bodies: BTreeMap<[u8; 32], u64> = BTreeMap::new();
    for &account in &accounts {
        let storage = source
            .account(account)?
            .ok_or_else(|| StoreError::NotFound(format!("account {}", account.0)))?;
        let mailboxes = source.list_mailboxes(account)?;
        let subscriptions = source.subscriptions(account)?;
        let mut per_mailbox = Vec::with_capacity(mailboxes.len());
        for info in &mailboxes {
            per_mailbox.push((
                info.clone(),
                source.messages(info.id)?,
                source.vanished_since(info.id, 0)?,
                source.recent_from(info.id)?,
            ));
        }
        target.run(async {
            let mut c = client(target.pool()).await?;
            let tx = begin(&mut c).await?;
            execute(
                &tx,
                "INSERT INTO accounts (id, kind, quota_bytes, used_bytes) VALUES ($1, $2, $3, $4)",
                &[
                    &(account.0 as i64),
                    &crate::mail::kind_text(storage.kind),
                    &(storage.quota_bytes as i64),
                    &(storage.used_bytes as i64),
                ],
            )
            .await?;
            for (info, messages, vanished, recent) in &per_mailbox {
                execute(
                    &tx,
                    "INSERT INTO mailboxes (id, account, name, uidvalidity, uidnext, highestmodseq, special_use,
                         subscribed, messages, unseen, size, recent_claimed)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    &[
                        &(info.id.0 as i64),
                        &(account.0 as i64),
                        &info.name,
                        &i64::from(info.uidvalidity),
                        &i64::from(info.uidnext),
                        &(info.highestmodseq as i64),
                        &info.special_use.map(SpecialUse::attribute),
                        &info.subscribed,
                        &i64::from(info.messages),
                        &i64::from(info.unseen),
                        &(info.size as i64),
                        &i64::from(*recent),
                    ],
                )
                .await?;
                for meta in messages {
                    refer(&tx, source, target, &meta.blob, &mut bodies).await?;
                    insert_message_row(&tx, info.id, meta.uid, meta.modseq, meta).await?;
                }
                for uid in vanished {
                    execute(
                        &tx,
                        "INSERT INTO expunged (mailbox, uid, modseq) VALUES ($1, $2, $3)",
                        &[&(info.id.0 as i64), &i64::from(uid.get()), &(info.highestmodseq as i64)],
                    )
                    .await?;
                }
            }
            for name in &subscriptions {
                if !per_mailbox.iter().any(|(info, ..)| &info.name == name) {
                    execute(
                        &tx,
                        "INSERT INTO kept_subscriptions (account, name) VALUES ($1, $2)",
                        &[&(account.0 as i64), name],
                    )
                    .await?;
                }
            }
            commit(tx).await
        })?;
    }
    let queue = source.queue()?;
    let events = source.events(i64::MIN, i64::MAX)?;
    let mut access = Vec::new();
    for &account in &accounts {
        access.extend(source.access_events(account, i64::MIN, i64::MAX)?);
    }
    let acks = source.acks(None)?;
    let mut records = Vec::new();
    for tree in trees {
        for (key, value) in directory
            .scan_prefix(tree, &[])
            .map_err(|e| StoreError::Db(e.to_string()))?
        {
            records.push((*tree, key, value));
        }
    }
    target.run(async {
        let mut c = client(target.pool()).await?;
        let tx = begin(&mut c).await?;
        for entry in &queue {
            let blob = entry.blob.0.as_slice();
            refer(&tx, source, target, &entry.blob, &mut bodies).await?;
            execute(
                &tx,
                "INSERT INTO queue (id, blob, next_attempt, entry) VALUES ($1, $2, $3, $4)",
                &[&(entry.id.0 as i64), &blob, &entry.next_attempt, &Json(entry)],
            )
            .await?;
        }
        for event in &events {
            execute(&tx, "INSERT INTO mail_events (at, event) VALUES ($1, $2)", &[&event.at, &Json(event)]).await?;
        }
        for event in &access {
            execute(
                &tx,
                "INSERT INTO access_events (account, at, event) VALUES ($1, $2, $3)",
                &[&(event.account.0 as i64), &event.at, &Json(event)],
            )
            .await?;
        }
        for ack in &acks {
            execute(
                &tx,
                "INSERT INTO acks (account, mailbox, uid, message_id, record) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &(ack.account.0 as i64),
                    &(ack.mailbox.0 as i64),
                    &i64::from(ack.uid.get()),
                    &ack.message_id,
                    &Json(ack),
                ],
            )
            .await?;
        }
        for (tree, key, value) in &records {
            execute(
                &tx,
                "INSERT INTO directory (tree, key, value) VALUES ($1, $2, $3)",
                &[tree, key, value],
            )
            .await?;
        }
        // The sequences continue above what was copied: new ids never meet old ones.
        for (sequence, table) in [
            ("accounts_id_seq", "accounts"),
            ("mailboxes_id_seq", "mailboxes"),
            ("queue_id_seq", "queue"),
        ] {
            execute(
                &tx,
                &format!("SELECT setval('{sequence}', greatest((SELECT coalesce(max(id), 0) FROM {table}), 1))"),
                &[],
            )
            .await?;
        }
        let audit_high = records
            .iter()
            .filter_map(|(_, key, _)| <[u8; 8]>::try_from(key.as_slice()).ok().map(u64::from_be_bytes))
            .max()
            .unwrap_or(0);
        execute(
            &tx,
            "SELECT setval('directory_ids', greatest($1::BIGINT, 1)), setval('uidvalidity', greatest(
                 (SELECT coalesce(max(uidvalidity), 0) FROM mailboxes), (SELECT last_value FROM uidvalidity)))",
            &[&(audit_high.min(i64::MAX as u64) as i64)],
        )
        .await?;
        commit(tx).await
    })?;

    report.accounts = accounts.len() as u64;
    report.queue_entries = queue.len() as u64;
    report.mail_events = events.len() as u64;
    report.access_events = access.len() as u64;
    report.acks = acks.len() as u64;
    report.directory_records = records.len() as u64;
    report.bodies = bodies.len() as u64;
    report.body_bytes = bodies.values().sum();
    verify(source, target, &accounts, &records, &mut report)?;
    Ok(report)
}

/// One more reference to `blob` in the copy: its body is copied from `source` the
/// first time (`bodies` counts them and their bytes).
async fn refer(
    tx: &crate::mail::Tx<'_>,
    source: &dyn MailStore,
    target: &PgStore,
    blob: &BlobId,
    bodies: &mut BTreeMap<[u8; 32], u64>,
) -> Result<()> {
    let key = blob.0.as_slice();
    if query_opt(tx, "SELECT 1 FROM blobs WHERE id = $1", &[&key])
        .await?
        .is_none()
    {
        let bytes = source.read_blob(blob)?;
        put_blob(tx, target.files(), blob, &bytes, 0).await?;
        bodies.insert(blob.0, bytes.len() as u64);
    }
    execute(tx, "UPDATE blobs SET refs = refs + 1 WHERE id = $1", &[&key]).await?;
    Ok(())
}

/// Reads the copy back and records every difference (module docs).
fn verify(
    source: &dyn MailStore,
    target: &Arc<PgStore>,
    accounts: &[AccountId],
    records: &[(&'static str, Vec<u8>, Vec<u8>)],
    report: &mut CopyReport,
) -> Result<()> {
    let (before, after) = (snapshot(source)?, snapshot(target.as_ref())?);
    report.mailboxes = after.len() as u64;
    report.messages = after.values().map(|(_, messages)| messages.len() as u64).sum();
    if before != after {
        for (id, (info, messages)) in &before {
            match after.get(id) {
                None => report
                    .differences
                    .push(format!("mailbox {id} ({}) missing", info.name)),
                Some((copy, copied)) if copy != info || copied != messages => report
                    .differences
                    .push(format!("mailbox {id} ({}) differs", info.name)),
                Some(_) => {}
            }
        }
    }
    for &account in accounts {
        if source.subscriptions(account)? != target.subscriptions(account)? {
            report
                .differences
                .push(format!("account {}: subscriptions differ", account.0));
        }
        if source.account(account)? != target.account(account)? {
            report
                .differences
                .push(format!("account {}: quota or usage differs", account.0));
        }
    }
    let checks: [(&str, u64, u64); 4] = [
        (
            "queue entries",
            report.queue_entries,
            target.queue()?.len() as u64,
        ),
        (
            "mail events",
            report.mail_events,
            target.events(i64::MIN, i64::MAX)?.len() as u64,
        ),
        (
            "acknowledgement records",
            report.acks,
            target.acks(None)?.len() as u64,
        ),
        ("access events", report.access_events, {
            let mut n = 0;
            for &account in accounts {
                n += target.access_events(account, i64::MIN, i64::MAX)?.len() as u64;
            }
            n
        }),
    ];
    for (what, copied, found) in checks {
        if copied != found {
            report
                .differences
                .push(format!("{what}: {copied} copied, {found} found"));
        }
    }
    let directory = crate::directory::PgDirectory::new(Arc::clone(target));
    for (tree, key, value) in records {
        let found = directory
            .get(tree, key)
            .map_err(|e| StoreError::Db(e.to_string()))?;
        if found.as_deref() != Some(value.as_slice()) {
            report
                .differences
                .push(format!("directory record {tree} {key:?} differs"));
        }
    }
    // Every body hashes to its address.
    let ids: Vec<Vec<u8>> = target.run(async {
        let c = client(target.pool()).await?;
        let rows = c
            .query("SELECT id FROM blobs", &[])
            .await
            .map_err(|e| crate::db_error(&e))?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    })?;
    for id in ids {
        let id = crate::mail::blob_id(&id)?;
        if BlobId::of(&target.read_blob(&id)?) != id {
            report
                .differences
                .push(format!("body {} does not hash to its id", id.to_hex()));
        }
    }
    let check = target.check()?;
    report.differences.extend(
        check
            .problems
            .into_iter()
            .map(|p| format!("{}: {}", p.kind, p.detail)),
    );
    Ok(())
}
