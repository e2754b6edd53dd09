//! The supervision reports in the console (issue 14's reports, Art. 10, 12.6, 15.4,
//! 16.2.a): a form, then the report as the admin API renders it in HTML (A4, inline
//! SVG, no script), its print style allowed by hash. Clerks and heads read their own
//! agency's checks and acknowledgements, heads its usage too, administrators all —
//! the API's own rules, since the API's own handlers answer.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use serde::Deserialize;

use congvu_directory::Role;

use super::frame::{Frame, printable, render};
use super::session::Viewer;
use super::{api_failure, require};
use crate::http::admin::AdminState;
use crate::http::admin::auth::Caller;
use crate::http::admin::report::{self as api, AcknowledgementsQuery, ChecksQuery, UsageQuery, YearQuery};

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ReportsPage {
    frame: Frame,
    from: String,
    to: String,
    year: i32,
    may_usage: bool,
    may_choose_agency: bool,
}

/// Today in Vietnam (UTC+7).
fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// `GET /console/reports`: what to see; the month so far by default.
pub async fn page(viewer: Viewer) -> Response {
    if let Err(refused) = require(&viewer, Role::Operator) {
        return refused.into_response();
    }
    let today = today();
    let page = ReportsPage {
        frame: viewer.frame("/console/reports", ("Báo cáo giám sát", "Supervision reports")),
        from: today.with_day(1).unwrap_or(today).to_string(),
        to: today.to_string(),
        year: today.year(),
        may_usage: matches!(viewer.principal.role, Role::Head | Role::Administrator),
        may_choose_agency: viewer.principal.role == Role::Administrator,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct View {
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    year: String,
}

/// `GET /console/reports/view?kind=checks|acknowledgements|usage|year&…`.
pub async fn view(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Query(view): Query<View>,
) -> Response {
    if let Err(refused) = require(&viewer, Role::Operator) {
        return refused.into_response();
    }
    let caller = Extension(Caller::Account(viewer.principal.clone()));
    let agency = Some(view.agency.trim().to_owned()).filter(|a| !a.is_empty());
    let html = Some("html".to_owned());
    let answered = match view.kind.as_str() {
        "checks" => {
            let query = ChecksQuery {
                from: view.from,
                to: view.to,
                agency,
                format: html,
            };
            api::checks(State(state), caller, Query(query)).await
        }
        "acknowledgements" => {
            let query = AcknowledgementsQuery {
                hours: None,
                agency,
                at: None,
                format: html,
            };
            api::acknowledgements(State(state), caller, Query(query)).await
        }
        "usage" => {
            let query = UsageQuery {
                from: view.from,
                to: view.to,
                agency,
                subtree: false,
                format: html,
            };
            api::usage(State(state), caller, Query(query)).await
        }
        "year" => {
            let Ok(year) = view.year.trim().parse::<i32>() else {
                let text = viewer.lang.t("Năm không hợp lệ.", "Not a year.");
                return (StatusCode::BAD_REQUEST, text).into_response();
            };
            api::year(
                State(state),
                caller,
                Path(year),
                Query(YearQuery { format: html }),
            )
            .await
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match answered {
        Ok(answer) => printable(answer).await,
        Err(error) => api_failure(viewer.lang, &error),
    }
}
