//! Client TLS configurations for STARTTLS.
//!
//! Opportunistic TLS (RFC 7435) does not authenticate the server: an MX host's
//! certificate is rarely valid for the name the client looked up, and refusing it
//! would only push the mail to plain text. Handshake signatures are still checked,
//! so the session key is bound to the certificate presented. A route with a
//! `ca_file` gets real verification against that CA and the hop's host name.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A certificate decision of our own, in place of webpki's (opportunistic TLS: none;
/// DANE: the TLSA records). The handshake signatures are checked all the same, by
/// [`Checked`], so no policy can skip them.
pub(crate) trait CertificateCheck: std::fmt::Debug + Send + Sync + 'static {
    fn check(&self, presented: &Presented<'_>) -> Result<ServerCertVerified, rustls::Error>;
}

/// What the server presented in the handshake, for a [`CertificateCheck`].
pub(crate) struct Presented<'a> {
    pub(crate) end_entity: &'a CertificateDer<'a>,
    pub(crate) intermediates: &'a [CertificateDer<'a>],
    /// The name the client connected to.
    pub(crate) server_name: &'a ServerName<'a>,
    pub(crate) now: UnixTime,
}

/// A [`CertificateCheck`] with the provider's handshake-signature verification.
#[derive(Debug)]
struct Checked<C> {
    check: C,
    provider: Arc<CryptoProvider>,
}

impl<C: CertificateCheck> ServerCertVerifier for Checked<C> {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check.check(&Presented {
            end_entity,
            intermediates,
            server_name,
            now,
        })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client configuration deciding on certificates with `check` (and `provider`'s
/// signature algorithms).
pub(crate) fn checked_config(
    provider: Arc<CryptoProvider>,
    check: impl CertificateCheck,
) -> Arc<ClientConfig> {
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| unreachable!("the aws-lc-rs provider supports the default versions"))
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Checked { check, provider }))
        .with_no_client_auth();
    Arc::new(config)
}

/// Accepts any certificate; handshake signatures are still verified.
#[derive(Debug)]
struct Unauthenticated;

impl CertificateCheck for Unauthenticated {
    fn check(&self, _: &Presented<'_>) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
}

/// For opportunistic STARTTLS and routes without a CA.
pub fn unauthenticated() -> Arc<ClientConfig> {
    checked_config(provider(), Unauthenticated)
}

/// Verifies the server against the CA certificates in a PEM file.
pub fn verifying(ca_file: &Path) -> Result<Arc<ClientConfig>, String> {
    Ok(verifying_roots(load_roots(ca_file)?))
}

/// The CA certificates of a PEM file (at least one).
pub fn load_roots(ca_file: &Path) -> Result<Arc<RootCertStore>, String> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file).map_err(|e| format!("{}: {e}", ca_file.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("{}: {e}", ca_file.display()))?;
        // A bundle may hold a certificate webpki cannot use; the others still count.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(format!("{}: no usable certificate", ca_file.display()));
    }
    Ok(Arc::new(roots))
}

/// Verifies the server's chain against `roots` and its name (webpki).
pub fn verifying_roots(roots: Arc<RootCertStore>) -> Arc<ClientConfig> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| unreachable!("the aws-lc-rs provider supports the default versions"))
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}
