//! HTML mail made safe to show (invariant 1 of the crate), by `ammonia`.
//!
//! ammonia parses with html5ever, as a browser would, and writes back only the
//! elements and attributes of its allow-list: scripts, styles, event handlers,
//! forms, frames, `<meta>`, `<base>`, `<svg>` and `<object>` are gone whatever their
//! spelling or encoding. On top of it every URL attribute is judged here:
//! - a link keeps only an absolute `http:`, `https:` or `mailto:` target and opens
//!   in a new page, without a referrer;
//! - an image keeps `cid:` (rewritten to our attachment URL), a `data:` image of a
//!   raster type, and a remote `http(s):` one only when the reader asked for remote
//!   images; otherwise it is dropped and counted ([`Sanitized::remote_blocked`]);
//! - every other URL (relative, protocol-relative `//host`, any other scheme, any
//!   other attribute carrying one) is dropped.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Sanitised HTML and what was held back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sanitized {
    pub html: String,
    /// Remote images removed because the reader has not asked for them.
    pub remote_blocked: usize,
}

/// Image types a `data:` URL may carry (no SVG: it is a document).
const DATA_IMAGES: [&str; 4] = [
    "data:image/png",
    "data:image/jpeg",
    "data:image/gif",
    "data:image/webp",
];

fn is_remote(lower: &str) -> bool {
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//")
}

/// `html` sanitised; `inline` maps Content-IDs to our URLs of those parts.
pub fn sanitize(html: &str, allow_remote: bool, inline: &[(String, String)]) -> Sanitized {
    let blocked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&blocked);
    let inline: Vec<(String, String)> = inline.to_vec();
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto", "cid", "data"]))
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .attribute_filter(move |element, attribute, value| {
            let trimmed = value.trim();
            let lower = trimmed.to_ascii_lowercase();
            match (element, attribute) {
                ("a", "href") => {
                    let kept = lower.starts_with("http://")
                        || lower.starts_with("https://")
                        || lower.starts_with("mailto:");
                    kept.then_some(Cow::Borrowed(value))
                }
                ("img", "src") => {
                    if let Some(cid) = lower.strip_prefix("cid:") {
                        let cid = cid.trim_matches(['<', '>']);
                        return inline
                            .iter()
                            .find(|(id, _)| id.eq_ignore_ascii_case(cid))
                            .map(|(_, url)| Cow::Owned(url.clone()));
                    }
                    if DATA_IMAGES.iter().any(|prefix| lower.starts_with(prefix)) {
                        return Some(Cow::Borrowed(value));
                    }
                    if is_remote(&lower) {
                        if allow_remote && !lower.starts_with("//") {
                            return Some(Cow::Borrowed(value));
                        }
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    None
                }
                (_, "src" | "href" | "cite" | "longdesc" | "background" | "poster" | "srcset" | "action") => {
                    None
                }
                _ => Some(Cow::Borrowed(value)),
            }
        });
    let html = builder.clean(html).to_string();
    Sanitized {
        html,
        remote_blocked: blocked.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        sanitize(html, false, &[("logo@x".into(), "/part/3".into())]).html
    }

    #[test]
    fn scripts_handlers_and_foreign_urls_are_gone() {
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"JaVaScRiPt&colon;alert(1)\">x</a>",
            "<svg onload=alert(1)><script>alert(1)</script></svg>",
            "<iframe src=\"https://evil.example/\"></iframe>",
            "<form action=\"https://evil.example/\"><input name=p></form>",
            "<meta http-equiv=refresh content=\"0;url=https://evil.example/\">",
            "<div style=\"background:url(https://evil.example/t.gif)\">x</div>",
            "<style>body{background:url(https://evil.example/t.gif)}</style>",
            "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
            "<img src=\"//evil.example/t.gif\">",
            "<object data=\"https://evil.example/x.swf\"></object>",
            "<base href=\"https://evil.example/\">",
            "<link rel=stylesheet href=\"https://evil.example/s.css\">",
        ] {
            let out = clean(hostile);
            let lower = out.to_ascii_lowercase();
            for banned in [
                "script",
                "onerror",
                "onload",
                "javascript",
                "evil.example",
                "<iframe",
                "<form",
                "<meta",
                "style",
                "data:text",
            ] {
                assert!(!lower.contains(banned), "{hostile} gave {out}");
            }
        }
    }

    #[test]
    fn remote_images_wait_for_the_reader_and_inline_ones_point_home() {
        let html = "<p>Xin chào</p><img src=\"https://tracker.example/p.gif\"><img src=\"cid:logo@x\"><img src=\"data:image/png;base64,iVBORw0KGgo=\">";
        let blocked = sanitize(html, false, &[("logo@x".into(), "/part/3".into())]);
        assert_eq!(blocked.remote_blocked, 1);
        assert!(!blocked.html.contains("tracker.example"));
        assert!(blocked.html.contains("src=\"/part/3\""));
        assert!(blocked.html.contains("data:image/png"));
        assert!(blocked.html.contains("Xin chào"));
        let allowed = sanitize(html, true, &[]);
        assert_eq!(allowed.remote_blocked, 0);
        assert!(allowed.html.contains("https://tracker.example/p.gif"));
    }

    #[test]
    fn links_open_apart_without_a_referrer() {
        let out = clean("<a href=\"https://thanhhoa.gov.vn/\">Cổng</a>");
        assert!(out.contains("href=\"https://thanhhoa.gov.vn/\""), "{out}");
        assert!(out.contains("rel=\"noopener noreferrer\""), "{out}");
        assert!(out.contains("target=\"_blank\""), "{out}");
        assert!(!clean("<a href=\"/relative\">x</a>").contains("href"));
    }
}
