//! Every official's pages: their mailbox (quota, aliases, the agency mailboxes
//! delegated to them) and their password.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;

use congvu_directory::{DirectoryError, MIN_PASSWORD_CHARS, Role, Secret};

use super::frame::{Frame, Notice, render};
use super::session::{Viewer, check_csrf};
use super::{api_failure, failure};
use crate::http::admin::AdminState;
use crate::http::admin::auth::{self, Caller, NewPassword};
use crate::size::ByteSize;

/// An agency mailbox delegated to the viewer.
struct DelegatedRow {
    mailbox: String,
    rights: String,
    document: String,
}

struct MailboxFacts {
    address: String,
    name: String,
    agency: String,
    role: (&'static str, &'static str),
    quota_bytes: u64,
    used_bytes: u64,
    /// 90 % of the quota: where the meter turns to a warning (Art. 9.1's warning).
    high_bytes: u64,
    quota: String,
    used: String,
    percent: u64,
    aliases: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    frame: Frame,
    mailbox: MailboxFacts,
    delegated: Vec<DelegatedRow>,
}

pub fn role_name(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Official => ("Cán bộ, công chức", "Official"),
        Role::Operator => ("Văn thư / cán bộ quản trị của cơ quan", "Agency clerk"),
        Role::Head => ("Thủ trưởng cơ quan", "Head of agency"),
        Role::Administrator => ("Quản trị hệ thống (Văn phòng UBND tỉnh)", "System administrator"),
    }
}

/// `GET /console/`: the viewer's own mailbox.
pub async fn home(State(state): State<Arc<AdminState>>, viewer: Viewer) -> Response {
    let account = viewer.principal.account;
    let address = viewer.principal.address.clone();
    let facts = tokio::task::spawn_blocking(move || {
        let record = state
            .directory
            .lookup(&address)?
            .ok_or_else(|| DirectoryError::NotFound(address.clone()))?;
        let storage = state.store.account(account)?;
        let delegations = state.directory.delegations_for(account)?;
        let agency = state.directory.agency(&record.agency)?;
        Ok::<_, DirectoryError>((record, storage, delegations, agency))
    })
    .await;
    let (record, storage, delegations, agency) = match facts {
        Ok(Ok(facts)) => facts,
        Ok(Err(error)) => return failure(viewer.lang, &error),
        Err(_) => return failure(viewer.lang, &DirectoryError::Db("task".into())),
    };
    let (quota_bytes, used_bytes) = storage.map_or((0, 0), |s| (s.quota_bytes, s.used_bytes));
    let mailbox = MailboxFacts {
        address: record.address.clone(),
        name: record.display_name.clone(),
        agency: agency.map_or_else(|| record.agency.clone(), |a| format!("{} ({})", a.name, a.abbr)),
        role: role_name(record.role),
        quota_bytes,
        used_bytes,
        high_bytes: quota_bytes / 10 * 9,
        quota: ByteSize(quota_bytes).to_string(),
        used: ByteSize(used_bytes).to_string(),
        percent: used_bytes.saturating_mul(100) / quota_bytes.max(1),
        aliases: record.aliases.clone(),
    };
    let delegated = delegations
        .into_iter()
        .map(|d| DelegatedRow {
            mailbox: d.mailbox_address,
            rights: d.rights.to_string(),
            document: d.document.unwrap_or_default(),
        })
        .collect();
    let page = HomePage {
        frame: viewer.frame("/console/", ("Hộp thư của tôi", "My mailbox")),
        mailbox,
        delegated,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct PasswordPage {
    frame: Frame,
    min_length: usize,
}

/// `GET /console/password`.
pub async fn password_page(viewer: Viewer) -> Response {
    password_form(&viewer, StatusCode::OK, None)
}

fn password_form(viewer: &Viewer, status: StatusCode, notice: Option<Notice>) -> Response {
    let page = PasswordPage {
        frame: viewer
            .frame("/console/password", ("Đổi mật khẩu", "Change password"))
            .with_notice(notice),
        min_length: MIN_PASSWORD_CHARS,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    again: String,
}

/// `POST /console/password`: the current password is checked (throttled like every
/// login), then the new one set with the same directory operation as the API and
/// CLI. Every session of the mailbox ends, this one too: sign in again.
pub async fn change_password(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Err(refused) = check_csrf(&headers, &form.csrf) {
        return refused.into_response();
    }
    let lang = viewer.lang;
    if form.new != form.again {
        let text = lang.t(
            "Hai lần nhập mật khẩu mới không giống nhau.",
            "The two new passwords differ.",
        );
        return password_form(&viewer, StatusCode::BAD_REQUEST, Some(Notice::error(text)));
    }
    let address = viewer.principal.address.clone();
    let client = viewer.client;
    let current = Secret::new(form.current);
    let directory = state.directory.clone();
    let checked =
        tokio::task::spawn_blocking(move || directory.authenticate_from(client, &address, &current)).await;
    let changed = match checked {
        Ok(Ok(Some(_))) => {
            // The admin API's own operation, as the official themself.
            let caller = Caller::Account(viewer.principal.clone());
            let new = NewPassword { password: form.new };
            match auth::change_own_password(State(state), Extension(caller), Json(new)).await {
                Ok(_) => Ok(Ok(true)),
                Err(error) if error.status() == StatusCode::BAD_REQUEST => {
                    let lead = lang.t(
                        "Mật khẩu mới không dùng được:",
                        "The new password cannot be used:",
                    );
                    let notice = Notice::error(format!("{lead} {}", error.message()));
                    return password_form(&viewer, StatusCode::BAD_REQUEST, Some(notice));
                }
                Err(error) => return api_failure(lang, &error),
            }
        }
        Ok(Ok(None)) => Ok(Ok(false)),
        Ok(Err(error)) => Ok(Err(error)),
        Err(error) => Err(error),
    };
    match changed {
        Ok(Ok(true)) => {
            tracing::info!(address = %viewer.principal.address, "password changed in the console");
            Redirect::to("/console/login?done=password").into_response()
        }
        Ok(Ok(false)) => password_form(
            &viewer,
            StatusCode::BAD_REQUEST,
            Some(Notice::error(lang.t(
                "Mật khẩu hiện tại không đúng.",
                "The current password is wrong.",
            ))),
        ),
        Ok(Err(DirectoryError::Invalid(why))) => password_form(
            &viewer,
            StatusCode::BAD_REQUEST,
            Some(Notice::error(format!(
                "{} {why}",
                lang.t(
                    "Mật khẩu mới không dùng được:",
                    "The new password cannot be used:"
                )
            ))),
        ),
        Ok(Err(error)) => failure(lang, &error),
        Err(_) => failure(lang, &DirectoryError::Db("task".into())),
    }
}
