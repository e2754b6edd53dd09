//! The `[inbound_auth]` section of the server configuration.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use congvu_policy::Cidr;
use serde::Deserialize;

/// Sender authentication of mail arriving on the MX port. Every field has a default,
/// so the section may be empty or absent; unknown keys are refused.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InboundAuthConfig {
    /// Check SPF, DKIM, DMARC and ARC on the MX port. Off: no check and no
    /// `Authentication-Results:` is added; forged ones claiming our authserv-id are
    /// still removed (RFC 8601 §5).
    pub enabled: bool,
    /// Refuse (550 5.7.1) a message failing DMARC whose domain publishes `p=reject`
    /// (RFC 7489 §6.3, §10.1 — the receiver decides). Off: it is delivered, tagged.
    pub dmarc_reject: bool,
    /// Refuse (550 5.7.1) a message whose From or MAIL FROM domain is one of ours
    /// when nothing (aligned SPF or DKIM) shows that it comes from us.
    pub refuse_local_spoof: bool,
    /// The authserv-id of `Authentication-Results:` (RFC 8601 §2.5); empty: the
    /// server's `[server] hostname`.
    pub authserv_id: String,
    /// DNS servers to ask, `ip` or `ip:port`; empty: those of `/etc/resolv.conf`.
    pub dns_servers: Vec<DnsServer>,
    /// Time allowed for one DNS answer (each query is tried twice); the whole check of
    /// one message is limited to six times this.
    pub dns_timeout_secs: u64,
    /// Peers whose mail is not checked (no `Authentication-Results:` of ours is added;
    /// forged ones in our name are still removed): the local host, and typically the
    /// agencies' servers of `[policy] agency_relays` when they relay mail of the
    /// province's own domains.
    pub trusted_networks: Vec<Cidr>,
}

impl Default for InboundAuthConfig {
    fn default() -> InboundAuthConfig {
        InboundAuthConfig {
            enabled: true,
            dmarc_reject: true,
            refuse_local_spoof: true,
            authserv_id: String::new(),
            dns_servers: Vec::new(),
            dns_timeout_secs: 5,
            trusted_networks: vec![
                Cidr::from_str("127.0.0.0/8").unwrap_or_else(|_| unreachable!("valid literal")),
                Cidr::from_str("::1/128").unwrap_or_else(|_| unreachable!("valid literal")),
            ],
        }
    }
}

impl InboundAuthConfig {
    /// The authserv-id in use: `authserv_id`, or `hostname` (`[server] hostname`)
    /// when it is empty.
    pub fn authserv_id_or<'a>(&'a self, hostname: &'a str) -> &'a str {
        if self.authserv_id.is_empty() {
            hostname
        } else {
            &self.authserv_id
        }
    }

    pub fn dns_timeout(&self) -> Duration {
        Duration::from_secs(self.dns_timeout_secs)
    }

    /// Errors a valid-looking file can still have, one line each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.dns_timeout_secs == 0 {
            problems.push("dns_timeout_secs: must be larger than zero".to_owned());
        }
        // RFC 8601 §2.2: authserv-id is a value (token or quoted string); a host name.
        if !self.authserv_id.is_empty() && !is_authserv_id(&self.authserv_id) {
            problems.push(format!(
                "authserv_id {:?}: must be a host name (letters, digits, '-', '.')",
                self.authserv_id
            ));
        }
        problems
    }
}

/// A host name usable as authserv-id without quoting.
pub(crate) fn is_authserv_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// One DNS server: an IP address with port 53, or `ip:port` (`[v6]:port`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsServer(pub SocketAddr);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid DNS server {0:?}: expected an IP address or ip:port such as 10.0.0.53:53")]
pub struct DnsServerError(String);

impl FromStr for DnsServer {
    type Err = DnsServerError;
    fn from_str(s: &str) -> Result<DnsServer, DnsServerError> {
        let s = s.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(DnsServer(SocketAddr::new(ip, 53)));
        }
        s.parse::<SocketAddr>()
            .map(DnsServer)
            .map_err(|_| DnsServerError(s.to_owned()))
    }
}

impl fmt::Display for DnsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for DnsServer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DnsServer, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_section_gives_the_defaults_and_typos_are_refused() {
        let config: InboundAuthConfig = toml::from_str("").unwrap();
        assert_eq!(config, InboundAuthConfig::default());
        assert!(config.problems().is_empty());
        assert!(toml::from_str::<InboundAuthConfig>("dmarc_rejects = true").is_err());
    }

    #[test]
    fn dns_servers_and_authserv_id() {
        let config: InboundAuthConfig = toml::from_str(
            "dns_servers = [\"10.0.0.53\", \"127.0.0.1:5353\", \"[::1]:53\"]\nauthserv_id = \"mx.a.vn\"",
        )
        .unwrap();
        let servers: Vec<String> = config.dns_servers.iter().map(ToString::to_string).collect();
        assert_eq!(servers, ["10.0.0.53:53", "127.0.0.1:5353", "[::1]:53"]);
        assert!(config.problems().is_empty());
        assert!(toml::from_str::<InboundAuthConfig>("dns_servers = [\"ns.a.vn\"]").is_err());
        let bad: InboundAuthConfig = toml::from_str("authserv_id = \"a; b\"\ndns_timeout_secs = 0").unwrap();
        assert_eq!(bad.problems().len(), 2);
    }
}
