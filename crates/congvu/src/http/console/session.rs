//! Signing in and out of the console, and who is asking.
//!
//! A console session is a directory session (`Directory::login`, the same as the
//! admin API's, with the same login throttle as IMAP and SMTP); its token travels in
//! the cookie `__Host-congvu_session` — `HttpOnly; Secure; SameSite=Strict; Path=/`,
//! so no script reads it, it never goes over plain HTTP nor with a request another
//! site starts. The session ends at its expiry (`[directory] session_hours`), at
//! sign-out, and when the account's password changes or it is disabled.
//!
//! ## CSRF
//! Every form carries a `csrf` field, checked before anything else:
//! - signed in, it is derived from the session token (SHA-256 of a label and the
//!   token): a page of another site cannot read it, and it dies with the session;
//! - before sign-in (the sign-in and language forms), it is a random value that must
//!   equal the `__Host-congvu_pre` cookie (double submit).
//!
//! A POST whose `Origin` names another site is refused as well.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use congvu_directory::{DirectoryError, Principal, Secret};

use super::frame::{Frame, Lang, Notice, render};
use crate::http::admin::AdminState;
use crate::http::https::ClientAddr;

pub const SESSION_COOKIE: &str = "__Host-congvu_session";
const PRE_COOKIE: &str = "__Host-congvu_pre";
const LANG_COOKIE: &str = "__Host-congvu_lang";
/// A year: the language is a preference, not a secret.
const LANG_MAX_AGE: i64 = 365 * 86_400;

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn set_cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}")
}

/// The language the visitor chose, Vietnamese unless they chose English.
pub fn lang(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::from_code)
        .unwrap_or_default()
}

fn csrf_of_session(token: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"congvu console csrf\0");
    hash.update(token.as_bytes());
    hex::encode(hash.finalize())
}

fn same(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// The CSRF token a form of this visitor must carry, and whether a new pre-session
/// cookie must be set for it.
fn expected_csrf(headers: &HeaderMap) -> (String, bool) {
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        return (csrf_of_session(token), false);
    }
    match cookie(headers, PRE_COOKIE) {
        Some(pre) if pre.len() == 64 && pre.bytes().all(|b| b.is_ascii_hexdigit()) => (pre.to_owned(), false),
        _ => (hex::encode(rand::random::<[u8; 32]>()), true),
    }
}

/// A POST from another site (its `Origin` is not this host) is refused.
fn foreign_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let foreign = origin != format!("https://{host}");
    if foreign {
        tracing::info!(origin, host, "console form from another origin");
    }
    foreign
}

/// A request refused before it is handled: a form with a wrong CSRF token or
/// origin, a page the viewer's role does not open. Small, so that checks can chain;
/// answered as `403` with its text.
pub struct Refused(&'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, self.0).into_response()
    }
}

/// A form whose CSRF token or origin is wrong.
pub fn forbidden_form(lang: Lang) -> Refused {
    Refused(lang.t(
        "Biểu mẫu đã hết hạn hoặc không hợp lệ; hãy tải lại trang và thử lại.",
        "The form expired or is not valid; reload the page and try again.",
    ))
}

/// A page the viewer's role does not open.
pub fn forbidden_page(lang: Lang) -> Refused {
    Refused(lang.t(
        "Vai trò của bạn không được dùng trang này.",
        "Your role does not open this page.",
    ))
}

/// Checks a submitted form's CSRF field (and origin) for this visitor.
pub fn check_csrf(headers: &HeaderMap, presented: &str) -> Result<(), Refused> {
    let (expected, fresh) = expected_csrf(headers);
    if fresh || foreign_origin(headers) || !same(presented, &expected) {
        tracing::info!("console form refused: CSRF token or origin");
        return Err(forbidden_form(lang(headers)));
    }
    Ok(())
}

/// The signed-in official a console page is for. Extracting it redirects to the
/// sign-in page when there is no live session.
pub struct Viewer {
    pub principal: Principal,
    /// The directory's display name.
    pub name: String,
    pub token: Secret<String>,
    pub csrf: String,
    pub lang: Lang,
    pub client: IpAddr,
}

impl Viewer {
    /// This viewer's frame for the page at `path`.
    pub fn frame(&self, path: &str, title: (&'static str, &'static str)) -> Frame {
        Frame::signed_in(
            &self.principal,
            self.name.clone(),
            self.lang,
            self.csrf.clone(),
            path,
            title,
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer
where
    Arc<AdminState>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Viewer, Response> {
        let state = Arc::<AdminState>::from_ref(state);
        // The webmail's pages come back to the webmail after sign-in.
        let webmail = !parts.uri.path().starts_with("/console");
        let to_login = move || {
            let login = if webmail {
                "/console/login?next=/"
            } else {
                "/console/login"
            };
            Redirect::to(login).into_response()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned) else {
            return Err(to_login());
        };
        // Behind the https listener every request has its client's address; a router
        // served without it (tests) counts as loopback.
        let client = parts
            .extensions
            .get::<ConnectInfo<ClientAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |info| info.0.0.ip());
        let directory = state.directory.clone();
        let lookup = token.clone();
        let found = tokio::task::spawn_blocking(move || {
            let Some(principal) = directory.principal(&lookup)? else {
                return Ok::<_, DirectoryError>(None);
            };
            let name = directory
                .lookup(&principal.address)?
                .map_or_else(|| principal.address.clone(), |record| record.display_name);
            Ok(Some((principal, name)))
        })
        .await;
        match found {
            Ok(Ok(Some((principal, name)))) => Ok(Viewer {
                principal,
                name,
                csrf: csrf_of_session(&token),
                token: Secret::new(token),
                lang: lang(&parts.headers),
                client,
            }),
            Ok(Ok(None)) => Err(to_login()),
            Ok(Err(error)) => {
                tracing::error!(error = %error, "console session lookup failed");
                Err((StatusCode::INTERNAL_SERVER_ERROR, "Lỗi máy chủ / server error").into_response())
            }
            Err(error) => {
                tracing::error!(error = %error, "console session lookup task failed");
                Err((StatusCode::INTERNAL_SERVER_ERROR, "Lỗi máy chủ / server error").into_response())
            }
        }
    }
}

#[derive(askama::Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    frame: Frame,
    login: String,
    /// Where to go once signed in: the webmail (`/`) or the console.
    next: &'static str,
}

/// The page a sign-in lands on: the webmail when asked for, else the console.
fn landing(next: Option<&str>) -> &'static str {
    if next == Some("/") { "/" } else { "/console/" }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// `GET /console/login`.
pub async fn login_page(
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<LoginQuery>,
) -> Response {
    let lang = lang(&headers);
    let notice = match query.done.as_deref() {
        Some("password") => Some(Notice::ok(lang.t(
            "Đã đổi mật khẩu. Hãy đăng nhập lại bằng mật khẩu mới.",
            "Password changed. Sign in again with the new password.",
        ))),
        Some("logout") => Some(Notice::ok(lang.t("Đã đăng xuất.", "Signed out."))),
        _ => None,
    };
    let next = landing(query.next.as_deref());
    login_form(&headers, StatusCode::OK, String::new(), next, notice)
}

fn login_form(
    headers: &HeaderMap,
    status: StatusCode,
    login: String,
    next: &'static str,
    notice: Option<Notice>,
) -> Response {
    let lang = lang(headers);
    let (csrf, fresh) = match cookie(headers, PRE_COOKIE) {
        Some(pre) if pre.len() == 64 && pre.bytes().all(|b| b.is_ascii_hexdigit()) => (pre.to_owned(), false),
        _ => (hex::encode(rand::random::<[u8; 32]>()), true),
    };
    let page = LoginPage {
        frame: Frame::anonymous(lang, csrf.clone(), "/console/login", ("Đăng nhập", "Sign in"))
            .with_notice(notice),
        login,
        next,
    };
    let mut response = render(status, &page);
    if fresh && let Ok(value) = set_cookie(PRE_COOKIE, &csrf, 86_400).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    login: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /console/login`: a directory session in the session cookie, then the
/// mailbox page. Wrong credentials say only that they are wrong.
pub async fn login(
    State(state): State<Arc<AdminState>>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang(&headers);
    // Before sign-in the only valid token is the pre-session cookie's.
    let pre_ok = cookie(&headers, PRE_COOKIE).is_some_and(|pre| same(&form.csrf, pre));
    if !pre_ok || foreign_origin(&headers) {
        return forbidden_form(lang).into_response();
    }
    let login = form.login.trim().to_owned();
    let next = landing(form.next.as_deref());
    let password = Secret::new(form.password);
    let directory = state.directory.clone();
    let attempt = login.clone();
    let opened = tokio::task::spawn_blocking(move || directory.login(peer.ip(), &attempt, &password)).await;
    match opened {
        Ok(Ok(Some((token, principal, expires)))) => {
            tracing::info!(address = %principal.address, "console sign-in");
            let max_age = (expires - congvu_directory::unix_now()).max(0);
            let mut response = Redirect::to(next).into_response();
            let headers = response.headers_mut();
            for value in [
                set_cookie(SESSION_COOKIE, token.expose(), max_age),
                set_cookie(PRE_COOKIE, "", 0),
            ] {
                if let Ok(value) = value.parse() {
                    headers.append(header::SET_COOKIE, value);
                }
            }
            response
        }
        Ok(Ok(None)) => login_form(
            &headers,
            StatusCode::UNAUTHORIZED,
            login,
            next,
            Some(Notice::error(
                lang.t("Sai địa chỉ hoặc mật khẩu.", "Wrong address or password."),
            )),
        ),
        Ok(Err(DirectoryError::Throttled { retry_after })) => login_form(
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            login,
            next,
            Some(Notice::error(format!(
                "{} {} {}",
                lang.t(
                    "Đăng nhập sai quá nhiều lần từ máy này; hãy thử lại sau",
                    "Too many failed sign-ins from this computer; try again in",
                ),
                retry_after.as_secs().div_ceil(60),
                lang.t("phút.", "minutes."),
            ))),
        ),
        Ok(Err(error)) => {
            tracing::error!(error = %error, "console sign-in failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Lỗi máy chủ / server error").into_response()
        }
        Err(error) => {
            tracing::error!(error = %error, "console sign-in task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Lỗi máy chủ / server error").into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    pub csrf: String,
}

/// `POST /console/logout`: ends the session (every copy of its cookie dies with it).
pub async fn logout(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(refused) = check_csrf(&headers, &form.csrf) {
        return refused.into_response();
    }
    let directory = state.directory.clone();
    let token = viewer.token.expose().clone();
    if let Ok(Err(error)) = tokio::task::spawn_blocking(move || directory.logout(&token)).await {
        tracing::error!(error = %error, "console sign-out failed");
    }
    tracing::info!(address = %viewer.principal.address, "console sign-out");
    let mut response = Redirect::to("/console/login?done=logout").into_response();
    if let Ok(value) = set_cookie(SESSION_COOKIE, "", 0).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub struct LangForm {
    csrf: String,
    lang: String,
    #[serde(default)]
    back: String,
}

/// `POST /console/lang`: remembers the language and goes back to the page.
pub async fn set_lang(headers: HeaderMap, Form(form): Form<LangForm>) -> Response {
    if let Err(refused) = check_csrf(&headers, &form.csrf) {
        return refused.into_response();
    }
    let Some(chosen) = Lang::from_code(&form.lang) else {
        return (StatusCode::BAD_REQUEST, "vi | en").into_response();
    };
    // Only back to a page of ours: never an open redirect.
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") && !form.back.contains('\\') {
        form.back
    } else {
        "/console/".to_owned()
    };
    let mut response = Redirect::to(&back).into_response();
    if let Ok(value) = set_cookie(LANG_COOKIE, chosen.code(), LANG_MAX_AGE).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn cookies_are_found_by_exact_name_across_headers() {
        let map = headers(&[
            ("cookie", "a=1; __Host-congvu_session=abc"),
            ("cookie", "__Host-congvu_lang=en"),
        ]);
        assert_eq!(cookie(&map, SESSION_COOKIE), Some("abc"));
        assert_eq!(lang(&map), Lang::En);
        assert_eq!(cookie(&map, "congvu_session"), None);
        assert_eq!(lang(&HeaderMap::new()), Lang::Vi);
    }

    #[test]
    fn csrf_follows_the_session_and_refuses_other_origins() {
        let signed_in = headers(&[("cookie", "__Host-congvu_session=tok"), ("host", "mail.test")]);
        let good = csrf_of_session("tok");
        assert!(check_csrf(&signed_in, &good).is_ok());
        assert!(check_csrf(&signed_in, &csrf_of_session("other")).is_err());
        assert!(check_csrf(&signed_in, "").is_err());
        let foreign = headers(&[
            ("cookie", "__Host-congvu_session=tok"),
            ("host", "mail.test"),
            ("origin", "https://evil.example"),
        ]);
        assert!(check_csrf(&foreign, &good).is_err());
        let same_site = headers(&[
            ("cookie", "__Host-congvu_session=tok"),
            ("host", "mail.test"),
            ("origin", "https://mail.test"),
        ]);
        assert!(check_csrf(&same_site, &good).is_ok());
        // Without a session and without the pre-session cookie nothing is valid.
        assert!(check_csrf(&HeaderMap::new(), "").is_err());
        let pre = "ab".repeat(32);
        let anonymous = headers(&[("cookie", &format!("__Host-congvu_pre={pre}"))]);
        assert!(check_csrf(&anonymous, &pre).is_ok());
    }
}
