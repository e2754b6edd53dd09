//! Hostile and broken input: clear replies, no panic, other clients unaffected.

mod support;

use congvu_imap::ImapConfig;
use support::Server;

#[tokio::test]
async fn long_line_gets_bad_and_the_session_goes_on() {
    let server = Server::start().await;
    let mut c = server.login(0).await;
    let mut line = b"a1 NOOP ".to_vec();
    line.extend(std::iter::repeat_n(b'x', 200 * 1024));
    line.extend_from_slice(b"\r\n");
    c.send(&line).await;
    let reply = c.line().await;
    assert!(reply.starts_with("a1 BAD [TOOBIG]"), "{reply}");
    let lines = c.command("a2", "NOOP").await;
    assert!(lines.last().unwrap().starts_with("a2 OK"), "{lines:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn huge_literals_are_refused_without_continuation() {
    let server = Server::start().await;
    let mut c = server.login(0).await;
    c.send(b"a1 APPEND INBOX {4294967296}\r\n").await;
    let reply = c.line().await;
    assert!(reply.starts_with("a1 NO [TOOBIG]"), "{reply}");
    c.send(b"a2 LOGIN {100000}\r\n").await;
    let reply = c.line().await;
    assert!(
        reply.starts_with("a2 NO [TOOBIG]") || reply.starts_with("a2 BAD"),
        "{reply}"
    );
    let lines = c.command("a3", "NOOP").await;
    assert!(lines.last().unwrap().starts_with("a3 OK"), "{lines:?}");

    // A non-synchronising one cannot be refused without losing sync: BAD and close.
    c.send(b"a4 APPEND INBOX {4294967296+}\r\n").await;
    let reply = c.line().await;
    assert!(reply.starts_with("a4 BAD [TOOBIG]"), "{reply}");
    assert!(c.line().await.starts_with("* BYE"));
    assert!(c.closed().await);
    server.shutdown().await;
}

#[tokio::test]
async fn garbage_and_wrong_state_commands() {
    let server = Server::start().await;
    let mut c = server.tls().await;
    c.send(b"\x00\x01\x02\xff\xfe garbage\r\n").await;
    assert!(c.line().await.starts_with("* BAD"));
    for (command, want) in [
        ("a1 FETCH 1 FLAGS", "a1 BAD"),
        ("a2 SELECT INBOX", "a2 BAD"),
        ("a3 FROBNICATE", "a3 BAD"),
        ("a4 LOGIN onlyuser", "a4 BAD"),
        ("a5 UID FETCH", "a5 BAD"),
    ] {
        let lines = c.command(command.split(' ').next().unwrap(), &command[3..]).await;
        assert!(lines.last().unwrap().starts_with(want), "{command}: {lines:?}");
    }
    let mut logged_in = server.login(0).await;
    for (command, want) in [
        ("b1 LOGIN a b", "b1 BAD"),
        ("b2 EXPUNGE", "b2 BAD"),
        ("b3 SELECT Nowhere", "b3 NO [NONEXISTENT]"),
        ("b4 FETCH 1 FLAGS", "b4 BAD"),
    ] {
        let lines = logged_in
            .command(command.split(' ').next().unwrap(), &command[3..])
            .await;
        assert!(lines.last().unwrap().starts_with(want), "{command}: {lines:?}");
    }
    logged_in.command("b5", "SELECT INBOX").await;
    let lines = logged_in.command("b6", "FETCH 1 FLAGS").await;
    assert!(lines.last().unwrap().starts_with("b6 BAD"), "{lines:?}");
    let lines = logged_in.command("b7", "ENABLE CONDSTORE").await;
    assert!(lines.last().unwrap().starts_with("b7 BAD"), "{lines:?}");
    let lines = logged_in.command("b8", "UID FETCH 99 FLAGS").await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("b8 OK"), "{lines:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn too_many_bad_commands_close_the_connection() {
    let config = ImapConfig {
        bad_command_limit: 3,
        ..ImapConfig::default()
    };
    let server = Server::start_with(config).await;
    let mut c = server.tls().await;
    c.send(b"x\r\ny\r\n(\r\n").await;
    for want in ["x BAD", "y BAD", "* BAD"] {
        let line = c.line().await;
        assert!(line.starts_with(want), "{line}");
    }
    assert!(c.line().await.starts_with("* BYE"));
    assert!(c.closed().await);
    // Others are still served.
    let mut other = server.tls().await;
    let lines = other.command("a", "NOOP").await;
    assert!(lines[0].starts_with("a OK"), "{lines:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn repeated_login_failures_end_the_connection() {
    let config = ImapConfig {
        auth_failure_limit: 2,
        ..ImapConfig::default()
    };
    let server = Server::start_with(config).await;
    let mut c = server.tls().await;
    let user = server.users[0].clone();
    let first = c.command("a", &format!("LOGIN {user} wrongpass")).await;
    assert!(first[0].starts_with("a NO [AUTHENTICATIONFAILED]"), "{first:?}");
    let second = c.command("b", &format!("LOGIN {user} wrongpass")).await;
    assert!(second[0].starts_with("* BYE"), "{second:?}");
    assert!(second[1].starts_with("b NO [AUTHENTICATIONFAILED]"), "{second:?}");
    assert!(c.closed().await);
    server.shutdown().await;
}

/// Issue 11: a client that connects and never logs in is closed after
/// `login_timeout_secs`, while a logged-in session keeps the 30-minute autologout.
#[tokio::test]
async fn idle_before_login_is_closed_after_the_login_timeout() {
    let config = ImapConfig {
        login_timeout_secs: 1,
        ..ImapConfig::default()
    };
    let server = Server::start_with(config).await;
    let mut silent = server.tls().await;
    let mut logged_in = server.login(0).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let line = silent.line().await;
    assert!(line.starts_with("* BYE"), "{line}");
    assert!(silent.closed().await);
    let lines = logged_in.command("a", "NOOP").await;
    assert!(lines.last().unwrap().starts_with("a OK"), "{lines:?}");
    server.shutdown().await;
}

/// Issue 11: a client that opens the TLS port and never finishes the handshake is
/// cut off after `tls_handshake_timeout_secs`, not held for the idle timeout.
#[tokio::test]
async fn an_unfinished_tls_handshake_is_cut_off() {
    use tokio::io::AsyncReadExt;
    let config = ImapConfig {
        tls_handshake_timeout_secs: 1,
        ..ImapConfig::default()
    };
    let server = Server::start_with(config).await;
    let mut stalled = tokio::net::TcpStream::connect(server.imaps).await.unwrap();
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stalled.read(&mut byte)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "still open after 5 s: {read:?}"
    );
    let mut other = server.tls().await;
    let lines = other.command("a", "NOOP").await;
    assert!(lines[0].starts_with("a OK"), "{lines:?}");
    server.shutdown().await;
}
