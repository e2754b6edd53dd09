//! Typed client commands: what the parser produces and the session executes.

use crate::Secret;
use crate::{FlagOp, Flags};

use super::datetime::DateTime;
use super::fetch::FetchAttr;
use super::search::SearchKey;
use super::sequence::{MessageSet, SequenceSet};
use super::sort::{SortKey, ThreadAlgorithm};

/// A command tag: 1*<ASTRING-CHAR except "+"> (RFC 3501 §9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag(pub String);

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A mailbox name as the store spells it: UTF-8, `/`-separated, `INBOX` in upper
/// case. Made from the wire form by [`super::parse`] (modified UTF-7 decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxName(pub String);

impl MailboxName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// System flags and keywords, as given in STORE and APPEND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlagSet {
    pub system: Flags,
    pub keywords: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusItem {
    Messages,
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    /// RFC 8438.
    Size,
    /// RFC 9051 §6.3.11.
    Deleted,
    /// RFC 7162 §3.1.6.
    HighestModSeq,
}

impl StatusItem {
    pub fn name(self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::Recent => "RECENT",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::Size => "SIZE",
            StatusItem::Deleted => "DELETED",
            StatusItem::HighestModSeq => "HIGHESTMODSEQ",
        }
    }

    pub(crate) const ALL: [StatusItem; 8] = [
        StatusItem::Messages,
        StatusItem::Recent,
        StatusItem::UidNext,
        StatusItem::UidValidity,
        StatusItem::Unseen,
        StatusItem::Size,
        StatusItem::Deleted,
        StatusItem::HighestModSeq,
    ];
}

/// RFC 7162 §3.2.5 `QRESYNC (uidvalidity modseq [known-uids [seq-match-data]])`.
/// The sequence-match data only helps servers that forget expunges; congvu keeps
/// an expunge log, so it is parsed and not needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QResyncParams {
    pub uidvalidity: u32,
    pub modseq: u64,
    pub known_uids: Option<SequenceSet>,
}

/// SELECT/EXAMINE parameters (RFC 4466 §2.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectParams {
    /// RFC 7162 §3.1.8 `(CONDSTORE)`.
    pub condstore: bool,
    pub qresync: Option<QResyncParams>,
}

/// LIST-EXTENDED selection and return options (RFC 5258 §3, RFC 6154 §3,
/// RFC 5819). `CHILDREN` is not kept: children attributes are always sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Selection `SUBSCRIBED`: only subscribed mailboxes.
    pub select_subscribed: bool,
    /// Selection `SPECIAL-USE`: only mailboxes with a special use.
    pub select_special_use: bool,
    /// Selection `RECURSIVEMATCH`: also parents of matches, with CHILDINFO.
    pub recursive_match: bool,
    /// Return `SUBSCRIBED` (implied by the selection): add `\Subscribed`.
    pub return_subscribed: bool,
    /// Return `STATUS (…)` (RFC 5819): a STATUS response after each mailbox.
    pub status: Option<Vec<StatusItem>>,
}

/// ESEARCH result options (RFC 4731 §3.1). `ALL` is also what an empty
/// `RETURN ()` means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchReturn {
    Min,
    Max,
    All,
    Count,
    /// RFC 5182 §2.1: keep the result for `$`.
    Save,
}

impl SearchReturn {
    pub fn name(self) -> &'static str {
        match self {
            SearchReturn::Min => "MIN",
            SearchReturn::Max => "MAX",
            SearchReturn::All => "ALL",
            SearchReturn::Count => "COUNT",
            SearchReturn::Save => "SAVE",
        }
    }

    pub(crate) const ALL: [SearchReturn; 5] = [
        SearchReturn::Min,
        SearchReturn::Max,
        SearchReturn::All,
        SearchReturn::Count,
        SearchReturn::Save,
    ];
}

/// One client command. Equality compares everything, a [`Secret`]'s value too
/// (the round-trip property needs it); `Debug` never shows a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub tag: Tag,
    pub body: CommandBody,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandBody {
    Capability,
    Noop,
    Logout,
    StartTls,
    Authenticate {
        mechanism: String,
        /// RFC 4959 SASL-IR: the base64 text after the mechanism (`=` for empty).
        initial_response: Option<Secret<Vec<u8>>>,
    },
    Login {
        username: String,
        password: Secret<String>,
    },
    Enable(Vec<String>),
    /// RFC 2971: `NIL` or field/value pairs.
    Id(Vec<(String, Option<String>)>),
    Namespace,
    /// SELECT, or EXAMINE when `read_only`.
    Select {
        mailbox: MailboxName,
        read_only: bool,
        params: SelectParams,
    },
    /// CREATE, with the RFC 6154 §3 `(USE (…))` attributes as written.
    Create {
        mailbox: MailboxName,
        special_use: Vec<String>,
    },
    Delete(MailboxName),
    Rename {
        from: MailboxName,
        to: MailboxName,
    },
    Subscribe(MailboxName),
    Unsubscribe(MailboxName),
    /// LIST, or LSUB when `subscribed_only`. Both decoded from modified UTF-7.
    /// LIST-EXTENDED (RFC 5258) may give several patterns and options.
    List {
        reference: String,
        patterns: Vec<String>,
        subscribed_only: bool,
        options: ListOptions,
    },
    Status {
        mailbox: MailboxName,
        items: Vec<StatusItem>,
    },
    Append {
        mailbox: MailboxName,
        flags: FlagSet,
        date: Option<DateTime>,
        message: Vec<u8>,
    },
    Check,
    Close,
    Unselect,
    /// EXPUNGE, or UID EXPUNGE with its UID set (RFC 4315).
    Expunge(Option<MessageSet>),
    Search {
        uid: bool,
        /// `RETURN (…)` (RFC 4731): answer with ESEARCH instead of SEARCH.
        ret: Option<Vec<SearchReturn>>,
        charset: Option<String>,
        key: SearchKey,
    },
    Fetch {
        uid: bool,
        set: MessageSet,
        attrs: Vec<FetchAttr>,
        /// RFC 7162 §3.1.4.1 `(CHANGEDSINCE n)`.
        changed_since: Option<u64>,
        /// RFC 7162 §3.2.6 `VANISHED` modifier (UID FETCH only).
        vanished: bool,
    },
    Store {
        uid: bool,
        set: MessageSet,
        op: FlagOp,
        silent: bool,
        flags: FlagSet,
        /// RFC 7162 §3.1.3 `(UNCHANGEDSINCE n)`.
        unchanged_since: Option<u64>,
    },
    Copy {
        uid: bool,
        set: MessageSet,
        mailbox: MailboxName,
    },
    /// RFC 6851.
    Move {
        uid: bool,
        set: MessageSet,
        mailbox: MailboxName,
    },
    Idle,
    /// RFC 5256 SORT / UID SORT.
    Sort {
        uid: bool,
        criteria: Vec<SortKey>,
        charset: String,
        key: SearchKey,
    },
    /// RFC 5256 THREAD / UID THREAD.
    Thread {
        uid: bool,
        algorithm: ThreadAlgorithm,
        charset: String,
        key: SearchKey,
    },
    /// RFC 4978 COMPRESS with its mechanism name.
    Compress(String),
    GetQuotaRoot(MailboxName),
    GetQuota(String),
    /// RFC 4314 §3.1.
    SetAcl {
        mailbox: MailboxName,
        identifier: String,
        change: super::acl::RightsChange,
    },
    /// RFC 4314 §3.2.
    DeleteAcl {
        mailbox: MailboxName,
        identifier: String,
    },
    /// RFC 4314 §3.3.
    GetAcl(MailboxName),
    /// RFC 4314 §3.4.
    ListRights {
        mailbox: MailboxName,
        identifier: String,
    },
    /// RFC 4314 §3.5.
    MyRights(MailboxName),
}

impl CommandBody {
    /// The command's name for logs (never its arguments: LOGIN carries a password).
    pub fn name(&self) -> &'static str {
        use CommandBody::*;
        match self {
            Capability => "CAPABILITY",
            Noop => "NOOP",
            Logout => "LOGOUT",
            StartTls => "STARTTLS",
            Authenticate { .. } => "AUTHENTICATE",
            Login { .. } => "LOGIN",
            Enable(_) => "ENABLE",
            Id(_) => "ID",
            Namespace => "NAMESPACE",
            Select { read_only: false, .. } => "SELECT",
            Select { read_only: true, .. } => "EXAMINE",
            Create { .. } => "CREATE",
            Delete(_) => "DELETE",
            Rename { .. } => "RENAME",
            Subscribe(_) => "SUBSCRIBE",
            Unsubscribe(_) => "UNSUBSCRIBE",
            List {
                subscribed_only: false,
                ..
            } => "LIST",
            List {
                subscribed_only: true,
                ..
            } => "LSUB",
            Status { .. } => "STATUS",
            Append { .. } => "APPEND",
            Check => "CHECK",
            Close => "CLOSE",
            Unselect => "UNSELECT",
            Expunge(None) => "EXPUNGE",
            Expunge(Some(_)) => "UID EXPUNGE",
            Search { uid: false, .. } => "SEARCH",
            Search { uid: true, .. } => "UID SEARCH",
            Fetch { uid: false, .. } => "FETCH",
            Fetch { uid: true, .. } => "UID FETCH",
            Store { uid: false, .. } => "STORE",
            Store { uid: true, .. } => "UID STORE",
            Copy { uid: false, .. } => "COPY",
            Copy { uid: true, .. } => "UID COPY",
            Move { uid: false, .. } => "MOVE",
            Move { uid: true, .. } => "UID MOVE",
            Idle => "IDLE",
            Sort { uid: false, .. } => "SORT",
            Sort { uid: true, .. } => "UID SORT",
            Thread { uid: false, .. } => "THREAD",
            Thread { uid: true, .. } => "UID THREAD",
            Compress(_) => "COMPRESS",
            GetQuotaRoot(_) => "GETQUOTAROOT",
            GetQuota(_) => "GETQUOTA",
            SetAcl { .. } => "SETACL",
            DeleteAcl { .. } => "DELETEACL",
            GetAcl(_) => "GETACL",
            ListRights { .. } => "LISTRIGHTS",
            MyRights(_) => "MYRIGHTS",
        }
    }
}
