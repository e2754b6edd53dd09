//! `congvu check` on PostgreSQL: the invariants of the crate docs and of the
//! schema's comments, read back with SQL and compared, in one repeatable-read
//! snapshot (a live cluster keeps serving while it runs). The foreign keys already
//! forbid a message without a mailbox, a mailbox without an account and a message
//! naming a missing body; what is left to count is what the keys cannot say:
//! 1. every message's UID is below its mailbox's UIDNEXT and its MODSEQ at most the
//!    mailbox's HIGHESTMODSEQ (invariants 2 and 3);
//! 2. each mailbox's count, unseen count and size, and each account's used bytes,
//!    equal the sums of its messages;
//! 3. each body's reference count equals the messages and queue entries naming it
//!    (invariant 4);
//! 4. each live body kept in the body directory (`[store] blobs`) has its file.
//!
//! The repair sets the totals and reference counts to what the rows say and raises
//! UIDNEXT and HIGHESTMODSEQ above what the messages hold, like the sled store's.

use congvu_store::{CheckReport, Inconsistency, RepairReport, Result};
use tokio_postgres::Row;

use congvu_store::blob::BlobStore;

use crate::mail::{Pool, begin, blob_id, client, collect_dead_bodies, commit, execute, query};

const UID_ABOVE_UIDNEXT: &str = "SELECT m.mailbox, max(m.uid), max(m.modseq), b.uidnext, b.highestmodseq
     FROM messages m JOIN mailboxes b ON b.id = m.mailbox
     GROUP BY m.mailbox, b.uidnext, b.highestmodseq
     HAVING max(m.uid) >= b.uidnext OR max(m.modseq) > b.highestmodseq";

const MAILBOX_TOTALS: &str = "SELECT b.id, b.messages, b.unseen, b.size,
            count(m.uid), count(m.uid) FILTER (WHERE m.flags & 1 = 0), coalesce(sum(m.size), 0)::BIGINT
     FROM mailboxes b LEFT JOIN messages m ON m.mailbox = b.id
     GROUP BY b.id
     HAVING b.messages <> count(m.uid) OR b.unseen <> count(m.uid) FILTER (WHERE m.flags & 1 = 0)
         OR b.size <> coalesce(sum(m.size), 0)";

const ACCOUNT_USAGE: &str = "SELECT a.id, a.used_bytes, coalesce(sum(m.size), 0)::BIGINT
     FROM accounts a LEFT JOIN mailboxes b ON b.account = a.id LEFT JOIN messages m ON m.mailbox = b.id
     GROUP BY a.id HAVING a.used_bytes <> coalesce(sum(m.size), 0)";

const BLOB_REFERENCES: &str = "SELECT encode(x.id, 'hex'), x.refs,
            (SELECT count(*) FROM messages m WHERE m.blob = x.id) + (SELECT count(*) FROM queue q WHERE q.blob = x.id)
     FROM blobs x
     WHERE x.refs <> (SELECT count(*) FROM messages m WHERE m.blob = x.id) + (SELECT count(*) FROM queue q WHERE q.blob = x.id)";

fn problem(kind: &'static str, detail: String) -> Inconsistency {
    Inconsistency { kind, detail }
}

fn count(row: &Row, index: usize) -> u64 {
    row.get::<_, i64>(index) as u64
}

pub(crate) async fn check(pool: &Pool, files: Option<&BlobStore>) -> Result<CheckReport> {
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    execute(
        &tx,
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
        &[],
    )
    .await?;
    let totals = query(
        &tx,
        "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM mailboxes), (SELECT count(*) FROM messages),
                (SELECT count(*) FROM queue), (SELECT count(*) FROM blobs), (SELECT count(*) FROM mail_events),
                (SELECT count(*) FROM access_events), (SELECT count(*) FROM acks)",
        &[],
    )
    .await?;
    let mut report = CheckReport::default();
    if let Some(row) = totals.first() {
        report.accounts = count(row, 0);
        report.mailboxes = count(row, 1);
        report.messages = count(row, 2);
        report.queue_entries = count(row, 3);
        report.blobs = count(row, 4);
        report.mail_events = count(row, 5);
        report.access_events = count(row, 6);
        report.acks = count(row, 7);
    }
    for row in query(&tx, UID_ABOVE_UIDNEXT, &[]).await? {
        report.problems.push(problem(
            "uid-above-uidnext",
            format!(
                "mailbox {}: highest UID {} / MODSEQ {}, UIDNEXT {} / HIGHESTMODSEQ {}",
                row.get::<_, i64>(0),
                row.get::<_, i64>(1),
                row.get::<_, i64>(2),
                row.get::<_, i64>(3),
                row.get::<_, i64>(4)
            ),
        ));
    }
    for row in query(&tx, MAILBOX_TOTALS, &[]).await? {
        report.problems.push(problem(
            "mailbox-totals",
            format!(
                "mailbox {}: records {} messages ({} unseen, {} bytes), holds {} ({} unseen, {} bytes)",
                row.get::<_, i64>(0),
                row.get::<_, i64>(1),
                row.get::<_, i64>(2),
                row.get::<_, i64>(3),
                row.get::<_, i64>(4),
                row.get::<_, i64>(5),
                row.get::<_, i64>(6)
            ),
        ));
    }
    for row in query(&tx, ACCOUNT_USAGE, &[]).await? {
        report.problems.push(problem(
            "quota-usage",
            format!(
                "account {}: records {} bytes used, holds {}",
                row.get::<_, i64>(0),
                row.get::<_, i64>(1),
                row.get::<_, i64>(2)
            ),
        ));
    }
    for row in query(&tx, BLOB_REFERENCES, &[]).await? {
        report.problems.push(problem(
            "blob-refcount",
            format!(
                "blob {}: {} references recorded, {} exist",
                row.get::<_, String>(0),
                row.get::<_, i64>(1),
                row.get::<_, i64>(2)
            ),
        ));
    }
    // 4. Every live body kept in the body directory has its file.
    for row in query(
        &tx,
        "SELECT id FROM blobs WHERE content IS NULL AND refs > 0 ORDER BY id",
        &[],
    )
    .await?
    {
        let id = blob_id(row.get::<_, &[u8]>(0))?;
        let present = files.is_some_and(|files| files.path(&id).exists());
        if !present {
            report.problems.push(problem(
                "blob-missing",
                format!(
                    "body {}: its file is not in the body directory ([store] blobs)",
                    id.to_hex()
                ),
            ));
        }
    }
    commit(tx).await?;
    Ok(report)
}

pub(crate) async fn repair(pool: &Pool, files: Option<&BlobStore>) -> Result<RepairReport> {
    let found = check(pool, files).await?.problems;
    if !found.is_empty() {
        let mut c = client(pool).await?;
        let tx = begin(&mut c).await?;
        // Lock order of the crate: accounts, then mailboxes, then bodies.
        execute(
            &tx,
            "LOCK TABLE accounts, mailboxes, messages, blobs, queue IN SHARE ROW EXCLUSIVE MODE",
            &[],
        )
        .await?;
        execute(
            &tx,
            "UPDATE mailboxes b SET
                 messages = t.messages, unseen = t.unseen, size = t.size,
                 uidnext = greatest(b.uidnext, t.uid + 1), highestmodseq = greatest(b.highestmodseq, t.modseq)
             FROM (SELECT b.id, count(m.uid) AS messages, count(m.uid) FILTER (WHERE m.flags & 1 = 0) AS unseen,
                          coalesce(sum(m.size), 0)::BIGINT AS size, coalesce(max(m.uid), 0) AS uid,
                          coalesce(max(m.modseq), 0) AS modseq
                   FROM mailboxes b LEFT JOIN messages m ON m.mailbox = b.id GROUP BY b.id) t
             WHERE t.id = b.id",
            &[],
        )
        .await?;
        execute(
            &tx,
            "UPDATE accounts a SET used_bytes = coalesce((SELECT sum(m.size) FROM mailboxes b JOIN messages m
                 ON m.mailbox = b.id WHERE b.account = a.id), 0)",
            &[],
        )
        .await?;
        execute(
            &tx,
            "UPDATE blobs x SET refs = (SELECT count(*) FROM messages m WHERE m.blob = x.id)
                                    + (SELECT count(*) FROM queue q WHERE q.blob = x.id)",
            &[],
        )
        .await?;
        execute(
            &tx,
            "DELETE FROM blobs WHERE refs <= 0 AND content IS NOT NULL",
            &[],
        )
        .await?;
        commit(tx).await?;
    }
    let orphans_removed = match files {
        Some(files) => collect_dead_bodies(pool, files).await?,
        None => 0,
    };
    Ok(RepairReport {
        found,
        orphans_removed,
        after: check(pool, files).await?,
    })
}
