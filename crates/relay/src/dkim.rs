//! DKIM signing (RFC 6376) with mail-auth, and key generation for
//! `congvu dkim generate`.
//!
//! Keys are RSA-2048 (RFC 8301 §3.2), PKCS#1 DER in
//! `data_dir/dkim/<domain>.<selector>.key`, mode 0600. A message is signed for the
//! domain of its `From:` address when `[dkim] domains` lists it (DMARC alignment,
//! RFC 7489 §3.1.1), over the CRLF form that goes on the wire.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{DkimSigner, Done, generate::DkimKeyPair};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};

use crate::config::DkimConfig;

/// Headers covered by the signature (RFC 6376 §5.4.1 recommends these).
const SIGNED_HEADERS: [&str; 11] = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "In-Reply-To",
    "References",
    "Reply-To",
];

/// RFC 8301 §3.2: at least 1024, 2048 recommended.
const RSA_BITS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    #[error("DKIM key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("cannot generate a DKIM key: {0}")]
    Generate(String),
}

pub fn key_path(data_dir: &Path, domain: &str, selector: &str) -> PathBuf {
    data_dir
        .join("dkim")
        .join(format!("{}.{}.key", domain.to_ascii_lowercase(), selector))
}

/// Generates and writes a key; returns the TXT record to publish at
/// `<selector>._domainkey.<domain>`. An existing key is never overwritten.
pub fn generate(data_dir: &Path, domain: &str, selector: &str) -> Result<(PathBuf, String), DkimError> {
    let path = key_path(data_dir, domain, selector);
    let fail = |message: String| DkimError::Key {
        path: path.clone(),
        message,
    };
    let pair = DkimKeyPair::generate_rsa(RSA_BITS).map_err(|e| DkimError::Generate(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| fail(e.to_string()))?;
    file.write_all(pair.private_key())
        .and_then(|()| file.sync_all())
        .map_err(|e| fail(e.to_string()))?;
    let record = format!("v=DKIM1; k=rsa; p={}", pair.encoded_public_key());
    Ok((path, record))
}

type Signer = DkimSigner<RsaKey<Sha256>, Done>;

/// The signers of every configured domain.
#[derive(Default)]
pub struct Dkim {
    signers: HashMap<String, Signer>,
}

impl Dkim {
    pub fn load(data_dir: &Path, config: &DkimConfig) -> Result<Dkim, DkimError> {
        let mut signers = HashMap::new();
        for domain in &config.domains {
            let path = key_path(data_dir, domain, &config.selector);
            let fail = |message: String| DkimError::Key {
                path: path.clone(),
                message,
            };
            let der = std::fs::read(&path).map_err(|e| fail(format!("{e} (run `congvu dkim generate`)")))?;
            let key = RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)))
                .map_err(|e| fail(e.to_string()))?;
            let signer = DkimSigner::from_key(key)
                .domain(domain.to_ascii_lowercase())
                .selector(config.selector.clone())
                .headers(SIGNED_HEADERS);
            signers.insert(domain.to_ascii_lowercase(), signer);
        }
        Ok(Dkim { signers })
    }

    /// The `DKIM-Signature:` header line(s) for a CRLF-normalised message, when its
    /// `From:` domain signs. A signing failure only leaves the message unsigned.
    pub fn signature(&self, message: &[u8]) -> Option<String> {
        if self.signers.is_empty() {
            return None;
        }
        let parsed = mail_parser::MessageParser::default().parse_headers(message)?;
        let from = parsed.from()?.first()?.address()?;
        let domain = crate::route::domain_of(from)?.to_ascii_lowercase();
        let signer = self.signers.get(&domain)?;
        match signer.sign(message) {
            Ok(signature) => Some(signature.to_header()),
            Err(error) => {
                tracing::warn!(domain, error = %error, "DKIM signing failed; sending unsigned");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_mail_from_their_domain_only() {
        let dir = tempfile::tempdir().unwrap();
        let (path, record) = generate(dir.path(), "B.vn", "s1").unwrap();
        assert!(path.ends_with("dkim/b.vn.s1.key"));
        assert!(record.starts_with("v=DKIM1; k=rsa; p=M"), "{record}");
        assert!(
            generate(dir.path(), "b.vn", "s1").is_err(),
            "never overwrites a key"
        );
        let config = DkimConfig {
            domains: vec!["b.vn".into()],
            selector: "s1".into(),
        };
        let dkim = Dkim::load(dir.path(), &config).unwrap();
        let signed = dkim
            .signature(b"From: A <a@b.vn>\r\nTo: x@y.vn\r\nSubject: hi\r\n\r\nbody\r\n")
            .unwrap();
        assert!(
            signed.starts_with("DKIM-Signature:") && signed.contains("d=b.vn") && signed.contains("s=s1")
        );
        assert_eq!(dkim.signature(b"From: a@other.vn\r\n\r\nbody\r\n"), None);
        let missing = DkimConfig {
            domains: vec!["c.vn".into()],
            selector: "s1".into(),
        };
        assert!(Dkim::load(dir.path(), &missing).is_err());
    }

    /// Checked by the inbound verifier against the record as printed, served by a
    /// DNS responder on 127.0.0.1: no test asks real DNS.
    #[tokio::test]
    async fn signature_verifies_against_the_printed_record() {
        use congvu_mailauth::test_dns::{Zone, dkim_result};

        let dir = tempfile::tempdir().unwrap();
        let (_, record) = generate(dir.path(), "a.vn", "sel").unwrap();
        let config = DkimConfig {
            domains: vec!["a.vn".into()],
            selector: "sel".into(),
        };
        let dkim = Dkim::load(dir.path(), &config).unwrap();
        let body = crate::client::data::normalize_crlf(
            "From: Tuấn <t@a.vn>\nTo: h@b.vn\nSubject: =?UTF-8?B?VGjGsA==?=\n\nThư công vụ\n".as_bytes(),
        );
        let signed = [dkim.signature(&body).unwrap().as_bytes(), &body].concat();

        let zone = || Zone::new().txt("sel._domainkey.a.vn", &record);
        assert_eq!(dkim_result(zone(), &signed).await, "pass");
        let altered = String::from_utf8(signed)
            .unwrap()
            .replace("Thư công vụ", "Thư giả mạo");
        assert_ne!(dkim_result(zone(), altered.as_bytes()).await, "pass");
        assert_ne!(dkim_result(Zone::new(), &body).await, "pass", "unsigned");
    }
}
