//! End-to-end: the supervision reports of issue 14 from a real server.
//!
//! - A real imaplib session logs in as the agency mailbox, selects its INBOX and logs
//!   out; `congvu report checks --from today --to today` shows today's window that
//!   holds that moment met, and no earlier window of today (the agency is new).
//! - `congvu report year <this year> --format html` is printed by headless Chromium
//!   (Debian `chromium`) to PDF and PNG; the PDF's text (`pdftotext`, Debian
//!   `poppler-utils`) shows the figures the JSON report gives. Without Chromium the
//!   test says so and stops, unless `CI` is set: there it must run (.ci/run installs it).
//! - Art. 15.3: a draft filed with a decision effective 8 days ago gets one reminder in
//!   the agency mailbox (read with imaplib) at the next housekeeping run, and no second
//!   one at the run after; a draft of 3 days gets none.

mod common;

use std::path::Path;
use std::process::Command;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde_json::Value;

use common::*;
use congvu_report::Percent;
use congvu_report::figures::{megabyte_tenths, vi_count, vi_tenths};

/// The agency mailbox's password.
const AGENCY_PASSWORD: &str = "mat-khau-Van-Thu-2024";

/// Deadlines spread over the whole day, so that "now" always falls in one of today's
/// windows (except in the last minute of the day, which the test waits out).
const WINDOWS: [&str; 4] = ["06:00", "12:00", "18:00", "23:59"];

/// Local time in Vietnam (UTC+07:00, the config's `Asia/Ho_Chi_Minh`).
fn vietnam_now() -> NaiveDateTime {
    (chrono::Utc::now() + chrono::Duration::hours(7)).naive_utc()
}

/// The index of the window of today that holds local time `at`: the first deadline at
/// or after it.
fn window_index(at: NaiveDateTime) -> Option<usize> {
    let seconds = i64::from(at.time().num_seconds_from_midnight());
    WINDOWS.iter().position(|deadline| {
        let (hour, minute) = deadline.split_once(':').unwrap();
        seconds <= hour.parse::<i64>().unwrap() * 3600 + minute.parse::<i64>().unwrap() * 60
    })
}

/// A server whose `[compliance]` has the test's windows and a holidays file (next to
/// the config, relative as in the shipped example) that makes `today` a working day
/// whatever weekday it is.
fn server_with_calendar(today: NaiveDate) -> Server {
    let mut server = Server::unstarted();
    std::fs::write(
        server.dir.join("holidays.toml"),
        format!("[[working_day]]\ndate = \"{today}\"\nname = \"Ngày kiểm thử / test day\"\n"),
    )
    .unwrap();
    let windows: Vec<String> = WINDOWS.iter().map(|w| format!("\"{w}\"")).collect();
    server.add_config(&format!(
        "[compliance]\nwindows = [{}]\nholidays_file = \"holidays.toml\"\n",
        windows.join(", ")
    ));
    server.spawn();
    server
}

/// The agency `sttt` with its two officials, the agency mailbox with a password, and
/// one message in its INBOX (so that imaplib's FETCH has something to read).
fn provision_with_agency_login(server: &Server) -> String {
    let (agency, a, _) = server.provision();
    server.cli_ok(
        &["account", "passwd", &agency, "--password-stdin"],
        Some(&format!("{AGENCY_PASSWORD}\n")),
    );
    let sent = submit(server, &a, PASSWORD_A, &a, &agency, &[]);
    assert_eq!(sent["ok"], true, "{sent}\n{}", server.log());
    agency
}

/// Waits out the day's last minute: a check then falls in tomorrow's first window.
fn away_from_midnight() {
    let now = vietnam_now();
    if now.time().num_seconds_from_midnight() >= 23 * 3600 + 58 * 60 {
        let left = 86_400 - i64::from(now.time().num_seconds_from_midnight()) + 5;
        std::thread::sleep(std::time::Duration::from_secs(left.unsigned_abs()));
    }
}

#[test]
fn an_imaplib_selection_meets_todays_window() {
    away_from_midnight();
    let today = vietnam_now().date();
    let server = server_with_calendar(today);
    let agency = provision_with_agency_login(&server);

    let before = vietnam_now();
    let listing = imap_client(&server, "ids", &agency, AGENCY_PASSWORD, &["--mailbox", "INBOX"]);
    let after = vietnam_now();
    assert_eq!(listing["messages"].as_array().map(Vec::len), Some(1), "{listing}");

    let json = server.cli_ok(
        &[
            "report", "checks", "--from", "today", "--to", "today", "--format", "json",
        ],
        None,
    );
    let report: Value = serde_json::from_str(&json).expect("JSON report");
    assert_eq!(report["windows"], serde_json::json!(WINDOWS), "{report}");
    let sttt = report["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|agency| agency["agency"] == "sttt")
        .unwrap_or_else(|| panic!("sttt in {report}"));
    let days = sttt["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{report}");
    assert_eq!(days[0]["date"], today.to_string());
    let met: Vec<bool> = days[0]["met"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_bool().unwrap())
        .collect();
    let (first, last) = (
        window_index(before).expect("a window of today"),
        window_index(after).expect("a window of today"),
    );
    // The selection happened between `before` and `after`: its window is met (either
    // one, should the session have crossed a deadline), no earlier window is.
    assert!(
        met[first] || met[last],
        "window {first}..={last} not met: {met:?}"
    );
    assert!(!met[..first].iter().any(|m| *m), "an earlier window met: {met:?}");
    let count = met.iter().filter(|m| **m).count();
    assert_eq!(sttt["met"], count, "{report}");
    assert_eq!(sttt["total"], WINDOWS.len(), "{report}");

    // Usage on request (Art. 15.4) as CSV for Excel: a BOM, sttt's row with its one
    // agency and two personal mailboxes, quota 700 MB.
    let csv = server.cli_ok(
        &[
            "report", "usage", "--from", "today", "--to", "today", "--agency", "sttt", "--format", "csv",
        ],
        None,
    );
    assert!(csv.starts_with('\u{feff}'), "{csv}");
    let row = csv
        .lines()
        .find(|line| line.starts_with("sttt,"))
        .expect("sttt's row");
    assert!(row.contains(",1,2,") && row.contains(",700.0,"), "{row}");
    // Nothing awaits an acknowledgement (a colleague's message asks for none); the
    // threshold is [compliance] ack_working_hours.
    let acks: Value =
        serde_json::from_str(&server.cli_ok(&["report", "acknowledgements", "--format", "json"], None))
            .unwrap();
    assert_eq!(acks["threshold_hours"], 8, "{acks}");
    assert_eq!(acks["agencies"], serde_json::json!([]), "{acks}");

    // The same report as a table and for one agency; an unknown agency is named.
    let table = server.cli_ok(
        &[
            "report", "checks", "--from", "today", "--to", "today", "--agency", "sttt",
        ],
        None,
    );
    assert!(table.contains("sttt"), "{table}");
    let unknown = server.cli(
        &[
            "report", "checks", "--from", "today", "--to", "today", "--agency", "khong-co",
        ],
        None,
    );
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("khong-co"),
        "{unknown:?}"
    );
}

/// The HTTP status of `GET path` with `token`.
fn status_of(server: &Server, path: &str, token: &str) -> u16 {
    admin_call(server, path, token).0
}

/// A session token of `login` (`POST /api/v1/login`, which needs no token).
fn session(server: &Server, login: &str, password: &str) -> String {
    let answer = admin_post(
        server,
        "/api/v1/login",
        &serde_json::json!({"login": login, "password": password}),
    );
    answer["token"].as_str().expect("a token").to_owned()
}

#[test]
fn who_reads_which_report() {
    let today = vietnam_now().date();
    let server = server_with_calendar(today);
    let (_, a, _) = server.provision();
    server.cli_ok(
        &["agency", "add", "yendinh", "--name", "UBND huyện Yên Định"],
        None,
    );
    let checks = format!("/api/v1/reports/checks?from={today}&to={today}");
    let official = session(&server, &a, PASSWORD_A);
    assert_eq!(status_of(&server, &checks, &official), 403);
    server.cli_ok(&["directory", "role", &a, "head"], None);
    let head = session(&server, &a, PASSWORD_A);
    // The head of sttt reads sttt's checks (also when naming no agency), not yendinh's,
    // nor the province's yearly report.
    let own = admin_get_as(&server, &checks, &head);
    let agencies: Vec<&str> = own["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|agency| agency["agency"].as_str().unwrap())
        .collect();
    assert_eq!(agencies, ["sttt"]);
    assert_eq!(
        status_of(&server, &format!("{checks}&agency=yendinh"), &head),
        403
    );
    let year = today.format("%Y").to_string();
    assert_eq!(
        status_of(&server, &format!("/api/v1/reports/year/{year}"), &head),
        403
    );
    // Bad input is a 400 naming what is wrong, never a report: a date that does not
    // exist, a reversed period, an unknown format.
    let admin = server.admin_token();
    let (status, body) = admin_call(
        &server,
        "/api/v1/reports/checks?from=2026-02-30&to=2026-03-01",
        &admin,
    );
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("2026-02-30"), "{body}");
    let (status, body) = admin_call(
        &server,
        "/api/v1/reports/checks?from=2026-03-02&to=2026-03-01",
        &admin,
    );
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let (status, body) = admin_call(&server, &format!("{checks}&format=pdf"), &admin);
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("pdf"), "{body}");
    // The administrator reads them all.
    let all = admin_get(&server, &checks);
    assert_eq!(all["agencies"].as_array().unwrap().len(), 2, "{all}");
    assert_eq!(
        status_of(
            &server,
            &format!("/api/v1/reports/year/{year}"),
            &server.admin_token()
        ),
        200
    );
}

/// Whether `program` runs here.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Width and height of a PNG file (its IHDR chunk, PNG §11.2.2).
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

/// Headless Chromium with a private profile on `page`, with `options`.
fn chromium(profile: &Path, page: &Path, options: &[String]) {
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-pdf-header-footer",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(options)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium {options:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The words of `text` that are numbers (`1.048`, `0,1`), in reading order.
fn numbers(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter(|token| token.starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

fn count(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("a count: {value}"))
}

#[test]
fn the_yearly_report_prints_with_chromium() {
    away_from_midnight();
    let today = vietnam_now().date();
    let server = server_with_calendar(today);
    let agency = provision_with_agency_login(&server);
    imap_client(&server, "ids", &agency, AGENCY_PASSWORD, &["--mailbox", "INBOX"]);
    let year = today.format("%Y").to_string();

    let json = server.cli_ok(&["report", "year", &year, "--format", "json"], None);
    let report: Value = serde_json::from_str(&json).expect("JSON report");
    let total = &report["total"];
    assert_eq!(report["year"], today.year());
    assert_eq!(count(&total["agency_mailboxes"]), 1, "{report}");
    assert_eq!(count(&total["personal_mailboxes"]), 2, "{report}");
    assert_eq!(count(&total["quota_bytes"]), 700 << 20, "{report}");
    assert!(count(&total["checks_met"]) >= 1, "{report}");

    let work = tempfile::tempdir().unwrap();
    let page = work.path().join("year.html");
    server.cli_ok(
        &[
            "report",
            "year",
            &year,
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
        ],
        None,
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(!html.contains("<script"), "no script");

    if !installed("chromium") {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed: .ci/run installs Debian chromium and poppler-utils"
        );
        eprintln!("SKIPPED: chromium is not installed (apt-get install chromium poppler-utils)");
        return;
    }
    let profile = work.path().join("profile");
    let pdf = work.path().join("year.pdf");
    let png = work.path().join("year.png");
    chromium(&profile, &page, &[format!("--print-to-pdf={}", pdf.display())]);
    chromium(
        &profile,
        &page,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1123,794".to_owned(),
            "--hide-scrollbars".to_owned(),
        ],
    );
    assert_eq!(png_size(&png), (1123, 794), "an A4 landscape page at 96 dpi");
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "a page, not a blank"
    );

    let text = run("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
    assert!(text.status.success(), "pdftotext: {text:?}");
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(&format!("năm {year}")),
        "the Vietnamese title in the PDF:\n{text}"
    );
    // The totals row of the per-agency table: mailboxes, messages received by origin
    // and sent by destination, bounces, storage and quota in MB, forms, check windows
    // and compliance, as the JSON gives them (Vietnamese number forms).
    let mut expected: Vec<String> = [
        &total["agency_mailboxes"],
        &total["personal_mailboxes"],
        &total["active_mailboxes"],
        &total["received"]["internal"],
        &total["received"]["agency_relay"],
        &total["received"]["internet"],
        &total["sent"]["internal"],
        &total["sent"]["other_agency"],
        &total["sent"]["internet"],
        &total["bounced"],
    ]
    .into_iter()
    .map(|value| vi_count(count(value)))
    .collect();
    expected.push(vi_tenths(megabyte_tenths(count(&total["used_bytes"]))));
    expected.push(vi_tenths(megabyte_tenths(count(&total["quota_bytes"]))));
    for (_, refused) in total["refusals"].as_object().unwrap() {
        expected.push(vi_count(count(refused)));
    }
    for form in ["form01", "form02", "form03", "late"] {
        expected.push(vi_count(count(&total["requests"][form])));
    }
    expected.push(vi_count(count(&total["checks_met"])));
    expected.push(vi_count(count(&total["checks_total"])));
    let compliance: Percent = serde_json::from_value(total["compliance"].clone()).expect("a percentage");
    expected.push(compliance.vi());
    // The row's label wraps in its narrow column; its figures stay on one line.
    assert!(
        numbers(&text).windows(expected.len()).any(|row| row == expected),
        "the totals row {expected:?} in the PDF:\n{text}"
    );
    // The monthly table's totals row (one line): messages received and sent in the year.
    let months = report["months"].as_array().unwrap();
    let sum = |key: &str| months.iter().map(|month| count(&month[key])).sum::<u64>();
    let monthly = text
        .lines()
        .rfind(|line| line.contains("Tổng cộng"))
        .expect("the monthly totals row");
    assert_eq!(
        numbers(monthly),
        [vi_count(sum("received")), vi_count(sum("sent"))],
        "the monthly totals in the PDF:\n{text}"
    );
}

/// Art. 15.3: a draft still unfiled 7 days after its decision took effect gets one
/// reminder in its agency mailbox, at the housekeeping run that follows (at start),
/// and no second one; a younger draft gets none.
#[test]
fn an_unfiled_draft_is_reminded_once_to_its_agency_mailbox() {
    let mut server = Server::start();
    let (agency, tuan, _hoa) = server.provision();
    server.cli_ok(
        &["account", "passwd", &agency, "--password-stdin"],
        Some(&format!("{AGENCY_PASSWORD}\n")),
    );
    let today = vietnam_now().date();
    let draft = |days_ago: i64| {
        let effective = today - chrono::Duration::days(days_ago);
        let body = serde_json::json!({
            "form": "02",
            "agency": "sttt",
            "requester": {"name": "Nguyễn Anh Tuấn"},
            "effective_date": effective.to_string(),
            "lines": [{"type": "change_official", "address": tuan, "position": "Trưởng phòng"}],
        });
        admin_post(&server, "/api/v1/requests", &body)["id"]
            .as_u64()
            .expect("request id")
    };
    let due = draft(8);
    let young = draft(3);
    // The housekeeping runs at start, then hourly.
    server.terminate();
    server.spawn();
    let out = tempfile::tempdir().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let inbox = loop {
        let inbox = fetch_inbox(&server, &agency, AGENCY_PASSWORD, out.path());
        if !inbox.is_empty() || std::time::Instant::now() > deadline {
            break inbox;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(inbox.len(), 1, "one reminder:\n{}", server.log());
    let parsed = mail_parser::MessageParser::default().parse(&inbox[0]).unwrap();
    let subject = parsed.subject().unwrap_or_default();
    assert!(
        subject.starts_with(&format!("Nhắc gửi Mẫu 02 (yêu cầu số {due}) trước ngày ")),
        "{subject}"
    );
    assert!(admin_get(&server, &format!("/api/v1/requests/{due}"))["reminded_at"].is_i64());
    assert!(admin_get(&server, &format!("/api/v1/requests/{young}"))["reminded_at"].is_null());

    // Another start runs the housekeeping again: nothing more is sent.
    server.terminate();
    server.spawn();
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        fetch_inbox(&server, &agency, AGENCY_PASSWORD, out.path()).len(),
        1
    );
    let audit = admin_get(&server, &format!("/api/v1/audit?request={due}"));
    let reminders = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "filing_reminder")
        .count();
    assert_eq!(reminders, 1, "{audit}");
}
