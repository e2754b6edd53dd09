//! Sessions against a real store and directory, over TCP and TLS on 127.0.0.1.

mod support;

use base64::Engine;
use congvu_imap::ImapConfig;
use support::{PASSWORD, Server, append, has, last, sample_message};

#[tokio::test]
async fn starttls_port_requires_tls_before_login() {
    let server = Server::start().await;
    let mut c = server.plain().await;
    let caps = c.command("a", "CAPABILITY").await;
    assert!(has(&caps, "STARTTLS") && has(&caps, "LOGINDISABLED"), "{caps:?}");
    assert!(!has(&caps, "AUTH=PLAIN"), "{caps:?}");
    let login = c
        .command("b", &format!("LOGIN {} \"{PASSWORD}\"", server.users[0]))
        .await;
    assert!(last(&login).starts_with("b NO [PRIVACYREQUIRED]"), "{login:?}");
    let auth = c.command("c", "AUTHENTICATE PLAIN AGEAYg==").await;
    assert!(last(&auth).starts_with("c NO [PRIVACYREQUIRED]"), "{auth:?}");
    let select = c.command("d", "SELECT INBOX").await;
    assert!(last(&select).starts_with("d BAD"), "{select:?}");

    // A command pipelined behind STARTTLS was sent in the clear: it is dropped.
    c.send(b"tls STARTTLS\r\ninjected NOOP\r\n").await;
    c.finish_starttls().await;
    let caps = c.command("e", "CAPABILITY").await;
    assert!(!has(&caps, "injected"), "{caps:?}");
    assert!(
        has(&caps, "AUTH=PLAIN") && !has(&caps, "LOGINDISABLED") && !has(&caps, "STARTTLS"),
        "{caps:?}"
    );
    // The password as a synchronising literal: the server asks for it with "+".
    let user = &server.users[0];
    c.send(format!("f LOGIN {user} {{{}}}\r\n", PASSWORD.len()).as_bytes())
        .await;
    assert!(c.line().await.starts_with("+ "));
    c.send(format!("{PASSWORD}\r\n").as_bytes()).await;
    let login = c.until_tagged("f").await;
    assert!(
        last(&login).starts_with("f OK [CAPABILITY IMAP4rev1"),
        "{login:?}"
    );
    let again = c.command("g", "STARTTLS").await;
    assert!(last(&again).starts_with("g BAD"), "{again:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn authenticate_plain_forms() {
    let server = Server::start().await;
    let user = &server.users[0];
    let encode = |s: String| base64::engine::general_purpose::STANDARD.encode(s);

    // SASL-IR.
    let mut c = server.tls().await;
    let ir = encode(format!("\0{user}\0{PASSWORD}"));
    let lines = c.command("a", &format!("AUTHENTICATE PLAIN {ir}")).await;
    assert!(last(&lines).starts_with("a OK"), "{lines:?}");

    // Continuation, with the authorisation identity equal to the user.
    let mut c = server.tls().await;
    c.send(b"a AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.line().await, "+");
    c.send(format!("{}\r\n", encode(format!("{user}\0{user}\0{PASSWORD}"))).as_bytes())
        .await;
    let lines = c.until_tagged("a").await;
    assert!(last(&lines).starts_with("a OK"), "{lines:?}");

    // Cancelled, then a wrong password, then an unknown mechanism.
    let mut c = server.tls().await;
    c.send(b"a AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.line().await, "+");
    c.send(b"*\r\n").await;
    assert!(c.line().await.starts_with("a BAD"));
    let wrong = encode(format!("\0{user}\0wrong password"));
    let lines = c.command("b", &format!("AUTHENTICATE PLAIN {wrong}")).await;
    assert!(
        last(&lines).starts_with("b NO [AUTHENTICATIONFAILED]"),
        "{lines:?}"
    );
    let lines = c.command("c", "AUTHENTICATE CRAM-MD5").await;
    assert!(last(&lines).starts_with("c NO"), "{lines:?}");
    let lines = c.command("d", &format!("LOGIN {user} \"wrong\"")).await;
    assert!(
        last(&lines).starts_with("d NO [AUTHENTICATIONFAILED]"),
        "{lines:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn mailbox_management_with_vietnamese_names() {
    let server = Server::start().await;
    let mut c = server.login(0).await;
    let list = c.command("a", "LIST \"\" \"*\"").await;
    for want in [
        "* LIST (\\HasNoChildren) \"/\" \"INBOX\"",
        "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"",
        "* LIST (\\HasNoChildren \\Trash) \"/\" \"Trash\"",
        "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"",
    ] {
        assert!(lines_contain(&list, want), "{want} in {list:?}");
    }
    let empty = c.command("b", "LIST \"\" \"\"").await;
    assert_eq!(empty[0], "* LIST (\\Noselect) \"/\" \"\"");

    // "Công văn đến/2024" in modified UTF-7: the parent is created too.
    let create = c.command("c", "CREATE \"C&APQ-ng v&AQM-n &AREevw-n/2024\"").await;
    assert!(last(&create).starts_with("c OK"), "{create:?}");
    let list = c.command("d", "LIST \"\" \"C&APQ-ng*\"").await;
    assert!(
        lines_contain(
            &list,
            "* LIST (\\HasChildren) \"/\" \"C&APQ-ng v&AQM-n &AREevw-n\""
        ),
        "{list:?}"
    );
    assert!(
        lines_contain(
            &list,
            "* LIST (\\HasNoChildren) \"/\" \"C&APQ-ng v&AQM-n &AREevw-n/2024\""
        ),
        "{list:?}"
    );
    let top = c.command("e", "LIST \"\" %").await;
    assert!(!has(&top, "2024"), "{top:?}");
    let dup = c.command("f", "CREATE \"C&APQ-ng v&AQM-n &AREevw-n\"").await;
    assert!(last(&dup).starts_with("f NO [ALREADYEXISTS]"), "{dup:?}");
    // Well-formed (RFC 3501 §9) but not modified UTF-7: refused, not a syntax error.
    let bad = c.command("g", "CREATE \"&Jjo\"").await;
    assert!(last(&bad).starts_with("g NO [CANNOT]"), "{bad:?}");

    let rename = c
        .command(
            "h",
            "RENAME \"C&APQ-ng v&AQM-n &AREevw-n\" \"C&APQ-ng v&AQM-n &AREevw-n c&AWk-\"",
        )
        .await;
    assert!(last(&rename).starts_with("h OK"), "{rename:?}");
    let list = c.command("i", "LIST \"\" *").await;
    assert!(
        has(&list, "\"C&APQ-ng v&AQM-n &AREevw-n c&AWk-/2024\""),
        "{list:?}"
    );

    // New mailboxes start subscribed; unsubscribing the parent leaves it listed in
    // LSUB only as a \Noselect level above a subscribed child.
    let unsub = c
        .command("j0", "UNSUBSCRIBE \"C&APQ-ng v&AQM-n &AREevw-n c&AWk-\"")
        .await;
    assert!(last(&unsub).starts_with("j0 OK"), "{unsub:?}");
    let sub = c
        .command("j", "SUBSCRIBE \"C&APQ-ng v&AQM-n &AREevw-n c&AWk-/2024\"")
        .await;
    assert!(last(&sub).starts_with("j OK"), "{sub:?}");
    let lsub = c.command("k", "LSUB \"\" *").await;
    assert!(
        has(
            &lsub,
            "* LSUB (\\HasNoChildren) \"/\" \"C&APQ-ng v&AQM-n &AREevw-n c&AWk-/2024\""
        ),
        "{lsub:?}"
    );
    assert!(
        has(
            &lsub,
            "* LSUB (\\Noselect \\HasChildren) \"/\" \"C&APQ-ng v&AQM-n &AREevw-n c&AWk-\""
        ),
        "{lsub:?}"
    );
    let unsub = c
        .command("l", "UNSUBSCRIBE \"C&APQ-ng v&AQM-n &AREevw-n c&AWk-/2024\"")
        .await;
    assert!(last(&unsub).starts_with("l OK"), "{unsub:?}");

    let delete = c
        .command("m", "DELETE \"C&APQ-ng v&AQM-n &AREevw-n c&AWk-/2024\"")
        .await;
    assert!(last(&delete).starts_with("m OK"), "{delete:?}");
    let inbox = c.command("n", "DELETE inbox").await;
    assert!(last(&inbox).starts_with("n NO"), "{inbox:?}");
    let missing = c.command("o", "DELETE nothing-here").await;
    assert!(last(&missing).starts_with("o NO [NONEXISTENT]"), "{missing:?}");

    let status = c
        .command(
            "p",
            "STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE)",
        )
        .await;
    assert!(
        status[0].starts_with("* STATUS \"INBOX\" (MESSAGES 0 RECENT 0 UIDNEXT 1 UIDVALIDITY "),
        "{status:?}"
    );
    let ns = c.command("q", "NAMESPACE").await;
    assert_eq!(ns[0], "* NAMESPACE ((\"\" \"/\")) NIL ((\"Shared/\" \"/\"))");
    let quota = c.command("r", "GETQUOTAROOT INBOX").await;
    assert_eq!(quota[0], "* QUOTAROOT \"INBOX\" \"\"");
    assert_eq!(quota[1], "* QUOTA \"\" (STORAGE 0 102400)");
    let quota = c.command("s", "GETQUOTA \"\"").await;
    assert!(last(&quota).starts_with("s OK"), "{quota:?}");
    let id = c.command("t", "ID (\"name\" \"test\" \"version\" NIL)").await;
    assert!(id[0].starts_with("* ID (\"name\" \"congvu\""), "{id:?}");
    let enable = c.command("u", "ENABLE CONDSTORE").await;
    assert_eq!(enable[0], "* ENABLED CONDSTORE");
    server.shutdown().await;
}

fn lines_contain(lines: &[String], line: &str) -> bool {
    lines.iter().any(|l| l == line)
}

#[tokio::test]
async fn append_fetch_store_search_copy_move_expunge() {
    let server = Server::start().await;
    let mut c = server.login(0).await;
    let message = sample_message("=?UTF-8?B?Q8O0bmcgdsSDbiBz4buRIDEyMw==?=");

    // Synchronising literal: the server asks for the data first.
    c.send(
        format!(
            "a APPEND INBOX (\\Flagged) \" 5-Mar-2024 09:30:00 +0700\" {{{}}}\r\n",
            message.len()
        )
        .as_bytes(),
    )
    .await;
    assert!(c.line().await.starts_with("+ "));
    c.send(&message).await;
    c.send(b"\r\n").await;
    let lines = c.until_tagged("a").await;
    assert!(last(&lines).starts_with("a OK [APPENDUID "), "{lines:?}");
    let uidvalidity: u32 = last(&lines).split(' ').nth(3).unwrap().parse().unwrap();
    assert!(last(&lines).contains(&format!("[APPENDUID {uidvalidity} 1]")));
    // Non-synchronising literal.
    let second = sample_message("plain subject");
    assert!(
        append(&mut c, "INBOX", "()", &second)
            .await
            .starts_with("ap OK [APPENDUID")
    );
    let missing = append(&mut c, "Nowhere", "()", &second).await;
    assert!(missing.starts_with("ap NO [TRYCREATE]"), "{missing}");
    // The two stored messages are counted, the refused one is not.
    let (messages, bytes) = server
        .metrics
        .snapshot()
        .iter()
        .fold((0, 0), |(m, b), l| (m + l.messages, b + l.message_bytes));
    assert_eq!(messages, 2);
    assert_eq!(bytes, u64::try_from(message.len() + second.len()).unwrap());

    // The first SELECT after the APPENDs: both messages are \Recent here (RFC 3501
    // §2.3.2), and only here.
    let select = c.command("b", "SELECT \"INBOX\"").await;
    for want in [
        "* 2 EXISTS",
        "* 2 RECENT",
        "* OK [UNSEEN 1]",
        "* OK [UIDNEXT 3]",
        "\\*)]",
        "b OK [READ-WRITE]",
    ] {
        assert!(has(&select, want), "{want} in {select:?}");
    }
    assert!(has(&select, &format!("* OK [UIDVALIDITY {uidvalidity}]")));

    // What mbsync asks first.
    let flags = c.command("c", "UID FETCH 1:* (UID FLAGS)").await;
    assert_eq!(flags[0], "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))");
    assert_eq!(flags[1], "* 2 FETCH (UID 2 FLAGS (\\Recent))");

    // BODY.PEEK keeps \Seen off; BODY[] is byte-identical and sets it.
    c.send(b"d FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)])\r\n")
        .await;
    let peek = c.until_tagged("d").await;
    assert!(
        peek[0].contains("Subject: =?UTF-8?B?Q8O0bmcgdsSDbiBz4buRIDEyMw==?="),
        "{peek:?}"
    );
    assert!(!peek[0].contains("FLAGS"), "{peek:?}");
    c.send(b"e UID FETCH 1 BODY[]\r\n").await;
    let response = c.response_bytes().await;
    let prefix = format!("* 1 FETCH (UID 1 BODY[] {{{}}}\r\n", message.len());
    assert!(
        response.starts_with(prefix.as_bytes()),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert_eq!(
        &response[prefix.len()..prefix.len() + message.len()],
        &message[..]
    );
    assert!(
        response.ends_with(b" FLAGS (\\Seen \\Flagged \\Recent))\r\n"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert!(c.line().await.starts_with("e OK"));

    let structure = c
        .command("f", "FETCH 1 (BODYSTRUCTURE ENVELOPE RFC822.SIZE INTERNALDATE)")
        .await;
    let s = &structure[0];
    assert!(s.contains("(\"application\" \"pdf\" (\"name\" \"cv123.pdf\") NIL NIL \"base64\" 28 NIL (\"attachment\" (\"filename\" \"cv123.pdf\")) NIL NIL)"), "{s}");
    assert!(s.contains(&format!("RFC822.SIZE {}", message.len())), "{s}");
    assert!(s.contains("INTERNALDATE \"05-Mar-2024 09:30:00 +0700\""), "{s}");
    assert!(
        s.contains("((\"=?UTF-8?B?Tmd1eeG7hW4gVsSDbiBB?=\" NIL \"nva\" \"thanhhoa.gov.vn\"))"),
        "{s}"
    );
    let part = c
        .command("g", "FETCH 1 (BODY.PEEK[1.MIME] BODY.PEEK[2]<0.8>)")
        .await;
    assert!(part[0].contains("BODY[1.MIME] {"), "{part:?}");
    assert!(has(&part, "Content-Type: text/plain; charset=utf-8"), "{part:?}");
    assert!(has(&part, "BODY[2]<0> {8}"), "{part:?}");

    let store = c.command("h", "STORE 2 +FLAGS ($Forwarded \\Answered)").await;
    assert!(
        has(
            &store,
            "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded)"
        ),
        "{store:?}"
    );
    assert!(
        has(&store, "* 2 FETCH (FLAGS (\\Answered \\Recent $Forwarded) UID 2)"),
        "{store:?}"
    );
    let silent = c.command("i", "UID STORE 2 -FLAGS.SILENT (\\Answered)").await;
    assert_eq!(silent.len(), 1, "{silent:?}");

    let search = |key: &str| format!("SEARCH {key}");
    for (key, want) in [
        ("ALL", "* SEARCH 1 2"),
        ("SEEN", "* SEARCH 1"),
        ("UNSEEN", "* SEARCH 2"),
        ("FLAGGED", "* SEARCH 1"),
        ("KEYWORD $Forwarded", "* SEARCH 2"),
        ("CHARSET UTF-8 SUBJECT \"công văn\"", "* SEARCH 1"),
        ("SUBJECT plain", "* SEARCH 2"),
        ("FROM \"Nguyễn\"", "* SEARCH 1 2"),
        ("BODY \"KÍNH GỬI\"", "* SEARCH 1 2"),
        ("TEXT cv123.pdf", "* SEARCH 1 2"),
        ("HEADER Message-ID \"\"", "* SEARCH 1 2"),
        ("HEADER X-Missing \"\"", "* SEARCH"),
        ("SENTON 5-Mar-2024", "* SEARCH 1 2"),
        ("SENTBEFORE 5-Mar-2024", "* SEARCH"),
        ("ON 5-Mar-2024 FLAGGED", "* SEARCH 1"),
        ("OR 1 KEYWORD $Forwarded", "* SEARCH 1 2"),
        ("NOT (SEEN)", "* SEARCH 2"),
        ("LARGER 100 SMALLER 100000", "* SEARCH 1 2"),
        ("UID 2:*", "* SEARCH 2"),
        ("2", "* SEARCH 2"),
    ] {
        let lines = c.command("s", &search(key)).await;
        assert_eq!(lines[0], want, "SEARCH {key}: {lines:?}");
    }
    let uid_search = c.command("s", "UID SEARCH UNSEEN").await;
    assert_eq!(uid_search[0], "* SEARCH 2");
    let charset = c.command("s", "SEARCH CHARSET KOI8-R ALL").await;
    assert!(last(&charset).starts_with("s NO [BADCHARSET"), "{charset:?}");

    let copy = c.command("j", "COPY 1:2 Archive").await;
    assert!(last(&copy).starts_with("j OK [COPYUID "), "{copy:?}");
    assert!(last(&copy).ends_with(" 1:2 1:2] COPY completed"), "{copy:?}");
    let trycreate = c.command("k", "COPY 1 Nowhere").await;
    assert!(last(&trycreate).starts_with("k NO [TRYCREATE]"), "{trycreate:?}");

    let moved = c.command("l", "UID MOVE 1 Trash").await;
    assert!(has(&moved, "* OK [COPYUID "), "{moved:?}");
    assert!(has(&moved, "* 1 EXPUNGE"), "{moved:?}");
    assert!(last(&moved).starts_with("l OK"), "{moved:?}");
    let after = c.command("m", "FETCH 1 UID").await;
    assert_eq!(after[0], "* 1 FETCH (UID 2)");

    let delete = c.command("n", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    assert!(last(&delete).starts_with("n OK"), "{delete:?}");
    let expunge = c.command("o", "EXPUNGE").await;
    assert_eq!(expunge[0], "* 1 EXPUNGE");
    let noop = c.command("p", "FETCH 1 FLAGS").await;
    assert!(last(&noop).starts_with("p BAD"), "{noop:?}");

    // EXAMINE: read-only, no \Seen.
    let examine = c.command("q", "EXAMINE Archive").await;
    assert!(has(&examine, "* OK [CLOSED]") || !has(&examine, "CLOSED"));
    assert!(last(&examine).starts_with("q OK [READ-ONLY]"), "{examine:?}");
    assert!(has(&examine, "[PERMANENTFLAGS ()]"), "{examine:?}");
    let fetch = c.command("r", "FETCH 2 (BODY[TEXT])").await;
    assert!(!has(&fetch, "FLAGS"), "{fetch:?}");
    // Copied and moved in, never selected read-write, but EXAMINE shows no
    // \Recent (RFC 3501 §2.3.2: only the session that claims it).
    let flags = c.command("r2", "FETCH 2 FLAGS").await;
    assert!(
        flags[0].contains("FLAGS (\\Answered $Forwarded)") || flags[0].contains("FLAGS ($Forwarded)"),
        "{flags:?}"
    );
    let store = c.command("t", "STORE 1 +FLAGS (\\Deleted)").await;
    assert!(last(&store).starts_with("t NO"), "{store:?}");
    let close = c.command("u", "CLOSE").await;
    assert!(last(&close).starts_with("u OK"), "{close:?}");
    let fetch = c.command("v", "FETCH 1 FLAGS").await;
    assert!(last(&fetch).starts_with("v BAD"), "{fetch:?}");

    // UID EXPUNGE expunges only the named UIDs.
    let select = c.command("w", "SELECT Archive").await;
    assert!(has(&select, "* 2 EXISTS"), "{select:?}");
    c.command("x", "STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
    let expunge = c.command("y", "UID EXPUNGE 2").await;
    assert_eq!(expunge[0], "* 2 EXPUNGE", "{expunge:?}");
    assert_eq!(expunge.len(), 2, "{expunge:?}");
    let unselect = c.command("z", "UNSELECT").await;
    assert!(last(&unselect).starts_with("z OK"), "{unselect:?}");
    let status = c.command("z1", "STATUS Archive (MESSAGES DELETED)").await;
    assert_eq!(status[0], "* STATUS \"Archive\" (MESSAGES 1 DELETED 1)");
    let logout = c.command("z2", "LOGOUT").await;
    assert!(logout[0].starts_with("* BYE"), "{logout:?}");
    assert!(c.closed().await);
    server.shutdown().await;
}

#[tokio::test]
async fn idle_sees_other_sessions_and_done_pipelines() {
    let server = Server::start().await;
    let mut watcher = server.login(0).await;
    let mut writer = server.login(0).await;
    watcher.command("a", "SELECT INBOX").await;
    watcher.send(b"b IDLE\r\n").await;
    assert_eq!(watcher.line().await, "+ idling");

    assert!(
        append(&mut writer, "INBOX", "()", &sample_message("one"))
            .await
            .starts_with("ap OK")
    );
    assert_eq!(watcher.line().await, "* 1 EXISTS");
    assert_eq!(watcher.line().await, "* 1 RECENT");

    writer.command("c", "SELECT INBOX").await;
    writer.command("d", "STORE 1 +FLAGS (\\Flagged)").await;
    assert_eq!(
        watcher.line().await,
        "* 1 FETCH (FLAGS (\\Flagged \\Recent) UID 1)"
    );
    writer.command("e", "STORE 1 +FLAGS (\\Deleted)").await;
    assert_eq!(
        watcher.line().await,
        "* 1 FETCH (FLAGS (\\Flagged \\Deleted \\Recent) UID 1)"
    );
    writer.command("f", "EXPUNGE").await;
    assert_eq!(watcher.line().await, "* 1 EXPUNGE");

    // Thunderbird sends DONE and the next command in one packet.
    watcher.send(b"DONE\r\ng NOOP\r\n").await;
    assert!(watcher.line().await.starts_with("b OK"));
    assert!(watcher.line().await.starts_with("g OK"));

    // IDLE in the Authenticated state just waits for DONE.
    let mut idle = server.login(1).await;
    idle.send(b"h IDLE\r\n").await;
    assert_eq!(idle.line().await, "+ idling");
    idle.send(b"nope\r\n").await;
    assert!(idle.line().await.starts_with("h BAD"));
    server.shutdown().await;
}

#[tokio::test]
async fn pending_expunge_waits_for_an_allowed_command() {
    let server = Server::start().await;
    let mut a = server.login(0).await;
    let mut b = server.login(0).await;
    for subject in ["one", "two"] {
        append(&mut a, "INBOX", "(\\Deleted)", &sample_message(subject)).await;
    }
    a.command("s", "SELECT INBOX").await;
    b.command("s", "SELECT INBOX").await;
    b.command("x", "EXPUNGE").await;
    // FETCH must not announce the expunge; the gone message's body is not sent,
    // and the command still succeeds (RFC 2180 §4.1).
    let fetch = a.command("f", "FETCH 1:2 (UID)").await;
    assert!(!has(&fetch, "EXPUNGE"), "{fetch:?}");
    assert!(has(&fetch, "* 1 FETCH (UID 1)"), "{fetch:?}");
    let body = a.command("g", "FETCH 2 BODY.PEEK[]").await;
    assert!(last(&body).starts_with("g OK [EXPUNGEISSUED]"), "{body:?}");
    let search = a.command("h", "SEARCH ALL").await;
    assert!(!has(&search, "EXPUNGE"), "{search:?}");
    let noop = a.command("n", "NOOP").await;
    assert_eq!(
        &noop[..2],
        &["* 2 EXPUNGE".to_string(), "* 1 EXPUNGE".to_string()],
        "{noop:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_says_bye_to_idle_and_waiting_sessions() {
    let server = Server::start().await;
    let mut idle = server.login(0).await;
    idle.command("a", "SELECT INBOX").await;
    idle.send(b"b IDLE\r\n").await;
    assert_eq!(idle.line().await, "+ idling");
    let mut waiting = server.plain().await;
    let store = server.store.clone();
    server.shutdown().await;
    assert!(idle.line().await.starts_with("* BYE"));
    assert!(waiting.line().await.starts_with("* BYE Server shutting down"));
    drop(store);
}

/// `[imap] compress = false`: COMPRESS=DEFLATE is neither advertised nor accepted;
/// the default offers it.
#[tokio::test]
async fn compress_can_be_turned_off() {
    for compress in [true, false] {
        let server = Server::start_with(ImapConfig {
            compress,
            ..ImapConfig::default()
        })
        .await;
        let mut c = server.login(0).await;
        let caps = c.command("a", "CAPABILITY").await;
        assert_eq!(caps[0].contains(" COMPRESS=DEFLATE"), compress, "{caps:?}");
        assert!(caps[0].contains(" UTF8=ACCEPT"), "{caps:?}");
        if !compress {
            let reply = c.command("b", "COMPRESS DEFLATE").await;
            assert!(reply.last().unwrap().starts_with("b BAD"), "{reply:?}");
            let reply = c.command("c", "NOOP").await;
            assert!(reply.last().unwrap().starts_with("c OK"), "{reply:?}");
        }
        server.shutdown().await;
    }
}
