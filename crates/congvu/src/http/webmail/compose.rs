//! Writing: the compose page (new, reply, reply to all, forward), the policy's
//! verdict before sending, sending through the submission path
//! (`congvu_smtp::submit`, invariant 2 of the module), drafts, and address
//! completion from the directory.
//!
//! The form is `multipart/form-data` (files ride with it, the page shows the
//! upload's progress): `csrf`, `to`, `cc`, `subject`, `body`, `file` (any number),
//! and for replies and forwards `in_reply_to`, `references`, `origin_f`,
//! `origin_uid` and the kept original attachments `keep` (paths); `draft` is the UID
//! of the draft this message replaces in Drafts.
//!
//! After a send, the message goes to the official's `\Sent` (marked `\Seen`), the
//! draft it came from is removed, and a replied message gets `\Answered`. Those
//! come after the `250`: a failure there is logged and told, the mail is gone.

use askama::Template;
use axum::Json;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use congvu_directory::{AccountRecord, Rights};
use congvu_imap::view::Unresolved;
use congvu_policy::{MessageInput, Origin, Verdict, evaluate};
use congvu_store::{Append, FlagOp, FlagStore, Flags, QuotaRule, SpecialUse, Uid};
use congvu_webmail::Mailbox;
use congvu_webmail::compose::{self, Draft, File, parse_addresses};

use super::folders::{Chrome, chrome};
use super::list::open;
use super::{WebmailState, account_of, blocking, failure};
use crate::http::console::{Viewer, check_csrf, lang_of, render};

#[derive(Debug, Default, Deserialize)]
pub struct ComposeQuery {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    f: Option<String>,
    #[serde(default)]
    uid: Option<u32>,
    /// A draft to go on with: its UID in Drafts.
    #[serde(default)]
    draft: Option<u32>,
}

/// An original attachment a forward can carry again.
pub struct Kept {
    pub path: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "webmail/compose.html")]
struct ComposePage {
    chrome: Chrome,
    to: String,
    cc: String,
    subject: String,
    body: String,
    in_reply_to: String,
    references: String,
    origin_f: String,
    origin_uid: String,
    kept: Vec<Kept>,
    draft: String,
    max_bytes: u64,
    /// The addresses the official may send as: their own, then the agency mailboxes
    /// delegated to them with sending (Art. 16.1); the first is chosen.
    senders: Vec<Mailbox>,
    /// The sender chosen: a reply from an agency mailbox goes out as the agency.
    from: String,
}

/// The addresses `user` may send as from the webmail: their own, then each agency
/// mailbox whose delegation grants sending (`send_as`). The submission path checks
/// the same rule again (`Directory::may_submit_as`).
fn senders(state: &WebmailState, user: &AccountRecord) -> Result<Vec<Mailbox>, Unresolved> {
    let directory = &state.admin.directory;
    let mut senders = vec![Mailbox {
        name: user.display_name.clone(),
        address: user.address.clone(),
    }];
    for grant in directory.delegations_for(user.account)? {
        if !grant.send_as {
            continue;
        }
        if let Some(agency) = directory.lookup(&grant.mailbox_address)? {
            senders.push(Mailbox {
                name: agency.display_name,
                address: agency.address,
            });
        }
    }
    Ok(senders)
}

fn addresses_text(list: &[Mailbox]) -> String {
    list.iter().map(Mailbox::display).collect::<Vec<_>>().join(", ")
}

/// `GET /mail/compose`.
pub async fn page(
    State(state): State<WebmailState>,
    viewer: Viewer,
    Query(query): Query<ComposeQuery>,
) -> Response {
    let lang = viewer.lang;
    let me = viewer.principal.address.clone();
    let mode = query.mode.clone().unwrap_or_else(|| "new".to_owned());
    let max_bytes = state.smtp.config.max_message_bytes;
    let loaded = blocking(move || {
        let user = account_of(&state, &viewer)?;
        let title = lang.t("Soạn thư", "Write").to_owned();
        let chrome = chrome(&state, &viewer, &user, "", title, "/mail/compose".to_owned())?;
        let original = match (&query.f, query.uid) {
            (Some(f), Some(uid)) => {
                let (_, mailbox) = open(&state, &viewer, f, Rights::READ)?;
                let uid = Uid::new(uid).ok_or(Unresolved::NoSuchMailbox)?;
                let meta = state
                    .admin
                    .store
                    .message(mailbox.id, uid)?
                    .ok_or(Unresolved::NoSuchMailbox)?;
                Some((f.clone(), uid, state.admin.store.read_blob(&meta.blob)?))
            }
            _ => None,
        };
        let draft = match query.draft.and_then(Uid::new) {
            Some(uid) => {
                let drafts = special_folder(&state, &user, SpecialUse::Drafts)?;
                let meta = state
                    .admin
                    .store
                    .message(drafts.id, uid)?
                    .ok_or(Unresolved::NoSuchMailbox)?;
                Some((uid, state.admin.store.read_blob(&meta.blob)?))
            }
            None => None,
        };
        let senders = senders(&state, &user)?;
        // A reply to mail in a delegated agency mailbox is the agency's answer.
        let from = match &query.f {
            Some(f) => match congvu_imap::view::resolve(&state.admin.directory, &user, f) {
                Ok(target) if senders.iter().any(|s| s.address == target.owner.address) => {
                    target.owner.address
                }
                _ => user.address.clone(),
            },
            None => user.address.clone(),
        };
        Ok((chrome, original, draft, senders, from))
    })
    .await;
    let (chrome, original, draft, senders, from) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(lang, &error),
    };
    let mut page = ComposePage {
        chrome,
        to: String::new(),
        cc: String::new(),
        subject: String::new(),
        body: String::new(),
        in_reply_to: String::new(),
        references: String::new(),
        origin_f: String::new(),
        origin_uid: String::new(),
        kept: Vec::new(),
        draft: String::new(),
        max_bytes,
        senders,
        from,
    };
    if let Some((f, uid, raw)) = original {
        let reading = congvu_webmail::read(&raw, false, &|_| String::new());
        let prepared = match mode.as_str() {
            "forward" => {
                page.kept = reading
                    .attachments
                    .iter()
                    .map(|a| Kept {
                        path: a.path.iter().map(u32::to_string).collect::<Vec<_>>().join("."),
                        name: a.name.clone(),
                    })
                    .collect();
                compose::forward(&reading)
            }
            "all" => compose::reply(&reading, &me, true),
            _ => compose::reply(&reading, &me, false),
        };
        page.to = addresses_text(&prepared.to);
        page.cc = addresses_text(&prepared.cc);
        page.subject = prepared.subject;
        page.body = prepared.text;
        page.in_reply_to = prepared.in_reply_to.unwrap_or_default();
        page.references = prepared.references.join(" ");
        page.origin_f = f;
        page.origin_uid = uid.to_string();
    }
    if let Some((uid, raw)) = draft {
        let reading = congvu_webmail::read(&raw, false, &|_| String::new());
        page.to = addresses_text(&reading.to);
        page.cc = addresses_text(&reading.cc);
        page.subject = reading.subject;
        page.body = reading.text.unwrap_or_default();
        page.draft = uid.to_string();
    }
    render(StatusCode::OK, &page)
}

/// The account's folder of a special use.
fn special_folder(
    state: &WebmailState,
    user: &AccountRecord,
    special: SpecialUse,
) -> Result<congvu_store::MailboxInfo, Unresolved> {
    state
        .admin
        .store
        .list_mailboxes(user.account)?
        .into_iter()
        .find(|m| m.special_use == Some(special))
        .ok_or(Unresolved::NoSuchMailbox)
}

/// The compose form as received.
#[derive(Default)]
pub struct Form {
    csrf: String,
    to: String,
    cc: String,
    subject: String,
    body: String,
    in_reply_to: String,
    references: String,
    origin_f: String,
    origin_uid: String,
    keep: Vec<String>,
    draft: String,
    /// The address to send as (one of [`senders`]); empty: the official's own.
    from: String,
    files: Vec<File>,
}

/// The compose form as a handler's argument: read from the multipart body, its CSRF
/// token (and origin) checked first thing after.
impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Form, Response> {
        let headers = request.headers().clone();
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        read_form(multipart, &headers).await
    }
}

/// Reads the multipart form and checks its CSRF token (and origin); `Err` is the
/// answer for a broken upload or a refused form.
async fn read_form(mut multipart: Multipart, headers: &HeaderMap) -> Result<Form, Response> {
    let lang = lang_of(headers);
    let broken = |error: axum::extract::multipart::MultipartError| {
        tracing::info!(%error, "webmail form unreadable");
        (
            error.status(),
            lang.t(
                "Không đọc được biểu mẫu (tệp quá lớn?).",
                "The form could not be read (file too large?).",
            ),
        )
            .into_response()
    };
    let mut form = Form::default();
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = field.bytes().await.map_err(broken)?;
            // An empty file input sends one part with no name and no bytes.
            if !file_name.is_empty() || !bytes.is_empty() {
                form.files.push(File {
                    name: file_name,
                    content_type,
                    bytes: bytes.to_vec(),
                });
            }
            continue;
        }
        let value = field.text().await.map_err(broken)?;
        match name.as_str() {
            "csrf" => form.csrf = value,
            "to" => form.to = value,
            "cc" => form.cc = value,
            "subject" => form.subject = value,
            "body" => form.body = value,
            "in_reply_to" => form.in_reply_to = value,
            "references" => form.references = value,
            "origin_f" => form.origin_f = value,
            "origin_uid" => form.origin_uid = value,
            "keep" => form.keep.push(value),
            "draft" => form.draft = value,
            "from" => form.from = value,
            _ => {}
        }
    }
    check_csrf(headers, &form.csrf).map_err(IntoResponse::into_response)?;
    Ok(form)
}

/// A problem to fix before sending, in both languages.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub vi: String,
    pub en: String,
}

impl Problem {
    fn new(vi: impl Into<String>, en: impl Into<String>) -> Problem {
        Problem {
            vi: vi.into(),
            en: en.into(),
        }
    }
}

/// The message a form makes, and the recipients; or what must be fixed first.
fn prepare(state: &WebmailState, viewer: &Viewer, form: &Form) -> Result<(Draft, Vec<String>), Unresolved> {
    let user = account_of(state, viewer)?;
    let mut files = form.files.clone();
    if let (false, Ok(uid)) = (form.keep.is_empty(), form.origin_uid.parse::<u32>()) {
        let (_, mailbox) = open(state, viewer, &form.origin_f, Rights::READ)?;
        let uid = Uid::new(uid).ok_or(Unresolved::NoSuchMailbox)?;
        let meta = state
            .admin
            .store
            .message(mailbox.id, uid)?
            .ok_or(Unresolved::NoSuchMailbox)?;
        let raw = state.admin.store.read_blob(&meta.blob)?;
        for path in &form.keep {
            let path: Option<Vec<u32>> = path.split('.').map(|n| n.parse().ok()).collect();
            if let Some(found) = path.and_then(|p| congvu_webmail::attachment(&raw, &p)) {
                files.push(File {
                    name: found.name,
                    content_type: found.content_type,
                    bytes: found.bytes,
                });
            }
        }
    }
    let domain = user.address.split('@').nth(1).unwrap_or("localhost").to_owned();
    // Only an address offered on the page; anything else is the official's own.
    let from = senders(state, &user)?
        .into_iter()
        .find(|s| s.address.eq_ignore_ascii_case(form.from.trim()))
        .unwrap_or(Mailbox {
            name: user.display_name.clone(),
            address: user.address.clone(),
        });
    let draft = Draft {
        from,
        to: parse_addresses(&form.to).unwrap_or_default(),
        cc: parse_addresses(&form.cc).unwrap_or_default(),
        subject: form.subject.trim().to_owned(),
        text: form.body.replace("\r\n", "\n"),
        message_id: format!("{}.webmail@{domain}", hex::encode(rand::random::<[u8; 12]>())),
        in_reply_to: (!form.in_reply_to.trim().is_empty()).then(|| form.in_reply_to.trim().to_owned()),
        references: form.references.split_whitespace().map(str::to_owned).collect(),
        date: chrono::Utc::now().timestamp(),
        files,
    };
    let recipients = draft
        .to
        .iter()
        .chain(&draft.cc)
        .map(|m| m.address.clone())
        .collect();
    Ok((draft, recipients))
}

/// What must be fixed before `form` can go: unreadable addresses, no recipient, and
/// the policy's refusal of the message it makes (its own words). Tags the policy
/// only notes are not problems.
fn problems(state: &WebmailState, form: &Form, raw: &[u8]) -> Vec<Problem> {
    let mut found = Vec::new();
    for field in [&form.to, &form.cc] {
        if let Err(bad) = parse_addresses(field) {
            found.push(Problem::new(
                format!("Địa chỉ không hợp lệ: {bad}"),
                format!("Not a valid address: {bad}"),
            ));
        }
    }
    if parse_addresses(&form.to).is_ok_and(|to| to.is_empty())
        && parse_addresses(&form.cc).is_ok_and(|cc| cc.is_empty())
    {
        found.push(Problem::new("Chưa có người nhận.", "No recipient."));
    }
    let evaluation = evaluate(
        &MessageInput {
            raw,
            origin: Origin::Submission,
        },
        &state.smtp.policy,
    );
    if let Verdict::Refuse(finding) = &evaluation.verdict {
        found.push(Problem::new(finding.text.vi.clone(), finding.text.en.clone()));
    }
    found
}

#[derive(Serialize)]
struct CheckAnswer {
    ok: bool,
    problems: Vec<Problem>,
}

/// `POST /mail/check`: the problems the message would meet, as JSON, so that the page
/// shows them before sending.
pub async fn check(State(state): State<WebmailState>, viewer: Viewer, form: Form) -> Response {
    let lang = viewer.lang;
    let checked = blocking(move || {
        let (draft, _) = prepare(&state, &viewer, &form)?;
        let raw = compose::build(&draft);
        Ok(problems(&state, &form, &raw))
    })
    .await;
    match checked {
        Ok(problems) => Json(CheckAnswer {
            ok: problems.is_empty(),
            problems,
        })
        .into_response(),
        Err(error) => failure(lang, &error),
    }
}

/// `POST /mail/send`.
pub async fn send(State(state): State<WebmailState>, viewer: Viewer, form: Form) -> Response {
    let lang = viewer.lang;
    let client = viewer.client;
    let task_state = state.clone();
    let prepared = blocking(move || {
        let (draft, recipients) = prepare(&task_state, &viewer, &form)?;
        let raw = compose::build(&draft);
        let problems = problems(&task_state, &form, &raw);
        let user = account_of(&task_state, &viewer)?;
        Ok((draft, recipients, raw, problems, user, form, viewer))
    })
    .await;
    let (draft, recipients, raw, problems, user, form, viewer) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => return failure(lang, &error),
    };
    // Problems the page should have shown: no recipient, a bad address. The
    // policy's refusal is left to the submission path, which says the same.
    if let Some(problem) = problems
        .iter()
        .find(|p| p.vi.starts_with("Địa chỉ") || p.vi.starts_with("Chưa có"))
    {
        return (
            StatusCode::BAD_REQUEST,
            lang.t(&problem.vi, &problem.en).to_owned(),
        )
            .into_response();
    }
    let submitted = congvu_smtp::submit(
        state.smtp.clone(),
        congvu_smtp::LocalSubmission {
            submitter: user.clone(),
            client,
            sender: draft.from.address.clone(),
            recipients,
            message: raw.clone(),
        },
    )
    .await;
    if let Err(refused) = submitted {
        let who = refused.recipient.map(|r| format!(" <{r}>")).unwrap_or_default();
        tracing::info!(code = refused.reply.code, "webmail message refused");
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{}{who}: {} {}",
                lang.t("Thư không gửi được", "The message was not sent"),
                refused.reply.code,
                refused.reply.text
            ),
        )
            .into_response();
    }
    let filed = blocking(move || {
        let sent = special_folder(&state, &user, SpecialUse::Sent)?;
        let now = chrono::Local::now();
        state.admin.store.append(
            sent.id,
            &Append {
                bytes: &raw,
                flags: Flags::SEEN,
                keywords: &[],
                internal_date: now.timestamp(),
                internal_date_offset: now.offset().local_minus_utc(),
                // The mail is gone: its record is kept even past the quota.
                quota: QuotaRule::Ignore,
            },
        )?;
        remove_draft(&state, &user, &form.draft)?;
        if let (Some(uid), false) = (
            form.origin_uid.parse().ok().and_then(Uid::new),
            form.in_reply_to.is_empty(),
        ) {
            let (_, mailbox) = open(&state, &viewer, &form.origin_f, Rights::WRITE)?;
            state.admin.store.store_flags(
                mailbox.id,
                &FlagStore {
                    uids: &[uid],
                    op: FlagOp::Add,
                    flags: Flags::ANSWERED,
                    keywords: &[],
                    unchanged_since: None,
                },
            )?;
        }
        Ok(())
    })
    .await;
    if let Err(error) = filed {
        tracing::error!(%error, "webmail: sent, but the Sent copy or the draft was not filed");
    }
    Redirect::to("/?done=sent").into_response()
}

/// Removes the draft a message replaced (its UID in Drafts), if any.
fn remove_draft(state: &WebmailState, user: &AccountRecord, draft: &str) -> Result<(), Unresolved> {
    let Some(uid) = draft.parse().ok().and_then(Uid::new) else {
        return Ok(());
    };
    let drafts = special_folder(state, user, SpecialUse::Drafts)?;
    state.admin.store.store_flags(
        drafts.id,
        &FlagStore {
            uids: &[uid],
            op: FlagOp::Add,
            flags: Flags::DELETED,
            keywords: &[],
            unchanged_since: None,
        },
    )?;
    state.admin.store.expunge(drafts.id, Some(&[uid]))?;
    Ok(())
}

#[derive(Serialize)]
struct DraftAnswer {
    draft: u32,
}

/// `POST /mail/draft`: saves the form in Drafts (`\Draft \Seen`), replacing the draft
/// it came from; answers its new UID.
pub async fn draft(State(state): State<WebmailState>, viewer: Viewer, form: Form) -> Response {
    let lang = viewer.lang;
    let saved = blocking(move || {
        let user = account_of(&state, &viewer)?;
        let (draft, _) = prepare(&state, &viewer, &form)?;
        let raw = compose::build(&draft);
        let drafts = special_folder(&state, &user, SpecialUse::Drafts)?;
        let now = chrono::Local::now();
        let appended = state.admin.store.append(
            drafts.id,
            &Append {
                bytes: &raw,
                flags: Flags::DRAFT.union(Flags::SEEN),
                keywords: &[],
                internal_date: now.timestamp(),
                internal_date_offset: now.offset().local_minus_utc(),
                quota: QuotaRule::Enforce,
            },
        )?;
        remove_draft(&state, &user, &form.draft)?;
        Ok(appended.uid.get())
    })
    .await;
    match saved {
        Ok(uid) => Json(DraftAnswer { draft: uid }).into_response(),
        Err(error) => failure(lang, &error),
    }
}

#[derive(Deserialize)]
pub struct AddressQuery {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
struct Suggestion {
    name: String,
    address: String,
}

/// `GET /mail/addresses?q=…`: up to 10 directory entries, accents ignored ("tuan"
/// finds Tuấn), as JSON for the page's completion list.
pub async fn addresses(
    State(state): State<WebmailState>,
    viewer: Viewer,
    Query(query): Query<AddressQuery>,
) -> Response {
    let lang = viewer.lang;
    if query.q.trim().chars().count() < 2 {
        return Json(Vec::<Suggestion>::new()).into_response();
    }
    let found = blocking(move || Ok(state.admin.directory.search(&query.q, 10)?)).await;
    match found {
        Ok(records) => Json(
            records
                .into_iter()
                .map(|r| Suggestion {
                    name: r.display_name,
                    address: r.address,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(error) => failure(lang, &error),
    }
}
