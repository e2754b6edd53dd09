//! DANE for SMTP (RFC 7672): TLSA records (`_25._tcp.<mx host>`) that pin the MX
//! host's certificate, trusted only when DNSSEC authenticated them.
//!
//! ```text
//!   TLSA lookup ─┬─ none / not authenticated ──► no DANE (MTA-STS or opportunistic; logged)
//!                ├─ authenticated, a usable record ──► TLS required, certificate must match
//!                ├─ authenticated, none usable ──► TLS required, not authenticated (§2.2)
//!                └─ lookup failed ──► this host is skipped (the attempt defers)
//! ```
//! Usable records (RFC 7672 §3.1): usage 3 DANE-EE (the server's certificate or key
//! itself; neither its names nor its dates are checked, §3.1.1) and usage 2 DANE-TA
//! (a certificate of the presented chain is the trust anchor; the server certificate
//! must chain to it and name the MX host, §3.2.2); selector 0 (whole certificate) or
//! 1 (SubjectPublicKeyInfo); matching 0 (exact), 1 (SHA-256) or 2 (SHA-512). Usages 0
//! and 1 (PKIX) are unusable for SMTP (§3.1.3). Matching is I/O-free ([`matches`]).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256, Sha512};

use crate::client::tls::{CertificateCheck, Presented, checked_config};

/// One TLSA record (RFC 6698 §2.1), fields as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tlsa {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    pub data: Vec<u8>,
}

/// A TLSA answer and whether DNSSEC authenticated it (RFC 7672 §2.1: only then may
/// it be used).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsaAnswer {
    pub authenticated: bool,
    pub records: Vec<Tlsa>,
}

const DANE_TA: u8 = 2;
const DANE_EE: u8 = 3;

impl Tlsa {
    /// RFC 7672 §3.1: DANE-TA(2) or DANE-EE(3), a known selector and matching type,
    /// and a digest of the right length.
    pub fn usable(&self) -> bool {
        let length_ok = match self.matching {
            0 => !self.data.is_empty(),
            1 => self.data.len() == 32,
            2 => self.data.len() == 64,
            _ => false,
        };
        matches!(self.usage, DANE_TA | DANE_EE) && self.selector <= 1 && length_ok
    }

    /// Whether this record's data matches `cert` (DER), by its selector and
    /// matching type. A certificate that cannot be parsed matches nothing.
    pub fn matches(&self, cert: &CertificateDer<'_>) -> bool {
        let selected: Vec<u8> = match self.selector {
            0 => cert.as_ref().to_vec(),
            1 => match webpki::EndEntityCert::try_from(cert) {
                Ok(parsed) => parsed.subject_public_key_info().as_ref().to_vec(),
                Err(_) => return false,
            },
            _ => return false,
        };
        match self.matching {
            0 => selected == self.data,
            1 => Sha256::digest(&selected).as_slice() == self.data.as_slice(),
            2 => Sha512::digest(&selected).as_slice() == self.data.as_slice(),
            _ => false,
        }
    }
}

/// What an authenticated TLSA RRset asks of a connection to one MX host.
pub enum Requirement {
    /// Usable records: the certificate must match one of them.
    Authenticate(Vec<Tlsa>),
    /// Records exist, none usable: TLS is still mandatory (RFC 7672 §2.2), without
    /// authentication.
    EncryptOnly,
}

impl Requirement {
    /// The requirement of an answer, or `None` when DANE does not apply (no records,
    /// or records not authenticated by DNSSEC).
    pub fn of(answer: &TlsaAnswer) -> Option<Requirement> {
        if !answer.authenticated || answer.records.is_empty() {
            return None;
        }
        let usable: Vec<Tlsa> = answer.records.iter().filter(|r| r.usable()).cloned().collect();
        Some(if usable.is_empty() {
            Requirement::EncryptOnly
        } else {
            Requirement::Authenticate(usable)
        })
    }
}

/// Checks the server's certificate against usable TLSA records.
#[derive(Debug)]
struct DaneVerifier {
    records: Vec<Tlsa>,
    provider: Arc<CryptoProvider>,
}

impl DaneVerifier {
    /// RFC 7672 §3.2.2: a DANE-TA record names a certificate of the chain; the
    /// server's certificate must chain to it (webpki path building with it as the
    /// only root) and carry the MX host's name.
    fn verify_trust_anchor(&self, presented: &Presented<'_>) -> bool {
        let Presented {
            end_entity,
            intermediates,
            server_name,
            now,
        } = *presented;
        let trust_anchors = self.records.iter().filter(|r| r.usage == DANE_TA);
        for record in trust_anchors {
            for anchor in intermediates.iter().filter(|cert| record.matches(cert)) {
                let mut roots = RootCertStore::empty();
                if roots.add(anchor.clone().into_owned()).is_err() {
                    continue;
                }
                let Ok(verifier) =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                        .build()
                else {
                    continue;
                };
                if verifier
                    .verify_server_cert(end_entity, intermediates, server_name, &[], now)
                    .is_ok()
                {
                    return true;
                }
            }
        }
        false
    }
}

impl CertificateCheck for DaneVerifier {
    fn check(&self, presented: &Presented<'_>) -> Result<ServerCertVerified, rustls::Error> {
        // RFC 7672 §3.1.1: DANE-EE ignores names and validity dates.
        let ee = self
            .records
            .iter()
            .any(|r| r.usage == DANE_EE && r.matches(presented.end_entity));
        if ee || self.verify_trust_anchor(presented) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
}

/// A client configuration that accepts only a certificate matching `records`.
pub fn client_config(records: Vec<Tlsa>) -> Arc<ClientConfig> {
    let provider = crate::client::tls::provider();
    checked_config(provider.clone(), DaneVerifier { records, provider })
}

/// The TLSA owner name of an SMTP server (RFC 7672 §2.2.3: `_25._tcp.<host>`; the
/// port is the one connected to).
pub fn owner_name(host: &str, port: u16) -> String {
    format!("_{port}._tcp.{}", host.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use rcgen::PublicKeyData;
    use rustls_pki_types::{ServerName, UnixTime};

    use super::*;

    fn self_signed(name: &str) -> (CertificateDer<'static>, Vec<u8>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.der().clone(), key.subject_public_key_info())
    }

    fn record(usage: u8, selector: u8, matching: u8, data: Vec<u8>) -> Tlsa {
        Tlsa {
            usage,
            selector,
            matching,
            data,
        }
    }

    #[test]
    fn selectors_and_matching_types() {
        let (cert, spki) = self_signed("mx.congty.vn");
        let (other, _) = self_signed("mx.congty.vn");
        let sha256 = |b: &[u8]| Sha256::digest(b).to_vec();
        let sha512 = |b: &[u8]| Sha512::digest(b).to_vec();
        let table = [
            (record(3, 0, 0, cert.to_vec()), true),
            (record(3, 0, 1, sha256(&cert)), true),
            (record(3, 0, 2, sha512(&cert)), true),
            (record(3, 1, 0, spki.clone()), true),
            (record(3, 1, 1, sha256(&spki)), true),
            (record(3, 1, 2, sha512(&spki)), true),
            (record(3, 1, 1, sha256(&other)), false),
            (record(3, 1, 2, sha256(&spki)), false),
            (record(3, 2, 1, sha256(&spki)), false),
            (record(3, 1, 3, sha256(&spki)), false),
        ];
        for (tlsa, expected) in table {
            assert_eq!(tlsa.matches(&cert), expected, "{tlsa:?}");
        }
    }

    #[test]
    fn usable_records_and_requirements() {
        let digest = vec![7; 32];
        let table = [
            (record(3, 1, 1, digest.clone()), true),
            (record(2, 0, 1, digest.clone()), true),
            (record(1, 1, 1, digest.clone()), false),
            (record(0, 1, 1, digest.clone()), false),
            (record(3, 2, 1, digest.clone()), false),
            (record(3, 1, 1, vec![7; 31]), false),
            (record(3, 1, 2, digest.clone()), false),
            (record(3, 1, 0, Vec::new()), false),
        ];
        for (tlsa, expected) in table {
            assert_eq!(tlsa.usable(), expected, "{tlsa:?}");
        }
        let answer = |authenticated, records| TlsaAnswer {
            authenticated,
            records,
        };
        assert!(Requirement::of(&answer(false, vec![record(3, 1, 1, digest.clone())])).is_none());
        assert!(Requirement::of(&answer(true, vec![])).is_none());
        assert!(matches!(
            Requirement::of(&answer(true, vec![record(1, 1, 1, digest.clone())])),
            Some(Requirement::EncryptOnly)
        ));
        assert!(matches!(
            Requirement::of(&answer(true, vec![record(1, 1, 1, digest.clone()), record(3, 1, 1, digest)])),
            Some(Requirement::Authenticate(records)) if records.len() == 1
        ));
        assert_eq!(owner_name("mx.congty.vn.", 25), "_25._tcp.mx.congty.vn");
    }

    #[test]
    fn verifier_accepts_dane_ee_and_dane_ta_and_refuses_the_rest() {
        let provider = crate::client::tls::provider();
        let name = ServerName::try_from("mx.congty.vn").unwrap();
        let now = UnixTime::now();
        // A CA and a server certificate it issued.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let server_key = rcgen::KeyPair::generate().unwrap();
        let server = rcgen::CertificateParams::new(vec!["mx.congty.vn".to_owned()])
            .unwrap()
            .signed_by(&server_key, &issuer)
            .unwrap();
        let (ee, ca) = (server.der().clone(), ca.der().clone());
        let verifier = |records| DaneVerifier {
            records,
            provider: provider.clone(),
        };
        let spki = Sha256::digest(server_key.subject_public_key_info()).to_vec();
        let ok = |v: &DaneVerifier, name: &ServerName<'_>, chain: &[CertificateDer<'_>]| {
            v.check(&Presented {
                end_entity: &ee,
                intermediates: chain,
                server_name: name,
                now,
            })
            .is_ok()
        };
        // DANE-EE 3 1 1: any name.
        let dane_ee = verifier(vec![record(3, 1, 1, spki.clone())]);
        assert!(ok(&dane_ee, &ServerName::try_from("other.vn").unwrap(), &[]));
        // DANE-TA 2 0 1: the CA is in the chain, the name must match.
        let dane_ta = verifier(vec![record(2, 0, 1, Sha256::digest(&ca).to_vec())]);
        assert!(ok(&dane_ta, &name, std::slice::from_ref(&ca)));
        assert!(!ok(
            &dane_ta,
            &ServerName::try_from("other.vn").unwrap(),
            std::slice::from_ref(&ca)
        ));
        assert!(!ok(&dane_ta, &name, &[]), "the trust anchor must be presented");
        // A digest of something else.
        let wrong = verifier(vec![record(3, 1, 1, vec![0; 32]), record(2, 0, 1, vec![0; 32])]);
        assert!(!ok(&wrong, &name, std::slice::from_ref(&ca)));
    }
}
