//! The outbound queue for the Provincial Office's operators: list, retry now, delete —
//! the admin API's own handlers (`http::admin::queue`), administrators only.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};

use congvu_directory::Role;

use crate::http::admin::auth::Caller;
use crate::http::admin::{AdminState, handlers, queue as queue_ops};
use crate::size::ByteSize;

use super::frame::{Frame, render};
use super::session::{CsrfOnly, Viewer, check_csrf};
use super::{api_failure, local_time, require};

struct Row {
    id: u64,
    sender: String,
    recipients: String,
    size: String,
    queued: String,
    attempts: u32,
    next: String,
    last_error: String,
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    frame: Frame,
    entries: Vec<Row>,
}

/// `GET /console/queue`.
pub async fn page(State(state): State<Arc<AdminState>>, viewer: Viewer) -> Response {
    if let Err(refused) = require(&viewer, Role::Administrator) {
        return refused.into_response();
    }
    let entries = match handlers::list_queue(State(state)).await {
        Ok(Json(entries)) => entries,
        Err(error) => return api_failure(viewer.lang, &error),
    };
    let entries = entries
        .into_iter()
        .map(|e| Row {
            id: e.id.0,
            sender: if e.sender.is_empty() {
                "<>".to_owned()
            } else {
                e.sender
            },
            recipients: e.recipients.join(", "),
            size: ByteSize(e.size).to_string(),
            queued: local_time(e.queued_at),
            attempts: e.attempts,
            next: local_time(e.next_attempt),
            last_error: e.last_error.unwrap_or_default(),
        })
        .collect();
    let page = QueuePage {
        frame: viewer.frame("/console/queue", ("Hàng đợi thư đi", "Outbound queue")),
        entries,
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/queue/{id}/retry` (make it due now) and `…/{id}/delete` (drop it
/// without a report to the sender).
pub async fn act(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, action)): Path<(u64, String)>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(refused) =
        check_csrf(&headers, &form.csrf).and_then(|()| require(&viewer, Role::Administrator))
    {
        return refused.into_response();
    }
    let caller = Extension(Caller::Account(viewer.principal.clone()));
    let done = match action.as_str() {
        "retry" => queue_ops::retry(State(state), caller, Path(id)).await,
        "delete" => queue_ops::delete(State(state), caller, Path(id)).await,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match done {
        Ok(_) => Redirect::to("/console/queue").into_response(),
        Err(error) => api_failure(viewer.lang, &error),
    }
}
