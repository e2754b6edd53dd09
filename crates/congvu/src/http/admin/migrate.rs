//! Imports from agencies' old servers and exports of mailboxes (issue 12, Art. 2.7,
//! 6.3, 13), as jobs (`jobs`): the server reads the paths it is given (the CLI and
//! the server run on the same machine, as the same user).
//!
//! | method | path | does |
//! |---|---|---|
//! | POST | /api/v1/imports | `{to, source, ignore_quota?}` → job: every folder of the source into the mailbox `to` |
//! | POST | /api/v1/exports | `{address, format: "mbox"|"maildir", to}` → job: every folder with its flags |
//!
//! `source` is one of `{"maildir": PATH}`, `{"mbox": PATH, "folder"?: NAME}` (a file,
//! or a directory of `.mbox` files as an export or a purge archive writes them), or
//! `{"imap": {host, port, security: "tls"|"starttls", user, password, ca_file?}}`.
//! The password travels in the request, as `PUT …/password` does: the CLI reads the
//! operator's password file, so the server never reads a file an API caller names to
//! send its contents to another host.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use congvu_directory::Secret;
use congvu_migrate::imap_source::DEFAULT_CA_FILE;
use congvu_migrate::{
    Format, ImapSource, ImapSourceConfig, ImportOptions, MaildirSource, MboxSource, MigrateError, Security,
    Source,
};
use congvu_store::{AccountId, Progress};
use serde::Deserialize;

use super::jobs::JobView;
use super::{AdminState, ApiError};

pub fn routes() -> Router<Arc<AdminState>> {
    Router::new()
        .route("/api/v1/imports", post(import))
        .route("/api/v1/exports", post(export))
}

/// No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    pub to: String,
    pub source: SourceSpec,
    #[serde(default)]
    pub ignore_quota: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SourceSpec {
    Maildir(PathBuf),
    Mbox { path: PathBuf, folder: Option<String> },
    Imap(ImapSpec),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapSpec {
    pub host: String,
    pub port: u16,
    pub security: SecuritySpec,
    pub user: String,
    pub password: String,
    pub ca_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecuritySpec {
    Tls,
    Starttls,
}

impl SourceSpec {
    /// Opens the source (for IMAP: connects and logs in).
    fn open(self) -> Result<Box<dyn Source>, MigrateError> {
        Ok(match self {
            SourceSpec::Maildir(path) => Box::new(MaildirSource::open(&path)?),
            SourceSpec::Mbox { path, folder } if path.is_dir() => {
                if folder.is_some() {
                    return Err(MigrateError::Invalid(
                        "--folder names the folder of one mbox file, not of a directory of them".into(),
                    ));
                }
                Box::new(MboxSource::tree(&path)?)
            }
            SourceSpec::Mbox { path, folder } => {
                Box::new(MboxSource::file(&path, folder.as_deref().unwrap_or("INBOX"))?)
            }
            SourceSpec::Imap(imap) => {
                let security = match imap.security {
                    SecuritySpec::Tls => Security::ImplicitTls,
                    SecuritySpec::Starttls => Security::StartTls,
                };
                let password = Secret::new(imap.password);
                let mut config = ImapSourceConfig::new(&imap.host, imap.port, security, &imap.user, password);
                config.ca_file = imap.ca_file.unwrap_or_else(|| PathBuf::from(DEFAULT_CA_FILE));
                Box::new(ImapSource::connect(config)?)
            }
        })
    }
}

/// The storage account of a local mailbox address.
fn account_of(state: &AdminState, address: &str) -> Result<AccountId, ApiError> {
    state
        .directory
        .lookup(address)?
        .map(|record| record.account)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("không có hộp thư / no mailbox {address}"),
            )
        })
}

async fn import(
    State(state): State<Arc<AdminState>>,
    Json(request): Json<ImportRequest>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let account = account_of(&state, &request.to)?;
    let worker = state.clone();
    let (to, ignore_quota) = (request.to, request.ignore_quota);
    let job = state.jobs.start("import", move |progress: &Progress| {
        let mut source = request.source.open().map_err(|e| e.to_string())?;
        let report = congvu_migrate::import(
            worker.store.as_ref(),
            account,
            source.as_mut(),
            ImportOptions { ignore_quota },
            progress,
        )
        .map_err(|e| e.to_string())?;
        let imported: u64 = report.folders.iter().map(|f| f.imported).sum();
        tracing::info!(
            to = %to,
            imported,
            folders = report.folders.len(),
            ignored_quota = report.ignored_quota,
            "import done"
        );
        serde_json::to_value(&report).map_err(|e| e.to_string())
    });
    Ok((StatusCode::ACCEPTED, Json(job)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    pub address: String,
    pub format: FormatSpec,
    pub to: PathBuf,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FormatSpec {
    Mbox,
    Maildir,
}

async fn export(
    State(state): State<Arc<AdminState>>,
    Json(request): Json<ExportRequest>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let account = account_of(&state, &request.address)?;
    let format = match request.format {
        FormatSpec::Mbox => Format::Mbox,
        FormatSpec::Maildir => Format::Maildir,
    };
    let worker = state.clone();
    let job = state.jobs.start("export", move |progress: &Progress| {
        let report = congvu_migrate::export(worker.store.as_ref(), account, format, &request.to, progress)
            .map_err(|e| e.to_string())?;
        serde_json::to_value(&report).map_err(|e| e.to_string())
    });
    Ok((StatusCode::ACCEPTED, Json(job)))
}
