//! The outbound queue in the admin API (administrators only):
//!
//! | method | path | does |
//! |---|---|---|
//! | GET    | /api/v1/queue/{id} | one entry |
//! | POST   | /api/v1/queue/{id}/retry | make it due now; the worker takes it at its next scan |
//! | DELETE | /api/v1/queue/{id} | drop it without a report to the sender |
//!
//! `GET /api/v1/queue` (the whole queue) is in `handlers`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use congvu_store::{QueueEntry, QueueId, StoreError};

use super::auth::Caller;
use super::handlers::{ApiResult, blocking};
use super::{AdminState, ApiError};

pub fn routes() -> axum::Router<Arc<AdminState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/queue/{id}", get(show).delete(delete))
        .route("/api/v1/queue/{id}/retry", post(retry))
}

fn missing(id: u64) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no queue entry {id}"))
}

/// A vanished entry is the operator's 404, not a bad request.
fn store_error(id: u64, error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound(_) => missing(id),
        other => ApiError::from(other),
    }
}

async fn show(State(state): State<Arc<AdminState>>, Path(id): Path<u64>) -> ApiResult<QueueEntry> {
    blocking(&state, move |s| {
        s.store
            .queue_entry(QueueId(id))?
            .map(Json)
            .ok_or_else(|| missing(id))
    })
    .await
}

pub(crate) async fn retry(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<QueueEntry> {
    blocking(&state, move |s| {
        congvu_relay::retry_now(s.store.as_ref(), QueueId(id)).map_err(|e| store_error(id, e))?;
        s.queue_waker.wake();
        s.directory
            .record_audit(caller.label(), "queue_retry", &format!("queue {id}"), "")?;
        tracing::info!(queue_id = id, "queue entry set due now by an operator");
        s.store
            .queue_entry(QueueId(id))?
            .map(Json)
            .ok_or_else(|| missing(id))
    })
    .await
}

pub(crate) async fn delete(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<QueueEntry> {
    blocking(&state, move |s| {
        let entry = s.store.queue_entry(QueueId(id))?.ok_or_else(|| missing(id))?;
        s.store
            .queue_remove(QueueId(id))
            .map_err(|e| store_error(id, e))?;
        let detail = format!("{} → {}", entry.sender, entry.recipients.join(", "));
        s.directory
            .record_audit(caller.label(), "queue_delete", &format!("queue {id}"), &detail)?;
        tracing::info!(
            queue_id = id,
            recipients = entry.recipients.len(),
            "queue entry deleted by an operator"
        );
        Ok(Json(entry))
    })
    .await
}
