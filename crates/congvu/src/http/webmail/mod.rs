//! The webmail at `/` on the public HTTPS listener (Art. 2.6: the system's web
//! address), for officials without a configured mail client: folders, message
//! lists, reading, writing, searching, in Vietnamese with an English switch.
//!
//! It signs in with the console's session (one login, one cookie, one CSRF rule:
//! `console::session`), and is built the console's way: server-rendered askama
//! templates (`templates/webmail/`), one stylesheet and one script of our own
//! (`static/webmail/`), nothing from outside.
//!
//! ## Invariants
//! 1. **The store's own interface, IMAP's own rules.** Folders resolve, list and
//!    page through `congvu_imap::view` (the names, the delegated agency mailboxes
//!    under `Shared/` and their RFC 4314 rights, the header cache), and every change
//!    is a `MailStore` call — `store_flags`, `move_messages`, `append`, … — so UIDs,
//!    flags and MODSEQ stay one truth: a flag set here wakes a Thunderbird IDLE on
//!    the folder, and the other way round.
//! 2. **One submission path.** Sending runs `congvu_smtp::submit`, a submission
//!    session of port 587 driven in-process: the recipients' checks, the `From:`
//!    rule, the policy, the antivirus, delivery, the queue and the agency's sent copy
//!    are those of SMTP. The page asks the policy (`congvu_policy::evaluate`, the
//!    same configuration) before sending, and shows its own Vietnamese words.
//! 3. **Nothing in a message runs.** Message HTML is sanitised by
//!    `congvu_webmail::sanitize` and shown in a `sandbox` frame served under a CSP of
//!    its own (no script, nothing remote unless the reader asks for that message's
//!    images); every page has the console's CSP. Attachments download with
//!    `Content-Disposition: attachment` and `nosniff`, never rendered by us.
//! 4. **Art. 10 counts webmail too.** Opening an agency's INBOX records an access
//!    event (protocol `webmail`), as SELECT does over IMAP.
//!
//! | path | what |
//! |---|---|
//! | `/` | the INBOX |
//! | `/mail?f=…&sort=…&desc=…&page=…&from=…&subject=…&text=…&since=…&before=…` | a folder, a window of 50, sorted, searched |
//! | `/mail/events?f=…` | the folder's changes as server-sent events |
//! | `/mail/act` (POST) | move, delete, mark read/unread, flag/unflag the selected messages |
//! | `/mail/folders` (POST) | create, rename, delete a folder |
//! | `/mail/message?f=…&uid=…`, `/mail/body?…`, `/mail/part?…&path=…` | read; the sanitised body; an attachment |
//! | `/mail/ack` (POST) | "trả lời đã tiếp nhận" on agency mail (Art. 16.2.a), by the admin API's operation |
//! | `/mail/compose?mode=new/reply/all/forward&f=…&uid=…` | write |
//! | `/mail/check`, `/mail/send`, `/mail/draft` (POST) | the policy's verdict; send; save a draft |
//! | `/mail/addresses?q=…` | directory completion, accents ignored |
//! | `/mail/static/{file}` | the stylesheet and script |

mod assets;
mod compose;
mod events;
mod folders;
mod list;
mod read;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use congvu_directory::AccountRecord;
use congvu_imap::view::Unresolved;

use crate::http::admin::AdminState;
use crate::http::console::{Lang, Viewer};

/// What the webmail works with: the console's state (directory, store, sessions),
/// the IMAP context (its view and header cache) and the SMTP context (submission).
#[derive(Clone)]
pub struct WebmailState {
    pub admin: Arc<AdminState>,
    pub imap: Arc<congvu_imap::ImapContext>,
    pub smtp: Arc<congvu_smtp::SmtpContext>,
}

impl FromRef<WebmailState> for Arc<AdminState> {
    fn from_ref(state: &WebmailState) -> Arc<AdminState> {
        state.admin.clone()
    }
}

/// Messages per page of a list.
pub const PAGE_SIZE: usize = 50;

pub fn router(state: WebmailState) -> Router {
    // A form carries the message's files: as much as SMTP takes, and the form's own
    // fields around them.
    let upload = usize::try_from(state.smtp.config.max_message_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1 << 20);
    Router::new()
        .route("/", get(list::inbox))
        .route("/mail", get(list::page))
        .route("/mail/events", get(events::stream))
        .route("/mail/act", post(list::act))
        .route("/mail/folders", post(folders::change))
        .route("/mail/message", get(read::page))
        .route("/mail/body", get(read::body))
        .route("/mail/part", get(read::part))
        .route("/mail/ack", post(read::acknowledge))
        .route("/mail/compose", get(compose::page))
        .route("/mail/check", post(compose::check))
        .route("/mail/send", post(compose::send))
        .route("/mail/draft", post(compose::draft))
        .route("/mail/addresses", get(compose::addresses))
        .layer(axum::extract::DefaultBodyLimit::max(upload))
        .route("/mail/static/{file}", get(assets::serve))
        .layer(middleware::from_fn(secure_headers))
        .with_state(state)
}

/// The console's headers, with frames of our own allowed: the message body is shown
/// in a sandboxed frame from `/mail/body` (which sets its own, stricter CSP).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

async fn secure_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(axum::http::header::CONTENT_SECURITY_POLICY)
        .or_insert(axum::http::HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    crate::http::console::secure(&mut response);
    response
}

/// Runs blocking store and directory work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Unresolved> + Send + 'static,
) -> Result<T, Unresolved> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(error) => Err(Unresolved::Store(congvu_store::StoreError::Io(
            std::io::Error::other(error.to_string()),
        ))),
    }
}

/// An answer for a failed view or store operation: not found, over quota, or a
/// server error (logged).
pub(crate) fn failure(lang: Lang, error: &Unresolved) -> Response {
    use congvu_store::StoreError;
    let (status, text) = match error {
        Unresolved::NoSuchMailbox | Unresolved::Store(StoreError::NotFound(_)) => (
            StatusCode::NOT_FOUND,
            lang.t("Không có thư mục hoặc thư này.", "No such folder or message."),
        ),
        Unresolved::Store(StoreError::Exists(_)) => (
            StatusCode::CONFLICT,
            lang.t("Đã có thư mục tên này.", "A folder of this name exists."),
        ),
        Unresolved::Store(StoreError::OverQuota { .. }) => (
            StatusCode::INSUFFICIENT_STORAGE,
            lang.t("Hộp thư đã đầy (hết dung lượng).", "The mailbox is full (quota)."),
        ),
        Unresolved::Store(error) if !error.is_server_fault() => (
            StatusCode::BAD_REQUEST,
            lang.t("Không thực hiện được.", "Cannot be done."),
        ),
        other => {
            tracing::error!(error = %other, "webmail operation failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.t("Lỗi máy chủ; đã ghi nhật ký.", "Server error; it was logged."),
            )
        }
    };
    (status, text).into_response()
}

/// The viewer's directory record (what the view resolves names for).
pub(crate) fn account_of(state: &WebmailState, viewer: &Viewer) -> Result<AccountRecord, Unresolved> {
    state
        .admin
        .directory
        .lookup(&viewer.principal.address)?
        .ok_or(Unresolved::NoSuchMailbox)
}
