//! The SMTP client (RFC 5321) that hands queued mail to the next hop.
//!
//! ```text
//!  connect ─► greeting 220 ─► EHLO (HELO if refused) ─┬─ STARTTLS offered and wanted ─► 220 ─► TLS ─► EHLO ─┐
//!                                                     └──────────────────────────────────────────────────────┤
//!                         (tls = required and no TLS: fail, retry later) ◄───────────────────────────────────┤
//!                                              AUTH PLAIN (routes with auth_user, TLS only) ◄────────────────┤
//!                                                                                                            ▼
//!          ┌──────────────────────────────────────────────── Ready ◄── 250 after `.` / RSET ─┐
//!          ▼                                                                                 │
//!   MAIL FROM ─► RCPT TO × n ─► DATA ─► 354 ─► message ─► `.` ───────────────────────────────┘
//!   (PIPELINING: the three are sent in one write, replies read in order — RFC 2920)
//!   Ready ─► QUIT when the hop has no more messages.
//! ```
//! When the server advertises `DSN` (RFC 3461), MAIL carries the message's `RET` and
//! `ENVID` and each RCPT its recipient's `NOTIFY` and `ORCPT` ([`dsn_params`]); the
//! server then reports on its own, and [`Connection::passes_dsn_on`] says so.
//! One [`Connection`] carries several transactions to the same host. Each recipient
//! ends with the reply that decided it: its RCPT reply when refused, else the reply to
//! the end of data (RFC 5321 §3.3).

pub mod data;
pub mod dsn_params;
pub mod ehlo;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use congvu_store::DsnRequest;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::config::TlsMode;
use congvu_protocol::smtp::reply_parser::{self, MAX_LINE, ReplyParser, ServerReply};
use ehlo::Capabilities;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Why a connection could not be used. Every kind is temporary for the recipients
/// (the attempt is retried, possibly at the next MX host).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("server refused the session: {}", .0.summary())]
    Refused(ServerReply),
    #[error("protocol error: {0}")]
    Protocol(#[from] reply_parser::ReplyError),
    #[error("connection closed by the server")]
    Closed,
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    #[error("TLS is required for this hop and the server did not offer STARTTLS")]
    TlsRequired,
    #[error("AUTH needs TLS and AUTH PLAIN offered by the server")]
    AuthUnavailable,
}

/// How to open a session with one host.
pub struct SessionParams<'a> {
    /// Our name in EHLO.
    pub hostname: &'a str,
    pub tls: TlsMode,
    pub tls_config: Arc<rustls::ClientConfig>,
    /// The host's name, for SNI and (with a CA) certificate checks.
    pub server_name: &'a str,
    /// AUTH PLAIN credentials (user, password).
    pub auth: Option<(&'a str, &'a str)>,
    pub connect_timeout: Duration,
    pub reply_timeout: Duration,
}

/// One message's envelope.
pub struct Envelope<'a> {
    /// Reverse path; empty for the null sender.
    pub sender: &'a str,
    pub recipients: &'a [String],
    /// The sender's DSN parameters, passed on when the server advertises `DSN`.
    pub dsn: &'a DsnRequest,
}

/// A decision made here rather than by the server, worded like a reply.
pub fn local_reply(code: u16, text: &str) -> ServerReply {
    ServerReply {
        code,
        lines: vec![text.to_owned()],
    }
}

pub struct Connection {
    stream: BufReader<Box<dyn Io>>,
    caps: Capabilities,
    reply_timeout: Duration,
    pub encrypted: bool,
}

impl Connection {
    pub async fn open(addr: SocketAddr, params: &SessionParams<'_>) -> Result<Connection, SessionError> {
        let tcp = tokio::time::timeout(params.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| SessionError::Timeout(params.connect_timeout))??;
        tcp.set_nodelay(true)?;
        let mut conn = Connection {
            stream: BufReader::new(Box::new(tcp)),
            caps: Capabilities::default(),
            reply_timeout: params.reply_timeout,
            encrypted: false,
        };
        let greeting = conn.read_reply().await?;
        if greeting.code != 220 {
            return Err(SessionError::Refused(greeting));
        }
        conn.hello(params.hostname).await?;
        if params.tls != TlsMode::None && conn.caps.starttls {
            conn.starttls(params).await?;
            conn.hello(params.hostname).await?;
        }
        if params.tls == TlsMode::Required && !conn.encrypted {
            return Err(SessionError::TlsRequired);
        }
        if let Some((user, password)) = params.auth {
            conn.authenticate(user, password).await?;
        }
        Ok(conn)
    }

    /// EHLO, or HELO when EHLO is refused (RFC 5321 §3.2).
    async fn hello(&mut self, hostname: &str) -> Result<(), SessionError> {
        let reply = self.command(&format!("EHLO {hostname}\r\n")).await?;
        if reply.is_positive() {
            self.caps = Capabilities::from_ehlo(&reply);
            return Ok(());
        }
        let reply = self.command(&format!("HELO {hostname}\r\n")).await?;
        if !reply.is_positive() {
            return Err(SessionError::Refused(reply));
        }
        self.caps = Capabilities::default();
        Ok(())
    }

    /// RFC 3207: after `220` the TLS handshake; nothing learned before it is kept.
    async fn starttls(&mut self, params: &SessionParams<'_>) -> Result<(), SessionError> {
        let reply = self.command("STARTTLS\r\n").await?;
        if reply.code != 220 {
            return Err(SessionError::Refused(reply));
        }
        if !self.stream.buffer().is_empty() {
            // RFC 3207 §4.2 / RFC 5321 §4.5.3.2: data before the handshake is an attack.
            return Err(SessionError::Tls(std::io::Error::other(
                "server sent data before the TLS handshake",
            )));
        }
        let name = rustls_pki_types::ServerName::try_from(params.server_name.to_owned())
            .map_err(|e| SessionError::Tls(std::io::Error::other(e)))?;
        let plain = std::mem::replace(&mut self.stream, BufReader::new(Box::new(tokio::io::empty())));
        let connector = TlsConnector::from(params.tls_config.clone());
        let tls = tokio::time::timeout(self.reply_timeout, connector.connect(name, plain.into_inner()))
            .await
            .map_err(|_| SessionError::Timeout(self.reply_timeout))?
            .map_err(SessionError::Tls)?;
        self.stream = BufReader::new(Box::new(tls));
        self.encrypted = true;
        self.caps = Capabilities::default();
        Ok(())
    }

    /// AUTH PLAIN with an initial response (RFC 4954 §4, RFC 4616), over TLS only.
    async fn authenticate(&mut self, user: &str, password: &str) -> Result<(), SessionError> {
        if !self.encrypted || !self.caps.auth_plain {
            return Err(SessionError::AuthUnavailable);
        }
        let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        let reply = self.command(&format!("AUTH PLAIN {token}\r\n")).await?;
        if reply.code != 235 {
            return Err(SessionError::Refused(reply));
        }
        Ok(())
    }

    /// Sends one message; one reply per recipient, in the envelope's order.
    /// `normalized` is the CRLF form from [`data::normalize_crlf`]. `Err` means the
    /// connection is unusable and the outcome for every recipient unknown.
    pub async fn send(
        &mut self,
        envelope: &Envelope<'_>,
        normalized: &[u8],
    ) -> Result<Vec<ServerReply>, SessionError> {
        let all = |reply: &ServerReply| vec![reply.clone(); envelope.recipients.len()];
        let size = normalized.len() as u64;
        if !self.caps.accepts_size(size) {
            // RFC 1870 §6.1: do not send what the server already said it refuses.
            return Ok(all(&local_reply(
                552,
                "5.3.4 message larger than the server's SIZE limit",
            )));
        }
        let eight_bit = data::is_8bit(normalized);
        let utf8_envelope = !envelope.sender.is_ascii() || envelope.recipients.iter().any(|r| !r.is_ascii());
        if utf8_envelope && !self.caps.smtputf8 {
            // RFC 6531 §3.2: a UTF-8 envelope cannot be downgraded.
            return Ok(all(&local_reply(
                553,
                "5.6.7 the next hop does not support SMTPUTF8 addresses",
            )));
        }
        if eight_bit && !self.caps.eightbitmime {
            // RFC 6152 §3: no 8-bit data to a server without 8BITMIME; congvu does
            // not convert to 7-bit.
            return Ok(all(&local_reply(
                554,
                "5.6.3 the next hop does not accept 8-bit data",
            )));
        }
        let mut mail = format!("MAIL FROM:<{}>", envelope.sender);
        if self.caps.size.is_some() {
            mail.push_str(&format!(" SIZE={size}"));
        }
        if eight_bit {
            mail.push_str(" BODY=8BITMIME");
        }
        if utf8_envelope {
            mail.push_str(" SMTPUTF8");
        }
        if self.caps.dsn {
            mail.push_str(&dsn_params::mail_params(envelope.dsn));
        }
        mail.push_str("\r\n");
        let rcpts: Vec<String> = envelope
            .recipients
            .iter()
            .map(|r| {
                let params = if self.caps.dsn {
                    dsn_params::rcpt_params(envelope.dsn, r)
                } else {
                    String::new()
                };
                format!("RCPT TO:<{r}>{params}\r\n")
            })
            .collect();

        let (mail_reply, rcpt_replies, data_reply) = if self.caps.pipelining {
            // RFC 2920 §3.1: MAIL, RCPTs and DATA in one group, replies in order.
            let mut batch = mail.into_bytes();
            for rcpt in &rcpts {
                batch.extend_from_slice(rcpt.as_bytes());
            }
            batch.extend_from_slice(b"DATA\r\n");
            self.write(&batch).await?;
            let mail_reply = self.read_reply().await?;
            let mut rcpt_replies = Vec::with_capacity(rcpts.len());
            for _ in &rcpts {
                rcpt_replies.push(self.read_reply().await?);
            }
            (mail_reply, rcpt_replies, Some(self.read_reply().await?))
        } else {
            let mail_reply = self.command(&mail).await?;
            let mut rcpt_replies = Vec::with_capacity(rcpts.len());
            if mail_reply.is_positive() {
                for rcpt in &rcpts {
                    rcpt_replies.push(self.command(rcpt).await?);
                }
            }
            let data_reply = if rcpt_replies.iter().any(ServerReply::is_positive) {
                Some(self.command("DATA\r\n").await?)
            } else {
                None
            };
            (mail_reply, rcpt_replies, data_reply)
        };

        if !mail_reply.is_positive() {
            if data_reply.as_ref().is_some_and(|r| r.code == 354) {
                self.command(".\r\n").await?;
            }
            self.reset().await?;
            return Ok(all(&mail_reply));
        }
        let accepted = rcpt_replies.iter().any(ServerReply::is_positive);
        let final_reply = match data_reply {
            Some(reply) if reply.code == 354 && accepted => {
                self.write(&data::wire_data(normalized)).await?;
                self.read_reply().await?
            }
            Some(reply) if reply.code == 354 => {
                // RFC 2920 §3.1: DATA accepted with no valid recipient: end it empty.
                self.command(".\r\n").await?;
                self.reset().await?;
                reply
            }
            Some(reply) => {
                self.reset().await?;
                reply
            }
            None => {
                self.reset().await?;
                local_reply(554, "5.5.1 no valid recipients")
            }
        };
        Ok(rcpt_replies
            .into_iter()
            .map(|r| if r.is_positive() { final_reply.clone() } else { r })
            .collect())
    }

    /// Whether the server advertised `DSN` (RFC 3461): the parameters were passed
    /// on with each message, and success reports are now the server's to send.
    pub fn passes_dsn_on(&self) -> bool {
        self.caps.dsn
    }

    async fn reset(&mut self) -> Result<(), SessionError> {
        self.command("RSET\r\n").await.map(drop)
    }

    /// QUIT (RFC 5321 §4.1.1.10); the reply is awaited briefly and ignored.
    pub async fn quit(mut self) {
        if self.write(b"QUIT\r\n").await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), self.read_reply()).await;
        }
    }

    async fn command(&mut self, line: &str) -> Result<ServerReply, SessionError> {
        self.write(line.as_bytes()).await?;
        self.read_reply().await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        let timeout = self.reply_timeout;
        let stream = self.stream.get_mut();
        tokio::time::timeout(timeout, async {
            stream.write_all(bytes).await?;
            stream.flush().await
        })
        .await
        .map_err(|_| SessionError::Timeout(timeout))??;
        Ok(())
    }

    async fn read_reply(&mut self) -> Result<ServerReply, SessionError> {
        let mut parser = ReplyParser::default();
        let mut line = Vec::with_capacity(128);
        loop {
            line.clear();
            let limit = (MAX_LINE + 1) as u64;
            let read = tokio::time::timeout(
                self.reply_timeout,
                (&mut self.stream).take(limit).read_until(b'\n', &mut line),
            )
            .await
            .map_err(|_| SessionError::Timeout(self.reply_timeout))??;
            if read == 0 {
                return Err(SessionError::Closed);
            }
            if let Some(reply) = parser.push(&line)? {
                return Ok(reply);
            }
        }
    }
}
