//! The directory and the forms 01/02/03 workflow, end to end through the admin API and
//! the CLI of a running server: operators signed in with their own accounts file
//! requests, the administrator approves or rejects, approval applies; mail follows a
//! moved official; a deleted one cannot log in and, once purged, is refused 5.1.1.

mod common;

use common::*;
use serde_json::{Value, json};

/// One admin API call; returns the status and the JSON (or text) answer.
fn api(server: &Server, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("http://127.0.0.1:{}{path}", server.ports.admin);
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(&url)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map(|b| b.to_string()).unwrap_or_default())
        .unwrap();
    let mut response = agent.run(request).expect("admin API answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn ok(server: &Server, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, value) = api(server, method, path, token, body.clone());
    assert!(
        (200..300).contains(&status),
        "{method} {path} {body:?} → {status} {value}\n{}",
        server.log()
    );
    value
}

fn refused(server: &Server, method: &str, path: &str, token: &str, body: Option<Value>, want: u16) -> String {
    let (status, value) = api(server, method, path, token, body);
    assert_eq!(status, want, "{method} {path} → {value}");
    value["error"]["message"].as_str().unwrap_or_default().to_owned()
}

const OPERATOR_PASSWORD: &str = "mat-khau-Van-Hanh-1";

/// vpubnd (first: the postmaster), sttt, yendinh, and an operator of each of sttt and
/// yendinh signed in with their own accounts. Returns (admin, sttt operator, yendinh operator).
fn setup(server: &Server) -> (String, String, String) {
    let admin = server.admin_token();
    for (abbr, name) in [
        ("vpubnd", "Văn phòng UBND tỉnh"),
        ("sttt", "Sở Thông tin và Truyền thông"),
        ("yendinh", "UBND huyện Yên Định"),
    ] {
        ok(
            server,
            "POST",
            "/api/v1/agencies",
            &admin,
            Some(json!({"abbr": abbr, "name": name})),
        );
    }
    let mut tokens = Vec::new();
    for (agency, name) in [("sttt", "Đỗ Văn Vận"), ("yendinh", "Hà Thị Hành")] {
        let added = ok(
            server,
            "POST",
            "/api/v1/accounts",
            &admin,
            Some(json!({"agency": agency, "name": name})),
        );
        let address = added["account"]["address"].as_str().unwrap().to_owned();
        ok(
            server,
            "PUT",
            &format!("/api/v1/accounts/{address}/password"),
            &admin,
            Some(json!({"password": OPERATOR_PASSWORD})),
        );
        ok(
            server,
            "PUT",
            &format!("/api/v1/accounts/{address}/role"),
            &admin,
            Some(json!({"role": "operator"})),
        );
        let session = ok(
            server,
            "POST",
            "/api/v1/login",
            "",
            Some(json!({"login": address, "password": OPERATOR_PASSWORD})),
        );
        assert_eq!(session["principal"]["role"], "operator");
        tokens.push(session["token"].as_str().unwrap().to_owned());
    }
    let yendinh = tokens.pop().unwrap();
    let sttt = tokens.pop().unwrap();
    (admin, sttt, yendinh)
}

fn form(number: &str, agency: &str, effective: &str, lines: Value) -> Value {
    json!({
        "form": number,
        "agency": agency,
        "requester": {"name": "Lê Văn Thư", "position": "Chánh văn phòng", "phone": "0237 3852 000"},
        "effective_date": effective,
        "lines": lines,
    })
}

/// Files and submits as `operator`, approves as `admin`; returns the applied request.
fn file_and_approve(server: &Server, operator: &str, admin: &str, request: Value) -> Value {
    let filed = ok(server, "POST", "/api/v1/requests", operator, Some(request));
    assert_eq!(filed["state"], "draft");
    let id = filed["id"].as_u64().unwrap();
    let submitted = ok(
        server,
        "POST",
        &format!("/api/v1/requests/{id}/submit"),
        operator,
        None,
    );
    assert_eq!(submitted["state"], "submitted");
    let applied = ok(
        server,
        "POST",
        &format!("/api/v1/requests/{id}/approve"),
        admin,
        None,
    );
    assert_eq!(applied["state"], "applied", "{applied}");
    applied
}

fn today() -> String {
    // The server files in Vietnam's date; a date a day back is on time either way.
    let day = 86_400;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    date(now - day)
}

fn date(unix: i64) -> String {
    let output = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{unix}"), "+%Y-%m-%d"])
        .output()
        .expect("date");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn forms_01_02_03_end_to_end_and_the_refusals() {
    let server = Server::start();
    let (admin, sttt, yendinh) = setup(&server);

    // Mẫu 01, filed by the sttt operator: two officials, one with a person id.
    let applied = file_and_approve(
        &server,
        &sttt,
        &admin,
        form(
            "01",
            "sttt",
            &today(),
            json!([
                {"type": "new_official", "name": "Nguyễn Anh Tuấn", "person_id": "038090001234",
                 "position": "Chuyên viên", "department": "Phòng Quản lý CNTT"},
                {"type": "new_official", "name": "Lê Thị Hoa", "phone": "0912 345 678"},
            ]),
        ),
    );
    assert_eq!(
        applied["results"],
        json!(["tuanna.sttt@thanhhoa.gov.vn", "hoalt.sttt@thanhhoa.gov.vn"])
    );
    assert_eq!(applied["late"], false);
    let id = applied["id"].as_u64().unwrap();
    let html = ok(
        &server,
        "GET",
        &format!("/api/v1/requests/{id}/form"),
        &sttt,
        None,
    );
    let html = html.as_str().unwrap();
    for needle in [
        "PHIẾU YÊU CẦU",
        "CẤP MỚI HỘP THƯ ĐIỆN TỬ CÔNG VỤ",
        "Nguyễn Anh Tuấn",
        "Kính gửi: Văn phòng UBND tỉnh",
        "@media print",
    ] {
        assert!(html.contains(needle), "{needle} missing in:\n{html}");
    }

    // Refusals: duplicate person, unknown agency, another agency's operator, the
    // operator approving, approving twice.
    let duplicate = ok(
        &server,
        "POST",
        "/api/v1/requests",
        &sttt,
        Some(form(
            "01",
            "sttt",
            &today(),
            json!([
                {"type": "new_official", "name": "Nguyễn A. Tuấn", "person_id": "038090001234"},
            ]),
        )),
    );
    let message = refused(
        &server,
        "POST",
        &format!("/api/v1/requests/{}/submit", duplicate["id"]),
        &sttt,
        None,
        409,
    );
    assert!(
        message.contains("038090001234 already has the mailbox tuanna.sttt"),
        "{message}"
    );
    let namesake = form(
        "01",
        "sttt",
        &today(),
        json!([{"type": "new_official", "name": "LÊ THỊ HOA"}]),
    );
    let namesake = ok(&server, "POST", "/api/v1/requests", &sttt, Some(namesake));
    let message = refused(
        &server,
        "POST",
        &format!("/api/v1/requests/{}/submit", namesake["id"]),
        &sttt,
        None,
        409,
    );
    assert!(message.contains("confirm"), "{message}");
    let unknown = form(
        "01",
        "nope",
        &today(),
        json!([{"type": "new_official", "name": "Trần Văn Nam"}]),
    );
    refused(&server, "POST", "/api/v1/requests", &admin, Some(unknown), 404);
    let other = form(
        "01",
        "yendinh",
        &today(),
        json!([{"type": "new_official", "name": "Trần Văn Nam"}]),
    );
    let message = refused(&server, "POST", "/api/v1/requests", &sttt, Some(other), 403);
    assert!(message.contains("own agency"), "{message}");
    refused(
        &server,
        "GET",
        &format!("/api/v1/requests/{id}"),
        &yendinh,
        None,
        403,
    );
    let pending = ok(
        &server,
        "POST",
        "/api/v1/requests",
        &sttt,
        Some(form(
            "01",
            "sttt",
            &today(),
            json!([{"type": "new_official", "name": "Trần Văn Nam"}]),
        )),
    );
    let pending = pending["id"].as_u64().unwrap();
    ok(
        &server,
        "POST",
        &format!("/api/v1/requests/{pending}/submit"),
        &sttt,
        None,
    );
    refused(
        &server,
        "POST",
        &format!("/api/v1/requests/{pending}/approve"),
        &sttt,
        None,
        403,
    );
    let message = refused(
        &server,
        "POST",
        &format!("/api/v1/requests/{id}/approve"),
        &admin,
        None,
        409,
    );
    assert!(message.contains("only a submitted request"), "{message}");
    let rejected = ok(
        &server,
        "POST",
        &format!("/api/v1/requests/{pending}/reject"),
        &admin,
        Some(json!({"reason": "Thiếu quyết định tuyển dụng"})),
    );
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["reason"], "Thiếu quyết định tuyển dụng");
    // Operators see their own agency's requests only; administrators all.
    let own = ok(&server, "GET", "/api/v1/requests", &sttt, None);
    assert!(own.as_array().unwrap().iter().all(|r| r["agency"] == "sttt"));
    refused(
        &server,
        "GET",
        "/api/v1/requests?agency=yendinh",
        &sttt,
        None,
        403,
    );

    // Mẫu 02 filed by the RECEIVING agency (yendinh), late: effective 30 days ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let moved = file_and_approve(
        &server,
        &yendinh,
        &admin,
        form(
            "02",
            "yendinh",
            &date(now - 30 * 86_400),
            json!([
                {"type": "move_official", "address": "tuanna.sttt@thanhhoa.gov.vn", "position": "Phó Chủ tịch"},
            ]),
        ),
    );
    assert_eq!(
        moved["results"],
        json!(["tuanna.sttt@thanhhoa.gov.vn → tuanna.yendinh@thanhhoa.gov.vn"])
    );
    assert_eq!(moved["late"], true);
    let late = ok(&server, "GET", "/api/v1/reports/late", &admin, None);
    assert_eq!(late.as_array().unwrap().len(), 1);
    assert_eq!(late[0]["id"], moved["id"]);
    let account = ok(
        &server,
        "GET",
        "/api/v1/accounts/tuanna.sttt@thanhhoa.gov.vn",
        &admin,
        None,
    );
    assert_eq!(
        account["address"], "tuanna.yendinh@thanhhoa.gov.vn",
        "the old address is an alias"
    );
    assert_eq!(account["person_id"], "038090001234");

    // Mẫu 03: Hoa retires.
    let deleted = file_and_approve(
        &server,
        &sttt,
        &admin,
        form(
            "03",
            "sttt",
            &today(),
            json!([
                {"type": "delete_official", "address": "hoalt.sttt@thanhhoa.gov.vn", "reason": "retired"},
            ]),
        ),
    );
    let html = ok(
        &server,
        "GET",
        &format!("/api/v1/requests/{}/form", deleted["id"]),
        &admin,
        None,
    );
    assert!(html.as_str().unwrap().contains("Nghỉ hưu"), "{html}");
    let hoa = ok(
        &server,
        "GET",
        "/api/v1/accounts/hoalt.sttt@thanhhoa.gov.vn",
        &admin,
        None,
    );
    assert_eq!(hoa["disabled"], true);
    assert!(hoa["deleted"]["purge_after"].as_i64().unwrap() > now + 89 * 86_400);

    // The audit log names who did what under which request.
    let log = ok(
        &server,
        "GET",
        &format!("/api/v1/audit?request={}", deleted["id"]),
        &admin,
        None,
    );
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["file_request", "submit_request", "delete", "approve_request"]
    );
    assert_eq!(log[0]["actor"], "vandv.sttt@thanhhoa.gov.vn");
    assert_eq!(log[3]["actor"], "admin");

    // Officials have no administrative access; an unknown token none at all.
    refused(&server, "GET", "/api/v1/agencies", &sttt, None, 403);
    refused(&server, "GET", "/api/v1/requests", "forged-token", None, 401);
    let found = ok(&server, "GET", "/api/v1/directory/search?q=tuan", &sttt, None);
    assert_eq!(found[0]["address"], "tuanna.yendinh@thanhhoa.gov.vn");
}

#[test]
fn malformed_csv_row_is_refused_with_its_line_and_nothing_applied() {
    let server = Server::start();
    let admin = server.admin_token();
    let csv = "kind,agency,parent,name\nagency,snv,,Sở Nội vụ\nofficial,snv,,Nguyễn Văn An\nofficial,snv,Bùi Thị Lỗi\n";
    let message = refused(
        &server,
        "POST",
        "/api/v1/directory/import",
        &admin,
        Some(json!({"csv": csv, "apply": true})),
        400,
    );
    assert!(message.contains("line 4"), "{message}");
    assert_eq!(ok(&server, "GET", "/api/v1/agencies", &admin, None), json!([]));

    let path = server.dir.join("bad.csv");
    std::fs::write(&path, csv).unwrap();
    let output = server.cli(&["directory", "import", path.to_str().unwrap(), "--apply"], None);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 4"));
}

fn smtp_rcpt(server: &Server, rcpt: &str) -> String {
    let mut smtp = Raw::connect(server.ports.smtp);
    smtp.smtp_reply();
    smtp.send(b"EHLO sender.example\r\n");
    smtp.smtp_reply();
    smtp.send(b"MAIL FROM:<someone@example.net>\r\n");
    assert!(smtp.smtp_reply().starts_with("250"));
    smtp.send(format!("RCPT TO:{rcpt}\r\n").as_bytes());
    smtp.smtp_reply()
}

fn smtp_deliver(server: &Server, to: &str, subject: &str) {
    let mut smtp = Raw::connect(server.ports.smtp);
    smtp.smtp_reply();
    smtp.send(b"EHLO sender.example\r\nMAIL FROM:<someone@example.net>\r\n");
    smtp.smtp_reply();
    assert!(smtp.smtp_reply().starts_with("250"));
    smtp.send(format!("RCPT TO:<{to}>\r\nDATA\r\n").as_bytes());
    assert!(smtp.smtp_reply().starts_with("250"));
    assert!(smtp.smtp_reply().starts_with("354"));
    smtp.send(
        format!("From: someone@example.net\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nNội dung.\r\n.\r\n")
            .as_bytes(),
    );
    let reply = smtp.smtp_reply();
    assert!(reply.starts_with("250"), "{reply}");
}

/// Logs in over IMAPS; returns the EXISTS count of INBOX, or None when refused.
fn imap_inbox(server: &Server, login: &str, password: &str) -> Option<u32> {
    let mut imap = Raw::connect_tls(server, server.ports.imaps);
    imap.line();
    imap.send(format!("a1 LOGIN {login} \"{password}\"\r\n").as_bytes());
    let reply = imap.until("a1 ");
    if !reply.last().unwrap().starts_with("a1 OK") {
        return None;
    }
    imap.send(b"a2 SELECT INBOX\r\n");
    let lines = imap.until("a2 ");
    lines
        .iter()
        .find_map(|l| l.strip_suffix(" EXISTS").and_then(|l| l.strip_prefix("* ")))
        .and_then(|n| n.parse().ok())
}

#[test]
fn moved_official_keeps_mail_deleted_one_is_locked_out_then_refused_5_1_1() {
    let server = Server::start();
    let (admin, sttt, yendinh) = setup(&server);
    file_and_approve(
        &server,
        &sttt,
        &admin,
        form(
            "01",
            "sttt",
            &today(),
            json!([
                {"type": "new_official", "name": "Nguyễn Anh Tuấn"},
                {"type": "new_official", "name": "Lê Thị Hoa"},
            ]),
        ),
    );
    for address in ["tuanna.sttt@thanhhoa.gov.vn", "hoalt.sttt@thanhhoa.gov.vn"] {
        ok(
            &server,
            "PUT",
            &format!("/api/v1/accounts/{address}/password"),
            &admin,
            Some(json!({"password": PASSWORD_A})),
        );
    }
    // postmaster@ every local domain, and the bare <Postmaster>, are delivered.
    for rcpt in [
        "<postmaster@thanhhoa.gov.vn>",
        "<Postmaster@THANHHOA.GOV.VN>",
        "<Postmaster>",
    ] {
        let reply = smtp_rcpt(&server, rcpt);
        assert!(reply.starts_with("250"), "{rcpt}: {reply}");
    }

    smtp_deliver(&server, "tuanna.sttt@thanhhoa.gov.vn", "Trước khi chuyển");
    file_and_approve(
        &server,
        &yendinh,
        &admin,
        form(
            "02",
            "yendinh",
            &today(),
            json!([
                {"type": "move_official", "address": "tuanna.sttt@thanhhoa.gov.vn"},
            ]),
        ),
    );
    // Mail to the old address still arrives; the same password opens the same mailbox.
    smtp_deliver(&server, "tuanna.sttt@thanhhoa.gov.vn", "Sau khi chuyển");
    assert_eq!(
        imap_inbox(&server, "tuanna.yendinh@thanhhoa.gov.vn", PASSWORD_A),
        Some(2)
    );

    assert_eq!(
        imap_inbox(&server, "hoalt.sttt@thanhhoa.gov.vn", PASSWORD_A),
        Some(0)
    );
    file_and_approve(
        &server,
        &sttt,
        &admin,
        form(
            "03",
            "sttt",
            &today(),
            json!([
                {"type": "delete_official", "address": "hoalt.sttt@thanhhoa.gov.vn", "reason": "left"},
            ]),
        ),
    );
    assert_eq!(
        imap_inbox(&server, "hoalt.sttt@thanhhoa.gov.vn", PASSWORD_A),
        None,
        "cannot log in"
    );
    let reply = smtp_rcpt(&server, "<hoalt.sttt@thanhhoa.gov.vn>");
    assert!(
        reply.starts_with("550 5.2.1"),
        "kept but disabled during retention: {reply}"
    );

    // Nothing is due now; purging as of 91 days later removes her.
    let purged = ok(
        &server,
        "POST",
        "/api/v1/directory/purge",
        &admin,
        Some(json!({})),
    );
    assert_eq!(purged["purged"], json!([]));
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 91 * 86_400;
    let purged = ok(
        &server,
        "POST",
        "/api/v1/directory/purge",
        &admin,
        Some(json!({"now": later})),
    );
    assert_eq!(purged["purged"], json!(["hoalt.sttt@thanhhoa.gov.vn"]));
    let reply = smtp_rcpt(&server, "<hoalt.sttt@thanhhoa.gov.vn>");
    assert!(reply.starts_with("550 5.1.1"), "{reply}");

    // Her address is never issued again, even to a namesake.
    let again = file_and_approve(
        &server,
        &sttt,
        &admin,
        form(
            "01",
            "sttt",
            &today(),
            json!([{"type": "new_official", "name": "Lê Thị Hoa"}]),
        ),
    );
    let issued = again["results"][0].as_str().unwrap();
    assert!(issued.starts_with("hoalthi.sttt@thanhhoa.gov.vn"), "{issued}");
}

#[test]
fn import_export_and_search_with_the_cli() {
    let server = Server::start();
    let csv = python_ok(
        &server,
        "gen_province.py",
        &strings(&["--officials", "600", "--seed", "7"]),
    );
    let path = server.dir.join("province.csv");
    std::fs::write(&path, &csv).unwrap();
    let file = path.to_str().unwrap();

    // Dry run: every row with its derived address, nothing written.
    let dry = server.cli_ok(&["directory", "import", file], None);
    assert_eq!(dry.lines().count(), 382 + 600, "one line per row");
    assert!(
        dry.contains("\tnew agency\tpvhtt.yendinh@thanhhoa.gov.vn"),
        "{}",
        &dry[..500]
    );
    let exported = server.cli_ok(&["directory", "export", "--format", "csv"], None);
    assert_eq!(exported.lines().count(), 1, "only the header: {exported}");

    let output = server.cli(&["directory", "import", file, "--apply"], None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        summary.contains("382 new agencies, 600 new officials"),
        "{summary}"
    );

    // Idempotent: a second run changes nothing.
    let output = server.cli(&["directory", "import", file, "--apply"], None);
    let summary = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(summary.contains("0 new agencies, 0 new officials"), "{summary}");
    assert!(summary.contains("982 already present"), "{summary}");

    // The export re-imports as a no-op and carries every official.
    let exported = server.cli_ok(&["directory", "export", "--format", "csv"], None);
    assert_eq!(exported.lines().count(), 1 + 382 + 600);
    let again = server.dir.join("export.csv");
    std::fs::write(&again, &exported).unwrap();
    let output = server.cli(&["directory", "import", again.to_str().unwrap()], None);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("0 new agencies, 0 new officials"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let vcard = server.cli_ok(
        &["directory", "export", "--format", "vcard", "--agency", "sttt"],
        None,
    );
    assert!(vcard.starts_with("BEGIN:VCARD\r\nVERSION:4.0"), "{vcard}");
    assert!(vcard.contains("ORG:Sở Thông tin và Truyền thông"));
    let ldif = server.cli_ok(&["directory", "export", "--format", "ldif"], None);
    assert!(
        ldif.contains("dn: ou=sttt,dc=thanhhoa,dc=gov,dc=vn"),
        "{}",
        &ldif[..400]
    );

    // Search without accents finds names with them.
    let found = server.cli_ok(&["directory", "search", "tuan"], None);
    assert!(found.lines().count() > 3, "{found}");
    assert!(found.lines().all(|l| l.contains("Tuấn")), "{found}");
}

#[test]
fn agency_head_delegates_the_agency_mailbox_to_a_clerk() {
    let server = Server::start();
    let (admin, sttt, yendinh) = setup(&server);
    file_and_approve(
        &server,
        &sttt,
        &admin,
        form(
            "01",
            "sttt",
            &today(),
            json!([
                {"type": "new_official", "name": "Trịnh Văn Trưởng", "position": "Giám đốc"},
                {"type": "new_official", "name": "Đỗ Thị Thư", "position": "Văn thư"},
            ]),
        ),
    );
    let head = "truongtv.sttt@thanhhoa.gov.vn";
    ok(
        &server,
        "PUT",
        &format!("/api/v1/accounts/{head}/password"),
        &admin,
        Some(json!({"password": PASSWORD_A})),
    );
    ok(
        &server,
        "PUT",
        &format!("/api/v1/accounts/{head}/role"),
        &admin,
        Some(json!({"role": "head"})),
    );
    let session = ok(
        &server,
        "POST",
        "/api/v1/login",
        "",
        Some(json!({"login": head, "password": PASSWORD_A})),
    );
    let head_token = session["token"].as_str().unwrap().to_owned();

    let grant =
        json!({"agency": "sttt", "delegate": "thudt.sttt@thanhhoa.gov.vn", "document": "QĐ 5/QĐ-STTT"});
    // Only the head (or the administrator) delegates; an operator, or another agency's, may not.
    refused(
        &server,
        "POST",
        "/api/v1/delegations",
        &sttt,
        Some(grant.clone()),
        403,
    );
    refused(
        &server,
        "POST",
        "/api/v1/delegations",
        &yendinh,
        Some(grant.clone()),
        403,
    );
    let granted = ok(&server, "POST", "/api/v1/delegations", &head_token, Some(grant));
    assert_eq!(granted["mailbox_address"], "sttt@thanhhoa.gov.vn");
    assert_eq!(granted["granted_by"], head);
    let grants = ok(
        &server,
        "GET",
        "/api/v1/delegations?delegate=thudt.sttt@thanhhoa.gov.vn",
        &admin,
        None,
    );
    assert_eq!(grants.as_array().unwrap().len(), 1);
    // A clerk of another agency cannot be delegated the mailbox.
    let outsider = json!({"agency": "sttt", "delegate": "hanhht.yendinh@thanhhoa.gov.vn"});
    refused(
        &server,
        "POST",
        "/api/v1/delegations",
        &head_token,
        Some(outsider),
        400,
    );
    ok(
        &server,
        "DELETE",
        "/api/v1/delegations/sttt/thudt.sttt@thanhhoa.gov.vn",
        &head_token,
        None,
    );
    let grants = ok(
        &server,
        "GET",
        "/api/v1/delegations?agency=sttt",
        &head_token,
        None,
    );
    assert_eq!(grants, json!([]));
}
