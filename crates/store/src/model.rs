//! The store's records and identifiers. Identifiers are validated newtypes: a `Uid`
//! is never zero (RFC 3501 §2.3.1.1), a `BlobId` is a SHA-256 digest.

pub use congvu_protocol::smtp::parse::{DsnRet, Notify};
pub use congvu_protocol::{FlagOp, Flags};
/// The mail event vocabulary and the acknowledgement are the reports'
/// ([`congvu_report`]): what the store records is what they count.
pub use congvu_report::{Acknowledgement, Destination, MailEventKind, Origin};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::num::NonZeroU32;

/// A storage account (one per mailbox owner: an agency or an official).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(pub u64);

/// A mailbox, unique across all accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MailboxId(pub u64);

/// An outbound queue entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueueId(pub u64);

/// An IMAP unique identifier: non-zero, ascending within a mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Uid(pub NonZeroU32);

impl Uid {
    pub const MIN: Uid = Uid(NonZeroU32::MIN);
    pub fn new(value: u32) -> Option<Uid> {
        NonZeroU32::new(value).map(Uid)
    }
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The SHA-256 digest of a message body, naming its blob file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlobId(pub [u8; 32]);

impl BlobId {
    pub fn of(bytes: &[u8]) -> BlobId {
        BlobId::of_parts(&[bytes])
    }
    /// The digest of the parts' concatenation, without joining them.
    pub fn of_parts(parts: &[&[u8]]) -> BlobId {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        BlobId(hasher.finalize().into())
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({})", self.to_hex())
    }
}

/// Whose mailbox an account is (Art. 2.3–2.7): it sets the default quota (Art. 9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountKind {
    Agency,
    Personal,
}

/// Storage facts of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountStorage {
    pub id: AccountId,
    pub kind: AccountKind,
    pub quota_bytes: u64,
    /// Sum of the sizes of every message in every mailbox of the account.
    pub used_bytes: u64,
}

/// How big the store is ([`crate::MailStore::size`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreSize {
    /// Storage accounts (agency and personal mailboxes, deleted ones until purged).
    pub accounts: u64,
    /// The messages' bytes as quotas count them: every copy in every mailbox.
    pub mailbox_bytes: u64,
    /// The metadata database's files on disk (bodies are apart, deduplicated).
    pub metadata_bytes: u64,
}

/// RFC 6154 special-use attributes congvu creates and reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpecialUse {
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
    All,
    Flagged,
}

impl SpecialUse {
    /// The attribute as written in LIST responses, e.g. `\Sent`.
    pub fn attribute(self) -> &'static str {
        match self {
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Trash => "\\Trash",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Archive => "\\Archive",
            SpecialUse::All => "\\All",
            SpecialUse::Flagged => "\\Flagged",
        }
    }
    /// Parses an attribute (case-insensitive, with the backslash).
    pub fn from_attribute(attribute: &str) -> Option<SpecialUse> {
        [
            SpecialUse::Sent,
            SpecialUse::Drafts,
            SpecialUse::Trash,
            SpecialUse::Junk,
            SpecialUse::Archive,
            SpecialUse::All,
            SpecialUse::Flagged,
        ]
        .into_iter()
        .find(|s| s.attribute().eq_ignore_ascii_case(attribute))
    }
}

/// The mailboxes every new account gets, in this order.
pub const DEFAULT_MAILBOXES: [(&str, Option<SpecialUse>); 6] = [
    ("INBOX", None),
    ("Sent", Some(SpecialUse::Sent)),
    ("Drafts", Some(SpecialUse::Drafts)),
    ("Trash", Some(SpecialUse::Trash)),
    ("Junk", Some(SpecialUse::Junk)),
    ("Archive", Some(SpecialUse::Archive)),
];

/// The hierarchy separator of mailbox names as stored (names are UTF-8; the IMAP
/// layer converts to and from modified UTF-7).
pub const HIERARCHY_SEPARATOR: char = '/';

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxInfo {
    pub id: MailboxId,
    pub account: AccountId,
    /// UTF-8 name, `/`-separated; `INBOX` is always spelled in upper case.
    pub name: String,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highestmodseq: u64,
    pub special_use: Option<SpecialUse>,
    pub subscribed: bool,
    /// Number of messages.
    pub messages: u32,
    /// Number of messages without `\Seen`.
    pub unseen: u32,
    /// Sum of message sizes.
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageMeta {
    pub uid: Uid,
    pub blob: BlobId,
    /// Size in bytes of the raw message (RFC822.SIZE).
    pub size: u64,
    /// INTERNALDATE as Unix seconds, and the UTC offset in seconds it was given with.
    pub internal_date: i64,
    pub internal_date_offset: i32,
    pub flags: Flags,
    /// Keywords (user flags such as `$Forwarded`, `$Junk`), as given, deduplicated
    /// case-insensitively.
    pub keywords: Vec<String>,
    pub modseq: u64,
}

/// One message for local delivery (SMTP DATA): stored once, one UID per target.
#[derive(Clone, Debug)]
pub struct Delivery<'a> {
    /// The message as consecutive parts (the headers the server adds, then the
    /// received bytes), written as one blob without being joined in memory.
    pub bytes: &'a [&'a [u8]],
    pub internal_date: i64,
    pub internal_date_offset: i32,
    pub targets: &'a [AccountId],
    pub folder: DeliveryFolder,
}

/// Where a delivered message is filed in each target account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryFolder {
    Inbox,
    /// The account's `\Junk` mailbox (RFC 6154), found by its special use whatever
    /// its name; the INBOX when the account has none.
    Junk,
    /// The account's `\Sent` mailbox, the copy marked `\Seen`: the server-side sent
    /// copy of mail a clerk sent as the agency (Art. 16.1). The INBOX when the
    /// account has none.
    Sent,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered {
        account: AccountId,
        mailbox: MailboxId,
        uid: Uid,
    },
    OverQuota {
        account: AccountId,
    },
}

#[derive(Clone, Debug)]
pub struct Append<'a> {
    pub bytes: &'a [u8],
    pub flags: Flags,
    pub keywords: &'a [String],
    pub internal_date: i64,
    pub internal_date_offset: i32,
    /// Whether the account's quota may refuse the message.
    pub quota: QuotaRule,
}

/// How an append meets the account's quota.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QuotaRule {
    /// Refused with `OverQuota` when it does not fit (IMAP APPEND, RFC 9208).
    #[default]
    Enforce,
    /// Stored and counted in the usage even past the quota: an operator's import
    /// with `--ignore-quota`, which the caller logs.
    Ignore,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub uidvalidity: u32,
    pub uid: Uid,
}

#[derive(Clone, Debug)]
pub struct FlagStore<'a> {
    pub uids: &'a [Uid],
    pub op: FlagOp,
    pub flags: Flags,
    pub keywords: &'a [String],
    pub unchanged_since: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct StoreOutcome {
    /// Messages whose flags changed, with their new state and modseq.
    pub changed: Vec<MessageMeta>,
    /// UIDs refused by `unchanged_since`.
    pub failed: Vec<Uid>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    pub uidvalidity: u32,
    pub pairs: Vec<(Uid, Uid)>,
}

/// A message for remote recipients, as accepted by submission.
#[derive(Clone, Debug)]
pub struct Outbound<'a> {
    /// The message as consecutive parts (the headers the server adds, then the
    /// received bytes), written as one blob without being joined in memory.
    pub bytes: &'a [&'a [u8]],
    /// Envelope sender (`MAIL FROM`), empty for the null sender.
    pub sender: &'a str,
    pub recipients: &'a [String],
    /// The authenticated account that submitted it, if any.
    pub submitted_by: Option<AccountId>,
    /// What the sender asked of delivery reports (RFC 3461); `&DsnRequest::default()`
    /// when the client gave no DSN parameter.
    pub dsn: &'a DsnRequest,
}

/// The DSN parameters of a message (RFC 3461 §4), kept with its queue entry so that
/// the relay passes them on and its reports honour them.
///
/// `envid` and each `orcpt` address hold the **xtext-decoded** values (§4: the
/// values travel xtext-encoded in SMTP): printable US-ASCII, written as they are
/// into report fields (`Original-Envelope-Id`, `Original-Recipient`, RFC 3464) and
/// encoded again when relayed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DsnRequest {
    /// `RET=` (§4.3); `None`: not given, the reporting server chooses.
    pub ret: Option<DsnRet>,
    /// `ENVID=` (§4.4), decoded.
    pub envid: Option<String>,
    /// `NOTIFY=` and `ORCPT=` of the recipients that gave one (§4.1, §4.2), by
    /// address as in the queue entry's `recipients`; a recipient not listed gave
    /// neither.
    pub recipients: Vec<RecipientDsn>,
}

impl DsnRequest {
    /// The parameters `address` was given with, if any.
    pub fn recipient(&self, address: &str) -> Option<&RecipientDsn> {
        self.recipients.iter().find(|r| r.address == address)
    }

    /// The events `address` is to be told about: its `NOTIFY`, or the RFC 3461
    /// §4.1 default (failure and delay) when it gave none.
    pub fn notify(&self, address: &str) -> Notify {
        self.recipient(address)
            .and_then(|r| r.notify)
            .unwrap_or(Notify::DEFAULT)
    }

    /// The original recipient `address` was given with (`ORCPT`), if any.
    pub fn orcpt(&self, address: &str) -> Option<&OriginalRecipient> {
        self.recipient(address).and_then(|r| r.orcpt.as_ref())
    }
}

/// One recipient's DSN parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecipientDsn {
    /// The recipient, spelled as in the queue entry's `recipients`.
    pub address: String,
    /// `NOTIFY=`; `None`: not given (§4.1 default: failure and delay).
    pub notify: Option<Notify>,
    /// `ORCPT=`, decoded.
    pub orcpt: Option<OriginalRecipient>,
}

/// `ORCPT=addr-type;xtext` (RFC 3461 §4.2), decoded: the recipient as the original
/// sender wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OriginalRecipient {
    /// The address type as given (an atom, usually `rfc822`).
    pub addr_type: String,
    /// The address, xtext-decoded (printable US-ASCII).
    pub address: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub id: QueueId,
    pub blob: BlobId,
    pub size: u64,
    pub sender: String,
    pub recipients: Vec<String>,
    pub submitted_by: Option<AccountId>,
    /// Unix seconds.
    pub queued_at: i64,
    pub next_attempt: i64,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Whether the sender was told the message is delayed (one notice per message).
    #[serde(default)]
    pub delay_notified: bool,
    /// The DSN parameters (RFC 3461); entries queued before DSN support load with
    /// none, and are reported on as before (failure and delay, headers only).
    #[serde(default)]
    pub dsn: DsnRequest,
}

/// The outcome of a delivery attempt that leaves recipients to try again.
#[derive(Clone, Debug)]
pub struct QueueUpdate<'a> {
    /// Unix seconds of the next attempt.
    pub next_attempt: i64,
    pub attempts: u32,
    pub last_error: Option<&'a str>,
    /// The recipients still to deliver (a subset of the entry's): the others were
    /// accepted or bounced. Never empty — a finished entry is removed instead. The
    /// entry's DSN parameters of the others are dropped with them.
    pub recipients: &'a [String],
    pub delay_notified: bool,
}

/// What an access event records (Art. 10: logins, and opening an agency mailbox).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessKind {
    Login,
    /// The INBOX of an agency account was selected (SELECT or EXAMINE).
    AgencyInboxSelected,
    /// The session that selected it left it (another SELECT or EXAMINE, CLOSE,
    /// UNSELECT, LOGOUT, the connection's end): the end of a check span.
    AgencyInboxLeft,
}

/// One access to a mailbox account, for the Art. 10 check report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEvent {
    /// The account accessed (for a login: the one logged into).
    pub account: AccountId,
    /// The address that authenticated.
    pub login: String,
    pub kind: AccessKind,
    /// Unix seconds.
    pub at: i64,
    /// The client's IP address.
    pub client: String,
    /// `imap`, `imaps`, `submission`, …
    pub protocol: String,
    /// The session (connection) that did it, unique across restarts, so that a
    /// selection pairs with the leaving of the same session; 0 in events recorded
    /// before sessions were numbered (each such selection is a span of no length).
    #[serde(default)]
    pub session: u64,
}

/// A span of time during which a session had an agency's INBOX selected (Art. 10
/// check windows): from its `AgencyInboxSelected` to its `AgencyInboxLeft`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSpan {
    /// The agency account whose INBOX was selected.
    pub account: AccountId,
    /// Who selected it: the agency's own login, or a clerk's through the shared
    /// namespace.
    pub login: String,
    /// Unix seconds.
    pub from: i64,
    pub until: i64,
    pub protocol: String,
    pub session: u64,
    /// False when no leaving was recorded (the server stopped, or the record
    /// failed): `until` is then the limit [`OPEN_SPAN_LIMIT`] after `from`, or the
    /// session's next event if that came first.
    pub closed: bool,
}

/// How long a selection with no recorded leaving is taken to have lasted, in
/// seconds (30 minutes: RFC 3501 §5.4's autologout timer, the longest an IMAP
/// client may stay silent). Independent of the `[imap]` settings, so a report
/// computed again later gives the same spans.
pub const OPEN_SPAN_LIMIT: i64 = 30 * 60;

/// How far before and after a period [`crate::MailStore::access_spans`] looks for
/// the selection or the leaving that bounds a span crossing the period's edge
/// (31 days, the farthest a check window reaches back). A span longer than that is
/// cut there.
pub const SPAN_SEARCH: i64 = 31 * 86_400;

/// The longest refusal rule a mail event keeps, in bytes (the policy rules' codes
/// and SMTP reply codes are far shorter).
pub const MAX_RULE_LEN: usize = 128;

/// One durable mail fact (Art. 12.6, 15.4: the usage statistics are computed from
/// these for any past period).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Unix seconds.
    pub at: i64,
    /// The account concerned (the recipient of a delivery, the sender of a
    /// submission, the one logged into).
    pub account: AccountId,
    pub kind: MailEventKind,
}

/// A message to an agency mailbox that asks for an acknowledgement of receipt
/// (Art. 16.2.a "trả lời đã tiếp nhận"): from another agency, or with a
/// `Disposition-Notification-To` (RFC 8098 §2.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAck {
    /// The agency account it was delivered to.
    pub account: AccountId,
    pub mailbox: MailboxId,
    pub uid: Uid,
    /// Its `Message-ID`, without the angle brackets.
    pub message_id: String,
    /// Its author (`From`) or envelope sender, whom the acknowledgement goes to by
    /// default.
    pub sender: String,
    /// `Disposition-Notification-To`, if the message had one.
    pub notify_to: Option<String>,
    /// Unix seconds of the delivery.
    pub received_at: i64,
    /// Who acknowledged (the login) and when (Unix seconds); the first
    /// acknowledgement is kept.
    pub acknowledged: Option<Acknowledgement>,
}
