//! # congvu-smtp — SMTP ingress
//!
//! Owns the three SMTP listeners ([`ListenerKind`]): **MX** (port 25, RFC 5321) takes
//! mail from other servers for local recipients only; **submission** (587, RFC 6409
//! with STARTTLS, RFC 3207) and **submissions** (465, implicit TLS, RFC 8314) take
//! mail from the province's officials after AUTH PLAIN/LOGIN (RFC 4954), for local
//! recipients and, through the durable outbound queue, for anyone. Extensions:
//! PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531),
//! ENHANCEDSTATUSCODES (RFC 2034, RFC 3463), CHUNKING (BDAT, RFC 3030; not
//! BINARYMIME) and DSN (RFC 3461: RET, ENVID, NOTIFY, ORCPT, kept with the envelope
//! for the relay's reports), on every port. Outbound delivery is not here.
//!
//! ## Session states
//!
//! ```text
//!  connect ─(465: TLS handshake first)─► Connected ──EHLO/HELO──► Greeted ◄─────────────┐
//!                                           ▲                     │  │  │               │
//!              TLS handshake; greeting,     │                     │  │  └─AUTH─► Auth ──┤ 235, 535, 501
//!              AUTH and input forgotten ◄───┴── STARTTLS (220) ◄──┘  │   (587/465, TLS;  │
//!                                                                    │    334 challenges)│
//!                                                                MAIL FROM              │
//!                                                                    ▼                  │
//!                                                                  Mail ◄─┐ RCPT TO     │
//!                                                                    ├────┘             │
//!                                                                    │ DATA (354) or BDAT n,
//!                                                                    │ ≥1 RCPT accepted │
//!                                                                    ▼                  │
//!          ┌───────────── BDAT n: the chunk is read ─────────────► Data ── CRLF.CRLF, ──┘
//!          │                                                         │    or the chunk of
//!      Chunking ◄───────── chunk read, not LAST: 250 2.0.0 ──────────┘    BDAT n LAST read:
//!                                                                    store, 250 / 4xx / 5xx
//!
//!  RSET: back to Greeted (Connected before any EHLO). EHLO/HELO: Greeted.
//!  A refused BDAT's octets are still read and dropped: out of sequence (503/554,
//!  like DATA); with a bad argument (501) or a chunk over the size limit (552), the
//!  transaction aborted too. A BDAT whose size is unreadable: 501 and close. DATA or
//!  RCPT after a BDAT: 503, the transaction aborted.
//!  QUIT (221), limits, idle timeout, shutdown (421): close.
//! ```
//!
//! ## Invariants
//! - **`250` after DATA means durable**: local copies are delivered by the store and
//!   remote recipients queued before the reply is written; on any store failure the
//!   reply is `451` and nothing is acknowledged.
//! - **One line-ending rule at the door**: every bare CR and bare LF of DATA (and
//!   BDAT) becomes CRLF before any check (`parse::CanonicalSink`), so what is checked
//!   is what is stored, signed and relayed, byte for byte; the transparency dots are
//!   removed (RFC 5321 §4.5.2).
//! - **The received bytes are never rewritten** except by the regulation's announced
//!   legacy encoding conversion (`X-Congvu-Converted:`, submission only) and the
//!   removal of `Authentication-Results:` forged in our name: each check returns a
//!   verdict and the header lines it adds (`Return-Path:` on local copies,
//!   `Authentication-Results:`, `X-Congvu-Policy:`, `Received:`), and the store writes
//!   them and the body as one blob without joining them in memory.
//! - **Sender authentication on MX** (`congvu-mailauth`): mail from untrusted peers
//!   on port 25 is checked (SPF, DKIM, ARC, DMARC) after the final dot; a forged local
//!   domain or a DMARC `p=reject` failure is refused (550 5.7.1), and what is stored
//!   carries our `Authentication-Results:` and none forged in our name.
//! - **Policy before storage**: every message passes `congvu-policy` (Decision 3380,
//!   Art. 6–9) after the final dot; a refusal (550 5.7.1, 552 5.3.4, 550 5.6.0, with
//!   Vietnamese then English text) stores nothing.
//! - **Only `CRLF.CRLF` ends DATA**, so bare-LF tricks cannot smuggle a second
//!   message (see [`parse::DataReader`]); a BDAT chunk ends after exactly its
//!   announced octets, read even when the BDAT is refused ([`parse::ChunkReader`]).
//! - **No relay**: a recipient outside the local domains needs an authenticated
//!   submitter; AUTH exists only on submission, only over TLS.
//! - **Nothing read before a TLS handshake survives it** (RFC 3207 §4.2).
//! - **Bounded resources**: connections (global and per address, checked before
//!   any work by `congvu-listener`), command lines, messages, recipients, errors,
//!   commands without mail, idle time, failed logins — see [`SmtpConfig`]. Arriving
//!   mail data past `spool_threshold_bytes` (or past the shared `spool_memory_mb`)
//!   waits in an unnamed spool file, so a stalled DATA or BDAT costs disk, not memory.
//! - **Bad input gets a reply, never a panic**; passwords and bodies are never logged.
//!
//! ## Layout
//! [`parse`] and [`reply`] live in `congvu_protocol::smtp`, I/O-free and standing
//! alone (commands and their encoder, lines, DATA, BDAT, SASL, replies). `session` is the state
//! machine, one file per verb; [`submit`] drives it without a socket for the webmail. `server` owns sockets, TLS, timeouts and shutdown.

mod config;
mod server;
mod session;

use std::sync::Arc;

pub use config::SmtpConfig;
pub use congvu_protocol::smtp::{Reply, parse, reply};
pub use server::{ListenerKind, serve};
pub use session::{LocalSubmission, MemoryBudget, Refused, submit};

/// What every session needs: its limits, the regulation's policy, the store and the
/// directory.
pub struct SmtpContext {
    pub config: SmtpConfig,
    /// Decision 3380's rules, applied at the end of DATA.
    pub policy: congvu_policy::PolicyConfig,
    /// Verdict counters, shared with whatever exposes metrics.
    pub policy_metrics: Arc<congvu_policy::Metrics>,
    pub store: Arc<dyn congvu_store::MailStore>,
    pub directory: Arc<congvu_directory::Directory>,
    /// Sender authentication on the MX port (`[inbound_auth]`); `None`: disabled.
    pub inbound_auth: Option<congvu_mailauth::Verifier>,
    /// Our authserv-id (RFC 8601 §2.5): `Authentication-Results:` claiming it are
    /// removed from every message even when `inbound_auth` is disabled.
    pub authserv_id: String,
    /// S/MIME signature verification (`[smime]`, Art. 11.3); `None`: not checked.
    pub smime: Option<Arc<congvu_smime::Verifier>>,
    /// Virus scanning with clamd (`[antivirus]`, Art. 17.6); `None`: not scanned.
    pub antivirus: Option<congvu_antivirus::Scanner>,
    /// Live sessions of the three listeners against `[smtp] max_connections*`.
    pub admission: Arc<congvu_listener::Admission>,
    /// Mail data held in memory by all transactions (`[smtp] spool_memory_mb`).
    pub memory_budget: Arc<MemoryBudget>,
    /// Wakes the outbound queue worker once mail is queued: it does not poll.
    pub queue_waker: congvu_relay::QueueWaker,
    /// The domain patterns of the relay's `[[routes]]` (exact, or `*.suffix`): the
    /// other agencies of the provincial network. A submitted message to one of them
    /// counts as sent to another agency, not to the Internet (mail events, issue 14).
    pub agency_domains: Vec<String>,
}
