//! The supervision reports (issue 14) over the admin API; `crate::report` computes
//! them, `congvu report …` prints what these answer.
//!
//! | method | path | report |
//! |---|---|---|
//! | GET | /api/v1/reports/checks?from=DATE&to=DATE&agency=ABBR&format=F | check windows met or missed (Art. 10) |
//! | GET | /api/v1/reports/acknowledgements?hours=N&agency=ABBR&at=UNIX&format=F | pending beyond N working hours (Art. 16.2.a) |
//! | GET | /api/v1/reports/usage?from=DATE&to=DATE&agency=ABBR&subtree=true&format=F | usage per agency (Art. 15.4) |
//! | GET | /api/v1/reports/year/{year}?format=F | the yearly report (Art. 12.6) |
//!
//! `DATE` is `YYYY-MM-DD` (local dates of `[compliance] timezone`); `F` is `json`
//! (default), `csv`, `html` or `table`. Who may read (docs/admin-api.md):
//! administrators (the bootstrap token and the Provincial Office's `administrator`
//! accounts) read every report; the `head` of an agency reads the checks,
//! acknowledgements and usage of its own agency alone (the access log of its mailbox
//! is already theirs, Art. 10), not the province's yearly report; the agency's clerk
//! (`operator`), who keeps the agency mailbox, reads its checks and acknowledgements
//! (issue 15); nobody else reads any.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use congvu_directory::Role;
use congvu_report::{Format, Period, Reportable, Scope};

use super::auth::{Caller, forbidden};
use super::handlers::blocking;
use super::{AdminState, ApiError};
use crate::report::{self, ReportError, Sources};

impl From<ReportError> for ApiError {
    fn from(error: ReportError) -> ApiError {
        match error {
            ReportError::Directory(error) => error.into(),
            ReportError::Store(error) => error.into(),
            ReportError::Usage(congvu_report::UsageError::UnknownAgency(_)) => {
                ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", error.to_string())
            }
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

/// The agency a caller may ask for: administrators any (or all, `None`); a head of
/// agency, or a clerk where `clerks` read the report, its own only, which is also what
/// it gets when it names none.
fn agency_for(caller: &Caller, asked: Option<String>, clerks: bool) -> Result<Option<String>, ApiError> {
    if caller.is_administrator() {
        return Ok(asked);
    }
    match caller {
        Caller::Account(principal)
            if principal.role == Role::Head || (clerks && principal.role == Role::Operator) =>
        {
            match asked {
                Some(asked) if !asked.eq_ignore_ascii_case(&principal.agency) => Err(forbidden(format!(
                    "chỉ xem báo cáo của cơ quan mình ({0}) / only your own agency's ({0}) reports",
                    principal.agency
                ))),
                _ => Ok(Some(principal.agency.clone())),
            }
        }
        _ => Err(forbidden(
            "chỉ quản trị viên (Văn phòng UBND tỉnh), trưởng cơ quan và văn thư xem báo cáo / only the administrator (Provincial Office), heads of agency and clerks read reports",
        )),
    }
}

fn date(name: &str, text: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(format!(
            "{name}: ngày không hợp lệ / invalid date {text:?} (YYYY-MM-DD)"
        ))
    })
}

fn period(from: &str, to: &str) -> Result<Period, ApiError> {
    Period::new(date("from", from)?, date("to", to)?)
        .map_err(|error| ApiError::bad_request(error.to_string()))
}

fn format(text: Option<&str>) -> Result<Format, ApiError> {
    text.map_or(Ok(Format::Json), str::parse)
        .map_err(|error: congvu_report::RenderError| ApiError::bad_request(error.to_string()))
}

/// The report in `format`, with its media type.
fn respond<R: Reportable + Serialize>(report: &R, format: Format) -> Result<Response, ApiError> {
    let body = congvu_report::render(report, format).map_err(|error| {
        tracing::error!(%error, "rendering a report failed");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            error.to_string(),
        )
    })?;
    let media = match format {
        Format::Json => "application/json",
        Format::Csv => "text/csv; charset=utf-8",
        Format::Html => "text/html; charset=utf-8",
        Format::Table => "text/plain; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, media)], body).into_response())
}

/// Runs a report on the blocking pool with the state's sources.
async fn compute<R, F>(state: &Arc<AdminState>, work: F) -> Result<R, ApiError>
where
    R: Send + 'static,
    F: FnOnce(&Sources<'_>) -> Result<R, ReportError> + Send + 'static,
{
    blocking(state, move |s| {
        let sources = Sources {
            directory: &s.directory,
            store: s.store.as_ref(),
            calendar: &s.calendar,
        };
        Ok(work(&sources)?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksQuery {
    pub from: String,
    pub to: String,
    pub agency: Option<String>,
    pub format: Option<String>,
}

/// `GET /api/v1/reports/checks`.
pub async fn checks(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ChecksQuery>,
) -> Result<Response, ApiError> {
    let agency = agency_for(&caller, query.agency, true)?;
    let period = period(&query.from, &query.to)?;
    let format = format(query.format.as_deref())?;
    let report = compute(&state, move |sources| {
        report::checks(sources, &period, agency.as_deref())
    })
    .await?;
    respond(&report, format)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgementsQuery {
    /// Working hours beyond which a message is overdue; `[compliance] ack_working_hours`.
    pub hours: Option<u32>,
    pub agency: Option<String>,
    /// The moment the report is for, Unix seconds; now by default.
    pub at: Option<i64>,
    pub format: Option<String>,
}

/// `GET /api/v1/reports/acknowledgements`.
pub async fn acknowledgements(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<AcknowledgementsQuery>,
) -> Result<Response, ApiError> {
    let agency = agency_for(&caller, query.agency, true)?;
    let format = format(query.format.as_deref())?;
    let hours = query.hours.unwrap_or(state.ack_working_hours);
    let now = query.at.unwrap_or_else(congvu_directory::unix_now);
    let report = compute(&state, move |sources| {
        report::acknowledgements(sources, now, hours, agency.as_deref())
    })
    .await?;
    respond(&report, format)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    pub from: String,
    pub to: String,
    pub agency: Option<String>,
    /// With `agency`: the agency and every agency below it.
    #[serde(default)]
    pub subtree: bool,
    pub format: Option<String>,
}

/// `GET /api/v1/reports/usage`.
pub async fn usage(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<UsageQuery>,
) -> Result<Response, ApiError> {
    let head_only = !caller.is_administrator();
    let agency = agency_for(&caller, query.agency, false)?;
    if head_only && query.subtree {
        return Err(forbidden(
            "trưởng cơ quan xem số liệu của cơ quan mình, không gồm đơn vị cấp dưới / a head of agency reads its own agency's figures, not its subtree's",
        ));
    }
    let scope = match (agency, query.subtree) {
        (None, false) => Scope::Province,
        (None, true) => return Err(ApiError::bad_request("subtree needs agency")),
        (Some(abbr), false) => Scope::Agency(abbr),
        (Some(abbr), true) => Scope::Subtree(abbr),
    };
    let period = period(&query.from, &query.to)?;
    let format = format(query.format.as_deref())?;
    let report = compute(&state, move |sources| report::usage(sources, &period, &scope)).await?;
    respond(&report, format)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearQuery {
    pub format: Option<String>,
}

/// `GET /api/v1/reports/year/{year}`: administrators only (the province's report).
pub async fn year(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(year): Path<i32>,
    Query(query): Query<YearQuery>,
) -> Result<Response, ApiError> {
    caller.require_administrator()?;
    let format = format(query.format.as_deref())?;
    let report = compute(&state, move |sources| report::year(sources, year)).await?;
    respond(&report, format)
}

pub fn routes() -> axum::Router<Arc<AdminState>> {
    use axum::routing::get;
    axum::Router::new()
        .route("/api/v1/reports/checks", get(checks))
        .route("/api/v1/reports/acknowledgements", get(acknowledgements))
        .route("/api/v1/reports/usage", get(usage))
        .route("/api/v1/reports/year/{year}", get(year))
}
