//! The webmail at `/` over real HTTPS with curl, against a real server, checked
//! against what real IMAP and SMTP clients (imaplib, smtplib) see of the same
//! mailboxes: one store, one truth.
//!
//! - Sign-in lands on the webmail; the INBOX lists mail delivered by smtplib, with
//!   its Vietnamese subject; the message reads with its attachment, which downloads
//!   as `attachment` with `nosniff`, byte for byte; reading marks it `\Seen` for IMAP.
//! - The policy's verdict comes before sending: an English subject gets the policy's
//!   own Vietnamese words; a Vietnamese one goes through the submission path and
//!   reaches the recipient over IMAP with its attachment byte for byte, with a copy in
//!   Sent and `\Answered` on the original.
//! - A flag set on the page is IMAP's `\Flagged`; a draft lands in Drafts; folders are
//!   created, renamed and deleted; search ignores accents; pages are self-contained
//!   and every form control is labelled.
//! - The page's event stream starts from the HIGHESTMODSEQ the page showed: mail
//!   delivered before the stream opened is announced at once, and a reconnection
//!   with `Last-Event-ID` is told nothing it has seen.

mod common;

use common::browser::{Browser, assert_labelled, assert_self_contained};
use common::*;
use serde_json::Value;

const WEBMAIL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in page"))
        + start.len();
    let to = text[from..].find(end).unwrap() + from;
    &text[from..to]
}

fn state_of(server: &Server, user: &str, password: &str) -> Value {
    imap_client(server, "state", user, password, &[])
}

fn flags(state: &Value, mailbox: &str, uid: u64) -> Vec<String> {
    state[mailbox]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["uid"] == uid)
        .unwrap_or_else(|| panic!("uid {uid} in {mailbox}: {state}"))["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_official_reads_answers_flags_and_files_mail_in_the_webmail() {
    let (server, https) = start_with_https();
    let (_agency, tuan, hoa) = server.provision();
    let scratch = tempfile::tempdir().unwrap();
    let attachment = scratch.path().join("Báo cáo quý.pdf");
    std::fs::write(&attachment, small_pdf(3000)).unwrap();
    let sent = submit(
        &server,
        &tuan,
        PASSWORD_A,
        &tuan,
        &hoa,
        &[
            "--subject",
            "Công văn số 12 về lịch họp",
            "--attach",
            attachment.to_str().unwrap(),
        ],
    );
    assert_eq!(sent["ok"], true, "{sent}");

    let browser = Browser::new(&server, https);
    // A page of the webmail without a session goes to the sign-in, which comes back.
    let anonymous = browser.get("/");
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header("location"), "/console/login?next=/");
    let form = browser.get("/console/login?next=/");
    assert!(form.body.contains("name=\"next\" value=\"/\""));
    let csrf = form.csrf();
    let signed_in = browser.post(
        "/console/login",
        &[
            ("csrf", &csrf),
            ("login", &hoa),
            ("password", PASSWORD_B),
            ("next", "/"),
        ],
        &[],
    );
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), "/");

    let inbox = browser.get("/");
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert_eq!(inbox.header("content-security-policy"), WEBMAIL_CSP);
    assert_eq!(inbox.header("x-frame-options"), "DENY");
    assert!(
        inbox.body.contains("Công văn số 12 về lịch họp"),
        "{}",
        inbox.body
    );
    assert!(inbox.body.contains(tuan.as_str()));
    assert!(inbox.body.contains("class=\"unread\""));
    assert_self_contained(&inbox.body);
    assert_labelled(&inbox.body);
    let csrf = inbox.csrf();

    // Reading: the attachment's Vietnamese name, its bytes, and \Seen for IMAP.
    let href = between(&inbox.body, "<td><a href=\"", "\"")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert_eq!(href, "/mail/message?f=INBOX&uid=1");
    let message = browser.get(&href);
    assert_eq!(message.status, 200, "{}", message.body);
    assert!(message.body.contains("Báo cáo quý.pdf"), "{}", message.body);
    assert_self_contained(&message.body);
    let part = between(&message.body, "<a href=\"/mail/part?", "\"")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let download = scratch.path().join("download");
    let saved = browser.request(&["-o", download.to_str().unwrap()], &format!("/mail/part?{part}"));
    assert_eq!(saved.status, 200);
    assert!(saved.header("content-disposition").starts_with("attachment;"));
    assert!(
        saved
            .header("content-disposition")
            .contains("filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20qu%C3%BD.pdf")
    );
    assert_eq!(saved.header("x-content-type-options"), "nosniff");
    assert_eq!(saved.header("content-type"), "application/octet-stream");
    assert_eq!(std::fs::read(&download).unwrap(), small_pdf(3000));
    assert!(flags(&state_of(&server, &hoa, PASSWORD_B), "INBOX", 1).contains(&"\\Seen".to_owned()));

    // A flag set here is IMAP's \Flagged.
    let flagged = browser.post(
        "/mail/act",
        &[
            ("csrf", &csrf),
            ("f", "INBOX"),
            ("uid", "1"),
            ("action", "flag"),
            ("back", &href),
        ],
        &[],
    );
    assert_eq!(flagged.status, 303, "{}", flagged.body);
    assert!(flags(&state_of(&server, &hoa, PASSWORD_B), "INBOX", 1).contains(&"\\Flagged".to_owned()));

    // The policy speaks before sending: an English subject.
    let reply_page = browser.get("/mail/compose?mode=reply&f=INBOX&uid=1");
    assert_eq!(reply_page.status, 200, "{}", reply_page.body);
    assert_labelled(&reply_page.body);
    assert!(
        reply_page
            .body
            .contains("value=\"Re: Công văn số 12 về lịch họp\"")
    );
    let in_reply_to = between(&reply_page.body, "name=\"in_reply_to\" value=\"", "\"").to_owned();
    assert!(!in_reply_to.is_empty());
    let csrf_field = format!("csrf={csrf}");
    let to_field = format!("to={tuan}");
    let file_field = format!(
        "file=@{};filename=Báo cáo quý.pdf;type=application/pdf",
        attachment.display()
    );
    let english = browser.request(
        &[
            "-F",
            &csrf_field,
            "-F",
            &to_field,
            "-F",
            "subject=Meeting schedule for next week",
            "-F",
            "body=Hello",
        ],
        "/mail/check",
    );
    assert_eq!(english.status, 200, "{}", english.body);
    let verdict: Value = serde_json::from_str(&english.body).unwrap();
    assert_eq!(verdict["ok"], false, "{verdict}");
    assert!(
        verdict["problems"][0]["vi"]
            .as_str()
            .unwrap()
            .contains("tiếng Việt"),
        "{verdict}"
    );
    let nobody = browser.request(
        &["-F", &csrf_field, "-F", "subject=Thư gửi", "-F", "body=x"],
        "/mail/check",
    );
    let verdict: Value = serde_json::from_str(&nobody.body).unwrap();
    assert_eq!(verdict["problems"][0]["vi"], "Chưa có người nhận.");
    // Without the form's token nothing is sent.
    let forged = browser.request(
        &["-F", "csrf=00", "-F", &to_field, "-F", "subject=Thư"],
        "/mail/send",
    );
    assert_eq!(forged.status, 403);

    // A Vietnamese reply with the file goes out through the submission path.
    let in_reply_field = format!("in_reply_to={in_reply_to}");
    let fields = [
        "-F",
        &csrf_field,
        "-F",
        &to_field,
        "-F",
        "subject=Re: Công văn số 12 về lịch họp",
        "-F",
        "body=Đã nhận, xin cảm ơn.",
        "-F",
        &in_reply_field,
        "-F",
        "origin_f=INBOX",
        "-F",
        "origin_uid=1",
        "-F",
        &file_field,
    ];
    let checked = browser.request(&fields, "/mail/check");
    assert_eq!(
        serde_json::from_str::<Value>(&checked.body).unwrap()["ok"],
        true,
        "{}",
        checked.body
    );
    let sent = browser.request(&fields, "/mail/send");
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.header("location"), "/?done=sent");
    let received = fetch_inbox(&server, &tuan, PASSWORD_A, &scratch.path().join("tuan"));
    assert_eq!(received.len(), 1);
    let text = String::from_utf8_lossy(&received[0]);
    assert!(text.contains(&format!("In-Reply-To: <{in_reply_to}>")), "{text}");
    assert!(text.contains("with ESMTPSA"), "{text}");
    let reading = congvu_webmail::read(&received[0], false, &|_| String::new());
    assert_eq!(reading.subject, "Re: Công văn số 12 về lịch họp");
    assert_eq!(reading.attachments[0].name, "Báo cáo quý.pdf");
    assert_eq!(
        congvu_webmail::attachment(&received[0], &reading.attachments[0].path)
            .unwrap()
            .bytes,
        small_pdf(3000)
    );
    let hoa_state = state_of(&server, &hoa, PASSWORD_B);
    assert_eq!(hoa_state["Sent"]["status"]["messages"], 1, "{hoa_state}");
    assert!(flags(&hoa_state, "INBOX", 1).contains(&"\\Answered".to_owned()));

    // A draft lands in Drafts, and replaces its previous save.
    let draft = browser.request(
        &["-F", &csrf_field, "-F", "subject=Nháp báo cáo", "-F", "body=..."],
        "/mail/draft",
    );
    assert_eq!(draft.status, 200, "{}", draft.body);
    let uid = serde_json::from_str::<Value>(&draft.body).unwrap()["draft"]
        .as_u64()
        .unwrap();
    let draft_field = format!("draft={uid}");
    let again = browser.request(
        &[
            "-F",
            &csrf_field,
            "-F",
            "subject=Nháp báo cáo (2)",
            "-F",
            &draft_field,
        ],
        "/mail/draft",
    );
    assert_eq!(again.status, 200, "{}", again.body);
    let hoa_state = state_of(&server, &hoa, PASSWORD_B);
    assert_eq!(hoa_state["Drafts"]["status"]["messages"], 1, "{hoa_state}");
    assert!(flags(&hoa_state, "Drafts", uid + 1).contains(&"\\Draft".to_owned()));

    // Search ignores accents; a miss lists nothing.
    let found = browser.get("/mail?f=INBOX&subject=cong%20van&from=tuan");
    assert!(found.body.contains("Công văn số 12"), "{}", found.body);
    let missed = browser.get("/mail?f=INBOX&text=kh%C3%B4ng%20c%C3%B3%20%C4%91%C3%A2u");
    assert!(!missed.body.contains("Công văn số 12"));
    let by_body = browser.get("/mail?f=Sent&text=da%20nhan");
    assert!(by_body.body.contains("Re: Công văn số 12"), "{}", by_body.body);

    // Folders: create, move a message in, rename, delete; INBOX and Shared are refused.
    let created = browser.post(
        "/mail/folders",
        &[("csrf", &csrf), ("action", "create"), ("name", "Công văn đến")],
        &[],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let moved = browser.post(
        "/mail/act",
        &[
            ("csrf", &csrf),
            ("f", "INBOX"),
            ("uid", "1"),
            ("action", "move"),
            ("to", "Công văn đến"),
        ],
        &[],
    );
    assert_eq!(moved.status, 303, "{}", moved.body);
    let renamed = browser.post(
        "/mail/folders",
        &[
            ("csrf", &csrf),
            ("action", "rename"),
            ("name", "Công văn đến"),
            ("to", "Lưu trữ 2026"),
        ],
        &[],
    );
    assert_eq!(renamed.status, 303, "{}", renamed.body);
    let hoa_state = state_of(&server, &hoa, PASSWORD_B);
    assert_eq!(hoa_state["Lưu trữ 2026"]["status"]["messages"], 1, "{hoa_state}");
    assert_eq!(hoa_state["INBOX"]["status"]["messages"], 0);
    for refused in ["INBOX", "Shared/x"] {
        let answer = browser.post(
            "/mail/folders",
            &[("csrf", &csrf), ("action", "create"), ("name", refused)],
            &[],
        );
        assert_eq!(answer.status, 400, "{refused}");
    }
    let deleted = browser.post(
        "/mail/folders",
        &[("csrf", &csrf), ("action", "delete"), ("name", "Lưu trữ 2026")],
        &[],
    );
    assert_eq!(deleted.status, 303);
    assert!(state_of(&server, &hoa, PASSWORD_B).get("Lưu trữ 2026").is_none());

    // The English switch comes back to the page it was pressed on.
    let switched = browser.post(
        "/console/lang",
        &[("csrf", &csrf), ("lang", "en"), ("back", "/mail?f=Sent")],
        &[],
    );
    assert_eq!(switched.status, 303);
    assert_eq!(switched.header("location"), "/mail?f=Sent");
    let english = browser.get("/mail?f=Sent");
    assert!(english.body.contains("<html lang=\"en\">"));
    assert!(
        english.body.contains(">Inbox<") && english.body.contains("Mark read"),
        "{}",
        english.body
    );
    assert_eq!(
        browser
            .post(
                "/console/lang",
                &[("csrf", &csrf), ("lang", "vi"), ("back", "//evil.example/")],
                &[]
            )
            .header("location"),
        "/console/"
    );

    // Someone else's message is not found, whatever the UID.
    assert_eq!(browser.get("/mail/message?f=Shared/sttt/INBOX&uid=1").status, 404);
    assert_eq!(browser.get("/mail/message?f=INBOX&uid=999").status, 404);
    // Completion from the directory, without accents.
    let suggestions: Value = serde_json::from_str(&browser.get("/mail/addresses?q=tuan").body).unwrap();
    assert_eq!(suggestions[0]["address"], tuan.as_str(), "{suggestions}");
}

#[test]
fn the_event_stream_starts_from_what_the_page_showed() {
    let (server, https) = start_with_https();
    let (_agency, tuan, hoa) = server.provision();
    let browser = Browser::new(&server, https);
    assert_eq!(browser.sign_in(&hoa, PASSWORD_B).status, 303);
    let inbox = browser.get("/");
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    let events = between(&inbox.body, "data-events=\"", "\"")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let shown: u64 = events
        .split_once("&modseq=")
        .unwrap_or_else(|| panic!("{events}"))
        .1
        .parse()
        .unwrap();
    // Nothing changed since the page: the stream stays quiet.
    let quiet = browser.stream(&events, 2, &[]);
    assert!(!quiet.contains("event: change"), "{quiet}");

    // Mail that arrives before the stream opens is announced as soon as it does.
    let sent = submit(
        &server,
        &tuan,
        PASSWORD_A,
        &tuan,
        &hoa,
        &["--subject", "Giấy mời họp"],
    );
    assert_eq!(sent["ok"], true, "{sent}");
    let caught_up = browser.stream(&events, 2, &[]);
    assert!(caught_up.contains("event: change"), "{caught_up}");
    let id: u64 = between(&caught_up, "id: ", "\n").trim().parse().unwrap();
    assert!(id > shown, "{caught_up}");
    assert_eq!(between(&caught_up, "data: ", "\n").trim(), id.to_string());

    // A reconnecting browser names the last event it saw: nothing new, nothing sent.
    let header = format!("Last-Event-ID: {id}");
    let reconnected = browser.stream(&events, 2, &["-H", &header]);
    assert!(!reconnected.contains("event: change"), "{reconnected}");
    let behind = format!("Last-Event-ID: {}", id - 1);
    let behind = browser.stream(&events, 2, &["-H", &behind]);
    assert!(behind.contains("event: change"), "{behind}");

    // Bad input: an id that is no number counts for nothing (the page's own state
    // stands); a modseq that is no number is refused.
    let garbled = browser.stream(&events, 2, &["-H", "Last-Event-ID: hôm qua"]);
    assert!(garbled.contains("event: change"), "{garbled}");
    assert_eq!(browser.get("/mail/events?f=INBOX&modseq=abc").status, 400);
}

#[test]
fn a_clerk_keeps_the_agency_mailbox_in_the_webmail() {
    let (server, https) = start_with_https();
    let (sttt, tuan, hoa) = server.provision();
    let syt = server.cli_ok(&["agency", "add", "syt", "--name", "Sở Y tế"], None);
    server.cli_ok(
        &["account", "passwd", &syt, "--password-stdin"],
        Some(&format!("{PASSWORD_A}\n")),
    );
    server.cli_ok(&["directory", "delegate", "sttt", &hoa], None);
    let id = "<cv-7.syt@thanhhoa.gov.vn>";
    let sent = submit(&server, &syt, PASSWORD_A, &syt, &sttt, &["--message-id", id]);
    assert_eq!(sent["ok"], true, "{sent}");

    let clerk = Browser::new(&server, https);
    let csrf = clerk.get("/console/login?next=/").csrf();
    let signed_in = clerk.post(
        "/console/login",
        &[
            ("csrf", &csrf),
            ("login", &hoa),
            ("password", PASSWORD_B),
            ("next", "/"),
        ],
        &[],
    );
    assert_eq!(signed_in.status, 303);
    // The delegated mailbox is in the folder column, as IMAP lists it.
    let inbox = clerk.get("/");
    assert!(inbox.body.contains("sttt › Hộp thư đến"), "{}", inbox.body);
    assert!(inbox.body.contains("href=\"/mail?f=Shared%2Fsttt%2FINBOX\""));
    let before = congvu_directory::unix_now();
    let agency_inbox = clerk.get("/mail?f=Shared%2Fsttt%2FINBOX");
    assert_eq!(agency_inbox.status, 200, "{}", agency_inbox.body);
    assert!(agency_inbox.body.contains(&syt), "{}", agency_inbox.body);
    // Art. 10: opening the agency's INBOX here is a check, recorded like SELECT.
    let events = admin_get(&server, &format!("/api/v1/access/{sttt}?from={before}"));
    let webmail: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["protocol"] == "webmail")
        .collect();
    assert_eq!(webmail.len(), 2, "{events}");
    assert_eq!(webmail[0]["kind"], "AgencyInboxSelected");
    assert_eq!(webmail[0]["login"], hoa.as_str());
    assert_eq!(webmail[1]["kind"], "AgencyInboxLeft");

    // "Trả lời đã tiếp nhận" from the message page: the API's operation, once.
    let message = clerk.get("/mail/message?f=Shared%2Fsttt%2FINBOX&uid=1");
    assert!(message.body.contains("action=\"/mail/ack\""), "{}", message.body);
    let csrf = message.csrf();
    let acked = clerk.post(
        "/mail/ack",
        &[("csrf", &csrf), ("f", "Shared/sttt/INBOX"), ("uid", "1")],
        &[],
    );
    assert_eq!(acked.status, 303, "{}", acked.body);
    let records = admin_get(&server, &format!("/api/v1/acks?agency={sttt}"));
    assert_eq!(records[0]["acknowledged"]["by"], hoa.as_str(), "{records}");
    let shown = clerk.get("/mail/message?f=Shared%2Fsttt%2FINBOX&uid=1&done=ack");
    assert!(shown.body.contains("Đã gửi trả lời đã tiếp nhận."));
    assert!(shown.body.contains("id=\"ack\""));
    assert!(!shown.body.contains("action=\"/mail/ack\""));
    let again = clerk.post(
        "/mail/ack",
        &[("csrf", &csrf), ("f", "Shared/sttt/INBOX"), ("uid", "1")],
        &[],
    );
    assert_eq!(again.status, 409, "{}", again.body);
    // The sender's agency got the notification.
    let syt_inbox = fetch_inbox(&server, &syt, PASSWORD_A, &server.dir.join("syt"));
    assert!(
        syt_inbox
            .iter()
            .any(|m| String::from_utf8_lossy(m).contains("disposition-notification")),
        "no MDN reached {syt}"
    );

    // The answer goes out as the agency: the reply page offers it first, the
    // submission path checks the delegation, the agency's Sent keeps a copy.
    let reply = clerk.get("/mail/compose?mode=reply&f=Shared%2Fsttt%2FINBOX&uid=1");
    assert!(
        reply
            .body
            .contains(&format!("<option value=\"{sttt}\" selected>")),
        "{}",
        reply.body
    );
    let csrf_field = format!("csrf={csrf}");
    let from_field = format!("from={sttt}");
    let to_field = format!("to={syt}");
    let answered = clerk.request(
        &[
            "-F",
            &csrf_field,
            "-F",
            &from_field,
            "-F",
            &to_field,
            "-F",
            "subject=Re: Công văn số 7 của Sở Y tế",
            "-F",
            "body=Sở đã nhận.",
        ],
        "/mail/send",
    );
    assert_eq!(answered.status, 303, "{}", answered.body);
    let syt_inbox = fetch_inbox(&server, &syt, PASSWORD_A, &server.dir.join("syt-2"));
    let answer = syt_inbox
        .iter()
        .map(|m| congvu_webmail::read(m, false, &|_| String::new()))
        .find(|r| r.subject == "Re: Công văn số 7 của Sở Y tế")
        .expect("the agency's answer");
    assert_eq!(answer.from[0].address, sttt, "{answer:?}");
    assert_eq!(answer.text.as_deref().map(str::trim), Some("Sở đã nhận."));
    // Seen by the clerk over IMAP, in the agency's shared Sent.
    let seen = imap_client(&server, "state", &hoa, PASSWORD_B, &[]);
    assert_eq!(
        seen["Shared/sttt/Sent"]["status"]["messages"], 1,
        "the agency's own Sent copy: {seen}"
    );
    // Someone may only send as what the page offers: a forged `from` is their own.
    let forged = clerk.request(
        &[
            "-F",
            &csrf_field,
            "-F",
            &format!("from={syt}"),
            "-F",
            &format!("to={tuan}"),
            "-F",
            "subject=Thư thử giả mạo",
            "-F",
            "body=x",
        ],
        "/mail/send",
    );
    assert_eq!(forged.status, 303, "{}", forged.body);
    let tuan_inbox = fetch_inbox(&server, &tuan, PASSWORD_A, &server.dir.join("tuan-2"));
    let forged = congvu_webmail::read(tuan_inbox.last().unwrap(), false, &|_| String::new());
    assert_eq!(forged.subject, "Thư thử giả mạo");
    assert_eq!(forged.from[0].address, hoa, "{forged:?}");

    // Revoked, the mailbox is gone from the webmail at once.
    server.cli_ok(&["directory", "delegate", "sttt", &hoa, "--revoke"], None);
    assert_eq!(clerk.get("/mail?f=Shared%2Fsttt%2FINBOX").status, 404);
    assert!(!clerk.get("/").body.contains("sttt › Hộp thư đến"));
    // An official who holds nothing sees nothing of it.
    let other = Browser::new(&server, https);
    assert_eq!(other.sign_in(&tuan, PASSWORD_A).status, 303);
    assert_eq!(other.get("/mail?f=Shared%2Fsttt%2FINBOX").status, 404);
}
