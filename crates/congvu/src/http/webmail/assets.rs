//! The webmail's stylesheet and script, compiled into the binary (CSP `'self'`).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../../static/webmail/webmail.css");
const JS: &str = include_str!("../../../static/webmail/webmail.js");

/// `GET /mail/static/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "webmail.css" => (CSS, "text/css; charset=utf-8"),
        "webmail.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}
