//! The admin API: JSON over HTTP under `/api/v1`, authenticated by a bearer token.
//!
//! The same [`router`] serves the network listener and, when the server is stopped,
//! the CLI in-process (see `cli/client.rs`): one implementation of every operation, two ways
//! to reach it. The bootstrap token lives in `data_dir/admin.token` (mode 0600); it is
//! the super-administrator's, for setup.
//!
//! | method | path | does |
//! |---|---|---|
//! | GET  | /metrics | counters and gauges for Prometheus (see [`prometheus`]), no token needed |
//! | GET  | /api/v1/health | liveness, no token needed |
//! | GET  | /api/v1/agencies | list agencies |
//! | POST | /api/v1/agencies | `{abbr, name, parent?}` → the agency and its mailbox |
//! | GET  | /api/v1/accounts?agency=ABBR | list mailboxes with quota and usage |
//! | POST | /api/v1/accounts | `{agency, name, position?, department?}` → derived address |
//! | GET  | /api/v1/accounts/{address} | one mailbox |
//! | PUT  | /api/v1/accounts/{address}/password | `{password}` |
//! | PUT  | /api/v1/accounts/{address}/quota | `{quota: "250MB"}` |
//! | GET  | /api/v1/queue | the outbound queue |
//! | GET, DELETE | /api/v1/queue/{id} | one entry; drop it (see [`queue`]) |
//! | POST | /api/v1/queue/{id}/retry | make it due now |
//! | GET  | /api/v1/reports/… | the supervision reports of issue 14 (see [`report`]) |
//! | GET, POST | /api/v1/acks | acknowledgements of receipt of an agency mailbox (see [`ack`]) |
//!
//! The routes above are the administrators'. Sessions and roles are in [`auth`]
//! (`POST /api/v1/login` → a session token for an official's own account), the
//! directory's search, export, import, aliases and delegations in [`directory`], the
//! forms 01/02/03 workflow in [`requests`], backups and the consistency check in
//! [`backup`], imports and exports in [`migrate`], long operations in [`jobs`];
//! `docs/admin-api.md` lists them all.

pub(crate) mod ack;
pub(crate) mod auth;
pub(crate) mod backup;
pub(crate) mod directory;
mod form;
pub(crate) mod handlers;
pub mod jobs;
mod metrics;
mod migrate;
mod prometheus;
pub(crate) mod queue;
pub(crate) mod report;
pub(crate) mod requests;

pub use directory::Purged;
pub use handlers::{AccountView, AddedAccount};

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;
use subtle::ConstantTimeEq;

use congvu_directory::{Directory, DirectoryError, Secret};
use congvu_store::MailStore;

/// What every handler reaches.
pub struct AdminState {
    pub directory: Arc<Directory>,
    pub store: Arc<dyn MailStore>,
    /// Policy verdict counters of the SMTP listeners (zero in offline CLI mode).
    pub policy_metrics: Arc<congvu_policy::Metrics>,
    /// Sender authentication verdicts on the MX port (zero when off, or offline).
    pub inbound_auth_metrics: Arc<congvu_mailauth::Metrics>,
    /// Virus scans (zero without clamd, or offline).
    pub antivirus_metrics: Arc<congvu_antivirus::Metrics>,
    pub token: Secret<String>,
    /// Backups: configuration, the running one, the last results.
    pub backups: Arc<crate::backup::Backups>,
    /// Long operations started through the API.
    pub jobs: Arc<jobs::Jobs>,
    /// Wakes the outbound queue worker after `queue retry` (offline CLI mode: none runs).
    pub queue_waker: congvu_relay::QueueWaker,
    /// The working calendar of `[compliance]`, for the reports.
    pub calendar: Arc<congvu_report::Calendar>,
    /// `[compliance] ack_working_hours`: the acknowledgements report's default threshold.
    pub ack_working_hours: u32,
    /// What the SMTP and IMAP listeners count (none in offline CLI mode).
    pub listener_metrics: Vec<Arc<congvu_listener::ListenerMetrics>>,
    /// Delivery attempts of the queue worker (zero in offline CLI mode).
    pub deliveries: Arc<congvu_relay::DeliveryMetrics>,
    /// The data directory: its filesystem's free space is reported.
    pub data_dir: std::path::PathBuf,
}

pub fn router(state: Arc<AdminState>) -> Router {
    let authenticated = Router::new()
        .route(
            "/api/v1/agencies",
            get(handlers::list_agencies).post(handlers::add_agency),
        )
        .route(
            "/api/v1/accounts",
            get(handlers::list_accounts).post(handlers::add_account),
        )
        .route("/api/v1/accounts/{address}", get(handlers::get_account))
        .route("/api/v1/accounts/{address}/password", put(handlers::set_password))
        .route("/api/v1/accounts/{address}/quota", put(handlers::set_quota))
        .route("/api/v1/queue", get(handlers::list_queue))
        .route("/api/v1/metrics", get(metrics::get_metrics))
        .route("/api/v1/jobs/{id}", get(jobs::get_job))
        .merge(backup::routes())
        .merge(migrate::routes())
        .merge(queue::routes())
        .route_layer(middleware::from_fn(auth::administrators_only))
        .merge(directory::routes())
        .merge(requests::routes())
        .merge(report::routes())
        .merge(ack::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::authenticate));
    Router::new()
        .route("/metrics", get(prometheus::get_metrics))
        .route(
            "/api/v1/health",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/api/v1/login", post(auth::login))
        .merge(authenticated)
        .with_state(state)
}

/// Whether a presented token is the configured one, in a time that does not tell
/// where they first differ (only whether their lengths do): `subtle` keeps the
/// comparison out of the optimiser's reach, which a hand-written fold does not.
fn constant_time_eq(presented: &[u8], expected: &[u8]) -> bool {
    presented.ct_eq(expected).into()
}

/// An API failure: `{"error": {"kind": "...", "message": "..."}}` with a fitting status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What the caller is told (the operation's own words).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<DirectoryError> for ApiError {
    fn from(error: DirectoryError) -> ApiError {
        let (status, kind) = match &error {
            DirectoryError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            DirectoryError::Exists(_) => (StatusCode::CONFLICT, "exists"),
            DirectoryError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            DirectoryError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            DirectoryError::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
            DirectoryError::Store(e) if !e.is_server_fault() => (StatusCode::BAD_REQUEST, "invalid"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status.is_server_error() {
            tracing::error!(error = %error, "admin operation failed");
        }
        ApiError::new(status, kind, error.to_string())
    }
}

impl From<congvu_store::StoreError> for ApiError {
    fn from(error: congvu_store::StoreError) -> ApiError {
        ApiError::from(DirectoryError::from(error))
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    kind: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                kind: self.kind,
                message: &self.message,
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(constant_time_eq(b"s3cret-token", b"s3cret-token"));
        assert!(!constant_time_eq(b"s3cret-token", b"s3cret-tokeN"));
        assert!(!constant_time_eq(b"s3cret-token", b"s3cret-toke"));
        assert!(!constant_time_eq(b"", b"s3cret-token"));
        assert!(constant_time_eq(b"", b""));
    }
}
