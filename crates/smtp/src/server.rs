//! Listeners and the per-connection driver: reads lines, runs the [`Session`],
//! writes replies, switches to TLS, reads DATA and BDAT chunks, and honours
//! timeouts and shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use congvu_listener::{Listener, signalled};
use rustls::ProtocolVersion;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::{Instrument, debug, info, info_span};

use crate::SmtpContext;
use crate::parse::{DataReader, Line, LineBuffer, Strictness};
use crate::reply::Reply;
use crate::session::{Action, Chunk, Session, SessionId, TlsInfo};

/// Which port a listener serves; it decides TLS, AUTH and relaying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenerKind {
    /// Port 25: mail from other servers for local recipients; no AUTH.
    Mx,
    /// Port 587 (RFC 6409): STARTTLS, then AUTH, then mail to anyone.
    Submission,
    /// Port 465 (RFC 8314): as submission, with TLS from the first byte.
    Submissions,
}

impl ListenerKind {
    /// Stable name for logs.
    pub fn name(self) -> &'static str {
        match self {
            ListenerKind::Mx => "mx",
            ListenerKind::Submission => "submission",
            ListenerKind::Submissions => "submissions",
        }
    }

    pub(crate) fn is_submission(self) -> bool {
        self != ListenerKind::Mx
    }

    /// Strict with servers, tolerant of the quirks of mail clients.
    pub(crate) fn strictness(self) -> Strictness {
        match self {
            ListenerKind::Mx => Strictness::Strict,
            ListenerKind::Submission | ListenerKind::Submissions => Strictness::Lenient,
        }
    }
}

/// Bound on the TLS close_notify at the end of a session.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
const READ_CHUNK: usize = 16 * 1024;

/// Accepts connections until `shutdown` becomes `true` (the shared accept loop of
/// `congvu-listener`: caps, session ids), then waits for every session to end: idle
/// ones answer `421 4.3.2` at once, one in DATA finishes its transaction first (at
/// most `shutdown_grace_secs`). Errors of single connections are logged, never
/// returned.
pub async fn serve(
    listener: TcpListener,
    kind: ListenerKind,
    tls: TlsAcceptor,
    ctx: Arc<SmtpContext>,
    shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let listener = Listener {
        socket: listener,
        name: kind.name(),
        admission: Arc::clone(&ctx.admission),
        // RFC 5321 §3.8: 421 at connection time; RFC 3463 X.7.0, a policy reason. On
        // 465 the client speaks TLS first: a plain-text line would be garbage.
        refusal: (kind != ListenerKind::Submissions).then_some("421 4.7.0"),
    };
    let stop = shutdown.clone();
    congvu_listener::serve(listener, stop, move |stream, peer, ticket| {
        let id = ticket.id();
        let span = info_span!("smtp", session = %id, peer = %peer, listener = kind.name());
        let connection = Connection::start(
            stream,
            peer,
            id,
            kind,
            tls.clone(),
            Arc::clone(&ctx),
            shutdown.clone(),
        );
        async move {
            connection.await;
            drop(ticket);
        }
        .instrument(span)
    })
    .await
}

/// How a conversation on one transport ended.
enum Ending {
    Closed,
    /// `220` to STARTTLS was sent; the handshake comes next.
    StartTls,
}

/// One client connection on transport `S` (plain TCP or TLS).
struct Connection<S> {
    io: S,
    input: LineBuffer,
    output: Vec<u8>,
    chunk: Box<[u8]>,
    ctx: Arc<SmtpContext>,
}

impl Connection<TcpStream> {
    /// Runs a whole session: greeting, commands, TLS, until it closes.
    async fn start(
        stream: TcpStream,
        peer: SocketAddr,
        id: SessionId,
        kind: ListenerKind,
        tls: TlsAcceptor,
        ctx: Arc<SmtpContext>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        debug!("connected");
        // Replies are written whole and flushed on purpose; Nagle would only delay them.
        if let Err(e) = stream.set_nodelay(true) {
            debug!(error = %e, "set_nodelay failed");
        }
        let mut session = Session::new(Arc::clone(&ctx), kind, id, peer);
        let stream = if kind == ListenerKind::Submissions {
            stream
        } else {
            let mut plain = Connection::new(stream, Arc::clone(&ctx));
            plain.reply(&session.greeting());
            match plain.converse(&mut session, &mut shutdown).await {
                // The plain connection and its input buffer end here: nothing read
                // before the handshake can reach the TLS session (RFC 3207 §4.2).
                Ok(Ending::StartTls) => plain.io,
                Ok(Ending::Closed) => {
                    plain.close().await;
                    return;
                }
                Err(e) => {
                    debug!(error = %e, "connection error");
                    return;
                }
            }
        };
        let Some((stream, info)) = handshake(&tls, stream, &ctx, &mut shutdown).await else {
            return;
        };
        session.tls_started(info);
        let mut secure = Connection::new(stream, Arc::clone(&ctx));
        if kind == ListenerKind::Submissions {
            secure.reply(&session.greeting());
        }
        match secure.converse(&mut session, &mut shutdown).await {
            Ok(_) => secure.close().await,
            Err(e) => debug!(error = %e, "connection error"),
        }
    }
}

/// TLS handshake, bounded by `tls_handshake_timeout_secs` and abandoned at shutdown.
async fn handshake(
    tls: &TlsAcceptor,
    stream: TcpStream,
    ctx: &SmtpContext,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<(TlsStream<TcpStream>, TlsInfo)> {
    let accepted = tokio::select! {
        accepted = timeout(ctx.config.tls_handshake_timeout(), tls.accept(stream)) => accepted,
        () = signalled(shutdown) => return None,
    };
    match accepted {
        Ok(Ok(stream)) => {
            let (_, connection) = stream.get_ref();
            let version = match connection.protocol_version() {
                Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
                Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
                _ => "TLS",
            };
            let cipher = connection
                .negotiated_cipher_suite()
                .and_then(|suite| suite.suite().as_str())
                .unwrap_or("unknown");
            debug!(version, cipher, "TLS established");
            Some((stream, TlsInfo { version, cipher }))
        }
        Ok(Err(e)) => {
            debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            debug!("TLS handshake timed out");
            None
        }
    }
}

/// What happened while waiting for input.
enum Input {
    Bytes(usize),
    Eof,
    TimedOut,
    Shutdown,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    fn new(io: S, ctx: Arc<SmtpContext>) -> Connection<S> {
        Connection {
            io,
            input: LineBuffer::new(ctx.config.max_line_bytes),
            output: Vec::new(),
            chunk: vec![0; READ_CHUNK].into_boxed_slice(),
            ctx,
        }
    }

    fn reply(&mut self, reply: &Reply) {
        reply.write_to(&mut self.output);
    }

    /// Sends the buffered replies; a client that does not read gets the idle
    /// timeout, not an unbounded wait.
    async fn flush(&mut self) -> io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let write = async {
            self.io.write_all(&self.output).await?;
            self.io.flush().await
        };
        match timeout(self.ctx.config.idle_timeout(), write).await {
            Ok(result) => result?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
        }
        self.output.clear();
        Ok(())
    }

    /// Ends the connection politely: pending replies, then (for TLS) close_notify.
    async fn close(mut self) {
        if let Err(e) = self.flush().await {
            debug!(error = %e, "flush at close failed");
        }
        // Best effort: the client may already be gone.
        let _ = timeout(CLOSE_TIMEOUT, self.io.shutdown()).await;
        debug!("disconnected");
    }

    /// Waits for input until `deadline`, or for shutdown when `watch_shutdown`.
    async fn wait_for_input(
        &mut self,
        deadline: Instant,
        shutdown: &mut watch::Receiver<bool>,
        watch_shutdown: bool,
    ) -> io::Result<Input> {
        tokio::select! {
            read = timeout_at(deadline, self.io.read(&mut self.chunk)) => match read {
                Ok(Ok(0)) => Ok(Input::Eof),
                Ok(Ok(n)) => Ok(Input::Bytes(n)),
                Ok(Err(e)) => Err(e),
                Err(_) => Ok(Input::TimedOut),
            },
            () = signalled(shutdown), if watch_shutdown => Ok(Input::Shutdown),
        }
    }

    /// The command loop. Replies to pipelined commands are collected and sent
    /// when no complete line is left in the input (RFC 2920 §3.1).
    async fn converse(
        &mut self,
        session: &mut Session,
        shutdown: &mut watch::Receiver<bool>,
    ) -> io::Result<Ending> {
        // The outcome of a DATA phase, handled like the reply to a command.
        let mut pending: Option<Action> = None;
        loop {
            let action = match pending.take() {
                Some(action) => action,
                None => match self.input.next_line() {
                    Some(Line::Complete(line)) => session.handle_line(line).await,
                    Some(Line::TooLong) => session.line_too_long(),
                    None => {
                        self.flush().await?;
                        let deadline = Instant::now() + self.ctx.config.idle_timeout();
                        match self.wait_for_input(deadline, shutdown, true).await? {
                            Input::Bytes(n) => self.input.push(&self.chunk[..n]),
                            Input::Eof => return Ok(Ending::Closed),
                            // RFC 5321 §4.5.3.2.7, §3.8: the server may close with 421.
                            Input::TimedOut => return self.closing(Reply::IDLE_TIMEOUT),
                            Input::Shutdown => return self.closing(Reply::SHUTTING_DOWN),
                        }
                        continue;
                    }
                },
            };
            match action {
                Action::Reply(reply) => self.reply(&reply),
                Action::Close(reply) => return self.closing(reply),
                Action::StartTls(reply) => {
                    self.reply(&reply);
                    self.flush().await?;
                    // RFC 3207 §4.2 / CVE-2011-0411: nothing sent before the
                    // handshake may be taken as a command after it. (The buffer is
                    // dropped with this connection anyway; this makes it visible.)
                    let dropped = self.input.clear();
                    if dropped > 0 {
                        info!(bytes = dropped, "discarded input pipelined after STARTTLS");
                    }
                    return Ok(Ending::StartTls);
                }
                Action::ReadData(reply, mut reader) => {
                    self.reply(&reply);
                    let deadline = session.transaction_deadline();
                    if !self.read_mail_data(&mut reader, deadline, shutdown).await? {
                        return Ok(Ending::Closed);
                    }
                    pending = Some(session.data_received(reader.finish()).await);
                }
                // RFC 3030 §2: the chunk follows its command line at once, usually
                // in the same segment; its reply waits with the other pipelined ones.
                Action::ReadChunk(mut chunk) => {
                    let deadline = session.transaction_deadline();
                    if !self.read_mail_data(&mut chunk, deadline, shutdown).await? {
                        return Ok(Ending::Closed);
                    }
                    pending = Some(session.chunk_received(chunk).await);
                }
            }
        }
    }

    /// Queues the last reply; the caller's `close` sends it.
    fn closing(&mut self, reply: Reply) -> io::Result<Ending> {
        self.reply(&reply);
        Ok(Ending::Closed)
    }

    /// Feeds mail data to `data` until its end (the terminating dot, or the last
    /// octet of a BDAT chunk): first the bytes already buffered after the command
    /// line, then the socket's. False when the transaction was abandoned (client
    /// gone, timeout, shutdown grace over); the 421 for the last two is already
    /// queued.
    async fn read_mail_data(
        &mut self,
        data: &mut impl MailData,
        transaction_deadline: Option<std::time::Instant>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> io::Result<bool> {
        let transaction_deadline = transaction_deadline.map(Instant::from_std);
        let (used, done) = data.feed(self.input.pending());
        self.input.consume(used);
        if done {
            return Ok(true);
        }
        self.flush().await?;
        // Set when shutdown is signalled: the transaction may still finish until then.
        let mut grace_end: Option<Instant> = None;
        loop {
            // RFC 5321 §4.5.3.2.5: a timeout per block of data.
            let block_deadline = Instant::now() + self.ctx.config.data_timeout();
            let deadline = [grace_end, transaction_deadline]
                .into_iter()
                .flatten()
                .fold(block_deadline, Instant::min);
            match self
                .wait_for_input(deadline, shutdown, grace_end.is_none())
                .await?
            {
                Input::Bytes(n) => {
                    let (used, done) = data.feed(&self.chunk[..n]);
                    if done {
                        // Pipelined commands after the data stay for the command loop.
                        self.input.push(&self.chunk[used..n]);
                        return Ok(true);
                    }
                }
                Input::Eof => {
                    debug!(received = data.received(), "connection closed during mail data");
                    return Ok(false);
                }
                Input::TimedOut => {
                    let reply = if grace_end.is_some_and(|end| Instant::now() >= end) {
                        Reply::SHUTTING_DOWN
                    } else {
                        Reply::IDLE_TIMEOUT
                    };
                    debug!(received = data.received(), "mail data abandoned");
                    self.reply(&reply);
                    return Ok(false);
                }
                Input::Shutdown => grace_end = Some(Instant::now() + self.ctx.config.shutdown_grace()),
            }
        }
    }
}

/// Mail data the driver reads from the connection: DATA's stream or one BDAT chunk.
trait MailData {
    /// Consumes input up to the end of the data; returns how many bytes were used
    /// and whether the end was reached.
    fn feed(&mut self, input: &[u8]) -> (usize, bool);
    /// Bytes received so far, for the log.
    fn received(&self) -> u64;
}

impl MailData for DataReader {
    fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        DataReader::feed(self, input)
    }
    fn received(&self) -> u64 {
        self.size()
    }
}

impl MailData for Chunk {
    fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        Chunk::feed(self, input)
    }
    fn received(&self) -> u64 {
        Chunk::received(self)
    }
}
