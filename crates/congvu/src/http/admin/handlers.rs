//! One handler per operation. Directory and store calls block (sled, Argon2), so each
//! runs on the blocking pool.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use congvu_directory::{AccountRecord, AgencyRecord, Collision, Secret};
use congvu_store::QueueEntry;

use super::auth::Caller;
use super::{AdminState, ApiError};
use crate::size::ByteSize;

pub(super) type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) async fn blocking<T, F>(state: &Arc<AdminState>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&AdminState) -> Result<T, ApiError> + Send + 'static,
{
    let state = state.clone();
    tokio::task::spawn_blocking(move || work(&state))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "admin task failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the operation was interrupted",
            )
        })?
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    abbr: String,
    name: String,
    parent: Option<String>,
}

pub async fn add_agency(
    State(state): State<Arc<AdminState>>,
    Json(request): Json<NewAgency>,
) -> Result<(StatusCode, Json<AgencyRecord>), ApiError> {
    let agency = blocking(&state, move |s| {
        Ok(s.directory
            .add_agency(&request.abbr, &request.name, request.parent.as_deref())?)
    })
    .await?;
    tracing::info!(agency = %agency.abbr, address = %agency.address, "agency added");
    Ok((StatusCode::CREATED, Json(agency)))
}

pub async fn list_agencies(State(state): State<Arc<AdminState>>) -> ApiResult<Vec<AgencyRecord>> {
    blocking(&state, |s| Ok(Json(s.directory.list_agencies()?))).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    agency: String,
    name: String,
    position: Option<String>,
    department: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct AddedAccount {
    pub account: AccountView,
    pub collision: Option<Collision>,
}

/// A mailbox as operators see it: the directory entry with its quota and usage.
#[derive(Serialize, Deserialize)]
pub struct AccountView {
    #[serde(flatten)]
    pub record: AccountRecord,
    pub quota_bytes: u64,
    pub used_bytes: u64,
}

pub(crate) fn view(state: &AdminState, record: AccountRecord) -> Result<AccountView, ApiError> {
    let storage = state.store.account(record.account)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "mailbox storage missing",
        )
    })?;
    Ok(AccountView {
        record,
        quota_bytes: storage.quota_bytes,
        used_bytes: storage.used_bytes,
    })
}

pub async fn add_account(
    State(state): State<Arc<AdminState>>,
    Json(request): Json<NewAccount>,
) -> Result<(StatusCode, Json<AddedAccount>), ApiError> {
    let added = blocking(&state, move |s| {
        let (record, collision) = s.directory.add_person(
            &request.agency,
            &request.name,
            request.position.as_deref(),
            request.department.as_deref(),
        )?;
        Ok(AddedAccount {
            account: view(s, record)?,
            collision,
        })
    })
    .await?;
    tracing::info!(
        address = %added.account.record.address,
        collision = added.collision.is_some(),
        "account added"
    );
    Ok((StatusCode::CREATED, Json(added)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountFilter {
    agency: Option<String>,
}

pub async fn list_accounts(
    State(state): State<Arc<AdminState>>,
    Query(filter): Query<AccountFilter>,
) -> ApiResult<Vec<AccountView>> {
    blocking(&state, move |s| {
        let records = s.directory.list_accounts(filter.agency.as_deref())?;
        Ok(Json(
            records
                .into_iter()
                .map(|r| view(s, r))
                .collect::<Result<_, _>>()?,
        ))
    })
    .await
}

/// The account (or agency mailbox) at `address`, or 404 `not_found`.
pub(super) fn existing(state: &AdminState, address: &str) -> Result<AccountRecord, ApiError> {
    state.directory.lookup(address)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no mailbox {address}"),
        )
    })
}

pub async fn get_account(
    State(state): State<Arc<AdminState>>,
    Path(address): Path<String>,
) -> ApiResult<AccountView> {
    blocking(&state, move |s| Ok(Json(view(s, existing(s, &address)?)?))).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub password: String,
}

pub async fn set_password(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(address): Path<String>,
    Json(request): Json<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let password = Secret::new(request.password);
    blocking(&state, move |s| {
        let record = existing(s, &address)?;
        s.directory.set_password(&address, &password)?;
        s.directory
            .record_audit(caller.label(), "set_password", &record.address, "")?;
        tracing::info!(address = %address, "password changed");
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuota {
    pub quota: String,
}

pub async fn set_quota(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(address): Path<String>,
    Json(request): Json<NewQuota>,
) -> ApiResult<AccountView> {
    let size: ByteSize = request
        .quota
        .parse()
        .map_err(|e: crate::size::ByteSizeError| ApiError::bad_request(e.to_string()))?;
    if size.0 == 0 {
        return Err(ApiError::bad_request("a quota must be larger than zero"));
    }
    blocking(&state, move |s| {
        let record = existing(s, &address)?;
        s.directory.set_quota(&address, size.0)?;
        let detail = size.0.to_string();
        s.directory
            .record_audit(caller.label(), "set_quota", &record.address, &detail)?;
        tracing::info!(address = %address, quota = size.0, "quota changed");
        Ok(Json(view(s, record)?))
    })
    .await
}

pub async fn list_queue(State(state): State<Arc<AdminState>>) -> ApiResult<Vec<QueueEntry>> {
    blocking(&state, |s| Ok(Json(s.store.queue()?))).await
}
