//! Running it: the README's serve command on the embedded default, SIGTERM, the data
//! directory lock, configuration errors, and the CLI with the server stopped.

mod common;

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn sigterm_with_open_sessions_exits_zero_within_10_seconds() {
    let mut server = Server::start();
    let (_agency, _a, b) = server.provision();
    // An SMTP client mid-transaction and an IMAP client idling.
    let mut smtp = Raw::connect(server.ports.smtp);
    assert!(smtp.smtp_reply().starts_with("220"));
    smtp.send(b"EHLO client.test\r\n");
    smtp.smtp_reply();
    smtp.send(format!("MAIL FROM:<x@example.net>\r\nRCPT TO:<{b}>\r\n").as_bytes());
    assert!(smtp.smtp_reply().starts_with("250"));
    assert!(smtp.smtp_reply().starts_with("250"));
    let mut imap = Raw::connect_tls(&server, server.ports.imaps);
    imap.line();
    imap.send(format!("a1 LOGIN {b} \"{PASSWORD_B}\"\r\na2 SELECT INBOX\r\na3 IDLE\r\n").as_bytes());
    imap.until("+ ");

    let (status, elapsed) = server.terminate();
    assert!(status.success(), "exit status {status}\n{}", server.log());
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    let goodbye = smtp.line().unwrap_or_default();
    assert!(goodbye.starts_with("421"), "SMTP client told why: {goodbye:?}");
    let bye = imap.until("* BYE");
    assert!(bye.last().unwrap().starts_with("* BYE"));
    assert!(server.log().contains("stopped"), "{}", server.log());
}

#[test]
fn second_server_on_the_same_data_dir_fails_clearly() {
    let server = Server::start();
    let other = Server::configure(server.dir.join("second"), Ports::free());
    // Point the second configuration at the first one's data directory.
    let text = std::fs::read_to_string(&other.config_path).unwrap().replace(
        &server.dir.join("second/data").display().to_string(),
        &server.dir.join("data").display().to_string(),
    );
    std::fs::create_dir_all(server.dir.join("second")).unwrap();
    std::fs::write(&other.config_path, text).unwrap();
    let output = Command::new(binary())
        .arg("--config")
        .arg(&other.config_path)
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("another congvu process is using"), "{stderr}");
}

#[test]
fn configuration_errors_are_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[server]\nhostname = \"mail.example\"\ndata_dir = \"/tmp/x\"\ncolor = 1\n[domain]\nprimary = \"bad domain\"\n[listeners]\nsmtp = \"not-an-address\"\n[nonsense]\n",
    )
    .unwrap();
    let output = Command::new(binary())
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needle in ["color", "primary", "[listeners]", "nonsense"] {
        assert!(stderr.contains(needle), "missing {needle}: {stderr}");
    }
}

#[test]
fn cli_works_offline_while_the_server_is_stopped() {
    let mut server = Server::start();
    server.terminate();
    let agency = server.cli_ok(
        &["agency", "add", "sgd", "--name", "Sở Giáo dục và Đào tạo"],
        None,
    );
    assert_eq!(agency, "sgd@thanhhoa.gov.vn");
    let person = server.cli_ok(
        &["account", "add", "--agency", "sgd", "--name", "Phạm Văn Đồng"],
        None,
    );
    assert_eq!(person, "dongpv.sgd@thanhhoa.gov.vn");
    server.cli_ok(
        &["account", "passwd", &person, "--password-stdin"],
        Some("mot-mat-khau-dai\n"),
    );
    server.spawn();
    let listing = server.cli_ok(&["account", "list"], None);
    assert!(
        listing.contains(&person) && listing.contains(&agency),
        "{listing}"
    );
}

#[test]
fn readme_serve_command_starts_all_six_listeners_on_the_embedded_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(binary())
        .arg("serve")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    for port in [2525, 2587, 2465, 2143, 2993, 2080] {
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                let output = child.wait_with_output().unwrap();
                panic!(
                    "serve exited ({status}): {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            assert!(Instant::now() < deadline, "port {port} never opened");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert!(dir.path().join("data/admin.token").exists());
    assert!(dir.path().join("data/tls/self-signed-cert.pem").exists());
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
}

/// `congvu check` (issue 12): the store's consistency check through the running
/// server's admin API, and on the stopped server's data directory.
#[test]
fn congvu_check_reports_a_consistent_store_running_and_stopped() {
    let mut server = Server::start();
    let (_agency, a, b) = server.provision();
    let sent = submit(&server, &a, PASSWORD_A, &a, &b, &[]);
    assert_eq!(sent["ok"], true, "{sent}");
    let running = server.cli_ok(&["check"], None);
    assert!(running.contains("Nhất quán / consistent"), "{running}");
    assert!(running.contains(" 1 thư / messages"), "{running}");
    server.terminate();
    let stopped = server.cli_ok(&["check"], None);
    assert!(stopped.contains("Nhất quán / consistent"), "{stopped}");
}
