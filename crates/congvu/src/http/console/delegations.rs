//! Art. 16.1: the head of an agency delegates the agency mailbox to a clerk, with
//! the written authorisation's number and date; the console shows the agency's
//! grants to its clerks and heads, and lets the head (or an administrator) grant and
//! revoke them through the admin API's own handlers (`http::admin::directory`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;

use congvu_directory::Role;

use super::frame::{Frame, Notice, render};
use super::session::{Viewer, check_csrf};
use super::{api_failure, local_time, require};
use crate::http::admin::AdminState;
use crate::http::admin::auth::Caller;
use crate::http::admin::directory::{self as api, DelegationQuery, NewDelegation};

struct Grant {
    delegate: String,
    rights: String,
    send_as: bool,
    document: String,
    granted_by: String,
    granted_at: String,
}

#[derive(Template)]
#[template(path = "console/delegations.html")]
struct DelegationsPage {
    frame: Frame,
    agency: String,
    mailbox: String,
    grants: Vec<Grant>,
    may_grant: bool,
}

#[derive(Deserialize)]
pub struct AgencyQuery {
    /// Administrators pick the agency; others see their own.
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

fn caller(viewer: &Viewer) -> Caller {
    Caller::Account(viewer.principal.clone())
}

/// `GET /console/delegations[?agency=…]`.
pub async fn page(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Query(query): Query<AgencyQuery>,
) -> Response {
    if let Err(refused) = require(&viewer, Role::Operator) {
        return refused.into_response();
    }
    let agency = match (&query.agency, viewer.principal.role) {
        (Some(asked), Role::Administrator) => asked.to_ascii_lowercase(),
        _ => viewer.principal.agency.clone(),
    };
    let asked = DelegationQuery {
        agency: Some(agency.clone()),
        delegate: None,
    };
    let grants =
        match api::list_delegations(State(state.clone()), Extension(caller(&viewer)), Query(asked)).await {
            Ok(Json(grants)) => grants,
            Err(error) => return api_failure(viewer.lang, &error),
        };
    let mailbox = grants
        .first()
        .map(|g| g.mailbox_address.clone())
        .unwrap_or_else(|| {
            state
                .directory
                .agency(&agency)
                .ok()
                .flatten()
                .map_or_else(|| agency.clone(), |a| a.address)
        });
    let lang = viewer.lang;
    let notice = query.done.as_deref().and_then(|done| match done {
        "granted" => Some(Notice::ok(lang.t("Đã ủy quyền.", "Delegated."))),
        "revoked" => Some(Notice::ok(lang.t("Đã thu hồi ủy quyền.", "Delegation revoked."))),
        _ => None,
    });
    let may_grant = match viewer.principal.role {
        Role::Administrator => true,
        Role::Head => viewer.principal.agency == agency,
        Role::Operator | Role::Official => false,
    };
    let page = DelegationsPage {
        frame: viewer
            .frame(
                "/console/delegations",
                ("Ủy quyền hộp thư cơ quan", "Agency mailbox delegations"),
            )
            .with_notice(notice),
        agency,
        mailbox,
        grants: grants
            .into_iter()
            .map(|g| Grant {
                delegate: g.delegate_address,
                rights: g.rights.to_string(),
                send_as: g.send_as,
                document: g.document.unwrap_or_default(),
                granted_by: g.granted_by,
                granted_at: local_time(g.granted_at),
            })
            .collect(),
        may_grant,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct GrantForm {
    csrf: String,
    agency: String,
    delegate: String,
    document: String,
    rights: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    send_as: Option<String>,
}

/// `POST /console/delegations`: the API's `POST /api/v1/delegations`. The console
/// asks for the written authorisation (Art. 16.1).
pub async fn grant(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<GrantForm>,
) -> Response {
    if let Err(refused) = check_csrf(&headers, &form.csrf).and_then(|()| require(&viewer, Role::Operator)) {
        return refused.into_response();
    }
    if form.document.trim().is_empty() {
        let text = viewer.lang.t(
            "Cần số và ngày của văn bản ủy quyền (Điều 16.1).",
            "The written authorisation's number and date are needed (Art. 16.1).",
        );
        return (StatusCode::BAD_REQUEST, text).into_response();
    }
    let back = format!("/console/delegations?agency={}&done=granted", form.agency);
    let body = NewDelegation {
        agency: form.agency,
        delegate: form.delegate.trim().to_owned(),
        document: Some(form.document.trim().to_owned()),
        rights: Some(form.rights),
        send_as: Some(form.send_as.is_some()),
    };
    match api::grant_delegation(State(state), Extension(caller(&viewer)), Json(body)).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(error) => api_failure(viewer.lang, &error),
    }
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
    agency: String,
    delegate: String,
}

/// `POST /console/delegations/revoke`: the API's `DELETE /api/v1/delegations/…`.
pub async fn revoke(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Err(refused) = check_csrf(&headers, &form.csrf).and_then(|()| require(&viewer, Role::Operator)) {
        return refused.into_response();
    }
    let back = format!("/console/delegations?agency={}&done=revoked", form.agency);
    let path = axum::extract::Path((form.agency, form.delegate));
    match api::revoke_delegation(State(state), Extension(caller(&viewer)), path).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(error) => api_failure(viewer.lang, &error),
    }
}
