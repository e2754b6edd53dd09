//! The supervision records the SMTP side writes (issue 14): mail events for every
//! delivery, submission and refusal, the messages to an agency mailbox that await
//! an acknowledgement of receipt, and the acknowledgement a keeper's mail client
//! sends itself (an RFC 8098 MDN through submission).

// Shared with the other test binaries, which use what this one does not.
#[allow(dead_code)]
mod support;

use congvu_store::{AccountId, Destination, MailEventKind, MailStore, Origin, PendingAck};
use support::{Client, DOMAIN, TestServer};
use tokio::io::{AsyncRead, AsyncWrite};

/// One transaction: MAIL, RCPTs, DATA with `message`, and the final reply's code.
async fn transaction<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Client<S>,
    from: &str,
    to: &[&str],
    message: &str,
    code: u16,
) {
    c.command(&format!("MAIL FROM:<{from}>"), 250).await;
    for recipient in to {
        c.command(&format!("RCPT TO:<{recipient}>"), 250).await;
    }
    c.command("DATA", 354).await;
    c.send_raw(format!("{message}.\r\n").as_bytes()).await;
    c.expect(code).await;
}

fn events(server: &TestServer) -> Vec<(AccountId, MailEventKind)> {
    let all = server.store.events(0, i64::MAX).unwrap();
    all.into_iter().map(|e| (e.account, e.kind)).collect()
}

fn acks(server: &TestServer) -> Vec<PendingAck> {
    server.store.acks(Some(server.agency.account)).unwrap()
}

fn submitted(destination: Destination) -> MailEventKind {
    MailEventKind::Submitted { destination }
}

fn delivered(origin: Origin) -> MailEventKind {
    MailEventKind::Delivered { origin }
}

fn mdn(from: &str, to: &str, final_recipient: &str, original: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: =?utf-8?q?=C4=90=C3=A3_nh=E1=BA=ADn?=\r\n\
         Content-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDa nhan.\r\n\
         --b\r\nContent-Type: message/disposition-notification\r\n\r\n\
         Reporting-UA: client; Thunderbird\r\n\
         Final-Recipient: rfc822;{final_recipient}\r\n\
         Original-Message-ID: <{original}>\r\n\
         Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n\
         --b--\r\n"
    )
}

#[tokio::test]
async fn deliveries_submissions_and_refusals_become_events() {
    let server = TestServer::start().await;
    let me = server.user.address.clone();
    let agency = server.agency.address.clone();
    let (official, agency_account) = (server.user.account, server.agency.account);

    let mut c = server.submit_session().await;
    // To the official's own agency, another agency of the network (the routes'
    // `*.bacninh.gov.vn`) and the Internet: one event per class, one per delivery.
    let to = [
        agency.as_str(),
        "vanthu@syt.bacninh.gov.vn",
        "a@example.org",
        "b@example.org",
    ];
    let message = format!("From: {me}\r\nSubject: Báo cáo\r\n\r\nx\r\n");
    transaction(&mut c, &me, &to, &message, 250).await;
    // Another official's address in From: refused 550, an event of the submitter.
    let forged = format!("From: chutich@{DOMAIN}\r\nSubject: Báo cáo\r\n\r\nx\r\n");
    transaction(&mut c, &me, &[&agency], &forged, 550).await;
    c.command("QUIT", 221).await;

    // From the Internet on MX.
    let mut mx = server.connect(server.mx).await;
    mx.command("EHLO mx.example.org", 250).await;
    let inbound = "From: a@example.org\r\nSubject: Hỏi\r\nMessage-ID: <q0@example.org>\r\n\r\nx\r\n";
    transaction(&mut mx, "a@example.org", &[&agency], inbound, 250).await;
    mx.command("QUIT", 221).await;

    assert_eq!(
        events(&server),
        [
            (agency_account, delivered(Origin::Internal)),
            (official, submitted(Destination::Internal)),
            (official, submitted(Destination::OtherAgency)),
            (official, submitted(Destination::Internet)),
            (
                official,
                MailEventKind::Refused {
                    rule: "550".to_owned()
                }
            ),
            (agency_account, delivered(Origin::Internet)),
        ]
    );
    // Nothing asked for an acknowledgement: the official is of the agency, the
    // citizen did not ask.
    assert!(acks(&server).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_message_that_asks_awaits_and_the_keepers_client_mdn_acknowledges_it() {
    let server = TestServer::start().await;
    let me = server.user.address.clone();
    let agency = server.agency.address.clone();
    let agency_account = server.agency.account;

    let mut mx = server.connect(server.mx).await;
    mx.command("EHLO mx.example.org", 250).await;
    let asks = |id: &str| {
        format!(
            "From: Dan <dan@example.org>\r\nSubject: Đơn\r\n{id}\
             Disposition-Notification-To: <xacnhan@example.org>\r\n\r\nx\r\n"
        )
    };
    transaction(
        &mut mx,
        "dan@example.org",
        &[&agency],
        &asks("Message-ID: <d1@example.org>\r\n"),
        250,
    )
    .await;
    // Without a Message-ID the server gives it one, in the stored copy too.
    transaction(&mut mx, "dan@example.org", &[&agency], &asks(""), 250).await;
    // A report never awaits one.
    let report = format!(
        "{}{}",
        "Disposition-Notification-To: dan@example.org\r\n",
        mdn("dan@example.org", &agency, "dan@example.org", "x@y")
    );
    transaction(&mut mx, "dan@example.org", &[&agency], &report, 250).await;
    mx.command("QUIT", 221).await;

    let pending = acks(&server);
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert_eq!(pending[0].message_id, "d1@example.org");
    assert_eq!(pending[0].sender, "dan@example.org");
    assert_eq!(pending[0].notify_to.as_deref(), Some("xacnhan@example.org"));
    assert_eq!(pending[0].acknowledged, None);
    let given = &pending[1].message_id;
    assert!(
        given.starts_with("congvu.") && given.ends_with(&format!("@mail.{DOMAIN}")),
        "{given}"
    );
    let stored = String::from_utf8(server.inbox(agency_account).remove(1)).unwrap();
    assert!(
        stored.contains(&format!("\r\nMessage-ID: <{given}>\r\nFrom: Dan")),
        "{stored}"
    );

    // The official may not acknowledge for an agency mailbox they cannot use…
    let mut c = server.submit_session().await;
    let own_mdn = mdn(&me, "xacnhan@example.org", &agency, "d1@example.org");
    transaction(&mut c, &me, &["xacnhan@example.org"], &own_mdn, 250).await;
    assert_eq!(acks(&server)[0].acknowledged, None);
    // …and may once the agency's head delegated it (Art. 16.1): the client's MDN,
    // sent as the agency, acknowledges in the official's name; the first one stays.
    server
        .directory
        .grant_delegation("sttt", &me, Some("QĐ 12"), "admin")
        .unwrap();
    let agency_mdn = mdn(&agency, "xacnhan@example.org", &agency, "d1@example.org");
    transaction(&mut c, &agency, &["xacnhan@example.org"], &agency_mdn, 250).await;
    let first = acks(&server)[0].acknowledged.clone().expect("acknowledged");
    assert_eq!(first.by, me);
    transaction(&mut c, &agency, &["xacnhan@example.org"], &agency_mdn, 250).await;
    assert_eq!(acks(&server)[0].acknowledged, Some(first));
    assert_eq!(acks(&server)[1].acknowledged, None, "only the message it names");
    c.command("QUIT", 221).await;
    server.stop().await;
}
