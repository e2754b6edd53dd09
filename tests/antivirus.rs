//! Virus scanning end to end (issue 10, Art. 17.6): the real server with `[antivirus]
//! clamd` pointed at a private clamd this test starts on 127.0.0.1 (Debian's
//! `clamav-daemon`, a one-signature EICAR database, `congvu_antivirus::test_clamd`),
//! and Python's smtplib on submission and on the MX port.
//!
//! - EICAR as a text attachment, zipped, and inside a forwarded message is refused
//!   `554 5.7.1` naming the signature, on both ports, and nothing is stored;
//! - a clean message is delivered;
//! - clamd stopped: `451 4.7.1` (the default `on_error = "tempfail"`), Vietnamese
//!   first, and the failure is counted in `/api/v1/metrics`.

mod common;

use std::io::Write;

use common::{PASSWORD_A, PASSWORD_B, Server, admin_get, fetch_inbox, send_mx, submit};
use congvu_antivirus::test_clamd::{
    EICAR_SIGNATURE, Listen, TestClamd, eicar, message_with_attachment, stored_zip,
};

/// `inner` forwarded as a `message/rfc822` part.
fn forwarded(from: &str, to: &str, inner: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: =?UTF-8?B?VEw6IFTDoGkgbGnhu4d1?=\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"f1\"\r\n\r\n--f1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nChuyển tiếp thư.\r\n--f1\r\n\
         Content-Type: message/rfc822\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(inner);
    out.extend_from_slice(b"\r\n--f1--\r\n");
    out
}

fn send_raw(
    server: &Server,
    mx: bool,
    from: &str,
    to: &str,
    message: &[u8],
    name: &str,
) -> serde_json::Value {
    let path = server.dir.join(format!("{name}.eml"));
    std::fs::File::create(&path).unwrap().write_all(message).unwrap();
    let raw = path.display().to_string();
    if mx {
        send_mx(server, from, to, &["--raw", &raw])
    } else {
        submit(server, from, PASSWORD_A, from, to, &["--raw", &raw])
    }
}

#[test]
fn malware_is_refused_clean_mail_passes_and_a_stopped_clamd_defers() {
    let Some(mut clamd) = TestClamd::start(Listen::Tcp) else {
        return;
    };
    let tempdir = tempfile::tempdir().unwrap();
    let mut server = Server::configure(tempdir.path().to_owned(), common::Ports::free());
    let mut config = std::fs::read_to_string(&server.config_path).unwrap();
    config += &format!(
        "[antivirus]\nclamd = \"{}\"\ntimeout_secs = 10\n",
        clamd.address()
    );
    std::fs::write(&server.config_path, config).unwrap();
    server.spawn();
    let (_agency, a, b) = server.provision();
    let outsider = "vanthu@example.org";

    let virus = eicar();
    let plain = message_with_attachment(&a, &b, "eicar.txt", &virus);
    let zipped = message_with_attachment(&a, &b, "tai-lieu.zip", &stored_zip("eicar.txt", &virus));
    let cases = [
        ("plain", plain.clone()),
        ("zipped", zipped),
        ("forwarded", forwarded(&a, &b, &plain)),
    ];
    let mut failures = Vec::new();
    for (name, message) in &cases {
        for mx in [false, true] {
            let from = if mx { outsider } else { a.as_str() };
            let sent = send_raw(&server, mx, from, &b, message, &format!("{name}-{mx}"));
            let text = sent["message"].as_str().unwrap_or_default();
            let ok = sent["code"] == 554
                && text.starts_with("5.7.1 Thư chứa mã độc (")
                && text.contains(EICAR_SIGNATURE);
            println!("{name:<10} mx={mx:<5} → {sent}");
            if !ok {
                failures.push(format!("{name} mx={mx}: {sent}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "not refused as malware:\n{}",
        failures.join("\n")
    );

    let clean = message_with_attachment(&a, &b, "ghi-chu.txt", "Ghi chú cuộc họp.\r\n".as_bytes());
    let sent = send_raw(&server, false, &a, &b, &clean, "clean");
    assert_eq!(sent["ok"], true, "{sent}");
    let inbox = fetch_inbox(&server, &b, PASSWORD_B, &server.dir.join("inbox"));
    assert_eq!(inbox.len(), 1, "only the clean message is stored");
    assert!(
        inbox[0].ends_with(&clean),
        "stored as sent below our header lines"
    );

    clamd.stop();
    let sent = send_raw(&server, false, &a, &b, &clean, "clamd-down");
    assert_eq!(sent["code"], 451, "{sent}");
    let text = sent["message"].as_str().unwrap();
    assert!(
        text.starts_with("4.7.1 Tạm thời không quét được mã độc"),
        "{text}"
    );

    let metrics = admin_get(&server, "/api/v1/metrics");
    let antivirus = &metrics["antivirus"];
    assert_eq!(antivirus["infected"], 6, "{metrics}");
    assert_eq!(antivirus["clean"], 1, "{metrics}");
    assert_eq!(antivirus["errors"], 1, "{metrics}");
    let log = server.log();
    assert!(log.contains("malware found, message refused"), "{log}");
}
