//! # congvu-listener — one accept loop for the SMTP and IMAP listeners
//!
//! Every protocol listener accepts connections the same way: a connection is admitted
//! or refused before any work is done for it, gets a session id and a task of its
//! own, and the listener stops accepting and waits for its sessions at shutdown.
//! The protocols differ only in what they say to a refused client and in what a
//! session does; they pass both in.
//!
//! ## Invariants
//! 1. **Bounded connections.** At most `max_connections` sessions run per
//!    [`Admission`] (shared by the listeners of one protocol), and at most
//!    `max_connections_per_ip` from one client: an IPv4 address, or an IPv6 /64 (one
//!    subscriber's usual allocation, so a client cannot escape the cap by rotating
//!    addresses inside its own prefix). 0 means no limit.
//! 2. **Refused before any work.** An over-cap client gets the protocol's one-line
//!    refusal (`421 4.7.0` for SMTP, `* BYE` for IMAP) on plain-text ports, written
//!    with a short timeout, and is closed; on implicit-TLS ports it is closed without
//!    a handshake (a handshake is the expensive part). No session state, no buffer.
//! 3. **Places cannot leak.** A session holds a [`Ticket`] from admission; dropping
//!    it, however the session ends (panic included), gives the place back.
//! 4. **Shutdown** stops accepting at once and returns when every session has ended
//!    (each session watches the same signal and ends at its next boundary).
//! 5. **Counted.** Every accepted and refused connection, and every running session,
//!    is counted per listener in the [`ListenerMetrics`] of its [`Admission`].

mod metrics;

pub use metrics::{ListenerCounters, ListenerMetrics, ListenerSnapshot};

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

/// Pause after a failed `accept` (EMFILE and the like), so that the loop does not
/// spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Time given to write a refusal to a client over a cap.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);

/// The caps of one protocol's listeners (from `[smtp]` or `[imap]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Sessions at once, every client together (0: no limit).
    pub max_connections: u32,
    /// Sessions at once from one client address or IPv6 /64 (0: no limit).
    pub max_connections_per_ip: u32,
}

/// Random per connection, so that log lines and `Received:` ids of different
/// sessions and server runs do not collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionId(u64);

impl SessionId {
    pub fn random() -> SessionId {
        SessionId(rand::random::<u64>() & 0xffff_ffff_ffff)
    }

    /// The id as a number (48 bits), as records that name the session keep it.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012x}", self.0)
    }
}

/// Why a connection was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `max_connections` sessions are running.
    Full,
    /// `max_connections_per_ip` sessions of this client are running.
    TooManyFromClient,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Full => "server_full",
            Refusal::TooManyFromClient => "client_over_limit",
        }
    }

    /// What the client is told, Vietnamese then English.
    pub fn text(self) -> &'static str {
        match self {
            Refusal::Full => {
                "Máy chủ đang quá tải, vui lòng thử lại sau / too many connections, try again later"
            }
            Refusal::TooManyFromClient => {
                "Quá nhiều kết nối từ địa chỉ của bạn / too many connections from your address"
            }
        }
    }
}

/// The client group a connection counts against: an IPv4 address (IPv4-mapped IPv6
/// included) as it is, an IPv6 address by its /64.
pub fn client_group(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// Live sessions of one protocol's listeners, against their [`Limits`].
#[derive(Debug)]
pub struct Admission {
    limits: Limits,
    counts: Mutex<Counts>,
    metrics: Arc<ListenerMetrics>,
}

#[derive(Debug, Default)]
struct Counts {
    total: u32,
    per_group: HashMap<IpAddr, u32>,
}

impl Admission {
    pub fn new(limits: Limits) -> Arc<Admission> {
        Arc::new(Admission {
            limits,
            counts: Mutex::new(Counts::default()),
            metrics: Arc::default(),
        })
    }

    /// Where this admission's listeners are counted (invariant 5).
    pub fn metrics(&self) -> &Arc<ListenerMetrics> {
        &self.metrics
    }

    /// Takes a place for a connection from `client` (invariant 1).
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Result<Ticket, Refusal> {
        let group = client_group(client);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if self.limits.max_connections != 0 && counts.total >= self.limits.max_connections {
            return Err(Refusal::Full);
        }
        let from_group = counts.per_group.get(&group).copied().unwrap_or(0);
        if self.limits.max_connections_per_ip != 0 && from_group >= self.limits.max_connections_per_ip {
            return Err(Refusal::TooManyFromClient);
        }
        counts.total += 1;
        counts.per_group.insert(group, from_group + 1);
        Ok(Ticket {
            admission: Arc::clone(self),
            group,
            id: SessionId::random(),
        })
    }

    fn release(&self, group: IpAddr) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(count) = counts.per_group.get_mut(&group) {
            *count -= 1;
            if *count == 0 {
                counts.per_group.remove(&group);
            }
        }
    }

    /// Sessions running now.
    pub fn live(&self) -> u32 {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).total
    }
}

/// One admitted connection's place; released on drop (invariant 3).
#[derive(Debug)]
pub struct Ticket {
    admission: Arc<Admission>,
    group: IpAddr,
    id: SessionId,
}

impl Ticket {
    pub fn id(&self) -> SessionId {
        self.id
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(self.group);
    }
}

/// What one listener is.
pub struct Listener {
    pub socket: TcpListener,
    /// For logs: `mx`, `submission`, `imaps`, …
    pub name: &'static str,
    pub admission: Arc<Admission>,
    /// What starts the line a refused client gets on a plain-text port (`421 4.7.0`,
    /// `* BYE`), before [`Refusal::text`]; `None` on implicit-TLS ports, where it is
    /// closed without a word.
    pub refusal: Option<&'static str>,
}

/// Accepts connections until `shutdown` becomes `true`, runs `session(stream, peer,
/// ticket)` for each admitted one on its own task, then waits for every session to
/// end (invariant 4). Errors of single connections are logged, never returned.
pub async fn serve<S, F>(
    listener: Listener,
    mut shutdown: watch::Receiver<bool>,
    session: S,
) -> io::Result<()>
where
    S: Fn(TcpStream, SocketAddr, Ticket) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let Listener {
        socket,
        name,
        admission,
        refusal,
    } = listener;
    let counters = admission.metrics().listener(name);
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = signalled(&mut shutdown) => break,
            accepted = socket.accept() => match accepted {
                Ok((stream, peer)) => match admission.admit(peer.ip()) {
                    Ok(ticket) => {
                        let active = counters.session();
                        let session = session(stream, peer, ticket);
                        sessions.spawn(async move {
                            session.await;
                            drop(active);
                        });
                    }
                    Err(why) => {
                        counters.refused(why);
                        info!(listener = name, peer = %peer, reason = why.as_str(), "connection refused over a cap");
                        if let Some(prefix) = refusal {
                            sessions.spawn(refuse(stream, format!("{prefix} {}\r\n", why.text())));
                        }
                    }
                },
                // Aborted handshakes concern one client only.
                Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) => {
                    debug!(error = %e, listener = name, "accept: connection aborted");
                }
                Err(e) => {
                    warn!(error = %e, listener = name, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(joined) = sessions.join_next(), if !sessions.is_empty() => report(name, joined),
        }
    }
    drop(socket);
    info!(listener = name, sessions = sessions.len(), "listener stopping");
    while let Some(joined) = sessions.join_next().await {
        report(name, joined);
    }
    Ok(())
}

/// Writes the refusal and closes (invariant 2).
async fn refuse(mut stream: TcpStream, line: String) {
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        stream.write_all(line.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

fn report(name: &str, joined: Result<(), tokio::task::JoinError>) {
    if let Err(e) = joined {
        error!(error = %e, listener = name, "session task failed");
    }
}

/// Resolves once shutdown has been signalled; never if the sender is gone without.
pub async fn signalled(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v6(text: &str) -> IpAddr {
        IpAddr::V6(text.parse::<Ipv6Addr>().unwrap())
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(client_group(v6("2001:db8:1:2:aaaa::1")), v6("2001:db8:1:2::"));
        assert_eq!(
            client_group(v6("::ffff:10.1.2.3")),
            IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))
        );
        let v4 = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
        assert_eq!(client_group(v4), v4);
    }

    #[test]
    fn caps_hold_and_dropped_tickets_give_places_back() {
        let admission = Admission::new(Limits {
            max_connections: 3,
            max_connections_per_ip: 2,
        });
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let first = admission.admit(a).unwrap();
        let second = admission.admit(v6("::ffff:10.0.0.1").to_canonical()).unwrap();
        assert_eq!(admission.admit(a).unwrap_err(), Refusal::TooManyFromClient);
        let third = admission.admit(b).unwrap();
        assert_eq!(admission.admit(b).unwrap_err(), Refusal::Full);
        assert_ne!(first.id(), second.id());
        drop(first);
        assert_eq!(admission.live(), 2);
        let again = admission.admit(a).unwrap();
        drop((second, third, again));
        assert_eq!(admission.live(), 0);
        // Rotating addresses inside one /64 does not escape the cap.
        let ipv6 = [v6("2001:db8::1"), v6("2001:db8::2"), v6("2001:db8::ffff:1")];
        let held: Vec<_> = ipv6[..2].iter().map(|ip| admission.admit(*ip).unwrap()).collect();
        assert_eq!(admission.admit(ipv6[2]).unwrap_err(), Refusal::TooManyFromClient);
        drop(held);
        let unlimited = Admission::new(Limits {
            max_connections: 0,
            max_connections_per_ip: 0,
        });
        let many: Vec<_> = (0..100).map(|_| unlimited.admit(a).unwrap()).collect();
        assert_eq!(unlimited.live(), 100);
        drop(many);
    }

    /// A real accept loop on loopback: a session holds its place, a second client is
    /// refused with the protocol's line, and both are counted for the listener.
    #[tokio::test]
    async fn the_accept_loop_counts_sessions_and_refusals() {
        use tokio::io::AsyncReadExt;

        let admission = Admission::new(Limits {
            max_connections: 1,
            max_connections_per_ip: 0,
        });
        let metrics = Arc::clone(admission.metrics());
        let socket = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = socket.local_addr().unwrap();
        let (stop, shutdown) = watch::channel(false);
        let (release, released) = watch::channel(false);
        let listener = Listener {
            socket,
            name: "test",
            admission,
            refusal: Some("421 4.7.0"),
        };
        let served = tokio::spawn(serve(listener, shutdown, move |_stream, _peer, ticket| {
            let mut released = released.clone();
            async move {
                let _ = released.wait_for(|done| *done).await;
                drop(ticket);
            }
        }));
        let _held = TcpStream::connect(addr).await.unwrap();
        let live = || async {
            loop {
                let snapshot = metrics.snapshot();
                if snapshot.first().is_some_and(|l| l.accepted == 1) {
                    return snapshot;
                }
                tokio::task::yield_now().await;
            }
        };
        assert_eq!(live().await[0].active, 1);
        let mut refused = TcpStream::connect(addr).await.unwrap();
        let mut line = String::new();
        refused.read_to_string(&mut line).await.unwrap();
        assert!(line.starts_with("421 4.7.0 "), "{line}");
        release.send(true).unwrap();
        stop.send(true).unwrap();
        served.await.unwrap().unwrap();
        assert_eq!(
            metrics.snapshot(),
            vec![ListenerSnapshot {
                listener: "test",
                accepted: 1,
                refused_full: 1,
                ..ListenerSnapshot::default()
            }]
        );
    }
}
