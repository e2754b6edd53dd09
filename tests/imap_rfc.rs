//! IMAP conformance against the real binary: C:/S: transcripts adapted from the
//! examples of RFC 3501/9051 and RFC 7162, imaplib checks for every advertised
//! capability (`tests/py/imap_rfc.py` fails on an advertised capability it has no
//! check for), real clients (mbsync, curl), and client autoconfiguration over HTTPS
//! (Thunderbird's config-v1.1.xml validated against its format, Outlook
//! autodiscover POX and v2).

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Replays a transcript. `C:` lines are sent (the tag is the first word); `S:`
/// lines are expected in order among the responses up to the tagged one, where
/// `…` in an expected line matches any text. Untagged lines not listed are allowed
/// (servers may send more), tagged ones must match.
fn replay(raw: &mut Raw, transcript: &str) {
    let mut expected: Vec<&str> = Vec::new();
    let mut pending: Option<(String, String)> = None;
    let flush = |raw: &mut Raw, pending: &mut Option<(String, String)>, expected: &mut Vec<&str>| {
        let Some((tag, command)) = pending.take() else {
            return;
        };
        raw.send(format!("{command}\r\n").as_bytes());
        let lines = raw.until(&format!("{tag} "));
        let mut at = 0;
        for want in expected.drain(..) {
            let found = lines[at..].iter().position(|line| matches(line, want));
            match found {
                Some(i) => at += i + 1,
                None => panic!("C: {command}\nexpected S: {want}\nafter line {at} of {lines:#?}"),
            }
        }
    };
    for line in transcript.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(command) = line.strip_prefix("C: ") {
            flush(raw, &mut pending, &mut expected);
            let tag = command.split(' ').next().unwrap().to_owned();
            pending = Some((tag, command.to_owned()));
        } else if let Some(response) = line.strip_prefix("S: ") {
            expected.push(response);
        } else {
            panic!("transcript line without C:/S: {line}");
        }
    }
    flush(raw, &mut pending, &mut expected);
}

/// `want` with `…` as a wildcard.
fn matches(line: &str, want: &str) -> bool {
    let mut parts = want.split('…');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

fn login(server: &Server, user: &str, password: &str) -> Raw {
    let mut raw = Raw::connect_tls(server, server.ports.imaps);
    raw.until("* OK");
    raw.send(format!("a0 LOGIN {user} \"{password}\"\r\n").as_bytes());
    let lines = raw.until("a0 ");
    assert!(lines.last().unwrap().starts_with("a0 OK"), "{lines:?}");
    raw
}

fn append(raw: &mut Raw, tag: &str, mailbox: &str, subject: &str) {
    let body = format!("From: a@thanhhoa.gov.vn\r\nSubject: {subject}\r\n\r\nNội dung.\r\n");
    raw.send(format!("{tag} APPEND {mailbox} {{{}+}}\r\n{body}\r\n", body.len()).as_bytes());
    let lines = raw.until(&format!("{tag} "));
    assert!(
        lines.last().unwrap().starts_with(&format!("{tag} OK [APPENDUID")),
        "{lines:?}"
    );
}

#[test]
fn rfc3501_and_rfc9051_transcripts() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    for subject in ["IMAP4rev1 WG mtg summary and minutes", "Công văn 1", "Công văn 2"] {
        append(&mut raw, "ap", "INBOX", subject);
    }
    // RFC 3501 §6.3.1 / §8, with this mailbox's numbers.
    replay(
        &mut raw,
        r#"
        C: A142 SELECT INBOX
        S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft…)
        S: * OK [PERMANENTFLAGS (\Seen \Answered \Flagged \Deleted \Draft \*)]…
        S: * 3 EXISTS
        S: * 0 RECENT
        S: * OK [UNSEEN 1]…
        S: * OK [UIDVALIDITY …]…
        S: * OK [UIDNEXT 4]…
        S: A142 OK [READ-WRITE] SELECT completed
        C: a003 fetch 1 (flags internaldate rfc822.size envelope)
        S: * 1 FETCH (FLAGS () INTERNALDATE "…" RFC822.SIZE … ENVELOPE (NIL "IMAP4rev1 WG mtg summary and minutes" …))
        S: a003 OK FETCH completed
        C: A003 STORE 2:3 +FLAGS (\Deleted)
        S: * 2 FETCH (FLAGS (\Deleted) UID 2)
        S: * 3 FETCH (FLAGS (\Deleted) UID 3)
        S: A003 OK STORE completed
        C: A202 EXPUNGE
        S: * 3 EXPUNGE
        S: * 2 EXPUNGE
        S: A202 OK EXPUNGE completed
        C: A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
        S: * SEARCH
        S: A282 OK SEARCH completed
        C: A283 SEARCH RETURN (MIN COUNT) UNSEEN
        S: * ESEARCH (TAG "A283") MIN 1 COUNT 1
        S: A283 OK SEARCH completed
        C: A004 CREATE owatagusiam/
        S: A004 OK…
        C: A683 RENAME owatagusiam blurdybloop
        S: A683 OK…
        C: A685 LIST "" *
        S: * LIST (\HasNoChildren) "/" "INBOX"
        S: * LIST (\HasNoChildren) "/" "blurdybloop"
        S: A685 OK…
        C: A042 STATUS blurdybloop (UIDNEXT MESSAGES)
        S: * STATUS "blurdybloop" (UIDNEXT 1 MESSAGES 0)
        S: A042 OK STATUS completed
        C: A341 CLOSE
        S: A341 OK CLOSE completed
        C: a047 NAMESPACE
        S: * NAMESPACE (("" "/")) NIL NIL
        S: a047 OK…
        "#,
    );
    // RFC 7162 §3.1 and §3.2 flows, adapted.
    replay(
        &mut raw,
        r#"
        C: a1 ENABLE QRESYNC
        S: * ENABLED QRESYNC
        S: a1 OK ENABLE completed
        C: a2 SELECT INBOX
        S: * 1 EXISTS
        S: * OK [HIGHESTMODSEQ …]…
        S: a2 OK [READ-WRITE] SELECT completed
        C: a3 UID STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\Flagged)
        S: a3 OK [MODIFIED 1] Conditional STORE failed
        C: a4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
        S: * VANISHED (EARLIER) 2:3
        S: * 1 FETCH (UID 1 FLAGS () MODSEQ (…))
        S: a4 OK FETCH completed
        C: a5 UID SEARCH MODSEQ 1
        S: * SEARCH 1 (MODSEQ …)
        S: a5 OK SEARCH completed
        C: a6 LOGOUT
        S: * BYE…
        S: a6 OK…
        "#,
    );
}

#[test]
fn imaplib_checks_every_advertised_capability() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let out = python_ok(
        &server,
        "imap_rfc.py",
        &[
            "127.0.0.1".into(),
            server.ports.imaps.to_string(),
            server.cafile(),
            a,
            PASSWORD_A.into(),
        ],
    );
    for capability in ["CONDSTORE", "QRESYNC", "ESEARCH", "IDLE", "MOVE"] {
        assert!(out.contains(&format!("ok   {capability}\n")), "{out}");
    }
}

/// mbsync (isync 1.4, which does not use CONDSTORE itself but must not be upset by
/// it being advertised): a full sync, then a resync after another client flagged,
/// expunged and added messages.
#[test]
fn mbsync_full_sync_and_resync_against_changes() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    for i in 0..4 {
        append(&mut raw, "ap", "INBOX", &format!("Báo cáo {i}"));
    }
    let maildir = server.dir.join("maildir");
    std::fs::create_dir_all(&maildir).unwrap();
    let rc = server.dir.join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount congvu\nHost 127.0.0.1\nPort {port}\nUser {a}\nPass {PASSWORD_A}\nSSLType IMAPS\n\
             CertificateFile {ca}\nAuthMechs LOGIN\n\nIMAPStore remote\nAccount congvu\n\nMaildirStore local\n\
             Path {dir}/\nInbox {dir}/INBOX\nSubFolders Verbatim\n\nChannel sync\nFar :remote:\nNear :local:\n\
             Patterns INBOX\nCreate Near\nExpunge Both\nSyncState *\n",
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
    let files = || -> Vec<String> {
        let mut names: Vec<String> = ["cur", "new"]
            .iter()
            .flat_map(|d| {
                std::fs::read_dir(maildir.join("INBOX").join(d))
                    .into_iter()
                    .flatten()
            })
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    sync();
    assert_eq!(files().len(), 4, "{:?}", files());
    replay(
        &mut raw,
        r#"
        C: s1 SELECT INBOX
        S: s1 OK…
        C: s2 STORE 1 +FLAGS.SILENT (\Flagged \Seen)
        S: s2 OK…
        C: s3 STORE 2 +FLAGS.SILENT (\Deleted)
        S: s3 OK…
        C: s4 EXPUNGE
        S: * 2 EXPUNGE
        S: s4 OK…
        "#,
    );
    append(&mut raw, "ap2", "INBOX", "Báo cáo mới");
    sync();
    let now = files();
    assert_eq!(now.len(), 4, "one expunged, one added: {now:?}");
    // Maildir flags: F(lagged) and S(een) for the first message.
    assert_eq!(now.iter().filter(|n| n.ends_with(":2,FS")).count(), 1, "{now:?}");
    // A resync with nothing changed changes nothing.
    sync();
    assert_eq!(files(), now);
}

#[test]
fn curl_reads_over_imaps() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    append(&mut raw, "ap", "INBOX", "Gửi qua curl");
    let url = format!("imaps://localhost:{}/INBOX;UID=1", server.ports.imaps);
    let output = run(
        "curl",
        &[
            "-sS",
            "--cacert",
            &server.cafile(),
            "-u",
            &format!("{a}:{PASSWORD_A}"),
            &url,
        ],
    );
    let body = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && body.contains("Nội dung."),
        "{body}\n{}",
        server.log()
    );
    // A command of curl's choosing: the ESEARCH form.
    let url = format!("imaps://localhost:{}/INBOX", server.ports.imaps);
    let output = run(
        "curl",
        &[
            "-sS",
            "--cacert",
            &server.cafile(),
            "-u",
            &format!("{a}:{PASSWORD_A}"),
            &url,
            "-X",
            "UID SEARCH RETURN (COUNT) ALL",
        ],
    );
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("ESEARCH (TAG \"") && out.contains("COUNT 1"),
        "{out}"
    );
}

/// Starts a server with the HTTPS autoconfig listener on a free port.
fn start_with_https() -> (Server, u16, tempfile::TempDir) {
    let tempdir = tempfile::tempdir().unwrap();
    let https = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Server::configure(tempdir.path().to_owned(), Ports::free());
    let config = std::fs::read_to_string(&server.config_path).unwrap();
    let config = config.replacen(
        "[listeners]\n",
        &format!("[listeners]\nhttps = \"127.0.0.1:{https}\"\n"),
        1,
    );
    std::fs::write(&server.config_path, config).unwrap();
    server.spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", https)).is_err() {
        assert!(
            Instant::now() < deadline,
            "https port not open:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, https, tempdir)
}

fn curl(server: &Server, args: &[&str]) -> (u16, String) {
    let cafile = server.cafile();
    let mut all = vec!["-sS", "--cacert", cafile.as_str(), "-w", "\n%{http_code}"];
    all.extend_from_slice(args);
    let output = run("curl", &all);
    assert!(
        output.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

fn validate_thunderbird(server: &Server, xml: &str, username: &str) -> String {
    let mut child = Command::new("python3")
        .arg(repo_root().join("tests/py/autoconfig_check.py"))
        .args([DOMAIN, username])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "invalid autoconfig: {}\n{xml}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn autoconfig_and_autodiscover_over_https() {
    let (server, https, _dir) = start_with_https();
    let base = format!("https://localhost:{https}");
    let address = format!("tuanna.sttt@{DOMAIN}");
    for path in [
        "/mail/config-v1.1.xml",
        "/.well-known/autoconfig/mail/config-v1.1.xml",
    ] {
        let (code, xml) = curl(&server, &[&format!("{base}{path}")]);
        assert_eq!(code, 200, "{path}: {xml}");
        let servers = validate_thunderbird(&server, &xml, "%EMAILADDRESS%");
        assert!(
            servers.contains(&format!(
                "incoming imap mail.thanhhoa.gov.vn:{} SSL",
                server.ports.imaps
            )),
            "{servers}"
        );
        assert!(
            servers.contains(&format!(
                "outgoing smtp mail.thanhhoa.gov.vn:{} SSL",
                server.ports.submissions
            )),
            "{servers}"
        );
        let (code, xml) = curl(&server, &[&format!("{base}{path}?emailaddress={address}")]);
        assert_eq!(code, 200);
        validate_thunderbird(&server, &xml, &address);
    }
    let (code, _) = curl(
        &server,
        &[&format!("{base}/mail/config-v1.1.xml?emailaddress=a@example.com")],
    );
    assert_eq!(code, 404);

    // Outlook POX.
    let request = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
         <Request><EMailAddress>{address}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
    );
    for path in ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"] {
        let (code, xml) = curl(
            &server,
            &[
                "-X",
                "POST",
                "-H",
                "Content-Type: text/xml",
                "--data-binary",
                &request,
                &format!("{base}{path}"),
            ],
        );
        assert_eq!(code, 200, "{xml}");
        assert!(xml.contains("<Type>IMAP</Type>"), "{xml}");
        assert!(
            xml.contains(&format!("<Port>{}</Port>", server.ports.imaps)),
            "{xml}"
        );
        assert!(
            xml.contains(&format!("<LoginName>{address}</LoginName>")),
            "{xml}"
        );
        assert!(xml.contains("<Type>SMTP</Type>"), "{xml}");
    }
    // Autodiscover v2: the protocol name in any case.
    for protocol in ["AutodiscoverV1", "autodiscoverv1", "AUTODISCOVERV1"] {
        let (code, json) = curl(
            &server,
            &[&format!(
                "{base}/autodiscover/autodiscover.json?Email={address}&Protocol={protocol}"
            )],
        );
        assert_eq!(code, 200, "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["Protocol"], "AutodiscoverV1");
        assert_eq!(
            value["Url"],
            format!("https://localhost:{https}/autodiscover/autodiscover.xml")
        );
    }
    let (code, json) = curl(
        &server,
        &[&format!(
            "{base}/autodiscover/autodiscover.json/v1.0/{address}?Protocol=autodiscoverV1"
        )],
    );
    assert_eq!(code, 200, "{json}");
    let (code, json) = curl(
        &server,
        &[&format!(
            "{base}/autodiscover/autodiscover.json?Email={address}&Protocol=ActiveSync"
        )],
    );
    assert_eq!(code, 400);
    assert!(json.contains("InvalidProtocol"), "{json}");
}
