//! Several sessions on one mailbox (RFC 2180, RFC 3501 §2.3.2 `\Recent`): what one
//! session does and what the others are told, each behaviour with its RFC text.

mod support;

use support::{Server, append, has, last, sample_message};

/// RFC 2180 §4.1.2: a FETCH that names a message another session expunged returns
/// the usual responses for the others and completes with OK — never a `NO` for the
/// whole command (Dovecot and Cyrus answer so; RFC 5530 §3 EXPUNGEISSUED tells the
/// client why one is missing). The EXPUNGE itself waits for NOOP (RFC 3501 §7.4.1).
#[tokio::test]
async fn fetch_of_a_message_expunged_elsewhere_answers_the_rest_and_ok() {
    let server = Server::start().await;
    let mut a = server.login(0).await;
    let mut b = server.login(0).await;
    for subject in ["one", "two", "three"] {
        append(&mut a, "INBOX", "()", &sample_message(subject)).await;
    }
    a.command("s", "SELECT INBOX").await;
    b.command("s", "SELECT INBOX").await;
    b.command("d", "STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    let expunge = b.command("x", "EXPUNGE").await;
    assert!(has(&expunge, "* 2 EXPUNGE"), "{expunge:?}");

    let fetch = a
        .command("f", "FETCH 1:3 (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        .await;
    assert!(last(&fetch).starts_with("f OK [EXPUNGEISSUED]"), "{fetch:?}");
    assert!(has(&fetch, "Subject: one"), "{fetch:?}");
    assert!(has(&fetch, "Subject: three"), "{fetch:?}");
    assert!(
        fetch.iter().any(|l| l.starts_with("* 1 FETCH (UID 1 ")),
        "{fetch:?}"
    );
    assert!(
        fetch.iter().any(|l| l.starts_with("* 3 FETCH (UID 3 ")),
        "{fetch:?}"
    );
    assert!(!fetch.iter().any(|l| l.starts_with("* 2 FETCH")), "{fetch:?}");
    assert!(!has(&fetch, "* 2 EXPUNGE"), "{fetch:?}");

    // Items the snapshot holds need no body: still answered, plain OK.
    let flags = a.command("g", "FETCH 2 (FLAGS)").await;
    assert!(
        flags.iter().any(|l| l.starts_with("* 2 FETCH (FLAGS ")),
        "{flags:?}"
    );
    assert_eq!(last(&flags), "g OK FETCH completed", "{flags:?}");

    // UID FETCH of the gone message alone: nothing to return, still OK; the UID
    // form may announce the expunge (RFC 3501 §7.4.1).
    let gone = a.command("u", "UID FETCH 2 (BODY.PEEK[])").await;
    assert!(last(&gone).starts_with("u OK"), "{gone:?}");
    assert!(!has(&gone, "BODY[]"), "{gone:?}");
    assert!(has(&gone, "* 2 EXPUNGE"), "{gone:?}");
    server.shutdown().await;
}
