//! What S/MIME reads in a signer's certificate: which certificate is the signer's, the
//! e-mail addresses it names, and whether one of them is the `From:` address.

use std::time::Duration;

use cms::signed_data::SignerIdentifier;
use const_oid::db::{rfc3280, rfc5280};
use der::Decode;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{SubjectAltName, SubjectKeyIdentifier};

use crate::Reason;

/// True when `certificate` is the one `sid` names (RFC 5652 §5.3): by issuer and
/// serial number, or by subject key identifier.
pub(crate) fn is_signer(certificate: &Certificate, sid: &SignerIdentifier) -> bool {
    let tbs = &certificate.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.issuer == tbs.issuer && id.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(wanted) => tbs
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER)
            .filter_map(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
            .any(|own| own.0 == wanted.0),
    }
}

/// The e-mail addresses a certificate names: `rfc822Name` entries of its
/// subjectAltName, then `emailAddress` attributes of its subject (RFC 8550 §3: a
/// receiving agent recognises both).
pub(crate) fn emails(certificate: &Certificate) -> Vec<String> {
    let tbs = &certificate.tbs_certificate;
    let alt_names = tbs
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == rfc5280::ID_CE_SUBJECT_ALT_NAME)
        .filter_map(|e| SubjectAltName::from_der(e.extn_value.as_bytes()).ok())
        .flat_map(|names| names.0)
        .filter_map(|name| match name {
            GeneralName::Rfc822Name(address) => Some(address.to_string()),
            _ => None,
        });
    let subject = tbs
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|attribute| attribute.oid == rfc3280::EMAIL_ADDRESS)
        .filter_map(|attribute| {
            std::str::from_utf8(attribute.value.value())
                .ok()
                .map(str::to_owned)
        });
    alt_names.chain(subject).collect()
}

/// True when `a` and `b` are the same mailbox: local parts equal exactly, domains
/// equal as lowercase A-labels without a trailing dot (RFC 5280 §7.5; a From domain in
/// U-labels (RFC 6532) is compared as the A-labels a certificate holds).
pub(crate) fn same_address(a: &str, b: &str) -> bool {
    match (split(a), split(b)) {
        (Some((local_a, domain_a)), Some((local_b, domain_b))) => local_a == local_b && domain_a == domain_b,
        _ => false,
    }
}

fn split(address: &str) -> Option<(&str, String)> {
    let (local, domain) = address.trim().rsplit_once('@')?;
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let domain = idna::domain_to_ascii(domain).ok()?;
    Some((local, domain.to_ascii_lowercase()))
}

/// The certificate's validity period against `now` (time since the Unix epoch), for
/// when no chain is built (no anchors configured) and webpki does not check it.
pub(crate) fn check_validity(certificate: &Certificate, now: Duration) -> Result<(), Reason> {
    let validity = &certificate.tbs_certificate.validity;
    if now < validity.not_before.to_unix_duration() {
        return Err(Reason::CertificateNotYetValid);
    }
    if now > validity.not_after.to_unix_duration() {
        return Err(Reason::CertificateExpired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_compare_domains_without_case_and_local_parts_exactly() {
        assert!(same_address("hunglv@ThanhHoa.gov.vn", "hunglv@thanhhoa.gov.vn."));
        assert!(same_address("a@bücher.example", "a@xn--bcher-kva.example"));
        assert!(!same_address("HungLV@thanhhoa.gov.vn", "hunglv@thanhhoa.gov.vn"));
        assert!(!same_address(
            "hunglv@thanhhoa.gov.vn",
            "hunglv@thanhhoa.gov.vn.evil"
        ));
        assert!(!same_address("@thanhhoa.gov.vn", "@thanhhoa.gov.vn"));
        assert!(!same_address("nobody", "nobody"));
    }
}
