//! The `[smime]` section of the configuration.

use std::path::PathBuf;

use serde::Deserialize;

/// S/MIME signature verification.
///
/// ```toml
/// [smime]
/// ca_file = "/etc/congvu/government-ca.pem"
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmimeConfig {
    /// PEM bundle of the certificates trusted as anchors for signers' chains (the
    /// Government CA chain). Every certificate in it is an anchor, so put there only the
    /// CAs whose e-mail certificates are to be believed. Default: none — signatures are
    /// still checked cryptographically and against the `From:` address, and reported
    /// `neutral`, never `pass` (no chain can be judged without anchors).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}
