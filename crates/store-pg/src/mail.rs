//! `MailStore` for [`PgStore`]: the SQL of each operation, keeping the crate's
//! invariants. Row locks are taken in one order — accounts by id, then mailboxes by
//! id, then bodies by id — so concurrent transactions wait rather than deadlock:
//! every operation that changes quota usage locks its account(s) before any
//! mailbox, and a body's row (its reference count) only after every mailbox it
//! needs. A deadlock PostgreSQL still detects (or a serialization failure) makes
//! the operation run again from the start ([`PgStore::run_retrying`]).

use std::collections::{BTreeMap, HashMap};

use congvu_store::blob::{BlobStore, Contents};
use congvu_store::names::{self, INBOX};
use congvu_store::rules::{
    FlagChange, check_quota, new_message, sorted_unique, store_on_message, unique_keywords,
};
use congvu_store::{
    AccessEvent, AccessSpan, AccountId, AccountKind, AccountStorage, Append, Appended, BackupManifest,
    BackupSpec, BlobId, Change, ChangeKind, Changes, CheckReport, Copied, DEFAULT_MAILBOXES, Delivery,
    DeliveryFolder, DeliveryOutcome, EventRecord, FlagStore, Flags, HIERARCHY_SEPARATOR, MailStore,
    MailboxId, MailboxInfo, MessageMeta, Outbound, PendingAck, Progress, QueueEntry, QueueId, QueueUpdate,
    QuotaRule, RepairReport, Result, SpecialUse, StoreError, StoreOutcome, StoreSize, Subscription, Uid,
};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::{CHANNEL, PgStore, check, db_error, pool_error, records};

pub(crate) type Tx<'a> = deadpool_postgres::Transaction<'a>;

const MAILBOX_COLUMNS: &str =
    "id, account, name, uidvalidity, uidnext, highestmodseq, special_use, subscribed, messages, unseen, size";
const MESSAGE_COLUMNS: &str = "uid, blob, size, internal_date, internal_date_offset, flags, keywords, modseq";

fn no_account(account: AccountId) -> StoreError {
    StoreError::NotFound(format!("account {}", account.0))
}

fn no_mailbox(mailbox: MailboxId) -> StoreError {
    StoreError::NotFound(format!("mailbox {}", mailbox.0))
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn kind_text(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Agency => "agency",
        AccountKind::Personal => "personal",
    }
}

fn kind_of(text: &str) -> Result<AccountKind> {
    match text {
        "agency" => Ok(AccountKind::Agency),
        "personal" => Ok(AccountKind::Personal),
        other => Err(StoreError::Corrupt(format!("account kind {other:?}"))),
    }
}

fn mailbox_of(row: &Row) -> Result<MailboxInfo> {
    let special: Option<String> = row.get("special_use");
    Ok(MailboxInfo {
        id: MailboxId(row.get::<_, i64>("id") as u64),
        account: AccountId(row.get::<_, i64>("account") as u64),
        name: row.get("name"),
        uidvalidity: row.get::<_, i64>("uidvalidity") as u32,
        uidnext: row.get::<_, i64>("uidnext") as u32,
        highestmodseq: row.get::<_, i64>("highestmodseq") as u64,
        special_use: special.as_deref().and_then(SpecialUse::from_attribute),
        subscribed: row.get("subscribed"),
        messages: row.get::<_, i64>("messages") as u32,
        unseen: row.get::<_, i64>("unseen") as u32,
        size: row.get::<_, i64>("size") as u64,
    })
}

/// A blob id read from a row.
pub(crate) fn blob_id(bytes: &[u8]) -> Result<BlobId> {
    <[u8; 32]>::try_from(bytes)
        .map(BlobId)
        .map_err(|_| StoreError::Corrupt("a blob id is not 32 bytes".into()))
}

fn message_of(row: &Row) -> Result<MessageMeta> {
    let blob = blob_id(row.get::<_, &[u8]>("blob"))?;
    Ok(MessageMeta {
        uid: Uid::new(row.get::<_, i64>("uid") as u32).ok_or_else(|| StoreError::Corrupt("UID 0".into()))?,
        blob,
        size: row.get::<_, i64>("size") as u64,
        internal_date: row.get("internal_date"),
        internal_date_offset: row.get("internal_date_offset"),
        flags: Flags(row.get::<_, i16>("flags") as u8),
        keywords: row.get("keywords"),
        modseq: row.get::<_, i64>("modseq") as u64,
    })
}

fn uids_param(uids: &[Uid]) -> Vec<i64> {
    uids.iter().map(|u| i64::from(u.get())).collect()
}

/// Sends a change to every node, at commit (invariant 5).
async fn notify(tx: &Tx<'_>, info: &MailboxInfo, kind: ChangeKind) -> Result<()> {
    let change = Change {
        account: info.account,
        mailbox: info.id,
        kind,
        modseq: info.highestmodseq,
    };
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &change.to_string()])
        .await
        .map_err(|e| db_error(&e))?;
    Ok(())
}

pub(crate) async fn query(tx: &Tx<'_>, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
    tx.query(sql, params).await.map_err(|e| db_error(&e))
}

pub(crate) async fn query_opt(tx: &Tx<'_>, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
    tx.query_opt(sql, params).await.map_err(|e| db_error(&e))
}

pub(crate) async fn execute(tx: &Tx<'_>, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
    tx.execute(sql, params).await.map_err(|e| db_error(&e))
}

/// The mailbox, locked for this transaction.
async fn lock_mailbox(tx: &Tx<'_>, mailbox: MailboxId) -> Result<MailboxInfo> {
    let row = query_opt(
        tx,
        &format!("SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE id = $1 FOR UPDATE"),
        &[&(mailbox.0 as i64)],
    )
    .await?
    .ok_or_else(|| no_mailbox(mailbox))?;
    mailbox_of(&row)
}

/// The account a mailbox belongs to (read without a lock: a mailbox never changes
/// account).
async fn account_of(tx: &Tx<'_>, mailbox: MailboxId) -> Result<AccountId> {
    query_opt(
        tx,
        "SELECT account FROM mailboxes WHERE id = $1",
        &[&(mailbox.0 as i64)],
    )
    .await?
    .map(|row| AccountId(row.get::<_, i64>(0) as u64))
    .ok_or_else(|| no_mailbox(mailbox))
}

async fn mailbox_id(tx: &Tx<'_>, account: AccountId, name: &str) -> Result<Option<MailboxId>> {
    Ok(query_opt(
        tx,
        "SELECT id FROM mailboxes WHERE account = $1 AND name = $2",
        &[&(account.0 as i64), &name],
    )
    .await?
    .map(|row| MailboxId(row.get::<_, i64>(0) as u64)))
}

async fn insert_mailbox(
    tx: &Tx<'_>,
    account: AccountId,
    name: &str,
    special_use: Option<SpecialUse>,
) -> Result<MailboxInfo> {
    let special = special_use.map(SpecialUse::attribute);
    let row = query_opt(
        tx,
        &format!(
            "INSERT INTO mailboxes (account, name, uidvalidity, special_use)
             VALUES ($1, $2, nextval('uidvalidity'), $3) RETURNING {MAILBOX_COLUMNS}"
        ),
        &[&(account.0 as i64), &name, &special],
    )
    .await?
    .ok_or_else(|| StoreError::Db("INSERT returned no row".into()))?;
    mailbox_of(&row)
}

/// The missing parent levels of `name` (`a` and `a/b` for `a/b/c`), created.
async fn create_parents(tx: &Tx<'_>, account: AccountId, name: &str) -> Result<Vec<MailboxInfo>> {
    let mut created = Vec::new();
    let mut at = 0;
    while let Some(found) = name[at..].find(HIERARCHY_SEPARATOR) {
        let parent = &name[..at + found];
        if mailbox_id(tx, account, parent).await?.is_none() {
            created.push(insert_mailbox(tx, account, parent, None).await?);
        }
        at += found + 1;
    }
    Ok(created)
}

/// Adds `template` to the locked `info` with the next UID and MODSEQ.
async fn add_message(tx: &Tx<'_>, info: &mut MailboxInfo, template: &MessageMeta) -> Result<Uid> {
    let uid = Uid::new(info.uidnext).ok_or_else(|| StoreError::Corrupt("UIDNEXT 0".into()))?;
    info.uidnext = info
        .uidnext
        .checked_add(1)
        .ok_or_else(|| StoreError::Invalid("the mailbox ran out of UIDs".into()))?;
    info.highestmodseq += 1;
    info.messages += 1;
    if !template.flags.contains(Flags::SEEN) {
        info.unseen += 1;
    }
    info.size += template.size;
    insert_message_row(tx, info.id, uid, info.highestmodseq, template).await?;
    put_counters(tx, info).await?;
    Ok(uid)
}

/// The row of a message in `mailbox` at `uid` and `modseq`, with `meta`'s body,
/// size, dates, flags and keywords (its own UID and MODSEQ are not read).
pub(crate) async fn insert_message_row(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    uid: Uid,
    modseq: u64,
    meta: &MessageMeta,
) -> Result<()> {
    execute(
        tx,
        "INSERT INTO messages (mailbox, uid, blob, size, internal_date, internal_date_offset, flags, keywords, modseq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &(mailbox.0 as i64),
            &i64::from(uid.get()),
            &meta.blob.0.as_slice(),
            &to_i64(meta.size),
            &meta.internal_date,
            &meta.internal_date_offset,
            &i16::from(meta.flags.0),
            &meta.keywords,
            &(modseq as i64),
        ],
    )
    .await?;
    Ok(())
}

/// Writes the mailbox's counters back.
async fn put_counters(tx: &Tx<'_>, info: &MailboxInfo) -> Result<()> {
    execute(
        tx,
        "UPDATE mailboxes SET uidnext = $2, highestmodseq = $3, messages = $4, unseen = $5, size = $6
         WHERE id = $1",
        &[
            &(info.id.0 as i64),
            &i64::from(info.uidnext),
            &(info.highestmodseq as i64),
            &i64::from(info.messages),
            &i64::from(info.unseen),
            &to_i64(info.size),
        ],
    )
    .await?;
    Ok(())
}

/// The account, locked.
async fn lock_account(tx: &Tx<'_>, account: AccountId) -> Result<AccountStorage> {
    let row = query_opt(
        tx,
        "SELECT id, kind, quota_bytes, used_bytes FROM accounts WHERE id = $1 FOR UPDATE",
        &[&(account.0 as i64)],
    )
    .await?
    .ok_or_else(|| no_account(account))?;
    Ok(AccountStorage {
        id: account,
        kind: kind_of(row.get("kind"))?,
        quota_bytes: row.get::<_, i64>("quota_bytes") as u64,
        used_bytes: row.get::<_, i64>("used_bytes") as u64,
    })
}

async fn add_usage(tx: &Tx<'_>, account: AccountId, delta: i64) -> Result<()> {
    execute(
        tx,
        "UPDATE accounts SET used_bytes = greatest(used_bytes + $2, 0) WHERE id = $1",
        &[&(account.0 as i64), &delta],
    )
    .await?;
    Ok(())
}

/// Makes sure the body is stored (content-addressed: once), locks its row and adds
/// `refs` references. In PostgreSQL (`files` is `None`) the bytes go into the row;
/// with a body directory they go into its file, written (and fsynced) while this
/// transaction holds the row, whenever the row had no reference: then no
/// collection of dead bodies (`collect_dead_bodies`) can remove the file before
/// the reference commits.
pub(crate) async fn put_blob(
    tx: &Tx<'_>,
    files: Option<&BlobStore>,
    id: &BlobId,
    bytes: &[u8],
    refs: i64,
) -> Result<()> {
    let key = id.0.as_slice();
    let Some(files) = files else {
        let raised = execute(
            tx,
            "UPDATE blobs SET refs = refs + $2 WHERE id = $1",
            &[&key, &refs],
        )
        .await?;
        if raised == 0 {
            // A concurrent first put of the same body waits here for the other's
            // commit, then adds to its row.
            execute(
                tx,
                "INSERT INTO blobs (id, refs, size, content) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET refs = blobs.refs + EXCLUDED.refs",
                &[&key, &refs, &(bytes.len() as i64), &bytes],
            )
            .await?;
        }
        return Ok(());
    };
    let before: i64 = query_opt(
        tx,
        "INSERT INTO blobs (id, refs, size, content) VALUES ($1, $2, $3, NULL)
         ON CONFLICT (id) DO UPDATE SET refs = blobs.refs + EXCLUDED.refs
         RETURNING refs - $2",
        &[&key, &refs, &(bytes.len() as i64)],
    )
    .await?
    .map_or(0, |row| row.get(0));
    if before <= 0 {
        let parts = [bytes];
        tokio::task::block_in_place(|| files.put(&Contents::new(&parts)))
            .map_err(|e| StoreError::Db(format!("body directory: {e}")))?;
    }
    Ok(())
}

/// Drops `count` references to the body. A body kept in its row goes with its last
/// reference, in this transaction (invariant 4); a body in the body directory
/// stays as a dead row until `collect_dead_bodies` removes row and file after the
/// commit.
pub(crate) async fn release_blob(tx: &Tx<'_>, id: &BlobId, count: i64) -> Result<()> {
    execute(
        tx,
        "UPDATE blobs SET refs = refs - $2 WHERE id = $1",
        &[&id.0.as_slice(), &count],
    )
    .await?;
    execute(
        tx,
        "DELETE FROM blobs WHERE id = $1 AND refs <= 0 AND content IS NOT NULL",
        &[&id.0.as_slice()],
    )
    .await?;
    Ok(())
}

/// Removes the bodies of the body directory that lost their last reference: each
/// row under its lock, its file, then the commit (a crash in between leaves the
/// dead row, and the next collection finishes). Returns how many went.
pub(crate) async fn collect_dead_bodies(pool: &Pool, files: &BlobStore) -> Result<u64> {
    let mut c = client(pool).await?;
    let dead: Vec<Vec<u8>> = c
        .query("SELECT id FROM blobs WHERE refs <= 0 ORDER BY id", &[])
        .await
        .map_err(|e| db_error(&e))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut removed = 0;
    for id in dead {
        let tx = begin(&mut c).await?;
        let gone = query_opt(
            &tx,
            "DELETE FROM blobs WHERE id = $1 AND refs <= 0 RETURNING id",
            &[&id],
        )
        .await?
        .is_some();
        if gone {
            let blob = blob_id(&id)?;
            tokio::task::block_in_place(|| files.remove(&blob))
                .map_err(|e| StoreError::Db(format!("body directory: {e}")))?;
            removed += 1;
        }
        commit(tx).await?;
    }
    Ok(removed)
}

/// Drops references to bodies, in id order (the module docs).
async fn release_blobs(tx: &Tx<'_>, released: &BTreeMap<BlobId, i64>) -> Result<()> {
    for (blob, count) in released {
        release_blob(tx, blob, *count).await?;
    }
    Ok(())
}

/// Deletes a mailbox and its messages, releasing their bodies and usage.
async fn drop_mailbox(tx: &Tx<'_>, mailbox: MailboxId) -> Result<MailboxInfo> {
    let info = lock_mailbox(tx, mailbox).await?;
    let rows = query(
        tx,
        "DELETE FROM messages WHERE mailbox = $1 RETURNING blob, size",
        &[&(mailbox.0 as i64)],
    )
    .await?;
    let mut released: BTreeMap<BlobId, i64> = BTreeMap::new();
    let mut freed = 0i64;
    for row in &rows {
        *released.entry(blob_id(row.get::<_, &[u8]>("blob"))?).or_default() += 1;
        freed += row.get::<_, i64>("size");
    }
    release_blobs(tx, &released).await?;
    add_usage(tx, info.account, -freed).await?;
    execute(tx, "DELETE FROM mailboxes WHERE id = $1", &[&(mailbox.0 as i64)]).await?;
    Ok(info)
}

pub(crate) type Pool = deadpool_postgres::Pool;

pub(crate) async fn commit(tx: Tx<'_>) -> Result<()> {
    tx.commit().await.map_err(|e| db_error(&e))
}

/// A pooled connection and a transaction on it: `let mut c = client(pool).await?;
/// let tx = begin(&mut c).await?;`.
pub(crate) async fn client(pool: &Pool) -> Result<deadpool_postgres::Object> {
    pool.get().await.map_err(pool_error)
}

pub(crate) async fn begin(client: &mut deadpool_postgres::Object) -> Result<Tx<'_>> {
    client.transaction().await.map_err(|e| db_error(&e))
}

async fn create_account(pool: &Pool, kind: AccountKind, quota_bytes: u64) -> Result<AccountId> {
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let row = query_opt(
        &tx,
        "INSERT INTO accounts (kind, quota_bytes) VALUES ($1, $2) RETURNING id",
        &[&kind_text(kind), &to_i64(quota_bytes)],
    )
    .await?
    .ok_or_else(|| StoreError::Db("INSERT returned no row".into()))?;
    let id = AccountId(row.get::<_, i64>(0) as u64);
    for (name, special_use) in DEFAULT_MAILBOXES {
        insert_mailbox(&tx, id, name, special_use).await?;
    }
    commit(tx).await?;
    Ok(id)
}

async fn account(pool: &Pool, id: AccountId) -> Result<Option<AccountStorage>> {
    let c = client(pool).await?;
    let row = c
        .query_opt(
            "SELECT kind, quota_bytes, used_bytes FROM accounts WHERE id = $1",
            &[&(id.0 as i64)],
        )
        .await
        .map_err(|e| db_error(&e))?;
    row.map(|row| {
        Ok(AccountStorage {
            id,
            kind: kind_of(row.get("kind"))?,
            quota_bytes: row.get::<_, i64>("quota_bytes") as u64,
            used_bytes: row.get::<_, i64>("used_bytes") as u64,
        })
    })
    .transpose()
}

async fn set_quota(pool: &Pool, id: AccountId, quota_bytes: u64) -> Result<()> {
    let c = client(pool).await?;
    let changed = c
        .execute(
            "UPDATE accounts SET quota_bytes = $2 WHERE id = $1",
            &[&(id.0 as i64), &to_i64(quota_bytes)],
        )
        .await
        .map_err(|e| db_error(&e))?;
    if changed == 0 {
        return Err(no_account(id));
    }
    Ok(())
}

async fn delete_account(pool: &Pool, account: AccountId) -> Result<()> {
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    lock_account(&tx, account).await?;
    let ids = query(
        &tx,
        "SELECT id FROM mailboxes WHERE account = $1 ORDER BY id",
        &[&(account.0 as i64)],
    )
    .await?;
    for row in ids {
        drop_mailbox(&tx, MailboxId(row.get::<_, i64>(0) as u64)).await?;
    }
    execute(&tx, "DELETE FROM accounts WHERE id = $1", &[&(account.0 as i64)]).await?;
    commit(tx).await
}

async fn list_mailboxes(pool: &Pool, account: AccountId) -> Result<Vec<MailboxInfo>> {
    let c = client(pool).await?;
    let rows = c
        .query(
            &format!("SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE account = $1"),
            &[&(account.0 as i64)],
        )
        .await
        .map_err(|e| db_error(&e))?;
    let mut mailboxes = rows.iter().map(mailbox_of).collect::<Result<Vec<_>>>()?;
    // As the sled store lists them: INBOX first, then by name (byte order).
    mailboxes.sort_by(|a, b| (a.name != INBOX, a.name.as_bytes()).cmp(&(b.name != INBOX, b.name.as_bytes())));
    Ok(mailboxes)
}

async fn mailbox_by_name(pool: &Pool, account: AccountId, name: &str) -> Result<Option<MailboxInfo>> {
    let c = client(pool).await?;
    c.query_opt(
        &format!("SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE account = $1 AND name = $2"),
        &[&(account.0 as i64), &names::canonical(name)],
    )
    .await
    .map_err(|e| db_error(&e))?
    .map(|row| mailbox_of(&row))
    .transpose()
}

async fn mailbox(pool: &Pool, id: MailboxId) -> Result<Option<MailboxInfo>> {
    let c = client(pool).await?;
    c.query_opt(
        &format!("SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE id = $1"),
        &[&(id.0 as i64)],
    )
    .await
    .map_err(|e| db_error(&e))?
    .map(|row| mailbox_of(&row))
    .transpose()
}

async fn create_mailbox(
    pool: &Pool,
    account: AccountId,
    name: &str,
    special_use: Option<SpecialUse>,
) -> Result<MailboxId> {
    let name = names::validate(name)?;
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    lock_account(&tx, account).await?;
    if mailbox_id(&tx, account, name).await?.is_some() {
        return Err(StoreError::Exists(name.to_owned()));
    }
    let parents = create_parents(&tx, account, name).await?;
    let info = insert_mailbox(&tx, account, name, special_use).await?;
    for created in parents.iter().chain([&info]) {
        notify(&tx, created, ChangeKind::MailboxList).await?;
    }
    commit(tx).await?;
    Ok(info.id)
}

async fn delete_mailbox(pool: &Pool, account: AccountId, name: &str) -> Result<()> {
    let name = names::canonical(name);
    if name == INBOX {
        return Err(StoreError::Invalid("INBOX cannot be deleted".into()));
    }
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    lock_account(&tx, account).await?;
    let id = mailbox_id(&tx, account, name)
        .await?
        .ok_or_else(|| StoreError::NotFound(name.to_owned()))?;
    let children = format!("{name}{HIERARCHY_SEPARATOR}");
    let inferiors = query_opt(
        &tx,
        "SELECT 1 FROM mailboxes WHERE account = $1 AND left(name, length($2)) = $2 LIMIT 1",
        &[&(account.0 as i64), &children],
    )
    .await?;
    if inferiors.is_some() {
        return Err(StoreError::Invalid(format!(
            "{name} has inferior mailboxes; delete them first"
        )));
    }
    let info = drop_mailbox(&tx, id).await?;
    // RFC 3501 §6.3.6: the name stays subscribed after its mailbox is gone.
    if info.subscribed {
        execute(
            &tx,
            "INSERT INTO kept_subscriptions (account, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&(account.0 as i64), &name],
        )
        .await?;
    }
    notify(&tx, &info, ChangeKind::MailboxList).await?;
    commit(tx).await
}

async fn rename_mailbox(pool: &Pool, account: AccountId, from: &str, to: &str) -> Result<()> {
    let from = names::canonical(from);
    let to = names::validate(to)?;
    if to == INBOX || to == from {
        return Err(StoreError::Exists(to.to_owned()));
    }
    if from != INBOX && names::is_inferior(to, from) {
        return Err(StoreError::Invalid(format!("cannot rename {from} into itself")));
    }
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    lock_account(&tx, account).await?;
    let source = mailbox_id(&tx, account, from)
        .await?
        .ok_or_else(|| StoreError::NotFound(from.to_owned()))?;
    if mailbox_id(&tx, account, to).await?.is_some() {
        return Err(StoreError::Exists(to.to_owned()));
    }
    let parents = create_parents(&tx, account, to).await?;
    for parent in &parents {
        notify(&tx, parent, ChangeKind::MailboxList).await?;
    }
    if from == INBOX {
        // RFC 3501 §6.3.5: renaming INBOX moves its messages to a new mailbox and
        // leaves INBOX, empty, in place.
        let mut target = insert_mailbox(&tx, account, to, None).await?;
        let uids: Vec<Uid> = query(
            &tx,
            "SELECT uid FROM messages WHERE mailbox = $1 ORDER BY uid",
            &[&(source.0 as i64)],
        )
        .await?
        .iter()
        .filter_map(|row| Uid::new(row.get::<_, i64>(0) as u32))
        .collect();
        let mut inbox = lock_mailbox(&tx, source).await?;
        transfer_locked(&tx, &mut inbox, &uids, &mut target, true).await?;
        notify(&tx, &target, ChangeKind::MailboxList).await?;
        return commit(tx).await;
    }
    let family = query(
        &tx,
        "SELECT id, name FROM mailboxes WHERE account = $1 AND (name = $2 OR left(name, length($2) + 1) = $2 || '/')
         ORDER BY id",
        &[&(account.0 as i64), &from],
    )
    .await?;
    for row in &family {
        let old: String = row.get("name");
        let Some(new) = names::renamed(&old, from, to) else {
            continue;
        };
        if mailbox_id(&tx, account, &new).await?.is_some() {
            return Err(StoreError::Exists(new));
        }
    }
    for row in &family {
        let old: String = row.get("name");
        let Some(new) = names::renamed(&old, from, to) else {
            continue;
        };
        let id = MailboxId(row.get::<_, i64>("id") as u64);
        let mut info = lock_mailbox(&tx, id).await?;
        info.highestmodseq += 1;
        execute(
            &tx,
            "UPDATE mailboxes SET name = $2, highestmodseq = $3 WHERE id = $1",
            &[&(id.0 as i64), &new, &(info.highestmodseq as i64)],
        )
        .await?;
        info.name = new;
        notify(&tx, &info, ChangeKind::MailboxList).await?;
    }
    commit(tx).await
}

async fn set_subscribed(pool: &Pool, account: AccountId, name: &str, subscribed: bool) -> Result<()> {
    let name = names::canonical(name);
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let kept = !subscribed
        && execute(
            &tx,
            "DELETE FROM kept_subscriptions WHERE account = $1 AND name = $2",
            &[&(account.0 as i64), &name],
        )
        .await?
            > 0;
    let Some(id) = mailbox_id(&tx, account, name).await? else {
        // RFC 3501 §6.3.6: a name with no mailbox may be subscribed too.
        match (subscribed, kept) {
            (true, _) => {
                let name = names::validate(name)?;
                execute(
                    &tx,
                    "INSERT INTO kept_subscriptions (account, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&(account.0 as i64), &name],
                )
                .await?;
            }
            (false, true) => {}
            (false, false) => return Err(StoreError::NotFound(name.to_owned())),
        }
        return commit(tx).await;
    };
    let info = lock_mailbox(&tx, id).await?;
    if info.subscribed != subscribed {
        execute(
            &tx,
            "UPDATE mailboxes SET subscribed = $2 WHERE id = $1",
            &[&(id.0 as i64), &subscribed],
        )
        .await?;
        notify(&tx, &info, ChangeKind::MailboxList).await?;
    }
    commit(tx).await
}

async fn subscriptions(pool: &Pool, account: AccountId) -> Result<Vec<String>> {
    let c = client(pool).await?;
    let rows = c
        .query(
            "SELECT name FROM mailboxes WHERE account = $1 AND subscribed
             UNION SELECT name FROM kept_subscriptions WHERE account = $1",
            &[&(account.0 as i64)],
        )
        .await
        .map_err(|e| db_error(&e))?;
    let mut names: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    names.sort_unstable();
    names.dedup();
    Ok(names)
}

/// The mailbox a delivery files into for `account`: its special-use folder, else
/// the INBOX.
async fn delivery_folder(tx: &Tx<'_>, account: AccountId, folder: DeliveryFolder) -> Result<MailboxId> {
    let special = match folder {
        DeliveryFolder::Inbox => None,
        DeliveryFolder::Junk => Some(SpecialUse::Junk),
        DeliveryFolder::Sent => Some(SpecialUse::Sent),
    };
    if let Some(special) = special {
        let found = query_opt(
            tx,
            "SELECT id FROM mailboxes WHERE account = $1 AND special_use = $2 ORDER BY id LIMIT 1",
            &[&(account.0 as i64), &special.attribute()],
        )
        .await?;
        if let Some(row) = found {
            return Ok(MailboxId(row.get::<_, i64>(0) as u64));
        }
    }
    mailbox_id(tx, account, INBOX)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("account {} has no INBOX", account.0)))
}

async fn deliver(
    pool: &Pool,
    files: Option<&BlobStore>,
    delivery: &Delivery<'_>,
) -> Result<Vec<DeliveryOutcome>> {
    let bytes = delivery.bytes.concat();
    if bytes.is_empty() {
        return Err(StoreError::Invalid("empty message".into()));
    }
    let mut accounts: Vec<AccountId> = Vec::new();
    for target in delivery.targets {
        if !accounts.contains(target) {
            accounts.push(*target);
        }
    }
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    // Locks in one order (the module docs).
    let mut ordered = accounts.clone();
    ordered.sort();
    let blob = BlobId::of(&bytes);
    let mut template = new_message(
        blob,
        bytes.len() as u64,
        delivery.internal_date,
        delivery.internal_date_offset,
    );
    if delivery.folder == DeliveryFolder::Sent {
        template.flags = Flags::SEEN;
    }
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let mut outcomes: HashMap<AccountId, DeliveryOutcome> = HashMap::new();
    let mut delivered = 0i64;
    let mut pending = Vec::new();
    for &account in &ordered {
        let owner = lock_account(&tx, account).await?;
        if check_quota(&owner, template.size).is_err() {
            outcomes.insert(account, DeliveryOutcome::OverQuota { account });
            continue;
        }
        pending.push((account, delivery_folder(&tx, account, delivery.folder).await?));
    }
    pending.sort_by_key(|(_, mailbox)| *mailbox);
    let mut locked = Vec::with_capacity(pending.len());
    for (account, mailbox) in pending {
        locked.push((account, mailbox, lock_mailbox(&tx, mailbox).await?));
    }
    if !locked.is_empty() {
        put_blob(&tx, files, &blob, &bytes, locked.len() as i64).await?;
    }
    for (account, mailbox, mut info) in locked {
        let uid = add_message(&tx, &mut info, &template).await?;
        add_usage(&tx, account, to_i64(template.size)).await?;
        notify(&tx, &info, ChangeKind::New).await?;
        outcomes.insert(
            account,
            DeliveryOutcome::Delivered {
                account,
                mailbox,
                uid,
            },
        );
        delivered += 1;
    }
    commit(tx).await?;
    let _ = delivered;
    delivery
        .targets
        .iter()
        .map(|target| {
            outcomes
                .get(target)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt("delivery outcome missing".into()))
        })
        .collect()
}

async fn append(
    pool: &Pool,
    files: Option<&BlobStore>,
    mailbox: MailboxId,
    append: &Append<'_>,
) -> Result<Appended> {
    if append.bytes.is_empty() {
        return Err(StoreError::Invalid("empty message".into()));
    }
    let blob = BlobId::of(append.bytes);
    let mut template = new_message(
        blob,
        append.bytes.len() as u64,
        append.internal_date,
        append.internal_date_offset,
    );
    template.flags = append.flags;
    template.keywords = unique_keywords(append.keywords.iter());
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let account = account_of(&tx, mailbox).await?;
    let owner = lock_account(&tx, account).await?;
    if append.quota == QuotaRule::Enforce {
        check_quota(&owner, template.size)?;
    }
    let mut info = lock_mailbox(&tx, mailbox).await?;
    put_blob(&tx, files, &blob, append.bytes, 1).await?;
    let uid = add_message(&tx, &mut info, &template).await?;
    add_usage(&tx, account, to_i64(template.size)).await?;
    notify(&tx, &info, ChangeKind::New).await?;
    commit(tx).await?;
    Ok(Appended {
        uidvalidity: info.uidvalidity,
        uid,
    })
}

async fn messages_where(
    pool: &Pool,
    mailbox: MailboxId,
    tail: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<MessageMeta>> {
    let c = client(pool).await?;
    let found = c
        .query_opt("SELECT 1 FROM mailboxes WHERE id = $1", &[&(mailbox.0 as i64)])
        .await
        .map_err(|e| db_error(&e))?;
    if found.is_none() {
        return Err(no_mailbox(mailbox));
    }
    let rows = c
        .query(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE mailbox = $1 {tail}"),
            params,
        )
        .await
        .map_err(|e| db_error(&e))?;
    rows.iter().map(message_of).collect()
}

async fn expunged_between(pool: &Pool, mailbox: MailboxId, since: u64, until: u64) -> Result<Vec<Uid>> {
    let c = client(pool).await?;
    let rows = c
        .query(
            "SELECT uid FROM expunged WHERE mailbox = $1 AND modseq > $2 AND modseq <= $3 ORDER BY uid",
            &[&(mailbox.0 as i64), &to_i64(since), &to_i64(until)],
        )
        .await
        .map_err(|e| db_error(&e))?;
    Ok(rows
        .iter()
        .filter_map(|row| Uid::new(row.get::<_, i64>(0) as u32))
        .collect())
}

async fn changed_since(pool: &Pool, mailbox_id: MailboxId, modseq: u64) -> Result<Changes> {
    let info = mailbox(pool, mailbox_id)
        .await?
        .ok_or_else(|| no_mailbox(mailbox_id))?;
    let until = info.highestmodseq;
    let changed = messages_where(
        pool,
        mailbox_id,
        "AND modseq > $2 AND modseq <= $3 ORDER BY uid",
        &[&(mailbox_id.0 as i64), &to_i64(modseq), &to_i64(until)],
    )
    .await?;
    Ok(Changes {
        changed,
        expunged: expunged_between(pool, mailbox_id, modseq, until).await?,
        mailbox: info,
    })
}

async fn claim_recent(pool: &Pool, mailbox: MailboxId, below: u32) -> Result<u32> {
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let row = query_opt(
        &tx,
        "SELECT recent_claimed FROM mailboxes WHERE id = $1 FOR UPDATE",
        &[&(mailbox.0 as i64)],
    )
    .await?
    .ok_or_else(|| no_mailbox(mailbox))?;
    let first = row.get::<_, i64>(0) as u32;
    if first < below {
        execute(
            &tx,
            "UPDATE mailboxes SET recent_claimed = $2 WHERE id = $1",
            &[&(mailbox.0 as i64), &i64::from(below)],
        )
        .await?;
    }
    commit(tx).await?;
    Ok(first)
}

async fn read_blob(pool: &Pool, files: Option<&BlobStore>, blob: &BlobId) -> Result<Vec<u8>> {
    let c = client(pool).await?;
    let content: Option<Vec<u8>> = c
        .query_opt(
            "SELECT content FROM blobs WHERE id = $1 AND refs > 0",
            &[&blob.0.as_slice()],
        )
        .await
        .map_err(|e| db_error(&e))?
        .ok_or_else(|| StoreError::NotFound(format!("blob {}", blob.to_hex())))?
        .get(0);
    match (content, files) {
        (Some(bytes), _) => Ok(bytes),
        (None, Some(files)) => tokio::task::block_in_place(|| files.read(blob))
            .map_err(|e| StoreError::Db(format!("body {} in the body directory: {e}", blob.to_hex()))),
        (None, None) => Err(StoreError::Corrupt(format!(
            "body {} is in a body directory, and [store] blobs names none",
            blob.to_hex()
        ))),
    }
}

async fn store_flags(pool: &Pool, mailbox: MailboxId, request: &FlagStore<'_>) -> Result<StoreOutcome> {
    let uids = sorted_unique(request.uids);
    let keywords = unique_keywords(request.keywords.iter());
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    let mut info = lock_mailbox(&tx, mailbox).await?;
    let mut outcome = StoreOutcome::default();
    let rows = query(
        &tx,
        &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE mailbox = $1 AND uid = ANY($2) ORDER BY uid"),
        &[&(mailbox.0 as i64), &uids_param(&uids)],
    )
    .await?;
    for row in &rows {
        let mut meta = message_of(row)?;
        match store_on_message(request, &keywords, &mut info, &mut meta) {
            FlagChange::Failed => {
                outcome.failed.push(meta.uid);
                continue;
            }
            FlagChange::Unchanged => continue,
            FlagChange::Changed => {}
        }
        execute(
            &tx,
            "UPDATE messages SET flags = $3, keywords = $4, modseq = $5 WHERE mailbox = $1 AND uid = $2",
            &[
                &(mailbox.0 as i64),
                &i64::from(meta.uid.get()),
                &i16::from(meta.flags.0),
                &meta.keywords,
                &(meta.modseq as i64),
            ],
        )
        .await?;
        outcome.changed.push(meta);
    }
    if !outcome.changed.is_empty() {
        put_counters(&tx, &info).await?;
        notify(&tx, &info, ChangeKind::Flags).await?;
    }
    commit(tx).await?;
    Ok(outcome)
}

/// Removes the locked mailbox's messages `uids` that are still there: the expunge
/// log, the bodies' references, the usage. Returns the UIDs removed.
async fn remove_messages(tx: &Tx<'_>, info: &mut MailboxInfo, uids: &[Uid]) -> Result<Vec<Uid>> {
    let rows = query(
        tx,
        &format!("DELETE FROM messages WHERE mailbox = $1 AND uid = ANY($2) RETURNING {MESSAGE_COLUMNS}"),
        &[&(info.id.0 as i64), &uids_param(uids)],
    )
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    info.highestmodseq += 1;
    let mut removed = Vec::new();
    let mut freed = 0u64;
    let mut released: BTreeMap<BlobId, i64> = BTreeMap::new();
    for row in &rows {
        let meta = message_of(row)?;
        info.messages = info.messages.saturating_sub(1);
        if !meta.flags.contains(Flags::SEEN) {
            info.unseen = info.unseen.saturating_sub(1);
        }
        info.size = info.size.saturating_sub(meta.size);
        freed += meta.size;
        *released.entry(meta.blob).or_default() += 1;
        execute(
            tx,
            "INSERT INTO expunged (mailbox, uid, modseq) VALUES ($1, $2, $3)",
            &[
                &(info.id.0 as i64),
                &i64::from(meta.uid.get()),
                &(info.highestmodseq as i64),
            ],
        )
        .await?;
        removed.push(meta.uid);
    }
    release_blobs(tx, &released).await?;
    removed.sort();
    put_counters(tx, info).await?;
    add_usage(tx, info.account, -to_i64(freed)).await?;
    Ok(removed)
}

async fn expunge(pool: &Pool, mailbox: MailboxId, only: Option<&[Uid]>) -> Result<Vec<Uid>> {
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    // The account first: the expunge gives back quota usage (lock order, module docs).
    lock_account(&tx, account_of(&tx, mailbox).await?).await?;
    let mut info = lock_mailbox(&tx, mailbox).await?;
    let deleted = i16::from(Flags::DELETED.0);
    let rows = query(
        &tx,
        "SELECT uid FROM messages WHERE mailbox = $1 AND (flags & $2) <> 0 ORDER BY uid",
        &[&(mailbox.0 as i64), &deleted],
    )
    .await?;
    let mut candidates: Vec<Uid> = rows
        .iter()
        .filter_map(|row| Uid::new(row.get::<_, i64>(0) as u32))
        .collect();
    if let Some(only) = only {
        candidates.retain(|uid| only.contains(uid));
    }
    let removed = remove_messages(&tx, &mut info, &candidates).await?;
    if !removed.is_empty() {
        notify(&tx, &info, ChangeKind::Expunge).await?;
    }
    commit(tx).await?;
    Ok(removed)
}

/// COPY or MOVE between two locked mailboxes (RFC 6851: a move is a copy and an
/// expunge in one transaction). The target's quota must hold the whole copy.
async fn transfer_locked(
    tx: &Tx<'_>,
    source: &mut MailboxInfo,
    uids: &[Uid],
    target: &mut MailboxInfo,
    moving: bool,
) -> Result<Copied> {
    let rows = query(
        tx,
        &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE mailbox = $1 AND uid = ANY($2) ORDER BY uid"),
        &[&(source.id.0 as i64), &uids_param(&sorted_unique(uids))],
    )
    .await?;
    let metas = rows.iter().map(message_of).collect::<Result<Vec<_>>>()?;
    let adding: u64 = metas.iter().map(|m| m.size).sum();
    let same_account = source.account == target.account;
    if !(moving && same_account) {
        let owner = lock_account(tx, target.account).await?;
        check_quota(&owner, adding)?;
    }
    let mut copies: BTreeMap<BlobId, i64> = BTreeMap::new();
    for meta in &metas {
        *copies.entry(meta.blob).or_default() += 1;
    }
    // Bodies in id order (the module docs).
    for (blob, count) in &copies {
        execute(
            tx,
            "UPDATE blobs SET refs = refs + $2 WHERE id = $1",
            &[&blob.0.as_slice(), count],
        )
        .await?;
    }
    let mut pairs = Vec::new();
    for meta in &metas {
        let uid = add_message(tx, target, meta).await?;
        pairs.push((meta.uid, uid));
    }
    if !metas.is_empty() {
        add_usage(tx, target.account, to_i64(adding)).await?;
        notify(tx, target, ChangeKind::New).await?;
    }
    if moving && !metas.is_empty() {
        let moved: Vec<Uid> = metas.iter().map(|m| m.uid).collect();
        remove_messages(tx, source, &moved).await?;
        notify(tx, source, ChangeKind::Expunge).await?;
    }
    Ok(Copied {
        uidvalidity: target.uidvalidity,
        pairs,
    })
}

async fn transfer(pool: &Pool, from: MailboxId, uids: &[Uid], to: MailboxId, moving: bool) -> Result<Copied> {
    let mut c = client(pool).await?;
    let tx = begin(&mut c).await?;
    // Accounts first, then mailboxes by id (the module docs).
    let accounts = query(
        &tx,
        "SELECT DISTINCT account FROM mailboxes WHERE id = ANY($1) ORDER BY account",
        &[&vec![from.0 as i64, to.0 as i64]],
    )
    .await?;
    for row in &accounts {
        lock_account(&tx, AccountId(row.get::<_, i64>(0) as u64)).await?;
    }
    let (mut source, mut target) = if from <= to {
        let source = lock_mailbox(&tx, from).await?;
        (source, lock_mailbox(&tx, to).await?)
    } else {
        let target = lock_mailbox(&tx, to).await?;
        (lock_mailbox(&tx, from).await?, target)
    };
    if from == to {
        // One mailbox: copy into it, then (MOVE) expunge the originals from the
        // same record, which now holds the copies' counters too. A MOVE within a
        // mailbox renumbers its messages (RFC 6851 §3.3 allows it).
        let mut same = source.clone();
        let copied = transfer_locked(&tx, &mut source, uids, &mut same, false).await?;
        if moving && !copied.pairs.is_empty() {
            let originals: Vec<Uid> = copied.pairs.iter().map(|(old, _)| *old).collect();
            remove_messages(&tx, &mut same, &originals).await?;
            notify(&tx, &same, ChangeKind::Expunge).await?;
        }
        commit(tx).await?;
        return Ok(copied);
    }
    let copied = transfer_locked(&tx, &mut source, uids, &mut target, moving).await?;
    commit(tx).await?;
    Ok(copied)
}

async fn size(pool: &Pool) -> Result<StoreSize> {
    let c = client(pool).await?;
    let row = c
        .query_one(
            "SELECT (SELECT count(*) FROM accounts), (SELECT coalesce(sum(used_bytes), 0)::BIGINT FROM accounts),
                    pg_database_size(current_database())",
            &[],
        )
        .await
        .map_err(|e| db_error(&e))?;
    Ok(StoreSize {
        accounts: row.get::<_, i64>(0) as u64,
        mailbox_bytes: row.get::<_, i64>(1) as u64,
        metadata_bytes: row.get::<_, i64>(2) as u64,
    })
}

impl PgStore {
    /// After a write that may have dropped last references: with a body
    /// directory, removes the dead bodies (rows and files); without one there are
    /// none (rows go with their last reference).
    fn collect_dead_bodies(&self) -> Result<()> {
        if let Some(files) = self.files() {
            self.run(collect_dead_bodies(&self.pool, files))?;
        }
        Ok(())
    }
}

impl MailStore for PgStore {
    fn create_account(&self, kind: AccountKind, quota_bytes: u64) -> Result<AccountId> {
        self.run_retrying(|| create_account(&self.pool, kind, quota_bytes))
    }
    fn account(&self, id: AccountId) -> Result<Option<AccountStorage>> {
        self.run(account(&self.pool, id))
    }
    fn set_quota(&self, id: AccountId, quota_bytes: u64) -> Result<()> {
        self.run_retrying(|| set_quota(&self.pool, id, quota_bytes))
    }
    fn delete_account(&self, id: AccountId) -> Result<()> {
        self.run_retrying(|| delete_account(&self.pool, id))?;
        self.collect_dead_bodies()
    }
    fn list_mailboxes(&self, account: AccountId) -> Result<Vec<MailboxInfo>> {
        self.run(list_mailboxes(&self.pool, account))
    }
    fn mailbox_by_name(&self, account: AccountId, name: &str) -> Result<Option<MailboxInfo>> {
        self.run(mailbox_by_name(&self.pool, account, name))
    }
    fn mailbox(&self, id: MailboxId) -> Result<Option<MailboxInfo>> {
        self.run(mailbox(&self.pool, id))
    }
    fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<MailboxId> {
        self.run_retrying(|| create_mailbox(&self.pool, account, name, special_use))
    }
    fn delete_mailbox(&self, account: AccountId, name: &str) -> Result<()> {
        self.run_retrying(|| delete_mailbox(&self.pool, account, name))?;
        self.collect_dead_bodies()
    }
    fn rename_mailbox(&self, account: AccountId, from: &str, to: &str) -> Result<()> {
        self.run_retrying(|| rename_mailbox(&self.pool, account, from, to))
    }
    fn set_subscribed(&self, account: AccountId, name: &str, subscribed: bool) -> Result<()> {
        self.run_retrying(|| set_subscribed(&self.pool, account, name, subscribed))
    }
    fn subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        self.run(subscriptions(&self.pool, account))
    }
    fn deliver(&self, delivery: &Delivery<'_>) -> Result<Vec<DeliveryOutcome>> {
        self.run_retrying(|| deliver(&self.pool, self.files(), delivery))
    }
    fn append(&self, mailbox: MailboxId, append: &Append<'_>) -> Result<Appended> {
        self.run_retrying(|| self::append(&self.pool, self.files(), mailbox, append))
    }
    fn messages(&self, mailbox: MailboxId) -> Result<Vec<MessageMeta>> {
        self.run(messages_where(
            &self.pool,
            mailbox,
            "ORDER BY uid",
            &[&(mailbox.0 as i64)],
        ))
    }
    fn message(&self, mailbox: MailboxId, uid: Uid) -> Result<Option<MessageMeta>> {
        let found = self.run(messages_where(
            &self.pool,
            mailbox,
            "AND uid = $2",
            &[&(mailbox.0 as i64), &i64::from(uid.get())],
        ));
        match found {
            Ok(mut found) => Ok(found.pop()),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }
    fn message_window(
        &self,
        mailbox: MailboxId,
        newest_first: bool,
        skip: usize,
        take: usize,
    ) -> Result<Vec<MessageMeta>> {
        let order = if newest_first { "DESC" } else { "ASC" };
        self.run(messages_where(
            &self.pool,
            mailbox,
            &format!("ORDER BY uid {order} OFFSET $2 LIMIT $3"),
            &[&(mailbox.0 as i64), &(skip as i64), &(take as i64)],
        ))
    }
    fn vanished_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Vec<Uid>> {
        self.run(expunged_between(&self.pool, mailbox, modseq, u64::MAX))
    }
    fn changed_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Changes> {
        self.run(changed_since(&self.pool, mailbox, modseq))
    }
    fn recent_from(&self, mailbox: MailboxId) -> Result<u32> {
        self.run(async {
            let c = client(&self.pool).await?;
            c.query_opt(
                "SELECT recent_claimed FROM mailboxes WHERE id = $1",
                &[&(mailbox.0 as i64)],
            )
            .await
            .map_err(|e| db_error(&e))?
            .map(|row| row.get::<_, i64>(0) as u32)
            .ok_or_else(|| no_mailbox(mailbox))
        })
    }
    fn claim_recent(&self, mailbox: MailboxId, below: u32) -> Result<u32> {
        self.run_retrying(|| claim_recent(&self.pool, mailbox, below))
    }
    fn read_blob(&self, blob: &BlobId) -> Result<Vec<u8>> {
        self.run(read_blob(&self.pool, self.files(), blob))
    }
    fn store_flags(&self, mailbox: MailboxId, request: &FlagStore<'_>) -> Result<StoreOutcome> {
        self.run_retrying(|| store_flags(&self.pool, mailbox, request))
    }
    fn expunge(&self, mailbox: MailboxId, only: Option<&[Uid]>) -> Result<Vec<Uid>> {
        let removed = self.run_retrying(|| expunge(&self.pool, mailbox, only))?;
        self.collect_dead_bodies()?;
        Ok(removed)
    }
    fn copy(&self, from: MailboxId, uids: &[Uid], to: MailboxId) -> Result<Copied> {
        self.run_retrying(|| transfer(&self.pool, from, uids, to, false))
    }
    fn move_messages(&self, from: MailboxId, uids: &[Uid], to: MailboxId) -> Result<Copied> {
        let moved = self.run_retrying(|| transfer(&self.pool, from, uids, to, true))?;
        self.collect_dead_bodies()?;
        Ok(moved)
    }
    fn enqueue(&self, message: &Outbound<'_>) -> Result<QueueId> {
        self.run_retrying(|| records::enqueue(&self.pool, self.files(), message))
    }
    fn queue(&self) -> Result<Vec<QueueEntry>> {
        self.run(records::queue(&self.pool))
    }
    fn queue_entry(&self, id: QueueId) -> Result<Option<QueueEntry>> {
        self.run(records::queue_entry(&self.pool, id))
    }
    fn queue_update(&self, id: QueueId, update: &QueueUpdate<'_>) -> Result<()> {
        self.run_retrying(|| records::queue_update(&self.pool, id, update))
    }
    fn claim_queue(&self, ids: &[QueueId], now: i64, lease_until: i64) -> Result<Vec<QueueEntry>> {
        self.run(records::claim_queue(&self.pool, ids, now, lease_until))
    }
    fn queue_remove(&self, id: QueueId) -> Result<()> {
        self.run_retrying(|| records::queue_remove(&self.pool, id))?;
        self.collect_dead_bodies()
    }
    fn record_access(&self, event: &AccessEvent) -> Result<()> {
        self.run(records::record_access(&self.pool, event))
    }
    fn record_login(&self, access: &AccessEvent, event: &EventRecord) -> Result<()> {
        self.run(records::record_login(&self.pool, access, event))
    }
    fn access_events(&self, account: AccountId, from: i64, until: i64) -> Result<Vec<AccessEvent>> {
        self.run(records::access_events(&self.pool, account, from, until))
    }
    fn access_spans(&self, account: AccountId, from: i64, until: i64) -> Result<Vec<AccessSpan>> {
        self.run(records::access_spans(&self.pool, account, from, until))
    }
    fn record_events(&self, events: &[EventRecord]) -> Result<()> {
        self.run(records::record_events(&self.pool, events))
    }
    fn events(&self, from: i64, until: i64) -> Result<Vec<EventRecord>> {
        self.run(records::events(&self.pool, from, until))
    }
    fn prune_events(&self, before: i64) -> Result<u64> {
        self.run(records::prune_events(&self.pool, before))
    }
    fn record_pending_ack(&self, ack: &PendingAck) -> Result<()> {
        self.run(records::record_pending_ack(&self.pool, ack))
    }
    fn acknowledge(
        &self,
        account: AccountId,
        message_id: &str,
        by: &str,
        at: i64,
    ) -> Result<Option<PendingAck>> {
        self.run_retrying(|| records::acknowledge(&self.pool, account, message_id, by, at))
    }
    fn acks(&self, account: Option<AccountId>) -> Result<Vec<PendingAck>> {
        self.run(records::acks(&self.pool, account))
    }
    fn subscribe(&self, account: AccountId) -> Subscription {
        self.hub().subscribe(account)
    }
    fn job_lock(&self, job: &str) -> Result<Option<congvu_store::JobLock>> {
        Ok(
            crate::advisory::AdvisoryLock::try_acquire(self, crate::advisory::job_key(job))?
                .map(|held| congvu_store::JobLock::new(Box::new(held))),
        )
    }
    fn check(&self) -> Result<CheckReport> {
        self.run(check::check(&self.pool, self.files()))
    }
    fn repair(&self) -> Result<RepairReport> {
        self.run(check::repair(&self.pool, self.files()))
    }
    fn account_ids(&self) -> Result<Vec<AccountId>> {
        self.run(async {
            let c = client(&self.pool).await?;
            let rows = c
                .query("SELECT id FROM accounts ORDER BY id", &[])
                .await
                .map_err(|e| db_error(&e))?;
            Ok(rows
                .iter()
                .map(|row| AccountId(row.get::<_, i64>(0) as u64))
                .collect())
        })
    }
    fn size(&self) -> Result<StoreSize> {
        self.run(size(&self.pool))
    }
    /// A PostgreSQL cluster is backed up by PostgreSQL's own tools, which copy a
    /// consistent database while it serves (`pg_basebackup`, WAL archiving; see
    /// docs/scale-out.md): congvu does not copy the database a second way.
    fn backup(&self, _spec: &BackupSpec<'_>, _progress: &Progress) -> Result<BackupManifest> {
        Err(StoreError::Invalid(
            "trên PostgreSQL, sao lưu bằng pg_basebackup (docs/scale-out.md) / on PostgreSQL, back up with \
             pg_basebackup (docs/scale-out.md)"
                .into(),
        ))
    }
}
