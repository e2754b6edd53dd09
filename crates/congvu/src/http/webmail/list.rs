//! A folder's messages: one window of [`PAGE_SIZE`], sorted, searched
//! (`congvu_imap::view::page`), and the actions on the selected ones.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use congvu_directory::Rights;
use congvu_imap::view::{self, Filter, Order, Target, Unresolved};
use congvu_store::{
    AccessEvent, AccessKind, FlagOp, FlagStore, Flags, MailboxInfo, SpecialUse, StoreError, Uid,
};

use super::folders::{Chrome, chrome, encode, label};
use super::{PAGE_SIZE, WebmailState, account_of, blocking, failure};
use crate::http::console::{Notice, Viewer, check_csrf, local_time, render};

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub f: Option<String>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    desc: Option<u8>,
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    text: Option<String>,
    /// `YYYY-MM-DD`, local time (UTC+7).
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    before: Option<String>,
    /// A notice to show: `sent`, `draft`.
    #[serde(default)]
    done: Option<String>,
}

/// One line of the list.
pub struct Line {
    pub uid: u32,
    pub from: String,
    pub subject: String,
    pub date: String,
    pub size: String,
    pub seen: bool,
    pub flagged: bool,
    pub answered: bool,
    pub href: String,
}

#[derive(Template)]
#[template(path = "webmail/list.html")]
struct ListPage {
    chrome: Chrome,
    folder: String,
    folder_href: String,
    folder_label: String,
    lines: Vec<Line>,
    total: usize,
    first: usize,
    last: usize,
    previous: Option<String>,
    next: Option<String>,
    desc: bool,
    sort_links: Vec<(&'static str, String, bool)>,
    search: SearchForm,
    searching: bool,
    /// Where messages may be moved (the reader's folders with `i`).
    targets: Vec<(String, String)>,
    writable: bool,
    /// The URL of this folder's change events.
    events: String,
}

#[derive(Default)]
struct SearchForm {
    from: String,
    subject: String,
    text: String,
    since: String,
    before: String,
}

/// Midnight in Vietnam (UTC+7) of a `YYYY-MM-DD` date, as Unix seconds.
fn local_midnight(date: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp() - 7 * 3600)
}

/// `GET /`: the INBOX.
pub async fn inbox(state: State<WebmailState>, viewer: Viewer, Query(query): Query<ListQuery>) -> Response {
    page(
        state,
        viewer,
        Query(ListQuery {
            f: Some("INBOX".into()),
            ..query
        }),
    )
    .await
}

/// The folder `name` resolved for the viewer, with the right `needed`, and its
/// store record.
pub fn open(
    state: &WebmailState,
    viewer: &Viewer,
    name: &str,
    needed: Rights,
) -> Result<(Target, MailboxInfo), Unresolved> {
    let user = account_of(state, viewer)?;
    let target = view::resolve(&state.admin.directory, &user, name)?;
    if !target.rights.contains(needed) {
        return Err(Unresolved::NoSuchMailbox);
    }
    let mailbox = state
        .admin
        .store
        .mailbox_by_name(target.account(), &target.name)?
        .ok_or(Unresolved::NoSuchMailbox)?;
    Ok((target, mailbox))
}

/// Art. 10: opening an agency's INBOX in the webmail is a check, as SELECT is.
/// Recorded as a selection and its leaving at the same moment (a page has no open
/// session to pair them later).
pub fn record_agency_access(
    state: &WebmailState,
    viewer: &Viewer,
    target: &Target,
) -> Result<(), Unresolved> {
    if !target.is_agency_inbox() {
        return Ok(());
    }
    let session = rand::random::<u64>() & 0xffff_ffff_ffff;
    for kind in [AccessKind::AgencyInboxSelected, AccessKind::AgencyInboxLeft] {
        state.admin.store.record_access(&AccessEvent {
            account: target.account(),
            login: viewer.principal.address.clone(),
            kind,
            at: congvu_directory::unix_now(),
            client: viewer.client.to_string(),
            protocol: "webmail".to_owned(),
            session: session.max(1),
        })?;
    }
    Ok(())
}

fn size_text(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn list_url(folder: &str, sort: &str, desc: bool, page: usize, search: &SearchForm) -> String {
    let mut url = format!(
        "/mail?f={}&sort={sort}&desc={}&page={page}",
        encode(folder),
        u8::from(desc)
    );
    for (key, value) in [
        ("from", &search.from),
        ("subject", &search.subject),
        ("text", &search.text),
        ("since", &search.since),
        ("before", &search.before),
    ] {
        if !value.is_empty() {
            url.push_str(&format!("&{key}={}", encode(value)));
        }
    }
    url
}

/// `GET /mail`: one window of a folder.
pub async fn page(
    State(state): State<WebmailState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = viewer.lang;
    let folder = query.f.clone().unwrap_or_else(|| "INBOX".to_owned());
    let sort: &'static str = match query.sort.as_deref() {
        Some("from") => "from",
        Some("subject") => "subject",
        _ => "date",
    };
    let order = match sort {
        "from" => Order::From,
        "subject" => Order::Subject,
        _ => Order::Arrival,
    };
    let desc = query.desc.map_or(sort == "date", |d| d != 0);
    let page_number = query.page.unwrap_or(0);
    let search = SearchForm {
        from: query.from.clone().unwrap_or_default(),
        subject: query.subject.clone().unwrap_or_default(),
        text: query.text.clone().unwrap_or_default(),
        since: query.since.clone().unwrap_or_default(),
        before: query.before.clone().unwrap_or_default(),
    };
    let filter = Filter {
        from: search.from.clone(),
        subject: search.subject.clone(),
        text: search.text.clone(),
        since: local_midnight(&search.since),
        before: local_midnight(&search.before).map(|t| t + 86_400),
    };
    let path = list_url(&folder, sort, desc, page_number, &search);
    let task_state = state.clone();
    let task_folder = folder.clone();
    let title = lang.t("Hộp thư", "Mail").to_owned();
    let loaded = blocking(move || {
        let state = &task_state;
        let (target, mailbox) = open(state, &viewer, &task_folder, Rights::READ)?;
        record_agency_access(state, &viewer, &target)?;
        let listing = view::page(
            &state.imap,
            mailbox.id,
            order,
            desc,
            &filter,
            page_number * PAGE_SIZE,
            PAGE_SIZE,
        )?;
        let user = account_of(state, &viewer)?;
        let chrome = chrome(state, &viewer, &user, &task_folder, title, path)?;
        let targets = view::folders(&state.imap, &user)?
            .into_iter()
            .filter(|(info, rights)| rights.contains(Rights::INSERT) && info.name != task_folder)
            .map(|(info, _)| (info.name.clone(), label(viewer.lang, &info)))
            .collect();
        Ok((target, mailbox, listing, chrome, targets))
    })
    .await;
    let (target, mailbox, listing, mut chrome, targets) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(lang, &error),
    };
    chrome.notice = match query.done.as_deref() {
        Some("sent") => Some(Notice::ok(lang.t("Đã gửi thư.", "Message sent."))),
        Some("moved") => Some(Notice::ok(lang.t("Đã thực hiện.", "Done."))),
        _ => None,
    };
    let lines = listing
        .rows
        .iter()
        .map(|row| Line {
            uid: row.meta.uid.get(),
            from: if row.from.is_empty() {
                lang.t("(không rõ)", "(unknown)").to_owned()
            } else {
                row.from.clone()
            },
            subject: if row.subject.trim().is_empty() {
                lang.t("(không có tiêu đề)", "(no subject)").to_owned()
            } else {
                row.subject.clone()
            },
            date: local_time(row.meta.internal_date),
            size: size_text(row.meta.size),
            seen: row.meta.flags.contains(Flags::SEEN),
            flagged: row.meta.flags.contains(Flags::FLAGGED),
            answered: row.meta.flags.contains(Flags::ANSWERED),
            href: format!("/mail/message?f={}&uid={}", encode(&folder), row.meta.uid),
        })
        .collect();
    let first = page_number * PAGE_SIZE;
    let last = (first + listing.rows.len()).min(listing.total);
    let previous = (page_number > 0).then(|| list_url(&folder, sort, desc, page_number - 1, &search));
    let next = (last < listing.total).then(|| list_url(&folder, sort, desc, page_number + 1, &search));
    let sort_links = [
        ("date", lang.t("Ngày", "Date")),
        ("from", lang.t("Người gửi", "Sender")),
        ("subject", lang.t("Tiêu đề", "Subject")),
    ]
    .into_iter()
    .map(|(key, text)| {
        // The current key again flips the direction.
        let flip = if key == sort { !desc } else { key == "date" };
        (text, list_url(&folder, key, flip, 0, &search), key == sort)
    })
    .collect();
    let searching = !search.from.is_empty()
        || !search.subject.is_empty()
        || !search.text.is_empty()
        || !search.since.is_empty()
        || !search.before.is_empty();
    let events = format!(
        "/mail/events?f={}&modseq={}",
        encode(&folder),
        mailbox.highestmodseq
    );
    let folder_label = label(
        lang,
        &MailboxInfo {
            name: folder.clone(),
            ..mailbox
        },
    );
    let page = ListPage {
        chrome,
        events,
        folder_href: format!("/mail?f={}", encode(&folder)),
        folder,
        folder_label,
        lines,
        total: listing.total,
        first: if listing.total == 0 { 0 } else { first + 1 },
        last,
        previous,
        next,
        desc,
        sort_links,
        search,
        searching,
        targets,
        writable: target.rights.contains(Rights::WRITE),
    };
    render(StatusCode::OK, &page)
}

/// The UIDs ticked in a form (`uid` fields).
fn selected(fields: &[(String, String)]) -> Vec<Uid> {
    let mut uids: Vec<Uid> = fields
        .iter()
        .filter(|(key, _)| key == "uid")
        .filter_map(|(_, value)| value.parse().ok().and_then(Uid::new))
        .collect();
    uids.sort();
    uids.dedup();
    uids
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

/// What an action on messages needs of the folder.
fn rights_for(action: &str) -> Option<Rights> {
    Some(match action {
        "seen" | "unseen" => Rights::SEEN,
        "flag" | "unflag" => Rights::WRITE,
        "delete" | "move" => Rights::DELETE_MESSAGES.union(Rights::EXPUNGE),
        _ => return None,
    })
}

/// `POST /mail/act`: `action` (seen, unseen, flag, unflag, delete, move with `to`)
/// on the `uid`s of folder `f`; back to `back` (a page of ours) or the folder.
pub async fn act(
    State(state): State<WebmailState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = check_csrf(&headers, field(&fields, "csrf")) {
        return refused.into_response();
    }
    let lang = viewer.lang;
    let folder = field(&fields, "f").to_owned();
    let action = field(&fields, "action").to_owned();
    let to = field(&fields, "to").to_owned();
    let uids = selected(&fields);
    let Some(needed) = rights_for(&action) else {
        return (
            StatusCode::BAD_REQUEST,
            lang.t("Thao tác không hợp lệ.", "Not a valid action."),
        )
            .into_response();
    };
    if uids.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            lang.t("Chưa chọn thư nào.", "No message selected."),
        )
            .into_response();
    }
    let back = field(&fields, "back");
    let back = if back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && action != "delete"
        && action != "move"
    {
        back.to_owned()
    } else {
        format!("/mail?f={}&done=moved", encode(&folder))
    };
    let done = blocking(move || {
        let (_, mailbox) = open(&state, &viewer, &folder, needed)?;
        let store = &state.admin.store;
        let flag = |op: FlagOp, flags: Flags| {
            store.store_flags(
                mailbox.id,
                &FlagStore {
                    uids: &uids,
                    op,
                    flags,
                    keywords: &[],
                    unchanged_since: None,
                },
            )
        };
        match action.as_str() {
            "seen" => drop(flag(FlagOp::Add, Flags::SEEN)?),
            "unseen" => drop(flag(FlagOp::Remove, Flags::SEEN)?),
            "flag" => drop(flag(FlagOp::Add, Flags::FLAGGED)?),
            "unflag" => drop(flag(FlagOp::Remove, Flags::FLAGGED)?),
            "move" => {
                let (_, destination) = open(&state, &viewer, &to, Rights::INSERT)?;
                store.move_messages(mailbox.id, &uids, destination.id)?;
            }
            _ => {
                // Deleting moves to the owner's Trash; in the Trash it is for good.
                let trash = store
                    .list_mailboxes(mailbox.account)?
                    .into_iter()
                    .find(|m| m.special_use == Some(SpecialUse::Trash));
                match trash {
                    Some(trash) if trash.id != mailbox.id => {
                        store.move_messages(mailbox.id, &uids, trash.id)?;
                    }
                    _ => {
                        flag(FlagOp::Add, Flags::DELETED)?;
                        store.expunge(mailbox.id, Some(&uids))?;
                    }
                }
            }
        }
        Ok::<_, Unresolved>(())
    })
    .await;
    match done {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(Unresolved::Store(StoreError::NotFound(_))) => Redirect::to(&back).into_response(),
        Err(error) => failure(lang, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_vietnamese_midnights_and_uids_are_deduplicated() {
        assert_eq!(local_midnight("2026-12-05"), Some(1_796_403_600));
        assert_eq!(local_midnight("2026-02-30"), None);
        let fields = vec![
            ("uid".to_owned(), "7".to_owned()),
            ("uid".to_owned(), "3".to_owned()),
            ("uid".to_owned(), "7".to_owned()),
            ("uid".to_owned(), "0".to_owned()),
            ("uid".to_owned(), "x".to_owned()),
        ];
        let uids: Vec<u32> = selected(&fields).into_iter().map(Uid::get).collect();
        assert_eq!(uids, [3, 7]);
        assert_eq!(
            rights_for("move"),
            Some(Rights::DELETE_MESSAGES.union(Rights::EXPUNGE))
        );
        assert_eq!(rights_for("drop table"), None);
    }
}
