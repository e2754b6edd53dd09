//! Issue 12: archives before a purge, exports, and migration into congvu. What an
//! IMAP client sees of a mailbox (per folder: each message's bytes, flags and
//! internal date) is compared before and after, through imaplib.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::{Value, json};

/// Per folder that holds mail: each message's SHA-256, size, flags and internal
/// date (as an instant: an mbox `From ` line keeps the time, not the zone), in UID
/// order.
type View = BTreeMap<String, Vec<(String, u64, Vec<String>, i64)>>;

fn view(state: &Value) -> View {
    state
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, folder)| folder["status"]["messages"].as_u64().unwrap() > 0)
        .map(|(name, folder)| {
            let messages = folder["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    let date = chrono::DateTime::parse_from_str(
                        m["internaldate"].as_str().unwrap(),
                        "%d-%b-%Y %H:%M:%S %z",
                    )
                    .unwrap()
                    .timestamp();
                    // \Recent belongs to the session that looks, not to the mailbox.
                    let flags = m["flags"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f.as_str().unwrap().to_owned())
                        .filter(|f| f != "\\Recent")
                        .collect();
                    (
                        m["sha256"].as_str().unwrap().to_owned(),
                        m["size"].as_u64().unwrap(),
                        flags,
                        date,
                    )
                })
                .collect();
            (name.clone(), messages)
        })
        .collect()
}

/// Three messages in INBOX (two flagged), one in Sent, one in a Vietnamese-named
/// sub-folder with a keyword.
fn fill(server: &Server, user: &str, password: &str) {
    for n in 1..=3 {
        submit(
            server,
            user,
            password,
            user,
            user,
            &["--subject", &format!("Thư số {n}")],
        );
    }
    imap_client(
        server,
        "flag",
        user,
        password,
        &["--uids", "1", "--flags", "\\Seen $Forwarded"],
    );
    imap_client(
        server,
        "flag",
        user,
        password,
        &["--uids", "2", "--flags", "\\Flagged \\Answered"],
    );
    let file = server.dir.join(format!("{user}.eml"));
    std::fs::write(
        &file,
        "From: a@b.vn\r\nSubject: =?UTF-8?Q?C=C3=B4ng_v=C4=83n?=\r\n\r\nNội dung.\r\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    for (folder, flags) in [
        ("Sent", "\\Seen"),
        ("Lưu trữ 2025/Công văn đến", "$Label1 \\Seen"),
    ] {
        let appended = imap_client(
            server,
            "append",
            user,
            password,
            &[
                "--mailbox",
                folder,
                "--file",
                file,
                "--flags",
                flags,
                "--date",
                "1700000000",
            ],
        );
        assert_eq!(appended["ok"], true, "{appended}");
    }
}

fn new_official(server: &Server, name: &str, password: &str) -> String {
    let address = server.cli_ok(&["account", "add", "--agency", "sttt", "--name", name], None);
    server.cli_ok(
        &["account", "passwd", &address, "--password-stdin"],
        Some(&format!("{password}\n")),
    );
    address
}

const PASSWORD_C: &str = "Mat-khau-Cua-C-2026";

#[test]
fn a_mailbox_archived_at_its_purge_comes_back_with_import_mbox() {
    let server = Server::start();
    let (_agency, _a, b) = server.provision();
    fill(&server, &b, PASSWORD_B);
    let before = view(&imap_client(&server, "state", &b, PASSWORD_B, &[]));
    assert_eq!(before.len(), 3, "{before:?}");

    // Form 03: B leaves; 91 days later the mailbox is purged, its archive first.
    let request = admin_post(
        &server,
        "/api/v1/requests",
        &json!({
            "form": "03", "agency": "sttt",
            "requester": {"name": "Lê Văn Thư", "position": "Chánh văn phòng", "phone": "0237 3852 000"},
            "effective_date": chrono::Utc::now().format("%Y-%m-%d").to_string(),
            "lines": [{"type": "delete_official", "address": b, "reason": "left"}],
        }),
    );
    let id = request["id"].as_u64().unwrap();
    admin_post(&server, &format!("/api/v1/requests/{id}/submit"), &json!({}));
    let applied = admin_post(&server, &format!("/api/v1/requests/{id}/approve"), &json!({}));
    assert_eq!(applied["state"], "applied", "{applied}");
    let later = chrono::Utc::now().timestamp() + 91 * 86_400;
    let purged = admin_post(&server, "/api/v1/directory/purge", &json!({"now": later}));
    assert_eq!(purged["purged"], json!([b]));

    let audit = admin_get(&server, &format!("/api/v1/audit?subject={b}"));
    let archived = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "archive")
        .unwrap_or_else(|| panic!("no archive entry: {audit}"));
    let archive = Path::new(archived["detail"].as_str().unwrap());
    assert!(
        archive.starts_with(server.dir.join("data").join("archive")),
        "{archive:?}"
    );
    assert!(archive.join("INBOX.mbox").is_file());

    let c = new_official(&server, "Trần Văn Cường", PASSWORD_C);
    let archive = archive.to_str().unwrap();
    server.cli_ok(&["import", "mbox", archive, "--to", &c], None);
    assert_eq!(view(&imap_client(&server, "state", &c, PASSWORD_C, &[])), before);
    // Again: nothing is copied twice.
    let again = server.cli_ok(&["import", "mbox", archive, "--to", &c], None);
    assert_eq!(
        view(&imap_client(&server, "state", &c, PASSWORD_C, &[])),
        before,
        "{again}"
    );
}

#[test]
fn export_mailbox_as_maildir_and_mbox_imports_back_identical() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    fill(&server, &a, PASSWORD_A);
    let before = view(&imap_client(&server, "state", &a, PASSWORD_A, &[]));
    for format in ["maildir", "mbox"] {
        let to = server.dir.join(format!("export-{format}"));
        let listing = server.cli_ok(
            &[
                "export",
                "mailbox",
                &a,
                "--format",
                format,
                "--to",
                to.to_str().unwrap(),
            ],
            None,
        );
        assert!(listing.contains("INBOX"), "{listing}");
        let target = new_official(&server, &format!("Phạm Thị {format}"), PASSWORD_C);
        server.cli_ok(&["import", format, to.to_str().unwrap(), "--to", &target], None);
        assert_eq!(
            view(&imap_client(&server, "state", &target, PASSWORD_C, &[])),
            before,
            "{format}"
        );
    }
    // Maildir flags are in the file names.
    let cur = server.dir.join("export-maildir").join("cur");
    let names: Vec<String> = std::fs::read_dir(&cur)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(":2,FR")), "{names:?}");
    // mbox carries them in Status / X-Status / X-Keywords.
    let mbox = std::fs::read_to_string(server.dir.join("export-mbox").join("INBOX.mbox")).unwrap();
    assert!(mbox.contains("X-Keywords: $Forwarded"), "{mbox}");
    assert!(mbox.contains("X-Status: AF"), "{mbox}");
}

/// Must-show 2: a real Dovecot, started by the test, is the agency's old server.
/// user1 comes over IMAP (STARTTLS), user2 from its Maildir on disk, user3 through
/// an `--accounts` list as a whole agency would; each target
/// folder then holds exactly what the source folders mapped to it hold (bytes,
/// flags and keywords, dates), and a second run imports nothing.
#[test]
fn an_agency_moves_from_dovecot_over_imap_and_from_its_maildir() {
    use congvu_migrate::test_dovecot::{TestDovecot, TestMessage};
    let Some(dovecot) = TestDovecot::start(&["user1", "user2", "user3"]) else {
        return; // No Dovecot here (TestDovecot said so; under CI it panics instead).
    };
    let message = |folder: &str, flags: &[&str], date: i64, subject: &str| TestMessage {
        folder: folder.to_owned(),
        flags: flags.iter().map(|f| (*f).to_owned()).collect(),
        internal_date: date,
        bytes: format!(
            "From: vanthu@sttt.cu.vn\r\nTo: ubnd@thanhhoa.gov.vn\r\nSubject: {subject}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nNội dung {subject}.\r\n"
        )
        .into_bytes(),
    };
    let held = vec![
        message("INBOX", &["\\Seen", "$Forwarded"], 1_500_000_000, "Lịch họp"),
        message("INBOX", &["\\Flagged", "\\Answered"], 1_500_000_100, "Khẩn"),
        message("INBOX", &[], 1_500_000_150, "Chưa đọc"),
        message("Sent Items", &["\\Seen"], 1_500_000_200, "Báo cáo"),
        message("Thư đã gửi", &["\\Seen", "\\Answered"], 1_500_000_300, "Trả lời"),
        message(
            "Lưu trữ.2025",
            &["\\Seen", "$Label1"],
            1_500_000_400,
            "Công văn cũ",
        ),
        message("Drafts", &["\\Draft"], 1_500_000_500, "Nháp"),
    ];
    dovecot.append("user1", &held);
    dovecot.append("user2", &held);
    dovecot.append("user3", &held);

    let server = Server::start();
    server.provision();
    let (one, two, three) = (
        new_official(&server, "Đỗ Văn Một", PASSWORD_C),
        new_official(&server, "Đỗ Văn Hai", PASSWORD_C),
        new_official(&server, "Đỗ Văn Ba", PASSWORD_C),
    );
    let password_file = server.dir.join("user1.password");
    std::fs::write(
        &password_file,
        format!("{}\n", dovecot.password("user1").expose()),
    )
    .unwrap();
    let ca_file = dovecot.ca_file();
    let (port, ca_file, password_file) = (
        dovecot.imap_port().to_string(),
        ca_file.to_str().unwrap().to_owned(),
        password_file.to_str().unwrap().to_owned(),
    );
    let from_dovecot = [
        "import",
        "imap",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--starttls",
        "--ca-file",
        &ca_file,
    ];
    let over_imap = [
        &from_dovecot[..],
        &["--user", "user1", "--password-file", &password_file, "--to", &one],
    ]
    .concat();
    let summary = server.cli_ok(&over_imap, None);
    assert!(summary.contains("Sent Items"), "{summary}");
    // The agency's list: a header, a quoted field, a password file named relative
    // to the list.
    std::fs::write(
        server.dir.join("user3.password"),
        format!("{}\n", dovecot.password("user3").expose()),
    )
    .unwrap();
    let accounts = server.dir.join("accounts.csv");
    std::fs::write(
        &accounts,
        format!("source_user,password_file,target_address\n\"user3\",user3.password,{three}\n"),
    )
    .unwrap();
    let listed = server.cli_ok(
        &[&from_dovecot[..], &["--accounts", accounts.to_str().unwrap()]].concat(),
        None,
    );
    assert!(listed.contains(&format!("user3 → {three}")), "{listed}");
    let maildir = dovecot.maildir("user2");
    let from_disk = ["import", "maildir", maildir.to_str().unwrap(), "--to", &two];
    server.cli_ok(&from_disk, None);

    // What each target folder must hold: the source folders mapped onto it.
    let mapped = |folder: &str| -> String {
        match folder {
            "Sent Items" | "Thư đã gửi" => "Sent".to_owned(),
            "Lưu trữ.2025" => "Lưu trữ/2025".to_owned(),
            other => other.to_owned(),
        }
    };
    let source = dovecot_view(&dovecot, "user1");
    let mut expected: View = BTreeMap::new();
    for (folder, messages) in &source {
        expected
            .entry(mapped(folder).to_owned())
            .or_default()
            .extend(messages.iter().cloned());
    }
    for messages in expected.values_mut() {
        messages.sort();
    }
    assert_eq!(expected.values().map(Vec::len).sum::<usize>(), held.len());
    for target in [&one, &two, &three] {
        let mut got = view(&imap_client(&server, "state", target, PASSWORD_C, &[]));
        got.values_mut().for_each(|messages| messages.sort());
        assert_eq!(got, expected, "{target}");
    }

    // A second run of each copies nothing: no new UID anywhere.
    let before = imap_client(&server, "state", &one, PASSWORD_C, &[]);
    server.cli_ok(&over_imap, None);
    server.cli_ok(&from_disk, None);
    assert_eq!(imap_client(&server, "state", &one, PASSWORD_C, &[]), before);
    assert_eq!(
        view(&imap_client(&server, "state", &two, PASSWORD_C, &[]))
            .values()
            .map(Vec::len)
            .sum::<usize>(),
        held.len()
    );
}

/// What imaplib sees of a Dovecot user.
fn dovecot_view(dovecot: &congvu_migrate::test_dovecot::TestDovecot, user: &str) -> View {
    let output = python(
        "mailclient.py",
        &strings(&[
            "state",
            "--port",
            &dovecot.imaps_port().to_string(),
            "--security",
            "tls",
            "--cafile",
            dovecot.ca_file().to_str().unwrap(),
            "--user",
            user,
            "--password",
            dovecot.password(user).expose(),
        ]),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    view(&serde_json::from_slice(&output.stdout).unwrap())
}

/// Bad input to the import and export commands: a clear error, nothing half-done.
#[test]
fn imports_and_exports_refuse_bad_input_with_a_clear_error() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let missing = server.dir.join("no-such-maildir");
    let output = server.cli(
        &["import", "maildir", missing.to_str().unwrap(), "--to", &a],
        None,
    );
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("no-such-maildir"), "{error}");

    let file = server.dir.join("one.mbox");
    std::fs::write(&file, "From a@b.vn Mon Jan  1 00:00:00 2024\nSubject: x\n\nx\n").unwrap();
    let output = server.cli(
        &[
            "import",
            "mbox",
            file.to_str().unwrap(),
            "--to",
            "khongco.sttt@thanhhoa.gov.vn",
        ],
        None,
    );
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("không có hộp thư / no mailbox"), "{error}");

    // An export never writes into a directory that holds something.
    let full = server.dir.join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "x").unwrap();
    let output = server.cli(&["export", "mailbox", &a, "--to", full.to_str().unwrap()], None);
    assert!(!output.status.success(), "{output:?}");
    assert_eq!(std::fs::read_to_string(full.join("keep.txt")).unwrap(), "x");
    // And nothing was imported by the refused commands.
    let inbox = imap_client(&server, "state", &a, PASSWORD_A, &[]);
    assert_eq!(inbox["INBOX"]["status"]["messages"], 0, "{inbox}");
}
