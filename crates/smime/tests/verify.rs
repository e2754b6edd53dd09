//! Messages signed by `openssl smime` / `openssl cms`, verified as the SMTP door
//! receives them (CRLF line ends, trace fields above).

mod support;

use std::time::{Instant, SystemTime};

use congvu_smime::{Outcome, Reason, SmimeConfig, SmimeResult, Verifier};
use support::{OFFICIAL, OTHER, Pki};

fn verifier() -> Verifier {
    let config = SmimeConfig {
        ca_file: Some(Pki::get().ca_file()),
    };
    Verifier::new(&config).expect("anchors")
}

fn verify(message: &[u8]) -> Outcome {
    verifier().verify(message, SystemTime::now())
}

fn assert_outcome(outcome: &Outcome, reason: Reason) {
    assert_eq!(outcome.reason, reason, "{outcome:?}");
    assert_eq!(outcome.result, reason.result(), "{outcome:?}");
}

/// `message` with `from` replaced by `to` once, in the signed part's text.
fn replaced(message: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(message.to_vec()).expect("utf-8");
    assert!(text.contains(from), "{from:?} not in the message");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn detached_rsa_signature_passes_with_trace_fields_above() {
    let signed = Pki::get().sign("smime", "official", OFFICIAL, &[]);
    let mut received = b"Received: from [127.0.0.1] by mail.thanhhoa.gov.vn\r\n\
        Authentication-Results: other.example; smime=pass\r\n"
        .to_vec();
    received.extend_from_slice(&signed);
    let outcome = verify(&received);
    assert_outcome(&outcome, Reason::Verified);
    assert_eq!(outcome.signer.as_deref(), Some(OFFICIAL));
    assert_eq!(
        outcome.header("mail.thanhhoa.gov.vn"),
        format!(
            "Authentication-Results: mail.thanhhoa.gov.vn;\r\n\tsmime=pass (signature verified)\r\n\
             \tbody.smime-identifier={OFFICIAL}\r\n"
        )
    );
}

#[test]
fn opaque_signed_data_passes() {
    let signed = Pki::get().sign("smime", "official", OFFICIAL, &["-nodetach"]);
    assert!(String::from_utf8_lossy(&signed).contains("smime-type=signed-data"));
    assert_outcome(&verify(&signed), Reason::Verified);
}

#[test]
fn ecdsa_cms_signatures_pass_with_issuer_serial_or_key_identifier() {
    let pki = Pki::get();
    for extra in [
        &["-md", "sha256"][..],
        &["-md", "sha384", "-keyid"],
        &["-nodetach"],
    ] {
        let signed = pki.sign("cms", "ecdsa", OFFICIAL, extra);
        assert_outcome(&verify(&signed), Reason::Verified);
    }
}

#[test]
fn rsa_sha512_and_no_signed_attributes_pass() {
    let pki = Pki::get();
    assert_outcome(
        &verify(&pki.sign("cms", "official", OFFICIAL, &["-md", "sha512"])),
        Reason::Verified,
    );
    // Without signed attributes the signature covers the content itself.
    let bare = pki.sign("cms", "official", OFFICIAL, &["-noattr"]);
    assert_outcome(&verify(&bare), Reason::Verified);
    assert_outcome(
        &verify(&replaced(&bare, "Xin chao", "Xin chaO")),
        Reason::ContentAltered,
    );
}

#[test]
fn streamed_ber_signatures_pass() {
    // `-stream` writes BER with indefinite lengths and the encapsulated content in
    // pieces, as NSS (Thunderbird) does.
    let pki = Pki::get();
    for (tool, extra) in [
        ("cms", &["-stream"][..]),
        ("cms", &["-stream", "-nodetach"]),
        ("smime", &["-stream", "-nodetach"]),
    ] {
        let signed = pki.sign(tool, "official", OFFICIAL, extra);
        assert_outcome(&verify(&signed), Reason::Verified);
    }
}

#[test]
fn one_altered_byte_in_the_signed_part_fails() {
    let signed = Pki::get().sign("smime", "official", OFFICIAL, &[]);
    assert_outcome(
        &verify(&replaced(&signed, "Xin chao", "Xin chaO")),
        Reason::ContentAltered,
    );
    // A header of the signed part is content too.
    let retyped = replaced(
        &signed,
        "Content-Transfer-Encoding: 8bit",
        "Content-Transfer-Encoding: 7bit",
    );
    assert_outcome(&verify(&retyped), Reason::ContentAltered);
    // Outside the signed part (the message's own Subject) nothing is signed.
    assert_outcome(
        &verify(&replaced(&signed, "Subject: Bao cao", "Subject: Khac")),
        Reason::Verified,
    );
}

#[test]
fn a_certificate_for_another_address_fails() {
    let pki = Pki::get();
    let outcome = verify(&pki.sign("smime", "other", OFFICIAL, &[]));
    assert_outcome(&outcome, Reason::FromMismatch);
    assert_eq!(outcome.signer.as_deref(), Some(OTHER));
    // The From address spelled with another domain case still names the official.
    let upper = pki.sign("smime", "official", "hunglv.yendinh@ThanhHoa.Gov.VN", &[]);
    assert_outcome(&verify(&upper), Reason::Verified);
    // Two authors: a signature cannot vouch for both.
    let two = pki.sign("smime", "official", &format!("{OFFICIAL}, {OTHER}"), &[]);
    assert_outcome(&verify(&two), Reason::FromUnusable);
}

#[test]
fn an_unknown_ca_fails() {
    let outcome = verify(&Pki::get().sign("smime", "stranger", OFFICIAL, &[]));
    assert_outcome(&outcome, Reason::UntrustedIssuer);
    assert_eq!(outcome.result, SmimeResult::Fail);
}

#[test]
fn an_expired_certificate_fails() {
    assert_outcome(
        &verify(&Pki::get().sign("smime", "expired", OFFICIAL, &[])),
        Reason::CertificateExpired,
    );
}

#[test]
fn a_certificate_not_for_email_fails() {
    assert_outcome(
        &verify(&Pki::get().sign("smime", "client", OFFICIAL, &[])),
        Reason::NotForEmail,
    );
}

#[test]
fn sha1_fails() {
    let signed = Pki::get().sign("smime", "official", OFFICIAL, &["-md", "sha1"]);
    assert_outcome(&verify(&signed), Reason::WeakAlgorithm);
}

#[test]
fn without_a_ca_file_a_good_signature_is_neutral_never_pass() {
    let pki = Pki::get();
    let verifier = Verifier::new(&SmimeConfig::default()).expect("no anchors");
    let outcome = verifier.verify(&pki.sign("smime", "official", OFFICIAL, &[]), SystemTime::now());
    assert_outcome(&outcome, Reason::NoTrustAnchors);
    assert_eq!(outcome.result, SmimeResult::Neutral);
    // The checks that need no anchors still fail what they see.
    let other = verifier.verify(&pki.sign("smime", "other", OFFICIAL, &[]), SystemTime::now());
    assert_outcome(&other, Reason::FromMismatch);
    let expired = verifier.verify(&pki.sign("smime", "expired", OFFICIAL, &[]), SystemTime::now());
    assert_outcome(&expired, Reason::CertificateExpired);
    let signed = pki.sign("smime", "official", OFFICIAL, &[]);
    let altered = verifier.verify(&replaced(&signed, "line 3", "line 4"), SystemTime::now());
    assert_outcome(&altered, Reason::ContentAltered);
}

#[test]
fn unsigned_encrypted_and_forwarded_messages_are_none() {
    let pki = Pki::get();
    let plain = format!("From: {OFFICIAL}\r\nSubject: hi\r\n\r\nhello\r\n");
    assert_outcome(&verify(plain.as_bytes()), Reason::NotSigned);

    let content = pki.path("plain.txt");
    std::fs::write(&content, "Content-Type: text/plain\n\nsecret\n").expect("write");
    let encrypted = pki.path("encrypted.eml");
    support::openssl(
        &pki.dir,
        &[
            "smime",
            "-encrypt",
            "-aes256",
            "-in",
            "plain.txt",
            "-out",
            "encrypted.eml",
            "official.pem",
        ],
    );
    let encrypted = support::crlf(&std::fs::read(encrypted).expect("encrypted"));
    assert_outcome(&verify(&encrypted), Reason::NotSigned);

    // A signed message forwarded inside a multipart/mixed: only the top level counts.
    let signed = pki.sign("smime", "official", OFFICIAL, &[]);
    let mut forward = format!(
        "From: {OTHER}\r\nContent-Type: multipart/mixed; boundary=F\r\n\r\n--F\r\n\
         Content-Type: text/plain\r\n\r\nFYI\r\n--F\r\nContent-Type: message/rfc822\r\n\r\n"
    )
    .into_bytes();
    forward.extend_from_slice(&signed);
    forward.extend_from_slice(b"\r\n--F--\r\n");
    assert_outcome(&verify(&forward), Reason::NotSigned);
}

#[test]
fn garbage_signatures_are_permanent_errors() {
    let signed = String::from_utf8(Pki::get().sign("smime", "official", OFFICIAL, &[])).expect("utf-8");
    let (head, rest) = signed
        .split_once("filename=\"smime.p7s\"\r\n\r\n")
        .expect("signature part");
    let (_, tail) = rest.split_once("\r\n\r\n").expect("end of the base64");
    // Valid base64 of something that is not DER, then not base64 at all, then DER that
    // is not a SignedData, then truncated DER.
    let signature_start = &rest[..rest.find("\r\n\r\n").expect("end")];
    for replacement in [
        "SGVsbG8sIHdvcmxkIQ==".to_owned(),
        "@@@ not base64 @@@".to_owned(),
        "MAMCAQE=".to_owned(),
        signature_start[..signature_start.len() / 2].trim_end().to_owned(),
    ] {
        let message = format!("{head}filename=\"smime.p7s\"\r\n\r\n{replacement}\r\n\r\n{tail}");
        let outcome = verify(message.as_bytes());
        assert_eq!(
            outcome.result,
            SmimeResult::PermError,
            "{replacement:.20}: {outcome:?}"
        );
    }
}

#[test]
fn a_signature_is_judged_at_the_given_time() {
    let signed = Pki::get().sign("smime", "official", OFFICIAL, &[]);
    let in_two_years = SystemTime::now() + std::time::Duration::from_secs(2 * 366 * 86_400);
    assert_outcome(
        &verifier().verify(&signed, in_two_years),
        Reason::CertificateExpired,
    );
    let before_issue = SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
    assert_outcome(
        &verifier().verify(&signed, before_issue),
        Reason::CertificateNotYetValid,
    );
}

/// Runs per size for the timing below.
const RUNS: usize = 50;

/// A signed message whose first part carries about `size` bytes of text.
fn signed_of_size(pki: &Pki, size: usize, extra: &[&str]) -> Vec<u8> {
    let line = "Báo cáo tình hình thực hiện nhiệm vụ tháng 11, số liệu kèm theo.\n";
    let text: String = line.repeat(size / line.len() + 1);
    let content = format!("Content-Type: text/plain; charset=utf-8\n\n{text}");
    pki.sign_content(&content, "smime", "official", OFFICIAL, extra)
}

/// Verification time of a signed 10 KB and 10 MB message, p50 and p99 over [`RUNS`]
/// runs each, printed for `docs/benchmarks.md`. Ignored by default (it signs 10 MB):
/// `cargo test -p congvu-smime --test verify -- --ignored --nocapture`.
#[test]
#[ignore = "timing: signs and verifies 10 MB messages; run with --ignored --nocapture"]
fn verify_time_for_10_kb_and_10_mb() {
    let pki = Pki::get();
    let verifier = Verifier::new(&SmimeConfig {
        ca_file: Some(pki.ca_file()),
    })
    .expect("anchors");
    for (label, size) in [("10 KB", 10 * 1024), ("10 MB", 10 * 1024 * 1024)] {
        for (shape, extra) in [
            ("multipart/signed", &[][..]),
            ("opaque pkcs7-mime", &["-nodetach"][..]),
        ] {
            let message = signed_of_size(pki, size, extra);
            let mut times: Vec<f64> = (0..RUNS)
                .map(|_| {
                    let start = Instant::now();
                    let outcome = verifier.verify(&message, SystemTime::now());
                    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
                    assert_eq!(outcome.reason, Reason::Verified);
                    elapsed
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let p50 = times[RUNS / 2];
            let p99 = times[RUNS * 99 / 100];
            println!(
                "smime verify {label} {shape} ({} bytes): p50 {p50:.2} ms, p99 {p99:.2} ms",
                message.len()
            );
        }
    }
}
