//! The console's stylesheet and script, compiled into the binary: the console needs
//! no file beside the binary and nothing from outside (CSP `'self'`).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../../static/console/console.css");
const JS: &str = include_str!("../../../static/console/console.js");

/// `GET /console/static/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // Served with the binary that uses them: an hour of caching is safe, and the
    // security headers (no-store) do not override an explicit Cache-Control.
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}
