//! `GET /mail/events?f=…`: a folder's changes as server-sent events, from the
//! store's change notifications (`MailStore::subscribe`, what wakes IMAP IDLE), so
//! that a message delivered over SMTP shows in an open page without a reload.
//!
//! Each change of the folder is one `change` event whose data is the folder's
//! HIGHESTMODSEQ; the page then fetches the list again. A subscriber that fell
//! behind (`Lagged`) gets one `change` too: it re-reads everything anyway. A comment
//! line every 25 s keeps proxies from closing the stream; the stream ends with the
//! session's expiry check at the next change after the session is gone.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use congvu_directory::Rights;
use tokio::sync::broadcast::error::RecvError;

use super::list::{ListQuery, open};
use super::{WebmailState, blocking, failure};
use crate::http::console::Viewer;

/// `GET /mail/events`.
pub async fn stream(
    State(state): State<WebmailState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = viewer.lang;
    let folder = query.f.unwrap_or_else(|| "INBOX".to_owned());
    let token = viewer.token.expose().clone();
    let task_state = state.clone();
    let opened = blocking(move || open(&task_state, &viewer, &folder, Rights::READ)).await;
    let (target, mailbox) = match opened {
        Ok(opened) => opened,
        Err(error) => return failure(lang, &error),
    };
    let subscription = state.admin.store.subscribe(target.account());
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
                let event = Event::default().event("change").data(modseq.to_string());
                return Some((Ok::<_, Infallible>(event), (subscription, directory, token)));
            }
        },
    );
    Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(25)))
        .into_response()
}
