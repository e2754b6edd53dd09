//! The admin API: JSON over HTTP under `/api/v1`, authenticated by a bearer token.
//!
//! The same [`router`] serves the network listener and, when the server is stopped,
//! the CLI in-process (see `cli.rs`): one implementation of every operation, two ways
//! to reach it. The bootstrap token lives in `data_dir/admin.token` (mode 0600); it is
//! the super-administrator's, for setup.
//!
//! | method | path | does |
//! |---|---|---|
//! | GET  | /api/v1/health | liveness, no token needed |
//! | GET  | /api/v1/agencies | list agencies |
//! | POST | /api/v1/agencies | `{abbr, name, parent?}` → the agency and its mailbox |
//! | GET  | /api/v1/accounts?agency=ABBR | list mailboxes with quota and usage |
//! | POST | /api/v1/accounts | `{agency, name, position?, department?}` → derived address |
//! | GET  | /api/v1/accounts/{address} | one mailbox |
//! | PUT  | /api/v1/accounts/{address}/password | `{password}` |
//! | PUT  | /api/v1/accounts/{address}/quota | `{quota: "250MB"}` |
//! | GET  | /api/v1/queue | the outbound queue |

mod handlers;

pub use handlers::{AccountView, AddedAccount};

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Serialize;

use congvu_directory::{Directory, DirectoryError, Secret};
use congvu_store::MailStore;

/// What every handler reaches.
pub struct AdminState {
    pub directory: Arc<Directory>,
    pub store: Arc<dyn MailStore>,
    pub token: Secret<String>,
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
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route(
            "/api/v1/health",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .merge(authenticated)
        .with_state(state)
}

async fn require_token(State(state): State<Arc<AdminState>>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(token) if constant_time_eq(token.as_bytes(), state.token.expose().as_bytes()) => {
            next.run(request).await
        }
        _ => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token",
        )
        .into_response(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
}

impl From<DirectoryError> for ApiError {
    fn from(error: DirectoryError) -> ApiError {
        let (status, kind) = match &error {
            DirectoryError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            DirectoryError::Exists(_) => (StatusCode::CONFLICT, "exists"),
            DirectoryError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
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
