//! Fetching an MTA-STS policy (RFC 8461 §3.3): `GET
//! https://mta-sts.<domain>/.well-known/mta-sts.txt`, the certificate valid for
//! `mta-sts.<domain>` under the configured roots, `200` only (redirects are not
//! followed), `text/plain`, at most 64 KiB.
//!
//! The HTTP/1.1 client is hyper's (already in the build through axum) over
//! tokio-rustls; the name is resolved through [`Resolver`], like every other lookup.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::policy::MAX_POLICY_BYTES;
use crate::resolve::Resolver;

pub type Fetch<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;

/// Where policies come from; tests may substitute their own.
pub trait PolicyFetcher: Send + Sync + 'static {
    /// The policy body of `domain`, or why it could not be had.
    fn fetch<'a>(&'a self, domain: &'a str) -> Fetch<'a>;
}

/// HTTPS from the policy host.
pub struct HttpsFetcher {
    resolver: Arc<dyn Resolver>,
    tls: Arc<rustls::ClientConfig>,
    /// 443; tests serve on another port.
    port: u16,
    timeout: Duration,
}

impl HttpsFetcher {
    /// `tls` must verify the server (built from the configured roots).
    pub fn new(
        resolver: Arc<dyn Resolver>,
        tls: Arc<rustls::ClientConfig>,
        port: u16,
        timeout: Duration,
    ) -> HttpsFetcher {
        HttpsFetcher {
            resolver,
            tls,
            port,
            timeout,
        }
    }

    async fn get(&self, host: &str, addr: SocketAddr) -> Result<Vec<u8>, String> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("{addr}: {e}"))?;
        let name = rustls_pki_types::ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
        let tls = TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| format!("{addr}: TLS: {e}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| format!("{addr}: {e}"))?;
        let driver = tokio::spawn(connection);
        let request = hyper::Request::get("/.well-known/mta-sts.txt")
            .header(hyper::header::HOST, host)
            .header(hyper::header::CONNECTION, "close")
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{addr}: {e}"));
        let result = async {
            let response = response?;
            // RFC 8461 §3.3: no redirects; only 200 is a policy.
            if response.status() != hyper::StatusCode::OK {
                return Err(format!("HTTP status {}", response.status()));
            }
            let content_type = response
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !content_type
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("text/plain")
            {
                return Err(format!("media type {content_type:?}, not text/plain"));
            }
            let body = Limited::new(response.into_body(), MAX_POLICY_BYTES)
                .collect()
                .await
                .map_err(|e| format!("body: {e}"))?;
            Ok(body.to_bytes().to_vec())
        }
        .await;
        driver.abort();
        result
    }
}

impl PolicyFetcher for HttpsFetcher {
    fn fetch<'a>(&'a self, domain: &'a str) -> Fetch<'a> {
        Box::pin(async move {
            let host = format!("mta-sts.{}", domain.trim_end_matches('.'));
            let ips = self.resolver.ips(&host).await.map_err(|e| e.to_string())?;
            let mut last_error = format!("{host}: no address");
            for ip in ips {
                let addr = SocketAddr::new(ip, self.port);
                match tokio::time::timeout(self.timeout, self.get(&host, addr)).await {
                    Ok(Ok(body)) => return Ok(body),
                    Ok(Err(error)) => last_error = format!("{host}: {error}"),
                    Err(_) => last_error = format!("{host} ({addr}): no answer within {:?}", self.timeout),
                }
            }
            Err(last_error)
        })
    }
}
