//! Connection limits per IP and per account, and the Art. 10 access events (logins
//! and agency INBOX selections) recorded in the store.

mod support;

use congvu_directory::Secret;
use congvu_imap::ImapConfig;
use congvu_store::{AccessKind, MailStore};
use support::{PASSWORD, Server};

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
    assert_eq!(
        kinds,
        [
            AccessKind::Login,
            AccessKind::AgencyInboxSelected,
            AccessKind::AgencyInboxSelected
        ]
    );
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
