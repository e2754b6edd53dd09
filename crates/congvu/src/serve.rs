//! `congvu serve`: open the data directory, start every listener, stop cleanly.
//!
//! Start-up order: lock `data_dir` (one process per sled database), open the store and
//! the directory, load or generate TLS material, bind every listener (all or nothing:
//! a port in use stops start-up with its name), write the admin token, then serve.
//!
//! Shutdown (SIGTERM or Ctrl-C): listeners stop accepting, sessions finish or abort
//! their transaction at the next command boundary (a message is acknowledged only once
//! durable, so an aborted one is retried by its sender, never lost), the database is
//! flushed, and the process exits 0 — all within [`SHUTDOWN_GRACE`].

use std::fs::{File, OpenOptions};
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use congvu_directory::{DefaultQuotas, Directory, Secret};
use congvu_store::{MailStore, SledStore};

use crate::admin::{self, AdminState};
use crate::config::Config;
use crate::tls;

/// How long sessions get to finish after SIGTERM before they are cut off.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

pub const LOCK_FILE: &str = "congvu.lock";
pub const TOKEN_FILE: &str = "admin.token";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(
        "another congvu process is using {0} (its lock file is held); stop it first, or use the CLI, \
         which talks to the running server"
    )]
    Locked(PathBuf),
    #[error("cannot open the mail store in {path}: {source}")]
    Store {
        path: PathBuf,
        source: congvu_store::StoreError,
    },
    #[error("cannot open the directory: {0}")]
    Directory(#[from] congvu_directory::DirectoryError),
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen for {name} on {addr}: {source}")]
    Bind {
        name: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot write the admin token {path}: {source}")]
    Token { path: PathBuf, source: std::io::Error },
    #[error("outbound relay: {0}")]
    Relay(String),
    #[error("[inbound_auth]: {0}")]
    InboundAuth(#[from] congvu_mailauth::VerifierError),
    #[error("[smime]: {0}")]
    Smime(#[from] congvu_smime::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The exclusive lock on a data directory; released when dropped (or the process dies).
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, ServeError> {
        // Every official's mail lives below: no other local user may enter (issue 11).
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|source| ServeError::DataDir {
                path: data_dir.to_owned(),
                source,
            })?;
        let path = data_dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .mode(0o600)
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| ServeError::DataDir {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(ServeError::Locked(data_dir.to_owned())),
            Err(std::fs::TryLockError::Error(source)) => Err(ServeError::DataDir { path, source }),
        }
    }
}

/// The opened data directory: what both `serve` and the offline CLI work on.
pub struct Opened {
    pub store: Arc<SledStore>,
    pub directory: Arc<Directory>,
    pub _lock: DataDirLock,
}

pub fn open_data_dir(config: &Config) -> Result<Opened, ServeError> {
    let data_dir = &config.server.data_dir;
    let lock = DataDirLock::acquire(data_dir)?;
    let store =
        Arc::new(
            SledStore::open_with(data_dir, &config.store).map_err(|source| ServeError::Store {
                path: data_dir.clone(),
                source,
            })?,
        );
    let quotas = DefaultQuotas {
        agency_bytes: config.quota.agency.0,
        personal_bytes: config.quota.personal.0,
    };
    let directory = Arc::new(
        Directory::open(store.db(), store.clone(), &config.domain.primary, quotas)?
            .with_settings(crate::directory_cli::settings(config))?
            .with_credential_cache(crate::directory_cli::credential_cache(config))
            .with_password_checks(crate::directory_cli::password_checks(config))
            .with_archiver(Arc::new(crate::archive::MboxArchiver::new(store.clone(), config))),
    );
    Ok(Opened {
        store,
        directory,
        _lock: lock,
    })
}

/// `data_dir/spool`, where arriving mail data waits in unnamed files (0700).
fn spool_dir(data_dir: &Path) -> Result<PathBuf, ServeError> {
    let dir = data_dir.join("spool");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|source| ServeError::DataDir {
            path: dir.clone(),
            source,
        })?;
    Ok(dir)
}

/// The data directory holds every official's mail: `serve` says so when another
/// local user could read it (issue 11). Directories made by the store are 0700 and
/// its files 0600; one loosened by hand is left as it is.
fn warn_loose_modes(data_dir: &Path) {
    match SledStore::loose_modes(data_dir) {
        Ok(loose) => {
            for entry in loose {
                tracing::warn!(
                    path = %entry.path.display(),
                    mode = format!("{:o}", entry.mode),
                    "readable by other local users: chmod 700 for directories, 600 for files"
                );
            }
        }
        Err(error) => tracing::warn!(%error, "cannot check the data directory's permissions"),
    }
}

/// Reads the admin token, creating it (mode 0600) on first start.
pub fn ensure_token(data_dir: &Path) -> Result<Secret<String>, ServeError> {
    let path = data_dir.join(TOKEN_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let token = existing.trim().to_owned();
        if token.len() >= 32 {
            return Ok(Secret::new(token));
        }
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    tls::write_private(&path, format!("{token}\n").as_bytes()).map_err(|source| ServeError::Token {
        path: path.clone(),
        source,
    })?;
    Ok(Secret::new(token))
}

async fn bind(name: &'static str, addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { name, addr, source })
}

pub async fn run(config: Config) -> Result<(), ServeError> {
    tls::install_crypto_provider();
    let opened = open_data_dir(&config)?;
    let data_dir = config.server.data_dir.clone();
    let acceptor = TlsAcceptor::from(tls::server_config(
        &config.tls,
        &data_dir,
        &config.server.hostname,
    )?);
    warn_loose_modes(&data_dir);
    let store: Arc<dyn MailStore> = opened.store.clone();
    let directory = opened.directory.clone();
    let backups = Arc::new(crate::backup::Backups::new(
        config.backup.clone(),
        &config.server.data_dir,
    ));

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut bound = Vec::new();
    let listeners = &config.listeners;

    let policy_metrics = Arc::new(congvu_policy::Metrics::default());
    // Only the MX listener checks senders; no resolver without it.
    let inbound_auth = match (&config.inbound_auth, listeners.smtp) {
        (auth, Some(_)) if auth.enabled => {
            Some(congvu_mailauth::Verifier::new(auth, &config.server.hostname)?)
        }
        _ => None,
    };
    let inbound_auth_metrics = inbound_auth
        .as_ref()
        .map_or_else(Arc::default, congvu_mailauth::Verifier::metrics);
    let antivirus = congvu_antivirus::Scanner::from_config(&config.antivirus);
    if let Some(scanner) = &antivirus {
        // Not fatal: clamd may start after us; each message then gets `on_error`.
        match scanner.ping().await {
            Ok(()) => tracing::info!(clamd = %scanner.address(), "virus scanning with clamd"),
            Err(error) => tracing::warn!(clamd = %scanner.address(), %error, "clamd does not answer PING"),
        }
    }
    let antivirus_metrics = antivirus
        .as_ref()
        .map_or_else(Arc::default, congvu_antivirus::Scanner::metrics);
    // One handle for the relay and everything that queues mail (submission, DSN
    // reports, `queue retry`): the relay sleeps until woken or a retry is due.
    let queue_waker = congvu_relay::QueueWaker::new();
    let smtp_ctx = Arc::new(congvu_smtp::SmtpContext {
        config: congvu_smtp::SmtpConfig {
            hostname: config.server.hostname.clone(),
            spool_dir: spool_dir(&data_dir)?,
            ..config.smtp.clone()
        },
        policy: config.policy.clone(),
        policy_metrics: policy_metrics.clone(),
        store: store.clone(),
        directory: directory.clone(),
        inbound_auth,
        authserv_id: config
            .inbound_auth
            .authserv_id_or(&config.server.hostname)
            .to_owned(),
        smime: Some(Arc::new(congvu_smime::Verifier::new(&config.smime)?)),
        antivirus,
        admission: congvu_listener::Admission::new(config.smtp.limits()),
        memory_budget: congvu_smtp::MemoryBudget::new(config.smtp.spool_memory_mb.saturating_mul(1 << 20)),
        queue_waker: queue_waker.clone(),
        agency_domains: config.routes.iter().flat_map(|r| r.domains.clone()).collect(),
    });
    use congvu_smtp::ListenerKind as Smtp;
    for (name, addr, kind) in [
        ("smtp", listeners.smtp, Smtp::Mx),
        ("submission", listeners.submission, Smtp::Submission),
        ("submissions", listeners.submissions, Smtp::Submissions),
    ] {
        if let Some(addr) = addr {
            let listener = bind(name, addr).await?;
            bound.push((name, listener.local_addr()?));
            tasks.spawn(congvu_smtp::serve(
                listener,
                kind,
                acceptor.clone(),
                smtp_ctx.clone(),
                stop_rx.clone(),
            ));
        }
    }

    let imap_ctx = Arc::new(congvu_imap::ImapContext::new(
        config.imap.clone(),
        store.clone(),
        directory.clone(),
    ));
    use congvu_imap::ListenerKind as Imap;
    for (name, addr, kind) in [
        ("imap", listeners.imap, Imap::Imap),
        ("imaps", listeners.imaps, Imap::Imaps),
    ] {
        if let Some(addr) = addr {
            let listener = bind(name, addr).await?;
            bound.push((name, listener.local_addr()?));
            tasks.spawn(congvu_imap::serve(
                listener,
                kind,
                acceptor.clone(),
                imap_ctx.clone(),
                stop_rx.clone(),
            ));
        }
    }

    if let Some(addr) = listeners.admin {
        // The token exists before the port opens: a client that sees the port can log in.
        let token = ensure_token(&data_dir)?;
        let listener = bind("admin", addr).await?;
        bound.push(("admin", listener.local_addr()?));
        let router = admin::router(Arc::new(AdminState {
            directory: directory.clone(),
            store: store.clone(),
            policy_metrics: policy_metrics.clone(),
            inbound_auth_metrics: inbound_auth_metrics.clone(),
            antivirus_metrics: antivirus_metrics.clone(),
            token,
            backups: backups.clone(),
            jobs: Arc::default(),
            queue_waker: queue_waker.clone(),
            calendar: Arc::new(config.calendar.clone()),
            ack_working_hours: config.compliance.ack_working_hours,
        }));
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stopping| *stopping).await;
            })
            .await
        });
    }

    if let Some(addr) = listeners.https {
        let listener = bind("https", addr).await?;
        bound.push(("https", listener.local_addr()?));
        let port = |addr: Option<SocketAddr>| addr.map(|a| a.port());
        let router = crate::autoconfig::router(crate::autoconfig::Settings {
            domain: config.domain.primary.clone(),
            hostname: config.server.hostname.clone(),
            display_name: format!("Thư điện tử công vụ {}", config.domain.primary),
            imaps_port: port(listeners.imaps),
            imap_port: port(listeners.imap),
            submissions_port: port(listeners.submissions),
            submission_port: port(listeners.submission),
        });
        tasks.spawn(crate::autoconfig::serve(
            listener,
            acceptor.clone(),
            router,
            stop_rx.clone(),
        ));
    }

    // Not in `tasks` either: purging is housekeeping, not a listener.
    tokio::spawn(crate::retention::run(
        directory.clone(),
        store.clone(),
        config.retention.events_days,
        stop_rx.clone(),
    ));
    tokio::spawn(crate::backup::schedule(
        backups.clone(),
        store.clone(),
        directory.clone(),
        stop_rx.clone(),
    ));
    // Not in `tasks`: the worker ending (queue disabled) is no reason to stop.
    let relay = crate::relay::start(&config, store.clone(), queue_waker, stop_rx.clone())?;

    for (name, addr) in &bound {
        tracing::info!(listener = name, addr = %addr, "listening");
    }
    tracing::info!(data_dir = %data_dir.display(), version = env!("CARGO_PKG_VERSION"), "congvu ready");

    let early_exit = tokio::select! {
        signal = shutdown_signal() => { tracing::info!(signal, "shutting down"); None }
        finished = tasks.join_next() => finished,
    };
    let _ = stop_tx.send(true);
    if let Some(finished) = early_exit {
        tracing::error!(result = ?finished, "a listener stopped unexpectedly; shutting down");
    }
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(finished) = tasks.join_next().await {
            if let Ok(Err(error)) = finished {
                tracing::warn!(error = %error, "listener ended with an error");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            sessions = tasks.len(),
            "sessions still running after the grace period: aborting them"
        );
        tasks.abort_all();
    }
    // The worker has its own grace ([queue] shutdown_grace_secs) and stops after it.
    if let Err(error) = relay.await {
        tracing::error!(error = %error, "outbound queue worker failed");
    }
    let flushed = tokio::task::spawn_blocking(move || opened.store.db().flush()).await;
    match flushed {
        Ok(Ok(_)) => tracing::info!("store flushed; stopped"),
        Ok(Err(error)) => tracing::error!(error = %error, "final flush failed"),
        Err(error) => tracing::error!(error = %error, "final flush task failed"),
    }
    Ok(())
}

async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(stream) => stream,
        Err(error) => {
            tracing::error!(error = %error, "cannot watch SIGTERM; only Ctrl-C stops the server");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}
