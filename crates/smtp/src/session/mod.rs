//! The SMTP session state machine, independent of the transport.
//!
//! [`Session::handle_line`] takes one command line and returns an [`Action`] for the
//! connection driver (`server.rs`): write a reply, close, start TLS, or read mail
//! data (DATA, or one BDAT chunk). Each verb lives in its own file as an
//! `impl Session` block.

mod ack;
mod antivirus;
mod auth;
mod bdat;
mod data;
mod dsn;
mod ehlo;
mod events;
mod from_header;
mod help;
mod local;
mod mail;
mod message;
mod noop;
mod policy;
mod quit;
mod quota_warning;
mod rcpt;
mod rset;
mod sender_auth;
mod smime;
mod spool;
mod starttls;
mod trace;
mod vrfy;

use std::net::SocketAddr;
use std::sync::Arc;

use congvu_directory::AccountRecord;
use congvu_store::AccountId;
use tracing::debug;

use crate::SmtpContext;
use crate::parse::{
    CanonicalSink, Command, DataOutcome, DataReader, HeloName, MailParams, ParseError, RcptParams,
    ReversePath, parse_command,
};
use crate::reply::Reply;
use crate::server::ListenerKind;

pub(crate) use auth::SaslStep;
pub(crate) use bdat::Chunk;
pub use local::{LocalSubmission, Refused, submit};
pub use spool::MemoryBudget;

/// What the connection driver must do after a line.
#[derive(Debug)]
pub(crate) enum Action {
    Reply(Reply),
    /// Send the reply, then close the connection.
    Close(Reply),
    /// Send the reply, drop any buffered input, run the TLS handshake (RFC 3207).
    StartTls(Reply),
    /// Send the reply (354), then feed the mail data to the reader and hand the
    /// outcome to [`Session::data_received`].
    ReadData(Reply, DataReader),
    /// Send nothing yet: read the BDAT chunk's octets into it (they follow the
    /// command at once, RFC 3030 §2), then hand it to [`Session::chunk_received`].
    ReadChunk(Chunk),
}

pub(crate) use congvu_listener::SessionId;

/// The negotiated TLS parameters, for the `Received:` header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TlsInfo {
    pub(crate) version: &'static str,
    pub(crate) cipher: &'static str,
}

/// EHLO or HELO, and the name the client gave.
#[derive(Clone, Debug)]
struct Greeting {
    name: HeloName,
    extended: bool,
}

/// Where the session is (see the diagram in the crate docs).
#[derive(Debug)]
enum State {
    /// No EHLO/HELO since the connection or the TLS handshake.
    Connected,
    /// Greeted, no transaction open.
    Greeted,
    /// Inside an AUTH exchange: the next line is a SASL response, not a command.
    Auth(SaslStep),
    /// MAIL accepted; RCPTs are being collected.
    Mail(Envelope),
    /// The driver is reading mail data: after 354, or a BDAT chunk (whose data so far
    /// travels with the driver's [`Chunk`]).
    Data(Envelope),
    /// BDAT chunks received, none marked LAST: the canonical data so far (at most
    /// `max_message_bytes` of it) waits for the next chunk. DATA and RCPT are out of
    /// sequence here (RFC 3030 §3).
    Chunking(Envelope, CanonicalSink),
}

/// One mail transaction's envelope.
#[derive(Debug)]
struct Envelope {
    /// `<session>.<n>`: in the `Received:` header, the reply and the log line.
    id: String,
    from: ReversePath,
    params: MailParams,
    /// Local recipients, one entry per account (aliases of one account collapse).
    local: Vec<LocalRecipient>,
    /// Remote recipients (submission only), deduplicated case-insensitively.
    remote: Vec<String>,
    /// The DSN parameters of each remote recipient: `remote_dsn[i]` belongs to
    /// `remote[i]` (the first RCPT of a duplicated address decides).
    remote_dsn: Vec<RcptParams>,
    /// RCPT commands accepted, duplicates included: the limit counts these.
    accepted: usize,
    /// RCPT commands seen: DATA distinguishes "no RCPT" from "none valid".
    attempted: usize,
    /// When MAIL was accepted: the whole transaction must end within
    /// `max_transaction_secs` of it.
    started: std::time::Instant,
    /// The agency mailbox a clerk sends as (Art. 16.1): its `\Sent` mailbox gets a
    /// copy server-side, so the agency's record of what it issued does not depend
    /// on the clerk's client.
    sent_as_agency: Option<AccountId>,
}

#[derive(Debug)]
struct LocalRecipient {
    /// As the client wrote it (for `Received: … for <…>`).
    address: String,
    account: AccountId,
    /// The code of the agency the account belongs to (the destination class of a
    /// submission, `events.rs`).
    agency: String,
    /// An agency mailbox (not an official's): mail to it may await an
    /// acknowledgement of receipt (`ack.rs`).
    agency_mailbox: bool,
    /// Its DSN parameters (the first RCPT naming the account decides).
    dsn: RcptParams,
}

impl Envelope {
    fn recipient_count(&self) -> usize {
        self.local.len() + self.remote.len()
    }
}

pub(crate) struct Session {
    ctx: Arc<SmtpContext>,
    kind: ListenerKind,
    id: SessionId,
    peer: SocketAddr,
    tls: Option<TlsInfo>,
    helo: Option<Greeting>,
    /// The authenticated account (submission only).
    auth: Option<AccountRecord>,
    state: State,
    /// 5xx replies sent so far.
    errors: u32,
    commands_without_mail: u32,
    auth_failures: u32,
    /// MAIL commands accepted: numbers the transactions.
    transactions: u32,
}

impl Session {
    pub(crate) fn new(ctx: Arc<SmtpContext>, kind: ListenerKind, id: SessionId, peer: SocketAddr) -> Session {
        Session {
            ctx,
            kind,
            id,
            peer,
            tls: None,
            helo: None,
            auth: None,
            state: State::Connected,
            errors: 0,
            commands_without_mail: 0,
            auth_failures: 0,
            transactions: 0,
        }
    }

    /// `220 <hostname> ESMTP congvu` (RFC 5321 §4.2: the greeting names the host).
    pub(crate) fn greeting(&self) -> Reply {
        Reply::plain(220, format!("{} ESMTP congvu", self.ctx.config.hostname))
    }

    /// Handles one line (CRLF removed): a command, or a SASL response while an AUTH
    /// exchange is open.
    pub(crate) async fn handle_line(&mut self, line: &[u8]) -> Action {
        let action = if matches!(self.state, State::Auth(_)) {
            self.auth_response(line).await
        } else {
            match parse_command(line, self.kind.strictness()) {
                Ok(command) => self.dispatch(command).await,
                Err(ParseError::ChunkSize(size)) => self.bad_bdat(size),
                Err(error) => {
                    debug!(%error, "command refused");
                    Action::Reply(error.reply())
                }
            }
        };
        self.count_errors(action)
    }

    /// A line over `max_line_bytes` was dropped.
    pub(crate) fn line_too_long(&mut self) -> Action {
        debug!("line too long");
        // A SASL exchange cannot continue past a lost response.
        if matches!(self.state, State::Auth(_)) {
            self.state = State::Greeted;
        }
        self.count_errors(Action::Reply(Reply::LINE_TOO_LONG))
    }

    async fn dispatch(&mut self, command: Command) -> Action {
        let transactional = matches!(
            command,
            Command::Mail { .. }
                | Command::Rcpt { .. }
                | Command::Data
                | Command::Bdat { .. }
                | Command::Quit
        );
        if !transactional && self.count_command() {
            return Action::Close(Reply::TOO_MANY_COMMANDS);
        }
        match command {
            Command::Ehlo(name) => self.ehlo(name),
            Command::Helo(name) => self.helo(name),
            Command::Mail { from, params } => self.mail(from, params),
            Command::Rcpt { to, params } => self.rcpt(to, params),
            Command::Data if matches!(self.state, State::Chunking(..)) => self.data_after_bdat(),
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Rset => self.rset(),
            Command::Noop => self.noop(),
            Command::Quit => self.quit(),
            Command::Vrfy => self.vrfy(),
            Command::Help => self.help(),
            Command::StartTls => self.starttls(),
            Command::Auth { mechanism, initial } => self.auth(mechanism, initial).await,
        }
    }

    /// Counts a command that is not part of a mail transaction; true when the
    /// session has sent too many of them.
    fn count_command(&mut self) -> bool {
        self.commands_without_mail += 1;
        self.commands_without_mail > self.ctx.config.max_commands_without_mail
    }

    /// RFC 5321 §4.1.1: a server may close after too many errors; 421 replaces the
    /// reply to the command that reached the limit.
    fn count_errors(&mut self, action: Action) -> Action {
        if let Action::Reply(reply) = &action
            && reply.is_permanent_failure()
        {
            self.errors += 1;
            if self.errors >= self.ctx.config.max_errors {
                debug!(errors = self.errors, "too many errors");
                return Action::Close(Reply::TOO_MANY_ERRORS);
            }
        }
        action
    }

    /// The TLS handshake after STARTTLS succeeded: RFC 3207 §4.2 — forget everything
    /// learnt from the client before it, and require a new EHLO.
    pub(crate) fn tls_started(&mut self, info: TlsInfo) {
        self.tls = Some(info);
        self.helo = None;
        self.auth = None;
        self.state = State::Connected;
    }

    /// Takes the open transaction's envelope out of the state to read its mail data
    /// (DATA, or a first BDAT chunk). RFC 5321 §3.3: `554` when every RCPT was
    /// refused, `503` when none was sent or there is no transaction; the state is
    /// then unchanged.
    fn envelope_for_data(&mut self) -> Result<Envelope, Reply> {
        match std::mem::replace(&mut self.state, State::Greeted) {
            State::Mail(envelope) if envelope.recipient_count() > 0 => Ok(envelope),
            State::Mail(envelope) => {
                let reply = if envelope.attempted > 0 {
                    Reply::NO_VALID_RECIPIENTS
                } else {
                    Reply::NEED_RCPT
                };
                self.state = State::Mail(envelope);
                Err(reply)
            }
            other => {
                self.state = other;
                Err(Reply::NEED_MAIL)
            }
        }
    }

    /// When the open transaction must be over (`[smtp] max_transaction_secs` after
    /// its MAIL); `None` outside one.
    pub(crate) fn transaction_deadline(&self) -> Option<std::time::Instant> {
        match &self.state {
            State::Mail(envelope) | State::Data(envelope) | State::Chunking(envelope, _) => {
                Some(envelope.started + self.ctx.config.max_transaction())
            }
            _ => None,
        }
    }

    /// The state to return to when a transaction ends.
    fn idle_state(&self) -> State {
        if self.helo.is_some() {
            State::Greeted
        } else {
            State::Connected
        }
    }

    /// Mail data was read to its end: deliver it and say how it went.
    pub(crate) async fn data_received(&mut self, outcome: DataOutcome) -> Action {
        let action = self.finish_transaction(outcome).await;
        self.count_errors(action)
    }
}
