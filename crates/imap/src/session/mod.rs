//! One client connection: reading commands, the state machine, and the shared
//! helpers every command uses. The commands themselves are in [`crate::op`].

mod access;
mod connection;
mod dispatch;
mod selected;
mod shared;

use std::borrow::Cow;
use std::future::pending;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use congvu_directory::{AccountRecord, CredentialWatch};
use congvu_listener::Ticket;
use congvu_store::{AccountId, MailStore, StoreError};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, error, info};

use crate::codec::mutf7::NameEncoding;
use crate::codec::response::{Code, Status, status_line};
use crate::codec::{Frame, Limits, Tag, frame, parse_command_with};
use crate::limits::Slot;
use crate::server::{ImapContext, ListenerKind, shutdown_requested, shutdown_signalled};

use access::{AgencyInbox, access_session};
pub(crate) use connection::Connection;
pub(crate) use selected::{Entry, Recent, Selected};
pub(crate) use shared::{SHARED, Target, is_reserved, no_such_mailbox};

/// Everything a session is started with.
pub(crate) struct Setup {
    /// The connection's place under the caps, and its session id.
    pub ticket: Ticket,
    pub peer: SocketAddr,
    pub kind: ListenerKind,
    pub tls: TlsAcceptor,
    pub ctx: Arc<ImapContext>,
    pub shutdown: watch::Receiver<bool>,
}

/// RFC 3501 §3 connection states.
pub(crate) enum State {
    NotAuthenticated,
    Authenticated(AccountRecord),
    Selected(AccountRecord, Selected),
    Logout,
}

/// Extensions the client turned on (RFC 5161 ENABLE, or implicitly by a
/// CONDSTORE-enabling command, RFC 7162 §3.1). They last until the connection ends.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Enabled {
    /// Every untagged FETCH carries MODSEQ (RFC 7162 §3.1.4.1).
    pub condstore: bool,
    /// Expunges are announced as `VANISHED` UID sets (RFC 7162 §3.2.10).
    pub qresync: bool,
    /// Mailbox names are UTF-8 both ways (RFC 6855 §3; implied by IMAP4rev2).
    pub utf8: bool,
    /// IMAP4rev2 responses (RFC 9051 Appendix E): no `\Recent` or RECENT, SEARCH
    /// answered by ESEARCH, a LIST response in SELECT, `\NonExistent` levels.
    pub rev2: bool,
}

impl Enabled {
    /// How mailbox names are read and written in this session.
    pub fn names(self) -> NameEncoding {
        if self.utf8 {
            NameEncoding::Utf8
        } else {
            NameEncoding::ModifiedUtf7
        }
    }
}

/// The tagged completion of a command.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: Status,
    pub code: Option<Code>,
    pub text: Cow<'static, str>,
}

impl Reply {
    pub fn ok(text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            status: Status::Ok,
            code: None,
            text: text.into(),
        }
    }

    pub fn ok_code(code: Code, text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            status: Status::Ok,
            code: Some(code),
            text: text.into(),
        }
    }

    pub fn no(code: Option<Code>, text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            status: Status::No,
            code,
            text: text.into(),
        }
    }

    pub fn bad(text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            status: Status::Bad,
            code: None,
            text: text.into(),
        }
    }
}

/// The session is over; the reason goes into the session's log line.
#[derive(Debug)]
pub(crate) struct Disconnect(pub &'static str);

impl From<io::Error> for Disconnect {
    fn from(err: io::Error) -> Disconnect {
        debug!(error = %err, "connection error");
        Disconnect("connection error")
    }
}

pub(crate) type OpResult = Result<Reply, Disconnect>;

/// What the command reader found next.
enum Input {
    Command(Vec<u8>),
    LineTooLong(Option<String>),
    LiteralTooBig {
        tag: Option<String>,
        non_synchronizing: bool,
    },
    Eof,
    Shutdown,
    Timeout,
}

/// Capabilities every state shares (RFC 3501 §7.2.1); only what is implemented.
/// COMPRESS=DEFLATE is added when `[imap] compress` is on.
const CAPABILITIES: &str = "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ENABLE IDLE NAMESPACE ID UIDPLUS UNSELECT CHILDREN MOVE SPECIAL-USE QUOTA QUOTA=RES-STORAGE CONDSTORE QRESYNC ESEARCH CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS ACL RIGHTS=texk SORT SORT=DISPLAY I18NLEVEL=1 THREAD=ORDEREDSUBJECT THREAD=REFERENCES BINARY UTF8=ACCEPT SEARCHRES STATUS=SIZE";

pub(crate) struct Session {
    pub ctx: Arc<ImapContext>,
    pub conn: Connection,
    pub state: State,
    pub kind: ListenerKind,
    pub tls: TlsAcceptor,
    pub shutdown: watch::Receiver<bool>,
    pub auth_failures: u32,
    pub enabled: Enabled,
    /// The client's address, for access events.
    pub peer: SocketAddr,
    /// This session's number in the access log (`access::access_session`).
    access_session: u64,
    /// The agency INBOX this session has selected, until it leaves it (the end of
    /// its check span, see `access`).
    agency_inbox: Option<AgencyInbox>,
    /// This session's place in the per-user count, from login on.
    pub user_slot: Option<Slot<AccountId>>,
    /// From login on: fires when the password the session logged in with is
    /// changed, or its account disabled or deleted (`recheck_access`).
    pub credentials: Option<CredentialWatch>,
    /// This session's place in the per-IP count, held for its whole life.
    _ticket: Ticket,
    /// The authenticated address, kept past LOGOUT for the session's log line.
    pub login: Option<String>,
    /// Set by a command after which the connection closes (LOGOUT, too many
    /// failed logins); the reason for the log line.
    pub closing: Option<&'static str>,
    commands: u64,
    bad_streak: u32,
    /// After an over-long line: input is dropped through the next LF.
    discarding: bool,
}

pub(crate) async fn run(stream: TcpStream, setup: Setup) {
    let started = Instant::now();
    let Setup {
        ticket,
        peer,
        kind,
        tls,
        ctx,
        shutdown,
    } = setup;
    let id = ticket.id();
    let conn = match kind {
        ListenerKind::Imap => Connection::plain(stream),
        ListenerKind::Imaps => {
            match Connection::tls(stream, &tls, ctx.config.tls_handshake_timeout()).await {
                Ok(conn) => conn,
                Err(err) => {
                    info!(session = %id, listener = kind.as_str(), error = %err, reason = "tls handshake failed", "imap session ended");
                    return;
                }
            }
        }
    };
    let mut session = Session {
        ctx,
        conn,
        state: State::NotAuthenticated,
        kind,
        tls,
        shutdown,
        auth_failures: 0,
        enabled: Enabled::default(),
        peer,
        access_session: access_session(id),
        agency_inbox: None,
        user_slot: None,
        credentials: None,
        _ticket: ticket,
        login: None,
        closing: None,
        commands: 0,
        bad_streak: 0,
        discarding: false,
    };
    let reason = session.serve().await;
    session.conn.close().await;
    // However it ended (LOGOUT, the client gone, autologout, shutdown, revoked
    // access), a session that had the agency INBOX selected leaves it now.
    session.leave_agency_inbox().await;
    info!(
        session = %id,
        listener = kind.as_str(),
        user = session.login.as_deref(),
        commands = session.commands,
        bytes_in = session.conn.bytes_in,
        bytes_out = session.conn.bytes_out,
        duration_ms = started.elapsed().as_millis() as u64,
        reason,
        "imap session ended"
    );
}

impl Session {
    async fn serve(&mut self) -> &'static str {
        let caps = self.capabilities();
        self.untagged(Status::Ok, Some(Code::Capability(caps)), "congvu ready");
        loop {
            let input = match self.next_input().await {
                Ok(input) => input,
                Err(Disconnect(reason)) => return reason,
            };
            let outcome = match input {
                Input::Command(bytes) => match parse_command_with(&bytes, self.enabled.names()) {
                    Ok(command) => self.execute(command).await,
                    Err(err) => {
                        debug!(reason = err.reason, "unparseable command");
                        let tag = err.tag.as_ref().map(Tag::as_str);
                        // A well-formed command naming a mailbox the server cannot
                        // hold is refused, not a protocol error (RFC 3501 §9).
                        let status = if err.refusal.is_some() {
                            Status::No
                        } else {
                            Status::Bad
                        };
                        status_line(
                            &mut self.conn.output,
                            tag,
                            status,
                            err.refusal.as_ref(),
                            err.reason,
                        );
                        self.count_bad(status == Status::Bad)
                    }
                },
                Input::LineTooLong(tag) => {
                    status_line(
                        &mut self.conn.output,
                        tag.as_deref(),
                        Status::Bad,
                        Some(&Code::TooBig),
                        "Command line too long",
                    );
                    self.count_bad(true)
                }
                Input::LiteralTooBig {
                    tag,
                    non_synchronizing,
                } => {
                    let tag = tag.as_deref();
                    if non_synchronizing {
                        // The data is already on its way and cannot be told apart from
                        // commands: the only safe answer is to hang up (RFC 7888 §4).
                        status_line(
                            &mut self.conn.output,
                            tag,
                            Status::Bad,
                            Some(&Code::TooBig),
                            "Literal too big",
                        );
                        self.untagged(Status::Bye, None, "Literal too big");
                        Err(Disconnect("literal too big"))
                    } else {
                        // RFC 3501 §7.5: no `+`, so the client never sends the data.
                        let text = if self.user().is_some() {
                            "Literal too big"
                        } else {
                            "Literal too big before login (at most 8 KiB)"
                        };
                        status_line(&mut self.conn.output, tag, Status::No, Some(&Code::TooBig), text);
                        self.count_bad(true)
                    }
                }
                Input::Eof => return "client closed connection",
                Input::Shutdown => {
                    self.untagged(Status::Bye, None, "Server shutting down");
                    return "shutdown";
                }
                Input::Timeout => {
                    self.untagged(Status::Bye, None, "Autologout: idle for too long");
                    return "idle timeout";
                }
            };
            if let Err(Disconnect(reason)) = outcome {
                return reason;
            }
            if let Some(reason) = self.closing {
                return reason;
            }
        }
    }

    /// The input limits of the session's state: before login a command (and an
    /// AUTHENTICATE response) is bounded by `codec::framing::UNAUTHENTICATED_MAX`,
    /// so a client that never logs in cannot make the session hold more.
    fn limits(&self) -> Limits {
        let config = &self.ctx.config;
        let limits = Limits {
            max_line: config.max_command_line_bytes,
            max_append_literal: config.max_literal_bytes,
            max_other_literal: config.max_command_line_bytes as u64,
        };
        match self.state {
            State::NotAuthenticated | State::Logout => limits.unauthenticated(),
            State::Authenticated(_) | State::Selected(..) => limits,
        }
    }

    /// RFC 3501 §5.4: the autologout timer of an authenticated session is at least
    /// 30 minutes; before login a client that says nothing is closed much sooner, so
    /// idle unauthenticated connections cannot pile up (issue 11).
    pub fn idle_timeout(&self) -> Duration {
        let secs = match self.state {
            State::NotAuthenticated => self.ctx.config.login_timeout_secs,
            _ => self.ctx.config.idle_timeout_secs,
        };
        Duration::from_secs(secs)
    }

    /// The next command, or why there is none. Sends `+` when the client waits to
    /// send a synchronising literal that is within limits.
    async fn next_input(&mut self) -> Result<Input, Disconnect> {
        let limits = self.limits();
        loop {
            // RFC 3501 §7.1.5: shutdown is noticed between commands, never inside one.
            if shutdown_requested(&self.shutdown) {
                return Ok(Input::Shutdown);
            }
            if self.discarding {
                match self.conn.input.iter().position(|b| *b == b'\n') {
                    Some(lf) => {
                        self.conn.take_input(lf + 1);
                        self.discarding = false;
                    }
                    None => self.conn.input.clear(),
                }
            }
            if !self.discarding {
                match frame(&self.conn.input, &limits) {
                    Frame::Command(len) => return Ok(Input::Command(self.conn.take_input(len))),
                    Frame::NeedsContinuation => {
                        self.conn
                            .output
                            .extend_from_slice(b"+ Ready for literal data\r\n");
                    }
                    Frame::Incomplete => {}
                    Frame::LineTooLong { tag, line_end } => {
                        match line_end {
                            Some(end) => {
                                self.conn.take_input(end);
                            }
                            None => {
                                self.conn.input.clear();
                                self.discarding = true;
                            }
                        }
                        return Ok(Input::LineTooLong(tag));
                    }
                    Frame::LiteralTooBig {
                        tag,
                        line_end,
                        non_synchronizing,
                    } => {
                        self.conn.take_input(line_end);
                        return Ok(Input::LiteralTooBig {
                            tag,
                            non_synchronizing,
                        });
                    }
                }
            }
            self.conn.flush().await?;
            let timeout = self.idle_timeout();
            tokio::select! {
                read = self.conn.read_more() => {
                    if read? == 0 {
                        return Ok(Input::Eof);
                    }
                }
                () = shutdown_signalled(&mut self.shutdown) => return Ok(Input::Shutdown),
                () = tokio::time::sleep(timeout) => return Ok(Input::Timeout),
                // Between commands too: a revoked session ends at once, not when
                // its client next speaks.
                () = credentials_revoked(&mut self.credentials) => self.recheck_access()?,
            }
        }
    }

    /// A whole line of input without its line end, if one has arrived (IDLE's DONE,
    /// AUTHENTICATE's response). Over-long partial lines end the session.
    pub fn take_line(&mut self) -> Result<Option<Vec<u8>>, Disconnect> {
        let Some(lf) = self.conn.input.iter().position(|b| *b == b'\n') else {
            if self.conn.input.len() > self.limits().max_line {
                self.untagged(Status::Bye, None, "Line too long");
                return Err(Disconnect("line too long"));
            }
            return Ok(None);
        };
        let mut line = self.conn.take_input(lf + 1);
        line.truncate(lf);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    }

    /// Waits for a whole line (a command continuation), honouring shutdown and the
    /// idle timer.
    pub async fn read_line(&mut self) -> Result<Vec<u8>, Disconnect> {
        loop {
            if let Some(line) = self.take_line()? {
                return Ok(line);
            }
            self.conn.flush().await?;
            let timeout = self.idle_timeout();
            tokio::select! {
                read = self.conn.read_more() => {
                    if read? == 0 {
                        return Err(Disconnect("client closed connection"));
                    }
                }
                () = shutdown_signalled(&mut self.shutdown) => {
                    self.untagged(Status::Bye, None, "Server shutting down");
                    return Err(Disconnect("shutdown"));
                }
                () = tokio::time::sleep(timeout) => {
                    self.untagged(Status::Bye, None, "Autologout: idle for too long");
                    return Err(Disconnect("idle timeout"));
                }
            }
        }
    }

    /// Whether the session may go on, asked before every command and whenever what
    /// it rests on may have changed (a revocation; a change to the selected mailbox
    /// in IDLE). Its login's credentials first: a password change, or its account
    /// disabled or deleted, ends it with `BYE` (the directory's `CredentialWatch`).
    /// Then the grant behind a selected agency mailbox (`shared::recheck_selected`).
    pub fn recheck_access(&mut self) -> Result<(), Disconnect> {
        if self.credentials.as_ref().is_some_and(CredentialWatch::is_revoked) {
            // RFC 3501 §7.1.5: BYE, then the server closes the connection.
            self.untagged(
                Status::Bye,
                None,
                "Password changed or account disabled; log in again",
            );
            return Err(Disconnect("credentials revoked"));
        }
        self.recheck_selected()
    }

    pub fn untagged(&mut self, status: Status, code: Option<Code>, text: &str) {
        status_line(&mut self.conn.output, None, status, code.as_ref(), text);
    }

    /// Writes the tagged completion and keeps count of consecutive BADs.
    pub fn finish(&mut self, tag: &Tag, reply: Reply) -> Result<(), Disconnect> {
        status_line(
            &mut self.conn.output,
            Some(tag.as_str()),
            reply.status,
            reply.code.as_ref(),
            &reply.text,
        );
        self.count_bad(reply.status == Status::Bad)
    }

    /// A client that sends nothing but errors is broken or hostile; stop listening.
    fn count_bad(&mut self, bad: bool) -> Result<(), Disconnect> {
        if !bad {
            self.bad_streak = 0;
            return Ok(());
        }
        self.bad_streak += 1;
        if self.bad_streak >= self.ctx.config.bad_command_limit {
            self.untagged(Status::Bye, None, "Too many invalid commands");
            return Err(Disconnect("too many invalid commands"));
        }
        Ok(())
    }

    pub fn capabilities(&self) -> String {
        let mut caps = String::from(CAPABILITIES);
        if self.ctx.config.compress {
            caps.push_str(" COMPRESS=DEFLATE");
        }
        match self.state {
            State::NotAuthenticated if self.kind == ListenerKind::Imap && !self.conn.is_tls() => {
                caps.push_str(" STARTTLS LOGINDISABLED");
            }
            State::NotAuthenticated => caps.push_str(" AUTH=PLAIN"),
            _ => {}
        }
        caps
    }

    /// Passwords may cross this connection: only under TLS (RFC 8314, RFC 3501
    /// §6.2.3 LOGINDISABLED).
    pub fn privacy_ok(&self) -> bool {
        self.conn.is_tls()
    }

    pub fn user(&self) -> Option<&AccountRecord> {
        match &self.state {
            State::Authenticated(user) | State::Selected(user, _) => Some(user),
            State::NotAuthenticated | State::Logout => None,
        }
    }

    pub fn selected(&self) -> Option<&Selected> {
        match &self.state {
            State::Selected(_, selected) => Some(selected),
            _ => None,
        }
    }

    /// Leaves the Selected state (CLOSE, UNSELECT, a new SELECT) and ends the check
    /// span of an agency INBOX selected.
    pub async fn leave_selected(&mut self) {
        self.deselect();
        self.leave_agency_inbox().await;
    }

    /// Leaves the Selected state; callers end the check span
    /// ([`Session::leave_selected`]).
    fn deselect(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Logout);
        self.state = match state {
            State::Selected(user, _) => State::Authenticated(user),
            other => other,
        };
    }

    /// Brings the selected mailbox up to date, announcing changes.
    pub fn sync_selected(&mut self, allow_expunge: bool) {
        let store = self.ctx.store.clone();
        let State::Selected(_, selected) = &mut self.state else {
            return;
        };
        let enabled = self.enabled;
        if let Err(err) = selected.sync(store.as_ref(), allow_expunge, enabled, &mut self.conn.output) {
            error!(error = %err, "mailbox sync failed");
        }
    }

    /// Runs a store call on the blocking pool (writes wait for the disk).
    pub async fn blocking<T, F>(&self, f: F) -> congvu_store::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn MailStore) -> congvu_store::Result<T> + Send + 'static,
    {
        let store = self.ctx.store.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| f(store.as_ref())))
            .await
            .map_err(|err| StoreError::Io(io::Error::other(err.to_string())))?
    }
}

/// Resolves when the session's login credentials are revoked; never before login.
pub(crate) async fn credentials_revoked(credentials: &mut Option<CredentialWatch>) {
    match credentials {
        Some(watch) => watch.revoked().await,
        None => pending().await,
    }
}

/// The reply for a failed store call. Faults of the request are the client's
/// business (logged quietly); faults of the server are logged as errors.
pub(crate) fn store_failure(err: &StoreError) -> Reply {
    if err.is_server_fault() {
        error!(error = %err, "store failure");
        return Reply::no(Some(Code::Unavailable), "Internal error; try again later");
    }
    debug!(error = %err, "store refused request");
    match err {
        StoreError::NotFound(_) => Reply::no(Some(Code::NonExistent), "No such mailbox"),
        StoreError::Exists(_) => Reply::no(Some(Code::AlreadyExists), "Mailbox already exists"),
        StoreError::OverQuota { .. } => Reply::no(Some(Code::OverQuota), "Quota exceeded"),
        _ => Reply::no(Some(Code::Cannot), "Operation not permitted"),
    }
}
