//! The `[antivirus]` section of the server configuration, and the validated address
//! of clamd.
//!
//! Invariants:
//! 1. A [`ClamdAddress`] is either an IP socket address with a non-zero port or an
//!    absolute unix socket path; no other form (no host names: resolving one would
//!    ask the machine's DNS on every scan).
//! 2. No `clamd` key means no scanning at all, so that a machine without ClamAV
//!    serves mail with the default configuration.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

/// Largest value clamd accepts for its size options (`StreamMaxLength` is read as a
/// 32-bit size, clamd.conf(5)).
const CLAMD_SIZE_LIMIT: u64 = u32::MAX as u64;

/// Virus scanning of every message with ClamAV's daemon (Art. 17.6). Every field has
/// a default, so the section may be empty or absent; unknown keys are refused.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AntivirusConfig {
    /// Where clamd listens: `"127.0.0.1:3310"` (its `TCPAddr`/`TCPSocket`) or
    /// `"unix:/run/clamav/clamd.ctl"` (its `LocalSocket`). Absent (the default): no
    /// message is scanned.
    pub clamd: Option<ClamdAddress>,
    /// What a message gets when it could not be scanned (clamd down, too slow, or
    /// answering an error). Default `"tempfail"`: 451 4.7.1, the sender retries.
    pub on_error: OnError,
    /// Time allowed for scanning one message: connecting, streaming every part and
    /// reading clamd's answers. Default 30.
    pub timeout_secs: u64,
    /// Largest stream sent to clamd, in bytes. It must not exceed clamd's
    /// `StreamMaxLength` (clamd cuts the connection beyond it), and should not be below
    /// the largest message accepted plus its added header lines. Default 40 MiB
    /// (41943040): the 36 MiB of `[smtp] max_message_bytes` and headroom; set
    /// `StreamMaxLength 40M` in clamd.conf (Debian ships 25M). A larger stream is not
    /// sent and the message counts as not scanned (`on_error`).
    pub max_stream_bytes: u64,
}

impl Default for AntivirusConfig {
    fn default() -> AntivirusConfig {
        AntivirusConfig {
            clamd: None,
            on_error: OnError::Tempfail,
            timeout_secs: 30,
            max_stream_bytes: 40 * 1024 * 1024,
        }
    }
}

impl AntivirusConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// Errors a valid-looking file can still have, one line each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.timeout_secs == 0 {
            problems.push("timeout_secs: must be larger than zero".to_owned());
        }
        if self.max_stream_bytes == 0 || self.max_stream_bytes > CLAMD_SIZE_LIMIT {
            problems.push(format!(
                "max_stream_bytes: must be between 1 and {CLAMD_SIZE_LIMIT} (clamd's largest StreamMaxLength)"
            ));
        }
        problems
    }
}

/// The action for a message that could not be scanned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// 451 4.7.1: the sender keeps the message and retries (RFC 5321 §4.2.5).
    #[default]
    Tempfail,
    /// Accept it unscanned; counted in the metrics (`skipped_on_error`).
    Accept,
}

/// Where clamd listens (invariant 1).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ClamdAddress {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// Why a `clamd` value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "clamd: {0:?} is neither IP:PORT (\"127.0.0.1:3310\") nor unix:/ABSOLUTE/PATH (\"unix:/run/clamav/clamd.ctl\")"
)]
pub struct InvalidClamdAddress(String);

impl FromStr for ClamdAddress {
    type Err = InvalidClamdAddress;

    fn from_str(text: &str) -> Result<ClamdAddress, InvalidClamdAddress> {
        let invalid = || InvalidClamdAddress(text.to_owned());
        if let Some(path) = text.strip_prefix("unix:") {
            let path = Path::new(path);
            // A NUL cannot reach a socket path through the C API clamd also uses.
            if !path.is_absolute() || path.as_os_str().as_encoded_bytes().contains(&0) {
                return Err(invalid());
            }
            return Ok(ClamdAddress::Unix(path.to_owned()));
        }
        match text.parse::<SocketAddr>() {
            Ok(address) if address.port() != 0 => Ok(ClamdAddress::Tcp(address)),
            _ => Err(invalid()),
        }
    }
}

impl TryFrom<String> for ClamdAddress {
    type Error = InvalidClamdAddress;

    fn try_from(text: String) -> Result<ClamdAddress, InvalidClamdAddress> {
        text.parse()
    }
}

/// The configuration form, so that logs and error messages show what the file says.
impl fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClamdAddress::Tcp(address) => write!(f, "{address}"),
            ClamdAddress::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_defaults_to_disabled() {
        let config: AntivirusConfig = toml::from_str("").unwrap();
        assert_eq!(config, AntivirusConfig::default());
        assert_eq!(config.clamd, None);
        assert_eq!(config.on_error, OnError::Tempfail);
        assert_eq!(config.timeout(), Duration::from_secs(30));
        // Every message up to [smtp] max_message_bytes (36 MiB) plus headers fits.
        assert!(config.max_stream_bytes > 36 * 1024 * 1024);
        assert!(config.problems().is_empty());
    }

    #[test]
    fn full_section() {
        let config: AntivirusConfig = toml::from_str(
            r#"
            clamd = "unix:/run/clamav/clamd.ctl"
            on_error = "accept"
            timeout_secs = 5
            max_stream_bytes = 26214400
            "#,
        )
        .unwrap();
        assert_eq!(
            config.clamd,
            Some(ClamdAddress::Unix(PathBuf::from("/run/clamav/clamd.ctl")))
        );
        assert_eq!(config.on_error, OnError::Accept);
        assert_eq!(config.timeout_secs, 5);
        assert_eq!(config.max_stream_bytes, 25 * 1024 * 1024);
    }

    #[test]
    fn unknown_keys_and_values_are_refused() {
        for text in [
            "clamav = \"127.0.0.1:3310\"",
            "on_error = \"reject\"",
            "clamd = \"localhost:3310\"",
            "clamd = 3310",
        ] {
            assert!(toml::from_str::<AntivirusConfig>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn problems_are_listed() {
        let config = AntivirusConfig {
            timeout_secs: 0,
            max_stream_bytes: 0,
            ..AntivirusConfig::default()
        };
        assert_eq!(config.problems().len(), 2);
        let config = AntivirusConfig {
            max_stream_bytes: 1 << 32,
            ..AntivirusConfig::default()
        };
        assert_eq!(config.problems().len(), 1);
    }

    #[test]
    fn the_two_address_forms() {
        for (text, parsed) in [
            (
                "127.0.0.1:3310",
                ClamdAddress::Tcp("127.0.0.1:3310".parse().unwrap()),
            ),
            ("[::1]:3310", ClamdAddress::Tcp("[::1]:3310".parse().unwrap())),
            (
                "unix:/run/clamav/clamd.ctl",
                ClamdAddress::Unix("/run/clamav/clamd.ctl".into()),
            ),
        ] {
            assert_eq!(text.parse::<ClamdAddress>().unwrap(), parsed, "{text}");
            assert_eq!(parsed.to_string(), text);
        }
        for text in [
            "",
            "127.0.0.1",
            "127.0.0.1:0",
            "clamd.example:3310",
            "localhost:3310",
            "unix:",
            "unix:clamd.ctl",
            "unix:/run/clamd\0.ctl",
            "tcp:127.0.0.1:3310",
            " 127.0.0.1:3310",
        ] {
            assert!(text.parse::<ClamdAddress>().is_err(), "{text:?}");
        }
    }
}
