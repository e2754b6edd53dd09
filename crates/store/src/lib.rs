//! # congvu-store — the mailbox store
//!
//! Owns everything congvu keeps about mail: storage accounts (quota and usage),
//! mailboxes (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, SPECIAL-USE, subscription), the
//! message index (UID, flags, keywords, internal date, size, modseq), the outbound
//! queue, and message bodies.
//!
//! ## Layout
//! - Metadata lives in **sled** trees (see [`sled_store`]). Keys are laid out so that
//!   every transaction needs only point reads (sled transactions cannot range-scan):
//!   `mailbox_id ‖ uid` for messages, `account_id ‖ name` for mailbox names.
//! - Bodies live in a content-addressed blob store under `data_dir/blobs` (see
//!   [`blob`]), named by SHA-256, reference-counted in sled. A message delivered to N
//!   local recipients is written once; quota still counts it once per mailbox.
//!
//! ## Invariants
//! 1. **Durability before acknowledgement.** Every method that writes returns only
//!    after the write is on disk: the blob file is fsynced (and its directory) before
//!    the metadata that points to it commits, and the metadata commit is followed by a
//!    `sled::Db::flush` shared by every writer pending at that moment (group commit).
//!    A caller may therefore send `250 OK` / IMAP `OK` as soon as the method returns.
//! 2. UIDs in a mailbox are strictly ascending and never reused while UIDVALIDITY is
//!    unchanged; UIDVALIDITY of a mailbox name changes only when the mailbox is
//!    deleted and created again.
//! 3. MODSEQ values are per mailbox, strictly ascending; HIGHESTMODSEQ is the largest
//!    modseq of any change (append, flag change, expunge) in that mailbox.
//! 4. A blob file is removed only after the last metadata reference to it is
//!    durably gone.
//! 5. The supervision facts (issue 14) — access events, mail events,
//!    acknowledgement records — are durable on return like every other write, and
//!    go only by retention ([`MailStore::prune_events`]; acknowledgement records
//!    also with their account); see
//!    `sled_store::events` and `sled_store::acks`.
//!
//! ## Calling convention
//! The [`MailStore`] trait is synchronous and object-safe. Reads are cheap (memory or
//! page cache) and may be called from async code; writes block until durable and must
//! be called from `tokio::task::spawn_blocking` (or a plain thread) by async callers.

pub mod blob;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod dump;
pub mod model;
pub mod names;
pub mod notify;
pub mod progress;
pub mod rules;
pub mod sled_store;

pub use model::*;
pub use notify::{CHANGE_CAPACITY, Change, ChangeHub, ChangeKind, Changes, NotAChange, Subscription};
pub use progress::{Progress, ProgressView};
pub use sled_store::backup::{BackupSpec, Manifest as BackupManifest};
pub use sled_store::{CheckReport, Inconsistency, LooseMode, RepairReport, SledStore, StoreOptions};

/// The current time in Unix seconds, the unit of every timestamp the stores and
/// the directory keep.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What went wrong in a store operation. User-caused kinds (`NotFound`, `Exists`,
/// `OverQuota`, `Invalid`) are distinct from server faults (`Io`, `Db`, `Corrupt`) so
/// callers can log them at different levels and pick the right protocol reply.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    Exists(String),
    /// The write would take the account past its quota (RFC 9208 OVERQUOTA).
    #[error("over quota: {used} + {adding} > {limit} bytes")]
    OverQuota { used: u64, adding: u64, limit: u64 },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("metadata database error: {0}")]
    Db(String),
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// True for faults of the server (disk, database), false for faults of the request.
    pub fn is_server_fault(&self) -> bool {
        matches!(
            self,
            StoreError::Io(_) | StoreError::Db(_) | StoreError::Corrupt(_)
        )
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The store's interface. [`SledStore`] implements it; a distributed backend can
/// replace it later. All writes are durable on return (see the crate docs).
pub trait MailStore: Send + Sync + 'static {
    // ---- accounts -------------------------------------------------------------
    /// Creates a storage account with the given quota and its default mailboxes
    /// (INBOX, Sent, Drafts, Trash, Junk, Archive — with SPECIAL-USE, all subscribed).
    fn create_account(&self, kind: AccountKind, quota_bytes: u64) -> Result<AccountId>;
    fn account(&self, id: AccountId) -> Result<Option<AccountStorage>>;
    fn set_quota(&self, id: AccountId, quota_bytes: u64) -> Result<()>;
    /// Deletes the account with every mailbox (INBOX too) and message; their blobs
    /// go when nothing else refers to them. Safe to run again after a crash midway:
    /// what is already gone is skipped. An unknown account is `NotFound`. Access
    /// and mail events stay (they are the Art. 10 and 12.6 record, kept by time,
    /// not by account life); its acknowledgement records go with its mailboxes.
    fn delete_account(&self, id: AccountId) -> Result<()>;

    // ---- mailboxes ------------------------------------------------------------
    /// All mailboxes of the account, ordered by name (INBOX first).
    fn list_mailboxes(&self, account: AccountId) -> Result<Vec<MailboxInfo>>;
    /// Looks a mailbox up by its name; `INBOX` is matched case-insensitively
    /// (RFC 3501 §5.1), every other name exactly.
    fn mailbox_by_name(&self, account: AccountId, name: &str) -> Result<Option<MailboxInfo>>;
    fn mailbox(&self, id: MailboxId) -> Result<Option<MailboxInfo>>;
    fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<MailboxId>;
    /// Deletes the mailbox and its messages. INBOX cannot be deleted (`Invalid`).
    fn delete_mailbox(&self, account: AccountId, name: &str) -> Result<()>;
    /// Renames a mailbox and its children (`a` → `b` also moves `a/x` → `b/x`).
    /// Renaming INBOX moves its messages to a new mailbox and leaves INBOX empty
    /// (RFC 3501 §6.3.5).
    fn rename_mailbox(&self, account: AccountId, from: &str, to: &str) -> Result<()>;
    /// Subscribes or unsubscribes a name (RFC 3501 §6.3.6–6.3.7). A name with no
    /// mailbox may be subscribed, and a subscribed mailbox's name stays subscribed
    /// when the mailbox is deleted; `NotFound` only for unsubscribing a name that
    /// is neither a mailbox nor subscribed.
    fn set_subscribed(&self, account: AccountId, name: &str, subscribed: bool) -> Result<()>;
    /// Every subscribed name of the account, whether a mailbox has it or not,
    /// sorted (RFC 5258 `\NonExistent` for those without).
    fn subscriptions(&self, account: AccountId) -> Result<Vec<String>>;

    // ---- messages -------------------------------------------------------------
    /// Delivers one message to the INBOX of each target account: the body is stored
    /// once, each INBOX gets its own UID. A target that is over quota gets
    /// `DeliveryOutcome::OverQuota`, the others are delivered.
    fn deliver(&self, delivery: &Delivery<'_>) -> Result<Vec<DeliveryOutcome>>;
    /// Appends a message to a mailbox (IMAP APPEND). `OverQuota` when it does not fit.
    fn append(&self, mailbox: MailboxId, append: &Append<'_>) -> Result<Appended>;
    /// Every message of the mailbox, in ascending UID order.
    fn messages(&self, mailbox: MailboxId) -> Result<Vec<MessageMeta>>;
    /// One window of the mailbox's messages in UID order: `skip` messages from the
    /// lowest UID (or from the highest, `newest_first`), then at most `take`, in that
    /// direction. It reads the window, not the mailbox: the webmail's first page of a
    /// 20,000-message folder costs what a 20-message one does.
    fn message_window(
        &self,
        mailbox: MailboxId,
        newest_first: bool,
        skip: usize,
        take: usize,
    ) -> Result<Vec<MessageMeta>>;
    fn message(&self, mailbox: MailboxId, uid: Uid) -> Result<Option<MessageMeta>>;
    /// UIDs expunged (EXPUNGE, MOVE away, RENAME of INBOX) by changes with a modseq
    /// above `modseq`, ascending (RFC 7162 §3.2.5.2 `VANISHED (EARLIER)`). Every
    /// expunge is remembered for the life of the mailbox.
    fn vanished_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Vec<Uid>>;
    /// What changed in the mailbox after `modseq` ([`Changes`]): the messages
    /// appended or re-flagged since, the UIDs expunged since, and the mailbox record.
    /// Costs what changed, not the mailbox's size (the modseq index, see
    /// `sled_store::tx`), so a session can follow a large mailbox change by change.
    /// `NotFound` when the mailbox is gone.
    fn changed_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Changes>;
    /// `\Recent` (RFC 3501 §2.3.2): the first UID of the mailbox that no session
    /// has claimed as recent (1 before any claim). Messages at or above it would be
    /// recent to the next session that claims.
    fn recent_from(&self, mailbox: MailboxId) -> Result<u32>;
    /// Claims as recent, for one session, the messages with UIDs below `below` that
    /// no session claimed before, and returns the first UID of the claim: the
    /// session's recent messages are those with UIDs in `returned..below` (none when
    /// `returned >= below`). Atomic, so no UID is ever claimed twice. The one write
    /// that returns before it is durable: a claim lost in a crash only makes a
    /// message recent again after the restart (see `sled_store::recent`).
    fn claim_recent(&self, mailbox: MailboxId, below: u32) -> Result<u32>;
    /// The full raw message (RFC 5322 bytes as delivered, trace headers included).
    fn read_blob(&self, blob: &BlobId) -> Result<Vec<u8>>;
    /// Changes flags on the given UIDs (missing UIDs are ignored). With
    /// `unchanged_since` (RFC 7162 CONDSTORE), messages whose modseq is greater are
    /// not changed and are returned in `StoreOutcome::failed`.
    fn store_flags(&self, mailbox: MailboxId, request: &FlagStore<'_>) -> Result<StoreOutcome>;
    /// Removes messages flagged `\Deleted`; with `only`, just those among these UIDs
    /// (UID EXPUNGE, RFC 4315). Returns the expunged UIDs in ascending order.
    fn expunge(&self, mailbox: MailboxId, only: Option<&[Uid]>) -> Result<Vec<Uid>>;
    /// Copies messages (flags and internal date kept) to another mailbox of the same
    /// or another account; checks the destination's quota. Returns (source, new) UID
    /// pairs in ascending source order, and the destination UIDVALIDITY (RFC 4315).
    fn copy(&self, from: MailboxId, uids: &[Uid], to: MailboxId) -> Result<Copied>;
    /// COPY followed by expunge of the sources, atomically (RFC 6851).
    fn move_messages(&self, from: MailboxId, uids: &[Uid], to: MailboxId) -> Result<Copied>;

    // ---- outbound queue -------------------------------------------------------
    /// Durably queues a message for remote recipients, with its DSN parameters
    /// (RFC 3461). `Invalid` when there is no recipient, or when the DSN parameters
    /// name an address that is not one.
    fn enqueue(&self, message: &Outbound<'_>) -> Result<QueueId>;
    /// Every queue entry, in ascending id (queueing) order.
    fn queue(&self) -> Result<Vec<QueueEntry>>;
    fn queue_entry(&self, id: QueueId) -> Result<Option<QueueEntry>>;
    /// Records a delivery attempt that left recipients to retry. `NotFound` when the
    /// entry is gone (deleted by an operator meanwhile); `Invalid` when `recipients`
    /// is empty or names someone the entry does not hold. The DSN parameters of the
    /// recipients that leave the entry are dropped.
    fn queue_update(&self, id: QueueId, update: &QueueUpdate<'_>) -> Result<()>;
    /// Claims for this process the entries of `ids` that are still due at `now` and
    /// that no other process holds, until `lease_until` (Unix seconds) or until their
    /// attempt is recorded ([`MailStore::queue_update`], [`MailStore::queue_remove`]);
    /// returns them as they now stand, in id order. Several processes on one database
    /// share the queue this way and never attempt one entry at once; a process that
    /// dies mid-attempt leaves its entries to the others when the lease runs out
    /// (at-least-once delivery). One process owns a sled store: there, every entry
    /// still due is returned (the worker's own in-flight marks keep its batches apart).
    fn claim_queue(&self, ids: &[QueueId], now: i64, lease_until: i64) -> Result<Vec<QueueEntry>>;
    /// Removes an entry (every recipient delivered or bounced, or an operator's
    /// delete) and drops its body reference. `NotFound` when it is already gone.
    fn queue_remove(&self, id: QueueId) -> Result<()>;

    // ---- access log -------------------------------------------------------------
    /// Durably records an access event (Art. 10); returns once it is on disk.
    fn record_access(&self, event: &AccessEvent) -> Result<()>;
    /// Durably records a login: its access event and its `Login` mail event, on disk
    /// together on return (one wait for the group commit, not two: every IMAP login
    /// makes this call).
    fn record_login(&self, access: &AccessEvent, event: &EventRecord) -> Result<()>;
    /// The account's events with `from <= at <= until`, in time order.
    fn access_events(&self, account: AccountId, from: i64, until: i64) -> Result<Vec<AccessEvent>>;

    /// The spans during which a session had the account's INBOX selected (Art. 10)
    /// that meet `from..=until`, ordered by start: each `AgencyInboxSelected` paired
    /// with the `AgencyInboxLeft` of the same session (`AccessEvent::session`). A
    /// selection never left ends at [`OPEN_SPAN_LIMIT`] after it, or at the
    /// session's next event if that came first (`closed: false`). Spans keep their
    /// own ends (not cut to the period) within [`SPAN_SEARCH`] of it. See
    /// `sled_store::events`.
    fn access_spans(&self, account: AccountId, from: i64, until: i64) -> Result<Vec<AccessSpan>>;

    // ---- mail events (Art. 12.6, 15.4) -------------------------------------------
    /// Durably records mail events: one write for the batch, durable on return
    /// through the group commit. `Invalid` (nothing written) for a refusal rule
    /// that is empty or longer than [`MAX_RULE_LEN`] bytes.
    fn record_events(&self, events: &[EventRecord]) -> Result<()>;
    /// Every account's events with `from <= at <= until`, in time order (recording
    /// order within a second).
    fn events(&self, from: i64, until: i64) -> Result<Vec<EventRecord>>;
    /// Retention: drops the mail events and the access events before `before`, and
    /// the acknowledged acknowledgement records whose acknowledgement is before it
    /// (pending ones stay, however old). Returns how many records went.
    fn prune_events(&self, before: i64) -> Result<u64>;

    // ---- acknowledgements of receipt (Art. 16.2.a) ------------------------------
    /// Records a message that awaits acknowledgement (kept by account, mailbox and
    /// UID; recording the same message again replaces the record; the Message-ID
    /// is kept without angle brackets). Durable on return. `Invalid` for a
    /// Message-ID that is empty or longer than 998 bytes.
    fn record_pending_ack(&self, ack: &PendingAck) -> Result<()>;
    /// Marks the account's messages with this `Message-ID` (angle brackets and
    /// surrounding white space ignored) acknowledged by `by` at `at`, and returns
    /// the oldest of them as it now stands. The first acknowledgement wins: a
    /// message already acknowledged keeps its record, which is returned. `None`
    /// when the account has no record of such a message. Durable on return.
    fn acknowledge(
        &self,
        account: AccountId,
        message_id: &str,
        by: &str,
        at: i64,
    ) -> Result<Option<PendingAck>>;
    /// The acknowledgement records, acknowledged or not, of one account or of all,
    /// by account, mailbox and UID.
    fn acks(&self, account: Option<AccountId>) -> Result<Vec<PendingAck>>;

    // ---- notifications --------------------------------------------------------
    /// Every change committed from now on in the account's mailboxes (new
    /// messages, flag changes, expunges, mailbox list changes); nothing of other
    /// accounts. Slow receivers see `Lagged` and must resynchronise.
    fn subscribe(&self, account: AccountId) -> Subscription;

    // ---- scheduled jobs -----------------------------------------------------------
    /// The lock of a scheduled job (retention, reminders) among every process that
    /// shares this store, held until the returned guard drops; `None` while another
    /// process holds it (it is doing the job now: skip this turn). One process owns
    /// a sled store: there it is always granted.
    fn job_lock(&self, job: &str) -> Result<Option<JobLock>>;

    // ---- consistency ------------------------------------------------------------
    /// Reads back every invariant above and reports what does not hold
    /// ([`CheckReport`]); safe on a live store (writers wait for the scan).
    fn check(&self) -> Result<CheckReport>;
    /// Fixes what [`MailStore::check`] finds that can be fixed without losing mail
    /// and reports the rest (`congvu check --repair`).
    fn repair(&self) -> Result<RepairReport>;
    /// Every storage account (the directory cross-checks its records against them).
    fn account_ids(&self) -> Result<Vec<AccountId>>;
    /// How big the store is now (for `/metrics`): reads every account record, so it
    /// is a scrape's work, not a hot path's.
    fn size(&self) -> Result<StoreSize>;

    // ---- backup -----------------------------------------------------------------
    /// Writes a snapshot of everything (store, directory, queue, logs), the bodies
    /// it names and the directories the spec carries into the backup directory
    /// while the store is in use (see [`sled_store::backup`]).
    fn backup(&self, spec: &BackupSpec<'_>, progress: &Progress) -> Result<BackupManifest>;
}

/// A held [`MailStore::job_lock`]; dropping it releases the lock.
pub struct JobLock {
    /// What holds the lock: only its drop matters.
    _held: Box<dyn Send>,
}

impl JobLock {
    pub fn new(held: Box<dyn Send>) -> JobLock {
        JobLock { _held: held }
    }
}

impl std::fmt::Debug for JobLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobLock")
    }
}
