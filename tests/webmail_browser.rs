//! The webmail in a real browser: headless Chromium driven through WebDriver (Debian
//! `chromium`, `chromium-driver` and `python3-selenium`, which `.ci/run` installs) by
//! `tests/py/webmail_browser.py`, against a real server and real IMAP and SMTP
//! clients.
//!
//! - An official signs in, reads a message with a Vietnamese subject and attachment,
//!   replies with an English subject and gets the policy's warning before anything is
//!   sent, fixes it, attaches a file and sends: the recipient gets it over IMAP, the
//!   file byte for byte. With the INBOX open, a message delivered over SMTP appears
//!   without a reload; a flag set on the page reaches an imaplib session in IDLE.
//! - The hostile-HTML corpus (`tests/py/hostile_html.py`, 36 messages) opened one by
//!   one runs nothing and loads nothing remote: the trap server behind every remote URL
//!   sees no request, the browser's network log names no other origin, no dialog
//!   opens, the console shows no payload.
//!
//! Screenshots land in the test's output directory; with `CONGVU_SCREENSHOTS=DIR`
//! they are kept there (docs/webmail/ holds the set docs/webmail.md shows). Without
//! the browser the tests say so and stop, unless `CI` is set: there they must run.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::Value;

const DEBIAN_PYTHON: &str = "/usr/bin/python3";

fn browser_installed() -> bool {
    let installed = std::path::Path::new("/usr/bin/chromedriver").exists()
        && Command::new(DEBIAN_PYTHON)
            .args(["-c", "import selenium"])
            .status()
            .is_ok_and(|status| status.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium-driver and python3-selenium are not installed: .ci/run installs them"
        );
        eprintln!("SKIPPED: chromium-driver / python3-selenium not installed");
    }
    installed
}

/// Where screenshots go: `CONGVU_SCREENSHOTS` when set, else a scratch directory.
fn output_dir(scratch: &tempfile::TempDir) -> PathBuf {
    let out = std::env::var_os("CONGVU_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| scratch.path().to_owned());
    std::fs::create_dir_all(&out).unwrap();
    out
}

fn run_browser(args: &[String]) -> Value {
    let output = Command::new(DEBIAN_PYTHON)
        .arg(repo_root().join("tests/py/webmail_browser.py"))
        .args(args)
        .output()
        .expect("run the browser script");
    assert!(
        output.status.success(),
        "browser script failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("JSON from the browser script");
    assert!(seen.get("error").is_none(), "the browser stopped: {seen:#}");
    seen
}

#[test]
fn an_official_reads_replies_and_flags_in_chromium() {
    if !browser_installed() {
        return;
    }
    let (server, https) = start_with_https();
    let (_agency, tuan, hoa) = server.provision();
    let scratch = tempfile::tempdir().unwrap();
    let out = output_dir(&scratch);
    let original = scratch.path().join("Kế hoạch năm 2027.pdf");
    std::fs::write(&original, small_pdf(5000)).unwrap();
    let subject = "Công văn số 45 về kế hoạch chuyển đổi số";
    let sent = submit(
        &server,
        &tuan,
        PASSWORD_A,
        &tuan,
        &hoa,
        &["--subject", subject, "--attach", original.to_str().unwrap()],
    );
    assert_eq!(sent["ok"], true, "{sent}");
    let reply_file = scratch.path().join("Báo cáo tiến độ.pdf");
    let reply_bytes: Vec<u8> = [small_pdf(5000), b"% reply\n".to_vec()].concat();
    std::fs::write(&reply_file, &reply_bytes).unwrap();

    let seen = run_browser(&strings(&[
        "--mode",
        "flows",
        "--base",
        &format!("https://localhost:{https}"),
        "--out",
        out.to_str().unwrap(),
        "--user",
        &hoa,
        "--password",
        PASSWORD_B,
        "--colleague",
        &tuan,
        "--smtp-port",
        &server.ports.smtp.to_string(),
        "--imaps-port",
        &server.ports.imaps.to_string(),
        "--cafile",
        &server.cafile(),
        "--subject",
        subject,
        "--live-subject",
        "Giấy mời họp trực tuyến chiều nay",
        "--attach",
        reply_file.to_str().unwrap(),
    ]));
    assert_eq!(seen["landed"], format!("https://localhost:{https}/"), "{seen:#}");
    assert_eq!(seen["read_subject"], subject);
    assert_eq!(seen["attachments"][0], "Kế hoạch năm 2027.pdf", "{seen:#}");
    assert_eq!(seen["reply_subject"], format!("Re: {subject}"));
    // The policy's own words, before sending: the page did not move on.
    let warning = seen["policy_warning"].as_str().unwrap();
    assert!(warning.contains("tiếng Việt"), "{warning}");
    assert!(
        seen["url_after_warning"]
            .as_str()
            .unwrap()
            .ends_with("/mail/compose?mode=reply&f=INBOX&uid=1")
    );
    assert_eq!(seen["sent_notice"], "Đã gửi thư.");
    assert_eq!(seen["live_same_page"], true, "{seen:#}");
    let idle = seen["idle_lines"].as_array().unwrap();
    assert!(
        idle.iter()
            .any(|l| l.as_str().unwrap().contains("FETCH") && l.as_str().unwrap().contains("\\Flagged")),
        "{seen:#}"
    );
    assert_eq!(seen["search_found"], true);
    assert_eq!(seen["foreign"], Value::Array(Vec::new()), "{seen:#}");
    assert_eq!(seen["steps"].as_array().unwrap().len(), 10);

    // The reply reached Tuấn over IMAP with the file byte for byte; the English
    // attempt reached nobody.
    let received = fetch_inbox(&server, &tuan, PASSWORD_A, &scratch.path().join("tuan"));
    assert_eq!(received.len(), 1, "only the fixed reply was sent");
    let reading = congvu_webmail::read(&received[0], false, &|_| String::new());
    assert_eq!(reading.subject, format!("Re: {subject}"));
    assert_eq!(reading.attachments.len(), 1);
    assert_eq!(reading.attachments[0].name, "Báo cáo tiến độ.pdf");
    let file = congvu_webmail::attachment(&received[0], &reading.attachments[0].path).unwrap();
    assert_eq!(file.bytes, reply_bytes);
}

#[test]
fn hostile_html_runs_nothing_and_loads_nothing_in_chromium() {
    if !browser_installed() {
        return;
    }
    let (server, https) = start_with_https();
    let (_agency, tuan, hoa) = server.provision();
    let scratch = tempfile::tempdir().unwrap();
    let out = output_dir(&scratch);
    let seen = run_browser(&strings(&[
        "--mode",
        "corpus",
        "--base",
        &format!("https://localhost:{https}"),
        "--out",
        out.to_str().unwrap(),
        "--user",
        &hoa,
        "--password",
        PASSWORD_B,
        "--colleague",
        &tuan,
        "--smtp-port",
        &server.ports.smtp.to_string(),
    ]));
    let corpus = seen["corpus"].as_u64().unwrap();
    assert!(corpus >= 25, "{seen:#}");
    assert_eq!(
        seen["refused"],
        serde_json::json!({}),
        "every message is delivered: {seen:#}"
    );
    assert_eq!(seen["opened"].as_u64().unwrap(), corpus, "{seen:#}");
    // The first wall: inside every frame, nothing that runs, loads or submits.
    assert!(seen["frames"].as_u64().unwrap() >= 30, "{seen:#}");
    assert_eq!(seen["dangerous"], serde_json::json!({}), "{seen:#}");
    // And what the browser did: nothing reached the trap, nothing else was asked for.
    assert_eq!(seen["trap_hits"], Value::Array(Vec::new()), "{seen:#}");
    assert_eq!(seen["foreign"], Value::Array(Vec::new()), "{seen:#}");
    assert_eq!(seen["alerts"], Value::Array(Vec::new()), "{seen:#}");
    let console = seen["console"].as_array().unwrap();
    assert!(
        !console.iter().any(|m| m.as_str().unwrap().contains("EXECUTED")),
        "{seen:#}"
    );
    assert_ne!(seen["title"], "PWNED");
}
