//! The listeners: `[imap]` settings, and the shared accept loop of `congvu-listener`
//! (connection caps before any work, session ids), which runs one session task per
//! connection and on shutdown stops accepting and waits for every session to say BYE.

use std::sync::Arc;

use congvu_listener::{Admission, Limits, Listener};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{Instrument, info_span};

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
    /// Time a client may stay idle before it has logged in.
    pub login_timeout_secs: u64,
    /// Time a client has to finish the TLS handshake (993 at once, 143 after
    /// STARTTLS).
    pub tls_handshake_timeout_secs: u64,
    /// Failed LOGIN/AUTHENTICATE attempts before the connection is closed.
    pub auth_failure_limit: u32,
    /// Consecutive BAD replies before the connection is closed.
    pub bad_command_limit: u32,
    /// Simultaneous connections, both ports together (0: no limit); more get
    /// `* BYE` on 143 before any work, and are closed on 993 (`congvu-listener`).
    pub max_connections: u32,
    /// Simultaneous connections from one IP address (IPv6: one /64), both ports
    /// together (0: no limit). An agency behind one NAT address shares it: size it
    /// for them.
    pub max_connections_per_ip: u32,
    /// Simultaneous logged-in sessions of one account (0: no limit). Thunderbird
    /// opens up to 5 per account, Outlook a few; several devices add up.
    pub max_connections_per_user: u32,
    /// Offer COMPRESS=DEFLATE (RFC 4978). A session that turns it on keeps the
    /// inflate and deflate state (about 43 KiB) for its whole life; operators with
    /// very many idle sessions may prefer the memory.
    pub compress: bool,
    /// MiB of the header fields SEARCH, SORT and THREAD read, kept per message body
    /// for every session (`header_cache`); 0 turns the cache off.
    pub header_cache_mb: u64,
}

impl Default for ImapConfig {
    fn default() -> ImapConfig {
        ImapConfig {
            max_literal_bytes: 64 * 1024 * 1024,
            max_command_line_bytes: 64 * 1024,
            idle_timeout_secs: 30 * 60,
            login_timeout_secs: 60,
            tls_handshake_timeout_secs: 10,
            auth_failure_limit: 5,
            bad_command_limit: 20,
            max_connections: 20_000,
            max_connections_per_ip: 200,
            max_connections_per_user: 30,
            compress: true,
            header_cache_mb: 32,
        }
    }
}

/// What every session shares.
pub struct ImapContext {
    pub config: ImapConfig,
    pub store: Arc<dyn congvu_store::MailStore>,
    pub directory: Arc<congvu_directory::Directory>,
    pub(crate) connections: Connections,
    /// Live sessions of both listeners against the connection caps.
    pub(crate) admission: Arc<Admission>,
    /// The searched header fields of message bodies, shared by every session.
    pub(crate) headers: Arc<crate::header_cache::HeaderCache>,
}

impl ImapConfig {
    pub fn tls_handshake_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.tls_handshake_timeout_secs)
    }
}

impl ImapContext {
    /// What the IMAP listeners counted (connections, APPENDed messages and bytes).
    pub fn listener_metrics(&self) -> &Arc<congvu_listener::ListenerMetrics> {
        self.admission.metrics()
    }

    pub fn new(
        config: ImapConfig,
        store: Arc<dyn congvu_store::MailStore>,
        directory: Arc<congvu_directory::Directory>,
    ) -> ImapContext {
        let admission = Admission::new(Limits {
            max_connections: config.max_connections,
            max_connections_per_ip: config.max_connections_per_ip,
        });
        let headers = Arc::new(crate::header_cache::HeaderCache::new(
            usize::try_from(config.header_cache_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
        ));
        ImapContext {
            config,
            store,
            directory,
            connections: Connections::default(),
            admission,
            headers,
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

/// True once shutdown is asked for, or when whoever could ask is gone.
pub(crate) fn shutdown_requested(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

/// Resolves when shutdown is asked for (or the sender is dropped).
pub(crate) async fn shutdown_signalled(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Serves `listener` (the shared accept loop of `congvu-listener`: caps before any
/// work, session ids) until `shutdown` turns true, then waits until every session
/// has ended (each says `* BYE` at its next command boundary) and returns.
pub async fn serve(
    listener: TcpListener,
    kind: ListenerKind,
    tls: tokio_rustls::TlsAcceptor,
    ctx: Arc<ImapContext>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let listener = Listener {
        socket: listener,
        name: kind.as_str(),
        admission: Arc::clone(&ctx.admission),
        // RFC 3501 §7.1.5: a server may refuse a connection with BYE as its
        // greeting. On 993 the client speaks TLS first: plain text would be garbage.
        refusal: (kind == ListenerKind::Imap).then_some("* BYE"),
    };
    let stop = shutdown.clone();
    congvu_listener::serve(listener, stop, move |stream, peer, ticket| {
        let span = info_span!(
            "imap",
            session = %ticket.id(),
            peer = %peer,
            listener = kind.as_str(),
            user = tracing::field::Empty
        );
        let setup = session::Setup {
            ticket,
            peer,
            kind,
            tls: tls.clone(),
            ctx: Arc::clone(&ctx),
            shutdown: shutdown.clone(),
        };
        session::run(stream, setup).instrument(span)
    })
    .await
}
