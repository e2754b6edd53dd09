//! Reading one message: the page (header fields, text, attachments, forwarded
//! messages, the S/MIME badge), the sanitised HTML body in its sandboxed frame, and
//! the attachments.
//!
//! Opening a message marks it `\Seen` when the folder grants `s` (RFC 3501 §6.4.5:
//! what `BODY[]` does over IMAP).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use congvu_directory::Rights;
use congvu_imap::view::Unresolved;
use congvu_store::{FlagOp, FlagStore, Flags, MessageMeta, Uid};
use congvu_webmail::{Mailbox, Reading};

use super::folders::{Chrome, chrome, encode};
use super::list::{open, record_agency_access};
use super::{WebmailState, account_of, blocking, failure};
use crate::http::console::{Lang, Viewer, local_time, render};

/// The frame's CSP: nothing runs, nothing submits, images only from us and
/// `data:` — and from anywhere only when the reader asked for this message's
/// remote images. `sandbox` without `allow-scripts` or `allow-same-origin`.
const BODY_CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'none'; \
     frame-ancestors 'self'; base-uri 'none'; sandbox allow-popups allow-popups-to-escape-sandbox";
const BODY_CSP_REMOTE: &str = "default-src 'none'; img-src 'self' data: https: http:; style-src 'self'; \
     form-action 'none'; frame-ancestors 'self'; base-uri 'none'; sandbox allow-popups \
     allow-popups-to-escape-sandbox";

#[derive(Debug, Deserialize)]
pub struct MessageQuery {
    f: String,
    uid: u32,
    /// `1`: show this message's remote images.
    #[serde(default)]
    remote: Option<u8>,
    /// An attachment's path, `2.1`.
    #[serde(default)]
    path: Option<String>,
    /// `ack`: the acknowledgement was sent.
    #[serde(default)]
    done: Option<String>,
}

impl MessageQuery {
    /// `f=…&uid=…`, the message's part of this page's links.
    fn base(&self) -> String {
        format!("f={}&uid={}", encode(&self.f), self.uid)
    }
}

/// One attachment line.
pub struct AttachmentLine {
    pub name: String,
    pub content_type: String,
    pub size: String,
    pub href: String,
}

/// A message (or a forwarded one inside it) as the page lays it out.
pub struct Shown {
    pub subject: String,
    pub from: String,
    pub to: String,
    pub cc: String,
    pub date: String,
    pub text: Option<String>,
    /// The frame's URL when there is an HTML body.
    pub frame: Option<String>,
    pub remote_blocked: usize,
    pub remote_href: String,
    pub attachments: Vec<AttachmentLine>,
    pub forwarded: Vec<Shown>,
}

#[derive(Template)]
#[template(path = "webmail/message.html")]
struct MessagePage {
    chrome: Chrome,
    folder: String,
    folder_href: String,
    /// This page, for the flag buttons to come back to.
    back: String,
    uid: u32,
    shown: Shown,
    flagged: bool,
    smime: Option<(bool, String)>,
    writable: bool,
    reply_href: String,
    reply_all_href: String,
    forward_href: String,
    /// Art. 16.2.a on agency mail awaiting it: `Some(None)` pending, `Some(Some(text))`
    /// acknowledged (by whom, when).
    ack: Option<Option<String>>,
    notice: Option<String>,
}

fn names(list: &[Mailbox]) -> String {
    list.iter().map(Mailbox::display).collect::<Vec<_>>().join(", ")
}

fn path_text(path: &[u32]) -> String {
    path.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
}

fn parse_path(text: &str) -> Option<Vec<u32>> {
    let path: Option<Vec<u32>> = text.split('.').map(|n| n.parse().ok()).collect();
    path.filter(|p| !p.is_empty() && p.len() <= 8)
}

fn shown(lang: Lang, reading: &Reading, base: &str, remote: bool, at: &[u32]) -> Shown {
    let part_href = |path: &[u32]| format!("/mail/part?{base}&path={}", path_text(path));
    let html_frame = reading.html.as_ref().map(|_| {
        let mut url = format!("/mail/body?{base}");
        if !at.is_empty() {
            url.push_str(&format!("&path={}", path_text(at)));
        }
        if remote {
            url.push_str("&remote=1");
        }
        url
    });
    Shown {
        subject: if reading.subject.trim().is_empty() {
            lang.t("(không có tiêu đề)", "(no subject)").to_owned()
        } else {
            reading.subject.clone()
        },
        from: names(&reading.from),
        to: names(&reading.to),
        cc: names(&reading.cc),
        date: reading.date.map(local_time).unwrap_or_default(),
        text: if reading.html.is_some() {
            None
        } else {
            reading.text.clone()
        },
        frame: html_frame,
        remote_blocked: reading.html.as_ref().map_or(0, |h| h.remote_blocked),
        remote_href: format!("/mail/message?{base}&remote=1"),
        attachments: reading
            .attachments
            .iter()
            .map(|a| AttachmentLine {
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                size: format!("{} KB", a.size.div_ceil(1024)),
                href: part_href(&a.path),
            })
            .collect(),
        forwarded: reading
            .forwarded
            .iter()
            .map(|(path, inner)| shown(lang, inner, base, remote, path))
            .collect(),
    }
}

/// The message `uid` of folder `f` and its bytes; marks it seen when `mark_seen`
/// and the folder allows.
fn load(
    state: &WebmailState,
    viewer: &Viewer,
    folder: &str,
    uid: u32,
    mark_seen: bool,
) -> Result<(congvu_imap::view::Target, MessageMeta, Vec<u8>), Unresolved> {
    let (target, mailbox) = open(state, viewer, folder, Rights::READ)?;
    let uid = Uid::new(uid).ok_or(Unresolved::NoSuchMailbox)?;
    let store = &state.admin.store;
    let meta = store.message(mailbox.id, uid)?.ok_or(Unresolved::NoSuchMailbox)?;
    let raw = store.read_blob(&meta.blob)?;
    if mark_seen && target.rights.contains(Rights::SEEN) && !meta.flags.contains(Flags::SEEN) {
        store.store_flags(
            mailbox.id,
            &FlagStore {
                uids: &[uid],
                op: FlagOp::Add,
                flags: Flags::SEEN,
                keywords: &[],
                unchanged_since: None,
            },
        )?;
    }
    Ok((target, meta, raw))
}

/// The S/MIME result our server recorded (`Authentication-Results:` in our name with
/// `smime=`, RFC 7281; forged ones were removed on the way in): whether it passed,
/// and the result with its reason as written.
fn smime_badge(raw: &[u8], authserv_id: &str) -> Option<(bool, String)> {
    let header_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
    let header = String::from_utf8_lossy(&raw[..header_end])
        .replace("\r\n\t", " ")
        .replace("\r\n ", " ");
    header.split("\r\n").find_map(|field| {
        let (name, value) = field.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case("authentication-results") {
            return None;
        }
        let (id, results) = value.trim().split_once(';')?;
        if !id.trim().eq_ignore_ascii_case(authserv_id) {
            return None;
        }
        let result = results.split_once("smime=")?.1.trim();
        let result = result.split(';').next().unwrap_or(result).trim().to_owned();
        Some((result.starts_with("pass"), result))
    })
}

/// `GET /mail/message`.
pub async fn page(
    State(state): State<WebmailState>,
    viewer: Viewer,
    Query(query): Query<MessageQuery>,
) -> Response {
    let lang = viewer.lang;
    let base = query.base();
    let remote = query.remote == Some(1);
    let folder = query.f.clone();
    let path = format!("/mail/message?{base}");
    let authserv_id = state
        .smtp
        .inbound_auth
        .as_ref()
        .map_or(state.smtp.authserv_id.clone(), |v| v.authserv_id().to_owned());
    let loaded = blocking(move || {
        let (target, meta, raw) = load(&state, &viewer, &folder, query.uid, true)?;
        record_agency_access(&state, &viewer, &target)?;
        let user = account_of(&state, &viewer)?;
        let title = lang.t("Đọc thư", "Read").to_owned();
        let chrome = chrome(&state, &viewer, &user, &folder, title, path)?;
        let ack = if target.owner.kind == congvu_store::AccountKind::Agency {
            state
                .admin
                .store
                .acks(Some(target.account()))?
                .into_iter()
                .find(|ack| ack.uid == meta.uid)
                .map(|ack| {
                    ack.acknowledged
                        .map(|a| format!("{}, {}", a.by, local_time(a.at)))
                })
        } else {
            None
        };
        Ok((target, meta, raw, chrome, ack))
    })
    .await;
    let (target, meta, raw, chrome, ack) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(lang, &error),
    };
    let reading = congvu_webmail::read(&raw, remote, &|_| String::new());
    let compose = |mode: &str| format!("/mail/compose?mode={mode}&{base}");
    let page = MessagePage {
        folder_href: format!("/mail?f={}", encode(&query.f)),
        back: format!("/mail/message?{base}"),
        folder: query.f.clone(),
        uid: query.uid,
        shown: shown(lang, &reading, &base, remote, &[]),
        flagged: meta.flags.contains(Flags::FLAGGED),
        smime: smime_badge(&raw, &authserv_id),
        writable: target.rights.contains(Rights::WRITE),
        reply_href: compose("reply"),
        reply_all_href: compose("all"),
        forward_href: compose("forward"),
        ack,
        notice: (query.done.as_deref() == Some("ack")).then(|| {
            lang.t(
                "Đã gửi trả lời đã tiếp nhận.",
                "The acknowledgement of receipt was sent.",
            )
            .to_owned()
        }),
        chrome,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct AckForm {
    csrf: String,
    f: String,
    uid: u32,
}

/// `POST /mail/ack`: "trả lời đã tiếp nhận" (Art. 16.2.a) on a message of an agency
/// mailbox, by the admin API's own operation as the signed-in keeper: the same
/// checks (who keeps the mailbox, the first acknowledgement wins), the same MDN and
/// the same record as the console, the API and a mail client's MDN.
pub async fn acknowledge(
    State(state): State<WebmailState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<AckForm>,
) -> Response {
    if let Err(refused) = crate::http::console::check_csrf(&headers, &form.csrf) {
        return refused.into_response();
    }
    let lang = viewer.lang;
    let principal = viewer.principal.clone();
    let task_state = state.clone();
    let folder = form.f.clone();
    let loaded = blocking(move || {
        let (target, _, raw) = load(&task_state, &viewer, &folder, form.uid, false)?;
        let message_id = congvu_webmail::read(&raw, false, &|_| String::new()).message_id;
        Ok((target.owner.address, message_id))
    })
    .await;
    let (agency, message_id) = match loaded {
        Ok((agency, Some(message_id))) => (agency, message_id),
        Ok((_, None)) => return (StatusCode::BAD_REQUEST, "Message-ID?").into_response(),
        Err(error) => return failure(lang, &error),
    };
    let done = crate::http::admin::ack::acknowledge(
        State(state.admin.clone()),
        axum::Extension(crate::http::admin::auth::Caller::Account(principal)),
        axum::Json(crate::http::admin::ack::Acknowledge { agency, message_id }),
    )
    .await;
    match done {
        Ok(_) => axum::response::Redirect::to(&format!(
            "/mail/message?f={}&uid={}&done=ack",
            encode(&form.f),
            form.uid
        ))
        .into_response(),
        Err(error) => crate::http::console::api_failure(lang, &error),
    }
}

#[derive(Template)]
#[template(path = "webmail/body.html")]
struct BodyDocument {
    html: String,
}

/// `GET /mail/body`: the sanitised HTML of the message (or of the forwarded message
/// at `path`), for the page's sandboxed frame, under [`BODY_CSP`].
pub async fn body(
    State(state): State<WebmailState>,
    viewer: Viewer,
    Query(query): Query<MessageQuery>,
) -> Response {
    let lang = viewer.lang;
    let base = query.base();
    let remote = query.remote == Some(1);
    let folder = query.f.clone();
    let loaded = blocking(move || load(&state, &viewer, &folder, query.uid, false)).await;
    let raw = match loaded {
        Ok((_, _, raw)) => raw,
        Err(error) => return failure(lang, &error),
    };
    // Inline images travel inside the frame's document as `data:` URLs: the
    // sandboxed frame has no origin, so it could not fetch them with the session.
    let _ = base;
    let inline = |path: &[u32]| inline_image(&raw, path);
    let mut reading = congvu_webmail::read(&raw, remote, &inline);
    if let Some(path) = query.path.as_deref().and_then(parse_path) {
        match reading.forwarded.iter().find(|(at, _)| *at == path) {
            Some((_, inner)) => reading = inner.clone(),
            None => return StatusCode::NOT_FOUND.into_response(),
        }
    }
    let html = reading.html.map(|h| h.html).unwrap_or_default();
    let mut response = match (BodyDocument { html }).render() {
        Ok(document) => Html(document).into_response(),
        Err(error) => {
            tracing::error!(%error, "message body did not render");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let headers = response.headers_mut();
    let csp = if remote { BODY_CSP_REMOTE } else { BODY_CSP };
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    // Remote images, once allowed, are fetched without telling their site where from.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// An inline image of `raw` as a `data:` URL; an empty URL (no image) for
/// anything that is not a raster image.
fn inline_image(raw: &[u8], path: &[u32]) -> String {
    use base64::Engine as _;
    match congvu_webmail::attachment(raw, path) {
        Some(image)
            if ["image/png", "image/jpeg", "image/gif", "image/webp"]
                .contains(&image.content_type.as_str()) =>
        {
            format!(
                "data:{};base64,{}",
                image.content_type,
                base64::engine::general_purpose::STANDARD.encode(&image.bytes)
            )
        }
        _ => String::new(),
    }
}

/// RFC 6266 with RFC 8187: the Vietnamese name in `filename*`, an ASCII fallback in
/// `filename`.
fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_. ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// `GET /mail/part`: one attachment, always downloaded (never shown inline by us:
/// `attachment` and `nosniff`), as its type but never as HTML. Inline images of the
/// HTML frame come from here too: an `<img>` loads an attachment response.
pub async fn part(
    State(state): State<WebmailState>,
    viewer: Viewer,
    Query(query): Query<MessageQuery>,
) -> Response {
    let lang = viewer.lang;
    let Some(path) = query.path.as_deref().and_then(parse_path) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let folder = query.f.clone();
    let loaded = blocking(move || load(&state, &viewer, &folder, query.uid, false)).await;
    let raw = match loaded {
        Ok((_, _, raw)) => raw,
        Err(error) => return failure(lang, &error),
    };
    let Some(download) = congvu_webmail::attachment(&raw, &path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Only raster images keep their type (the HTML frame shows them); anything
    // that a browser could run or render as a document goes as bytes.
    let content_type = match download.content_type.as_str() {
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => download.content_type.clone(),
        _ => "application/octet-stream".to_owned(),
    };
    let mut response = download.bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&download.name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not to be embedded by another site.
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_survive_the_header() {
        assert_eq!(
            content_disposition("Báo cáo \"quý\".pdf"),
            "attachment; filename=\"B_o c_o _qu__.pdf\"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20%22qu%C3%BD%22.pdf"
        );
        assert_eq!(parse_path("2.1"), Some(vec![2, 1]));
        assert_eq!(parse_path(""), None);
        assert_eq!(parse_path("1..2"), None);
        let signed = b"Authentication-Results: mail.test;\r\n\tsmime=pass (signature verified)\r\n\r\nx";
        assert_eq!(
            smime_badge(signed, "mail.test"),
            Some((true, "pass (signature verified)".to_owned()))
        );
        assert_eq!(smime_badge(signed, "other.test"), None);
        assert_eq!(
            smime_badge(
                b"Subject: x\r\n\r\nAuthentication-Results: mail.test; smime=pass",
                "mail.test"
            ),
            None
        );
    }
}
