//! # congvu-relay — outbound delivery
//!
//! Owns the way out: the worker that takes the store's durable outbound queue
//! (filled by submission, see `congvu-smtp`) to other servers — configured routes
//! (`[[routes]]`) for agencies on the provincial WAN, MX lookup for the Internet — and
//! the reports (RFC 3464) that tell senders what happened. Inbound sender
//! authentication (SPF, DKIM, ARC and DMARC verification) is `congvu-mailauth`.
//!
//! ## A queue entry's life
//! ```text
//!   enqueue (submission, 250 sent) ──► Queued ──due──► Attempt ──┬─ every recipient 2xx/5xx ──► removed
//!                                        ▲                       │   (5xx: bounce to sender)
//!                                        │                       │
//!                                        └── backoff ◄── some 4xx / no connection
//!                                              (4 h: one delay notice; 5 days: bounce, removed)
//!   operator: `queue retry` ─► due now · `queue delete` ─► removed, no report
//! ```
//!
//! ## Invariants
//! - **Removed only after the remote 250** for every recipient (or its bounce):
//!   progress is written after the reply, so a crash repeats a delivery, never
//!   loses one (at-least-once).
//! - **4xx and 5xx per recipient**: a recipient keeps its own fate; only the
//!   deferred ones stay in the entry.
//! - **No report about a report**: the null sender gets no bounce or delay notice.
//! - **The sender's DSN wishes (RFC 3461) are kept**: a next hop that advertises
//!   `DSN` gets `RET`/`ENVID` and each recipient's `NOTIFY`/`ORCPT`; reports from
//!   here honour `NOTIFY` per recipient (`NEVER`: none; without it: failure and
//!   delay), carry `Original-Envelope-Id` and `Original-Recipient`, and return the
//!   whole message only for `RET=FULL` failures ([`dsn`]). `NOTIFY=SUCCESS` to a
//!   next hop without DSN earns a `relayed` report after its `250`.
//! - **No bare LF or CR on the wire**: line endings are normalised to CRLF before
//!   signing and sending ([`client::data`]), so stored bytes cannot smuggle commands.
//! - **Tests never ask real DNS**: name lookups go through [`Resolver`]; tests use
//!   [`StaticResolver`].
//! - **Policies only tighten**: MTA-STS `enforce` and authenticated DANE records make
//!   TLS (and the certificate check) mandatory; when they cannot be met the attempt is
//!   deferred, never sent in plain text. Unauthenticated TLSA records are ignored.
//!
//! ## Layout
//! `client` is the SMTP client (`reply` and `ehlo` parsing are I/O-free), `route` the
//! next-hop choice, `resolve` MX/A/TXT/TLSA lookups, `mta_sts` (RFC 8461 policies:
//! I/O-free parsing in `policy`, HTTPS fetch, cache) and `dane` (RFC 7672 TLSA
//! matching, a rustls certificate verifier) — the TLS demands of Internet
//! destinations —, `dkim` signing, `dsn` reports (also the `delivered` report the
//! SMTP side builds for local recipients, [`dsn::delivered_report`], and the
//! acknowledgement of receipt, an RFC 8098 MDN, [`dsn::mdn`]), `worker` the
//! queue loop, woken through a [`QueueWaker`] by whoever queues mail.

pub mod client;
pub mod config;
pub mod dane;
pub mod dkim;
pub mod dsn;
mod metrics;
pub mod mta_sts;
pub mod resolve;
pub mod route;
pub mod waker;
pub mod worker;

pub use config::{DkimConfig, QueueConfig, Route, TlsMode};
pub use metrics::{DeliveryMetrics, DeliverySnapshot};
pub use resolve::{DnsResolver, Resolver, StaticResolver};
pub use waker::QueueWaker;
pub use worker::{Outcome, Relay, RelayError, RelaySettings, retry_now, send_report};
