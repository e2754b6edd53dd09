//! The records beside the mail on PostgreSQL: the outbound queue with its leases,
//! the Art. 10 access log, the mail events and the acknowledgements of receipt
//! (tables of `migrations/0002_records.sql`). Each record is kept as JSON, the same
//! serde form the sled store writes, and checked by the same `congvu_store::rules`.

use congvu_store::blob::BlobStore;
use congvu_store::rules::{self, bare_message_id, kept_message_id};
use congvu_store::{
    AccessEvent, AccessSpan, AccountId, Acknowledgement, EventRecord, Outbound, PendingAck, QueueEntry,
    QueueId, QueueUpdate, Result, SPAN_SEARCH, StoreError,
};
use tokio_postgres::types::Json;

use crate::db_error;
use crate::mail::{Pool, begin, client, commit, execute, put_blob, query, query_opt, release_blob};

fn queue_row(row: &tokio_postgres::Row) -> QueueEntry {
    let Json(mut entry): Json<QueueEntry> = row.get("entry");
    entry.id = QueueId(row.get::<_, i64>("id") as u64);
    entry
}

pub(crate) async fn enqueue(
    pool: &Pool,
    files: Option<&BlobStore>,
    message: &Outbound<'_>,
) -> Result<QueueId> {
    let contents = rules::message_contents(message.bytes)?;
    rules::check_outbound(message)?;
    let body = message.bytes.concat();
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let id: i64 = query_opt(&tx, "SELECT nextval('queue_id_seq')", &[])
        .await?
        .map(|row| row.get(0))
        .ok_or_else(|| StoreError::Db("no queue id".into()))?;
    let entry = rules::queue_entry(
        QueueId(id as u64),
        message,
        contents.id(),
        contents.len(),
        congvu_store::unix_now(),
    );
    put_blob(&tx, files, &entry.blob, &body, 1).await?;
    execute(
        &tx,
        "INSERT INTO queue (id, blob, next_attempt, entry) VALUES ($1, $2, $3, $4)",
        &[&id, &entry.blob.0.as_slice(), &entry.next_attempt, &Json(&entry)],
    )
    .await?;
    commit(tx).await?;
    Ok(entry.id)
}

pub(crate) async fn queue(pool: &Pool) -> Result<Vec<QueueEntry>> {
    let c = client(pool).await?;
    let rows = c
        .query("SELECT id, entry FROM queue ORDER BY id", &[])
        .await
        .map_err(|e| db_error(&e))?;
    Ok(rows.iter().map(queue_row).collect())
}

pub(crate) async fn queue_entry(pool: &Pool, id: QueueId) -> Result<Option<QueueEntry>> {
    let c = client(pool).await?;
    let row = c
        .query_opt("SELECT id, entry FROM queue WHERE id = $1", &[&(id.0 as i64)])
        .await
        .map_err(|e| db_error(&e))?;
    Ok(row.as_ref().map(queue_row))
}

/// Claims the due entries of `ids` whose lease ran out (migration 0002's second
/// invariant). `SKIP LOCKED` passes over rows another node is claiming this very
/// moment instead of waiting for it.
pub(crate) async fn claim_queue(
    pool: &Pool,
    ids: &[QueueId],
    now: i64,
    lease_until: i64,
) -> Result<Vec<QueueEntry>> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0 as i64).collect();
    let c = client(pool).await?;
    let rows = c
        .query(
            "UPDATE queue SET leased_until = $3 WHERE id IN (
                 SELECT id FROM queue
                 WHERE id = ANY($1) AND next_attempt <= $2 AND leased_until <= $2
                 FOR UPDATE SKIP LOCKED)
             RETURNING id, entry",
            &[&ids, &now, &lease_until],
        )
        .await
        .map_err(|e| db_error(&e))?;
    let mut claimed: Vec<QueueEntry> = rows.iter().map(queue_row).collect();
    claimed.sort_by_key(|e| e.id);
    Ok(claimed)
}

pub(crate) async fn queue_update(pool: &Pool, id: QueueId, update: &QueueUpdate<'_>) -> Result<()> {
    rules::check_queue_update(update)?;
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let row = query_opt(
        &tx,
        "SELECT id, entry FROM queue WHERE id = $1 FOR UPDATE",
        &[&(id.0 as i64)],
    )
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("queue entry {}", id.0)))?;
    let mut entry = queue_row(&row);
    rules::apply_queue_update(&mut entry, update)?;
    execute(
        &tx,
        "UPDATE queue SET entry = $2, next_attempt = $3, leased_until = 0 WHERE id = $1",
        &[&(id.0 as i64), &Json(&entry), &entry.next_attempt],
    )
    .await?;
    commit(tx).await
}

pub(crate) async fn queue_remove(pool: &Pool, id: QueueId) -> Result<()> {
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let row = query_opt(
        &tx,
        "DELETE FROM queue WHERE id = $1 RETURNING blob",
        &[&(id.0 as i64)],
    )
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("queue entry {}", id.0)))?;
    let blob: Vec<u8> = row.get("blob");
    release_blob(&tx, &crate::mail::blob_id(&blob)?, 1).await?;
    commit(tx).await
}

async fn insert_access(tx: &crate::mail::Tx<'_>, event: &AccessEvent) -> Result<()> {
    execute(
        tx,
        "INSERT INTO access_events (account, at, event) VALUES ($1, $2, $3)",
        &[&(event.account.0 as i64), &event.at, &Json(event)],
    )
    .await?;
    Ok(())
}

async fn insert_events(tx: &crate::mail::Tx<'_>, events: &[EventRecord]) -> Result<()> {
    for event in events {
        execute(
            tx,
            "INSERT INTO mail_events (at, event) VALUES ($1, $2)",
            &[&event.at, &Json(event)],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn record_access(pool: &Pool, event: &AccessEvent) -> Result<()> {
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    insert_access(&tx, event).await?;
    commit(tx).await
}

pub(crate) async fn record_login(pool: &Pool, access: &AccessEvent, event: &EventRecord) -> Result<()> {
    rules::validate_event(event)?;
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    insert_access(&tx, access).await?;
    insert_events(&tx, std::slice::from_ref(event)).await?;
    commit(tx).await
}

pub(crate) async fn access_events(
    pool: &Pool,
    account: AccountId,
    from: i64,
    until: i64,
) -> Result<Vec<AccessEvent>> {
    if until < from {
        return Ok(Vec::new());
    }
    let c = client(pool).await?;
    let rows = c
        .query(
            "SELECT event FROM access_events WHERE account = $1 AND at BETWEEN $2 AND $3 ORDER BY at, seq",
            &[&(account.0 as i64), &from, &until],
        )
        .await
        .map_err(|e| db_error(&e))?;
    Ok(rows
        .iter()
        .map(|row| row.get::<_, Json<AccessEvent>>(0).0)
        .collect())
}

pub(crate) async fn access_spans(
    pool: &Pool,
    account: AccountId,
    from: i64,
    until: i64,
) -> Result<Vec<AccessSpan>> {
    if until < from {
        return Ok(Vec::new());
    }
    let events = access_events(
        pool,
        account,
        from.saturating_sub(SPAN_SEARCH),
        until.saturating_add(SPAN_SEARCH),
    )
    .await?;
    Ok(rules::pair_spans(&events, from, until))
}

pub(crate) async fn record_events(pool: &Pool, events: &[EventRecord]) -> Result<()> {
    for event in events {
        rules::validate_event(event)?;
    }
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    insert_events(&tx, events).await?;
    commit(tx).await
}

pub(crate) async fn events(pool: &Pool, from: i64, until: i64) -> Result<Vec<EventRecord>> {
    if until < from {
        return Ok(Vec::new());
    }
    let c = client(pool).await?;
    let rows = c
        .query(
            "SELECT event FROM mail_events WHERE at BETWEEN $1 AND $2 ORDER BY at, seq",
            &[&from, &until],
        )
        .await
        .map_err(|e| db_error(&e))?;
    Ok(rows
        .iter()
        .map(|row| row.get::<_, Json<EventRecord>>(0).0)
        .collect())
}

pub(crate) async fn prune_events(pool: &Pool, before: i64) -> Result<u64> {
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let mut removed = execute(&tx, "DELETE FROM mail_events WHERE at < $1", &[&before]).await?;
    removed += execute(&tx, "DELETE FROM access_events WHERE at < $1", &[&before]).await?;
    removed += execute(
        &tx,
        "DELETE FROM acks WHERE (record->'acknowledged'->>'at')::BIGINT < $1",
        &[&before],
    )
    .await?;
    commit(tx).await?;
    Ok(removed)
}

pub(crate) async fn record_pending_ack(pool: &Pool, ack: &PendingAck) -> Result<()> {
    let mut ack = ack.clone();
    ack.message_id = kept_message_id(&ack.message_id)?.to_owned();
    let c = client(pool).await?;
    c.execute(
        "INSERT INTO acks (account, mailbox, uid, message_id, record) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account, mailbox, uid) DO UPDATE SET message_id = $4, record = $5",
        &[
            &(ack.account.0 as i64),
            &(ack.mailbox.0 as i64),
            &i64::from(ack.uid.get()),
            &ack.message_id,
            &Json(&ack),
        ],
    )
    .await
    .map_err(|e| db_error(&e))?;
    Ok(())
}

/// The first acknowledgement wins: the rows are locked, and one already
/// acknowledged keeps its record.
pub(crate) async fn acknowledge(
    pool: &Pool,
    account: AccountId,
    message_id: &str,
    by: &str,
    at: i64,
) -> Result<Option<PendingAck>> {
    let message_id = bare_message_id(message_id);
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let rows = query(
        &tx,
        "SELECT mailbox, uid, record FROM acks WHERE account = $1 AND message_id = $2
         ORDER BY mailbox, uid FOR UPDATE",
        &[&(account.0 as i64), &message_id],
    )
    .await?;
    let mut matched = Vec::with_capacity(rows.len());
    for row in &rows {
        let Json(mut ack): Json<PendingAck> = row.get("record");
        if ack.acknowledged.is_none() {
            ack.acknowledged = Some(Acknowledgement {
                by: by.to_owned(),
                at,
            });
            execute(
                &tx,
                "UPDATE acks SET record = $4 WHERE account = $1 AND mailbox = $2 AND uid = $3",
                &[
                    &(account.0 as i64),
                    &row.get::<_, i64>("mailbox"),
                    &row.get::<_, i64>("uid"),
                    &Json(&ack),
                ],
            )
            .await?;
        }
        matched.push(ack);
    }
    commit(tx).await?;
    Ok(matched.into_iter().min_by_key(|ack| ack.received_at))
}

pub(crate) async fn acks(pool: &Pool, account: Option<AccountId>) -> Result<Vec<PendingAck>> {
    let c = client(pool).await?;
    let rows = match account {
        Some(account) => {
            c.query(
                "SELECT record FROM acks WHERE account = $1 ORDER BY account, mailbox, uid",
                &[&(account.0 as i64)],
            )
            .await
        }
        None => {
            c.query("SELECT record FROM acks ORDER BY account, mailbox, uid", &[])
                .await
        }
    }
    .map_err(|e| db_error(&e))?;
    Ok(rows
        .iter()
        .map(|row| row.get::<_, Json<PendingAck>>(0).0)
        .collect())
}
