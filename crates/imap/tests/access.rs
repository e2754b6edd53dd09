//! Connection limits per IP and per account, the Art. 10 access events (logins,
//! agency INBOX selections and leavings) recorded in the store, and the check spans
//! they make (issue 14).

mod support;

use congvu_directory::Secret;
use congvu_imap::ImapConfig;
use std::time::Duration;

use congvu_store::{AccessKind, AccessSpan, AccountId, MailEventKind, MailStore};
use support::{PASSWORD, Server, ok};

const AGENCY: &str = "sttt@thanhhoa.gov.vn";

fn last(lines: &[String]) -> &str {
    lines.last().map(String::as_str).unwrap_or_default()
}

#[tokio::test]
async fn per_ip_and_per_user_limits() {
    let server = Server::start_with(ImapConfig {
        max_connections_per_ip: 3,
        max_connections_per_user: 2,
        ..ImapConfig::default()
    })
    .await;
    let mut first = server.login(0).await;
    let _second = server.login(0).await;
    // A third session of the same account is refused, and stays unauthenticated.
    let mut third = server.tls().await;
    let login = third
        .command("l", &format!("LOGIN {} \"{PASSWORD}\"", server.users[0]))
        .await;
    assert!(last(&login).starts_with("l NO [LIMIT]"), "{login:?}");
    // The fourth connection from 127.0.0.1 gets BYE as its greeting.
    let mut fourth = tokio::net::TcpStream::connect(server.imap).await.unwrap();
    let mut greeting = String::new();
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 256];
    let n = fourth.read(&mut buf).await.unwrap();
    greeting.push_str(&String::from_utf8_lossy(&buf[..n]));
    assert_eq!(
        greeting,
        "* BYE Quá nhiều kết nối từ địa chỉ của bạn / too many connections from your address\r\n"
    );
    // Leaving gives the places back.
    first.command("o", "LOGOUT").await;
    drop(first);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let login = third
        .command("m", &format!("LOGIN {} \"{PASSWORD}\"", server.users[0]))
        .await;
    assert!(last(&login).starts_with("m OK"), "{login:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn logins_and_agency_inbox_selections_are_recorded() {
    let server = Server::start().await;
    let agency = server.directory.lookup("sttt@thanhhoa.gov.vn").unwrap().unwrap();
    server
        .directory
        .set_password(&agency.address, &Secret::new(PASSWORD.to_string()))
        .unwrap();
    let mut person = server.login(0).await;
    person.command("s", "SELECT INBOX").await;
    let mut clerk = server.tls().await;
    let login = clerk
        .command("l", &format!("LOGIN {} \"{PASSWORD}\"", agency.address))
        .await;
    assert!(last(&login).starts_with("l OK"), "{login:?}");
    clerk.command("e", "EXAMINE Sent").await;
    clerk.command("s", "EXAMINE INBOX").await;
    clerk.command("t", "SELECT inbox").await;

    let events = server.store.access_events(agency.account, 0, i64::MAX).unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    // EXAMINE then SELECT of the INBOX: the first selection is left for the second.
    assert_eq!(
        kinds,
        [
            AccessKind::Login,
            AccessKind::AgencyInboxSelected,
            AccessKind::AgencyInboxLeft,
            AccessKind::AgencyInboxSelected
        ]
    );
    assert!(events.windows(2).all(|pair| pair[0].session == pair[1].session));
    assert!(events[0].session > 0);
    for event in &events {
        assert_eq!(event.login, agency.address);
        assert_eq!(event.client, "127.0.0.1");
        assert_eq!(event.protocol, "imaps");
        assert!(event.at > 1_700_000_000);
    }
    // A person's own INBOX is not an agency mailbox: only the login is recorded.
    let official = server.directory.lookup(&server.users[0]).unwrap().unwrap();
    let events = server.store.access_events(official.account, 0, i64::MAX).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, AccessKind::Login);
    server.shutdown().await;
}

/// The agency's account, with the test password set for its login.
fn agency(server: &Server) -> AccountId {
    server
        .directory
        .set_password(AGENCY, &Secret::new(PASSWORD.to_string()))
        .unwrap();
    server.directory.lookup(AGENCY).unwrap().unwrap().account
}

/// The account's check spans once `done` holds for them (a session's end is
/// recorded after its connection closes), or the last ones read after 10 s.
async fn spans_when(
    server: &Server,
    account: AccountId,
    done: impl Fn(&[AccessSpan]) -> bool,
) -> Vec<AccessSpan> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let spans = server.store.access_spans(account, 0, i64::MAX).unwrap();
        if done(&spans) || tokio::time::Instant::now() > deadline {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn all_closed(spans: &[AccessSpan]) -> bool {
    !spans.is_empty() && spans.iter().all(|s| s.closed)
}

#[tokio::test]
async fn select_then_unselect_is_one_closed_span_and_a_login_is_a_mail_event() {
    let server = Server::start().await;
    let agency = agency(&server);
    let mut keeper = server.login_as(AGENCY).await;
    ok(&mut keeper, "SELECT INBOX").await;
    let open = server.store.access_spans(agency, 0, i64::MAX).unwrap();
    assert_eq!(open.len(), 1);
    assert!(!open[0].closed, "selected, not yet left: {open:?}");
    ok(&mut keeper, "UNSELECT").await;
    // Other mailboxes make no span.
    ok(&mut keeper, "SELECT Sent").await;
    ok(&mut keeper, "CLOSE").await;

    let spans = server.store.access_spans(agency, 0, i64::MAX).unwrap();
    assert_eq!(spans.len(), 1, "{spans:?}");
    let span = &spans[0];
    assert!(span.closed);
    assert!(span.from > 1_700_000_000 && span.until >= span.from, "{span:?}");
    assert_eq!((span.login.as_str(), span.protocol.as_str()), (AGENCY, "imaps"));

    let logins: Vec<_> = server
        .store
        .events(0, i64::MAX)
        .unwrap()
        .into_iter()
        .filter(|e| e.account == agency)
        .map(|e| e.kind)
        .collect();
    assert_eq!(logins, [MailEventKind::Login]);
    server.shutdown().await;
}

#[tokio::test]
async fn idle_keeps_the_span_open_until_done_and_logout() {
    let server = Server::start().await;
    let agency = agency(&server);
    let mut keeper = server.login_as(AGENCY).await;
    ok(&mut keeper, "SELECT INBOX").await;
    keeper.send(b"i IDLE\r\n").await;
    assert_eq!(keeper.line().await, "+ idling");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let idling = server.store.access_spans(agency, 0, i64::MAX).unwrap();
    assert_eq!(idling.len(), 1);
    assert!(!idling[0].closed, "IDLE is still in the mailbox: {idling:?}");
    keeper.send(b"DONE\r\n").await;
    let done = keeper.until_tagged("i").await;
    assert!(last(&done).starts_with("i OK"), "{done:?}");
    assert!(!server.store.access_spans(agency, 0, i64::MAX).unwrap()[0].closed);
    keeper.command("o", "LOGOUT").await;

    let spans = spans_when(&server, agency, all_closed).await;
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert!(spans[0].closed, "{spans:?}");
    assert!(
        spans[0].until > spans[0].from,
        "the IDLE second is inside: {spans:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_clerks_span_is_the_agencys_and_ends_with_the_connection_or_the_grant() {
    let server = Server::start().await;
    let agency = agency(&server);
    let clerk_address = server.users[0].clone();
    let mut keeper = server.login_as(AGENCY).await;
    ok(&mut keeper, &format!("SETACL INBOX {clerk_address} lr")).await;

    // The clerk reads the agency INBOX through the shared namespace, then the
    // connection drops without LOGOUT.
    let mut clerk = server.login(0).await;
    ok(&mut clerk, "EXAMINE Shared/sttt/INBOX").await;
    drop(clerk);
    let spans = spans_when(&server, agency, all_closed).await;
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert!(spans[0].closed);
    assert_eq!(spans[0].login, clerk_address);
    let clerk_account = server.directory.lookup(&clerk_address).unwrap().unwrap().account;
    assert!(
        server
            .store
            .access_spans(clerk_account, 0, i64::MAX)
            .unwrap()
            .is_empty()
    );

    // Withdrawing the grant ends the selecting session, and its span.
    let mut clerk = server.login(0).await;
    ok(&mut clerk, "SELECT Shared/sttt/INBOX").await;
    ok(&mut keeper, &format!("DELETEACL INBOX {clerk_address}")).await;
    clerk.send(b"n NOOP\r\n").await;
    assert!(clerk.closed().await);
    let spans = spans_when(&server, agency, |spans| spans.len() == 2 && all_closed(spans)).await;
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert!(all_closed(&spans), "{spans:?}");
    assert_ne!(spans[0].session, spans[1].session);
    server.shutdown().await;
}
