//! Several sessions on one mailbox (RFC 2180, RFC 3501 §2.3.2 `\Recent`): what one
//! session does and what the others are told, each behaviour with its RFC text.

mod support;

use support::{Server, append, has, last, sample_message};

/// RFC 3501 §2.3.2: a message is recent in "exactly one session". Session A has
/// the mailbox EXAMINEd, B has it SELECTed; a new message is `\Recent` in B only,
/// whichever of them is told first.
#[tokio::test]
async fn a_new_message_is_recent_in_the_read_write_session_only() {
    let server = Server::start().await;
    let mut a = server.login(0).await;
    let mut b = server.login(0).await;
    let mut c = server.login(0).await;
    append(&mut c, "INBOX", "()", &sample_message("old")).await;
    let examine = a.command("e", "EXAMINE INBOX").await;
    assert!(has(&examine, "* 0 RECENT"), "{examine:?}");
    let select = b.command("s", "SELECT INBOX").await;
    assert!(has(&select, "* 1 RECENT"), "{select:?}");

    // A, read-only, is told first: it could have shown the unclaimed message.
    append(&mut c, "INBOX", "()", &sample_message("new")).await;
    let noop = a.command("n", "NOOP").await;
    assert!(has(&noop, "* 2 EXISTS"), "{noop:?}");
    assert!(has(&noop, "* 0 RECENT"), "{noop:?}");
    let noop = b.command("n", "NOOP").await;
    assert!(has(&noop, "* 2 EXISTS"), "{noop:?}");
    assert!(has(&noop, "* 2 RECENT"), "{noop:?}");
    let in_a = a.command("f", "FETCH 2 (FLAGS)").await;
    assert_eq!(flags_of(&in_a, 2), "");
    let in_b = b.command("f", "FETCH 2 (FLAGS)").await;
    assert_eq!(flags_of(&in_b, 2), "\\Recent");
    let recent = a.command("r", "SEARCH RECENT").await;
    assert!(recent.iter().any(|l| l == "* SEARCH"), "{recent:?}");
    let recent = b.command("r", "SEARCH RECENT").await;
    assert!(has(&recent, "* SEARCH 1 2"), "{recent:?}");

    // B is told first this time.
    append(&mut c, "INBOX", "()", &sample_message("newer")).await;
    let noop = b.command("n", "NOOP").await;
    assert!(has(&noop, "* 3 RECENT"), "{noop:?}");
    let noop = a.command("n", "NOOP").await;
    assert!(has(&noop, "* 3 EXISTS") && has(&noop, "* 0 RECENT"), "{noop:?}");
    let in_a = a.command("f", "FETCH 3 (FLAGS)").await;
    assert_eq!(flags_of(&in_a, 3), "");
    let status = c.command("t", "STATUS INBOX (RECENT)").await;
    assert!(has(&status, "(RECENT 0)"), "every message is claimed: {status:?}");
    server.shutdown().await;
}

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

/// The `FLAGS (…)` of message `n` in a FETCH answer.
fn flags_of(lines: &[String], n: u32) -> String {
    let prefix = format!("* {n} FETCH (FLAGS (");
    lines
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no FETCH for {n}: {lines:?}"))
        .to_string()
}

/// RFC 3501 §2.3.2 `\Recent`: "This session is the first session to have been
/// notified about this message; if the session is read-write, subsequent sessions
/// will not see \Recent set for this message." SELECT reports `* n RECENT` (§7.3.2),
/// SEARCH RECENT / NEW / OLD follow the flag (§6.4.4), STATUS RECENT counts it
/// (§6.3.10), and EXAMINE neither takes it away (§6.3.2) nor shows it: a session
/// that may not claim a message cannot be the "exactly one session" that sees it.
#[tokio::test]
async fn recent_belongs_to_exactly_one_session() {
    let server = Server::start().await;
    let mut a = server.login(0).await;
    let mut b = server.login(0).await;
    let mut c = server.login(0).await;
    for subject in ["one", "two"] {
        append(&mut c, "INBOX", "()", &sample_message(subject)).await;
    }
    let status = c.command("t", "STATUS INBOX (MESSAGES RECENT)").await;
    assert!(has(&status, "(MESSAGES 2 RECENT 2)"), "{status:?}");

    // EXAMINE first: it claims nothing, so it shows nothing as recent (the
    // read-write session that selects next will), and takes nothing away.
    let examine = c.command("e", "EXAMINE INBOX").await;
    assert!(has(&examine, "* 0 RECENT"), "{examine:?}");
    let fetch = c.command("f", "FETCH 1:2 (FLAGS)").await;
    assert!(!has(&fetch, "\\Recent"), "{fetch:?}");
    let recent = c.command("r", "SEARCH RECENT").await;
    assert!(recent.iter().any(|l| l == "* SEARCH"), "{recent:?}");
    let status = c.command("t", "STATUS INBOX (RECENT)").await;
    assert!(has(&status, "(RECENT 2)"), "{status:?}");
    c.command("u", "UNSELECT").await;

    let select = a.command("s", "SELECT INBOX").await;
    assert!(has(&select, "* 2 RECENT"), "{select:?}");
    let fetch = a.command("f", "FETCH 1:2 (FLAGS)").await;
    assert_eq!(flags_of(&fetch, 1), "\\Recent");
    assert_eq!(flags_of(&fetch, 2), "\\Recent");
    let recent = a.command("r", "SEARCH RECENT").await;
    assert!(has(&recent, "* SEARCH 1 2"), "{recent:?}");
    let old = a.command("o", "SEARCH OLD").await;
    assert!(old.iter().any(|l| l == "* SEARCH"), "{old:?}");
    a.command("x", "STORE 1 +FLAGS.SILENT (\\Seen)").await;
    let new = a.command("w", "SEARCH NEW").await;
    assert!(new.iter().any(|l| l == "* SEARCH 2"), "{new:?}");

    // The second session to select sees none of them as recent.
    let select = b.command("s", "SELECT INBOX").await;
    assert!(has(&select, "* 0 RECENT"), "{select:?}");
    let fetch = b.command("f", "FETCH 1:2 (FLAGS)").await;
    assert!(!has(&fetch, "\\Recent"), "{fetch:?}");
    let recent = b.command("r", "SEARCH RECENT").await;
    assert!(recent.iter().any(|l| l == "* SEARCH"), "{recent:?}");
    let old = b.command("o", "SEARCH OLD").await;
    assert!(has(&old, "* SEARCH 1 2"), "{old:?}");
    let status = c.command("t", "STATUS INBOX (RECENT)").await;
    assert!(has(&status, "(RECENT 0)"), "{status:?}");

    // A message delivered while both have the mailbox selected is recent in the
    // one that is told first, and only there.
    append(&mut c, "INBOX", "()", &sample_message("three")).await;
    let status = c.command("t", "STATUS INBOX (RECENT)").await;
    assert!(has(&status, "(RECENT 1)"), "{status:?}");
    let noop = b.command("n", "NOOP").await;
    assert!(has(&noop, "* 3 EXISTS"), "{noop:?}");
    assert!(has(&noop, "* 1 RECENT"), "{noop:?}");
    let noop = a.command("n", "NOOP").await;
    assert!(has(&noop, "* 3 EXISTS"), "{noop:?}");
    assert!(has(&noop, "* 2 RECENT"), "{noop:?}");
    let in_b = b.command("f", "FETCH 3 (FLAGS)").await;
    assert_eq!(flags_of(&in_b, 3), "\\Recent");
    let in_a = a.command("f", "FETCH 3 (FLAGS)").await;
    assert_eq!(flags_of(&in_a, 3), "");
    let status = b.command("t", "STATUS INBOX (RECENT)").await;
    assert!(has(&status, "(RECENT 1)"), "{status:?}");
    let status = c.command("t", "STATUS INBOX (RECENT)").await;
    assert!(has(&status, "(RECENT 0)"), "{status:?}");

    // Reselecting later finds nothing recent: \Recent lasts one session.
    a.command("u", "UNSELECT").await;
    let select = a.command("s", "SELECT INBOX").await;
    assert!(has(&select, "* 0 RECENT"), "{select:?}");
    let examine = c.command("e", "EXAMINE INBOX").await;
    assert!(has(&examine, "* 0 RECENT"), "{examine:?}");
    server.shutdown().await;
}
