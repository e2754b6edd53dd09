//! The request workflow endpoints (forms Mẫu 01/02/03): file, submit, approve, reject,
//! read, print, and the late-filing report (Art. 15.3).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use congvu_directory::request::{Acting, NewRequest, Request, State as RequestState};
use congvu_directory::unix_now as now;

use super::auth::{Caller, forbidden};
use super::form;
use super::handlers::{ApiResult, blocking};
use super::{AdminState, ApiError};

fn acting(caller: &Caller) -> Acting<'_> {
    Acting {
        actor: caller.label(),
        administrator: caller.is_administrator(),
    }
}

/// `POST /api/v1/requests`: a draft, for the caller's own agency (operators).
pub async fn file(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Json(new): Json<NewRequest>,
) -> Result<(StatusCode, Json<Request>), ApiError> {
    caller.require_agency(&new.agency)?;
    let request = blocking(&state, move |s| {
        Ok(s.directory.file_request(new, acting(&caller), now())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(request)))
}

/// The request, if the caller may see it.
fn visible(state: &AdminState, caller: &Caller, id: u64) -> Result<Request, ApiError> {
    let request = state
        .directory
        .request(id)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("request {id}")))?;
    caller.require_agency(&request.agency)?;
    Ok(request)
}

/// `POST /api/v1/requests/{id}/submit`: draft → submitted (lines checked now).
pub async fn submit(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<Request> {
    blocking(&state, move |s| {
        visible(s, &caller, id)?;
        Ok(Json(s.directory.submit_request(id, acting(&caller), now())?))
    })
    .await
}

/// `POST /api/v1/requests/{id}/approve`: applies every line at once (administrators).
pub async fn approve(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<Request> {
    caller.require_administrator()?;
    blocking(&state, move |s| {
        Ok(Json(s.directory.approve_request(id, acting(&caller), now())?))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub reason: String,
}

/// `POST /api/v1/requests/{id}/reject` with `{reason}` (administrators).
pub async fn reject(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
    Json(body): Json<Rejection>,
) -> ApiResult<Request> {
    caller.require_administrator()?;
    blocking(&state, move |s| {
        Ok(Json(s.directory.reject_request(
            id,
            &body.reason,
            acting(&caller),
            now(),
        )?))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickedAddress {
    pub address: String,
}

/// `POST /api/v1/requests/{id}/lines/{line}/address` with `{address}` (administrators):
/// a new official's address picked among the alternatives on a collision.
pub async fn pick_address(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path((id, line)): Path<(u64, usize)>,
    Json(body): Json<PickedAddress>,
) -> ApiResult<Request> {
    caller.require_administrator()?;
    blocking(&state, move |s| {
        Ok(Json(s.directory.pick_address(
            id,
            line,
            &body.address,
            acting(&caller),
            now(),
        )?))
    })
    .await
}

/// `GET /api/v1/requests/{id}`.
pub async fn show(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<Request> {
    blocking(&state, move |s| Ok(Json(visible(s, &caller, id)?))).await
}

/// `GET /api/v1/requests/{id}/form`: the filled Mẫu as printable HTML.
pub async fn printable(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let html = blocking(&state, move |s| {
        let request = visible(s, &caller, id)?;
        let officials = form::officials_named(&s.directory, &request)?;
        Ok(form::render(&request, &officials))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    agency: Option<String>,
    state: Option<RequestState>,
    #[serde(default)]
    late: bool,
}

/// `GET /api/v1/requests?agency=&state=&late=true`: operators see their agency's.
pub async fn list(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Vec<Request>> {
    let agency = match (caller.scope()?, query.agency) {
        (None, agency) => agency,
        (Some(own), Some(asked)) if !own.eq_ignore_ascii_case(&asked) => {
            return Err(forbidden(format!(
                "operators see their own agency's ({own}) requests only"
            )));
        }
        (Some(own), _) => Some(own.to_owned()),
    };
    blocking(&state, move |s| {
        Ok(Json(s.directory.list_requests(
            agency.as_deref(),
            query.state,
            query.late,
        )?))
    })
    .await
}

/// `GET /api/v1/reports/late`: every request filed late (Art. 15.3), newest first.
pub async fn late_report(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Vec<Request>> {
    caller.require_administrator()?;
    blocking(&state, |s| Ok(Json(s.directory.list_requests(None, None, true)?))).await
}

pub fn routes() -> axum::Router<Arc<AdminState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/requests", get(list).post(file))
        .route("/api/v1/requests/{id}", get(show))
        .route("/api/v1/requests/{id}/submit", post(submit))
        .route("/api/v1/requests/{id}/approve", post(approve))
        .route("/api/v1/requests/{id}/reject", post(reject))
        .route("/api/v1/requests/{id}/lines/{line}/address", post(pick_address))
        .route("/api/v1/requests/{id}/form", get(printable))
        .route("/api/v1/reports/late", get(late_report))
}
