//! TLS material: the operator's PEM files, or a self-signed certificate generated into
//! `data_dir/tls/` at first start and reused afterwards (so clients that pinned it on
//! first use keep trusting it across restarts).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::Tls;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("{path} holds no certificate")]
    NoCertificate { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("certificate and key do not form a usable TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The aws-lc-rs provider, installed once for the process (rustls ≥ 0.23 requires an
/// explicit choice when more than one provider could be compiled in).
pub fn install_crypto_provider() {
    // Err means another part of the process installed it first: fine.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Builds the server configuration shared by every TLS listener.
pub fn server_config(tls: &Tls, data_dir: &Path, hostname: &str) -> Result<Arc<ServerConfig>, TlsError> {
    let (cert_path, key_path) = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        _ => ensure_self_signed(data_dir, hostname)?,
    };
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Read {
            path: cert_path.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: cert_path });
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|source| TlsError::Read {
        path: key_path.clone(),
        source,
    })?;
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

fn ensure_self_signed(data_dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf), TlsError> {
    let dir = data_dir.join("tls");
    let cert_path = dir.join("self-signed-cert.pem");
    let key_path = dir.join("self-signed-key.pem");
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Write { path, source }
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(write_error(&dir))?;
    let names = vec![hostname.to_owned(), "localhost".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names)?;
    write_private(&key_path, certified.signing_key.serialize_pem().as_bytes())
        .map_err(write_error(&key_path))?;
    write_private(&cert_path, certified.cert.pem().as_bytes()).map_err(write_error(&cert_path))?;
    tracing::warn!(
        cert = %cert_path.display(),
        "no [tls] cert/key configured: generated a self-signed certificate; clients will warn until a real one is configured"
    );
    Ok((cert_path, key_path))
}

/// Writes a file readable by its owner only, durably.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}
