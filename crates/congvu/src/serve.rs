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

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use congvu_directory::Secret;
use congvu_store::MailStore;

use crate::config::Config;
use crate::data_dir::{DataDirError, ensure_token, open_data_dir, spool_dir, warn_loose_modes};
use crate::http::admin::{self, AdminState};
use crate::tls;

/// How long sessions get to finish after SIGTERM before they are cut off.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    DataDir(#[from] DataDirError),
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
    #[error(transparent)]
    Relay(#[from] crate::relay::StartError),
    #[error("[inbound_auth]: {0}")]
    InboundAuth(#[from] congvu_mailauth::VerifierError),
    #[error("[smime]: {0}")]
    Smime(#[from] congvu_smime::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
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

    // Not in `tasks`: the worker ending (queue disabled) is no reason to stop.
    let (relay, deliveries) =
        crate::relay::start(&config, store.clone(), queue_waker.clone(), stop_rx.clone())?;

    // One state for the admin API, /metrics and the console: one implementation of
    // every operation behind the three.
    let token = match listeners.admin {
        // The token exists before the port opens: a client that sees the port can log in.
        Some(_) => ensure_token(&data_dir)?,
        // No admin listener: no token to present, none accepted.
        None => Secret::new(hex::encode(rand::random::<[u8; 32]>())),
    };
    let admin_state = Arc::new(AdminState {
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
        listener_metrics: vec![
            smtp_ctx.admission.metrics().clone(),
            imap_ctx.listener_metrics().clone(),
        ],
        deliveries,
        data_dir: data_dir.clone(),
    });

    if let Some(addr) = listeners.admin {
        let listener = bind("admin", addr).await?;
        bound.push(("admin", listener.local_addr()?));
        let router = admin::router(admin_state.clone());
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
        let router = crate::http::autoconfig::router(crate::http::autoconfig::Settings {
            domain: config.domain.primary.clone(),
            hostname: config.server.hostname.clone(),
            display_name: format!("Thư điện tử công vụ {}", config.domain.primary),
            imaps_port: port(listeners.imaps),
            imap_port: port(listeners.imap),
            submissions_port: port(listeners.submissions),
            submission_port: port(listeners.submission),
        })
        .merge(crate::http::console::router(admin_state.clone()))
        .merge(crate::http::webmail::router(crate::http::webmail::WebmailState {
            admin: admin_state.clone(),
            imap: imap_ctx.clone(),
            smtp: smtp_ctx.clone(),
        }));
        tasks.spawn(crate::http::https::serve(
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
        crate::retention::Housekeeping {
            events_days: config.retention.events_days,
            hostname: config.server.hostname.clone(),
            filing_reminder_days: config.directory.filing_reminder_days,
            late_filing_days: config.directory.late_filing_days,
        },
        stop_rx.clone(),
    ));
    tokio::spawn(crate::backup::schedule(
        backups.clone(),
        store.clone(),
        directory.clone(),
        stop_rx.clone(),
    ));
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
    // PostgreSQL made every write durable at its commit; sled flushes now.
    let flushed = tokio::task::spawn_blocking(move || opened.sled.map(|sled| sled.db().flush())).await;
    match flushed {
        Ok(Some(Ok(_))) => tracing::info!("store flushed; stopped"),
        Ok(None) => tracing::info!("stopped"),
        Ok(Some(Err(error))) => tracing::error!(error = %error, "final flush failed"),
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
