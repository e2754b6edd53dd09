//! The directory (Danh bạ) endpoints: search, export, bulk import, aliases, roles,
//! account state (disable, restore, purge), delegations and the audit log.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use congvu_directory::export::{self, Format};
use congvu_directory::import::{self, ImportReport};
use congvu_directory::{AccountRecord, AuditEntry, Delegation, GrantTerms, Rights, Role};

use super::auth::{Caller, forbidden};
use super::handlers::{ApiResult, blocking, existing};
use super::{AdminState, ApiError};

/// Search answers are for people to read: more is a query to narrow.
const MAX_SEARCH_RESULTS: usize = 200;
const DEFAULT_AUDIT_ENTRIES: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: String,
    limit: Option<usize>,
}

/// `GET /api/v1/directory/search?q=tuan`: every signed-in caller (the directory is
/// the province's address book).
pub async fn search(
    State(state): State<Arc<AdminState>>,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Vec<AccountRecord>> {
    let limit = query.limit.unwrap_or(50).min(MAX_SEARCH_RESULTS);
    blocking(&state, move |s| Ok(Json(s.directory.search(&query.q, limit)?))).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    format: String,
    agency: Option<String>,
}

/// `GET /api/v1/directory/export?format=csv|vcard|ldif[&agency=A]`: administrators
/// export everything, operators their own agency.
pub async fn export(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format: Format = query.format.parse().map_err(ApiError::bad_request)?;
    let agency = match (caller.scope()?, query.agency) {
        (None, agency) => agency,
        (Some(own), Some(asked)) if !own.eq_ignore_ascii_case(&asked) => {
            return Err(forbidden(format!(
                "operators export their own agency ({own}) only"
            )));
        }
        (Some(own), _) => Some(own.to_owned()),
    };
    let body = blocking(&state, move |s| {
        let mut agencies = s.directory.list_agencies()?;
        if let Some(agency) = &agency {
            agencies.retain(|a| a.abbr.eq_ignore_ascii_case(agency));
        }
        let accounts = s.directory.list_accounts(agency.as_deref())?;
        Ok(export::render(
            format,
            &agencies,
            &accounts,
            s.directory.primary_domain(),
        ))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// The CSV file's text.
    csv: String,
    #[serde(default)]
    apply: bool,
    /// Apply only rows `start..end` (0-based, header excluded); all by default.
    start: Option<usize>,
    end: Option<usize>,
}

/// `POST /api/v1/directory/import`: dry run unless `apply`.
pub async fn import(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<ImportBody>,
) -> ApiResult<ImportReport> {
    caller.require_administrator()?;
    let actor = caller.label().to_owned();
    blocking(&state, move |s| {
        let rows = import::parse(body.csv.as_bytes())?;
        let range = match (body.start, body.end) {
            (None, None) => None,
            (start, end) => Some(start.unwrap_or(0)..end.unwrap_or(rows.len())),
        };
        Ok(Json(s.directory.import(
            &rows,
            body.apply,
            range,
            &actor,
            &mut |_, _| {},
        )?))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeBody {
    /// Purge as of this Unix time instead of now (to purge early after a decision).
    now: Option<i64>,
}

#[derive(Serialize, Deserialize)]
pub struct Purged {
    pub purged: Vec<String>,
}

/// `POST /api/v1/directory/purge`: removes deleted mailboxes past their retention.
pub async fn purge(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<PurgeBody>,
) -> ApiResult<Purged> {
    caller.require_administrator()?;
    let actor = caller.label().to_owned();
    let now = body.now.unwrap_or_else(congvu_directory::unix_now);
    blocking(&state, move |s| {
        Ok(Json(Purged {
            purged: s.directory.purge_expired(now, &actor)?,
        }))
    })
    .await
}

/// `POST /api/v1/accounts/{address}/restore`: undo a deletion before its purge.
pub async fn restore(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(address): Path<String>,
) -> ApiResult<AccountRecord> {
    caller.require_administrator()?;
    let actor = caller.label().to_owned();
    blocking(&state, move |s| Ok(Json(s.directory.restore(&address, &actor)?))).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disabled {
    pub disabled: bool,
}

/// `PUT /api/v1/accounts/{address}/disabled`.
pub async fn set_disabled(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(address): Path<String>,
    Json(body): Json<Disabled>,
) -> ApiResult<AccountRecord> {
    caller.require_administrator()?;
    let actor = caller.label().to_owned();
    blocking(&state, move |s| {
        Ok(Json(s.directory.set_disabled(&address, body.disabled, &actor)?))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    role: Role,
}

/// `PUT /api/v1/accounts/{address}/role`.
pub async fn set_role(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(address): Path<String>,
    Json(body): Json<RoleBody>,
) -> ApiResult<AccountRecord> {
    caller.require_administrator()?;
    let actor = caller.label().to_owned();
    blocking(&state, move |s| {
        Ok(Json(s.directory.set_role(&address, body.role, &actor)?))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAlias {
    alias: String,
    target: String,
}

/// `POST /api/v1/aliases`.
pub async fn add_alias(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewAlias>,
) -> Result<(StatusCode, Json<AccountRecord>), ApiError> {
    caller.require_administrator()?;
    let actor = caller.label().to_owned();
    let record = blocking(&state, move |s| {
        Ok(s.directory.add_alias(&body.alias, &body.target, &actor)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// `DELETE /api/v1/aliases/{alias}`.
pub async fn remove_alias(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(alias): Path<String>,
) -> ApiResult<AccountRecord> {
    caller.require_administrator()?;
    let actor = caller.label().to_owned();
    blocking(&state, move |s| {
        Ok(Json(s.directory.remove_alias(&alias, &actor)?))
    })
    .await
}

/// Heads grant their own agency's mailbox; administrators any.
fn may_delegate(caller: &Caller, agency: &str) -> Result<(), ApiError> {
    match caller {
        _ if caller.is_administrator() => Ok(()),
        Caller::Account(p) if p.role == Role::Head && p.agency.eq_ignore_ascii_case(agency) => Ok(()),
        _ => Err(forbidden(format!(
            "only the head of {agency} (or the administrator) delegates its mailbox (Art. 16.1)"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDelegation {
    pub agency: String,
    pub delegate: String,
    pub document: Option<String>,
    /// RFC 4314 rights on the agency's mailboxes (default: every delegable right,
    /// `lrswipkxte`); never `a`.
    pub rights: Option<String>,
    /// May submit mail as the agency address (default: true).
    pub send_as: Option<bool>,
}

/// `POST /api/v1/delegations`.
pub async fn grant_delegation(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewDelegation>,
) -> Result<(StatusCode, Json<Delegation>), ApiError> {
    may_delegate(&caller, &body.agency)?;
    let defaults = GrantTerms::default();
    let rights = match body.rights.as_deref() {
        Some(text) => text
            .parse::<Rights>()
            .map_err(|err| ApiError::bad_request(format!("rights: {err}")))?,
        None => defaults.rights,
    };
    let terms = GrantTerms {
        rights,
        send_as: body.send_as.unwrap_or(defaults.send_as),
    };
    let actor = caller.label().to_owned();
    let grant = blocking(&state, move |s| {
        Ok(s.directory.grant_delegation_with(
            &body.agency,
            &body.delegate,
            body.document.as_deref(),
            terms,
            &actor,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// `DELETE /api/v1/delegations/{agency}/{delegate}`.
pub async fn revoke_delegation(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path((agency, delegate)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    may_delegate(&caller, &agency)?;
    let actor = caller.label().to_owned();
    blocking(&state, move |s| {
        Ok(s.directory.revoke_delegation(&agency, &delegate, &actor)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegationQuery {
    /// The agency whose mailbox is delegated, or …
    pub agency: Option<String>,
    /// … the clerk's address.
    pub delegate: Option<String>,
}

/// `GET /api/v1/delegations?agency=A` or `?delegate=ADDRESS`.
pub async fn list_delegations(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<DelegationQuery>,
) -> ApiResult<Vec<Delegation>> {
    blocking(&state, move |s| {
        let grants = match (query.agency, query.delegate) {
            (Some(agency), None) => {
                caller.require_agency(&agency)?;
                let agency = s.directory.agency(&agency)?.ok_or_else(|| {
                    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("agency {agency}"))
                })?;
                s.directory.delegations_of(agency.account)?
            }
            (None, Some(delegate)) => {
                let record = existing(s, &delegate)?;
                let own = matches!(&caller, Caller::Account(p) if p.account == record.account);
                if !own && !caller.may_act_for(&record.agency) {
                    return Err(forbidden("operators see their own agency's grants only"));
                }
                s.directory.delegations_for(record.account)?
            }
            _ => return Err(ApiError::bad_request("give exactly one of agency or delegate")),
        };
        Ok(Json(grants))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessQuery {
    /// Unix seconds, inclusive (default: the beginning).
    from: Option<i64>,
    /// Unix seconds, inclusive (default: now and later).
    until: Option<i64>,
}

/// `GET /api/v1/access/{address}`: the Art. 10 access events of a mailbox (logins,
/// and selections of an agency's INBOX, by whichever login did them), oldest
/// first. For the administrator, and the head of the mailbox's agency.
pub async fn access_events(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Path(address): Path<String>,
    Query(query): Query<AccessQuery>,
) -> ApiResult<Vec<congvu_store::AccessEvent>> {
    blocking(&state, move |s| {
        let record = existing(s, &address)?;
        let head = matches!(&caller, Caller::Account(p)
            if p.role == Role::Head && p.agency.eq_ignore_ascii_case(&record.agency));
        if !head && !caller.is_administrator() {
            return Err(forbidden(format!(
                "only the head of {} (or the administrator) reads its access log (Art. 10)",
                record.agency
            )));
        }
        let events = s.store.access_events(
            record.account,
            query.from.unwrap_or(i64::MIN),
            query.until.unwrap_or(i64::MAX),
        )?;
        Ok(Json(events))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub request: Option<u64>,
    pub subject: Option<String>,
    pub limit: Option<usize>,
}

/// `GET /api/v1/audit`: the newest entries, oldest first.
pub async fn audit(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Vec<AuditEntry>> {
    caller.require_administrator()?;
    let limit = query.limit.unwrap_or(DEFAULT_AUDIT_ENTRIES);
    blocking(&state, move |s| {
        Ok(Json(s.directory.audit_log(
            query.request,
            query.subject.as_deref(),
            limit,
        )?))
    })
    .await
}

pub fn routes() -> axum::Router<Arc<AdminState>> {
    use axum::routing::{delete, get, post, put};
    axum::Router::new()
        .route("/api/v1/logout", post(super::auth::logout))
        .route("/api/v1/me", get(super::auth::me))
        .route("/api/v1/me/password", put(super::auth::change_own_password))
        .route("/api/v1/directory/search", get(search))
        .route("/api/v1/directory/export", get(export))
        .route("/api/v1/directory/import", post(import))
        .route("/api/v1/directory/purge", post(purge))
        .route("/api/v1/accounts/{address}/restore", post(restore))
        .route("/api/v1/accounts/{address}/disabled", put(set_disabled))
        .route("/api/v1/accounts/{address}/role", put(set_role))
        .route("/api/v1/aliases", post(add_alias))
        .route("/api/v1/aliases/{alias}", delete(remove_alias))
        .route(
            "/api/v1/delegations",
            get(list_delegations).post(grant_delegation),
        )
        .route(
            "/api/v1/delegations/{agency}/{delegate}",
            delete(revoke_delegation),
        )
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/access/{address}", get(access_events))
}
