//! S/MIME signature verification (Art. 11.3: officials' mail carries digital
//! signatures): a pure, synchronous verdict on a received message, recorded by the
//! caller as an RFC 7281 `Authentication-Results:` field ([`Outcome::header`]).
//!
//! What is verified, at the message's top level only (a signed message forwarded
//! inside another speaks for its own author, not for this `From:`):
//! - `multipart/signed` with `protocol="application/pkcs7-signature"` (or the `x-`
//!   form): the first part, byte for byte as received, against the detached CMS
//!   SignedData of the second (RFC 8551 §3.5, RFC 1847 §2.1);
//! - `application/pkcs7-mime; smime-type=signed-data` (or `x-pkcs7-mime`, or without
//!   `smime-type` when the CMS object is SignedData): the encapsulated content
//!   (RFC 8551 §3.5.2). Enveloped (encrypted) data is not a signature: `none`.
//!
//! For each signer (at most four; the best verdict stands): the signer's certificate
//! is found among the certificates the signature carries (issuer and serial number,
//! or subject key identifier); SHA-1 is refused; the signed attributes' `contentType`
//! and `messageDigest` are checked and their DER re-tagged as SET OF is verified with
//! the certificate's key (RFC 5652 §5.4), or the content itself without signed
//! attributes; the chain is built by rustls-webpki to an anchor of `ca_file`, valid
//! now, with id-kp-emailProtection when the certificate lists extended key usages;
//! the certificate must name the one `From:` address (subjectAltName `rfc822Name` or
//! subject `emailAddress`, RFC 8550 §3).
//!
//! Results (see [`Reason`] for each cause): `pass` when all holds; `neutral` when the
//! signature holds but cannot be judged — no `ca_file` configured, or an algorithm not
//! implemented here (RSA-PSS, Ed25519); `fail` when it does not vouch for this message
//! from this author — content altered, bad signature, SHA-1, expired or not-yet-valid
//! certificate, chain not reaching an anchor (an unknown CA is a `fail`: the operator
//! named whom to trust), no e-mail protection usage, `From:` not named or not exactly
//! one address; `permerror` when the structure cannot be read; `none` when unsigned.
//!
//! Invariants:
//! 1. The message is never altered: verification reads a borrowed slice and returns a
//!    verdict; the caller only prepends the field.
//! 2. No input panics, and work is bounded by the input and fixed limits: a detached
//!    signature part of at most 256 KiB, at most 16 certificates and 4 signers per
//!    signature, DER nesting and SET sizes walked before decoding (`der_shape`, which
//!    also re-encodes the BER that streaming agents write as DER).
//! 3. `pass` is given only with configured anchors and a `From:` the certificate
//!    names; without anchors the best result is `neutral`.
//! 4. No I/O after [`Verifier::new`], which reads `ca_file` once.
//!
//! Removing `Authentication-Results:` fields that claim our authserv-id is
//! `congvu_mailauth::without_own_results`, not repeated here.

mod algorithm;
mod certificate;
mod config;
mod der_shape;
mod mime;
mod outcome;
mod verifier;

pub use config::SmimeConfig;
pub use outcome::{Outcome, Reason, SmimeResult};
pub use verifier::{Error, Verifier};
