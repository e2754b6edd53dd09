//! The folder column every webmail page shows (names in the reader's language,
//! unread counts, the quota bar), and creating, renaming and deleting folders.

use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use congvu_directory::AccountRecord;
use congvu_imap::view::{self, SHARED, Unresolved};
use congvu_store::{HIERARCHY_SEPARATOR, MailboxInfo, SpecialUse};

use super::{WebmailState, blocking, failure};
use crate::http::console::{Lang, Notice, Viewer, check_csrf};
use crate::size::ByteSize;

/// One folder in the column.
pub struct FolderLink {
    /// `/mail?f=…`.
    pub href: String,
    pub label: String,
    pub unseen: u32,
    pub current: bool,
    /// Nesting level, for the indent.
    pub depth: usize,
}

/// What every signed-in webmail page shows around its content.
pub struct Chrome {
    pub lang: Lang,
    pub csrf: String,
    pub address: String,
    pub name: String,
    pub title: String,
    /// This page's path and query: the language switch comes back to it.
    pub path: String,
    pub folders: Vec<FolderLink>,
    pub quota_used: String,
    pub quota_total: String,
    pub quota_percent: u64,
    pub notice: Option<Notice>,
}

impl Chrome {
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        self.lang.t(vi, en)
    }
}

fn special_label(lang: Lang, special: SpecialUse) -> &'static str {
    match special {
        SpecialUse::Sent => lang.t("Thư đã gửi", "Sent"),
        SpecialUse::Drafts => lang.t("Thư nháp", "Drafts"),
        SpecialUse::Trash => lang.t("Thùng rác", "Trash"),
        SpecialUse::Junk => lang.t("Thư rác", "Junk"),
        SpecialUse::Archive => lang.t("Lưu trữ", "Archive"),
        SpecialUse::All => lang.t("Tất cả thư", "All mail"),
        SpecialUse::Flagged => lang.t("Thư gắn cờ", "Flagged"),
    }
}

/// A folder's name as the reader sees it: the INBOX and the special folders in
/// their language, a delegated agency's as `agency › folder`.
pub fn label(lang: Lang, info: &MailboxInfo) -> String {
    let inbox = lang.t("Hộp thư đến", "Inbox");
    if info.name == "INBOX" {
        return inbox.to_owned();
    }
    if let Some(rest) = info.name.strip_prefix(&format!("{SHARED}{HIERARCHY_SEPARATOR}")) {
        let (agency, folder) = rest.split_once(HIERARCHY_SEPARATOR).unwrap_or((rest, ""));
        let folder = if folder == "INBOX" { inbox } else { folder };
        return format!("{agency} › {folder}");
    }
    match info.special_use {
        Some(special) => special_label(lang, special).to_owned(),
        None => info
            .name
            .rsplit(HIERARCHY_SEPARATOR)
            .next()
            .unwrap_or(&info.name)
            .to_owned(),
    }
}

/// The page chrome for `viewer` with `current` open (blocking: reads the store).
pub fn chrome(
    state: &WebmailState,
    viewer: &Viewer,
    user: &AccountRecord,
    current: &str,
    title: String,
    path: String,
) -> Result<Chrome, Unresolved> {
    let lang = viewer.lang;
    let folders = view::folders(&state.imap, user)?
        .into_iter()
        .map(|(info, _)| FolderLink {
            label: label(lang, &info),
            unseen: info.unseen,
            current: info.name == current,
            depth: if info.name.starts_with(SHARED) {
                0
            } else {
                info.name.matches(HIERARCHY_SEPARATOR).count()
            },
            href: format!("/mail?f={}", encode(&info.name)),
        })
        .collect();
    let storage = state.admin.store.account(user.account)?;
    let (quota, used) = storage.map_or((0, 0), |s| (s.quota_bytes, s.used_bytes));
    Ok(Chrome {
        lang,
        csrf: viewer.csrf.clone(),
        address: user.address.clone(),
        name: user.display_name.clone(),
        title,
        path,
        folders,
        quota_used: ByteSize(used).to_string(),
        quota_total: ByteSize(quota).to_string(),
        quota_percent: used.saturating_mul(100) / quota.max(1),
        notice: None,
    })
}

#[derive(Deserialize)]
pub struct FolderForm {
    csrf: String,
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    to: String,
}

/// Why a folder name typed by the reader cannot be used.
fn check_name(lang: Lang, name: &str) -> Result<String, &'static str> {
    let name = name.trim().trim_matches(HIERARCHY_SEPARATOR).to_owned();
    if name.is_empty()
        || name.eq_ignore_ascii_case("INBOX")
        || view::is_reserved(&name)
        || name.chars().any(char::is_control)
        || name
            .split(HIERARCHY_SEPARATOR)
            .any(|level| level.trim().is_empty())
    {
        return Err(lang.t(
            "Tên thư mục không hợp lệ (trống, INBOX hoặc Shared).",
            "Not a valid folder name (empty, INBOX or Shared).",
        ));
    }
    Ok(name)
}

/// `POST /mail/folders`: create, rename or delete one of the reader's own folders.
pub async fn change(
    State(state): State<WebmailState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<FolderForm>,
) -> Response {
    if let Err(refused) = check_csrf(&headers, &form.csrf) {
        return refused.into_response();
    }
    let lang = viewer.lang;
    let account = viewer.principal.account;
    let store = state.admin.store.clone();
    let name = match check_name(lang, &form.name) {
        Ok(name) => name,
        Err(text) => return (axum::http::StatusCode::BAD_REQUEST, text).into_response(),
    };
    let action = form.action.clone();
    let to = form.to.clone();
    let target = match action.as_str() {
        "rename" => match check_name(lang, &to) {
            Ok(to) => to,
            Err(text) => return (axum::http::StatusCode::BAD_REQUEST, text).into_response(),
        },
        _ => name.clone(),
    };
    let done = blocking(move || {
        let special = store.mailbox_by_name(account, &name)?.and_then(|m| m.special_use);
        match action.as_str() {
            "create" => {
                store.create_mailbox(account, &name, None)?;
            }
            "rename" if special.is_none() => store.rename_mailbox(account, &name, &target)?,
            "delete" if special.is_none() => store.delete_mailbox(account, &name)?,
            _ => return Err(Unresolved::Store(congvu_store::StoreError::Invalid(name))),
        }
        Ok(target)
    })
    .await;
    match done {
        Ok(target) if form.action != "delete" => {
            Redirect::to(&format!("/mail?f={}", encode(&target))).into_response()
        }
        Ok(_) => Redirect::to("/").into_response(),
        Err(error) => failure(lang, &error),
    }
}

/// A value for a URL's query (RFC 3986 unreserved characters kept).
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names() {
        assert_eq!(encode("Shared/sttt/INBOX"), "Shared%2Fsttt%2FINBOX");
        assert_eq!(encode("Công văn"), "C%C3%B4ng%20v%C4%83n");
        assert!(check_name(Lang::Vi, "Shared/x").is_err());
        assert!(check_name(Lang::Vi, "inbox").is_err());
        assert!(check_name(Lang::Vi, "a//b").is_err());
        assert_eq!(check_name(Lang::Vi, " Công văn/2026/ ").unwrap(), "Công văn/2026");
    }
}
