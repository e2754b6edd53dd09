//! IMAP conformance against the real binary: C:/S: transcripts adapted from the
//! examples of RFC 3501/9051 and RFC 7162, imaplib checks for every advertised
//! capability (`tests/py/imap_rfc.py` fails on an advertised capability it has no
//! check for), real clients (mbsync, curl), and client autoconfiguration over HTTPS
//! (Thunderbird's config-v1.1.xml validated against its format, Outlook
//! autodiscover POX and v2), and more real clients reading mail: NeoMutt in a
//! terminal (tmux) and fetchmail.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Replays a transcript. `C:` lines are sent (the tag is the first word); `S:`
/// lines are expected in order among the responses up to the tagged one, where
/// `…` in an expected line matches any text. Untagged lines not listed are allowed
/// (servers may send more), tagged ones must match.
fn replay(raw: &mut Raw, transcript: &str) {
    let mut expected: Vec<&str> = Vec::new();
    let mut pending: Option<(String, String)> = None;
    let flush = |raw: &mut Raw, pending: &mut Option<(String, String)>, expected: &mut Vec<&str>| {
        let Some((tag, command)) = pending.take() else {
            return;
        };
        raw.send(format!("{command}\r\n").as_bytes());
        let lines = raw.until(&format!("{tag} "));
        let mut at = 0;
        for want in expected.drain(..) {
            let found = lines[at..].iter().position(|line| matches(line, want));
            match found {
                Some(i) => at += i + 1,
                None => panic!("C: {command}\nexpected S: {want}\nafter line {at} of {lines:#?}"),
            }
        }
    };
    for line in transcript.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(command) = line.strip_prefix("C: ") {
            flush(raw, &mut pending, &mut expected);
            let tag = command.split(' ').next().unwrap().to_owned();
            pending = Some((tag, command.to_owned()));
        } else if let Some(response) = line.strip_prefix("S: ") {
            expected.push(response);
        } else {
            panic!("transcript line without C:/S: {line}");
        }
    }
    flush(raw, &mut pending, &mut expected);
}

/// `want` with `…` as a wildcard.
fn matches(line: &str, want: &str) -> bool {
    let mut parts = want.split('…');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

fn login(server: &Server, user: &str, password: &str) -> Raw {
    let mut raw = Raw::connect_tls(server, server.ports.imaps);
    raw.until("* OK");
    raw.send(format!("a0 LOGIN {user} \"{password}\"\r\n").as_bytes());
    let lines = raw.until("a0 ");
    assert!(lines.last().unwrap().starts_with("a0 OK"), "{lines:?}");
    raw
}

fn append(raw: &mut Raw, tag: &str, mailbox: &str, subject: &str) {
    let body = format!("From: a@thanhhoa.gov.vn\r\nSubject: {subject}\r\n\r\nNội dung.\r\n");
    raw.send(format!("{tag} APPEND {mailbox} {{{}+}}\r\n{body}\r\n", body.len()).as_bytes());
    let lines = raw.until(&format!("{tag} "));
    assert!(
        lines.last().unwrap().starts_with(&format!("{tag} OK [APPENDUID")),
        "{lines:?}"
    );
}

#[test]
fn rfc3501_and_rfc9051_transcripts() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    for subject in ["IMAP4rev1 WG mtg summary and minutes", "Công văn 1", "Công văn 2"] {
        append(&mut raw, "ap", "INBOX", subject);
    }
    // RFC 3501 §6.3.1 / §8, with this mailbox's numbers.
    replay(
        &mut raw,
        r#"
        C: A142 SELECT INBOX
        S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft…)
        S: * OK [PERMANENTFLAGS (\Seen \Answered \Flagged \Deleted \Draft \*)]…
        S: * 3 EXISTS
        S: * 3 RECENT
        S: * OK [UNSEEN 1]…
        S: * OK [UIDVALIDITY …]…
        S: * OK [UIDNEXT 4]…
        S: A142 OK [READ-WRITE] SELECT completed
        C: a003 fetch 1 (flags internaldate rfc822.size envelope)
        S: * 1 FETCH (FLAGS (\Recent) INTERNALDATE "…" RFC822.SIZE … ENVELOPE (NIL "IMAP4rev1 WG mtg summary and minutes" …))
        S: a003 OK FETCH completed
        C: A003 STORE 2:3 +FLAGS (\Deleted)
        S: * 2 FETCH (FLAGS (\Deleted \Recent) UID 2)
        S: * 3 FETCH (FLAGS (\Deleted \Recent) UID 3)
        S: A003 OK STORE completed
        C: A202 EXPUNGE
        S: * 3 EXPUNGE
        S: * 2 EXPUNGE
        S: A202 OK EXPUNGE completed
        C: A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
        S: * SEARCH
        S: A282 OK SEARCH completed
        C: A283 SEARCH RETURN (MIN COUNT) UNSEEN
        S: * ESEARCH (TAG "A283") MIN 1 COUNT 1
        S: A283 OK SEARCH completed
        C: A004 CREATE owatagusiam/
        S: A004 OK…
        C: A683 RENAME owatagusiam blurdybloop
        S: A683 OK…
        C: A685 LIST "" *
        S: * LIST (\HasNoChildren) "/" "INBOX"
        S: * LIST (\HasNoChildren) "/" "blurdybloop"
        S: A685 OK…
        C: A042 STATUS blurdybloop (UIDNEXT MESSAGES)
        S: * STATUS "blurdybloop" (UIDNEXT 1 MESSAGES 0)
        S: A042 OK STATUS completed
        C: A341 CLOSE
        S: A341 OK CLOSE completed
        C: a047 NAMESPACE
        S: * NAMESPACE (("" "/")) NIL (("Shared/" "/"))
        S: a047 OK…
        "#,
    );
    // RFC 7162 §3.1 and §3.2 flows, adapted.
    replay(
        &mut raw,
        r#"
        C: a1 ENABLE QRESYNC
        S: * ENABLED QRESYNC
        S: a1 OK ENABLE completed
        C: a2 SELECT INBOX
        S: * 1 EXISTS
        S: * OK [HIGHESTMODSEQ …]…
        S: a2 OK [READ-WRITE] SELECT completed
        C: a3 UID STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\Flagged)
        S: a3 OK [MODIFIED 1] Conditional STORE failed
        C: a4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
        S: * VANISHED (EARLIER) 2:3
        S: * 1 FETCH (UID 1 FLAGS () MODSEQ (…))
        S: a4 OK FETCH completed
        C: a5 UID SEARCH MODSEQ 1
        S: * SEARCH 1 (MODSEQ …)
        S: a5 OK SEARCH completed
        C: a6 LOGOUT
        S: * BYE…
        S: a6 OK…
        "#,
    );
}

/// RFC 5256 SORT and THREAD, RFC 5957 DISPLAYFROM, on messages whose headers
/// exercise base subjects (`Re:`, `[Fwd: …]`), sent dates and references.
#[test]
fn rfc5256_sort_and_thread_transcripts() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    // (From, Subject, day of March 2024, Message-ID, extra header, body padding)
    let messages = [
        ("Zed <zed@x.vn>", "Kế hoạch", 4, "k1", "", 5000),
        (
            "Anh <amy@x.vn>",
            "Re: Kế hoạch",
            5,
            "k2",
            "References: <k1@x.vn>\r\n",
            1000,
        ),
        ("\"Bảo\" <Bob@x.vn>", "Báo cáo", 3, "b1", "", 3000),
        (
            "Anh <amy@x.vn>",
            "Khác",
            6,
            "k3",
            "In-Reply-To: <k1@x.vn>\r\n",
            2000,
        ),
        ("Chi <chi@x.vn>", "[Fwd: Báo cáo]", 7, "b2", "", 4000),
    ];
    for (i, (from, subject, day, id, extra, padding)) in messages.iter().enumerate() {
        let body = format!(
            "From: {from}\r\nSubject: {subject}\r\nDate: {day} Mar 2024 08:00:00 +0700\r\n\
             Message-ID: <{id}@x.vn>\r\n{extra}\r\n{}\r\n",
            "x".repeat(*padding)
        );
        let tag = format!("ap{i}");
        raw.send(format!("{tag} APPEND INBOX {{{}+}}\r\n{body}\r\n", body.len()).as_bytes());
        let lines = raw.until(&format!("{tag} "));
        assert!(
            lines.last().unwrap().starts_with(&format!("{tag} OK")),
            "{lines:?}"
        );
    }
    replay(
        &mut raw,
        r#"
        C: s0 SELECT INBOX
        S: * 5 EXISTS
        S: s0 OK [READ-WRITE]…
        C: A282 SORT (SUBJECT) UTF-8 ALL
        S: * SORT 3 5 1 2 4
        S: A282 OK SORT completed
        C: A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL
        S: * SORT 5 3 2 1 4
        S: A283 OK SORT completed
        C: A284 SORT (REVERSE DATE) US-ASCII ALL
        S: * SORT 5 4 2 1 3
        S: A284 OK SORT completed
        C: A285 SORT (FROM) UTF-8 NOT FROM chi
        S: * SORT 2 4 3 1
        S: A285 OK SORT completed
        C: A286 SORT (DISPLAYFROM) UTF-8 ALL
        S: * SORT 2 4 3 5 1
        S: A286 OK SORT completed
        C: A287 UID SORT (REVERSE SIZE) UTF-8 ALL
        S: * SORT 1 5 3 4 2
        S: A287 OK SORT completed
        C: A288 SORT (SUBJECT) UTF-8 FROM nobody
        S: * SORT
        S: A288 OK SORT completed
        C: A289 SORT (SUBJECT) KOI8-R ALL
        S: A289 NO [BADCHARSET (UTF-8 US-ASCII)]…
        C: A290 SORT (COLOUR) UTF-8 ALL
        S: A290 BAD…
        C: A291 THREAD ORDEREDSUBJECT UTF-8 ALL
        S: * THREAD (3 5)(1 2)(4)
        S: A291 OK THREAD completed
        C: A292 THREAD REFERENCES UTF-8 ALL
        S: * THREAD (3 5)(1 (2)(4))
        S: A292 OK THREAD completed
        C: A293 UID THREAD REFERENCES UTF-8 FROM amy
        S: * THREAD ((2)(4))
        S: A293 OK THREAD completed
        C: A294 THREAD REFERENCES UTF-8 FROM nobody
        S: * THREAD
        S: A294 OK THREAD completed
        C: A295 THREAD SUBJECT UTF-8 ALL
        S: A295 BAD…
        C: A296 UNSELECT
        S: A296 OK…
        C: A297 SORT (SUBJECT) UTF-8 ALL
        S: A297 BAD…
        "#,
    );
}

/// RFC 4314 §3 examples, adapted: the agency's own login administers the ACL of
/// its mailbox, the clerk (official A) then holds the rights given, official B none.
#[test]
fn rfc4314_acl_transcripts() {
    let server = Server::start();
    let (agency, a, b) = server.provision();
    server.cli_ok(
        &["account", "passwd", &agency, "--password-stdin"],
        Some(&format!("{PASSWORD_A}\n")),
    );
    let mut head = login(&server, &agency, PASSWORD_A);
    replay(
        &mut head,
        &format!(
            r#"
        C: A002 GETACL INBOX
        S: * ACL "INBOX" "{agency}" "lrswipkxteacd"
        S: A002 OK GETACL completed
        C: A035 SETACL Drafts {a} lrQswicda
        S: A035 BAD…
        C: A036 SETACL Drafts {a} lrqswicda
        S: A036 BAD…
        C: A037 SETACL Drafts {a} lrswicda
        S: A037 NO [CANNOT]…
        C: A038 SETACL Drafts {a} lrswicd
        S: A038 OK SETACL completed
        C: A039 SETACL INBOX {a} -cd
        S: A039 OK SETACL completed
        C: A001 GETACL INBOX
        S: * ACL "INBOX" "{agency}" "lrswipkxteacd" "{a}" "lrswi"
        S: A001 OK GETACL completed
        C: a001 LISTRIGHTS Sent {a}
        S: * LISTRIGHTS "Sent" "{a}" "" l r s w i p k x t e
        S: a001 OK LISTRIGHTS completed
        C: a002 LISTRIGHTS Sent {agency}
        S: * LISTRIGHTS "Sent" "{agency}" "lrswipkxteacd"
        S: a002 OK LISTRIGHTS completed
        C: A003 MYRIGHTS INBOX
        S: * MYRIGHTS "INBOX" "lrswipkxteacd"
        S: A003 OK MYRIGHTS completed
        C: A004 DELETEACL INBOX {agency}
        S: A004 NO [CANNOT]…
        "#
        ),
    );
    let mut clerk = login(&server, &a, PASSWORD_A);
    replay(
        &mut clerk,
        r#"
        C: c1 MYRIGHTS Shared/sttt/INBOX
        S: * MYRIGHTS "Shared/sttt/INBOX" "lrswi"
        S: c1 OK MYRIGHTS completed
        C: c2 GETACL Shared/sttt/INBOX
        S: c2 NO [NOPERM]…
        C: c3 EXAMINE Shared/sttt/INBOX
        S: * 0 EXISTS
        S: c3 OK [READ-ONLY] EXAMINE completed
        C: c4 DELETE Shared/sttt/Junk
        S: c4 NO [NOPERM]…
        C: c5 MYRIGHTS INBOX
        S: * MYRIGHTS "INBOX" "lrswipkxteacd"
        S: c5 OK MYRIGHTS completed
        C: c6 CLOSE
        S: c6 OK CLOSE completed
        "#,
    );
    let mut other = login(&server, &b, PASSWORD_B);
    replay(
        &mut other,
        r#"
        C: o1 MYRIGHTS Shared/sttt/INBOX
        S: o1 NO [NONEXISTENT] No such mailbox
        "#,
    );
    replay(
        &mut head,
        &format!(
            r#"
        C: A005 DELETEACL Drafts {a}
        S: A005 OK DELETEACL completed
        C: A006 GETACL INBOX
        S: * ACL "INBOX" "{agency}" "lrswipkxteacd"
        S: A006 OK GETACL completed
        "#
        ),
    );
    replay(
        &mut clerk,
        r#"
        C: c7 SELECT Shared/sttt/INBOX
        S: c7 NO [NONEXISTENT] No such mailbox
        "#,
    );
}

/// RFC 3516 BINARY: decoded parts, literal8 both ways, BINARY.SIZE, and the
/// UNKNOWN-CTE refusal.
#[test]
fn rfc3516_binary_transcript() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    let message = "From: a@thanhhoa.gov.vn\r\nSubject: Tệp đính kèm\r\n\
        Content-Type: multipart/mixed; boundary=ranh\r\n\r\n\
        --ranh\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
        C=C3=B4ng v=C4=83n\r\n\
        --ranh\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC/w==\r\n\
        --ranh\r\nContent-Type: application/x-old\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n\
        --ranh--\r\n";
    raw.send(format!("ap APPEND INBOX {{{}+}}\r\n{message}\r\n", message.len()).as_bytes());
    raw.until("ap OK");
    replay(
        &mut raw,
        r#"
        C: s SELECT INBOX
        S: s OK…
        C: A1 FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY.SIZE[2])
        S: * 1 FETCH (BINARY[1] {10}
        S: A1 OK FETCH completed
        C: A2 FETCH 1 (BINARY.PEEK[3])
        S: A2 NO [UNKNOWN-CTE]…
        C: A2b FETCH 1 (BINARY[3])
        S: A2b NO [UNKNOWN-CTE]…
        C: A3 FETCH 1 (FLAGS)
        S: * 1 FETCH (FLAGS (\Recent))
        S: A3 OK FETCH completed
        C: A4 FETCH 1 (BINARY[1]<4.3>)
        S: * 1 FETCH (BINARY[1]<4> {3}
        S: A4 OK FETCH completed
        C: A5 FETCH 1 (FLAGS)
        S: * 1 FETCH (FLAGS (\Seen \Recent))
        S: A5 OK FETCH completed
        C: A6 FETCH 1 BINARY[1.HEADER]
        S: A6 BAD…
        "#,
    );
    // The decoded bytes themselves: literal8 (`~{n}`) because they hold NUL.
    raw.send(b"b1 FETCH 1 (BINARY.PEEK[2])\r\n");
    let lines = raw.until("b1 ");
    assert_eq!(lines[0], "* 1 FETCH (BINARY[2] ~{4}", "{lines:?}");
    assert!(lines.last().unwrap().starts_with("b1 OK"), "{lines:?}");
    // BINARY.SIZE is the decoded size: 10 bytes of "Công văn", 4 of the attachment.
    raw.send(b"b2 FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2])\r\n");
    let lines = raw.until("b2 ");
    assert_eq!(
        lines[0], "* 1 FETCH (BINARY.SIZE[1] 10 BINARY.SIZE[2] 4)",
        "{lines:?}"
    );
    // APPEND with a literal8 stores the bytes as sent, NUL included.
    raw.send(b"b3 APPEND INBOX ~{21+}\r\nSubject: nul\r\n\r\na\x00b\r\n\r\n");
    let lines = raw.until("b3 ");
    assert!(lines.last().unwrap().starts_with("b3 OK [APPENDUID"), "{lines:?}");
    raw.send(b"b4 FETCH 2 (BINARY.PEEK[1])\r\n");
    let lines = raw.until("b4 ");
    assert_eq!(lines[0], "* 2 FETCH (BINARY[1] ~{5}", "{lines:?}");
}

/// RFC 5182 SEARCHRES (`SEARCH RETURN (SAVE)` and `$`), adapted from its §3
/// examples, and RFC 8438 STATUS SIZE.
#[test]
fn rfc5182_searchres_and_rfc8438_status_size_transcript() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    let subjects = ["Họp giao ban", "Báo cáo quý", "Họp chi bộ", "Báo cáo năm"];
    for subject in subjects {
        append(&mut raw, "ap", "INBOX", subject);
    }
    // The sum of the messages' RFC822.SIZE (the `append` helper's message).
    let size: usize = subjects
        .iter()
        .map(|s| format!("From: a@thanhhoa.gov.vn\r\nSubject: {s}\r\n\r\nNội dung.\r\n").len())
        .sum();
    replay(
        &mut raw,
        &format!(
            r#"
        C: z1 STATUS INBOX (MESSAGES SIZE)
        S: * STATUS "INBOX" (MESSAGES 4 SIZE {size})
        S: z1 OK STATUS completed
        C: z2 CREATE "Lưu trữ"
        S: z2 OK…
        C: s SELECT INBOX
        S: s OK [READ-WRITE]…
        "#
        ),
    );
    // SAVE alone: no ESEARCH, just the OK (RFC 5182 §2.4).
    raw.send("A282 SEARCH RETURN (SAVE) SUBJECT \"Họp\"\r\n".as_bytes());
    let lines = raw.until("A282 ");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("A282 OK"), "{lines:?}");
    replay(
        &mut raw,
        r#"
        C: A283 FETCH $ (UID)
        S: * 1 FETCH (UID 1)
        S: * 3 FETCH (UID 3)
        S: A283 OK FETCH completed
        C: A284 STORE $ +FLAGS (\Flagged)
        S: * 1 FETCH (FLAGS (\Flagged…
        S: * 3 FETCH (FLAGS (\Flagged…
        S: A284 OK…
        C: A285 SEARCH RETURN (SAVE MIN COUNT) SUBJECT "Báo cáo"
        S: * ESEARCH (TAG "A285") MIN 2 COUNT 2
        S: A285 OK SEARCH completed
        C: A286 UID SEARCH $
        S: * SEARCH 2 4
        S: A286 OK SEARCH completed
        C: A287 SEARCH RETURN (SAVE MAX) ALL
        S: * ESEARCH (TAG "A287") MAX 4
        S: A287 OK SEARCH completed
        C: A288 SEARCH NOT $
        S: * SEARCH 1 2 3
        S: A288 OK SEARCH completed
        C: A289 UID COPY $ "Lưu trữ"
        S: A289 OK [COPYUID … 4 1]…
        C: A290 STORE $ +FLAGS.SILENT (\Deleted)
        S: A290 OK…
        C: A291 UID EXPUNGE $
        S: * 4 EXPUNGE
        S: A291 OK…
        C: A292 UID SEARCH UID $
        S: * SEARCH
        S: A292 OK SEARCH completed
        C: A293 SEARCH RETURN (SAVE ALL) FLAGGED
        S: * ESEARCH (TAG "A293") ALL 1,3
        S: A293 OK SEARCH completed
        C: A294 UNSELECT
        S: A294 OK…
        C: A295 SELECT INBOX
        S: A295 OK…
        C: A296 SEARCH $
        S: * SEARCH
        S: A296 OK SEARCH completed
        C: A297 STATUS "Lưu trữ" (SIZE)
        S: * STATUS "L&AbA-u tr&Hu8-" (SIZE …)
        S: A297 OK STATUS completed
        "#,
    );
    // A failed SEARCH (SAVE) empties the saved result (RFC 5182 §2.1).
    raw.send(b"f1 SEARCH RETURN (SAVE) ALL\r\n");
    raw.until("f1 OK");
    raw.send(b"f2 SEARCH RETURN (SAVE) CHARSET KOI8-R ALL\r\n");
    let lines = raw.until("f2 ");
    assert!(
        lines.last().unwrap().starts_with("f2 NO [BADCHARSET"),
        "{lines:?}"
    );
    raw.send(b"f3 FETCH $ (UID)\r\n");
    let lines = raw.until("f3 ");
    assert_eq!(lines.len(), 1, "{lines:?}");
}

/// IMAP4rev2 (RFC 9051 Appendix E) after `ENABLE IMAP4rev2`, beside a session that
/// stays IMAP4rev1: SELECT carries a LIST response and neither RECENT nor UNSEEN,
/// no `\\Recent` anywhere, SEARCH answered by ESEARCH, CHARSET UTF-8 accepted,
/// mailbox names in UTF-8.
#[test]
fn rfc9051_imap4rev2_transcript() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut rev1 = login(&server, &a, PASSWORD_A);
    let mut rev2 = login(&server, &a, PASSWORD_A);
    for subject in ["Công văn đến 1", "Giấy mời"] {
        append(&mut rev1, "ap", "INBOX", subject);
    }
    replay(
        &mut rev2,
        r#"
        C: r1 ENABLE IMAP4rev2
        S: * ENABLED IMAP4rev2
        S: r1 OK ENABLE completed
        "#,
    );
    // RFC 9051 §6.3.2's example, with this mailbox's numbers.
    rev2.send(b"A142 SELECT INBOX\r\n");
    let lines = rev2.until("A142 ");
    for want in [
        "* 2 EXISTS",
        "* LIST () \"/\" \"INBOX\"",
        "A142 OK [READ-WRITE] SELECT completed",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} in {lines:?}");
    }
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("RECENT") && !l.contains("UNSEEN")),
        "{lines:?}"
    );
    rev1.send(b"s1 SELECT INBOX\r\n");
    let lines = rev1.until("s1 ");
    // RFC 3501 §2.3.2: the first IMAP4rev1 session claims them (rev2 takes no part).
    assert!(lines.iter().any(|l| l == "* 2 RECENT"), "{lines:?}");
    // A message arriving while both have INBOX selected: \Recent only for rev1.
    append(&mut rev1, "ap2", "INBOX", "Công văn đến 2");
    replay(
        &mut rev1,
        r#"
        C: s2 FETCH 3 (FLAGS)
        S: * 3 FETCH (FLAGS (\Recent))
        S: s2 OK FETCH completed
        C: s3 SEARCH SUBJECT "Công văn"
        S: * SEARCH 1 3
        S: s3 OK SEARCH completed
        "#,
    );
    rev2.send(b"A143 NOOP\r\n");
    let lines = rev2.until("A143 ");
    assert!(lines.iter().any(|l| l == "* 3 EXISTS"), "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains("RECENT")), "{lines:?}");
    replay(
        &mut rev2,
        r#"
        C: A144 FETCH 3 (FLAGS)
        S: * 3 FETCH (FLAGS ())
        S: A144 OK FETCH completed
        C: A282 SEARCH SUBJECT "Công văn"
        S: * ESEARCH (TAG "A282") ALL 1,3
        S: A282 OK SEARCH completed
        C: A283 UID SEARCH CHARSET UTF-8 SUBJECT "Giấy"
        S: * ESEARCH (TAG "A283") UID ALL 2
        S: A283 OK SEARCH completed
        C: A284 SEARCH SUBJECT "không có"
        S: * ESEARCH (TAG "A284")
        S: A284 OK SEARCH completed
        C: A285 CREATE "Dự án/2024"
        S: A285 OK…
        C: A286 LIST "" "Dự án/%"
        S: * LIST (\HasNoChildren) "/" "Dự án/2024"
        S: A286 OK…
        "#,
    );
}

/// RFC 6855 UTF8=ACCEPT: a session that enabled it reads and writes mailbox names
/// as UTF-8 (`&` is a character), searches UTF-8 without a charset and appends with
/// `UTF8 (~{n})`; a session that did not keeps modified UTF-7 and is still served
/// messages whose headers are raw UTF-8 (§3).
#[test]
fn rfc6855_utf8_accept_transcript() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut old = login(&server, &a, PASSWORD_A);
    let mut new = login(&server, &a, PASSWORD_A);
    replay(
        &mut old,
        r#"
        C: o1 CREATE "C&APQ-ng v&AQM-n &AREevw-n"
        S: o1 OK…
        "#,
    );
    // RFC 6855 §4: the UTF8 APPEND form only after ENABLE UTF8=ACCEPT.
    old.send(b"o2 APPEND INBOX UTF8 (~{3+}\r\nabc)\r\n");
    let lines = old.until("o2 ");
    assert!(lines.last().unwrap().starts_with("o2 BAD"), "{lines:?}");
    replay(
        &mut new,
        r#"
        C: u1 ENABLE UTF8=ACCEPT
        S: * ENABLED UTF8=ACCEPT
        S: u1 OK ENABLE completed
        C: u2 ENABLE UTF8=ACCEPT
        S: * ENABLED
        S: u2 OK ENABLE completed
        C: u3 LIST "" "Công*"
        S: * LIST (\HasNoChildren) "/" "Công văn đến"
        S: u3 OK…
        C: u4 CREATE "Sở TT&TT"
        S: u4 OK…
        C: u5 LIST "" "S*"
        S: * LIST (\HasNoChildren) "/" "Sở TT&TT"
        S: u5 OK…
        C: u6 MYRIGHTS "Sở TT&TT"
        S: * MYRIGHTS "Sở TT&TT" "…"
        S: u6 OK…
        C: u7 GETQUOTAROOT "Sở TT&TT"
        S: * QUOTAROOT "Sở TT&TT"…
        S: u7 OK…
        "#,
    );
    let message = "From: Phòng Hành chính <hc@thanhhoa.gov.vn>\r\nSubject: Giấy mời họp\r\n\r\nKính gửi.\r\n";
    new.send(
        format!(
            "u8 APPEND \"Sở TT&TT\" UTF8 (~{{{}+}}\r\n{message})\r\n",
            message.len()
        )
        .as_bytes(),
    );
    let lines = new.until("u8 ");
    assert!(lines.last().unwrap().starts_with("u8 OK [APPENDUID"), "{lines:?}");
    replay(
        &mut new,
        r#"
        C: u9 STATUS "Sở TT&TT" (MESSAGES)
        S: * STATUS "Sở TT&TT" (MESSAGES 1)
        S: u9 OK STATUS completed
        C: u10 SELECT "Sở TT&TT"
        S: u10 OK [READ-WRITE]…
        C: u11 SEARCH SUBJECT "mời họp"
        S: * SEARCH 1
        S: u11 OK SEARCH completed
        C: u12 SEARCH CHARSET UTF-8 SUBJECT "mời"
        S: u12 BAD…
        C: u13 SORT (SUBJECT) US-ASCII ALL
        S: u13 BAD…
        C: u14 SORT (SUBJECT) UTF-8 FROM "Hành"
        S: * SORT 1
        S: u14 OK…
        "#,
    );
    // The session without UTF8=ACCEPT sees the same names in modified UTF-7 and is
    // still served the message with UTF-8 headers (as a literal).
    replay(
        &mut old,
        r#"
        C: o3 LIST "" "S*"
        S: * LIST (\HasNoChildren) "/" "S&Ht8- TT&-TT"
        S: o3 OK…
        C: o4 STATUS "S&Ht8- TT&-TT" (MESSAGES)
        S: * STATUS "S&Ht8- TT&-TT" (MESSAGES 1)
        S: o4 OK STATUS completed
        C: o5 SELECT "S&Ht8- TT&-TT"
        S: o5 OK [READ-WRITE]…
        "#,
    );
    old.send(b"o6 FETCH 1 (ENVELOPE)\r\n");
    let lines = old.until("o6 ");
    assert!(lines.last().unwrap().starts_with("o6 OK"), "{lines:?}");
    assert!(lines.concat().contains("Giấy mời họp"), "{lines:?}");
}

#[test]
fn imaplib_checks_every_advertised_capability() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let out = python_ok(
        &server,
        "imap_rfc.py",
        &[
            "127.0.0.1".into(),
            server.ports.imaps.to_string(),
            server.cafile(),
            a,
            PASSWORD_A.into(),
        ],
    );
    for capability in [
        "CONDSTORE",
        "QRESYNC",
        "ESEARCH",
        "IDLE",
        "MOVE",
        "ACL",
        "RIGHTS=texk",
        "UTF8=ACCEPT",
        "SEARCHRES",
        "STATUS=SIZE",
        "IMAP4rev2",
    ] {
        assert!(out.contains(&format!("ok   {capability}\n")), "{out}");
    }
}

/// mbsync (isync 1.4, which does not use CONDSTORE itself but must not be upset by
/// it being advertised): a full sync, then a resync after another client flagged,
/// expunged and added messages.
#[test]
fn mbsync_full_sync_and_resync_against_changes() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    for i in 0..4 {
        append(&mut raw, "ap", "INBOX", &format!("Báo cáo {i}"));
    }
    let maildir = server.dir.join("maildir");
    std::fs::create_dir_all(&maildir).unwrap();
    let rc = server.dir.join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount congvu\nHost 127.0.0.1\nPort {port}\nUser {a}\nPass {PASSWORD_A}\nSSLType IMAPS\n\
             CertificateFile {ca}\nAuthMechs LOGIN\n\nIMAPStore remote\nAccount congvu\n\nMaildirStore local\n\
             Path {dir}/\nInbox {dir}/INBOX\nSubFolders Verbatim\n\nChannel sync\nFar :remote:\nNear :local:\n\
             Patterns INBOX\nCreate Near\nExpunge Both\nSyncState *\n",
            port = server.ports.imaps,
            ca = server.cafile(),
            dir = maildir.display(),
        ),
    )
    .unwrap();
    let sync = || {
        let output = run("mbsync", &["-c", &rc.display().to_string(), "-a"]);
        assert!(
            output.status.success(),
            "mbsync failed:\n{}\n{}\nserver log:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            server.log()
        );
    };
    let files = || -> Vec<String> {
        let mut names: Vec<String> = ["cur", "new"]
            .iter()
            .flat_map(|d| {
                std::fs::read_dir(maildir.join("INBOX").join(d))
                    .into_iter()
                    .flatten()
            })
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    sync();
    assert_eq!(files().len(), 4, "{:?}", files());
    replay(
        &mut raw,
        r#"
        C: s1 SELECT INBOX
        S: s1 OK…
        C: s2 STORE 1 +FLAGS.SILENT (\Flagged \Seen)
        S: s2 OK…
        C: s3 STORE 2 +FLAGS.SILENT (\Deleted)
        S: s3 OK…
        C: s4 EXPUNGE
        S: * 2 EXPUNGE
        S: s4 OK…
        "#,
    );
    append(&mut raw, "ap2", "INBOX", "Báo cáo mới");
    sync();
    let now = files();
    assert_eq!(now.len(), 4, "one expunged, one added: {now:?}");
    // Maildir flags: F(lagged) and S(een) for the first message.
    assert_eq!(now.iter().filter(|n| n.ends_with(":2,FS")).count(), 1, "{now:?}");
    // A resync with nothing changed changes nothing.
    sync();
    assert_eq!(files(), now);
}

#[test]
fn curl_reads_over_imaps() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    append(&mut raw, "ap", "INBOX", "Gửi qua curl");
    let url = format!("imaps://localhost:{}/INBOX;UID=1", server.ports.imaps);
    let output = run(
        "curl",
        &[
            "-sS",
            "--cacert",
            &server.cafile(),
            "-u",
            &format!("{a}:{PASSWORD_A}"),
            &url,
        ],
    );
    let body = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && body.contains("Nội dung."),
        "{body}\n{}",
        server.log()
    );
    // A command of curl's choosing: the ESEARCH form.
    let url = format!("imaps://localhost:{}/INBOX", server.ports.imaps);
    let output = run(
        "curl",
        &[
            "-sS",
            "--cacert",
            &server.cafile(),
            "-u",
            &format!("{a}:{PASSWORD_A}"),
            &url,
            "-X",
            "UID SEARCH RETURN (COUNT) ALL",
        ],
    );
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("ESEARCH (TAG \"") && out.contains("COUNT 1"),
        "{out}"
    );
}

/// NeoMutt, as a user runs it: in a terminal (tmux), opening the INBOX over IMAPS
/// with the server's CA trusted, reading the newest message, which marks it seen.
#[test]
fn neomutt_reads_the_inbox_through_tmux() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    append(&mut raw, "ap1", "INBOX", "Công văn số 11 (first)");
    append(&mut raw, "ap2", "INBOX", "Công văn số 12 (neomutt)");
    let home = server.dir.join("neomutt-home");
    std::fs::create_dir_all(&home).unwrap();
    let rc = home.join("muttrc");
    std::fs::write(
        &rc,
        format!(
            "set ssl_ca_certificates_file = \"{ca}\"\nset ssl_force_tls = yes\n\
             set certificate_file = \"{home}/certificates\"\nset imap_user = \"{a}\"\n\
             set imap_pass = \"{PASSWORD_A}\"\nset folder = \"imaps://localhost:{port}/\"\n\
             set spoolfile = \"+INBOX\"\nset header_cache = \"\"\nset message_cachedir = \"\"\n\
             set imap_check_subscribed = no\nset mail_check_stats = no\nset sort = mailbox-order\n\
             set index_format = \"%4C [%s]\"\nset pager_stop = yes\nset wait_key = no\nset mark_old = no\n",
            ca = server.cafile(),
            home = home.display(),
            port = server.ports.imaps,
        ),
    )
    .unwrap();
    let socket = home.join("tmux.sock").display().to_string();
    let tmux = |args: &[&str]| {
        let output = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(args)
            .env("HOME", &home)
            .env("LANG", "C.UTF-8")
            .output()
            .expect("tmux must be installed (.ci/run installs it)");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    /// Ends the tmux server however the test ends, a failed assertion included.
    struct TmuxServer(String);
    impl Drop for TmuxServer {
        fn drop(&mut self) {
            let _ = Command::new("tmux").args(["-S", &self.0, "kill-server"]).output();
        }
    }
    let command = format!("neomutt -n -F {}", rc.display());
    tmux(&["-u", "new-session", "-d", "-x", "160", "-y", "40", &command]);
    let _tmux_server = TmuxServer(socket.clone());
    let screen_with = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = tmux(&["capture-pane", "-p"]);
            if screen.contains(text) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!(
                    "neomutt never showed {text:?}; screen:\n{screen}\nserver log:\n{}",
                    server.log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let index = screen_with("(neomutt)]");
    assert!(index.contains("(first)]"), "{index}");
    // In mailbox order the newest is last: `*` (last-entry), then open it.
    tmux(&["send-keys", "*", "Enter"]);
    let pager = screen_with("Nội dung.");
    assert!(pager.contains("Công văn số 12 (neomutt)"), "{pager}");
    tmux(&["send-keys", "q", "q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux(&["list-sessions"]).contains(':') && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Reading it marked it \Seen on the server; the other stays unseen.
    replay(
        &mut raw,
        r#"
        C: f1 SELECT INBOX
        S: f1 OK…
        C: f2 FETCH 1:2 (FLAGS)
        S: * 1 FETCH (FLAGS ())
        S: * 2 FETCH (FLAGS (\Seen))
        S: f2 OK…
        "#,
    );
}

/// fetchmail over IMAPS with certificate checking, handing each message to an MDA
/// that appends to a file (never SMTP to port 25), deleting what it fetched; a
/// second run finds nothing.
#[test]
fn fetchmail_fetches_and_deletes_over_imaps() {
    let server = Server::start();
    let (_agency, a, _b) = server.provision();
    let mut raw = login(&server, &a, PASSWORD_A);
    append(&mut raw, "ap1", "INBOX", "Báo cáo tuần (fetchmail 1)");
    append(&mut raw, "ap2", "INBOX", "Báo cáo tháng (fetchmail 2)");
    let home = server.dir.join("fetchmail-home");
    std::fs::create_dir_all(&home).unwrap();
    let delivered = home.join("delivered.mbox");
    let rc = home.join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\npoll localhost protocol IMAP port {port}\n  user \"{a}\" there with password \
             \"{PASSWORD_A}\"\n  ssl sslcertck sslcertfile \"{ca}\"\n  fetchall\n  mda \"cat >> {out}\"\n",
            port = server.ports.imaps,
            ca = server.cafile(),
            out = delivered.display(),
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let fetch = || {
        Command::new("fetchmail")
            .args(["--fetchmailrc", &rc.display().to_string()])
            .args(["--pidfile", &home.join("fetchmail.pid").display().to_string()])
            .env("HOME", &home)
            .output()
            .expect("fetchmail must be installed (.ci/run installs it)")
    };
    let output = fetch();
    let mbox = std::fs::read_to_string(&delivered).unwrap_or_default();
    assert!(
        output.status.success() && mbox.contains("(fetchmail 1)") && mbox.contains("(fetchmail 2)"),
        "fetchmail: {:?}\n{}\n{}\ndelivered:\n{mbox}\nserver log:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    assert!(mbox.contains("Nội dung."), "{mbox}");
    // fetchmail deleted and expunged what it delivered: exit 1 is "no mail".
    let again = fetch();
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    replay(
        &mut raw,
        r#"
        C: s1 STATUS INBOX (MESSAGES)
        S: * STATUS "INBOX" (MESSAGES 0)
        S: s1 OK…
        "#,
    );
}

fn curl(server: &Server, args: &[&str]) -> (u16, String) {
    let cafile = server.cafile();
    let mut all = vec!["-sS", "--cacert", cafile.as_str(), "-w", "\n%{http_code}"];
    all.extend_from_slice(args);
    let output = run("curl", &all);
    assert!(
        output.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

fn validate_thunderbird(server: &Server, xml: &str, username: &str) -> String {
    let mut child = Command::new("python3")
        .arg(repo_root().join("tests/py/autoconfig_check.py"))
        .args([DOMAIN, username])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "invalid autoconfig: {}\n{xml}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn autoconfig_and_autodiscover_over_https() {
    let (server, https) = start_with_https();
    let base = format!("https://localhost:{https}");
    let address = format!("tuanna.sttt@{DOMAIN}");
    for path in [
        "/mail/config-v1.1.xml",
        "/.well-known/autoconfig/mail/config-v1.1.xml",
    ] {
        let (code, xml) = curl(&server, &[&format!("{base}{path}")]);
        assert_eq!(code, 200, "{path}: {xml}");
        let servers = validate_thunderbird(&server, &xml, "%EMAILADDRESS%");
        assert!(
            servers.contains(&format!(
                "incoming imap mail.thanhhoa.gov.vn:{} SSL",
                server.ports.imaps
            )),
            "{servers}"
        );
        assert!(
            servers.contains(&format!(
                "outgoing smtp mail.thanhhoa.gov.vn:{} SSL",
                server.ports.submissions
            )),
            "{servers}"
        );
        let (code, xml) = curl(&server, &[&format!("{base}{path}?emailaddress={address}")]);
        assert_eq!(code, 200);
        validate_thunderbird(&server, &xml, &address);
    }
    let (code, _) = curl(
        &server,
        &[&format!("{base}/mail/config-v1.1.xml?emailaddress=a@example.com")],
    );
    assert_eq!(code, 404);

    // Outlook POX.
    let request = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
         <Request><EMailAddress>{address}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
    );
    for path in ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"] {
        let (code, xml) = curl(
            &server,
            &[
                "-X",
                "POST",
                "-H",
                "Content-Type: text/xml",
                "--data-binary",
                &request,
                &format!("{base}{path}"),
            ],
        );
        assert_eq!(code, 200, "{xml}");
        assert!(xml.contains("<Type>IMAP</Type>"), "{xml}");
        assert!(
            xml.contains(&format!("<Port>{}</Port>", server.ports.imaps)),
            "{xml}"
        );
        assert!(
            xml.contains(&format!("<LoginName>{address}</LoginName>")),
            "{xml}"
        );
        assert!(xml.contains("<Type>SMTP</Type>"), "{xml}");
    }
    // Autodiscover v2: the protocol name in any case.
    for protocol in ["AutodiscoverV1", "autodiscoverv1", "AUTODISCOVERV1"] {
        let (code, json) = curl(
            &server,
            &[&format!(
                "{base}/autodiscover/autodiscover.json?Email={address}&Protocol={protocol}"
            )],
        );
        assert_eq!(code, 200, "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["Protocol"], "AutodiscoverV1");
        assert_eq!(
            value["Url"],
            format!("https://localhost:{https}/autodiscover/autodiscover.xml")
        );
    }
    let (code, json) = curl(
        &server,
        &[&format!(
            "{base}/autodiscover/autodiscover.json/v1.0/{address}?Protocol=autodiscoverV1"
        )],
    );
    assert_eq!(code, 200, "{json}");
    let (code, json) = curl(
        &server,
        &[&format!(
            "{base}/autodiscover/autodiscover.json?Email={address}&Protocol=ActiveSync"
        )],
    );
    assert_eq!(code, 400);
    assert!(json.contains("InvalidProtocol"), "{json}");
}
