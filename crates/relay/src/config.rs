//! The `[queue]`, `[[routes]]` and `[dkim]` sections of the server configuration.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Retry schedule and connection limits of the outbound queue. Every field has a
/// default, so `[queue]` may be empty or absent.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Whether this process delivers the queue at all (a second process could).
    pub enabled: bool,
    /// The longest the worker sleeps between two reads of the queue. It is woken when
    /// mail is queued ([`crate::QueueWaker`]) and when the earliest retry is due, so
    /// this sweep only catches what nobody woke it for (an entry whose body could not
    /// be read, a queue read that failed). Default 300.
    pub scan_interval_secs: u64,
    /// Wait before the first retry; doubles after each failed attempt…
    pub retry_initial_secs: u64,
    /// …up to this (RFC 5321 §4.5.4.1: at least 30 minutes between retries).
    pub retry_max_secs: u64,
    /// A message still undelivered this long after it was queued is bounced
    /// (RFC 5321 §4.5.4.1: at least 4–5 days).
    pub give_up_after_secs: u64,
    /// A message still undelivered this long after it was queued earns its sender
    /// one delay notice (RFC 3464 `Action: delayed`).
    pub delay_notice_after_secs: u64,
    /// Port of the SMTP servers found by MX lookup (25; tests point it elsewhere).
    pub mx_port: u16,
    /// Simultaneous connections to one destination host.
    pub connections_per_host: usize,
    /// Simultaneous outbound connections in all.
    pub max_connections: usize,
    /// Time for a TCP connect.
    pub connect_timeout_secs: u64,
    /// Time for each server reply (RFC 5321 §4.5.3.2 suggests 5 minutes for most,
    /// 10 for the end of DATA; one value keeps it simple).
    pub reply_timeout_secs: u64,
    /// After shutdown is signalled, how long deliveries in flight may take to finish
    /// before they are cut off (a cut-off message is retried after restart).
    pub shutdown_grace_secs: u64,
    /// MTA-STS (RFC 8461) for MX destinations: a domain's published policy decides
    /// which MX hosts are acceptable and makes TLS with a valid certificate mandatory.
    pub mta_sts: bool,
    /// The CA certificates (PEM) that MTA-STS policy hosts and MX hosts under an
    /// `enforce` policy must chain to.
    pub mta_sts_ca_file: PathBuf,
    /// DANE (RFC 7672) for MX destinations: DNSSEC-authenticated TLSA records pin the
    /// MX host's certificate. Needs DNS that passes DNSSEC records through.
    pub dane: bool,
    /// A failure report returns the whole message (`message/rfc822`) when the sender
    /// asked `RET=FULL` (RFC 3461 §4.3) and the message is at most this size; a larger
    /// one, or one without `RET`, gets its header section back. Reports of submitted
    /// mail land in the official's INBOX and count against the quota (Art. 9).
    pub dsn_return_full_max_bytes: u64,
    /// How long this process holds the queue entries it claims for an attempt
    /// (`MailStore::claim_queue`): nodes sharing a PostgreSQL store deliver none of
    /// them meanwhile. Longer than an attempt lasts; also how long the entries of a
    /// node that died mid-attempt wait before another node tries them.
    pub claim_lease_secs: u64,
}

impl Default for QueueConfig {
    fn default() -> QueueConfig {
        QueueConfig {
            enabled: true,
            scan_interval_secs: 300,
            retry_initial_secs: 5 * 60,
            retry_max_secs: 2 * 60 * 60,
            give_up_after_secs: 5 * 24 * 60 * 60,
            delay_notice_after_secs: 4 * 60 * 60,
            mx_port: 25,
            connections_per_host: 4,
            max_connections: 64,
            connect_timeout_secs: 30,
            reply_timeout_secs: 300,
            shutdown_grace_secs: 5,
            mta_sts: true,
            mta_sts_ca_file: PathBuf::from("/etc/ssl/certs/ca-certificates.crt"),
            dane: false,
            dsn_return_full_max_bytes: 10 * 1024 * 1024,
            claim_lease_secs: 15 * 60,
        }
    }
}

impl QueueConfig {
    /// The wait after the `attempts`-th failed attempt: initial × 2^(attempts−1),
    /// capped at the maximum.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(32);
        let secs = self.retry_initial_secs.saturating_mul(1u64 << doublings);
        Duration::from_secs(secs.min(self.retry_max_secs.max(self.retry_initial_secs)))
    }
    pub fn scan_interval(&self) -> Duration {
        Duration::from_secs(self.scan_interval_secs.max(1))
    }
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }
    pub fn reply_timeout(&self) -> Duration {
        Duration::from_secs(self.reply_timeout_secs)
    }
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// How a route uses STARTTLS (RFC 3207).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Never: for a hop on a trusted link only.
    None,
    /// When offered; the certificate is not checked (RFC 7435 opportunistic security:
    /// better than plain text, no worse when the peer has no TLS).
    #[default]
    Opportunistic,
    /// Must be negotiated, or the attempt fails temporarily and is retried. The
    /// certificate is checked against `ca_file` when one is given.
    Required,
}

/// One `[[routes]]` entry: mail for these domains goes to `next_hop`, not to MX.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Exact domains (`bacninh.gov.vn`) or one-level-or-deeper wildcards
    /// (`*.thanhhoa.gov.vn` matches `sttt.thanhhoa.gov.vn`, not `thanhhoa.gov.vn`).
    pub domains: Vec<String>,
    /// `host:port`; the host may be a name or an IP address (`[::1]:25` for IPv6).
    pub next_hop: String,
    #[serde(default)]
    pub tls: TlsMode,
    /// PEM CA certificates that the next hop's certificate must chain to (with
    /// `tls = "required"`); without it the certificate is not checked.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// SMTP AUTH PLAIN (RFC 4954) at the next hop, only over TLS.
    #[serde(default)]
    pub auth_user: Option<String>,
    /// File holding the password (first line); needs `auth_user`.
    #[serde(default)]
    pub auth_password_file: Option<PathBuf>,
}

/// `[dkim]`: which domains sign, with keys made by `congvu dkim generate`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DkimConfig {
    /// Domains (of the `From:` address) whose mail is signed. Each needs a key in
    /// `data_dir/dkim/<domain>.<selector>.key` (written by `congvu dkim generate`).
    pub domains: Vec<String>,
    /// The selector (`<selector>._domainkey.<domain>` TXT record).
    pub selector: String,
}

impl Default for DkimConfig {
    fn default() -> DkimConfig {
        DkimConfig {
            domains: Vec::new(),
            selector: "congvu".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_queue_section_gives_the_defaults() {
        let config: QueueConfig = toml::from_str("").unwrap();
        assert_eq!(config, QueueConfig::default());
        assert!(toml::from_str::<QueueConfig>("retry_inital_secs = 1").is_err());
    }

    #[test]
    fn backoff_doubles_from_five_minutes_to_two_hours() {
        let config = QueueConfig::default();
        let table = [
            (1, 300),
            (2, 600),
            (3, 1200),
            (4, 2400),
            (5, 4800),
            (6, 7200),
            (7, 7200),
            (200, 7200),
        ];
        for (attempts, secs) in table {
            assert_eq!(
                config.backoff(attempts),
                Duration::from_secs(secs),
                "attempt {attempts}"
            );
        }
    }

    #[test]
    fn routes_parse_as_in_the_issue() {
        #[derive(Deserialize)]
        struct File {
            routes: Vec<Route>,
        }
        let file: File = toml::from_str(
            r#"
            [[routes]]
            domains = ["bacninh.gov.vn", "*.thanhhoa.gov.vn"]
            next_hop = "relay.wan.thanhhoa.gov.vn:25"
            tls = "required"
            "#,
        )
        .unwrap();
        assert_eq!(file.routes[0].tls, TlsMode::Required);
        assert_eq!(file.routes[0].auth_user, None);
        assert!(
            toml::from_str::<File>("[[routes]]\ndomains = []\nnext_hop = \"x:25\"\ntls = \"maybe\"").is_err()
        );
    }
}
