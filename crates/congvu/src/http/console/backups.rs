//! Backups for the Provincial Office (Art. 12.3): the schedule, the last and the last
//! successful result, and "back up now" — the admin API's own `POST /api/v1/backups`,
//! which runs as a job while the server serves.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;

use congvu_directory::Role;

use super::frame::{Frame, Notice, render};
use super::session::{CsrfOnly, Viewer, check_csrf};
use super::{api_failure, local_time, require};
use crate::backup::BackupResult;
use crate::http::admin::AdminState;
use crate::http::admin::backup::{self as api, BackupRequest};

#[derive(Template)]
#[template(path = "console/backups.html")]
struct BackupsPage {
    frame: Frame,
    dir: String,
    at: String,
    keep: usize,
    running: bool,
    last: String,
    last_success: String,
}

fn describe(result: Option<&BackupResult>) -> String {
    match result {
        None => "—".to_owned(),
        Some(result) => match &result.error {
            Some(error) => format!("{}: {error}", local_time(result.finished_at)),
            None => format!("{} ({})", local_time(result.finished_at), result.dir.display()),
        },
    }
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /console/backups`.
pub async fn page(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Query(done): Query<Done>,
) -> Response {
    if let Err(refused) = require(&viewer, Role::Administrator) {
        return refused.into_response();
    }
    let status = state.backups.status();
    let notice = done.done.is_some().then(|| {
        Notice::ok(viewer.lang.t(
            "Đã bắt đầu sao lưu; tải lại trang để xem kết quả.",
            "The backup started; reload the page for its result.",
        ))
    });
    let page = BackupsPage {
        frame: viewer
            .frame("/console/backups", ("Sao lưu", "Backups"))
            .with_notice(notice),
        dir: status
            .config
            .dir
            .as_ref()
            .map_or_else(|| "—".to_owned(), |dir| dir.display().to_string()),
        at: status.config.at.clone(),
        keep: status.config.keep,
        running: status.running,
        last: describe(status.last.as_ref()),
        last_success: describe(status.last_success.as_ref()),
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/backups`: a backup now, into the configured directory.
pub async fn start(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(refused) =
        check_csrf(&headers, &form.csrf).and_then(|()| require(&viewer, Role::Administrator))
    {
        return refused.into_response();
    }
    match api::create(State(state), Json(BackupRequest::default())).await {
        Ok(_) => Redirect::to("/console/backups?done=started").into_response(),
        Err(error) => api_failure(viewer.lang, &error),
    }
}
