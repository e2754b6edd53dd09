//! What every console page shares — its language, who is looking, the navigation
//! their role opens, the CSRF token of their forms, a notice — and the headers every
//! console response carries.
//!
//! Text is Vietnamese first: every string a page shows is written in both languages
//! side by side (`frame.t("Đăng nhập", "Sign in")` in a template), so no page can
//! lack its Vietnamese, and the English switch is one cookie.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use congvu_directory::{Principal, Role};

/// Strict: scripts, styles and images from the console itself only; no inline script
/// or style, no frame, no form to elsewhere, no plugin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn is_vietnamese(&self) -> bool {
        *self == Lang::Vi
    }

    /// The text in this language.
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

/// One entry of the navigation.
pub struct NavItem {
    pub href: &'static str,
    pub vi: &'static str,
    pub en: &'static str,
    pub current: bool,
}

/// What a role opens, in the order the bar shows it.
const NAV: [(&str, &str, &str, Role); 11] = [
    ("/console/", "Hộp thư", "Mailbox", Role::Official),
    ("/console/password", "Mật khẩu", "Password", Role::Official),
    ("/console/directory", "Danh bạ", "Directory", Role::Official),
    ("/console/requests", "Yêu cầu", "Requests", Role::Operator),
    ("/console/delegations", "Ủy quyền", "Delegations", Role::Operator),
    ("/console/reports", "Báo cáo", "Reports", Role::Operator),
    ("/console/accounts", "Tài khoản", "Accounts", Role::Administrator),
    ("/console/queue", "Hàng đợi", "Queue", Role::Administrator),
    ("/console/audit", "Nhật ký", "Audit log", Role::Administrator),
    ("/console/backups", "Sao lưu", "Backups", Role::Administrator),
    (
        "/console/dashboard",
        "Tổng quan",
        "Dashboard",
        Role::Administrator,
    ),
];

/// Whether `role` reaches pages meant for `needed` (officials < operators and heads
/// < administrators).
pub fn reaches(role: Role, needed: Role) -> bool {
    let rank = |role: Role| match role {
        Role::Official => 0,
        Role::Operator | Role::Head => 1,
        Role::Administrator => 2,
    };
    rank(role) >= rank(needed)
}

/// The signed-in official, as the header shows them.
pub struct ViewerInfo {
    pub address: String,
    pub name: String,
}

/// A one-line message at the top of a page.
pub struct Notice {
    /// `ok` or `error`: the CSS class, and `error` is announced as an alert.
    pub kind: &'static str,
    pub text: String,
}

impl Notice {
    pub fn ok(text: impl Into<String>) -> Notice {
        Notice {
            kind: "ok",
            text: text.into(),
        }
    }

    pub fn error(text: impl Into<String>) -> Notice {
        Notice {
            kind: "error",
            text: text.into(),
        }
    }
}

/// The parts of a page outside its content.
pub struct Frame {
    pub lang: Lang,
    pub csrf: String,
    pub viewer: Option<ViewerInfo>,
    pub nav: Vec<NavItem>,
    /// The page's own path: the navigation marks it, the language switch comes back.
    pub path: String,
    title: (&'static str, &'static str),
    pub notice: Option<Notice>,
}

impl Frame {
    /// The frame of a signed-in page at `path`.
    pub fn signed_in(
        principal: &Principal,
        name: String,
        lang: Lang,
        csrf: String,
        path: &str,
        title: (&'static str, &'static str),
    ) -> Frame {
        let nav = NAV
            .iter()
            .filter(|(_, _, _, needed)| reaches(principal.role, *needed))
            .map(|&(href, vi, en, _)| NavItem {
                href,
                vi,
                en,
                current: href == path,
            })
            .collect();
        Frame {
            lang,
            csrf,
            viewer: Some(ViewerInfo {
                address: principal.address.clone(),
                name,
            }),
            nav,
            path: path.to_owned(),
            title,
            notice: None,
        }
    }

    /// The frame of the sign-in page.
    pub fn anonymous(lang: Lang, csrf: String, path: &str, title: (&'static str, &'static str)) -> Frame {
        Frame {
            lang,
            csrf,
            viewer: None,
            nav: Vec::new(),
            path: path.to_owned(),
            title,
            notice: None,
        }
    }

    pub fn with_notice(mut self, notice: Option<Notice>) -> Frame {
        self.notice = notice;
        self
    }

    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        self.lang.t(vi, en)
    }

    pub fn title(&self) -> &'static str {
        self.lang.t(self.title.0, self.title.1)
    }
}

/// The CSP of a printable document of ours (a Mẫu, a report) that carries its print
/// layout in one `<style>` block: the console's policy, with that block allowed by
/// its SHA-256 (CSP Level 2 hash source) and nothing else inline.
fn csp_allowing_style_of(html: &str) -> String {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let style = html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map_or("", |(style, _)| style);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes()));
    CONTENT_SECURITY_POLICY.replace("style-src 'self'", &format!("style-src 'sha256-{hash}'"))
}

/// A printable document the admin API answered (a Mẫu, a report), served in the
/// console under the CSP of [`csp_allowing_style_of`] for its own style block.
pub async fn printable(answer: Response) -> Response {
    let (parts, body) = answer.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let csp = csp_allowing_style_of(&String::from_utf8_lossy(&bytes));
    let mut response = Response::from_parts(parts, axum::body::Body::from(bytes));
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// Renders a page; a template that cannot render is a 500, logged.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "console page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Lỗi máy chủ / server error").into_response()
        }
    }
}

/// The headers of every console response (a middleware adds them): the CSP, no
/// sniffing, no framing, no referrer to other sites, and no caching of pages that show
/// personal data.
pub fn secure(response: &mut Response) {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // `same-origin`, not `no-referrer`: browsers then send `Origin: null` on the
    // console's own form posts, which the CSRF check must refuse.
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::CACHE_CONTROL, "no-store");
}
