//! Changing an account's password, disabling or deleting it ends its IMAP sessions
//! at once (issue 11): idle between commands and in IDLE alike, with `* BYE`;
//! other accounts' sessions go on, and the new password logs in.

mod support;

use std::sync::Arc;

use congvu_directory::{Directory, Secret};
use support::{PASSWORD, Server};

const NEW_PASSWORD: &str = "mật khẩu mới năm 2024";

/// Runs a directory change (Argon2, disk flush) off the test's async thread.
async fn change(directory: &Arc<Directory>, f: impl FnOnce(&Directory) + Send + 'static) {
    let directory = directory.clone();
    tokio::task::spawn_blocking(move || f(&directory)).await.unwrap();
}

#[tokio::test]
async fn a_password_change_ends_every_session_of_the_account_and_only_those() {
    let server = Server::start().await;
    let user = server.users[0].clone();
    // One session waiting between commands, one in IDLE, one of another account.
    let mut waiting = server.login(0).await;
    let mut idling = server.login(0).await;
    idling.command("s", "SELECT INBOX").await;
    idling.send(b"i IDLE\r\n").await;
    assert!(idling.line().await.starts_with("+ idling"));
    let mut other = server.login(1).await;

    change(&server.directory, move |d| {
        d.set_password(&user, &Secret::new(NEW_PASSWORD.into())).unwrap()
    })
    .await;
    // Neither session says anything: the server ends them on its own.
    for client in [&mut waiting, &mut idling] {
        let bye = client.line().await;
        assert!(bye.starts_with("* BYE"), "{bye}");
        assert!(client.closed().await);
    }
    let lines = other.command("n", "NOOP").await;
    assert!(lines.last().unwrap().starts_with("n OK"), "{lines:?}");

    // The old password is refused, the new one works.
    let user = &server.users[0];
    let mut again = server.tls().await;
    let lines = again.command("a", &format!("LOGIN {user} \"{PASSWORD}\"")).await;
    assert!(lines.last().unwrap().starts_with("a NO"), "{lines:?}");
    let lines = again
        .command("b", &format!("LOGIN {user} \"{NEW_PASSWORD}\""))
        .await;
    assert!(lines.last().unwrap().starts_with("b OK"), "{lines:?}");
    let lines = again.command("c", "SELECT INBOX").await;
    assert!(lines.last().unwrap().starts_with("c OK"), "{lines:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions() {
    let server = Server::start().await;
    let user = server.users[1].clone();
    let mut session = server.login(1).await;
    session.command("s", "SELECT INBOX").await;
    session.send(b"i IDLE\r\n").await;
    assert!(session.line().await.starts_with("+ idling"));
    change(&server.directory, move |d| {
        d.set_disabled(&user, true, "admin").unwrap();
    })
    .await;
    let bye = session.line().await;
    assert!(bye.starts_with("* BYE"), "{bye}");
    assert!(session.closed().await);
    let user = &server.users[1];
    let mut again = server.tls().await;
    let lines = again.command("a", &format!("LOGIN {user} \"{PASSWORD}\"")).await;
    assert!(lines.last().unwrap().starts_with("a NO"), "{lines:?}");
    server.shutdown().await;
}
