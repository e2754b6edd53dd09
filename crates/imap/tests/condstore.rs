//! CONDSTORE and QRESYNC (RFC 7162), ESEARCH (RFC 4731), and IDLE with concurrent
//! expunges, as C:/S: exchanges against a real server. Where an RFC example fits
//! the data here, its section is named.

mod support;

use support::{Client, Server, append, sample_message};

fn last(lines: &[String]) -> &str {
    lines.last().map(String::as_str).unwrap_or_default()
}

fn has(lines: &[String], line: &str) -> bool {
    lines.iter().any(|l| l == line)
}

/// The number after `[NAME ` in an untagged OK, e.g. HIGHESTMODSEQ.
fn code_value(lines: &[String], name: &str) -> u64 {
    let prefix = format!("* OK [{name} ");
    let line = lines
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in {lines:?}"));
    line.split(']').next().unwrap().parse().unwrap()
}

/// The MODSEQ in a FETCH line: `… MODSEQ (n))`.
fn modseq_of(line: &str) -> u64 {
    let start = line
        .find("MODSEQ (")
        .unwrap_or_else(|| panic!("no MODSEQ in {line}"))
        + 8;
    line[start..].split(')').next().unwrap().parse().unwrap()
}

/// Logs in user 0 and appends `n` messages to INBOX. A SELECT and UNSELECT take
/// their `\Recent` (RFC 3501 §2.3.2), so the FLAGS the tests compare are the
/// stored ones.
async fn mailbox_with(server: &Server, n: usize) -> Client {
    let mut c = server.login(0).await;
    for i in 0..n {
        let ok = append(&mut c, "INBOX", "()", &sample_message(&format!("m{i}"))).await;
        assert!(ok.starts_with("ap OK"), "{ok}");
    }
    for (tag, command) in [("r1", "SELECT INBOX"), ("r2", "UNSELECT")] {
        let done = c.command(tag, command).await;
        assert!(
            done.last().is_some_and(|l| l.starts_with(&format!("{tag} OK"))),
            "{done:?}"
        );
    }
    c
}

#[tokio::test]
async fn condstore_select_fetch_store_search_status() {
    let server = Server::start().await;
    let mut c = mailbox_with(&server, 3).await;
    let caps = c.command("a", "CAPABILITY").await;
    for cap in ["CONDSTORE", "QRESYNC", "ESEARCH"] {
        assert!(caps[0].split(' ').any(|w| w == cap), "{cap}: {caps:?}");
    }

    // RFC 7162 §3.1.8: SELECT (CONDSTORE) gives HIGHESTMODSEQ.
    let select = c.command("a1", "SELECT INBOX (CONDSTORE)").await;
    assert!(last(&select).starts_with("a1 OK [READ-WRITE]"), "{select:?}");
    let highest = code_value(&select, "HIGHESTMODSEQ");

    // RFC 7162 §3.1.4: STORE answers with MODSEQ now that CONDSTORE is on.
    let store = c.command("a2", "STORE 1 +FLAGS (\\Seen)").await;
    assert!(
        store[0].starts_with("* 1 FETCH (FLAGS (\\Seen) UID 1 MODSEQ ("),
        "{store:?}"
    );
    let seen_modseq = modseq_of(&store[0]);
    assert!(seen_modseq > highest);

    // RFC 7162 §3.1.3 example 6: UNCHANGEDSINCE below the message's modseq fails it,
    // the others are changed and reported with their new modseq even when SILENT.
    let conditional = c
        .command(
            "a3",
            &format!("STORE 1:2 (UNCHANGEDSINCE {highest}) +FLAGS.SILENT (\\Flagged)"),
        )
        .await;
    assert_eq!(conditional.len(), 2, "{conditional:?}");
    assert!(
        conditional[0].starts_with("* 2 FETCH (FLAGS (\\Flagged) UID 2 MODSEQ ("),
        "{conditional:?}"
    );
    assert!(
        last(&conditional).starts_with("a3 OK [MODIFIED 1]"),
        "{conditional:?}"
    );
    let uid_conditional = c
        .command("a4", "UID STORE 1 (UNCHANGEDSINCE 1) -FLAGS (\\Seen)")
        .await;
    assert!(
        last(&uid_conditional).starts_with("a4 OK [MODIFIED 1]"),
        "{uid_conditional:?}"
    );

    // RFC 7162 §3.1.4.1: CHANGEDSINCE returns only what changed, with MODSEQ.
    let changed = c
        .command("a5", &format!("FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})"))
        .await;
    assert_eq!(changed.len(), 3, "{changed:?}");
    assert!(
        changed[0].starts_with("* 1 FETCH (FLAGS (\\Seen) MODSEQ ("),
        "{changed:?}"
    );
    assert!(
        changed[1].starts_with("* 2 FETCH (FLAGS (\\Flagged) MODSEQ ("),
        "{changed:?}"
    );
    let uid_changed = c
        .command("a6", &format!("UID FETCH 1:* (UID) (CHANGEDSINCE {seen_modseq})"))
        .await;
    assert_eq!(uid_changed.len(), 2, "{uid_changed:?}");
    assert!(
        uid_changed[0].starts_with("* 2 FETCH (UID 2 MODSEQ ("),
        "{uid_changed:?}"
    );

    // RFC 7162 §3.1.5: SEARCH MODSEQ adds the highest modseq of the matches.
    let search = c.command("a7", &format!("SEARCH MODSEQ {}", highest + 1)).await;
    let flagged = modseq_of(&uid_changed[0]);
    assert_eq!(
        search[0],
        format!("* SEARCH 1 2 (MODSEQ {flagged})"),
        "{search:?}"
    );
    let search = c
        .command("a8", "SEARCH MODSEQ \"/flags/\\\\draft\" all 1 UNSEEN")
        .await;
    assert!(search[0].starts_with("* SEARCH 2 3 (MODSEQ "), "{search:?}");
    let none = c.command("a9", "SEARCH MODSEQ 999999").await;
    assert_eq!(none[0], "* SEARCH", "{none:?}");

    // RFC 7162 §3.1.6: STATUS HIGHESTMODSEQ.
    let status = c.command("b1", "STATUS INBOX (HIGHESTMODSEQ)").await;
    assert_eq!(status[0], format!("* STATUS \"INBOX\" (HIGHESTMODSEQ {flagged})"));

    // RFC 4731: ESEARCH with the tag quoted.
    let esearch = c.command("b2", "UID SEARCH RETURN (MIN MAX COUNT ALL) ALL").await;
    assert_eq!(
        esearch[0],
        "* ESEARCH (TAG \"b2\") UID MIN 1 MAX 3 ALL 1:3 COUNT 3"
    );
    let esearch = c.command("b3", "SEARCH RETURN () FLAGGED").await;
    assert_eq!(esearch[0], "* ESEARCH (TAG \"b3\") ALL 2");
    let esearch = c.command("b4", "SEARCH RETURN (COUNT) DELETED").await;
    assert_eq!(esearch[0], "* ESEARCH (TAG \"b4\") COUNT 0");

    // A FETCH MODSEQ on a plain session also enables CONDSTORE (RFC 7162 §3.1).
    let mut other = server.login(0).await;
    other.command("c1", "EXAMINE INBOX").await;
    let fetch = other.command("c2", "FETCH 3 (MODSEQ)").await;
    assert!(fetch[0].starts_with("* 3 FETCH (MODSEQ ("), "{fetch:?}");
    let fetch = other.command("c3", "FETCH 3 (FLAGS)").await;
    assert!(fetch[0].contains("MODSEQ ("), "{fetch:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn qresync_vanished_and_resync_on_select() {
    let server = Server::start().await;
    let mut c = mailbox_with(&server, 5).await;

    // RFC 7162 §3.2.5: QRESYNC parameters need ENABLE QRESYNC first.
    let early = c.command("q0", "SELECT INBOX (QRESYNC (1 1))").await;
    assert!(last(&early).starts_with("q0 BAD"), "{early:?}");
    let enable = c.command("q1", "ENABLE QRESYNC").await;
    assert_eq!(enable[0], "* ENABLED QRESYNC");
    let again = c.command("q2", "ENABLE QRESYNC CONDSTORE").await;
    assert_eq!(again[0], "* ENABLED", "QRESYNC already implied CONDSTORE");

    let select = c.command("q3", "SELECT INBOX").await;
    let uidvalidity = code_value(&select, "UIDVALIDITY");
    let base = code_value(&select, "HIGHESTMODSEQ");

    // Another client changes a flag and expunges UIDs 2 and 4.
    let mut other = server.login(0).await;
    other.command("o1", "SELECT INBOX").await;
    other.command("o2", "STORE 1 +FLAGS (\\Answered)").await;
    other.command("o3", "UID STORE 2,4 +FLAGS (\\Deleted)").await;
    let expunge = other.command("o4", "EXPUNGE").await;
    assert!(
        has(&expunge, "* 4 EXPUNGE") && has(&expunge, "* 2 EXPUNGE"),
        "{expunge:?}"
    );

    // RFC 7162 §3.2.10: with QRESYNC on, expunges come as VANISHED.
    let noop = c.command("q4", "NOOP").await;
    assert!(has(&noop, "* VANISHED 2,4"), "{noop:?}");
    assert!(
        noop.iter()
            .any(|l| l.starts_with("* 1 FETCH (FLAGS (\\Answered) UID 1 MODSEQ (")),
        "{noop:?}"
    );
    assert!(!noop.iter().any(|l| l.ends_with("EXPUNGE")), "{noop:?}");

    // RFC 7162 §3.2.6: UID FETCH … (CHANGEDSINCE m VANISHED).
    let fetch = c
        .command(
            "q5",
            &format!("UID FETCH 1:* (FLAGS) (CHANGEDSINCE {base} VANISHED)"),
        )
        .await;
    assert_eq!(fetch[0], "* VANISHED (EARLIER) 2,4", "{fetch:?}");
    assert!(
        fetch[1].starts_with("* 1 FETCH (UID 1 FLAGS (\\Answered) MODSEQ ("),
        "{fetch:?}"
    );
    assert_eq!(fetch.len(), 3, "{fetch:?}");
    let plain = c
        .command("q6", &format!("FETCH 1:* (FLAGS) (CHANGEDSINCE {base} VANISHED)"))
        .await;
    assert!(
        last(&plain).starts_with("q6 BAD"),
        "VANISHED needs UID FETCH: {plain:?}"
    );

    // A new session resynchronises in its SELECT (RFC 7162 §3.2.5.2).
    let mut fresh = server.login(0).await;
    fresh.command("r1", "ENABLE QRESYNC").await;
    let resync = fresh
        .command(
            "r2",
            &format!("SELECT INBOX (QRESYNC ({uidvalidity} {base} 1:5 (1:5 1:5)))"),
        )
        .await;
    assert!(has(&resync, "* VANISHED (EARLIER) 2,4"), "{resync:?}");
    assert!(has(&resync, "* 3 EXISTS"), "{resync:?}");
    let fetches: Vec<_> = resync.iter().filter(|l| l.contains(" FETCH ")).collect();
    assert_eq!(fetches.len(), 1, "only UID 1 changed: {resync:?}");
    assert!(
        fetches[0].starts_with("* 1 FETCH (FLAGS (\\Answered) UID 1 MODSEQ ("),
        "{resync:?}"
    );
    // Known UIDs limit the VANISHED response.
    let limited = fresh
        .command(
            "r3",
            &format!("SELECT INBOX (QRESYNC ({uidvalidity} {base} 3:5))"),
        )
        .await;
    assert!(
        has(&limited, "* OK [CLOSED] Previous mailbox closed"),
        "{limited:?}"
    );
    assert!(has(&limited, "* VANISHED (EARLIER) 4"), "{limited:?}");
    // A stale UIDVALIDITY gets no resync data: the client must start over.
    let stale = fresh
        .command(
            "r4",
            &format!("SELECT INBOX (QRESYNC ({} {base}))", uidvalidity + 1),
        )
        .await;
    assert!(
        !stale
            .iter()
            .any(|l| l.contains("VANISHED") || l.contains("FETCH")),
        "{stale:?}"
    );
    assert!(last(&stale).starts_with("r4 OK"), "{stale:?}");
    // Nothing changed since the current HIGHESTMODSEQ.
    let current = code_value(&stale, "HIGHESTMODSEQ");
    let quiet = fresh
        .command("r5", &format!("SELECT INBOX (QRESYNC ({uidvalidity} {current}))"))
        .await;
    assert!(
        !quiet
            .iter()
            .any(|l| l.contains("VANISHED") || l.contains("FETCH")),
        "{quiet:?}"
    );

    // UID EXPUNGE answers with VANISHED too (RFC 7162 §3.2.10).
    fresh.command("r6", "UID STORE 5 +FLAGS.SILENT (\\Deleted)").await;
    let expunged = fresh.command("r7", "UID EXPUNGE 5").await;
    assert!(has(&expunged, "* VANISHED 5"), "{expunged:?}");
    server.shutdown().await;
}

/// Two sessions IDLE on one mailbox while a third expunges and delivers: each
/// announcement is applied in order, and the watchers' views end up identical to
/// the mailbox (sequence numbers included).
#[tokio::test]
async fn idle_with_two_clients_and_concurrent_expunges_stays_consistent() {
    let server = Server::start().await;
    let mut writer = mailbox_with(&server, 8).await;
    let mut classic = server.login(0).await;
    let mut modern = server.login(0).await;
    let select = classic.command("s1", "SELECT INBOX").await;
    assert!(has(&select, "* 8 EXISTS"), "{select:?}");
    modern.command("s2", "ENABLE QRESYNC").await;
    modern.command("s3", "SELECT INBOX").await;
    classic.send(b"i1 IDLE\r\n").await;
    modern.send(b"i2 IDLE\r\n").await;
    assert_eq!(classic.line().await, "+ idling");
    assert_eq!(modern.line().await, "+ idling");

    writer.command("w1", "SELECT INBOX").await;
    // Expunge 2, 5 and 8 at once, then 1, then deliver one more.
    writer
        .command("w2", "STORE 2,5,8 +FLAGS.SILENT (\\Deleted)")
        .await;
    writer.command("w3", "EXPUNGE").await;
    writer.command("w4", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    writer.command("w5", "EXPUNGE").await;
    let ok = append(&mut writer, "INBOX", "()", &sample_message("late")).await;
    assert!(ok.starts_with("ap OK"), "{ok}");

    // Replays the classic session's view: EXPUNGE n removes the n-th, EXISTS grows.
    let mut view: Vec<u32> = (1..=8).collect();
    while view.len() != 5 || !view.contains(&9) {
        let line = classic.line().await;
        if let Some(n) = line.strip_prefix("* ").and_then(|l| l.strip_suffix(" EXPUNGE")) {
            let n: usize = n.parse().unwrap();
            assert!(n >= 1 && n <= view.len(), "{line} with {view:?}");
            view.remove(n - 1);
        } else if let Some(n) = line.strip_prefix("* ").and_then(|l| l.strip_suffix(" EXISTS")) {
            let n: usize = n.parse().unwrap();
            assert!(n > view.len(), "{line}");
            view.push(9);
            assert_eq!(view.len(), n);
        }
    }
    assert_eq!(view, [3, 4, 6, 7, 9]);
    // The QRESYNC session sees the same through VANISHED.
    let mut gone: Vec<u32> = Vec::new();
    let mut exists = 8;
    while gone.len() < 4 || exists != 5 {
        let line = modern.line().await;
        if let Some(set) = line.strip_prefix("* VANISHED ") {
            for part in set.split(',') {
                match part.split_once(':') {
                    Some((a, b)) => gone.extend(a.parse::<u32>().unwrap()..=b.parse().unwrap()),
                    None => gone.push(part.parse().unwrap()),
                }
            }
            exists = 8 - gone.len();
        } else if let Some(n) = line.strip_prefix("* ").and_then(|l| l.strip_suffix(" EXISTS")) {
            exists = n.parse().unwrap();
        }
        assert!(!line.ends_with("EXPUNGE"), "{line}");
    }
    gone.sort_unstable();
    assert_eq!(gone, [1, 2, 5, 8]);

    classic.send(b"DONE\r\n").await;
    modern.send(b"DONE\r\n").await;
    assert!(last(&classic.until_tagged("i1").await).starts_with("i1 OK"));
    assert!(last(&modern.until_tagged("i2").await).starts_with("i2 OK"));
    let uids = classic.command("f1", "FETCH 1:* (UID)").await;
    let uids: Vec<_> = uids.iter().filter(|l| l.starts_with("* ")).cloned().collect();
    assert_eq!(
        uids,
        [
            "* 1 FETCH (UID 3)",
            "* 2 FETCH (UID 4)",
            "* 3 FETCH (UID 6)",
            "* 4 FETCH (UID 7)",
            "* 5 FETCH (UID 9)"
        ]
    );
    server.shutdown().await;
}
