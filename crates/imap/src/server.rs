//! The listener loop: accepts connections, runs one session task per connection,
//! and on shutdown stops accepting and waits for every session to say BYE.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{Instrument, error, info_span, warn};

use crate::limits::Connections;
use crate::session;

/// IMAP settings (`[imap]` in the server configuration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImapConfig {
    /// Largest message APPEND accepts, in bytes (the literal size).
    pub max_literal_bytes: u64,
    /// Largest command text (literals excluded), and the total of the literals in
    /// any command other than APPEND.
    pub max_command_line_bytes: usize,
    /// Autologout timer, idle sessions included (RFC 3501 §5.4: at least 30 min).
    pub idle_timeout_secs: u64,
    /// Failed LOGIN/AUTHENTICATE attempts before the connection is closed.
    pub auth_failure_limit: u32,
    /// Consecutive BAD replies before the connection is closed.
    pub bad_command_limit: u32,
    /// Simultaneous connections from one IP address, both ports together (0: no
    /// limit). An agency behind one NAT address shares it: size it for them.
    pub max_connections_per_ip: u32,
    /// Simultaneous logged-in sessions of one account (0: no limit). Thunderbird
    /// opens up to 5 per account, Outlook a few; several devices add up.
    pub max_connections_per_user: u32,
    /// Offer COMPRESS=DEFLATE (RFC 4978). A session that turns it on keeps the
    /// inflate and deflate state (about 43 KiB) for its whole life; operators with
    /// very many idle sessions may prefer the memory.
    pub compress: bool,
}

impl Default for ImapConfig {
    fn default() -> ImapConfig {
        ImapConfig {
            max_literal_bytes: 64 * 1024 * 1024,
            max_command_line_bytes: 64 * 1024,
            idle_timeout_secs: 30 * 60,
            auth_failure_limit: 5,
            bad_command_limit: 20,
            max_connections_per_ip: 200,
            max_connections_per_user: 30,
            compress: true,
        }
    }
}

/// What every session shares.
pub struct ImapContext {
    pub config: ImapConfig,
    pub store: Arc<dyn congvu_store::MailStore>,
    pub directory: Arc<congvu_directory::Directory>,
    pub(crate) connections: Connections,
}

impl ImapContext {
    pub fn new(
        config: ImapConfig,
        store: Arc<dyn congvu_store::MailStore>,
        directory: Arc<congvu_directory::Directory>,
    ) -> ImapContext {
        ImapContext {
            config,
            store,
            directory,
            connections: Connections::default(),
        }
    }
}

/// The kind of port a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenerKind {
    /// Port 143: plain text until STARTTLS; LOGINDISABLED before TLS (RFC 3501 §6.2.1,
    /// RFC 8314 §3).
    Imap,
    /// Port 993: TLS from the first byte (RFC 8314 §3.3).
    Imaps,
}

impl ListenerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerKind::Imap => "imap",
            ListenerKind::Imaps => "imaps",
        }
    }
}

/// Session ids are unique within the process, for correlating log lines.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// True once shutdown is asked for, or when whoever could ask is gone.
pub(crate) fn shutdown_requested(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

/// Resolves when shutdown is asked for (or the sender is dropped).
pub(crate) async fn shutdown_signalled(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Serves `listener` until `shutdown` turns true, then waits until every session has
/// ended (each says `* BYE` at its next command boundary) and returns.
pub async fn serve(
    listener: TcpListener,
    kind: ListenerKind,
    tls: tokio_rustls::TlsAcceptor,
    ctx: Arc<ImapContext>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut sessions = JoinSet::new();
    while !shutdown_requested(&shutdown) {
        tokio::select! {
            () = shutdown_signalled(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    spawn_session(&mut sessions, stream, peer, kind, &tls, &ctx, &shutdown);
                }
                Err(err) => {
                    // Out of descriptors or a connection reset before accept: keep
                    // serving, after a pause so a persistent error cannot spin.
                    warn!(listener = kind.as_str(), error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(done) = sessions.join_next(), if !sessions.is_empty() => report(done),
        }
    }
    drop(listener);
    while let Some(done) = sessions.join_next().await {
        report(done);
    }
    Ok(())
}

fn spawn_session(
    sessions: &mut JoinSet<()>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    kind: ListenerKind,
    tls: &tokio_rustls::TlsAcceptor,
    ctx: &Arc<ImapContext>,
    shutdown: &watch::Receiver<bool>,
) {
    let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    let span = info_span!(
        "imap",
        session = id,
        peer = %peer,
        listener = kind.as_str(),
        user = tracing::field::Empty
    );
    let setup = session::Setup {
        id,
        peer,
        kind,
        tls: tls.clone(),
        ctx: ctx.clone(),
        shutdown: shutdown.clone(),
    };
    sessions.spawn(session::run(stream, setup).instrument(span));
}

fn report(done: Result<(), tokio::task::JoinError>) {
    if let Err(err) = done
        && err.is_panic()
    {
        error!(error = %err, "imap session panicked");
    }
}
