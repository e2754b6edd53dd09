//! The forms 01/02/03 in the console: agency clerks and heads draft, watch and print
//! their agency's requests and submit them; the Provincial Office approves or rejects.
//! Every step is the admin API's own handler (`http::admin::requests`), called as the
//! viewer, so the scope rules (an operator acts for their own agency and its
//! sub-agencies) and the audit records are the API's.
//!
//! While a name is typed on Mẫu 01, the page's script asks `GET
//! /console/requests/derive` for the address the directory would give and any
//! collision (`Directory::propose_address`); without the script the form works the
//! same, and the derived addresses show on the request once filed.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use congvu_directory::request::{
    Form as FormNumber, Line, NewRequest, Request, Requester, State as RequestState,
};
use congvu_directory::{DirectoryError, Principal, Role};

use super::frame::{Frame, Notice, printable, render};
use super::session::{Viewer, check_csrf};
use super::{api_failure, failure, local_time, require};
use crate::http::admin::AdminState;
use crate::http::admin::auth::Caller;
use crate::http::admin::requests as api;

/// Blank lines a new form offers before the script's "add a line".
const BLANK_LINES: usize = 3;
/// Lines read from one posted form at most (the directory's own limit is higher).
const MAX_FORM_LINES: usize = 200;

fn caller(viewer: &Viewer) -> Caller {
    Caller::Account(viewer.principal.clone())
}

fn state_names(state: RequestState) -> (&'static str, &'static str, &'static str) {
    match state {
        RequestState::Draft => ("draft", "bản nháp", "draft"),
        RequestState::Submitted => ("submitted", "đã gửi, chờ duyệt", "submitted"),
        RequestState::Applied => ("applied", "đã thực hiện", "applied"),
        RequestState::Rejected => ("rejected", "bị từ chối", "rejected"),
    }
}

struct ListRow {
    id: u64,
    form: &'static str,
    agency: String,
    effective: String,
    filed: String,
    late: bool,
    state: &'static str,
    state_vi: &'static str,
    state_en: &'static str,
}

#[derive(Template)]
#[template(path = "console/requests.html")]
struct ListPage {
    frame: Frame,
    requests: Vec<ListRow>,
    may_file: bool,
}

/// `GET /console/requests`: the viewer's agency's requests (all for administrators).
pub async fn list(State(state): State<Arc<AdminState>>, viewer: Viewer) -> Response {
    if let Err(refused) = require(&viewer, Role::Operator) {
        return refused.into_response();
    }
    let query = api::ListQuery::default();
    let requests = match api::list(State(state), Extension(caller(&viewer)), Query(query)).await {
        Ok(Json(requests)) => requests,
        Err(error) => return api_failure(viewer.lang, &error),
    };
    let requests = requests
        .into_iter()
        .map(|r| {
            let (state, state_vi, state_en) = state_names(r.state);
            ListRow {
                id: r.id,
                form: r.form.number(),
                agency: r.agency,
                effective: r.effective_date,
                filed: r.filing_date.unwrap_or_default(),
                late: r.late,
                state,
                state_vi,
                state_en,
            }
        })
        .collect();
    let page = ListPage {
        frame: viewer.frame(
            "/console/requests",
            ("Yêu cầu cấp, thay đổi, xoá hộp thư", "Mailbox requests"),
        ),
        requests,
        may_file: true,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/request_new.html")]
struct NewPage {
    frame: Frame,
    form: &'static str,
    legend: (&'static str, &'static str),
    agencies: Vec<(String, String)>,
    agency: String,
    requester: String,
    effective_date: String,
    lines: Vec<usize>,
    line_kinds: Vec<(&'static str, &'static str, &'static str)>,
}

/// A kind of line: its `type` in the directory's `Line`, Vietnamese, English.
type LineKind = (&'static str, &'static str, &'static str);
/// A form's number, the legend over its lines, and the kinds of line it takes.
type FormParts = (&'static str, (&'static str, &'static str), Vec<LineKind>);

/// What each form is for, and the kinds of line it takes.
fn form_parts(number: &str) -> Option<FormParts> {
    match number {
        "01" => Some((
            "01",
            ("Cán bộ được cấp hộp thư mới", "Officials to get a new mailbox"),
            vec![("new_official", "Cấp hộp thư cá nhân mới", "New personal mailbox")],
        )),
        "02" => Some((
            "02",
            ("Các thay đổi", "Changes"),
            vec![
                (
                    "change_official",
                    "Đổi chức vụ, phòng ban",
                    "Position or department changed",
                ),
                (
                    "move_official",
                    "Chuyển đến cơ quan này",
                    "Moved into this agency",
                ),
                (
                    "convert_address",
                    "Đổi sang địa chỉ theo quy định",
                    "Old address converted",
                ),
                ("rename_agency", "Cơ quan đổi tên", "Agency renamed"),
            ],
        )),
        "03" => Some((
            "03",
            ("Hộp thư cần xoá", "Mailboxes to delete"),
            vec![
                (
                    "delete_official",
                    "Xoá hộp thư cá nhân",
                    "Delete a personal mailbox",
                ),
                ("dissolve_agency", "Giải thể cơ quan", "Agency dissolved"),
            ],
        )),
        _ => None,
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    form: String,
}

/// Whether `principal` files for agency `abbr`: their own and its sub-agencies
/// (`pvhtt.yendinh` under `yendinh`); every one for administrators.
fn files_for(principal: &Principal, abbr: &str) -> bool {
    let own = principal.agency.as_str();
    principal.role == Role::Administrator || abbr == own || abbr.ends_with(&format!(".{own}"))
}

/// The live agencies `principal` files for, as (abbreviation, name).
fn agencies_for(state: &AdminState, principal: &Principal) -> Result<Vec<(String, String)>, DirectoryError> {
    Ok(state
        .directory
        .list_agencies()?
        .into_iter()
        .filter(|a| a.dissolved.is_none() && files_for(principal, &a.abbr))
        .map(|a| (a.abbr, a.name))
        .collect())
}

/// `GET /console/requests/new?form=01|02|03`.
pub async fn new_form(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Query(query): Query<NewQuery>,
) -> Response {
    if let Err(refused) = require(&viewer, Role::Operator) {
        return refused.into_response();
    }
    new_page(&state, &viewer, &query.form, StatusCode::OK, None).await
}

async fn new_page(
    state: &Arc<AdminState>,
    viewer: &Viewer,
    number: &str,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    let Some((form, legend, line_kinds)) = form_parts(number) else {
        return (
            StatusCode::NOT_FOUND,
            viewer.lang.t("Không có mẫu này.", "No such form."),
        )
            .into_response();
    };
    let (shared, principal) = (state.clone(), viewer.principal.clone());
    let agencies = match tokio::task::spawn_blocking(move || agencies_for(&shared, &principal)).await {
        Ok(Ok(agencies)) => agencies,
        Ok(Err(error)) => return failure(viewer.lang, &error),
        Err(_) => return failure(viewer.lang, &DirectoryError::Db("task".into())),
    };
    let page = NewPage {
        frame: viewer
            .frame("/console/requests", (form_title(form).0, form_title(form).1))
            .with_notice(notice),
        form,
        legend,
        agency: viewer.principal.agency.clone(),
        agencies,
        requester: viewer.name.clone(),
        effective_date: String::new(),
        lines: (0..BLANK_LINES).collect(),
        line_kinds,
    };
    render(status, &page)
}

fn form_title(form: &str) -> (&'static str, &'static str) {
    match form {
        "01" => ("Mẫu 01 — Đề nghị cấp hộp thư", "Form 01 — New mailboxes"),
        "02" => ("Mẫu 02 — Đề nghị thay đổi", "Form 02 — Changes"),
        _ => ("Mẫu 03 — Đề nghị xoá hộp thư", "Form 03 — Deletions"),
    }
}

/// One line of the posted form as the directory's `Line` (through its own serde
/// form), or `None` when every field of it is blank.
fn line_of(kind: &str, fields: &Map<String, Value>) -> Result<Option<Line>, String> {
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let optional = |key: &str| {
        let value = text(key);
        if value.is_empty() {
            Value::Null
        } else {
            Value::String(value)
        }
    };
    let filled = [
        "name",
        "address",
        "person_id",
        "position",
        "department",
        "new_address",
        "decision",
    ]
    .iter()
    .any(|key| !text(key).is_empty());
    if !filled {
        return Ok(None);
    }
    let value = match kind {
        "new_official" => json!({"type": kind, "name": text("name"), "person_id": optional("person_id"),
            "position": optional("position"), "department": optional("department")}),
        "change_official" => json!({"type": kind, "address": text("address"),
            "position": optional("position"), "department": optional("department")}),
        "move_official" => json!({"type": kind, "address": text("address"), "position": optional("position"),
            "department": optional("department"), "new_address": optional("new_address")}),
        "convert_address" => {
            json!({"type": kind, "address": text("address"), "new_address": optional("new_address")})
        }
        "rename_agency" => json!({"type": kind, "agency": text("address"), "name": text("name")}),
        "delete_official" => json!({"type": kind, "address": text("address"), "reason": text("reason")}),
        "dissolve_agency" => json!({"type": kind, "agency": text("address"), "decision": text("decision")}),
        other => return Err(format!("{other:?}")),
    };
    serde_json::from_value(value).map(Some).map_err(|e| e.to_string())
}

/// The posted form as a `NewRequest`: header fields and `line.N.field` pairs.
fn new_request(fields: &[(String, String)]) -> Result<NewRequest, String> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
            .trim()
            .to_owned()
    };
    let form = match field("form").as_str() {
        "01" => FormNumber::New,
        "02" => FormNumber::Change,
        "03" => FormNumber::Delete,
        other => return Err(format!("form {other:?}")),
    };
    let mut lines: Vec<Map<String, Value>> = Vec::new();
    for (key, value) in fields {
        let Some(rest) = key.strip_prefix("line.") else {
            continue;
        };
        let Some((index, name)) = rest.split_once('.') else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        if index >= MAX_FORM_LINES {
            return Err(format!("more than {MAX_FORM_LINES} lines"));
        }
        if lines.len() <= index {
            lines.resize_with(index + 1, Map::new);
        }
        lines[index].insert(name.to_owned(), Value::String(value.clone()));
    }
    let mut parsed = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let kind = line.get("type").and_then(Value::as_str).unwrap_or("");
        if let Some(line) = line_of(kind, line).map_err(|e| format!("line {}: {e}", index + 1))? {
            parsed.push(line);
        }
    }
    let position = field("requester_position");
    Ok(NewRequest {
        form,
        agency: field("agency"),
        requester: Requester {
            name: field("requester"),
            position: (!position.is_empty()).then_some(position),
            phone: None,
        },
        effective_date: field("effective_date"),
        lines: parsed,
    })
}

/// `POST /console/requests/new`: files the draft (the API's `POST /api/v1/requests`).
pub async fn file(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    if let Err(refused) = check_csrf(&headers, csrf).and_then(|()| require(&viewer, Role::Operator)) {
        return refused.into_response();
    }
    let number = fields
        .iter()
        .find(|(k, _)| k == "form")
        .map_or("01", |(_, v)| v.as_str())
        .to_owned();
    let lead = viewer
        .lang
        .t("Chưa lưu được bản nháp:", "The draft was not saved:");
    let new = match new_request(&fields) {
        Ok(new) => new,
        Err(why) => {
            let notice = Notice::error(format!("{lead} {why}"));
            return new_page(&state, &viewer, &number, StatusCode::BAD_REQUEST, Some(notice)).await;
        }
    };
    match api::file(State(state.clone()), Extension(caller(&viewer)), Json(new)).await {
        Ok((_, Json(filed))) => {
            Redirect::to(&format!("/console/requests/{}?done=filed", filed.id)).into_response()
        }
        Err(error) if error.status().is_client_error() => {
            let notice = Notice::error(format!("{lead} {}", error.message()));
            new_page(&state, &viewer, &number, error.status(), Some(notice)).await
        }
        Err(error) => api_failure(viewer.lang, &error),
    }
}

#[derive(Deserialize)]
pub struct DeriveQuery {
    #[serde(default)]
    agency: String,
    #[serde(default)]
    name: String,
}

/// `GET /console/requests/derive?agency=…&name=…` (JSON, for the form's script): the
/// address the official would get now, or the collision and its alternatives.
pub async fn derive(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Query(query): Query<DeriveQuery>,
) -> Response {
    if let Err(refused) = require(&viewer, Role::Operator) {
        return refused.into_response();
    }
    if !files_for(&viewer.principal, &query.agency.to_ascii_lowercase()) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let lang = viewer.lang;
    let proposed =
        tokio::task::spawn_blocking(move || state.directory.propose_address(&query.agency, &query.name))
            .await;
    let answer = match proposed {
        Ok(Ok((address, None))) => json!({"text": format!("→ {address}"), "collision": false}),
        Ok(Ok((_, Some(collision)))) => json!({
            "text": format!(
                "→ {} ({} {}; {} {})",
                collision.chosen,
                lang.t("trùng", "taken:"),
                collision.wanted,
                lang.t("có thể chọn", "alternatives"),
                collision.alternatives.join(", ")
            ),
            "collision": true,
        }),
        Ok(Err(error)) => json!({"text": error.to_string(), "collision": true}),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    Json(answer).into_response()
}

struct RequestView {
    id: u64,
    form: &'static str,
    state: &'static str,
    state_vi: &'static str,
    state_en: &'static str,
    agency: String,
    requester: String,
    effective: String,
    filed: String,
    late: bool,
    filed_by: String,
    reason: String,
    lines: Vec<String>,
    results: Vec<String>,
}

/// A new official's line of a submitted request, as the Provincial Office decides
/// it: the address approval would issue now, and the alternatives on a collision.
struct Proposal {
    /// 1-based line number.
    line: usize,
    name: String,
    address: String,
    /// Empty when there is no collision.
    alternatives: Vec<String>,
    explanation: String,
}

#[derive(Template)]
#[template(path = "console/request.html")]
struct RequestPage {
    frame: Frame,
    request: RequestView,
    may_file: bool,
    may_decide: bool,
    proposals: Vec<Proposal>,
}

/// What approval would issue for each new official of `request`, now.
fn proposals(state: &AdminState, request: &Request) -> Vec<Proposal> {
    request
        .lines
        .iter()
        .enumerate()
        .filter_map(|(index, line)| {
            let Line::NewOfficial(official) = line else {
                return None;
            };
            let line = index + 1;
            if let Some(picked) = &official.address {
                return Some(Proposal {
                    line,
                    name: official.name.clone(),
                    address: picked.clone(),
                    alternatives: Vec::new(),
                    explanation: String::new(),
                });
            }
            let proposal = match state.directory.propose_address(&request.agency, &official.name) {
                Ok((address, None)) => Proposal {
                    line,
                    name: official.name.clone(),
                    address,
                    alternatives: Vec::new(),
                    explanation: String::new(),
                },
                Ok((address, Some(collision))) => Proposal {
                    line,
                    name: official.name.clone(),
                    address,
                    alternatives: collision.alternatives,
                    explanation: collision.explanation,
                },
                Err(error) => Proposal {
                    line,
                    name: official.name.clone(),
                    address: String::new(),
                    alternatives: Vec::new(),
                    explanation: error.to_string(),
                },
            };
            Some(proposal)
        })
        .collect()
}

/// A line as the request page lists it.
fn describe(line: &Line) -> String {
    let or_dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".to_owned());
    match line {
        Line::NewAgency { abbr, name, .. } => format!("Cơ quan mới / new agency: {name} ({abbr})"),
        Line::NewOfficial(official) => format!(
            "Cấp mới / new: {}, {} ({})",
            official.name,
            or_dash(&official.position),
            or_dash(&official.department)
        ),
        Line::RenameAgency { agency, name } => format!("Đổi tên / renamed: {agency} → {name}"),
        Line::ChangeOfficial {
            address,
            position,
            department,
            ..
        } => {
            format!(
                "Thay đổi / changed: {address}: {}, {}",
                or_dash(position),
                or_dash(department)
            )
        }
        Line::MoveOfficial {
            address, new_address, ..
        } => {
            format!("Chuyển đến / moved in: {address} → {}", or_dash(new_address))
        }
        Line::ConvertAddress { address, new_address } => {
            format!("Đổi địa chỉ / converted: {address} → {}", or_dash(new_address))
        }
        Line::DeleteOfficial { address, reason } => {
            format!("Xoá / delete: {address} ({})", reason.vietnamese())
        }
        Line::DissolveAgency { agency, decision } => format!("Giải thể / dissolved: {agency} ({decision})"),
    }
}

fn view(request: Request) -> RequestView {
    let (state, state_vi, state_en) = state_names(request.state);
    RequestView {
        id: request.id,
        form: request.form.number(),
        state,
        state_vi,
        state_en,
        agency: format!("{} ({})", request.agency_name, request.agency),
        requester: request.requester.name.clone(),
        effective: request.effective_date.clone(),
        filed: request
            .submitted_at
            .map(local_time)
            .unwrap_or_else(|| "—".to_owned()),
        late: request.late,
        filed_by: request.filed_by.clone(),
        reason: request.reason.clone().unwrap_or_default(),
        lines: request.lines.iter().map(describe).collect(),
        results: request.results,
    }
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /console/requests/{id}`.
pub async fn show(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Path(id): Path<u64>,
    Query(done): Query<Done>,
) -> Response {
    if let Err(refused) = require(&viewer, Role::Operator) {
        return refused.into_response();
    }
    let request = match api::show(State(state.clone()), Extension(caller(&viewer)), Path(id)).await {
        Ok(Json(request)) => request,
        Err(error) => return api_failure(viewer.lang, &error),
    };
    let may_decide = viewer.principal.role == Role::Administrator;
    let proposals = if may_decide && request.state == RequestState::Submitted {
        let (state, shown) = (state.clone(), request.clone());
        tokio::task::spawn_blocking(move || proposals(&state, &shown))
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let lang = viewer.lang;
    let notice = done.done.as_deref().and_then(|done| {
        let text = match done {
            "filed" => lang.t(
                "Đã lưu bản nháp. Kiểm tra rồi gửi Văn phòng UBND tỉnh.",
                "Draft saved. Check it, then submit it.",
            ),
            "submitted" => lang.t(
                "Đã gửi; chờ Văn phòng UBND tỉnh duyệt.",
                "Submitted; awaiting the Provincial Office.",
            ),
            "approved" => lang.t("Đã phê duyệt và thực hiện.", "Approved and carried out."),
            "rejected" => lang.t("Đã từ chối.", "Rejected."),
            "picked" => lang.t("Đã chọn địa chỉ.", "Address picked."),
            _ => return None,
        };
        Some(Notice::ok(text))
    });
    let page = RequestPage {
        frame: viewer
            .frame("/console/requests", ("Yêu cầu", "Request"))
            .with_notice(notice),
        may_file: true,
        may_decide,
        proposals,
        request: view(request),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct Decision {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/requests/{id}/{submit|approve|reject}`: the API's transitions.
pub async fn act(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, action)): Path<(u64, String)>,
    Form(form): Form<Decision>,
) -> Response {
    if let Err(refused) = check_csrf(&headers, &form.csrf).and_then(|()| require(&viewer, Role::Operator)) {
        return refused.into_response();
    }
    let who = Extension(caller(&viewer));
    let done = match action.as_str() {
        "submit" => api::submit(State(state), who, Path(id)).await,
        "approve" => api::approve(State(state), who, Path(id)).await,
        "reject" => {
            api::reject(
                State(state),
                who,
                Path(id),
                Json(api::Rejection { reason: form.reason }),
            )
            .await
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let word = match action.as_str() {
        "submit" => "submitted",
        "approve" => "approved",
        _ => "rejected",
    };
    match done {
        Ok(_) => Redirect::to(&format!("/console/requests/{id}?done={word}")).into_response(),
        Err(error) => api_failure(viewer.lang, &error),
    }
}

#[derive(Deserialize)]
pub struct PickForm {
    csrf: String,
    address: String,
}

/// `POST /console/requests/{id}/lines/{line}/address`: the API's pick of an address
/// among a collision's alternatives (administrators).
pub async fn pick(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, line)): Path<(u64, usize)>,
    Form(form): Form<PickForm>,
) -> Response {
    if let Err(refused) =
        check_csrf(&headers, &form.csrf).and_then(|()| require(&viewer, Role::Administrator))
    {
        return refused.into_response();
    }
    let body = api::PickedAddress {
        address: form.address,
    };
    match api::pick_address(
        State(state),
        Extension(caller(&viewer)),
        Path((id, line)),
        Json(body),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/console/requests/{id}?done=picked")).into_response(),
        Err(error) => api_failure(viewer.lang, &error),
    }
}

/// `GET /console/requests/{id}/print`: the filled Mẫu as the API prints it, allowed
/// its own print style by hash.
pub async fn print(State(state): State<Arc<AdminState>>, viewer: Viewer, Path(id): Path<u64>) -> Response {
    if let Err(refused) = require(&viewer, Role::Operator) {
        return refused.into_response();
    }
    match api::printable(State(state), Extension(caller(&viewer)), Path(id)).await {
        Ok(answer) => printable(answer).await,
        Err(error) => api_failure(viewer.lang, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_posted_form_becomes_the_directorys_request() {
        let fields = pairs(&[
            ("csrf", "x"),
            ("form", "01"),
            ("agency", "sttt"),
            ("requester", "Lê Văn Thư"),
            ("requester_position", ""),
            ("effective_date", "2026-12-01"),
            ("line.0.type", "new_official"),
            ("line.0.name", "Vũ Đức Đam"),
            ("line.0.position", "Chuyên viên"),
            ("line.1.type", "new_official"),
            ("line.1.name", ""),
            ("line.2.type", "new_official"),
            ("line.2.name", "Lê Thị Hoa"),
        ]);
        let request = new_request(&fields).unwrap();
        assert_eq!(request.form, FormNumber::New);
        assert_eq!(request.requester.position, None);
        assert_eq!(request.lines.len(), 2, "the blank line is skipped");
        let Line::NewOfficial(first) = &request.lines[0] else {
            panic!("{:?}", request.lines)
        };
        assert_eq!(
            (first.name.as_str(), first.position.as_deref()),
            ("Vũ Đức Đam", Some("Chuyên viên"))
        );

        let deletion = pairs(&[
            ("form", "03"),
            ("line.0.type", "delete_official"),
            ("line.0.address", "tuanna.sttt@thanhhoa.gov.vn"),
            ("line.0.reason", "retired"),
        ]);
        assert!(matches!(
            new_request(&deletion).unwrap().lines[..],
            [Line::DeleteOfficial { .. }]
        ));
        let bad = pairs(&[
            ("form", "03"),
            ("line.0.type", "delete_official"),
            ("line.0.address", "a"),
            ("line.0.reason", "bored"),
        ]);
        assert!(new_request(&bad).unwrap_err().starts_with("line 1:"));
        assert!(new_request(&pairs(&[("form", "04")])).is_err());
        assert!(new_request(&pairs(&[("form", "01"), ("line.999.name", "x")])).is_err());
    }
}
