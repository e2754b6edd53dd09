//! The audit log and the policy's refusals for the Provincial Office, searchable: the
//! admin API's own audit handler (`GET /api/v1/audit`), and the store's refusal events
//! of the last 30 days, filtered by words that match with or without accents.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use congvu_directory::Role;
use congvu_policy::naming::fold_vietnamese;
use congvu_store::MailEventKind;

use super::frame::{Frame, render};
use super::session::Viewer;
use super::{api_failure, local_time, require};
use crate::http::admin::auth::Caller;
use crate::http::admin::directory::{self as api, AuditQuery};
use crate::http::admin::{AdminState, ApiError};

/// Audit entries read at most (the newest).
const AUDIT_ENTRIES: usize = 2000;
/// How far back the refusals go.
const REFUSAL_DAYS: i64 = 30;

struct Entry {
    when: String,
    actor: String,
    action: String,
    subject: String,
    detail: String,
}

struct Refusal {
    when: String,
    mailbox: String,
    rule: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    frame: Frame,
    query: String,
    entries: Vec<Entry>,
    refusals: Vec<Refusal>,
}

#[derive(Deserialize)]
pub struct Filter {
    #[serde(default)]
    q: String,
}

/// Whether every word of `query` is in one of `fields`, accents and case aside.
fn matches(query: &[String], fields: &[&str]) -> bool {
    let haystack = fold_vietnamese(&fields.join(" "));
    query.iter().all(|word| haystack.contains(word.as_str()))
}

/// `GET /console/audit?q=…`.
pub async fn page(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Query(filter): Query<Filter>,
) -> Response {
    if let Err(refused) = require(&viewer, Role::Administrator) {
        return refused.into_response();
    }
    let words: Vec<String> = fold_vietnamese(&filter.q)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let asked = AuditQuery {
        request: None,
        subject: None,
        limit: Some(AUDIT_ENTRIES),
    };
    let caller = Extension(Caller::Account(viewer.principal.clone()));
    let entries = match api::audit(State(state.clone()), caller, Query(asked)).await {
        Ok(Json(entries)) => entries,
        Err(error) => return api_failure(viewer.lang, &error),
    };
    let entries: Vec<Entry> = entries
        .into_iter()
        .rev()
        .filter(|e| matches(&words, &[&e.actor, &e.action, &e.subject, &e.detail]))
        .map(|e| Entry {
            when: local_time(e.at),
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            detail: e.detail,
        })
        .collect();
    let shared = state.clone();
    let read = tokio::task::spawn_blocking(move || -> Result<Vec<Refusal>, ApiError> {
        let now = congvu_directory::unix_now();
        let mut names = HashMap::new();
        let mut refusals = Vec::new();
        for event in shared
            .store
            .events(now - REFUSAL_DAYS * 86_400, now + 1)?
            .into_iter()
            .rev()
        {
            let MailEventKind::Refused { rule } = event.kind else {
                continue;
            };
            let mailbox = match names.get(&event.account) {
                Some(name) => Clone::clone(name),
                None => {
                    let name = shared
                        .directory
                        .account_by_id(event.account)?
                        .map_or_else(|| format!("#{}", event.account.0), |r| r.address);
                    names.insert(event.account, name.clone());
                    name
                }
            };
            if matches(&words, &[&mailbox, &rule]) {
                refusals.push(Refusal {
                    when: local_time(event.at),
                    mailbox,
                    rule,
                });
            }
        }
        Ok(refusals)
    })
    .await;
    let refusals = match read {
        Ok(Ok(refusals)) => refusals,
        Ok(Err(error)) => return api_failure(viewer.lang, &error),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let page = AuditPage {
        frame: viewer.frame(
            "/console/audit",
            ("Nhật ký và thư bị từ chối", "Audit log and refusals"),
        ),
        query: filter.q,
        entries,
        refusals,
    };
    render(StatusCode::OK, &page)
}
