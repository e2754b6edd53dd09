//! The verifier: trust anchors read once from `ca_file`, then a pure function of
//! (message, time) per message.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cms::content_info::ContentInfo;
use cms::signed_data::{CertificateSet, SignedData, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911;
use der::asn1::OctetString;
use der::{Decode, Encode};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};
use x509_cert::Certificate;

use crate::algorithm::{self, Digest};
use crate::mime::{self, Signed};
use crate::{Outcome, Reason, SmimeConfig, SmimeResult, certificate, der_shape};

/// Certificates a CA file may hold.
const MAX_ANCHORS: usize = 1000;
/// Certificates one signature may carry (the signer's and its chain).
const MAX_CERTIFICATES: usize = 16;
/// Signers one signature may hold; each costs a public-key operation.
const MAX_SIGNERS: usize = 4;

/// id-kp-emailProtection, 1.3.6.1.5.5.7.3.4 (RFC 5280 §4.2.1.12), as the DER value
/// bytes webpki compares.
const EMAIL_PROTECTION: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04];

/// Why the verifier cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the S/MIME CA file {path}: {source}")]
    Read {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("the S/MIME CA file {path} holds no certificate")]
    Empty { path: PathBuf },
    #[error("the S/MIME CA file {path} holds more than {MAX_ANCHORS} certificates")]
    TooMany { path: PathBuf },
    #[error("certificate {index} of the S/MIME CA file {path} cannot be a trust anchor: {source}")]
    Anchor {
        path: PathBuf,
        index: usize,
        source: webpki::Error,
    },
}

/// Verifies S/MIME signatures against the configured anchors.
#[derive(Debug)]
pub struct Verifier {
    anchors: Vec<TrustAnchor<'static>>,
}

/// A certificate carried by the signature, decoded and as DER.
struct Carried {
    decoded: Certificate,
    der: CertificateDer<'static>,
}

impl Verifier {
    /// Reads the anchors of `config.ca_file` (every certificate of the PEM bundle);
    /// without one, the verifier judges no chain and its best result is `neutral`.
    pub fn new(config: &SmimeConfig) -> Result<Verifier, Error> {
        let anchors = match &config.ca_file {
            Some(path) => read_anchors(path)?,
            None => Vec::new(),
        };
        Ok(Verifier { anchors })
    }

    /// The verdict on `message` (a whole RFC 5322 message, CRLF line ends) at `now`.
    /// Never alters, never panics; with several signers, the best verdict (pass, then
    /// neutral, fail, permerror) stands.
    pub fn verify(&self, message: &[u8], now: SystemTime) -> Outcome {
        let top = mime::read(message);
        let (detached_content, cms) = match top.signed {
            Ok(Signed::No) => return Outcome::new(Reason::NotSigned, None),
            Ok(Signed::Detached { content, cms }) => (Some(content), cms),
            Ok(Signed::Opaque { cms }) => (None, cms),
            Err(reason) => return Outcome::new(reason, None),
        };
        let signed_data = match decode_signed_data(&cms) {
            Ok(Some(signed_data)) => signed_data,
            Ok(None) => return Outcome::new(Reason::NotSigned, None),
            Err(reason) => return Outcome::new(reason, None),
        };
        let content = match content(&signed_data, detached_content) {
            Ok(content) => content,
            Err(reason) => return Outcome::new(reason, None),
        };
        let carried = match carried_certificates(signed_data.certificates.as_ref()) {
            Ok(carried) => carried,
            Err(reason) => return Outcome::new(reason, None),
        };
        let from = match top.from.as_slice() {
            [only] => Some(only.as_str()),
            _ => None,
        };
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        let signer = Signer {
            content: &content,
            content_type: &signed_data.encap_content_info.econtent_type,
            carried: &carried,
            from,
            now,
        };
        signed_data
            .signer_infos
            .0
            .iter()
            .map(|info| self.check(&signer, info))
            .min_by_key(|outcome| rank(outcome.result))
            .unwrap_or_else(|| Outcome::new(Reason::Malformed, None))
    }

    /// One signer's verdict: the signed bytes, the signature, the certificate's chain
    /// and validity, then the `From:` address — the first that fails gives the reason.
    fn check(&self, signer: &Signer<'_>, info: &SignerInfo) -> Outcome {
        let Some(certificate) = signer
            .carried
            .iter()
            .find(|c| certificate::is_signer(&c.decoded, &info.sid))
        else {
            return Outcome::new(Reason::SignerCertificateMissing, None);
        };
        let emails = certificate::emails(&certificate.decoded);
        let named_from = signer
            .from
            .and_then(|from| emails.iter().find(|e| certificate::same_address(e, from)));
        let identity = named_from.or(emails.first()).cloned();
        let author = match (signer.from, named_from) {
            (None, _) => Err(Reason::FromUnusable),
            (Some(_), None) => Err(Reason::FromMismatch),
            (Some(_), Some(_)) if self.anchors.is_empty() => Err(Reason::NoTrustAnchors),
            (Some(_), Some(_)) => Ok(()),
        };
        let verdict = self
            .check_signature(signer, info, certificate)
            .and_then(|()| self.check_certificate(signer, certificate))
            .and(author);
        Outcome::new(verdict.err().unwrap_or(Reason::Verified), identity)
    }

    /// RFC 5652 §5.4: with signed attributes, the content's digest must be their
    /// `messageDigest` and the signature covers their DER as a SET OF; without, it
    /// covers the content itself.
    fn check_signature(
        &self,
        signer: &Signer<'_>,
        info: &SignerInfo,
        certificate: &Carried,
    ) -> Result<(), Reason> {
        let digest = Digest::named(&info.digest_alg.oid)?;
        let candidates = algorithm::candidates(&info.signature_algorithm.oid, digest)?;
        let signed: Cow<'_, [u8]> = match &info.signed_attrs {
            Some(attributes) => {
                let content_type: ObjectIdentifier = single_value(attributes, rfc5911::ID_CONTENT_TYPE)?
                    .decode_as()
                    .map_err(|_| Reason::Malformed)?;
                if &content_type != signer.content_type {
                    return Err(Reason::ContentTypeMismatch);
                }
                let message_digest: OctetString = single_value(attributes, rfc5911::ID_MESSAGE_DIGEST)?
                    .decode_as()
                    .map_err(|_| Reason::Malformed)?;
                if message_digest.as_bytes() != digest.hash(signer.content).as_slice() {
                    return Err(Reason::ContentAltered);
                }
                Cow::Owned(attributes.to_der().map_err(|_| Reason::Malformed)?)
            }
            None => Cow::Borrowed(signer.content),
        };
        let end_entity = EndEntityCert::try_from(&certificate.der).map_err(|_| Reason::InvalidChain)?;
        let signature = info.signature.as_bytes();
        let mut fitting_key = false;
        for algorithm in candidates {
            match end_entity.verify_signature(*algorithm, &signed, signature) {
                Ok(()) => return Ok(()),
                Err(webpki::Error::InvalidSignatureForPublicKey) => fitting_key = true,
                Err(_) => {}
            }
        }
        Err(if fitting_key {
            // Without signed attributes the signature covers the content, so an
            // altered content shows here.
            if info.signed_attrs.is_none() {
                Reason::ContentAltered
            } else {
                Reason::BadSignature
            }
        } else {
            Reason::UnsupportedAlgorithm
        })
    }

    /// The chain to an anchor, valid now, for e-mail protection when the certificate
    /// restricts its use (RFC 8550 §4.4.4); only the validity period without anchors.
    fn check_certificate(&self, signer: &Signer<'_>, certificate: &Carried) -> Result<(), Reason> {
        if self.anchors.is_empty() {
            return certificate::check_validity(&certificate.decoded, signer.now);
        }
        let end_entity = EndEntityCert::try_from(&certificate.der).map_err(|_| Reason::InvalidChain)?;
        let intermediates: Vec<CertificateDer<'static>> = signer
            .carried
            .iter()
            .filter(|c| c.der != certificate.der)
            .map(|c| c.der.clone())
            .collect();
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.anchors,
                &intermediates,
                UnixTime::since_unix_epoch(signer.now),
                KeyUsage::required_if_present(EMAIL_PROTECTION),
                None,
                None,
            )
            .map(|_| ())
            .map_err(|error| match error {
                webpki::Error::CertExpired { .. } => Reason::CertificateExpired,
                webpki::Error::CertNotValidYet { .. } => Reason::CertificateNotYetValid,
                webpki::Error::UnknownIssuer => Reason::UntrustedIssuer,
                webpki::Error::RequiredEkuNotFoundContext(_) => Reason::NotForEmail,
                _ => Reason::InvalidChain,
            })
    }
}

/// What every signer of one message is checked against.
struct Signer<'a> {
    content: &'a [u8],
    content_type: &'a ObjectIdentifier,
    carried: &'a [Carried],
    /// The `From:` address when the message has exactly one.
    from: Option<&'a str>,
    /// Since the Unix epoch.
    now: Duration,
}

fn rank(result: SmimeResult) -> u8 {
    match result {
        SmimeResult::Pass => 0,
        SmimeResult::Neutral => 1,
        SmimeResult::Fail => 2,
        SmimeResult::PermError => 3,
        SmimeResult::None => 4,
    }
}

fn read_anchors(path: &Path) -> Result<Vec<TrustAnchor<'static>>, Error> {
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let mut anchors = Vec::new();
    for (index, certificate) in CertificateDer::pem_file_iter(path)
        .map_err(read_error)?
        .enumerate()
    {
        if index >= MAX_ANCHORS {
            return Err(Error::TooMany {
                path: path.to_owned(),
            });
        }
        let certificate = certificate.map_err(read_error)?;
        let anchor = webpki::anchor_from_trusted_cert(&certificate).map_err(|source| Error::Anchor {
            path: path.to_owned(),
            index,
            source,
        })?;
        anchors.push(anchor.to_owned());
    }
    if anchors.is_empty() {
        return Err(Error::Empty {
            path: path.to_owned(),
        });
    }
    Ok(anchors)
}

/// The SignedData of a CMS object (RFC 5652 §3, §5.1); `None` for another content
/// type (enveloped data is not a signature).
fn decode_signed_data(cms: &[u8]) -> Result<Option<SignedData>, Reason> {
    let cms = der_shape::to_der(cms)?;
    let info = ContentInfo::from_der(&cms).map_err(|_| Reason::Malformed)?;
    if info.content_type != rfc5911::ID_SIGNED_DATA {
        return Ok(None);
    }
    let signed_data: SignedData = info.content.decode_as().map_err(|_| Reason::Malformed)?;
    if signed_data.signer_infos.0.len() > MAX_SIGNERS {
        return Err(Reason::TooLarge);
    }
    Ok(Some(signed_data))
}

/// The signed content: the first part of a `multipart/signed` (the SignedData must
/// then carry none), or the encapsulated OCTET STRING of an opaque signature. S/MIME
/// signs MIME entities, content type id-data (RFC 8551 §3.5.1).
fn content<'a>(signed_data: &SignedData, detached: Option<&'a [u8]>) -> Result<Cow<'a, [u8]>, Reason> {
    let encapsulated = &signed_data.encap_content_info;
    if encapsulated.econtent_type != rfc5911::ID_DATA {
        return Err(Reason::Malformed);
    }
    match (detached, &encapsulated.econtent) {
        (Some(content), None) => Ok(Cow::Borrowed(content)),
        (None, Some(econtent)) => {
            let octets: OctetString = econtent.decode_as().map_err(|_| Reason::Malformed)?;
            Ok(Cow::Owned(octets.into_bytes()))
        }
        _ => Err(Reason::Malformed),
    }
}

fn carried_certificates(set: Option<&CertificateSet>) -> Result<Vec<Carried>, Reason> {
    let Some(set) = set else {
        return Ok(Vec::new());
    };
    if set.0.len() > MAX_CERTIFICATES {
        return Err(Reason::TooLarge);
    }
    set.0
        .iter()
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(certificate) => Some(certificate),
            _ => None,
        })
        .map(|certificate| {
            let der = certificate.to_der().map_err(|_| Reason::Malformed)?;
            Ok(Carried {
                decoded: certificate.clone(),
                der: CertificateDer::from(der),
            })
        })
        .collect()
}

/// The one value of the one attribute `oid` among signed attributes (RFC 5652 §11.1,
/// §11.2: contentType and messageDigest are single-valued and must be present).
fn single_value(
    attributes: &x509_cert::attr::Attributes,
    oid: ObjectIdentifier,
) -> Result<&der::Any, Reason> {
    let mut matching = attributes.iter().filter(|a| a.oid == oid);
    let (Some(attribute), None) = (matching.next(), matching.next()) else {
        return Err(Reason::Malformed);
    };
    match attribute.values.as_slice() {
        [value] => Ok(value),
        _ => Err(Reason::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_protection_is_the_encoded_oid() {
        assert_eq!(
            const_oid::db::rfc5280::ID_KP_EMAIL_PROTECTION.as_bytes(),
            EMAIL_PROTECTION
        );
    }

    #[test]
    fn anchors_must_be_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let missing = SmimeConfig {
            ca_file: Some(dir.path().join("none.pem")),
        };
        assert!(matches!(Verifier::new(&missing), Err(Error::Read { .. })));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let config = SmimeConfig { ca_file: Some(empty) };
        assert!(matches!(Verifier::new(&config), Err(Error::Empty { .. })));
        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let config = SmimeConfig {
            ca_file: Some(broken),
        };
        assert!(matches!(
            Verifier::new(&config),
            Err(Error::Anchor { index: 0, .. })
        ));
    }
}
