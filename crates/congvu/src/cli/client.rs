//! How every CLI command reaches the server: a client of the running server's admin
//! API.
//!
//! Each command becomes one admin API call. With the server running, the call goes
//! over HTTP to `[listeners] admin` with the token from `data_dir/admin.token`. With
//! the server stopped (nothing answers and the data directory lock is free), the same
//! router runs in-process on the data directory: sled admits one process per database,
//! so the CLI never opens the store while a server holds it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt;

use congvu_directory::Secret;

use super::progress_bar;
use crate::config::Config;
use crate::data_dir;
use crate::http::admin::jobs::JobView;
use crate::http::admin::{self, AdminState};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The server refused the request: its message is the operator's answer.
    #[error("{message}")]
    Api {
        status: u16,
        kind: String,
        message: String,
    },
    #[error("{0}")]
    Usage(String),
    #[error(
        "the admin API at {addr} did not answer ({detail}) and the data directory is locked by a running server"
    )]
    Unreachable { addr: String, detail: String },
    #[error("cannot read the admin token {path}: {source} (run the CLI as the server's user)")]
    Token { path: String, source: std::io::Error },
    #[error(transparent)]
    DataDir(#[from] data_dir::DataDirError),
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    #[error("kho thư không nhất quán: {0} lỗi / the store is inconsistent: {0} problem(s)")]
    Inconsistent(usize),
    /// A job (backup, import…) ended in an error.
    #[error("{0}")]
    Job(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One admin API call.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Call {
        Call {
            method: Method::GET,
            path: path.into(),
            body: None,
        }
    }
    pub fn post(path: impl Into<String>, body: Value) -> Call {
        Call {
            method: Method::POST,
            path: path.into(),
            body: Some(body),
        }
    }
    pub fn put(path: impl Into<String>, body: Value) -> Call {
        Call {
            method: Method::PUT,
            path: path.into(),
            body: Some(body),
        }
    }
}

/// Runs the call against the running server, or in-process when it is stopped.
pub fn execute<T: DeserializeOwned>(config: &Config, call: Call) -> Result<T, CliError> {
    let (status, body) = execute_raw(config, call)?;
    decode(status, &body)
}

/// [`execute`] for answers that are not JSON (exports, printable forms): the status
/// and the body as sent.
pub fn execute_raw(config: &Config, call: Call) -> Result<(u16, Vec<u8>), CliError> {
    Endpoint::connect(config)?.call(&call)
}

/// [`execute_raw`] for a 2xx answer's body as sent (exports, printable forms,
/// reports); any other status is the API error it carries.
pub fn execute_text(config: &Config, call: Call) -> Result<Vec<u8>, CliError> {
    let (status, body) = execute_raw(config, call)?;
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        decode::<Value>(status, &body).and(Err(CliError::Protocol(format!("HTTP status {status}"))))
    }
}

/// Starts a job (a long operation, `admin::jobs`) and follows it to its end with a
/// progress bar on a terminal; returns its result.
pub fn run_job(config: &Config, call: Call, label: &str) -> Result<Value, CliError> {
    let endpoint = Endpoint::connect(config)?;
    let (status, body) = endpoint.call(&call)?;
    let mut job: JobView = decode(status, &body)?;
    let bar = progress_bar::Bar::new(label);
    loop {
        bar.show(&job.progress);
        if job.done {
            break;
        }
        std::thread::sleep(progress_bar::REFRESH);
        let (status, body) = endpoint.call(&Call::get(format!("/api/v1/jobs/{}", job.id)))?;
        job = decode(status, &body)?;
    }
    bar.finish();
    match job.error {
        Some(error) => Err(CliError::Job(error)),
        None => Ok(job.result.unwrap_or(Value::Null)),
    }
}

pub fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, CliError> {
    if (200..300).contains(&status) {
        let body = if body.is_empty() { b"null".as_slice() } else { body };
        return serde_json::from_slice(body).map_err(|e| CliError::Protocol(e.to_string()));
    }
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| parsed["error"][name].as_str().map(str::to_owned);
    Err(CliError::Api {
        status,
        kind: field("kind").unwrap_or_else(|| "unknown".to_owned()),
        message: field("message").unwrap_or_else(|| format!("HTTP status {status}")),
    })
}

/// Where the CLI's calls go: the running server's admin API, or, with the server
/// stopped, the same router in this process on the data directory (kept open for
/// every call of one command, so a job started by one call runs while the next
/// calls follow it).
enum Endpoint {
    Http {
        agent: ureq::Agent,
        addr: String,
        authorization: String,
    },
    InProcess {
        router: axum::Router,
        authorization: String,
        runtime: tokio::runtime::Runtime,
        opened: data_dir::Opened,
    },
}

impl Endpoint {
    fn connect(config: &Config) -> Result<Endpoint, CliError> {
        let Some(addr) = config.listeners.admin else {
            return Endpoint::in_process(config);
        };
        // Probe first so a stopped server is told apart before the token is needed.
        if let Err(error) = std::net::TcpStream::connect(addr) {
            return Endpoint::in_process(config).map_err(|e| match e {
                CliError::DataDir(data_dir::DataDirError::Locked(_)) => CliError::Unreachable {
                    addr: addr.to_string(),
                    detail: error.to_string(),
                },
                other => other,
            });
        }
        let token_path = config.server.data_dir.join(data_dir::TOKEN_FILE);
        let token = std::fs::read_to_string(&token_path).map_err(|source| CliError::Token {
            path: token_path.display().to_string(),
            source,
        })?;
        Ok(Endpoint::Http {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(std::time::Duration::from_secs(60)))
                .build()
                .into(),
            addr: addr.to_string(),
            authorization: format!("Bearer {}", token.trim()),
        })
    }

    fn in_process(config: &Config) -> Result<Endpoint, CliError> {
        let opened = data_dir::open_data_dir(config)?;
        let token = hex::encode(rand::random::<[u8; 32]>());
        let router = admin::router(Arc::new(AdminState {
            directory: opened.directory.clone(),
            store: opened.store.clone(),
            policy_metrics: Arc::default(),
            inbound_auth_metrics: Arc::default(),
            antivirus_metrics: Arc::default(),
            token: Secret::new(token.clone()),
            backups: Arc::new(crate::backup::Backups::new(
                config.backup.clone(),
                &config.server.data_dir,
            )),
            jobs: Arc::default(),
            queue_waker: Default::default(),
            calendar: Arc::new(config.calendar.clone()),
            ack_working_hours: config.compliance.ack_working_hours,
            listener_metrics: Vec::new(),
            deliveries: Arc::default(),
            data_dir: config.server.data_dir.clone(),
        }));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Endpoint::InProcess {
            router,
            authorization: format!("Bearer {token}"),
            runtime,
            opened,
        })
    }

    fn call(&self, call: &Call) -> Result<(u16, Vec<u8>), CliError> {
        match self {
            Endpoint::Http {
                agent,
                addr,
                authorization,
            } => {
                let request = Request::builder()
                    .method(call.method.clone())
                    .uri(format!("http://{addr}{}", call.path))
                    .header("authorization", authorization)
                    .header("content-type", "application/json")
                    .body(call.body.as_ref().map(Value::to_string).unwrap_or_default())
                    .map_err(|e| CliError::Usage(e.to_string()))?;
                let mut response = agent
                    .run(request)
                    .map_err(|e| CliError::Protocol(e.to_string()))?;
                let status = response.status().as_u16();
                let body = response
                    .body_mut()
                    .read_to_vec()
                    .map_err(|e| CliError::Protocol(e.to_string()))?;
                Ok((status, body))
            }
            Endpoint::InProcess {
                router,
                authorization,
                runtime,
                opened,
            } => {
                let body = match &call.body {
                    Some(value) => Body::from(value.to_string()),
                    None => Body::empty(),
                };
                let request = Request::builder()
                    .method(call.method.clone())
                    .uri(&call.path)
                    .header("authorization", authorization)
                    .header("content-type", "application/json")
                    .body(body)
                    .map_err(|e| CliError::Usage(e.to_string()))?;
                let router = router.clone();
                let (status, bytes) = runtime.block_on(async move {
                    let response = router
                        .oneshot(request)
                        .await
                        .unwrap_or_else(|never| match never {});
                    let status = response.status().as_u16();
                    let bytes = axum::body::to_bytes(response.into_body(), 64 << 20).await;
                    (status, bytes)
                });
                let bytes = bytes.map_err(|e| CliError::Protocol(e.to_string()))?;
                if let Some(sled) = &opened.sled {
                    sled.db().flush().map_err(std::io::Error::from)?;
                }
                Ok((status, bytes.to_vec()))
            }
        }
    }
}

/// Percent-encodes a path segment (addresses contain `@`, which is fine, but a
/// mistyped one may contain anything).
/// A value as pretty JSON on standard output.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Protocol(e.to_string()))?;
    println!("{text}");
    Ok(())
}

pub fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'@' | b'+' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
