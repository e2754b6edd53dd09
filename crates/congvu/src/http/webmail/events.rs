//! `GET /mail/events?f=…`: a folder's changes as server-sent events, from the
//! store's change notifications (`MailStore::subscribe`, what wakes IMAP IDLE), so
//! that a message delivered over SMTP shows in an open page without a reload.
//!
//! Each change of the folder is one `change` event whose data and id are the
//! folder's HIGHESTMODSEQ; the page then fetches the list again. A subscriber that
//! fell behind (`Lagged`) gets one `change` too: it re-reads everything anyway. A
//! comment line every 25 s keeps proxies from closing the stream; the stream ends
//! with the session's expiry check at the next change after the session is gone.
//!
//! Invariant: no change between the page's rendering and the stream is lost. The
//! page names the HIGHESTMODSEQ it showed (`modseq=`), a reconnecting browser the
//! last event's id (`Last-Event-ID`, which wins); when the folder is past it once
//! the subscription is open, the stream starts with one `change`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use congvu_directory::Rights;
use congvu_imap::view::Unresolved;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::list::open;
use super::{WebmailState, blocking, failure};
use crate::http::console::Viewer;

#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    f: Option<String>,
    /// The folder's HIGHESTMODSEQ as the page showed it.
    #[serde(default)]
    modseq: Option<u64>,
}

/// A `change` event for the folder at `modseq` (0: unknown, after a lag).
fn change_event(modseq: u64) -> Event {
    let event = Event::default().event("change").data(modseq.to_string());
    // A reconnecting browser sends the last id it saw back as `Last-Event-ID`; an
    // unknown state sets none, so a reconnection compares from the last known one.
    if modseq == 0 {
        event
    } else {
        event.id(modseq.to_string())
    }
}

/// `GET /mail/events`.
pub async fn stream(
    State(state): State<WebmailState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Response {
    let lang = viewer.lang;
    let folder = query.f.unwrap_or_else(|| "INBOX".to_owned());
    // HTML Living Standard §9.2.4: the id of the last event seen, on reconnection.
    let shown = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok())
        .or(query.modseq);
    let token = viewer.token.expose().clone();
    let task_state = state.clone();
    let opened = blocking(move || open(&task_state, &viewer, &folder, Rights::READ)).await;
    let (target, mailbox) = match opened {
        Ok(opened) => opened,
        Err(error) => return failure(lang, &error),
    };
    let subscription = state.admin.store.subscribe(target.account());
    // Read after subscribing: a change from here on is either in this number or
    // announced to the subscription.
    let store = state.admin.store.clone();
    let now = match blocking(move || store.mailbox(mailbox.id).map_err(Unresolved::from)).await {
        Ok(Some(now)) => now.highestmodseq,
        Ok(None) => return failure(lang, &Unresolved::NoSuchMailbox),
        Err(error) => return failure(lang, &error),
    };
    let missed = shown
        .is_some_and(|shown| now > shown)
        .then(|| Ok::<_, Infallible>(change_event(now)));
    let directory = state.admin.directory.clone();
    let changes = futures_util::stream::unfold(
        (subscription, directory, token),
        move |(mut subscription, directory, token)| async move {
            loop {
                let modseq = match subscription.recv().await {
                    Ok(change) if change.mailbox == mailbox.id => change.modseq,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => 0,
                    Err(RecvError::Closed) => return None,
                };
                // A session that ended (sign-out, password change) ends its stream.
                let lookup = token.clone();
                let directory_task = directory.clone();
                let live = tokio::task::spawn_blocking(move || directory_task.principal(&lookup))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .flatten()
                    .is_some();
                if !live {
                    return None;
                }
                return Some((Ok(change_event(modseq)), (subscription, directory, token)));
            }
        },
    );
    Sse::new(futures_util::stream::iter(missed).chain(changes))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(25)))
        .into_response()
}
