//! Inbound sender authentication end to end: the real server, its `[inbound_auth]
//! dns_servers` pointed at a DNS responder this test runs on 127.0.0.1 (so nothing
//! asks the machine's DNS), and Python's smtplib on the MX port.
//!
//! - a DKIM-signed message from a domain with a published key and a DMARC record is
//!   delivered with `Authentication-Results: mail.thanhhoa.gov.vn; … dkim=pass …`, read
//!   back over IMAP; a forged field in our name is gone, another server's is kept;
//! - our own domain in From: from a stranger is refused, 550 5.7.1, Vietnamese first;
//! - a DMARC failure under `p=reject` is refused, 550 5.7.1; under `p=quarantine` it
//!   is filed into the recipient's Junk;
//! - submission (authenticated officials) is not checked;
//! - `GET /api/v1/metrics` counts the decisions;
//! - with the default `trusted_networks`, loopback peers are not checked (no DNS is
//!   asked: the configured server never answers), but forged results in our name are
//!   removed from their mail too.

mod common;

use std::path::Path;

use common::{DOMAIN, PASSWORD_A, PASSWORD_B, Server, admin_get, fetch_inbox, send_mx, submit};
use congvu_mailauth::test_dns::{Responder, TestKey, Zone};
use serde_json::Value;

const AUTHSERV_ID: &str = "mail.thanhhoa.gov.vn";

/// The server with sender authentication asking only `dns`, and checking loopback
/// peers too (they are trusted by default).
fn server(dns: &Responder) -> (tempfile::TempDir, Server) {
    let tempdir = tempfile::tempdir().unwrap();
    let mut server = Server::configure(tempdir.path().to_owned(), common::Ports::free());
    let mut config = std::fs::read_to_string(&server.config_path).unwrap();
    assert!(!config.contains("[inbound_auth]"));
    config += &format!(
        "[inbound_auth]\ndns_servers = [\"{}\"]\ndns_timeout_secs = 2\ntrusted_networks = []\n",
        dns.addr()
    );
    std::fs::write(&server.config_path, config).unwrap();
    server.spawn();
    (tempdir, server)
}

/// Sends `message` as it is to the MX port (no TLS, no AUTH) with `mail_from`.
fn send_raw_mx(server: &Server, mail_from: &str, to: &str, message: &[u8]) -> Value {
    let path = server.dir.join(format!("message-{}.eml", rand_suffix()));
    std::fs::write(&path, message).unwrap();
    send_mx(server, mail_from, to, &["--raw", &path.display().to_string()])
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A message with CRLF line ends; `extra` header lines go first.
fn message(from: &str, to: &str, id: &str, extra: &str) -> Vec<u8> {
    format!(
        "{extra}From: <{from}>\r\nTo: <{to}>\r\nSubject: =?UTF-8?B?VGjDtG5nIGLDoW8=?=\r\n\
         Date: Sun, 29 Nov 2026 09:00:00 +0700\r\nMessage-ID: <{id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Kính gửi quý cơ quan.\r\n"
    )
    .into_bytes()
}

/// `user`'s INBOX, read over IMAPS, each message as text.
fn inbox(server: &Server, user: &str, out: &Path) -> Vec<String> {
    fetch_inbox(server, user, PASSWORD_B, out)
        .into_iter()
        .map(|bytes| String::from_utf8(bytes).expect("UTF-8 message"))
        .collect()
}

#[test]
fn mx_mail_is_authenticated_and_forgeries_are_refused() {
    let key = TestKey::new("signed.vn");
    let zone = key.publish(
        Zone::new()
            .txt("_dmarc.signed.vn", "v=DMARC1; p=reject")
            .txt("sender.vn", "v=spf1 ip4:127.0.0.1 -all")
            .txt("_dmarc.strict.vn", "v=DMARC1; p=reject")
            .txt("_dmarc.lax.vn", "v=DMARC1; p=quarantine")
            .txt(DOMAIN, "v=spf1 ip4:192.0.2.25 -all"),
    );
    let dns = Responder::start(zone).unwrap();
    let (_tempdir, server) = server(&dns);
    let (_agency, a, b) = server.provision();

    // Signed by signed.vn (aligned with From: DMARC passes under p=reject), with a
    // forged result in our name and another server's result below the signature.
    let signed = key.sign(&message(
        "vanthu@signed.vn",
        &b,
        "signed-1@signed.vn",
        &format!(
            "Authentication-Results: {AUTHSERV_ID}; dkim=pass header.d={DOMAIN} (forged)\r\n\
             Authentication-Results: mx.other.vn; spf=pass smtp.mailfrom=x@other.vn\r\n"
        ),
    ));
    let sent = send_raw_mx(&server, "bounce@sender.vn", &b, &signed);
    assert_eq!(sent["ok"], true, "{sent}\n{}", server.log());

    // Our own domain in From:, from a stranger whose SPF passes for its own domain.
    let spoof = message(&format!("chutich@{DOMAIN}"), &b, "spoof-1@sender.vn", "");
    let refused = send_raw_mx(&server, "x@sender.vn", &b, &spoof);
    assert_eq!(refused["code"], 550, "{refused}");
    let text = refused["message"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("5.7.1 Thư mạo danh tên miền {DOMAIN}"))
            && text.contains(" / forged sender"),
        "{text}"
    );
    // …and in MAIL FROM, where our SPF record does not list 127.0.0.1.
    let refused = send_raw_mx(
        &server,
        &format!("chutich@{DOMAIN}"),
        &b,
        &message("a@sender.vn", &b, "spoof-2@sender.vn", ""),
    );
    assert_eq!(refused["code"], 550, "{refused}");

    // DMARC p=reject: the From domain's policy, SPF passing for an unaligned domain.
    let refused = send_raw_mx(
        &server,
        "x@sender.vn",
        &b,
        &message("ceo@strict.vn", &b, "dmarc-1@strict.vn", ""),
    );
    assert_eq!(refused["code"], 550, "{refused}");
    let text = refused["message"].as_str().unwrap();
    assert!(
        text.starts_with("5.7.1 Thư không qua được kiểm tra DMARC của tên miền strict.vn"),
        "{text}"
    );

    // DMARC p=quarantine: delivered, but into the recipient's Junk (issue 10).
    let quarantined = send_raw_mx(
        &server,
        "x@sender.vn",
        &b,
        &message("ceo@lax.vn", &b, "dmarc-2@lax.vn", ""),
    );
    assert_eq!(quarantined["ok"], true, "{quarantined}");
    let junk = common::fetch_mailbox(&server, &b, PASSWORD_B, "Junk", &server.dir.join("junk-b"));
    assert_eq!(junk.len(), 1);
    let junk = String::from_utf8_lossy(&junk[0]);
    assert!(
        junk.contains("dmarc-2@lax.vn") && junk.contains("policy.dmarc=quarantine"),
        "{junk}"
    );

    // Submission is our officials' own mail: not checked, no header.
    let submitted = submit(
        &server,
        &a,
        PASSWORD_A,
        &a,
        &b,
        &["--message-id", "<submitted-1@thanhhoa.gov.vn>"],
    );
    assert_eq!(submitted["ok"], true, "{submitted}");

    let messages = inbox(&server, &b, &server.dir.join("inbox-b"));
    assert_eq!(
        messages.len(),
        2,
        "only the signed and the submitted message are stored"
    );
    let stored = messages
        .iter()
        .find(|m| m.contains("signed-1@signed.vn"))
        .unwrap();
    let ours: Vec<&str> = stored
        .split("\r\n")
        .filter(|l| l.starts_with("Authentication-Results:"))
        .collect();
    assert_eq!(
        ours,
        [
            format!("Authentication-Results: {AUTHSERV_ID};"),
            "Authentication-Results: mx.other.vn; spf=pass smtp.mailfrom=x@other.vn".to_owned(),
        ],
        "{stored}"
    );
    for expected in [
        "spf=pass (",
        "smtp.mailfrom=bounce@sender.vn",
        "dkim=pass header.d=signed.vn header.s=sel",
        "arc=none smtp.remote-ip=127.0.0.1",
        "dmarc=pass header.from=signed.vn policy.dmarc=reject",
    ] {
        assert!(stored.contains(expected), "missing {expected:?} in:\n{stored}");
    }
    assert!(!stored.contains("(forged)"), "{stored}");
    let submitted = messages.iter().find(|m| m.contains("submitted-1@")).unwrap();
    assert!(!submitted.contains("Authentication-Results:"), "{submitted}");

    // The decisions are counted for the admin API (curl, with the bootstrap token).
    let metrics = admin_get(&server, "/api/v1/metrics");
    assert_eq!(
        metrics["inbound_auth"],
        serde_json::json!({
            "accepted": 1, "quarantined": 1, "refused_local_spoof": 2, "refused_dmarc": 1, "deferred": 0
        }),
        "{metrics}"
    );

    let log = server.log();
    for reason in ["local_spoof", "dmarc_reject"] {
        assert!(
            log.lines()
                .any(|l| l.contains("sender authentication") && l.contains(reason)),
            "no log line for {reason}:\n{log}"
        );
    }
}

#[test]
fn trusted_peers_are_not_checked() {
    // A DNS server that never answers: any lookup would end in 451 4.4.3.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tempdir = tempfile::tempdir().unwrap();
    let mut server = Server::configure(tempdir.path().to_owned(), common::Ports::free());
    let mut config = std::fs::read_to_string(&server.config_path).unwrap();
    config += &format!(
        "[inbound_auth]\ndns_servers = [\"{}\"]\n",
        silent.local_addr().unwrap()
    );
    std::fs::write(&server.config_path, config).unwrap();
    server.spawn();
    let (_agency, _a, b) = server.provision();
    // Our own domain from 127.0.0.1 (trusted by default): delivered unchecked, no
    // result added — and the forged one in our name removed all the same.
    let forwarded = message(
        &format!("chutich@{DOMAIN}"),
        &b,
        "trusted-1@thanhhoa.gov.vn",
        &format!("Authentication-Results: {AUTHSERV_ID}; dkim=pass header.d={DOMAIN}\r\n"),
    );
    let sent = send_raw_mx(&server, &format!("chutich@{DOMAIN}"), &b, &forwarded);
    assert_eq!(sent["ok"], true, "{sent}\n{}", server.log());
    let messages = inbox(&server, &b, &server.dir.join("inbox-b"));
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("trusted-1@"), "{}", messages[0]);
    assert!(
        !messages[0].contains("Authentication-Results:"),
        "{}",
        messages[0]
    );
    assert!(!server.log().contains("sender authentication"));
}

#[test]
fn our_domain_in_unusual_from_syntax_is_refused() {
    let dns = Responder::start(
        Zone::new()
            .txt("sender.vn", "v=spf1 ip4:127.0.0.1 -all")
            .txt(&format!("_dmarc.{DOMAIN}"), "v=DMARC1; p=reject")
            .txt(DOMAIN, "v=spf1 ip4:192.0.2.25 -all"),
    )
    .unwrap();
    let (_tempdir, server) = server(&dns);
    let (_agency, _a, b) = server.provision();
    for (i, from) in [
        format!("chutich @ {DOMAIN}"),
        format!("chutich@ {DOMAIN}"),
        format!("<chutich@{DOMAIN}.>"),
        format!("<chutich@[{DOMAIN}]>"),
        "=?utf-8?q?chutich=40thanhhoa.gov.vn?=".to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let raw = format!(
            "From: {from}\r\nTo: <{b}>\r\nSubject: t\r\nMessage-ID: <odd-{i}@sender.vn>\r\n\r\nbody\r\n"
        );
        let refused = send_raw_mx(&server, "x@sender.vn", &b, raw.as_bytes());
        assert_eq!(refused["code"], 550, "{from}: {refused}");
        let text = refused["message"].as_str().unwrap();
        assert!(
            text.starts_with(&format!("5.7.1 Thư mạo danh tên miền {DOMAIN}")),
            "{text}"
        );
    }
    // Our domain only in the display name: delivered, tagged and logged.
    let raw = format!(
        "From: \"chutich@{DOMAIN}\" <x@sender.vn>\r\nTo: <{b}>\r\nSubject: t\r\n\
         Message-ID: <named-1@sender.vn>\r\n\r\nbody\r\n"
    );
    let sent = send_raw_mx(&server, "x@sender.vn", &b, raw.as_bytes());
    assert_eq!(sent["ok"], true, "{sent}\n{}", server.log());
    let messages = inbox(&server, &b, &server.dir.join("inbox-b"));
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains(&format!("(From display name names {DOMAIN})")),
        "{}",
        messages[0]
    );
    assert!(
        server.log().contains("local_domain_in_display_name"),
        "{}",
        server.log()
    );
}

#[test]
fn forged_results_are_removed_with_the_check_disabled() {
    let tempdir = tempfile::tempdir().unwrap();
    let mut server = Server::configure(tempdir.path().to_owned(), common::Ports::free());
    let mut config = std::fs::read_to_string(&server.config_path).unwrap();
    config += "[inbound_auth]\nenabled = false\ntrusted_networks = []\n";
    std::fs::write(&server.config_path, config).unwrap();
    server.spawn();
    let (_agency, _a, b) = server.provision();
    let forged = message(
        "x@sender.vn",
        &b,
        "disabled-1@sender.vn",
        &format!(
            "Authentication-Results: {AUTHSERV_ID}; dmarc=pass header.from={DOMAIN}\r\n\
             Authentication-Results: mx.other.vn; spf=pass smtp.mailfrom=x@other.vn\r\n"
        ),
    );
    let sent = send_raw_mx(&server, "x@sender.vn", &b, &forged);
    assert_eq!(sent["ok"], true, "{sent}\n{}", server.log());
    let messages = inbox(&server, &b, &server.dir.join("inbox-b"));
    assert_eq!(messages.len(), 1);
    assert!(
        !messages[0].contains(&format!("Authentication-Results: {AUTHSERV_ID}"))
            && messages[0].contains("Authentication-Results: mx.other.vn;"),
        "{}",
        messages[0]
    );
}
