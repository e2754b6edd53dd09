//! # congvu-mailauth — sender authentication of inbound mail
//!
//! SPF (RFC 7208), DKIM (RFC 6376), ARC (RFC 8617, read only) and DMARC (RFC 7489)
//! verification with mail-auth, for mail that arrives on the MX port from peers
//! outside `[inbound_auth] trusted_networks`. The SMTP session (`congvu-smtp`) calls
//! [`Verifier::check`] at the end of DATA and applies the [`Decision`]: the
//! `Authentication-Results:` field (RFC 8601) is prepended to what is stored, after
//! [`without_own_results`] removed any field claiming our authserv-id (RFC 8601 §5).
//!
//! The decisions and the replies they lead to are in [`verify`].
//!
//! ## DNS
//! Every lookup goes through the hickory resolver inside mail-auth, configured with
//! `[inbound_auth] dns_servers` — or, when that is empty, `/etc/resolv.conf` — with
//! its own answer cache. Tests point `dns_servers` at [`test_dns::DnsServer`] (feature
//! `test-dns`), an authoritative responder on 127.0.0.1, so no test asks the
//! machine's DNS, and the same single DNS path is exercised as in production.
//!
//! The same verifier checks DKIM signatures made by `congvu-relay` in its tests.

pub mod config;
mod from;
pub mod header;
pub mod metrics;
#[cfg(any(test, feature = "test-dns"))]
pub mod test_dns;
pub mod verify;

pub use config::{DnsServer, InboundAuthConfig};
pub use header::without_own_results;
pub use metrics::{Metrics, MetricsSnapshot};
pub use verify::{Decision, FromNote, Input, Outcome, Refusal, Verifier, VerifierError, defer_text};
