//! End-to-end: the web console on the public HTTPS listener, driven with curl as a
//! browser would (a cookie jar, forms posted as `application/x-www-form-urlencoded`,
//! no redirect followed so that each answer is seen), and `/metrics` on the admin
//! listener.
//!
//! - Signing in: the session cookie's flags, the sign-in form's CSRF token, wrong
//!   passwords, the strict CSP and the other headers on every page.
//! - An official's pages: the mailbox, the English switch, the directory searched
//!   with decomposed (NFD) Vietnamese, a vCard; a form from another site refused.
//! - Changing the password ends every session of the mailbox, the console's too; the
//!   new password works over IMAP. Disabling an account ends its console session.
//! - The Provincial Office's queue page is refused to an official.
//! - `/metrics` names every figure `docs/operations.md` lists, with values that follow
//!   what the test did.

mod common;

use common::browser::*;
use common::*;
use unicode_normalization::UnicodeNormalization;

#[test]
fn an_official_signs_in_reads_searches_and_changes_the_password() {
    let (server, https) = start_with_https();
    let (_agency, tuan, hoa) = server.provision();
    let browser = Browser::new(&server, https);

    // Not signed in: every page sends to the sign-in form.
    let home = browser.get("/console/");
    assert_eq!(home.status, 303);
    assert_eq!(home.header("location"), "/console/login");
    assert_secure_headers(&home);

    let form = browser.get("/console/login");
    assert_eq!(form.status, 200);
    assert_secure_headers(&form);
    assert_eq!(form.header("cache-control"), "no-store");
    assert!(form.body.contains("<html lang=\"vi\">") && form.body.contains("Đăng nhập"));
    assert_self_contained(&form.body);
    assert_labelled(&form.body);
    let pre = form
        .cookies()
        .iter()
        .find(|c| c.starts_with("__Host-congvu_pre="))
        .expect("pre-session cookie");
    assert!(pre.contains("HttpOnly; Secure; SameSite=Strict"), "{pre}");

    // A form without its token, or posted from another site, is refused.
    let csrf = form.csrf();
    let no_token = browser.post(
        "/console/login",
        &[("csrf", ""), ("login", &tuan), ("password", PASSWORD_A)],
        &[],
    );
    assert_eq!(no_token.status, 403);
    let foreign = browser.post(
        "/console/login",
        &[("csrf", &csrf), ("login", &tuan), ("password", PASSWORD_A)],
        &["-H", "Origin: https://evil.example"],
    );
    assert_eq!(foreign.status, 403);
    let wrong = browser.post(
        "/console/login",
        &[("csrf", &csrf), ("login", &tuan), ("password", "sai mật khẩu")],
        &[],
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Sai địa chỉ hoặc mật khẩu"), "{}", wrong.body);

    let signed_in = browser.sign_in(&tuan, PASSWORD_A);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), "/console/");
    let session = signed_in
        .cookies()
        .iter()
        .find(|c| c.starts_with("__Host-congvu_session="))
        .expect("session cookie");
    for flag in ["Path=/", "HttpOnly", "Secure", "SameSite=Strict", "Max-Age=28800"] {
        assert!(session.contains(flag), "{flag}: {session}");
    }

    let home = browser.get("/console/");
    assert_eq!(home.status, 200, "{}", home.body);
    assert_secure_headers(&home);
    assert_self_contained(&home.body);
    assert_labelled(&home.body);
    for text in [
        "Hộp thư của tôi",
        tuan.as_str(),
        "Nguyễn Anh Tuấn",
        "Sở Thông tin",
        "0B / 100MB (0%)",
    ] {
        assert!(home.body.contains(text), "{text} in\n{}", home.body);
    }
    assert!(
        !home.body.contains("/console/queue"),
        "an official's bar has no queue"
    );
    assert_eq!(browser.get("/console/queue").status, 403);

    // The English switch, and back.
    let csrf = home.csrf();
    let switched = browser.post(
        "/console/lang",
        &[("csrf", &csrf), ("lang", "en"), ("back", "/console/")],
        &[],
    );
    assert_eq!(switched.status, 303);
    let english = browser.get("/console/");
    assert!(english.body.contains("<html lang=\"en\">") && english.body.contains("My mailbox"));
    let off_site = browser.post(
        "/console/lang",
        &[("csrf", &csrf), ("lang", "vi"), ("back", "https://evil.example/")],
        &[],
    );
    assert_eq!(off_site.header("location"), "/console/", "never an open redirect");

    // The directory, searched in decomposed Vietnamese, and a vCard.
    let nfd: String = "Lê Thị Hoa".nfd().collect();
    let query: String = nfd.bytes().map(|b| format!("%{b:02X}")).collect();
    let found = browser.get(&format!("/console/directory?q={query}"));
    assert_eq!(found.status, 200);
    assert!(found.body.contains(&hoa), "{}", found.body);
    assert!(!found.body.contains(&format!(">{tuan}<")), "only Hoa matches");
    assert!(
        found.body.contains("Sở Thông tin và Truyền thông"),
        "the agency tree"
    );
    let card = browser.get(&format!("/console/directory/vcard/{hoa}"));
    assert_eq!(card.status, 200);
    assert!(card.header("content-disposition").starts_with("attachment"));
    assert!(
        card.body.starts_with("BEGIN:VCARD") && card.body.contains("FN:Lê Thị Hoa"),
        "{}",
        card.body
    );

    // Static files of our own.
    let css = browser.get("/console/static/console.css");
    assert_eq!(
        (css.status, css.header("content-type")),
        (200, "text/css; charset=utf-8")
    );
    assert_eq!(browser.get("/console/static/../../etc/passwd").status, 404);

    // The password: checked, confirmed, then every session of the mailbox ends.
    let page = browser.get("/console/password");
    let csrf = page.csrf();
    // ASCII: imaplib sends LOGIN in ASCII only.
    let new_password = "Mat-khau-moi-cua-Tuan-2026";
    let mismatch = browser.post(
        "/console/password",
        &[
            ("csrf", &csrf),
            ("current", PASSWORD_A),
            ("new", new_password),
            ("again", "khác"),
        ],
        &[],
    );
    assert_eq!(mismatch.status, 400);
    let short = browser.post(
        "/console/password",
        &[
            ("csrf", &csrf),
            ("current", PASSWORD_A),
            ("new", "ngắn"),
            ("again", "ngắn"),
        ],
        &[],
    );
    assert_eq!(short.status, 400);
    assert!(
        short.body.contains("Mật khẩu mới không dùng được"),
        "{}",
        short.body
    );
    let wrong = browser.post(
        "/console/password",
        &[
            ("csrf", &csrf),
            ("current", "không đúng"),
            ("new", new_password),
            ("again", new_password),
        ],
        &[],
    );
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("Mật khẩu hiện tại không đúng"),
        "{}",
        wrong.body
    );
    let api_session = admin_post_login(&server, &tuan, PASSWORD_A);
    let changed = browser.post(
        "/console/password",
        &[
            ("csrf", &csrf),
            ("current", PASSWORD_A),
            ("new", new_password),
            ("again", new_password),
        ],
        &[],
    );
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(changed.header("location"), "/console/login?done=password");
    assert_eq!(browser.get("/console/").status, 303, "the console session ended");
    assert_eq!(
        admin_call(&server, "/api/v1/directory/search?q=hoa", &api_session).0,
        401,
        "the API session ended too"
    );
    // The new password works over IMAP (imaplib).
    imap_client(&server, "ids", &tuan, new_password, &["--mailbox", "INBOX"]);

    // Disabling an account ends its console session.
    let other = Browser::new(&server, https);
    assert_eq!(other.sign_in(&hoa, PASSWORD_B).status, 303);
    assert_eq!(other.get("/console/").status, 200);
    server.cli_ok(&["directory", "disable", &hoa], None);
    assert_eq!(other.get("/console/").status, 303, "disabled: signed out");
    assert_eq!(other.sign_in(&hoa, PASSWORD_B).status, 401);
}

/// `POST /api/v1/login`: an API session token of the official.
fn admin_post_login(server: &Server, login: &str, password: &str) -> String {
    let body = serde_json::json!({"login": login, "password": password});
    let output = run(
        "curl",
        &[
            "-sS",
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
            &format!("http://127.0.0.1:{}/api/v1/login", server.ports.admin),
        ],
    );
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("login answer");
    answer["token"].as_str().expect("a session token").to_owned()
}

/// The value of one series in a scrape (`name{labels} value`).
fn series(scrape: &str, name_and_labels: &str) -> u64 {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name_and_labels} in\n{scrape}"))
        .parse()
        .unwrap()
}

#[test]
fn metrics_name_every_documented_figure() {
    let server = Server::start();
    let (_agency, tuan, hoa) = server.provision();
    submit(&server, &tuan, PASSWORD_A, &tuan, &hoa, &[]);
    imap_client(&server, "ids", &hoa, PASSWORD_B, &["--mailbox", "INBOX"]);
    let refused = run(
        "curl",
        &[
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Content-Type: application/json",
            "-d",
            &serde_json::json!({"login": tuan, "password": "sai mật khẩu"}).to_string(),
            &format!("http://127.0.0.1:{}/api/v1/login", server.ports.admin),
        ],
    );
    assert_eq!(String::from_utf8_lossy(&refused.stdout), "401");
    let output = run(
        "curl",
        &[
            "-sS",
            "-i",
            &format!("http://127.0.0.1:{}/metrics", server.ports.admin),
        ],
    );
    let scrape = String::from_utf8(output.stdout).unwrap();
    assert!(
        scrape.contains("content-type: application/openmetrics-text"),
        "{scrape}"
    );
    assert!(scrape.trim_end().ends_with("# EOF"));

    let operations = std::fs::read_to_string(repo_root().join("docs/operations.md")).unwrap();
    let documented: Vec<&str> = operations
        .split('`')
        .filter(|word| {
            word.starts_with("congvu_") && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .collect();
    assert!(documented.len() >= 20, "{documented:?}");
    for name in &documented {
        assert!(
            scrape.contains(&format!("# TYPE {name} ")),
            "{name} documented but not served"
        );
    }
    for line in scrape.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(
            documented.contains(&name),
            "{name} served but not in docs/operations.md"
        );
    }

    assert_eq!(
        series(&scrape, "congvu_messages_received_total{listener=\"submission\"}"),
        1
    );
    assert!(
        series(
            &scrape,
            "congvu_message_bytes_received_total{listener=\"submission\"}"
        ) > 100
    );
    assert!(series(&scrape, "congvu_connections_total{listener=\"imaps\"}") >= 1);
    assert!(series(&scrape, "congvu_logins_total{result=\"failed\"}") >= 1);
    assert!(series(&scrape, "congvu_logins_total{result=\"succeeded\"}") >= 1);
    assert_eq!(series(&scrape, "congvu_store_accounts"), 3);
    assert_eq!(series(&scrape, "congvu_queue_messages"), 0);
    assert_eq!(
        series(&scrape, "congvu_policy_messages_total{result=\"accepted\"}"),
        1
    );
    assert!(series(&scrape, "congvu_data_disk_free_bytes") > 0);
}

/// An administrator of the Provincial Office (in agency `sttt`), with `password`.
fn administrator(server: &Server, password: &str) -> String {
    let address = server.cli_ok(
        &["account", "add", "--agency", "sttt", "--name", "Trần Quản Trị"],
        None,
    );
    server.cli_ok(&["directory", "role", &address, "administrator"], None);
    server.cli_ok(
        &["account", "passwd", &address, "--password-stdin"],
        Some(&format!("{password}\n")),
    );
    address
}

#[test]
fn a_clerk_files_form_01_with_live_addresses_and_the_office_approves_it() {
    let (server, https) = start_with_https();
    let (_agency, tuan, _hoa) = server.provision();
    server.cli_ok(&["directory", "role", &tuan, "operator"], None);
    server.cli_ok(
        &["agency", "add", "yendinh", "--name", "UBND huyện Yên Định"],
        None,
    );
    let admin_password = "mat-khau-Quan-Tri-2026";
    let admin = administrator(&server, admin_password);

    let clerk = Browser::new(&server, https);
    assert_eq!(clerk.sign_in(&tuan, PASSWORD_A).status, 303);
    let form = clerk.get("/console/requests/new?form=01");
    assert_eq!(form.status, 200, "{}", form.body);
    assert_self_contained(&form.body);
    assert_labelled(&form.body);
    assert!(
        form.body.contains("data-derive=\"line-0-derived\""),
        "live preview hook"
    );
    assert!(form.body.contains("<option value=\"sttt\""), "own agency offered");
    assert!(
        !form.body.contains("<option value=\"yendinh\""),
        "another agency is not"
    );

    // The live preview: a free address, a collision with its alternatives, and no
    // preview for another agency.
    let fresh: serde_json::Value = serde_json::from_str(
        &clerk
            .get("/console/requests/derive?agency=sttt&name=V%C5%A9%20%C4%90%E1%BB%A9c%20%C4%90am")
            .body,
    )
    .unwrap();
    assert_eq!(fresh["collision"], false, "{fresh}");
    assert_eq!(fresh["text"], "→ damvd.sttt@thanhhoa.gov.vn");
    let taken: serde_json::Value = serde_json::from_str(
        &clerk
            .get("/console/requests/derive?agency=sttt&name=Nguy%E1%BB%85n%20Anh%20Tu%E1%BA%A5n")
            .body,
    )
    .unwrap();
    assert_eq!(taken["collision"], true, "{taken}");
    assert!(
        taken["text"]
            .as_str()
            .unwrap()
            .contains("tuanna.sttt@thanhhoa.gov.vn"),
        "{taken}"
    );
    assert_eq!(
        clerk.get("/console/requests/derive?agency=yendinh&name=A").status,
        403
    );

    // Bad input comes back on the form, in Vietnamese first.
    let csrf = form.csrf();
    let bad = clerk.post(
        "/console/requests/new",
        &[
            ("csrf", &csrf),
            ("form", "01"),
            ("agency", "sttt"),
            ("requester", "Nguyễn Anh Tuấn"),
            ("effective_date", "2026-02-30"),
            ("line.0.type", "new_official"),
            ("line.0.name", "Vũ Đức Đam"),
        ],
        &[],
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("Chưa lưu được bản nháp") && bad.body.contains("2026-02-30"),
        "{}",
        bad.body
    );

    let filed = clerk.post(
        "/console/requests/new",
        &[
            ("csrf", &csrf),
            ("form", "01"),
            ("agency", "sttt"),
            ("requester", "Nguyễn Anh Tuấn"),
            ("requester_position", "Văn thư"),
            ("effective_date", "2026-12-01"),
            ("line.0.type", "new_official"),
            ("line.0.name", "Vũ Đức Đam"),
            ("line.0.position", "Chuyên viên"),
            ("line.1.type", "new_official"),
            ("line.1.name", ""),
            // A namesake of the clerk, told apart by the person id: a collision.
            ("line.2.type", "new_official"),
            ("line.2.name", "Nguyễn Anh Tuấn"),
            ("line.2.person_id", "038090001234"),
        ],
        &[],
    );
    assert_eq!(filed.status, 303, "{}", filed.body);
    let location = filed.header("location").to_owned();
    assert!(location.ends_with("?done=filed"), "{location}");
    let path = location.trim_end_matches("?done=filed").to_owned();
    let draft = clerk.get(&location);
    assert!(
        draft.body.contains("bản nháp") && draft.body.contains("Vũ Đức Đam, Chuyên viên"),
        "{}",
        draft.body
    );
    assert_self_contained(&draft.body);
    assert_labelled(&draft.body);

    let csrf = draft.csrf();
    assert_eq!(
        clerk
            .post(&format!("{path}/submit"), &[("csrf", &csrf)], &[])
            .status,
        303
    );
    assert!(clerk.get(&path).body.contains("đã gửi, chờ duyệt"));
    assert_eq!(
        clerk
            .post(&format!("{path}/approve"), &[("csrf", &csrf)], &[])
            .status,
        403,
        "a clerk does not approve"
    );
    let print = clerk.get(&format!("{path}/print"));
    assert_eq!(print.status, 200);
    assert!(print.body.contains("PHIẾU YÊU CẦU") && print.body.contains("Vũ Đức Đam"));
    let csp = print.header("content-security-policy");
    assert!(
        csp.contains("style-src 'sha256-") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!print.body.contains("style=\""), "only the hashed style block");

    let office = Browser::new(&server, https);
    assert_eq!(office.sign_in(&admin, admin_password).status, 303);
    let submitted = office.get(&path);
    assert!(submitted.body.contains("Phê duyệt"), "{}", submitted.body);
    assert_labelled(&submitted.body);
    // The collision: the office sees the alternatives and picks the second one.
    let pick_form = submitted
        .body
        .split("/lines/2/address")
        .nth(1)
        .expect("a pick form for line 2");
    let alternatives: Vec<&str> = pick_form
        .split("<option value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .take_while(|a| a.contains('@'))
        .collect();
    assert!(alternatives.len() >= 2, "{alternatives:?}");
    assert!(
        !alternatives.contains(&tuan.as_str()),
        "the taken address is not offered"
    );
    let chosen = alternatives[1].to_owned();
    let csrf = submitted.csrf();
    let picked = office.post(
        &format!("{path}/lines/2/address"),
        &[("csrf", &csrf), ("address", &chosen)],
        &[],
    );
    assert_eq!(picked.status, 303, "{}", picked.body);
    let not_proposed = office.post(
        &format!("{path}/lines/2/address"),
        &[("csrf", &csrf), ("address", "lethihoa.sttt@thanhhoa.gov.vn")],
        &[],
    );
    assert_eq!(not_proposed.status, 400, "{}", not_proposed.body);
    assert!(office.get(&path).body.contains(&chosen), "the pick shows");
    let approved = office.post(&format!("{path}/approve"), &[("csrf", &csrf)], &[]);
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert!(office.get(&path).body.contains("đã thực hiện"));
    let accounts = server.cli_ok(&["account", "list", "--agency", "sttt"], None);
    assert!(accounts.contains("damvd.sttt@thanhhoa.gov.vn"), "{accounts}");
    assert!(
        accounts.contains(&chosen),
        "the picked address was issued: {accounts}"
    );
}

#[test]
fn the_head_delegates_the_agency_mailbox_with_its_written_authorisation() {
    let (server, https) = start_with_https();
    let (agency, tuan, hoa) = server.provision();
    server.cli_ok(&["directory", "role", &tuan, "head"], None);
    server.cli_ok(&["directory", "role", &hoa, "operator"], None);

    let head = Browser::new(&server, https);
    assert_eq!(head.sign_in(&tuan, PASSWORD_A).status, 303);
    let page = head.get("/console/delegations");
    assert_eq!(page.status, 200, "{}", page.body);
    assert_self_contained(&page.body);
    assert_labelled(&page.body);
    assert!(page.body.contains(&agency) && page.body.contains("Chưa ủy quyền cho ai"));
    let csrf = page.csrf();
    let without_document = head.post(
        "/console/delegations",
        &[
            ("csrf", &csrf),
            ("agency", "sttt"),
            ("delegate", &hoa),
            ("document", " "),
            ("rights", "lrswipkxte"),
        ],
        &[],
    );
    assert_eq!(without_document.status, 400);
    let granted = head.post(
        "/console/delegations",
        &[
            ("csrf", &csrf),
            ("agency", "sttt"),
            ("delegate", &hoa),
            ("document", "Giấy ủy quyền số 12/GUQ-STTTT ngày 01/12/2026"),
            ("rights", "lrswipkxte"),
            ("send_as", "true"),
        ],
        &[],
    );
    assert_eq!(granted.status, 303, "{}", granted.body);
    let listed = head.get("/console/delegations");
    assert!(listed.body.contains("Giấy ủy quyền số 12/GUQ-STTTT") && listed.body.contains(&hoa));
    let grants = admin_get(&server, "/api/v1/delegations?agency=sttt");
    assert_eq!(
        grants[0]["document"], "Giấy ủy quyền số 12/GUQ-STTTT ngày 01/12/2026",
        "{grants}"
    );

    // The clerk sees it, on the list and on their own mailbox page, but grants nothing.
    let clerk = Browser::new(&server, https);
    assert_eq!(clerk.sign_in(&hoa, PASSWORD_B).status, 303);
    let seen = clerk.get("/console/delegations");
    assert!(seen.body.contains("Giấy ủy quyền số 12/GUQ-STTTT") && !seen.body.contains("name=\"document\""));
    assert!(
        clerk.get("/console/").body.contains(&agency),
        "the delegated mailbox on the clerk's page"
    );
    let csrf = seen.csrf();
    let refused = clerk.post(
        "/console/delegations",
        &[
            ("csrf", &csrf),
            ("agency", "sttt"),
            ("delegate", &hoa),
            ("document", "x"),
            ("rights", "lrs"),
        ],
        &[],
    );
    assert_eq!(refused.status, 403);

    let csrf = listed.csrf();
    let revoked = head.post(
        "/console/delegations/revoke",
        &[("csrf", &csrf), ("agency", "sttt"), ("delegate", &hoa)],
        &[],
    );
    assert_eq!(revoked.status, 303);
    assert_eq!(
        admin_get(&server, "/api/v1/delegations?agency=sttt"),
        serde_json::json!([])
    );
}

#[test]
fn clerks_and_heads_read_their_agencys_reports_in_the_console() {
    let (server, https) = start_with_https();
    let (_agency, tuan, hoa) = server.provision();
    server.cli_ok(&["directory", "role", &tuan, "operator"], None);
    let clerk = Browser::new(&server, https);
    assert_eq!(clerk.sign_in(&tuan, PASSWORD_A).status, 303);
    let form = clerk.get("/console/reports");
    assert_eq!(form.status, 200);
    assert_self_contained(&form.body);
    assert_labelled(&form.body);
    assert!(!form.body.contains("value=\"usage\""), "usage is the head's");
    let today = (chrono::Utc::now() + chrono::Duration::hours(7))
        .date_naive()
        .to_string();
    let checks = clerk.get(&format!(
        "/console/reports/view?kind=checks&from={today}&to={today}"
    ));
    assert_eq!(checks.status, 200, "{}", checks.body);
    assert!(
        checks.body.contains("sttt") && !checks.body.contains("<script"),
        "{}",
        checks.body
    );
    let csp = checks.header("content-security-policy");
    assert!(
        csp.contains("style-src 'sha256-") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let acks = clerk.get("/console/reports/view?kind=acknowledgements");
    assert_eq!(acks.status, 200, "{}", acks.body);
    let other = clerk.get(&format!(
        "/console/reports/view?kind=checks&from={today}&to={today}&agency=yendinh"
    ));
    assert_eq!(other.status, 403, "{}", other.body);
    let usage = clerk.get(&format!(
        "/console/reports/view?kind=usage&from={today}&to={today}"
    ));
    assert_eq!(usage.status, 403, "{}", usage.body);
    let reversed = clerk.get("/console/reports/view?kind=checks&from=2026-03-02&to=2026-03-01");
    assert_eq!(reversed.status, 400);

    let official = Browser::new(&server, https);
    assert_eq!(official.sign_in(&hoa, PASSWORD_B).status, 303);
    assert_eq!(official.get("/console/reports").status, 403);
}

/// The audit entries about `subject`, as (actor, action, detail), oldest first.
fn audit_of(server: &Server, subject: &str) -> Vec<(String, String, String)> {
    let entries = admin_get(server, "/api/v1/audit?limit=1000");
    entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == subject)
        .map(|e| {
            let text = |key: &str| e[key].as_str().unwrap_or_default().to_owned();
            (text("actor"), text("action"), text("detail"))
        })
        .collect()
}

/// Only what the actor did, for comparing two doors to the same operation.
fn actions(entries: &[(String, String, String)]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|(_, action, detail)| (action.clone(), detail.clone()))
        .collect()
}

/// Must show 2 of issue 15: every console action writes the audit record its CLI
/// counterpart writes (the console calls the admin API's own handlers, as the CLI
/// does), with the console's signed-in official as the actor.
#[test]
fn console_actions_write_the_audit_records_of_their_cli_counterparts() {
    let (server, https) = start_with_https();
    let (agency, tuan, hoa) = server.provision();
    server.cli_ok(&["directory", "role", &tuan, "head"], None);
    let admin_password = "mat-khau-Quan-Tri-2026";
    let admin = administrator(&server, admin_password);
    let office = Browser::new(&server, https);
    assert_eq!(office.sign_in(&admin, admin_password).status, 303);
    let head = Browser::new(&server, https);
    assert_eq!(head.sign_in(&tuan, PASSWORD_A).status, 303);

    // Forms: the head files and submits, the office approves — in the console; the
    // same through the CLI (`request file --submit`, `request approve`).
    let form = head.get("/console/requests/new?form=01");
    let csrf = form.csrf();
    let filed = head.post(
        "/console/requests/new",
        &[
            ("csrf", &csrf),
            ("form", "01"),
            ("agency", "sttt"),
            ("requester", "Nguyễn Anh Tuấn"),
            ("effective_date", "2026-12-01"),
            ("line.0.type", "new_official"),
            ("line.0.name", "Vũ Đức Đam"),
        ],
        &[],
    );
    let path = filed
        .header("location")
        .trim_end_matches("?done=filed")
        .to_owned();
    assert_eq!(
        head.post(&format!("{path}/submit"), &[("csrf", &csrf)], &[])
            .status,
        303
    );
    let csrf = office.get(&path).csrf();
    assert_eq!(
        office
            .post(&format!("{path}/approve"), &[("csrf", &csrf)], &[])
            .status,
        303
    );
    let console_id = path.rsplit('/').next().unwrap().to_owned();

    let work = tempfile::tempdir().unwrap();
    let json = work.path().join("form.json");
    std::fs::write(
        &json,
        serde_json::json!({
            "form": "01", "agency": "sttt", "requester": {"name": "Nguyễn Anh Tuấn"},
            "effective_date": "2026-12-01",
            "lines": [{"type": "new_official", "name": "Trịnh Văn Quyết"}],
        })
        .to_string(),
    )
    .unwrap();
    let printed = server.cli_ok(&["request", "file", json.to_str().unwrap(), "--submit"], None);
    let cli_request: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let cli_id = cli_request["id"].to_string();
    server.cli_ok(&["request", "approve", &cli_id], None);
    let by_console = audit_of(&server, &format!("request {console_id}"));
    let by_cli = audit_of(&server, &format!("request {cli_id}"));
    assert_eq!(actions(&by_console), actions(&by_cli), "requests");
    let console_actors: Vec<&str> = by_console.iter().map(|(actor, _, _)| actor.as_str()).collect();
    assert_eq!(console_actors, [tuan.as_str(), tuan.as_str(), admin.as_str()]);
    let created = |name: &str| {
        let entries = admin_get(&server, "/api/v1/audit?limit=1000");
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "create_official" && e["detail"] == name)
            .map(|e| e["actor"].as_str().unwrap().to_owned())
            .expect("create_official recorded")
    };
    assert_eq!(
        (created("Vũ Đức Đam"), created("Trịnh Văn Quyết")),
        (admin.clone(), "admin".to_owned())
    );

    // Delegation: granted and revoked by the head in the console, then by the CLI.
    let csrf = head.get("/console/delegations").csrf();
    let document = "Giấy ủy quyền số 12/GUQ-STTTT";
    head.post(
        "/console/delegations",
        &[
            ("csrf", &csrf),
            ("agency", "sttt"),
            ("delegate", &hoa),
            ("document", document),
            ("rights", "lrswipkxte"),
            ("send_as", "true"),
        ],
        &[],
    );
    head.post(
        "/console/delegations/revoke",
        &[("csrf", &csrf), ("agency", "sttt"), ("delegate", &hoa)],
        &[],
    );
    // Recorded about the agency mailbox, naming the clerk.
    let console_grants = audit_of(&server, &agency);
    server.cli_ok(
        &["directory", "delegate", "sttt", &hoa, "--document", document],
        None,
    );
    server.cli_ok(&["directory", "delegate", "sttt", &hoa, "--revoke"], None);
    let all_grants = audit_of(&server, &agency);
    let (console_part, cli_part) = all_grants.split_at(console_grants.len());
    let console_part: Vec<_> = console_part
        .iter()
        .filter(|e| e.1.ends_with("_delegation"))
        .cloned()
        .collect();
    assert_eq!(
        actions(&console_part),
        actions(cli_part),
        "delegations: {all_grants:?}"
    );
    assert_eq!(console_part.len(), 2, "{all_grants:?}");
    assert!(
        console_part.iter().all(|(actor, _, _)| actor == &tuan),
        "{console_part:?}"
    );

    // The outbound queue: two messages to the Internet wait (delivery is off in tests);
    // the office retries and drops one in the console, the CLI the other.
    for n in 0..2 {
        submit(
            &server,
            &hoa,
            PASSWORD_B,
            &hoa,
            &format!("nguoi{n}@example.org"),
            &[],
        );
    }
    let queue = admin_get(&server, "/api/v1/queue");
    let ids: Vec<String> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{queue}");
    let csrf = office.get("/console/queue").csrf();
    for action in ["retry", "delete"] {
        let done = office.post(
            &format!("/console/queue/{}/{action}", ids[0]),
            &[("csrf", &csrf)],
            &[],
        );
        assert_eq!(done.status, 303, "{}", done.body);
        server.cli_ok(&["queue", action, &ids[1]], None);
    }
    let by_console = audit_of(&server, &format!("queue {}", ids[0]));
    let by_cli = audit_of(&server, &format!("queue {}", ids[1]));
    assert_eq!(by_console.len(), 2, "{by_console:?}");
    let shape = |entries: &[(String, String, String)]| -> Vec<String> {
        entries
            .iter()
            .map(|(_, action, detail)| format!("{action} {}", detail.split(" → ").next().unwrap_or("")))
            .collect()
    };
    assert_eq!(shape(&by_console), shape(&by_cli), "queue");
    assert_eq!(by_console[0].0, admin);

    // Accounts: a quota and a disable/enable by the office in the console on Hoa, by
    // the CLI on a new colleague.
    let colleague = server.cli_ok(
        &["account", "add", "--agency", "sttt", "--name", "Đỗ Thị Thư"],
        None,
    );
    let csrf = office.get("/console/accounts?q=hoa").csrf();
    for (what, field, value) in [
        ("quota", "quota", "300MB"),
        ("disabled", "disabled", "true"),
        ("disabled", "disabled", "false"),
    ] {
        let done = office.post(
            &format!("/console/accounts/{what}"),
            &[("csrf", &csrf), ("address", &hoa), ("q", "hoa"), (field, value)],
            &[],
        );
        assert_eq!(done.status, 303, "{what}: {}", done.body);
    }
    server.cli_ok(&["account", "quota", &colleague, "300MB"], None);
    server.cli_ok(&["directory", "disable", &colleague], None);
    server.cli_ok(&["directory", "disable", &colleague, "--enable"], None);
    let account_acts = |subject: &str| -> Vec<(String, String, String)> {
        audit_of(&server, subject)
            .into_iter()
            .filter(|e| ["set_quota", "disable", "enable"].contains(&e.1.as_str()))
            .collect()
    };
    let (by_console, by_cli) = (account_acts(&hoa), account_acts(&colleague));
    assert_eq!(actions(&by_console), actions(&by_cli), "accounts");
    assert_eq!(by_console.len(), 3, "{by_console:?}");
    assert!(
        by_console.iter().all(|(actor, _, _)| actor == &admin),
        "{by_console:?}"
    );

    // A password: the official's own change in the console is audited as the CLI's
    // reset is (set_password), by whoever did it.
    let csrf = head.get("/console/password").csrf();
    let changed = head.post(
        "/console/password",
        &[
            ("csrf", &csrf),
            ("current", PASSWORD_A),
            ("new", "Mat-khau-moi-2026"),
            ("again", "Mat-khau-moi-2026"),
        ],
        &[],
    );
    assert_eq!(changed.status, 303);
    server.cli_ok(
        &["account", "passwd", &hoa, "--password-stdin"],
        Some("Mat-khau-khac-2026\n"),
    );
    let own: Vec<(String, String, String)> = audit_of(&server, &tuan)
        .into_iter()
        .filter(|e| e.1 == "set_password")
        .collect();
    let reset: Vec<(String, String, String)> = audit_of(&server, &hoa)
        .into_iter()
        .filter(|e| e.1 == "set_password")
        .collect();
    assert_eq!(own.last().map(|e| e.0.as_str()), Some(tuan.as_str()), "{own:?}");
    assert_eq!(reset.last().map(|e| e.0.as_str()), Some("admin"), "{reset:?}");
}

#[test]
fn the_office_manages_accounts_and_reads_the_audit_log_dashboard_and_backups() {
    let (server, https) = start_with_https();
    let (_agency, tuan, hoa) = server.provision();
    let admin_password = "mat-khau-Quan-Tri-2026";
    let admin = administrator(&server, admin_password);
    // One message delivered, one refused by the policy (an English subject).
    submit(&server, &tuan, PASSWORD_A, &tuan, &hoa, &[]);
    let refused = submit(
        &server,
        &tuan,
        PASSWORD_A,
        &tuan,
        &hoa,
        &["--subject", "Meeting invitation for Monday"],
    );
    assert_eq!(refused["code"], 550, "{refused}");

    let official = Browser::new(&server, https);
    assert_eq!(official.sign_in(&hoa, PASSWORD_B).status, 303);
    let csrf = official.get("/console/").csrf();
    for page in [
        "/console/accounts",
        "/console/audit",
        "/console/dashboard",
        "/console/backups",
    ] {
        assert_eq!(official.get(page).status, 403, "{page}");
    }
    assert_eq!(
        official
            .post(
                "/console/accounts/quota",
                &[("csrf", &csrf), ("address", &hoa), ("quota", "1GB")],
                &[]
            )
            .status,
        403
    );

    let office = Browser::new(&server, https);
    assert_eq!(office.sign_in(&admin, admin_password).status, 303);
    let found = office.get("/console/accounts?q=hoa");
    assert_eq!(found.status, 200);
    assert_self_contained(&found.body);
    assert_labelled(&found.body);
    assert!(found.body.contains(&hoa), "{}", found.body);
    let csrf = found.csrf();
    let quota = office.post(
        "/console/accounts/quota",
        &[
            ("csrf", &csrf),
            ("address", &hoa),
            ("q", "hoa"),
            ("quota", "250MB"),
        ],
        &[],
    );
    assert_eq!(quota.status, 303, "{}", quota.body);
    assert_eq!(
        admin_get(&server, &format!("/api/v1/accounts/{hoa}"))["quota_bytes"],
        250u64 << 20
    );
    let bad = office.post(
        "/console/accounts/quota",
        &[("csrf", &csrf), ("address", &hoa), ("q", "hoa"), ("quota", "abc")],
        &[],
    );
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("Không thực hiện được") && bad.body.contains("abc"),
        "{}",
        bad.body
    );
    let reset = office.post(
        "/console/accounts/password",
        &[
            ("csrf", &csrf),
            ("address", &hoa),
            ("q", "hoa"),
            ("password", "Mat-khau-dat-lai-2026"),
        ],
        &[],
    );
    assert_eq!(reset.status, 303);
    imap_client(
        &server,
        "ids",
        &hoa,
        "Mat-khau-dat-lai-2026",
        &["--mailbox", "INBOX"],
    );
    let disabled = office.post(
        "/console/accounts/disabled",
        &[
            ("csrf", &csrf),
            ("address", &hoa),
            ("q", "hoa"),
            ("disabled", "true"),
        ],
        &[],
    );
    assert_eq!(disabled.status, 303);
    assert_eq!(
        admin_get(&server, &format!("/api/v1/accounts/{hoa}"))["disabled"],
        true
    );

    // The audit log names the office's acts; the refusal is listed with its rule.
    let audit = office.get("/console/audit?q=hoalt");
    assert_eq!(audit.status, 200);
    assert_self_contained(&audit.body);
    for action in ["set_quota", "set_password", "disable"] {
        assert!(
            audit.body.contains(&format!("<td>{action}</td>")),
            "{action}: {}",
            audit.body
        );
    }
    let refusals = office.get("/console/audit?q=subject");
    assert!(
        refusals.body.contains("subject_not_vietnamese"),
        "{}",
        refusals.body
    );
    assert!(!refusals.body.contains("<td>set_quota</td>"), "filtered");

    let dashboard = office.get("/console/dashboard");
    assert_eq!(dashboard.status, 200);
    assert_self_contained(&dashboard.body);
    assert!(
        dashboard.body.contains("<svg") && dashboard.body.contains("<rect"),
        "{}",
        dashboard.body
    );
    assert!(
        dashboard.body.contains("subject_not_vietnamese: 1"),
        "the refusal's bar"
    );

    let backups = office.get("/console/backups");
    assert_eq!(backups.status, 200);
    assert_self_contained(&backups.body);
    // No [backup] dir in the test configuration: the API's refusal, in its words.
    let now = office.post("/console/backups", &[("csrf", &backups.csrf())], &[]);
    assert_eq!(now.status, 400, "{}", now.body);
}
