//! Acknowledgement of receipt in congvu (Decision 3380 Art. 16.2.a "trả lời đã
//! tiếp nhận"): the keeper of an agency mailbox acknowledges a message without a
//! mail client that sends the MDN itself (that path is the SMTP side's,
//! `congvu_smtp` `session/ack.rs`, which also decides which messages await one).
//!
//! | method | path | does |
//! |---|---|---|
//! | GET  | /api/v1/acks?agency=ADDRESS | the agency mailbox's acknowledgement records, pending or not |
//! | POST | /api/v1/acks | `{agency, message_id}`: acknowledge; the server sends the MDN |
//!
//! Acknowledging here records the caller's login and the time, then writes the RFC
//! 8098 MDN (`congvu_relay::dsn::mdn`: `manual-action/MDN-sent-manually;
//! displayed`, Vietnamese then English) from the agency mailbox to the message's
//! `Disposition-Notification-To`, or its sender, and hands it on like a delivery
//! report: into the INBOX of a mailbox of this server, else queued with the null
//! reverse path (RFC 8098 §3).
//!
//! Decisions:
//! 1. **The first acknowledgement wins**, wherever it came from (a client's MDN,
//!    another keeper): a second answers `409` "đã tiếp nhận trước đó / already
//!    acknowledged" with who and when, and sends nothing.
//! 2. **Record, then send.** The record is the claim (the store's compare-and-swap),
//!    so two keepers at once send one MDN. If the MDN then cannot be handed on (a
//!    store fault), the answer is `500` saying the acknowledgement stands and the
//!    notification was not sent: the record is the regulation's fact, the
//!    notification its courtesy.
//! 3. **Who may**: administrators; the operator or head of the agency; and whoever
//!    may use the agency mailbox (its own login, or a clerk holding a delegation in
//!    force, Art. 16.1) — the keeper.
//! 4. `Reporting-UA` and the MDN's `Message-ID` name the primary mail domain: the
//!    admin API does not know the server's host name, and the domain is what the
//!    agencies know.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};

use congvu_directory::AccountRecord;
use congvu_relay::dsn::mdn::{self, Receipt};
use congvu_store::{AccountKind, PendingAck};

use super::auth::{Caller, forbidden};
use super::handlers::{ApiResult, blocking};
use super::{AdminState, ApiError};

pub fn routes() -> axum::Router<Arc<AdminState>> {
    use axum::routing::get;
    axum::Router::new().route("/api/v1/acks", get(list).post(acknowledge))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyQuery {
    agency: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// The agency mailbox's address.
    pub agency: String,
    /// The acknowledged message's `Message-ID`, with or without angle brackets.
    pub message_id: String,
}

/// The answer to an acknowledgement.
#[derive(Debug, Serialize, Deserialize)]
pub struct Acknowledged {
    pub record: PendingAck,
    /// Whom the MDN went to.
    pub notified: String,
}

fn when(unix: i64) -> String {
    Utc.timestamp_opt(unix, 0).single().map_or_else(
        || unix.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// The agency mailbox at `address`, if the caller may act as its keeper (decision 3).
fn keeper_of(state: &AdminState, caller: &Caller, address: &str) -> Result<AccountRecord, ApiError> {
    let record = state
        .directory
        .lookup(address)?
        .filter(|record| record.kind == AccountKind::Agency)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{address} không phải hộp thư cơ quan / is not an agency mailbox"),
            )
        })?;
    let allowed = caller.may_act_for(&record.agency)
        || match caller {
            Caller::Account(principal) => state.directory.may_access(principal.account, record.account)?,
            Caller::Bootstrap => false,
        };
    if allowed {
        Ok(record)
    } else {
        Err(forbidden(format!(
            "{} không giữ hộp thư {address} / does not keep the agency mailbox {address}",
            caller.label()
        )))
    }
}

fn already(ack: &PendingAck) -> ApiError {
    let (by, at) = ack
        .acknowledged
        .as_ref()
        .map_or(("?", String::new()), |a| (a.by.as_str(), when(a.at)));
    ApiError::new(
        StatusCode::CONFLICT,
        "exists",
        format!(
            "thư <{0}> đã tiếp nhận trước đó ({by}, {at}) / already acknowledged by {by} at {at}",
            ack.message_id
        ),
    )
}

async fn list(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<AgencyQuery>,
) -> ApiResult<Vec<PendingAck>> {
    blocking(&state, move |s| {
        let agency = keeper_of(s, &caller, &query.agency)?;
        Ok(Json(s.store.acks(Some(agency.account))?))
    })
    .await
}

pub(crate) async fn acknowledge(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<Acknowledge>,
) -> ApiResult<Acknowledged> {
    blocking(&state, move |s| {
        let agency = keeper_of(s, &caller, &request.agency)?;
        let message_id = request.message_id.trim().trim_start_matches('<').trim_end_matches('>').trim();
        if message_id.is_empty() {
            return Err(ApiError::bad_request("message_id: trống / empty"));
        }
        let records = s.store.acks(Some(agency.account))?;
        let mut named = records.iter().filter(|ack| ack.message_id == message_id).peekable();
        if named.peek().is_none() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!(
                    "{0} không có thư <{message_id}> chờ tiếp nhận / {0} has no message <{message_id}> awaiting acknowledgement",
                    agency.address
                ),
            ));
        }
        if let Some(earlier) = named.find(|ack| ack.acknowledged.is_some()) {
            return Err(already(earlier));
        }
        let by = caller.label().to_owned();
        let now = Utc::now().timestamp();
        let record = s
            .store
            .acknowledge(agency.account, message_id, &by, now)?
            .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "conflict", "the record went meanwhile"))?;
        // Another keeper in between: theirs stands (decision 1).
        if record.acknowledged.as_ref().is_none_or(|a| a.by != by || a.at != now) {
            return Err(already(&record));
        }
        let notified = notify(s, &agency, &record, now)?;
        tracing::info!(
            agency = %agency.address,
            by = %by,
            account = agency.account.0,
            notified = %notified,
            "acknowledgement of receipt recorded and sent"
        );
        Ok(Json(Acknowledged { record, notified }))
    })
    .await
}

/// Writes the MDN and hands it on (decision 2); returns whom it went to.
fn notify(
    state: &AdminState,
    agency: &AccountRecord,
    record: &PendingAck,
    now: i64,
) -> Result<String, ApiError> {
    let to = record.notify_to.clone().unwrap_or_else(|| record.sender.clone());
    // The original, when it is still stored, lends its subject and header section.
    let original = match state.store.message(record.mailbox, record.uid) {
        Ok(Some(meta)) => state.store.read_blob(&meta.blob).ok(),
        _ => None,
    };
    let built = mdn::build(&Receipt {
        reporting_host: state.directory.primary_domain(),
        agency: &agency.address,
        agency_name: &agency.display_name,
        to: &to,
        original_message_id: &record.message_id,
        received_at: record.received_at,
        original: original.as_deref(),
        now,
    });
    let local = state.directory.lookup(&to).ok().flatten().map(|r| r.account);
    congvu_relay::send_report(state.store.as_ref(), local, &to, &built).map_err(|error| {
        tracing::error!(agency = %agency.address, %error, "the acknowledgement's MDN was not sent");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!(
                "đã ghi nhận tiếp nhận nhưng chưa gửi được thư báo tới {to} / the acknowledgement is recorded, but its notification to {to} was not sent: {error}"
            ),
        )
    })?;
    if local.is_none() {
        state.queue_waker.wake();
    }
    Ok(to)
}
