//! The spine, end to end, with real clients: officials submit with smtplib (STARTTLS +
//! AUTH PLAIN, implicit TLS + AUTH LOGIN), swaks and curl; other servers deliver to the
//! MX port; recipients read with imaplib, curl and mbsync.

mod common;

use common::*;
use serde_json::Value;

/// How a client logs in: a SASL mechanism ("plain", "login") and credentials.
#[derive(Clone, Copy)]
struct Login<'a> {
    mechanism: &'a str,
    user: &'a str,
    password: &'a str,
}

const NO_LOGIN: Login<'static> = Login {
    mechanism: "none",
    user: "",
    password: "",
};

fn plain<'a>(user: &'a str, password: &'a str) -> Login<'a> {
    Login {
        mechanism: "plain",
        user,
        password,
    }
}

fn send(
    server: &Server,
    port: u16,
    security: &str,
    login: Login<'_>,
    from: &str,
    to: &[&str],
    extra: &[&str],
) -> Value {
    let mut args = strings(&[
        "send",
        "--port",
        &port.to_string(),
        "--security",
        security,
        "--cafile",
        &server.cafile(),
        "--auth",
        login.mechanism,
        "--user",
        login.user,
        "--password",
        login.password,
        "--from",
        from,
    ]);
    for rcpt in to {
        args.push("--to".into());
        args.push(rcpt.to_string());
    }
    args.extend(strings(extra));
    serde_json::from_str(&python_ok(server, "mailclient.py", &args)).expect("JSON from mailclient.py")
}

fn fetch(
    server: &Server,
    port: u16,
    security: &str,
    user: &str,
    password: &str,
    out: &std::path::Path,
) -> Value {
    std::fs::create_dir_all(out).unwrap();
    let args = strings(&[
        "fetch",
        "--port",
        &port.to_string(),
        "--security",
        security,
        "--cafile",
        &server.cafile(),
        "--user",
        user,
        "--password",
        password,
        "--out",
        &out.display().to_string(),
    ]);
    serde_json::from_str(&python_ok(server, "mailclient.py", &args)).expect("JSON from mailclient.py")
}

/// How many messages the user's INBOX holds, read over IMAPS.
fn inbox_len(server: &Server, user: &str, password: &str) -> usize {
    let listing = fetch(
        server,
        server.ports.imaps,
        "tls",
        user,
        password,
        &server.dir.join(user),
    );
    listing["messages"].as_array().expect("message list").len()
}

/// The stored message is the sent one with only trace headers (Return-Path,
/// Received) and the policy verdict (X-Congvu-Policy) put in front: never altered
/// below them.
fn assert_identical_below_trace(stored: &[u8], sent: &[u8]) -> String {
    assert!(
        stored.len() > sent.len(),
        "stored message is not longer than the sent one"
    );
    let (prefix, rest) = stored.split_at(stored.len() - sent.len());
    assert_eq!(rest, sent, "message body or headers were altered in transit");
    let prefix = String::from_utf8(prefix.to_vec()).expect("trace headers are text");
    for line in prefix.split("\r\n").filter(|l| !l.is_empty()) {
        let trace = line.starts_with("Return-Path:")
            || line.starts_with("Received:")
            || line.starts_with("X-Congvu-Policy:")
            || line.starts_with([' ', '\t']);
        assert!(trace, "unexpected line above the sent message: {line:?}");
    }
    prefix
}

#[test]
fn official_submits_and_recipient_reads_byte_identical() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    assert_eq!(a, "tuanna.sttt@thanhhoa.gov.vn");
    assert_eq!(b, "hoalt.sttt@thanhhoa.gov.vn");
    let sent_ab = server.dir.join("a-to-b.eml");
    let sent_ba = server.dir.join("b-to-a.eml");

    // Thunderbird's way: port 587, STARTTLS, AUTH PLAIN; a PDF attachment.
    let result = send(
        &server,
        server.ports.submission,
        "starttls",
        plain(&a, PASSWORD_A),
        &a,
        &[&b],
        &[
            "--subject",
            "Về việc triển khai hệ thống thư điện tử công vụ",
            "--pdf-kib",
            "300",
            "--eml",
            &sent_ab.display().to_string(),
        ],
    );
    assert_eq!(result["ok"], true, "{result}");
    // Outlook's way: port 465, implicit TLS, AUTH LOGIN with 334 prompts.
    let result = send(
        &server,
        server.ports.submissions,
        "tls",
        Login {
            mechanism: "login",
            user: &b,
            password: PASSWORD_B,
        },
        &b,
        &[&a],
        &[
            "--subject",
            "Trả lời: lịch họp",
            "--eml",
            &sent_ba.display().to_string(),
        ],
    );
    assert_eq!(result["ok"], true, "{result}");

    let out_b = server.dir.join("fetched-b");
    let listing = fetch(&server, server.ports.imaps, "tls", &b, PASSWORD_B, &out_b);
    assert_eq!(listing["messages"].as_array().unwrap().len(), 1, "{listing}");
    let stored = std::fs::read(out_b.join("1.eml")).expect("UID 1 fetched");
    let trace = assert_identical_below_trace(&stored, &std::fs::read(&sent_ab).unwrap());
    assert!(trace.starts_with(&format!("Return-Path: <{a}>\r\n")), "{trace}");
    assert!(trace.contains("by mail.thanhhoa.gov.vn"), "{trace}");
    assert!(
        trace.contains("ESMTPSA"),
        "authenticated TLS submission is recorded (RFC 3848): {trace}"
    );

    let out_a = server.dir.join("fetched-a");
    let listing = fetch(&server, server.ports.imap, "starttls", &a, PASSWORD_A, &out_a);
    assert_eq!(listing["messages"].as_array().unwrap().len(), 1, "{listing}");
    assert_eq!(listing["status"]["uidnext"], 2);
    let stored = std::fs::read(out_a.join("1.eml")).expect("UID 1 fetched");
    assert_identical_below_trace(&stored, &std::fs::read(&sent_ba).unwrap());
}

#[test]
fn mx_accepts_local_recipients_only() {
    let server = Server::start();
    let (agency, _a, b) = server.provision();
    let mx = |to: &str| {
        send(
            &server,
            server.ports.smtp,
            "none",
            NO_LOGIN,
            "citizen@example.net",
            &[to],
            &["--subject", "Đề nghị cấp phép"],
        )
    };
    assert_eq!(mx(&b)["ok"], true);
    assert_eq!(mx(&agency)["ok"], true);
    let unknown = mx("khongtontai@thanhhoa.gov.vn");
    assert_eq!(unknown["code"], 550, "{unknown}");
    assert!(
        unknown["message"].as_str().unwrap().starts_with("5.1.1"),
        "{unknown}"
    );
    let relay = mx("someone@example.com");
    assert_eq!(relay["code"], 550, "{relay}");
    assert!(relay["message"].as_str().unwrap().starts_with("5.7.1"), "{relay}");
    // Upper-case local part and domain reach the same mailbox (RFC 5321 §2.4 leaves
    // local parts case-sensitive to the receiver; ours are lower-case by Art. 3).
    assert_eq!(mx(&b.to_uppercase())["ok"], true);

    assert_eq!(inbox_len(&server, &b, PASSWORD_B), 2);
}

#[test]
fn submission_requires_auth_and_own_sender_and_queues_remote_mail() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    // No AUTH on submission.
    let result = send(
        &server,
        server.ports.submission,
        "starttls",
        NO_LOGIN,
        &a,
        &[&b],
        &[],
    );
    assert_eq!(result["code"], 530, "{result}");
    // Wrong password.
    let result = send(
        &server,
        server.ports.submission,
        "starttls",
        plain(&a, "wrong-password"),
        &a,
        &[&b],
        &[],
    );
    assert_eq!(result["code"], 535, "{result}");
    // Sending as someone else.
    let result = send(
        &server,
        server.ports.submission,
        "starttls",
        plain(&a, PASSWORD_A),
        &b,
        &[&b],
        &[],
    );
    assert_eq!(result["code"], 553, "{result}");
    // A remote recipient goes into the durable outbound queue.
    let result = send(
        &server,
        server.ports.submission,
        "starttls",
        plain(&a, PASSWORD_A),
        &a,
        &["dan@example.com"],
        &[],
    );
    assert_eq!(result["ok"], true, "{result}");

    let queue = admin_get(&server, "/api/v1/queue");
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue[0]["recipients"][0], "dan@example.com");
    assert_eq!(queue[0]["sender"], a.as_str());
    // Without the token the admin API refuses.
    let output = run(
        "curl",
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://127.0.0.1:{}/api/v1/queue", server.ports.admin),
        ],
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "401");
}

#[test]
fn curl_sends_and_reads_over_tls() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    let eml = server.dir.join("curl.eml");
    std::fs::write(
        &eml,
        format!("From: {a}\r\nTo: {b}\r\nSubject: =?UTF-8?B?{}?=\r\nMessage-ID: <curl-1@test>\r\n\r\nNội dung gửi bằng curl.\r\n", "VGjDtG5nIGLDoW8gKGN1cmwp"),
    )
    .unwrap();
    let host = "mail.thanhhoa.gov.vn";
    let resolve = |port: u16| format!("{host}:{port}:127.0.0.1");
    let ca = server.cafile();
    // Implicit TLS submission, certificate verified against the generated CA, AUTH PLAIN.
    let output = run(
        "curl",
        &[
            "-sS",
            "--resolve",
            &resolve(server.ports.submissions),
            "--cacert",
            &ca,
            &format!("smtps://{host}:{}", server.ports.submissions),
            "--user",
            &format!("{a}:{PASSWORD_A}"),
            "--mail-from",
            &a,
            "--mail-rcpt",
            &b,
            "-T",
            &eml.display().to_string(),
        ],
    );
    assert!(
        output.status.success(),
        "curl smtps: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    // IMAP with STARTTLS required, then fetch UID 1.
    let output = run(
        "curl",
        &[
            "-sS",
            "--ssl-reqd",
            "--resolve",
            &resolve(server.ports.imap),
            "--cacert",
            &ca,
            &format!("imap://{host}:{}/INBOX;UID=1", server.ports.imap),
            "--user",
            &format!("{b}:{PASSWORD_B}"),
        ],
    );
    assert!(
        output.status.success(),
        "curl imap: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    let body = String::from_utf8(output.stdout).unwrap();
    assert!(body.contains("Nội dung gửi bằng curl."), "{body}");
    assert!(body.contains("Message-ID: <curl-1@test>"), "{body}");
    // SEARCH over imaps.
    let output = run(
        "curl",
        &[
            "-sS",
            "--resolve",
            &resolve(server.ports.imaps),
            "--cacert",
            &ca,
            &format!("imaps://{host}:{}/INBOX", server.ports.imaps),
            "--user",
            &format!("{b}:{PASSWORD_B}"),
            "-X",
            "SEARCH ALL",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "* SEARCH 1",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn swaks_submits_with_starttls_and_auth_login() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    let output = run(
        "swaks",
        &[
            "--server",
            &format!("127.0.0.1:{}", server.ports.submission),
            "--tls",
            "--auth",
            "LOGIN",
            "--auth-user",
            &a,
            "--auth-password",
            PASSWORD_A,
            "--from",
            &a,
            "--to",
            &b,
            "--header",
            "Subject: Báo cáo tuần",
            "--body",
            "Gửi bằng swaks.",
            "--helo",
            "client.test",
        ],
    );
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "swaks failed:\n{transcript}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(transcript.contains("<~  250"), "{transcript}");
    // And swaks on the MX port is refused relaying.
    let output = run(
        "swaks",
        &[
            "--server",
            &format!("127.0.0.1:{}", server.ports.smtp),
            "--from",
            "x@example.net",
            "--to",
            "y@example.org",
            "--helo",
            "client.test",
        ],
    );
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(transcript.contains("<** 550 5.7.1"), "{transcript}");
    assert_eq!(inbox_len(&server, &b, PASSWORD_B), 1);
}

#[test]
fn mbsync_pulls_every_mailbox_and_resyncs() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    for i in 0..3 {
        let subject = format!("Công văn số {i}");
        let result = send(
            &server,
            server.ports.submission,
            "starttls",
            plain(&a, PASSWORD_A),
            &a,
            &[&b],
            &["--subject", &subject],
        );
        assert_eq!(result["ok"], true, "{result}");
    }
    let maildir = server.dir.join("maildir");
    std::fs::create_dir_all(&maildir).unwrap();
    let rc = server.dir.join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount congvu\nHost 127.0.0.1\nPort {port}\nUser {b}\nPass {PASSWORD_B}\nSSLType IMAPS\nCertificateFile {ca}\n\
             AuthMechs LOGIN\n\nIMAPStore remote\nAccount congvu\n\nMaildirStore local\nPath {dir}/\nInbox {dir}/INBOX\nSubFolders Verbatim\n\n\
             Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Near\nSyncState *\n",
            port = server.ports.imaps,
            ca = server.cafile(),
            dir = maildir.display(),
        ),
    )
    .unwrap();
    let sync = || {
        let output = run("mbsync", &["-c", &rc.display().to_string(), "-a"]);
        assert!(
            output.status.success(),
            "mbsync failed:\n{}\n{}\nserver log:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            server.log()
        );
    };
    let count = |folder: &str| {
        ["cur", "new"]
            .iter()
            .map(|d| {
                std::fs::read_dir(maildir.join(folder).join(d))
                    .map(|r| r.count())
                    .unwrap_or(0)
            })
            .sum::<usize>()
    };
    sync();
    assert_eq!(count("INBOX"), 3);
    for folder in ["Sent", "Drafts", "Trash", "Junk", "Archive"] {
        assert!(maildir.join(folder).is_dir(), "{folder} was not synced");
    }
    // New mail arrives; the second run fetches only it.
    let result = send(
        &server,
        server.ports.submission,
        "starttls",
        plain(&a, PASSWORD_A),
        &a,
        &[&b],
        &["--subject", "Công văn số 3"],
    );
    assert_eq!(result["ok"], true);
    sync();
    assert_eq!(count("INBOX"), 4);
}

#[test]
fn cli_provisions_with_collisions_and_quotas() {
    let server = Server::start();
    let agency = server.cli_ok(
        &["agency", "add", "yendinh", "--name", "UBND huyện Yên Định"],
        None,
    );
    assert_eq!(agency, "yendinh@thanhhoa.gov.vn");
    let sub = server.cli_ok(
        &[
            "agency",
            "add",
            "pvhtt",
            "--name",
            "Phòng Văn hóa và Thông tin",
            "--parent",
            "yendinh",
        ],
        None,
    );
    assert_eq!(sub, "pvhtt.yendinh@thanhhoa.gov.vn");
    let first = server.cli_ok(
        &[
            "account",
            "add",
            "--agency",
            "pvhtt.yendinh",
            "--name",
            "Nguyễn Thị Minh Khai",
        ],
        None,
    );
    assert_eq!(first, "khaintm.pvhtt.yendinh@thanhhoa.gov.vn");
    // Same name (NFD-encoded this time): a different, explained address.
    let nfd = "Nguye\u{302}\u{303}n Thi\u{323} Minh Khai";
    let output = server.cli(
        &["account", "add", "--agency", "pvhtt.yendinh", "--name", nfd],
        None,
    );
    assert!(output.status.success(), "{output:?}");
    let second = String::from_utf8(output.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    assert_ne!(second, first);
    assert!(second.ends_with(".pvhtt.yendinh@thanhhoa.gov.vn"), "{second}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("already taken"),
        "{output:?}"
    );

    server.cli_ok(&["account", "quota", &first, "250MB"], None);
    let listing = server.cli_ok(&["account", "list", "--agency", "pvhtt.yendinh"], None);
    let line = |address: &str| {
        listing
            .lines()
            .find(|l| l.starts_with(address))
            .unwrap_or_else(|| panic!("{listing}"))
            .to_owned()
    };
    assert!(line(&first).contains("250MB"), "{listing}");
    assert!(line(&second).contains("100MB"), "{listing}");
    assert!(line(&sub).contains("500MB"), "{listing}");
    // Unknown agency, bad size, password on the command line: clear errors.
    let output = server.cli(
        &["account", "add", "--agency", "khongco", "--name", "Trần Văn A"],
        None,
    );
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("khongco"),
        "{output:?}"
    );
    let output = server.cli(&["account", "quota", &first, "lots"], None);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("invalid size"),
        "{output:?}"
    );
    let output = server.cli(&["account", "passwd", &first], None);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--password-stdin"),
        "{output:?}"
    );
}

/// DSN (RFC 3461) from a real client: smtplib asks NOTIFY=SUCCESS with an ENVID
/// and an ORCPT for a local recipient, and the sender finds the "delivered" report
/// in their INBOX; a malformed NOTIFY is refused with 501.
#[test]
fn smtplib_asks_a_success_report_and_gets_it() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    let sent = submit(
        &server,
        &a,
        PASSWORD_A,
        &a,
        &b,
        &[
            "--mail-option",
            "ENVID=bao-cao+2B12",
            "--rcpt-option",
            "NOTIFY=SUCCESS",
            "--rcpt-option",
            &format!("ORCPT=rfc822;{b}"),
        ],
    );
    assert_eq!(sent["ok"], true, "{sent}");
    let reports = fetch_inbox(&server, &a, PASSWORD_A, &server.dir.join("inbox-a"));
    assert_eq!(reports.len(), 1, "one report to the sender");
    let report = String::from_utf8_lossy(&reports[0]);
    for expected in [
        "report-type=delivery-status",
        "Original-Envelope-Id: bao-cao+12",
        &format!("Original-Recipient: rfc822;{b}"),
        "Action: delivered",
    ] {
        assert!(report.contains(expected), "missing {expected:?} in:\n{report}");
    }
    let bad = submit(
        &server,
        &a,
        PASSWORD_A,
        &a,
        &b,
        &["--rcpt-option", "NOTIFY=NEVER,SUCCESS"],
    );
    assert_eq!(bad["code"], 501, "{bad}");
}
