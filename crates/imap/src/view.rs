//! The mailboxes of a user as IMAP shows them, for readers other than an IMAP
//! session: the webmail (`congvu::http::webmail`) lists, pages and searches through
//! here, so that it sees the same names, the same delegated agency mailboxes under
//! `Shared/` with the same rights (`session/shared.rs` resolves through
//! [`resolve`] too), and reads headers through the same cache as SEARCH and SORT.
//!
//! ## Invariants
//! 1. **One resolution.** A name resolves here the way it does for SELECT: a shared
//!    name the user holds no right on does not exist, a revoked grant is seen at the
//!    next call.
//! 2. **A window costs its window.** Listing by arrival with no filter reads only the
//!    window's index records and header fields (`MailStore::message_window`), so the
//!    first page of a 20,000-message folder reads 50 records, not 20,000. Sorting by sender or
//!    subject, or filtering, reads every message's cached header fields once (and a
//!    text filter every body), as IMAP SORT and SEARCH do.
//! 3. **Vietnamese without accents.** Filters compare text folded by
//!    [`congvu_policy::naming::fold_vietnamese`] (marks dropped, `đ` → `d`, lower
//!    case): "tuan" finds "Tuấn", "Công văn" finds "CONG VAN".

use std::sync::Arc;

use congvu_directory::{AccountRecord, Directory, DirectoryError, Rights, Role};
use congvu_policy::naming::fold_vietnamese;
use congvu_store::{
    AccountId, AccountKind, HIERARCHY_SEPARATOR, MailStore, MailboxId, MailboxInfo, MessageMeta, StoreError,
};
use mail_parser::{Address, HeaderValue, MessageParser};

use crate::ImapContext;
use crate::header_cache::cached_block;
use crate::message::Message;
use crate::message::text::body_text;

/// The shared namespace's prefix, without its separator (RFC 2342; see
/// `session/shared.rs` for why it is plain ASCII).
pub const SHARED: &str = "Shared";

/// A mailbox name resolved for a user: whose storage it is in, what it is called
/// there, and what the user may do with it.
#[derive(Clone, Debug)]
pub struct Target {
    /// The account that owns the mailbox: the user, or the delegated agency.
    pub owner: AccountRecord,
    /// The name in the owner's store (`INBOX` for `Shared/sttt/INBOX`).
    pub name: String,
    pub rights: Rights,
}

impl Target {
    pub fn account(&self) -> AccountId {
        self.owner.account
    }

    /// Opening this mailbox is an access event (Art. 10): an agency's INBOX.
    pub fn is_agency_inbox(&self) -> bool {
        self.owner.kind == AccountKind::Agency && self.name == "INBOX"
    }
}

/// Why a name did not resolve.
#[derive(Debug, thiserror::Error)]
pub enum Unresolved {
    /// No such mailbox, or one the user holds no right on (RFC 4314 §4: its
    /// existence is not revealed).
    #[error("no such mailbox")]
    NoSuchMailbox,
    #[error("directory: {0}")]
    Directory(#[from] DirectoryError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// `Shared/<local>/<rest>` → (`local`, `rest`); `None` for other names. `rest` is
/// `None` for `Shared` and `Shared/<local>`, which are levels, not mailboxes.
pub(crate) fn split_shared(name: &str) -> Option<(Option<&str>, Option<&str>)> {
    let rest = name.strip_prefix(SHARED)?;
    if rest.is_empty() {
        return Some((None, None));
    }
    let rest = rest.strip_prefix(HIERARCHY_SEPARATOR)?;
    match rest.split_once(HIERARCHY_SEPARATOR) {
        Some((local, folder)) if !local.is_empty() && !folder.is_empty() => Some((Some(local), Some(folder))),
        _ => Some((Some(rest), None)),
    }
}

/// The name a shared mailbox is shown under.
pub fn shared_name(agency_address: &str, folder: &str) -> String {
    let local = agency_address.split('@').next().unwrap_or(agency_address);
    format!("{SHARED}{HIERARCHY_SEPARATOR}{local}{HIERARCHY_SEPARATOR}{folder}")
}

/// True for `Shared` and every name under it (any case): not a personal name.
pub fn is_reserved(name: &str) -> bool {
    let level = name.split(HIERARCHY_SEPARATOR).next().unwrap_or_default();
    level.eq_ignore_ascii_case(SHARED)
}

/// Resolves a mailbox name as `user` gives it (invariant 1).
pub fn resolve(directory: &Directory, user: &AccountRecord, name: &str) -> Result<Target, Unresolved> {
    let Some((local, folder)) = split_shared(name) else {
        return Ok(Target {
            owner: user.clone(),
            name: name.to_owned(),
            rights: Rights::ALL,
        });
    };
    let (Some(local), Some(folder)) = (local, folder) else {
        return Err(Unresolved::NoSuchMailbox);
    };
    let address = format!("{local}@{}", directory.primary_domain());
    let owner = match directory.lookup(&address)? {
        Some(owner) if owner.kind == AccountKind::Agency && !owner.disabled => owner,
        _ => return Err(Unresolved::NoSuchMailbox),
    };
    // The level below `Shared/` is the agency's own local part, never an alias.
    if shared_name(&owner.address, folder) != name {
        return Err(Unresolved::NoSuchMailbox);
    }
    // The grant in force: none once the clerk is disabled, deleted or moved out.
    let granted = directory
        .delegation(user.account, owner.account)?
        .map_or(Rights::NONE, |g| g.rights);
    // Roles are read afresh: a head who is replaced loses `a` at once.
    let administers = directory.account_by_id(user.account)?.is_some_and(|u| {
        !u.disabled && (u.role == Role::Administrator || (u.role == Role::Head && u.agency == owner.agency))
    });
    let rights = if administers {
        granted.union(Rights::ADMINISTER)
    } else {
        granted
    };
    if rights.is_empty() {
        return Err(Unresolved::NoSuchMailbox);
    }
    // The store matches INBOX in any case; the access check must too.
    let name = if folder.eq_ignore_ascii_case("INBOX") {
        "INBOX".to_owned()
    } else {
        folder.to_owned()
    };
    Ok(Target { owner, name, rights })
}

/// The agency mailboxes `user` may list (`l`), named as in the shared namespace, in
/// the agency's store order, each with the rights of its grant. Their special uses
/// are not passed on: Thunderbird and Outlook pick the account's Sent, Drafts and
/// Trash by the RFC 6154 attribute wherever it appears, and must not pick the
/// agency's.
pub fn shared_mailboxes(
    directory: &Directory,
    store: &dyn MailStore,
    user: &AccountRecord,
) -> Result<Vec<(MailboxInfo, Rights)>, Unresolved> {
    let mut shared = Vec::new();
    for grant in directory
        .delegations_for(user.account)?
        .iter()
        .filter(|g| g.rights.contains(Rights::LOOKUP))
    {
        for mailbox in store.list_mailboxes(grant.mailbox)? {
            let info = MailboxInfo {
                name: shared_name(&grant.mailbox_address, &mailbox.name),
                special_use: None,
                ..mailbox
            };
            shared.push((info, grant.rights));
        }
    }
    Ok(shared)
}

/// Every mailbox `user` sees: their own (every right), then the delegated ones.
pub fn folders(ctx: &ImapContext, user: &AccountRecord) -> Result<Vec<(MailboxInfo, Rights)>, Unresolved> {
    let mut all: Vec<_> = ctx
        .store
        .list_mailboxes(user.account)?
        .into_iter()
        .map(|m| (m, Rights::ALL))
        .collect();
    all.extend(shared_mailboxes(&ctx.directory, &*ctx.store, user)?);
    Ok(all)
}

/// The order of a listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// UID order: the order messages came into the folder, read from the index
    /// window by window (`MailStore::message_window`).
    #[default]
    Arrival,
    /// The sender's display name (or address), folded.
    From,
    /// The subject as written, folded.
    Subject,
}

/// What a listing keeps: every given word must occur, accents ignored (invariant 3).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub from: String,
    pub subject: String,
    /// Searched in every text part (nested messages included) and the subject.
    pub text: String,
    /// INTERNALDATE at or after (Unix seconds).
    pub since: Option<i64>,
    /// INTERNALDATE before (Unix seconds).
    pub before: Option<i64>,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.from.trim().is_empty()
            && self.subject.trim().is_empty()
            && self.text.trim().is_empty()
            && self.since.is_none()
            && self.before.is_none()
    }
}

/// One message of a listing: its index record and what the list shows of it.
#[derive(Clone, Debug)]
pub struct Row {
    pub meta: MessageMeta,
    /// The first sender's display name, or address when it has none.
    pub from: String,
    /// The decoded subject.
    pub subject: String,
    /// The `Date:` field (Unix seconds), if readable.
    pub sent: Option<i64>,
}

/// One window of a listing.
#[derive(Clone, Debug)]
pub struct Page {
    /// Messages in the listing (after the filter).
    pub total: usize,
    pub rows: Vec<Row>,
}

/// The header fields cached for `meta`'s body, read and cut once when missing. `None`
/// when the message was expunged meanwhile.
fn header_block(ctx: &ImapContext, meta: &MessageMeta) -> congvu_store::Result<Option<Arc<[u8]>>> {
    if let Some(block) = ctx.headers.get(&meta.blob) {
        return Ok(Some(block));
    }
    let raw = match ctx.store.read_blob(&meta.blob) {
        Ok(raw) => raw,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(err) => return Err(err),
    };
    let block = cached_block(Message::parse(&raw).header());
    ctx.headers.insert(meta.blob, block.clone());
    Ok(Some(block))
}

fn first_sender(from: Option<&Address<'_>>) -> String {
    let Some(address) = from.and_then(|a| a.first()) else {
        return String::new();
    };
    match (&address.name, &address.address) {
        (Some(name), _) if !name.trim().is_empty() => name.trim().to_owned(),
        (_, Some(address)) => address.to_string(),
        _ => String::new(),
    }
}

fn row(meta: MessageMeta, block: &[u8]) -> Row {
    let parsed = MessageParser::new().parse_headers(block);
    let (from, subject, sent) = match &parsed {
        Some(message) => (
            first_sender(message.from()),
            message.subject().unwrap_or_default().to_owned(),
            match message.header("Date") {
                Some(HeaderValue::DateTime(date)) => Some(date.to_timestamp()),
                _ => None,
            },
        ),
        None => Default::default(),
    };
    Row {
        meta,
        from,
        subject,
        sent,
    }
}

fn contains_folded(haystack: &str, words: &str) -> bool {
    let haystack = fold_vietnamese(haystack);
    fold_vietnamese(words)
        .split(' ')
        .filter(|w| !w.is_empty())
        .all(|w| haystack.contains(w))
}

/// The window `offset..offset + limit` of `mailbox`'s messages kept by `filter`, in
/// `order` (ties by UID), newest or greatest first when `descending`.
pub fn page(
    ctx: &ImapContext,
    mailbox: MailboxId,
    order: Order,
    descending: bool,
    filter: &Filter,
    offset: usize,
    limit: usize,
) -> congvu_store::Result<Page> {
    if order == Order::Arrival && filter.is_empty() {
        // Invariant 2: only the window is read, index and headers.
        let total = ctx
            .store
            .mailbox(mailbox)?
            .map_or(0, |info| info.messages as usize);
        let mut rows = Vec::new();
        for meta in ctx.store.message_window(mailbox, descending, offset, limit)? {
            if let Some(block) = header_block(ctx, &meta)? {
                rows.push(row(meta, &block));
            }
        }
        return Ok(Page { total, rows });
    }
    let metas = ctx.store.messages(mailbox)?;
    let mut rows = Vec::new();
    for meta in metas {
        if filter.since.is_some_and(|since| meta.internal_date < since)
            || filter.before.is_some_and(|before| meta.internal_date >= before)
        {
            continue;
        }
        let Some(block) = header_block(ctx, &meta)? else {
            continue;
        };
        let row = row(meta, &block);
        if !contains_folded(&row.from, &filter.from) || !contains_folded(&row.subject, &filter.subject) {
            continue;
        }
        if !filter.text.trim().is_empty() {
            let raw = match ctx.store.read_blob(&row.meta.blob) {
                Ok(raw) => raw,
                Err(StoreError::NotFound(_)) => continue,
                Err(err) => return Err(err),
            };
            let text = format!("{}\n{}", row.subject, body_text(&raw));
            if !contains_folded(&text, &filter.text) {
                continue;
            }
        }
        rows.push(row);
    }
    match order {
        Order::Arrival => {}
        Order::From => rows.sort_by_cached_key(|r| fold_vietnamese(&r.from)),
        Order::Subject => rows.sort_by_cached_key(|r| fold_vietnamese(&r.subject)),
    }
    if descending {
        rows.reverse();
    }
    let total = rows.len();
    let rows = rows.into_iter().skip(offset).take(limit).collect();
    Ok(Page { total, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_names() {
        assert_eq!(split_shared("INBOX"), None);
        assert_eq!(split_shared("Sharedx"), None);
        assert_eq!(split_shared("shared/sttt/INBOX"), None);
        assert_eq!(split_shared("Shared"), Some((None, None)));
        assert_eq!(split_shared("Shared/sttt"), Some((Some("sttt"), None)));
        assert_eq!(split_shared("Shared/sttt/"), Some((Some("sttt/"), None)));
        assert_eq!(
            split_shared("Shared/sttt/INBOX"),
            Some((Some("sttt"), Some("INBOX")))
        );
        assert_eq!(
            split_shared("Shared/pvhtt.yendinh/Công văn/2024"),
            Some((Some("pvhtt.yendinh"), Some("Công văn/2024")))
        );
        assert_eq!(shared_name("sttt@thanhhoa.gov.vn", "Sent"), "Shared/sttt/Sent");
        for reserved in ["Shared", "shared", "SHARED/x", "Shared/sttt/INBOX"] {
            assert!(is_reserved(reserved), "{reserved}");
        }
        for free in ["Sharedx", "Archive/Shared", "INBOX"] {
            assert!(!is_reserved(free), "{free}");
        }
    }

    #[test]
    fn rows_decode_the_sender_and_subject() {
        let block = b"From: =?UTF-8?B?Tmfhu41jIEFuaA==?= <anh@x.vn>\r\nSubject: =?UTF-8?Q?C=C3=B4ng_v=C4=83n?=\r\nDate: Thu, 3 Dec 2026 08:00:00 +0700\r\n\r\n";
        let meta = MessageMeta {
            uid: congvu_store::Uid::MIN,
            blob: congvu_store::BlobId::of(b""),
            size: 0,
            internal_date: 0,
            internal_date_offset: 0,
            flags: Default::default(),
            keywords: Vec::new(),
            modseq: 1,
        };
        let row = row(meta, block);
        assert_eq!(row.from, "Ngọc Anh");
        assert_eq!(row.subject, "Công văn");
        assert_eq!(row.sent, Some(1_796_259_600));
    }

    #[test]
    fn filters_ignore_accents_and_need_every_word() {
        assert!(contains_folded("Nguyễn Văn Tuấn", "tuan"));
        assert!(contains_folded("CÔNG VĂN số 12", "công văn"));
        assert!(!contains_folded("Công văn", "công điện"));
        assert!(contains_folded("anything", "  "));
    }
}
