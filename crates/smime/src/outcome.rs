//! What verification concluded, and the RFC 7281 `Authentication-Results:` field that
//! records it.
//!
//! RFC 7281 §3 registers the method `smime` with the result values of RFC 8601 and
//! the `body` properties `smime-identifier` (the signer's identity), `smime-part`,
//! `smime-serial` and `smime-issuer` (IANA "Email Authentication Methods"). Only
//! `body.smime-identifier` is written: serial and issuer must come as a pair and an
//! issuer DN can be long and hold any character, while the identifier is what a
//! reader compares with `From:`.

/// The `smime=` result (RFC 7281 §3, values of RFC 8601 §2.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SmimeResult {
    /// The message is not signed at its top level.
    None,
    /// A signature verified over the content, by a certificate that chains to a
    /// configured anchor, is valid now, may protect e-mail and names the `From:`
    /// address.
    Pass,
    /// Signed, and the signature does not vouch for this message from this author.
    Fail,
    /// Signed, and the signature itself holds, but it cannot be judged here (no
    /// anchors configured, or an algorithm this server does not implement).
    Neutral,
    /// Signed, but the signature structure cannot be read.
    PermError,
}

impl SmimeResult {
    /// The result keyword of the field.
    pub fn as_str(self) -> &'static str {
        match self {
            SmimeResult::None => "none",
            SmimeResult::Pass => "pass",
            SmimeResult::Fail => "fail",
            SmimeResult::Neutral => "neutral",
            SmimeResult::PermError => "permerror",
        }
    }
}

/// Why verification concluded what it did; each reason belongs to one result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `none`: no `multipart/signed` or `pkcs7-mime` signed-data at the top level.
    NotSigned,
    /// `pass`.
    Verified,
    /// `neutral`: the signature holds, but no `ca_file` is configured.
    NoTrustAnchors,
    /// `neutral`: an algorithm this server does not verify (RSA-PSS, Ed25519, …).
    UnsupportedAlgorithm,
    /// `fail`: the content's digest is not the signed one — the message was altered.
    ContentAltered,
    /// `fail`: the signature value does not verify with the signer's key.
    BadSignature,
    /// `fail`: SHA-1, which can be forged (chosen-prefix collisions).
    WeakAlgorithm,
    /// `fail`: the signer's certificate has expired.
    CertificateExpired,
    /// `fail`: the signer's certificate is not valid yet.
    CertificateNotYetValid,
    /// `fail`: the chain does not reach a configured anchor.
    UntrustedIssuer,
    /// `fail`: the certificate may not protect e-mail (extended key usage).
    NotForEmail,
    /// `fail`: the chain is invalid for another reason (constraints, signatures).
    InvalidChain,
    /// `fail`: the certificate does not name the `From:` address.
    FromMismatch,
    /// `fail`: `From:` is absent or holds other than exactly one address.
    FromUnusable,
    /// `fail`: the signed `content-type` attribute is not the content's type.
    ContentTypeMismatch,
    /// `permerror`: the MIME structure or the CMS object cannot be read.
    Malformed,
    /// `permerror`: the signature is larger than the limit, or holds too many
    /// certificates or signers.
    TooLarge,
    /// `permerror`: the signer's certificate is not in the signature.
    SignerCertificateMissing,
}

impl Reason {
    /// The result this reason gives.
    pub fn result(self) -> SmimeResult {
        match self {
            Reason::NotSigned => SmimeResult::None,
            Reason::Verified => SmimeResult::Pass,
            Reason::NoTrustAnchors | Reason::UnsupportedAlgorithm => SmimeResult::Neutral,
            Reason::ContentAltered
            | Reason::BadSignature
            | Reason::WeakAlgorithm
            | Reason::CertificateExpired
            | Reason::CertificateNotYetValid
            | Reason::UntrustedIssuer
            | Reason::NotForEmail
            | Reason::InvalidChain
            | Reason::FromMismatch
            | Reason::FromUnusable
            | Reason::ContentTypeMismatch => SmimeResult::Fail,
            Reason::Malformed | Reason::TooLarge | Reason::SignerCertificateMissing => SmimeResult::PermError,
        }
    }

    /// A short English explanation, ASCII, for the field's comment and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NotSigned => "not signed",
            Reason::Verified => "signature verified",
            Reason::NoTrustAnchors => "signature holds, no trusted CA configured",
            Reason::UnsupportedAlgorithm => "unsupported algorithm",
            Reason::ContentAltered => "content altered after signing",
            Reason::BadSignature => "signature does not verify",
            Reason::WeakAlgorithm => "SHA-1 not accepted",
            Reason::CertificateExpired => "certificate expired",
            Reason::CertificateNotYetValid => "certificate not yet valid",
            Reason::UntrustedIssuer => "certificate not issued by a trusted CA",
            Reason::NotForEmail => "certificate not for e-mail protection",
            Reason::InvalidChain => "invalid certificate chain",
            Reason::FromMismatch => "certificate does not name the From address",
            Reason::FromUnusable => "From is not exactly one address",
            Reason::ContentTypeMismatch => "signed content type differs",
            Reason::Malformed => "unreadable signature structure",
            Reason::TooLarge => "signature over the size limits",
            Reason::SignerCertificateMissing => "signer certificate missing",
        }
    }
}

/// The verdict on one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub result: SmimeResult,
    /// The signer's e-mail address from its certificate (the one naming `From:` when
    /// there is one), once a signer was found.
    pub signer: Option<String>,
    pub reason: Reason,
}

/// Longest identifier written into the field (RFC 5321 §4.5.3.1.3: a path is at most
/// 256 octets).
const MAX_IDENTIFIER: usize = 254;

impl Outcome {
    pub(crate) fn new(reason: Reason, signer: Option<String>) -> Outcome {
        Outcome {
            result: reason.result(),
            signer,
            reason,
        }
    }

    /// `Authentication-Results: <authserv_id>;` then `smime=<result>` with the reason
    /// as a comment and `body.smime-identifier=<signer>`, each on its own folded line
    /// (RFC 5322 §2.2.3) so that no line passes 78 columns for an identifier of usual
    /// length; CRLF-terminated. An identifier that is not a plain addr-spec is written
    /// as a quoted-string (RFC 8601 §2.2 `pvalue`), without control characters.
    pub fn header(&self, authserv_id: &str) -> String {
        let mut header = format!(
            "Authentication-Results: {authserv_id};\r\n\tsmime={} ({})",
            self.result.as_str(),
            self.reason.as_str()
        );
        if let Some(signer) = &self.signer {
            header.push_str("\r\n\tbody.smime-identifier=");
            header.push_str(&property_value(signer));
        }
        header.push_str("\r\n");
        header
    }
}

/// `value` as an RFC 8601 pvalue: as it is when it is a dot-atom addr-spec, else a
/// quoted-string of its printable ASCII characters.
fn property_value(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.@".contains(c);
    let value: String = value.chars().take(MAX_IDENTIFIER).collect();
    if !value.is_empty() && value.chars().all(plain) {
        return value;
    }
    let mut quoted = String::from("\"");
    for c in value.chars().filter(|c| c.is_ascii() && !c.is_ascii_control()) {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_are_folded_and_crlf_terminated() {
        let outcome = Outcome::new(Reason::Verified, Some("hunglv.yendinh@thanhhoa.gov.vn".into()));
        let header = outcome.header("mail.thanhhoa.gov.vn");
        assert_eq!(
            header,
            "Authentication-Results: mail.thanhhoa.gov.vn;\r\n\tsmime=pass (signature verified)\r\n\
             \tbody.smime-identifier=hunglv.yendinh@thanhhoa.gov.vn\r\n"
        );
        assert!(header.split("\r\n").all(|line| line.len() <= 78));
        assert_eq!(header.matches('\n').count(), header.matches("\r\n").count());
    }

    #[test]
    fn every_reason_fits_a_line_and_maps_to_its_result() {
        let reasons = [
            Reason::NotSigned,
            Reason::Verified,
            Reason::NoTrustAnchors,
            Reason::UnsupportedAlgorithm,
            Reason::ContentAltered,
            Reason::BadSignature,
            Reason::WeakAlgorithm,
            Reason::CertificateExpired,
            Reason::CertificateNotYetValid,
            Reason::UntrustedIssuer,
            Reason::NotForEmail,
            Reason::InvalidChain,
            Reason::FromMismatch,
            Reason::FromUnusable,
            Reason::ContentTypeMismatch,
            Reason::Malformed,
            Reason::TooLarge,
            Reason::SignerCertificateMissing,
        ];
        for reason in reasons {
            let header = Outcome::new(reason, None).header("mx.test");
            assert!(header.split("\r\n").all(|line| line.len() <= 78), "{header}");
            assert!(header.contains(&format!("smime={} (", reason.result().as_str())));
        }
    }

    #[test]
    fn odd_identifiers_are_quoted_without_control_characters() {
        let outcome = Outcome::new(Reason::FromMismatch, Some("a b\"c\r\n\\x@y.vn".into()));
        assert!(
            outcome
                .header("mx.test")
                .ends_with("body.smime-identifier=\"a b\\\"c\\\\x@y.vn\"\r\n")
        );
    }
}
