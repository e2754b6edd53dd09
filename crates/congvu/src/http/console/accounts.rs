//! Mailboxes for the Provincial Office's operators: find them, set a quota, reset a
//! password, disable or enable — the admin API's own handlers
//! (`http::admin::handlers`, `http::admin::directory`), administrators only.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;

use congvu_directory::{MIN_PASSWORD_CHARS, Role};

use super::frame::{Frame, Notice, render};
use super::session::{Viewer, check_csrf};
use super::{api_failure, require};
use crate::http::admin::auth::Caller;
use crate::http::admin::directory::{self as directory_api, Disabled};
use crate::http::admin::handlers::{self, NewPassword, NewQuota};
use crate::http::admin::{AdminState, ApiError};
use crate::size::ByteSize;

/// Mailboxes one search shows at most.
const MAX_SHOWN: usize = 50;

struct Row {
    name: String,
    address: String,
    disabled: bool,
    quota_bytes: u64,
    used_bytes: u64,
    quota: String,
    used: String,
}

#[derive(Template)]
#[template(path = "console/accounts.html")]
struct AccountsPage {
    frame: Frame,
    query: String,
    accounts: Vec<Row>,
    min_length: usize,
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    done: Option<String>,
}

/// `GET /console/accounts?q=…`.
pub async fn page(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Query(search): Query<Search>,
) -> Response {
    if let Err(refused) = require(&viewer, Role::Administrator) {
        return refused.into_response();
    }
    let lang = viewer.lang;
    let notice = search.done.as_deref().and_then(|done| {
        let text = match done {
            "quota" => lang.t("Đã đặt hạn mức.", "Quota set."),
            "password" => lang.t(
                "Đã đặt lại mật khẩu; mọi phiên của hộp thư đã kết thúc.",
                "Password reset; every session of the mailbox ended.",
            ),
            "disabled" => lang.t("Đã đổi trạng thái hộp thư.", "Mailbox state changed."),
            _ => return None,
        };
        Some(Notice::ok(text))
    });
    accounts_page(&state, &viewer, search.q, StatusCode::OK, notice).await
}

async fn accounts_page(
    state: &Arc<AdminState>,
    viewer: &Viewer,
    query: String,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    let (shared, wanted) = (state.clone(), query.trim().to_owned());
    let found = tokio::task::spawn_blocking(move || -> Result<Vec<Row>, ApiError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        shared
            .directory
            .search(&wanted, MAX_SHOWN)?
            .into_iter()
            .map(|record| {
                let view = handlers::view(&shared, record)?;
                Ok(Row {
                    name: view.record.display_name,
                    address: view.record.address,
                    disabled: view.record.disabled,
                    quota_bytes: view.quota_bytes,
                    used_bytes: view.used_bytes,
                    quota: ByteSize(view.quota_bytes).to_string(),
                    used: ByteSize(view.used_bytes).to_string(),
                })
            })
            .collect()
    })
    .await;
    let accounts = match found {
        Ok(Ok(accounts)) => accounts,
        Ok(Err(error)) => return api_failure(viewer.lang, &error),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let page = AccountsPage {
        frame: viewer
            .frame("/console/accounts", ("Tài khoản hộp thư", "Mailbox accounts"))
            .with_notice(notice),
        query,
        accounts,
        min_length: MIN_PASSWORD_CHARS,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct Change {
    csrf: String,
    address: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    quota: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    disabled: String,
}

/// `POST /console/accounts/{quota|password|disabled}`.
pub async fn change(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(what): Path<String>,
    Form(form): Form<Change>,
) -> Response {
    if let Err(refused) =
        check_csrf(&headers, &form.csrf).and_then(|()| require(&viewer, Role::Administrator))
    {
        return refused.into_response();
    }
    let caller = Extension(Caller::Account(viewer.principal.clone()));
    let address = Path(form.address);
    let done = match what.as_str() {
        "quota" => handlers::set_quota(
            State(state.clone()),
            caller,
            address,
            Json(NewQuota { quota: form.quota }),
        )
        .await
        .map(|_| ()),
        "password" => {
            let body = Json(NewPassword {
                password: form.password,
            });
            handlers::set_password(State(state.clone()), caller, address, body)
                .await
                .map(|_| ())
        }
        "disabled" => {
            let body = Json(Disabled {
                disabled: form.disabled == "true",
            });
            directory_api::set_disabled(State(state.clone()), caller, address, body)
                .await
                .map(|_| ())
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let query: String = form.q.bytes().map(|b| format!("%{b:02X}")).collect();
    match done {
        Ok(()) => Redirect::to(&format!("/console/accounts?q={query}&done={what}")).into_response(),
        Err(error) if error.status().is_client_error() => {
            let lead = viewer.lang.t("Không thực hiện được:", "Not done:");
            let notice = Notice::error(format!("{lead} {}", error.message()));
            accounts_page(&state, &viewer, form.q, error.status(), Some(notice)).await
        }
        Err(error) => api_failure(viewer.lang, &error),
    }
}
