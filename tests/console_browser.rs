//! End-to-end in a real browser: headless Chromium driven through WebDriver (Debian
//! `chromium`, `chromium-driver` and `python3-selenium`, which `.ci/run` installs) by
//! `tests/py/console_browser.py`, against a real server.
//!
//! - An official signs in, changes the password and finds a colleague by typing
//!   "tuan" for Tuấn.
//! - A form whose CSRF token was tampered with is refused.
//! - A clerk files Mẫu 01 for two officials, one a namesake of a colleague, and sees
//!   the collision in the page's live preview (our script, running under the CSP).
//! - The Provincial Office approves; both new officials then log in over IMAP
//!   (imaplib) once given passwords.
//! - No page loads or links anything from another origin.
//!
//! Screenshots of each step land in the test's output directory; with
//! `CONGVU_SCREENSHOTS=DIR` they are kept there (docs/console/ holds the set
//! docs/console.md shows). Without the browser the test says so and stops, unless `CI`
//! is set: there it must run.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

/// Debian's interpreter: `python3-selenium` is installed for it, whatever `python3`
/// comes first on the PATH.
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

fn browser_installed() -> bool {
    std::path::Path::new("/usr/bin/chromedriver").exists()
        && Command::new(DEBIAN_PYTHON)
            .args(["-c", "import selenium"])
            .status()
            .is_ok_and(|status| status.success())
}

#[test]
fn officials_clerks_and_the_office_use_the_console_in_chromium() {
    if !browser_installed() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium-driver and python3-selenium are not installed: .ci/run installs them"
        );
        eprintln!("SKIPPED: chromium-driver / python3-selenium not installed");
        return;
    }
    let (server, https) = start_with_https();
    let (_agency, tuan, hoa) = server.provision();
    server.cli_ok(&["directory", "role", &tuan, "operator"], None);
    let office = server.cli_ok(
        &["account", "add", "--agency", "sttt", "--name", "Trần Quản Trị"],
        None,
    );
    server.cli_ok(&["directory", "role", &office, "administrator"], None);
    let office_password = "mat-khau-Quan-Tri-2026";
    server.cli_ok(
        &["account", "passwd", &office, "--password-stdin"],
        Some(&format!("{office_password}\n")),
    );

    let kept = std::env::var_os("CONGVU_SCREENSHOTS").map(PathBuf::from);
    let scratch = tempfile::tempdir().unwrap();
    let out = kept.clone().unwrap_or_else(|| scratch.path().to_owned());
    std::fs::create_dir_all(&out).unwrap();
    let new_password = "Mat-khau-moi-cua-Hoa-2026";
    let output = Command::new(DEBIAN_PYTHON)
        .arg(repo_root().join("tests/py/console_browser.py"))
        .args(["--base", &format!("https://localhost:{https}")])
        .args(["--out", out.to_str().unwrap()])
        .args(["--official", &hoa, "--official-password", PASSWORD_B])
        .args(["--new-password", new_password, "--colleague", &tuan])
        .args(["--clerk", &tuan, "--clerk-password", PASSWORD_A])
        .args(["--office", &office, "--office-password", office_password])
        .args(["--first", "Vũ Đức Đam", "--namesake", "Lê Thị Hoa"])
        .args(["--person-id", "038090001234"])
        .output()
        .expect("run the browser script");
    assert!(
        output.status.success(),
        "browser script failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    let seen: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("JSON from the browser script");

    assert_eq!(seen["foreign"], serde_json::json!([]), "another origin: {seen}");
    assert!(
        seen["password_notice"]
            .as_str()
            .unwrap()
            .contains("Đã đổi mật khẩu"),
        "{seen}"
    );
    assert_eq!(seen["found_colleague"], true, "{seen}");
    assert_eq!(seen["csrf_refused"], true, "{seen}");
    assert!(
        seen["first_preview"].as_str().unwrap().contains("damvd.sttt@"),
        "{seen}"
    );
    let collision = seen["collision_preview"].as_str().unwrap();
    assert!(
        collision.contains("trùng") && collision.contains(&hoa),
        "{collision}"
    );
    assert_eq!(seen["office_sees_collision"], true, "{seen}");
    assert!(
        seen["dashboard_svg"].as_u64().unwrap() > 0,
        "the dashboard draws its bars: {seen}"
    );
    for step in [
        "01-sign-in",
        "06-directory-search",
        "07-csrf-refused",
        "09-form-01-collision",
        "13-office-request",
        "14-approved",
        "15-phone",
        "16-dashboard",
        "17-accounts",
    ] {
        let png = std::fs::read(out.join(format!("{step}.png"))).expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "{step} is a PNG");
    }

    // The new officials exist and, given passwords, log in over IMAP.
    let results: Vec<String> = seen["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(results.len(), 2, "{seen}");
    let issued: Vec<String> = results
        .iter()
        .map(|result| {
            result
                .split_whitespace()
                .find(|word| word.contains("@thanhhoa.gov.vn"))
                .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '.'))
                .unwrap_or_else(|| panic!("an address in {result:?}"))
                .to_owned()
        })
        .collect();
    assert!(issued[0].starts_with("damvd.sttt@"), "{issued:?}");
    assert_ne!(issued[1], hoa, "the namesake gets another address: {issued:?}");
    for address in &issued {
        server.cli_ok(
            &["account", "passwd", address, "--password-stdin"],
            Some("Mat-khau-Can-Bo-Moi-2026\n"),
        );
        imap_client(
            &server,
            "ids",
            address,
            "Mat-khau-Can-Bo-Moi-2026",
            &["--mailbox", "INBOX"],
        );
    }
    // The official's new password is the one that works now.
    imap_client(&server, "ids", &hoa, new_password, &["--mailbox", "INBOX"]);
}
