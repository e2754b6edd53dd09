//! Client autoconfiguration over HTTPS (`[listeners] https`): a mail client given
//! only an address finds the IMAP and submission servers.
//!
//! - Thunderbird autoconfig (`config-v1.1.xml`, the format of
//!   <https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat>) at
//!   `/mail/config-v1.1.xml` and `/.well-known/autoconfig/mail/config-v1.1.xml`,
//!   with or without `?emailaddress=`. With an address outside the mail domain the
//!   answer is 404, so a client does not take settings meant for someone else.
//! - Outlook POX autodiscover: `POST /autodiscover/autodiscover.xml` (any case of
//!   the path Outlook uses), answering the `outlook/responseschema/2006a` schema
//!   with IMAP and SMTP settings.
//! - Autodiscover v2 (`/autodiscover/autodiscover.json?Email=…&Protocol=…`, and the
//!   `/autodiscover/autodiscover.json/v1.0/<address>` form): for the protocol
//!   `AutodiscoverV1`, matched case-insensitively as Outlook varies it, the URL of
//!   the POX endpoint; any other protocol (EWS, ActiveSync, REST) gets the 400
//!   Exchange gives, so Outlook falls back to IMAP.
//!
//! The ports advertised are those of the configured listeners, so dev and deploy
//! configurations both describe themselves. The login name is always the full
//! address (what LOGIN and AUTH accept). Nothing here reads the directory: whether
//! an address exists is not revealed.

use congvu_report::render::escape;
use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Largest POX request body read: a real one is well under 1 KiB.
const MAX_REQUEST_BYTES: usize = 16 * 1024;
const POX_REQUEST_NS: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const POX_RESPONSE_NS: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const POX_OUTLOOK_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// What the answers describe.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The mail domain (`thanhhoa.gov.vn`).
    pub domain: String,
    /// The host name clients connect to (the certificate's name).
    pub hostname: String,
    pub display_name: String,
    /// Implicit-TLS IMAP (993), preferred; else STARTTLS IMAP (143).
    pub imaps_port: Option<u16>,
    pub imap_port: Option<u16>,
    /// Implicit-TLS submission (465), preferred; else STARTTLS submission (587).
    pub submissions_port: Option<u16>,
    pub submission_port: Option<u16>,
}

/// A server endpoint as advertised.
struct Endpoint {
    port: u16,
    /// Implicit TLS (`SSL`) rather than STARTTLS.
    implicit_tls: bool,
}

impl Settings {
    fn incoming(&self) -> Option<Endpoint> {
        pick(self.imaps_port, self.imap_port)
    }

    fn outgoing(&self) -> Option<Endpoint> {
        pick(self.submissions_port, self.submission_port)
    }

    /// True when `address` is in the mail domain (case-insensitively).
    fn covers(&self, address: &str) -> bool {
        address
            .rsplit_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.eq_ignore_ascii_case(&self.domain))
    }
}

fn pick(implicit: Option<u16>, starttls: Option<u16>) -> Option<Endpoint> {
    implicit
        .map(|port| Endpoint {
            port,
            implicit_tls: true,
        })
        .or(starttls.map(|port| Endpoint {
            port,
            implicit_tls: false,
        }))
}

/// Thunderbird's `clientConfig` document. `username` is the address, or the
/// placeholder `%EMAILADDRESS%` that Thunderbird fills in.
pub fn thunderbird_xml(settings: &Settings, username: &str) -> String {
    let server = |kind: &str, tag: &str, endpoint: &Endpoint| {
        let socket = if endpoint.implicit_tls { "SSL" } else { "STARTTLS" };
        format!(
            "    <{tag} type=\"{kind}\">\n      <hostname>{host}</hostname>\n      <port>{port}</port>\n      \
             <socketType>{socket}</socketType>\n      <authentication>password-cleartext</authentication>\n      \
             <username>{user}</username>\n    </{tag}>\n",
            host = escape(&settings.hostname),
            port = endpoint.port,
            user = escape(username),
        )
    };
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  \
         <emailProvider id=\"{domain}\">\n    <domain>{domain}</domain>\n    \
         <displayName>{name}</displayName>\n    <displayShortName>{domain}</displayShortName>\n",
        domain = escape(&settings.domain),
        name = escape(&settings.display_name),
    );
    if let Some(endpoint) = settings.incoming() {
        xml.push_str(&server("imap", "incomingServer", &endpoint));
    }
    if let Some(endpoint) = settings.outgoing() {
        xml.push_str(&server("smtp", "outgoingServer", &endpoint));
    }
    xml.push_str("  </emailProvider>\n</clientConfig>\n");
    xml
}

/// The POX autodiscover answer (`outlook/responseschema/2006a`).
pub fn pox_xml(settings: &Settings, address: &str) -> String {
    let protocol = |kind: &str, endpoint: &Endpoint| {
        // `SSL on` is implicit TLS; STARTTLS is `Encryption TLS` with SSL on.
        let encryption = if endpoint.implicit_tls {
            ""
        } else {
            "        <Encryption>TLS</Encryption>\n"
        };
        format!(
            "      <Protocol>\n        <Type>{kind}</Type>\n        <Server>{host}</Server>\n        \
             <Port>{port}</Port>\n        <DomainRequired>off</DomainRequired>\n        \
             <LoginName>{login}</LoginName>\n        <SPA>off</SPA>\n        <SSL>on</SSL>\n{encryption}        \
             <AuthRequired>on</AuthRequired>\n      </Protocol>\n",
            host = escape(&settings.hostname),
            port = endpoint.port,
            login = escape(address),
        )
    };
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{POX_RESPONSE_NS}\">\n  \
         <Response xmlns=\"{POX_OUTLOOK_NS}\">\n    <Account>\n      <AccountType>email</AccountType>\n      \
         <Action>settings</Action>\n"
    );
    if let Some(endpoint) = settings.incoming() {
        xml.push_str(&protocol("IMAP", &endpoint));
    }
    if let Some(endpoint) = settings.outgoing() {
        xml.push_str(&protocol("SMTP", &endpoint));
    }
    xml.push_str("    </Account>\n  </Response>\n</Autodiscover>\n");
    xml
}

/// The POX error answer for a request that names no address of ours.
fn pox_error(code: u32, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{POX_RESPONSE_NS}\">\n  <Response>\n    \
         <Error Id=\"0\">\n      <ErrorCode>{code}</ErrorCode>\n      <Message>{}</Message>\n    </Error>\n  \
         </Response>\n</Autodiscover>\n",
        escape(message)
    )
}

/// The `EMailAddress` of a POX request. The request is small and fixed in shape,
/// so a text search is enough; the namespace is checked so unrelated XML is refused.
fn pox_request_address(body: &str) -> Option<&str> {
    if !body.contains(POX_REQUEST_NS) {
        return None;
    }
    let start = body.find("<EMailAddress>")? + "<EMailAddress>".len();
    let end = start + body.get(start..)?.find("</EMailAddress>")?;
    Some(body.get(start..end)?.trim())
}

/// A query parameter by name, any case (`Email`, `email`, `emailaddress`).
fn param<'a>(query: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn thunderbird(
    State(settings): State<Arc<Settings>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match param(&query, "emailaddress") {
        Some(address) if !settings.covers(address) => {
            (StatusCode::NOT_FOUND, "not a mail domain served here\n").into_response()
        }
        Some(address) => xml_response(StatusCode::OK, thunderbird_xml(&settings, address)),
        None => xml_response(StatusCode::OK, thunderbird_xml(&settings, "%EMAILADDRESS%")),
    }
}

async fn pox(State(settings): State<Arc<Settings>>, body: String) -> Response {
    match pox_request_address(&body) {
        Some(address) if settings.covers(address) => {
            xml_response(StatusCode::OK, pox_xml(&settings, address))
        }
        // Outlook shows its manual setup on an Autodiscover error, not on a 4xx.
        Some(_) => xml_response(
            StatusCode::OK,
            pox_error(500, "The e-mail address is not served here."),
        ),
        None => xml_response(StatusCode::BAD_REQUEST, pox_error(600, "Invalid Request")),
    }
}

/// Autodiscover v2: the POX URL for `AutodiscoverV1`, the Exchange error otherwise.
fn json_answer(
    settings: &Settings,
    headers: &HeaderMap,
    address: Option<&str>,
    protocol: Option<&str>,
) -> Response {
    let protocol = protocol.unwrap_or_default();
    if !protocol.eq_ignore_ascii_case("AutodiscoverV1") {
        let body = serde_json::json!({
            "ErrorCode": "InvalidProtocol",
            "ErrorMessage": format!("The given protocol value '{protocol}' is invalid. Supported values are 'AutodiscoverV1'"),
        });
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    if !address.is_some_and(|a| settings.covers(a)) {
        return (StatusCode::NOT_FOUND, "not a mail domain served here\n").into_response();
    }
    // The client reached us under `Host`; the POX endpoint is on the same listener.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or(&settings.hostname);
    let body = serde_json::json!({
        "Protocol": "AutodiscoverV1",
        "Url": format!("https://{host}/autodiscover/autodiscover.xml"),
    });
    axum::Json(body).into_response()
}

async fn json_query(
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    json_answer(
        &settings,
        &headers,
        param(&query, "Email"),
        param(&query, "Protocol"),
    )
}

async fn json_path(
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
    Path(address): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    json_answer(&settings, &headers, Some(&address), param(&query, "Protocol"))
}

pub fn router(settings: Settings) -> Router {
    let thunderbird_route = get(thunderbird);
    let pox_route = axum::routing::post(pox).get(pox);
    Router::new()
        .route("/mail/config-v1.1.xml", thunderbird_route.clone())
        .route("/.well-known/autoconfig/mail/config-v1.1.xml", thunderbird_route)
        .route("/autodiscover/autodiscover.xml", pox_route.clone())
        .route("/Autodiscover/Autodiscover.xml", pox_route.clone())
        .route("/AutoDiscover/AutoDiscover.xml", pox_route)
        .route("/autodiscover/autodiscover.json", get(json_query))
        .route("/autodiscover/autodiscover.json/v1.0/{address}", get(json_path))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(Arc::new(settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            domain: "thanhhoa.gov.vn".into(),
            hostname: "mail.thanhhoa.gov.vn".into(),
            display_name: "Thư điện tử công vụ tỉnh Thanh Hóa".into(),
            imaps_port: Some(993),
            imap_port: Some(143),
            submissions_port: None,
            submission_port: Some(587),
        }
    }

    #[test]
    fn thunderbird_document() {
        let xml = thunderbird_xml(&settings(), "%EMAILADDRESS%");
        for needle in [
            "<clientConfig version=\"1.1\">",
            "<emailProvider id=\"thanhhoa.gov.vn\">",
            "<incomingServer type=\"imap\">\n      <hostname>mail.thanhhoa.gov.vn</hostname>\n      <port>993</port>\n      <socketType>SSL</socketType>",
            "<outgoingServer type=\"smtp\">\n      <hostname>mail.thanhhoa.gov.vn</hostname>\n      <port>587</port>\n      <socketType>STARTTLS</socketType>",
            "<username>%EMAILADDRESS%</username>",
            "<displayName>Thư điện tử công vụ tỉnh Thanh Hóa</displayName>",
        ] {
            assert!(xml.contains(needle), "{needle}\n{xml}");
        }
        assert!(thunderbird_xml(&settings(), "a<b@x").contains("<username>a&lt;b@x</username>"));
    }

    #[test]
    fn pox_request_and_answer() {
        let request = format!(
            "<?xml version=\"1.0\"?><Autodiscover xmlns=\"{POX_REQUEST_NS}\"><Request>\
             <EMailAddress>tuanna.sttt@thanhhoa.gov.vn</EMailAddress>\
             <AcceptableResponseSchema>{POX_OUTLOOK_NS}</AcceptableResponseSchema></Request></Autodiscover>"
        );
        assert_eq!(pox_request_address(&request), Some("tuanna.sttt@thanhhoa.gov.vn"));
        for bad in ["", "<EMailAddress>a@b</EMailAddress>", POX_REQUEST_NS] {
            assert_eq!(pox_request_address(bad), None, "{bad}");
        }
        let xml = pox_xml(&settings(), "tuanna.sttt@thanhhoa.gov.vn");
        assert!(xml.contains(
            "<Type>IMAP</Type>\n        <Server>mail.thanhhoa.gov.vn</Server>\n        <Port>993</Port>"
        ));
        assert!(xml.contains("<Port>587</Port>"));
        assert!(xml.contains("<Encryption>TLS</Encryption>"));
        assert!(xml.contains("<LoginName>tuanna.sttt@thanhhoa.gov.vn</LoginName>"));
    }

    #[test]
    fn domain_check() {
        let s = settings();
        assert!(s.covers("a@thanhhoa.gov.vn") && s.covers("A@ThanhHoa.Gov.VN"));
        for other in [
            "a@example.com",
            "@thanhhoa.gov.vn",
            "thanhhoa.gov.vn",
            "a@sub.thanhhoa.gov.vn",
        ] {
            assert!(!s.covers(other), "{other}");
        }
    }
}
