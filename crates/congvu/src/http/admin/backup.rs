//! Backups, their verification, and the consistency check with its repair.
//!
//! | method | path | does |
//! |---|---|---|
//! | POST | /api/v1/backups | `{dir?}` → job: a snapshot into `dir` (or `[backup] dir`), then prune to `keep` |
//! | GET  | /api/v1/backups | the configuration, whether one runs, the last result and the last success |
//! | POST | /api/v1/backups/verify | `{dir?}` → job: re-hash every body, check every snapshot |
//! | GET  | /api/v1/check | the store's check plus the directory ↔ storage cross-check |
//! | POST | /api/v1/check/repair | repair what can be repaired without losing mail, then check again |

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use congvu_store::sled_store::backup::verify;
use congvu_store::{CheckReport, RepairReport};
use serde::{Deserialize, Serialize};

use super::handlers::{ApiResult, blocking};
use super::jobs::JobView;
use super::{AdminState, ApiError};
use crate::backup::{BackupRefused, BackupStatus};

pub fn routes() -> Router<Arc<AdminState>> {
    Router::new()
        .route("/api/v1/backups", get(status).post(create))
        .route("/api/v1/backups/verify", post(verify_backup))
        .route("/api/v1/check", get(check))
        .route("/api/v1/check/repair", post(repair))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRequest {
    pub dir: Option<PathBuf>,
}

pub(crate) async fn create(
    State(state): State<Arc<AdminState>>,
    Json(request): Json<BackupRequest>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    if request.dir.is_none() && state.backups.status().config.dir.is_none() {
        return Err(ApiError::bad_request(BackupRefused::NoDirectory.to_string()));
    }
    if state.backups.status().running {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "busy",
            BackupRefused::Busy.to_string(),
        ));
    }
    let worker = state.clone();
    let job = state.jobs.start("backup", move |progress| {
        let result = worker
            .backups
            .run(
                worker.store.as_ref(),
                &worker.directory,
                request.dir.as_deref(),
                "request",
                progress,
            )
            .map_err(|refused| refused.to_string())?;
        match result.error {
            Some(error) => Err(error),
            None => serde_json::to_value(&result).map_err(|e| e.to_string()),
        }
    });
    Ok((StatusCode::ACCEPTED, Json(job)))
}

async fn status(State(state): State<Arc<AdminState>>) -> Json<BackupStatus> {
    Json(state.backups.status())
}

async fn verify_backup(
    State(state): State<Arc<AdminState>>,
    Json(request): Json<BackupRequest>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let dir = request
        .dir
        .or(state.backups.status().config.dir)
        .ok_or_else(|| ApiError::bad_request(BackupRefused::NoDirectory.to_string()))?;
    let job = state.jobs.start("backup-verify", move |progress| {
        let report = verify(&dir, progress).map_err(|e| e.to_string())?;
        let mut value = serde_json::to_value(&report).map_err(|e| e.to_string())?;
        value["sound"] = report.is_sound().into();
        Ok(value)
    });
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// The check: the store's report with the directory's cross-check problems added.
async fn check(State(state): State<Arc<AdminState>>) -> ApiResult<CheckReport> {
    blocking(&state, |s| Ok(Json(s.directory.check()?))).await
}

#[derive(Debug, Serialize)]
pub struct Repaired {
    pub store: RepairReport,
    pub storage_accounts_removed: u64,
    /// The check after both repairs: what is left for an operator.
    pub after: CheckReport,
}

async fn repair(State(state): State<Arc<AdminState>>) -> ApiResult<Repaired> {
    blocking(&state, |s| {
        let store = s.store.repair()?;
        let storage_accounts_removed = s.directory.repair_accounts()?;
        Ok(Json(Repaired {
            store,
            storage_accounts_removed,
            after: s.directory.check()?,
        }))
    })
    .await
}
