//! The digest and signature algorithms a signer may name, mapped to what verifies them.
//!
//! Supported (RFC 8551 §2.1, §2.2): SHA-256/384/512 digests; RSA PKCS#1 v1.5 signatures
//! (`rsaEncryption` or `sha*WithRSAEncryption`, keys of 2048 to 8192 bits) and ECDSA
//! on P-256, P-384 and P-521 (`ecdsa-with-SHA*`, or `id-ecPublicKey` as some agents
//! write it). SHA-1 in either place is refused as [`Reason::WeakAlgorithm`]: chosen-
//! prefix collisions make a SHA-1 signature forgeable, so it vouches for nothing.
//! Everything else (RSA-PSS, Ed25519, GOST, …) is [`Reason::UnsupportedAlgorithm`].

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use rustls_pki_types::SignatureVerificationAlgorithm;
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use webpki::aws_lc_rs as algs;

use crate::Reason;

/// `ecdsa-with-SHA1` (RFC 3279 §2.2.3), absent from const-oid's RFC 5912 table.
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Digest {
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    /// The digest algorithm a `digestAlgorithm` identifier names.
    pub fn named(oid: &ObjectIdentifier) -> Result<Digest, Reason> {
        match *oid {
            rfc5912::ID_SHA_256 => Ok(Digest::Sha256),
            rfc5912::ID_SHA_384 => Ok(Digest::Sha384),
            rfc5912::ID_SHA_512 => Ok(Digest::Sha512),
            rfc5912::ID_SHA_1 => Err(Reason::WeakAlgorithm),
            _ => Err(Reason::UnsupportedAlgorithm),
        }
    }

    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Digest::Sha256 => Sha256::digest(data).to_vec(),
            Digest::Sha384 => Sha384::digest(data).to_vec(),
            Digest::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// The verification algorithms to try for a `signatureAlgorithm` whose digest is
/// `digest` (the one it names, or the signer's `digestAlgorithm` when it names none).
/// webpki refuses an algorithm that does not fit the key, so trying each is safe.
pub(crate) fn candidates(
    signature: &ObjectIdentifier,
    digest: Digest,
) -> Result<&'static [&'static dyn SignatureVerificationAlgorithm], Reason> {
    let (family, digest) = match *signature {
        rfc5912::RSA_ENCRYPTION => (Family::Rsa, digest),
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => (Family::Rsa, Digest::Sha256),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => (Family::Rsa, Digest::Sha384),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => (Family::Rsa, Digest::Sha512),
        rfc5912::ID_EC_PUBLIC_KEY => (Family::Ecdsa, digest),
        rfc5912::ECDSA_WITH_SHA_256 => (Family::Ecdsa, Digest::Sha256),
        rfc5912::ECDSA_WITH_SHA_384 => (Family::Ecdsa, Digest::Sha384),
        rfc5912::ECDSA_WITH_SHA_512 => (Family::Ecdsa, Digest::Sha512),
        rfc5912::SHA_1_WITH_RSA_ENCRYPTION | ECDSA_WITH_SHA_1 => return Err(Reason::WeakAlgorithm),
        _ => return Err(Reason::UnsupportedAlgorithm),
    };
    Ok(match (family, digest) {
        (Family::Rsa, Digest::Sha256) => &RSA_SHA256,
        (Family::Rsa, Digest::Sha384) => &RSA_SHA384,
        (Family::Rsa, Digest::Sha512) => &RSA_SHA512,
        (Family::Ecdsa, Digest::Sha256) => &ECDSA_SHA256,
        (Family::Ecdsa, Digest::Sha384) => &ECDSA_SHA384,
        (Family::Ecdsa, Digest::Sha512) => &ECDSA_SHA512,
    })
}

type Algorithms<const N: usize> = [&'static dyn SignatureVerificationAlgorithm; N];

static RSA_SHA256: Algorithms<1> = [algs::RSA_PKCS1_2048_8192_SHA256];
static RSA_SHA384: Algorithms<1> = [algs::RSA_PKCS1_2048_8192_SHA384];
static RSA_SHA512: Algorithms<1> = [algs::RSA_PKCS1_2048_8192_SHA512];
static ECDSA_SHA256: Algorithms<3> = [
    algs::ECDSA_P256_SHA256,
    algs::ECDSA_P384_SHA256,
    algs::ECDSA_P521_SHA256,
];
static ECDSA_SHA384: Algorithms<3> = [
    algs::ECDSA_P256_SHA384,
    algs::ECDSA_P384_SHA384,
    algs::ECDSA_P521_SHA384,
];
static ECDSA_SHA512: Algorithms<3> = [
    algs::ECDSA_P256_SHA512,
    algs::ECDSA_P384_SHA512,
    algs::ECDSA_P521_SHA512,
];

#[derive(Clone, Copy)]
enum Family {
    Rsa,
    Ecdsa,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_weak_and_unknown_algorithms_unsupported() {
        assert_eq!(Digest::named(&rfc5912::ID_SHA_1), Err(Reason::WeakAlgorithm));
        assert_eq!(
            Digest::named(&rfc5912::ID_SHA_224),
            Err(Reason::UnsupportedAlgorithm)
        );
        assert!(
            candidates(&rfc5912::SHA_1_WITH_RSA_ENCRYPTION, Digest::Sha256)
                .is_err_and(|r| r == Reason::WeakAlgorithm)
        );
        assert!(candidates(&ECDSA_WITH_SHA_1, Digest::Sha256).is_err_and(|r| r == Reason::WeakAlgorithm));
        assert!(
            candidates(&rfc5912::ID_RSASSA_PSS, Digest::Sha256)
                .is_err_and(|r| r == Reason::UnsupportedAlgorithm)
        );
        assert_eq!(
            candidates(&rfc5912::RSA_ENCRYPTION, Digest::Sha384).map(<[_]>::len),
            Ok(1)
        );
    }

    #[test]
    fn digests_have_their_lengths() {
        assert_eq!(Digest::Sha256.hash(b"").len(), 32);
        assert_eq!(Digest::Sha384.hash(b"").len(), 48);
        assert_eq!(Digest::Sha512.hash(b"").len(), 64);
    }
}
