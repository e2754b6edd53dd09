//! The `[smtp]` section of the server configuration.

use std::time::Duration;

use serde::Deserialize;

/// SMTP limits and identity. Every field has a default, so `[smtp]` may be empty or
/// absent; unknown keys are refused so that a typo does not silently keep a default.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Name in the greeting, EHLO reply and `Received:` headers. Not a key of
    /// `[smtp]`: the binary sets it from `[server] hostname`, the one place it is named.
    #[serde(skip)]
    pub hostname: String,
    /// Largest message accepted, in bytes of mail data (advertised as `SIZE`).
    /// Default 36 MiB: the regulation allows 10 MB of attachments per message;
    /// base64 turns that into about 13.7 MB with line breaks, and quoted-printable
    /// (which some clients use for text attachments) into up to 30 MB. 36 MiB keeps
    /// every such message and leaves room for the body and headers.
    pub max_message_bytes: u64,
    /// Recipients per transaction; more get `452 4.5.3` (RFC 5321 §4.5.3.1.8 asks
    /// for at least 100).
    pub max_recipients: usize,
    /// Longest command line. RFC 5321 §4.5.3.1.4 sets 512 octets, but extensions
    /// (AUTH initial responses, SMTPUTF8 addresses) need more; 4096 by default.
    pub max_line_bytes: usize,
    /// Commands allowed before or between transactions (EHLO, NOOP, RSET, VRFY, …)
    /// before the connection is closed with 421: stops sessions that never mail.
    pub max_commands_without_mail: u32,
    /// Refused commands (5xx replies) allowed in one session before 421 and close.
    pub max_errors: u32,
    /// Failed AUTH attempts in one session before 421 and close. From the fourth
    /// on, each failure is also answered a little later (RFC 4954 §4 allows it).
    pub max_auth_failures: u32,
    /// Time to wait for a command (RFC 5321 §4.5.3.2.7: at least 5 minutes).
    pub idle_timeout_secs: u64,
    /// Time to wait for each block of mail data (RFC 5321 §4.5.3.2.5: 3 minutes).
    pub data_timeout_secs: u64,
    /// After shutdown is signalled, how long a transaction already in DATA may take
    /// to finish before it is cut off with 421 (nothing of it is acknowledged).
    pub shutdown_grace_secs: u64,
    /// SMTP sessions at once, the three listeners together (0: no limit); more get
    /// `421 4.7.0` before anything else (`congvu-listener`).
    pub max_connections: u32,
    /// SMTP sessions at once from one client address, IPv6 counted per /64 (0: no
    /// limit). An agency's officials behind one NAT address share it.
    pub max_connections_per_ip: u32,
    /// Time a client has to finish the TLS handshake (465 at once, 25/587 after
    /// STARTTLS).
    pub tls_handshake_timeout_secs: u64,
    /// Longest a transaction may take from MAIL to its end of data: a sender that
    /// drips its data a byte per block timeout cannot hold a session forever.
    pub max_transaction_secs: u64,
    /// Mail data a transaction keeps in memory while it arrives; past it the data
    /// goes to an unnamed file in `spool_dir` (a stalled DATA costs disk, not memory).
    pub spool_threshold_bytes: usize,
    /// Mail data all transactions together keep in memory, in MiB; past it every
    /// new byte goes to files.
    pub spool_memory_mb: u64,
    /// Where arriving mail data is spooled. Not a key of `[smtp]`: the binary sets
    /// it to `data_dir/spool` (0700).
    #[serde(skip)]
    pub spool_dir: std::path::PathBuf,
}

impl Default for SmtpConfig {
    fn default() -> SmtpConfig {
        SmtpConfig {
            hostname: "localhost".to_owned(),
            max_message_bytes: 36 * 1024 * 1024,
            max_recipients: 100,
            max_line_bytes: 4096,
            max_commands_without_mail: 50,
            max_errors: 20,
            max_auth_failures: 10,
            idle_timeout_secs: 300,
            data_timeout_secs: 180,
            shutdown_grace_secs: 5,
            max_connections: 1000,
            max_connections_per_ip: 50,
            tls_handshake_timeout_secs: 10,
            max_transaction_secs: 1800,
            spool_threshold_bytes: 256 * 1024,
            spool_memory_mb: 64,
            spool_dir: std::env::temp_dir(),
        }
    }
}

impl SmtpConfig {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
    pub fn data_timeout(&self) -> Duration {
        Duration::from_secs(self.data_timeout_secs)
    }
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
    pub fn max_transaction(&self) -> Duration {
        Duration::from_secs(self.max_transaction_secs)
    }
    pub fn tls_handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.tls_handshake_timeout_secs)
    }
    /// The caps of the shared accept loop.
    pub fn limits(&self) -> congvu_listener::Limits {
        congvu_listener::Limits {
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_section_gives_the_defaults() {
        let config: SmtpConfig = toml::from_str("").unwrap();
        assert_eq!(config, SmtpConfig::default());
    }

    #[test]
    fn fields_override_and_typos_are_refused() {
        let config: SmtpConfig = toml::from_str("max_recipients = 5\nidle_timeout_secs = 30").unwrap();
        assert_eq!(config.max_recipients, 5);
        assert_eq!(config.idle_timeout(), Duration::from_secs(30));
        assert!(toml::from_str::<SmtpConfig>("hostname = \"mx.x.vn\"").is_err());
        assert_eq!(config.max_line_bytes, 4096);
        assert!(toml::from_str::<SmtpConfig>("max_recipient = 5").is_err());
    }
}
