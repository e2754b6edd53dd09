//! The web console at `/console/` on the public HTTPS listener, in Vietnamese with an
//! English switch: every official's mailbox, password and directory; the agency
//! clerks' and heads' forms, delegations and reports; the Provincial Office's
//! approvals, accounts, queue, logs, backups and dashboard.
//!
//! Server-rendered HTML (askama templates in `crates/congvu/templates/console/`,
//! checked at compile time, escaped by default), one stylesheet and one small script
//! of our own served from here: no CDN, nothing from outside, so the console works
//! on the provincial WAN without the Internet.
//!
//! ## Invariants
//! 1. **One implementation.** Every action calls the directory, store or relay
//!    operation the admin API and the CLI call, with the same role checks
//!    ([`crate::http::admin::Caller`]) and the same audit records.
//! 2. **Every form is checked** for its CSRF token and origin before anything else
//!    (`session`), and every response carries the strict CSP and the other headers of
//!    `frame::secure`.
//! 3. **A page shows only what the viewer's role may see**: the navigation hides the
//!    rest, and each handler checks the role again (a hidden link is not a guard).
//!
//! | path | who | what |
//! |---|---|---|
//! | `/console/login`, `/console/logout`, `/console/lang` | anyone | sign in and out, language |
//! | `/console/` | every official | their mailbox: quota, aliases, delegated agency mailboxes |
//! | `/console/password` | every official | change their password |
//! | `/console/directory`, `…/vcard/{address}` | every official | search, agency tree, vCard |
//! | `/console/requests`, `…/new`, `…/derive`, `…/{id}`, `…/{id}/print` | clerks, heads, administrators | forms 01/02/03: draft (live address preview), watch, print |
//! | `/console/requests/{id}/submit` | clerks, heads | submit a draft |
//! | `/console/requests/{id}/approve`, `…/reject`, `…/lines/{line}/address` | administrators | decide, picking a new official's address among a collision's alternatives |
//! | `/console/delegations`, `…/revoke` | clerks and heads see; heads and administrators grant and revoke | Art. 16.1 delegations with their written authorisation |
//! | `/console/reports`, `…/view` | clerks and heads (own agency), administrators | the supervision reports, as the API renders them |
//! | `/console/accounts`, `…/quota`, `…/password`, `…/disabled` | administrators | find mailboxes; quota, password reset, disable/enable |
//! | `/console/audit` | administrators | the audit log and the refusals of 30 days, searchable |
//! | `/console/dashboard` | administrators | mail per day, refusals by rule, queue, store and disk, last backup (inline SVG) |
//! | `/console/backups` | administrators | the schedule, the last results, back up now |
//! | `/console/queue`, `…/{id}/retry`, `…/{id}/delete` | administrators | the outbound queue |

mod accounts;
mod assets;
mod audit;
mod backups;
mod dashboard;
mod delegations;
mod directory;
mod frame;
mod mailbox;
mod queue;
mod reports;
mod requests;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use congvu_directory::{DirectoryError, Role};

use crate::http::admin::{AdminState, ApiError};
use frame::reaches;
pub(crate) use frame::{Lang, Notice, render, secure};
use session::Refused;
pub(crate) use session::{Viewer, check_csrf, lang as lang_of};

/// The console's routes, every response with the console's headers (invariant 2).
pub fn router(state: Arc<AdminState>) -> Router {
    Router::new()
        .route("/console", get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(mailbox::home))
        .route("/console/login", get(session::login_page).post(session::login))
        .route("/console/logout", post(session::logout))
        .route("/console/lang", post(session::set_lang))
        .route(
            "/console/password",
            get(mailbox::password_page).post(mailbox::change_password),
        )
        .route("/console/directory", get(directory::page))
        .route("/console/directory/vcard/{address}", get(directory::vcard))
        .route("/console/requests", get(requests::list))
        .route(
            "/console/requests/new",
            get(requests::new_form).post(requests::file),
        )
        .route("/console/requests/derive", get(requests::derive))
        .route("/console/requests/{id}", get(requests::show))
        .route("/console/requests/{id}/print", get(requests::print))
        .route("/console/requests/{id}/{action}", post(requests::act))
        .route(
            "/console/requests/{id}/lines/{line}/address",
            post(requests::pick),
        )
        .route(
            "/console/delegations",
            get(delegations::page).post(delegations::grant),
        )
        .route("/console/delegations/revoke", post(delegations::revoke))
        .route("/console/reports", get(reports::page))
        .route("/console/reports/view", get(reports::view))
        .route("/console/accounts", get(accounts::page))
        .route("/console/accounts/{what}", post(accounts::change))
        .route("/console/audit", get(audit::page))
        .route("/console/dashboard", get(dashboard::page))
        .route("/console/backups", get(backups::page).post(backups::start))
        .route("/console/queue", get(queue::page))
        .route("/console/queue/{id}/{action}", post(queue::act))
        .route("/console/static/{file}", get(assets::serve))
        .layer(middleware::from_fn(secure_headers))
        .with_state(state)
}

async fn secure_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    frame::secure(&mut response);
    response
}

/// A directory or store failure as a page answer: what the viewer did wrong (with
/// the directory's own words), or a server error, logged.
pub(crate) fn failure(lang: Lang, error: &DirectoryError) -> Response {
    let (status, lead) = match error {
        DirectoryError::NotFound(_) => (StatusCode::NOT_FOUND, lang.t("Không tìm thấy", "Not found")),
        DirectoryError::Exists(_) => (StatusCode::CONFLICT, lang.t("Đã có", "Already exists")),
        DirectoryError::Invalid(_) => (StatusCode::BAD_REQUEST, lang.t("Không hợp lệ", "Not valid")),
        DirectoryError::Conflict(_) => (
            StatusCode::CONFLICT,
            lang.t("Không thực hiện được", "Cannot be done"),
        ),
        DirectoryError::Throttled { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            lang.t("Thử lại sau", "Try again later"),
        ),
        _ => {
            tracing::error!(error = %error, "console operation failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.t("Lỗi máy chủ; đã ghi nhật ký.", "Server error; it was logged."),
            )
                .into_response();
        }
    };
    (status, format!("{lead}: {error}")).into_response()
}

/// A failure of an admin API operation the console called: its status, and its own
/// words after a Vietnamese lead.
pub(crate) fn api_failure(lang: Lang, error: &ApiError) -> Response {
    let lead = if error.status().is_server_error() {
        lang.t("Lỗi máy chủ; đã ghi nhật ký", "Server error; it was logged")
    } else {
        lang.t("Không thực hiện được", "Cannot be done")
    };
    (error.status(), format!("{lead}: {}", error.message())).into_response()
}

/// Refuses a page to a viewer whose role does not reach it (invariant 3).
pub(crate) fn require(viewer: &Viewer, needed: Role) -> Result<(), Refused> {
    if reaches(viewer.principal.role, needed) {
        Ok(())
    } else {
        Err(session::forbidden_page(viewer.lang))
    }
}

/// A moment as officials read it: local time in Vietnam (UTC+7, no daylight saving).
pub(crate) fn local_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix + 7 * 3600, 0)
        .map_or_else(|| unix.to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}
