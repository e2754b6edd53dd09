//! # congvu-antivirus — virus scanning of every message with ClamAV (Art. 17.6)
//!
//! The SMTP session (`congvu-smtp`) hands a [`Scanner`] the message at the end of DATA
//! or BDAT, on both ports, and applies the [`Decision`]: the whole message as it will
//! be stored (its added header lines and the received bytes, as separate slices) is
//! one stream — clamd reads the MIME structure, base64 and archives itself
//! (`ScanMail`, `ScanArchive`) — and each file the policy walk decoded that clamd
//! would not find as MIME (TNEF contents, uuencoded bodies) is another.
//!
//! - [`config`]: the `[antivirus]` section; no `clamd` address, no scanning.
//! - [`scanner`]: the client of clamd's `INSTREAM` protocol (clamd(8)) over TCP or a
//!   unix socket, bounded by a timeout and a stream size.
//! - [`reply`]: clamd's answers, read without I/O (fuzzed); untrusted text made safe.
//! - [`decision`]: infected → `554 5.7.1`; not scanned → `451 4.7.1` or accepted, by
//!   `on_error`; the reply texts.
//! - [`metrics`]: counters for the metrics endpoint.
//! - `test_clamd` (feature `test-clamd`): a private clamd with an EICAR signature for
//!   tests.

#[cfg(test)]
mod clamd_tests;
pub mod config;
pub mod decision;
pub mod metrics;
pub mod reply;
pub mod scanner;
#[cfg(any(test, feature = "test-clamd"))]
pub mod test_clamd;

pub use config::{AntivirusConfig, ClamdAddress, InvalidClamdAddress, OnError};
pub use decision::{Decision, ReplyParts, defer_text, infected_text};
pub use metrics::{Metrics, MetricsSnapshot};
pub use reply::{ScanReply, SignatureName, UnexpectedReply, parse_pong, parse_scan_reply};
pub use scanner::{Error, ScanVerdict, Scanner, Stream};
