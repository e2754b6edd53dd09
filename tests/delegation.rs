//! Delegation of an agency mailbox to a clerk (Art. 16.1), end to end with real
//! clients: grants through the CLI (admin API) and through SETACL by the agency's
//! own login; the clerk reading the agency's mail with imaplib under `Shared/`;
//! the other official seeing nothing; the access events (Art. 10) naming the clerk;
//! the clerk sending as the agency through submission with smtplib; revocation.

mod common;

use common::*;
use serde_json::Value;

const SUBJECT: &str = "Công văn số 45 về lịch tiếp dân";

/// `tests/py/shared_mailbox.py` as `user`, optionally running SETACL first.
fn clerk_view(server: &Server, user: &str, password: &str, setacl: Option<[&str; 3]>) -> Value {
    let mut args = strings(&[&server.ports.imaps.to_string(), &server.cafile(), user, password]);
    if let Some(setacl) = setacl {
        args.push("--setacl".into());
        args.extend(setacl.iter().map(|s| s.to_string()));
    }
    serde_json::from_str(&python_ok(server, "shared_mailbox.py", &args)).expect("JSON from shared_mailbox.py")
}

/// `user` sends with `agency` as the sender: refused like any address not one's own.
fn assert_send_as_refused(server: &Server, user: &str, password: &str, agency: &str, to: &str) {
    let refused = submit(
        server,
        user,
        password,
        agency,
        to,
        &["--subject", "Thông báo thử"],
    );
    assert_eq!(refused["code"], 553, "{refused}");
}

fn lists(view: &Value, name: &str) -> bool {
    view["list"]
        .as_array()
        .unwrap()
        .iter()
        .any(|line| line.as_str().unwrap().ends_with(&format!("\"/\" {name}")))
}

fn refused_as_nonexistent(view: &Value) {
    assert_eq!(view["select"]["ok"], false, "{view}");
    assert!(
        view["select"]["text"]
            .as_str()
            .unwrap()
            .starts_with("[NONEXISTENT]"),
        "{view}"
    );
    assert!(!lists(view, "Shared/sttt/INBOX"), "{view}");
}

#[test]
fn clerk_reads_and_sends_for_the_agency_until_revoked() {
    let server = Server::start();
    let (agency, clerk, other) = server.provision();
    server.cli_ok(
        &["account", "passwd", &agency, "--password-stdin"],
        Some(&format!("{PASSWORD_A}\n")),
    );
    let sent = submit(
        &server,
        &other,
        PASSWORD_B,
        &other,
        &agency,
        &["--subject", SUBJECT],
    );
    assert_eq!(sent["ok"], true, "{sent}");

    // Without a grant the agency mailbox does not exist for the clerk, and sending
    // as the agency is refused like any address not one's own.
    refused_as_nonexistent(&clerk_view(&server, &clerk, PASSWORD_A, None));
    assert_send_as_refused(&server, &clerk, PASSWORD_A, &agency, &other);

    // The Provincial Office grants through the CLI (the admin API).
    let grant: Value = serde_json::from_str(&server.cli_ok(
        &[
            "directory",
            "delegate",
            "sttt",
            &clerk,
            "--document",
            "QĐ 5/QĐ-STTT",
        ],
        None,
    ))
    .unwrap();
    assert_eq!(grant["rights"], "lrswipkxte", "{grant}");
    assert_eq!(grant["send_as"], true, "{grant}");

    let view = clerk_view(&server, &clerk, PASSWORD_A, None);
    assert_eq!(
        view["namespace"], "((\"\" \"/\")) NIL ((\"Shared/\" \"/\"))",
        "{view}"
    );
    for name in [
        "\"Shared\"",
        "\"Shared/sttt\"",
        "\"Shared/sttt/INBOX\"",
        "\"Shared/sttt/Sent\"",
    ] {
        assert!(lists(&view, name), "{name} in {view}");
    }
    assert_eq!(
        view["myrights"]["text"], "\"Shared/sttt/INBOX\" \"lrswipkxtecd\"",
        "{view}"
    );
    assert_eq!(view["select"]["ok"], true, "{view}");
    assert_eq!(view["subjects"], serde_json::json!([SUBJECT]), "{view}");

    // The other official still sees nothing.
    refused_as_nonexistent(&clerk_view(&server, &other, PASSWORD_B, None));

    // Art. 10: the clerk's opening of the agency INBOX is in the agency's access log.
    let access = server.cli_ok(&["directory", "access", &agency], None);
    let selections: Vec<&str> = access
        .lines()
        .filter(|line| line.contains("\tAgencyInboxSelected\t"))
        .collect();
    assert_eq!(selections.len(), 1, "{access}");
    assert!(
        selections[0].ends_with(&format!("\tAgencyInboxSelected\t{clerk}\t127.0.0.1\timaps")),
        "{access}"
    );

    // Sending as the agency: accepted and delivered, with the agency as sender.
    let sent = submit(
        &server,
        &clerk,
        PASSWORD_A,
        &agency,
        &other,
        &["--subject", "Trả lời công văn số 45"],
    );
    assert_eq!(sent["ok"], true, "{sent}");
    let delivered = inbox_subjects(&server, &other, PASSWORD_B);
    assert!(
        delivered.iter().any(|s| s == "Trả lời công văn số 45"),
        "{delivered:?}"
    );
    // The other official holds no grant: still refused.
    assert_send_as_refused(&server, &other, PASSWORD_B, &agency, &clerk);

    // Revoked: a new session finds nothing, and sending as the agency stops.
    server.cli_ok(&["directory", "delegate", "sttt", &clerk, "--revoke"], None);
    refused_as_nonexistent(&clerk_view(&server, &clerk, PASSWORD_A, None));
    assert_send_as_refused(&server, &clerk, PASSWORD_A, &agency, &other);

    // The agency's own login grants again with SETACL, read-only this time. Sending
    // as the agency does not come with it: that needs the written authorisation the
    // admin API records.
    let view = clerk_view(&server, &agency, PASSWORD_A, Some(["INBOX", &clerk, "lr"]));
    assert_eq!(view["setacl"]["ok"], true, "{view}");
    let view = clerk_view(&server, &clerk, PASSWORD_A, None);
    assert_eq!(view["myrights"]["text"], "\"Shared/sttt/INBOX\" \"lr\"", "{view}");
    assert_eq!(view["subjects"], serde_json::json!([SUBJECT]), "{view}");
    assert_send_as_refused(&server, &clerk, PASSWORD_A, &agency, &other);

    // A grant without sending, through the CLI: reading stays, sending as the agency
    // is refused.
    server.cli_ok(
        &[
            "directory",
            "delegate",
            "sttt",
            &clerk,
            "--rights",
            "lrs",
            "--no-send-as",
        ],
        None,
    );
    let view = clerk_view(&server, &clerk, PASSWORD_A, None);
    assert_eq!(
        view["myrights"]["text"], "\"Shared/sttt/INBOX\" \"lrs\"",
        "{view}"
    );
    assert_send_as_refused(&server, &clerk, PASSWORD_A, &agency, &other);

    // Every grant and withdrawal is in the audit log, with who made it.
    let audit = server.cli_ok(&["directory", "audit"], None);
    let grants: Vec<String> = audit
        .lines()
        .filter(|line| line.contains("_delegation\t"))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            format!("{} {} {}", fields[1], fields[2], fields[5])
        })
        .collect();
    assert_eq!(
        grants,
        [
            format!("admin grant_delegation to {clerk} rights lrswipkxte send_as true"),
            format!("admin revoke_delegation from {clerk}"),
            format!("{agency} grant_delegation to {clerk} rights lr send_as false"),
            format!("admin grant_delegation to {clerk} rights lrs send_as false"),
        ],
        "{audit}"
    );
}

/// `POST` to the admin API with the bootstrap (administrator) token.
fn admin_post(server: &Server, path: &str, body: Option<&Value>) -> Value {
    let authorization = format!("Authorization: Bearer {}", server.admin_token());
    let url = format!("http://127.0.0.1:{}{path}", server.ports.admin);
    let body = body.map(Value::to_string);
    let mut args = vec!["-sf", "-X", "POST", "-H", &authorization];
    if let Some(body) = &body {
        args.extend(["-H", "Content-Type: application/json", "--data-binary", body]);
    }
    args.push(&url);
    let output = run("curl", &args);
    assert!(
        output.status.success(),
        "POST {path}: {output:?}\n{}",
        server.log()
    );
    serde_json::from_slice(&output.stdout).expect("JSON from the admin API")
}

#[test]
fn a_clerk_moved_to_another_agency_loses_the_agency_mailbox() {
    let server = Server::start();
    let (agency, clerk, other) = server.provision();
    server.cli_ok(
        &["agency", "add", "yendinh", "--name", "UBND huyện Yên Định"],
        None,
    );
    let sent = submit(
        &server,
        &other,
        PASSWORD_B,
        &other,
        &agency,
        &["--subject", SUBJECT],
    );
    assert_eq!(sent["ok"], true, "{sent}");
    server.cli_ok(&["directory", "delegate", "sttt", &clerk], None);
    // Before the move the grant works both ways.
    let view = clerk_view(&server, &clerk, PASSWORD_A, None);
    assert_eq!(view["subjects"], serde_json::json!([SUBJECT]), "{view}");
    let sent = submit(
        &server,
        &clerk,
        PASSWORD_A,
        &agency,
        &other,
        &["--subject", "Trước khi chuyển"],
    );
    assert_eq!(sent["ok"], true, "{sent}");

    // Form 02, filed by the receiving agency and approved: the clerk moves to yendinh.
    let filed = admin_post(
        &server,
        "/api/v1/requests",
        Some(&serde_json::json!({
            "form": "02",
            "agency": "yendinh",
            "requester": {"name": "Lê Văn Thư", "position": "Chánh văn phòng"},
            "effective_date": "2024-05-15",
            "lines": [{"type": "move_official", "address": clerk}],
        })),
    );
    let id = filed["id"].as_u64().unwrap();
    admin_post(&server, &format!("/api/v1/requests/{id}/submit"), None);
    let applied = admin_post(&server, &format!("/api/v1/requests/{id}/approve"), None);
    assert_eq!(applied["state"], "applied", "{applied}");
    let result = applied["results"][0].as_str().unwrap();
    let moved = result.rsplit(" → ").next().unwrap();
    assert!(moved.ends_with(".yendinh@thanhhoa.gov.vn"), "{applied}");

    // Neither the new address nor the old one (now an alias) reaches the agency
    // mailbox or sends as the agency.
    for login in [moved, clerk.as_str()] {
        refused_as_nonexistent(&clerk_view(&server, login, PASSWORD_A, None));
        assert_send_as_refused(&server, login, PASSWORD_A, &agency, &other);
    }
}

/// The subjects in `user`'s own INBOX.
fn inbox_subjects(server: &Server, user: &str, password: &str) -> Vec<String> {
    let args = strings(&[
        &server.ports.imaps.to_string(),
        &server.cafile(),
        user,
        password,
        "--mailbox",
        "INBOX",
    ]);
    let view: Value = serde_json::from_str(&python_ok(server, "shared_mailbox.py", &args))
        .expect("JSON from shared_mailbox.py");
    view["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The `From:` header is held to the rule MAIL FROM is: the relay DKIM-signs by its
/// domain, so a forged one would pass DMARC. With the clerk's own MAIL FROM, another
/// official's address or the chairman's in From is refused; the agency's only under
/// a send-as grant.
#[test]
fn from_header_must_be_the_senders_own_or_a_delegated_agency() {
    let server = Server::start();
    let (agency, clerk, other) = server.provision();
    let domain = agency.split_once('@').unwrap().1.to_owned();
    let send = |from_header: &str| {
        let path = server.dir.join("from-header.eml");
        let raw = format!("From: {from_header}\r\nTo: {other}\r\nSubject: {SUBJECT}\r\n\r\nNội dung.\r\n");
        std::fs::write(&path, raw).unwrap();
        let path = path.display().to_string();
        submit(&server, &clerk, PASSWORD_A, &clerk, &other, &["--raw", &path])
    };
    let assert_refused = |from_header: &str| {
        let refused = send(from_header);
        assert_eq!(refused["code"], 550, "{from_header}: {refused}");
        let message = refused["message"].as_str().unwrap();
        assert!(
            message.starts_with("5.7.1 Địa chỉ người gửi trong tiêu đề From hoặc Sender không thuộc"),
            "{message}"
        );
        assert!(
            message.contains(" / the From or Sender header address is not yours"),
            "{message}"
        );
    };
    assert_eq!(send(&format!("Văn thư <{clerk}>"))["ok"], true);
    assert_refused(&format!("Chủ tịch UBND tỉnh <chutich@{domain}>"));
    assert_refused(&other);
    assert_refused(&agency);

    server.cli_ok(&["directory", "delegate", "sttt", &clerk], None);
    let sent = send(&format!(
        "Sở Thông tin và Truyền thông <{}>",
        agency.to_uppercase()
    ));
    assert_eq!(sent["ok"], true, "{sent}");
    assert_refused(&other);
    assert_eq!(inbox_subjects(&server, &other, PASSWORD_B), [SUBJECT, SUBJECT]);
}
