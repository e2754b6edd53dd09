//! Acknowledgement of receipt (Decision 3380 Art. 16.2.a "trả lời đã tiếp nhận"),
//! end to end with real clients: a message from agency A to agency B awaits B's
//! acknowledgement; B's mail client acknowledges one by sending the RFC 8098 MDN
//! itself through submission (smtplib); the keeper acknowledges another with
//! `congvu ack`, and the MDN the server writes arrives in A's INBOX (imaplib). The
//! records name who acknowledged, and a second acknowledgement is refused. (The
//! MDN's parts and languages are `congvu_relay::dsn::mdn`'s unit tests; the mail
//! events, exactly, `crates/smtp/tests/events.rs`.)

mod common;

use common::*;
use serde_json::Value;

const MESSAGE_1: &str = "<cv-1.sttt@thanhhoa.gov.vn>";
const MESSAGE_2: &str = "<cv-2.sttt@thanhhoa.gov.vn>";

/// The MDN Thunderbird sends for "send receipt": from B to A about `original`.
fn client_mdn(from: &str, to: &str, original: &str) -> String {
    [
        &format!("From: {from}"),
        &format!("To: {to}"),
        "Subject: =?utf-8?q?=C4=90=C3=A3_nh=E1=BA=ADn_c=C3=B4ng_v=C4=83n?=",
        "Message-ID: <mdn-1.syt@thanhhoa.gov.vn>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=\"mdn\"",
        "",
        "--mdn",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Van ban da duoc tiep nhan.",
        "--mdn",
        "Content-Type: message/disposition-notification; name=\"MDNPart2.txt\"",
        "",
        "Reporting-UA: client.syt; Thunderbird",
        &format!("Final-Recipient: rfc822;{from}"),
        &format!("Original-Message-ID: {original}"),
        "Disposition: manual-action/MDN-sent-manually; displayed",
        "",
        "--mdn--",
        "",
    ]
    .join("\r\n")
}

fn acks(server: &Server, agency: &str) -> Vec<Value> {
    admin_get(server, &format!("/api/v1/acks?agency={agency}"))
        .as_array()
        .expect("a list")
        .clone()
}

fn record<'a>(records: &'a [Value], message_id: &str) -> &'a Value {
    let bare = message_id.trim_matches(|c| c == '<' || c == '>');
    records
        .iter()
        .find(|r| r["message_id"] == bare)
        .unwrap_or_else(|| panic!("no record of {message_id} in {records:?}"))
}

#[test]
fn agency_mail_awaits_and_is_acknowledged_by_the_client_or_in_congvu() {
    let server = Server::start();
    let (a, _, _) = server.provision();
    let b = server.cli_ok(&["agency", "add", "syt", "--name", "Sở Y tế"], None);
    for (agency, password) in [(&a, PASSWORD_A), (&b, PASSWORD_B)] {
        server.cli_ok(
            &["account", "passwd", agency, "--password-stdin"],
            Some(&format!("{password}\n")),
        );
    }

    // Agency A writes to agency B twice: both await B's acknowledgement.
    for id in [MESSAGE_1, MESSAGE_2] {
        let sent = submit(&server, &a, PASSWORD_A, &a, &b, &["--message-id", id]);
        assert_eq!(sent["ok"], true, "{sent}");
    }
    let pending = acks(&server, &b);
    assert_eq!(pending.len(), 2, "{pending:?}");
    for id in [MESSAGE_1, MESSAGE_2] {
        let record = record(&pending, id);
        assert_eq!(record["sender"], a.as_str());
        assert!(record["acknowledged"].is_null(), "{record}");
    }

    // B's mail client sends the receipt itself: the MDN goes on to A, and the
    // message is acknowledged by B's login.
    let mdn_file = server.dir.join("mdn.eml");
    std::fs::write(&mdn_file, client_mdn(&b, &a, MESSAGE_1)).unwrap();
    let sent = submit(
        &server,
        &b,
        PASSWORD_B,
        &b,
        &a,
        &["--raw", &mdn_file.display().to_string()],
    );
    assert_eq!(sent["ok"], true, "{sent}");
    let records = acks(&server, &b);
    assert_eq!(record(&records, MESSAGE_1)["acknowledged"]["by"], b.as_str());
    assert!(record(&records, MESSAGE_2)["acknowledged"].is_null());

    // The keeper acknowledges the second in congvu: the server writes the MDN.
    let said = server.cli_ok(&["ack", &b, MESSAGE_2], None);
    assert!(
        said.contains("đã tiếp nhận") && said.contains(&format!("sent to {a}")),
        "{said}"
    );
    let records = acks(&server, &b);
    let acknowledged = &record(&records, MESSAGE_2)["acknowledged"];
    assert_eq!(
        acknowledged["by"], "admin",
        "the operator's login: {acknowledged}"
    );
    assert!(acknowledged["at"].as_i64().unwrap() > 0);

    // A second acknowledgement is refused, naming the first.
    let again = server.cli(&["ack", &b, MESSAGE_2], None);
    assert!(!again.status.success());
    let error = String::from_utf8_lossy(&again.stderr);
    assert!(
        error.contains("đã tiếp nhận trước đó") && error.contains("already acknowledged by admin"),
        "{error}"
    );
    let unknown = server.cli(&["ack", &b, "<no-such@thanhhoa.gov.vn>"], None);
    assert!(!unknown.status.success());

    // A's INBOX holds B's client MDN and the one the server wrote, which parses as
    // an RFC 8098 disposition notification from agency B.
    let inbox = fetch_inbox(&server, &a, PASSWORD_A, &server.dir.join("inbox-a"));
    let texts: Vec<String> = inbox
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].contains(&format!("Original-Message-ID: {MESSAGE_1}")));
    let server_mdn = &texts[1];
    for expected in [
        "report-type=disposition-notification",
        &format!("Final-Recipient: rfc822; {b}"),
        &format!("Original-Message-ID: {MESSAGE_2}"),
        "Disposition: manual-action/MDN-sent-manually; displayed",
        "Auto-Submitted: auto-replied",
        "text/rfc822-headers",
    ] {
        assert!(server_mdn.contains(expected), "{expected} in {server_mdn}");
    }
    // From the agency mailbox B (its name may come encoded before the address).
    let from = server_mdn
        .lines()
        .find(|line| line.starts_with("From: "))
        .expect("a From field");
    assert!(from.ends_with(&format!("<{b}>")), "{from}");
}
