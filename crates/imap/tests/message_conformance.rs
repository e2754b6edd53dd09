//! The message layer over the wire, case by case against the RFC text: ENVELOPE
//! names and groups (RFC 3501 §7.4.2), sections inside message/rfc822 parts
//! (§6.4.5), SEARCH on address fields (§6.4.4), SORT on addresses and display names
//! (RFC 5256 §3, RFC 5957), and the MODSEQ of an ESEARCH with MIN/MAX (RFC 7162
//! §3.1.5, RFC 4731 §3.2). Where the RFC leaves a choice, the expected answers are
//! the ones Dovecot 2.3 gives for the same messages.

mod support;

use support::{Client, Server, append, last};

/// Logs in user 0, appends `messages` to INBOX in order and selects it.
async fn mailbox_of(server: &Server, messages: &[&str]) -> Client {
    let mut c = server.login(0).await;
    for message in messages {
        let raw = message.replace('\n', "\r\n");
        let ok = append(&mut c, "INBOX", "()", raw.as_bytes()).await;
        assert!(ok.starts_with("ap OK"), "{ok}");
    }
    let select = c.command("s", "SELECT INBOX").await;
    assert!(last(&select).starts_with("s OK"), "{select:?}");
    c
}

/// The one untagged line a command answers with, after checking its OK.
async fn answer(c: &mut Client, command: &str) -> String {
    let lines = c.command("t", command).await;
    assert!(last(&lines).starts_with("t OK"), "{command}: {lines:?}");
    assert_eq!(lines.len(), 2, "{command}: {lines:?}");
    lines[0].clone()
}

#[tokio::test]
async fn envelope_names_from_comments_and_groups() {
    let server = Server::start().await;
    let mut c = mailbox_of(
        &server,
        &["Date: Sat, 01 Feb 2007 01:02:03 +0200\n\
From: nva@thanhhoa.gov.vn (Nguyen Van A)\n\
To: so: a@b.vn, c@d.vn;, ban: e@f.vn;\n\
Cc: undisclosed-recipients:;, nhom: (chu thich) ;\n\nbody\n"],
    )
    .await;
    let from = "((\"Nguyen Van A\" NIL \"nva\" \"thanhhoa.gov.vn\"))";
    // RFC 3501 §7.4.2: a group is "(NIL NIL "name" NIL)", its members, and
    // "(NIL NIL NIL NIL)"; Sender and Reply-To default to From.
    assert_eq!(
        answer(&mut c, "FETCH 1 ENVELOPE").await,
        format!(
            "* 1 FETCH (ENVELOPE (\"Sat, 01 Feb 2007 01:02:03 +0200\" NIL {from} {from} {from} \
((NIL NIL \"so\" NIL)(NIL NIL \"a\" \"b.vn\")(NIL NIL \"c\" \"d.vn\")(NIL NIL NIL NIL)\
(NIL NIL \"ban\" NIL)(NIL NIL \"e\" \"f.vn\")(NIL NIL NIL NIL)) \
((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)(NIL NIL \"nhom\" NIL)(NIL NIL NIL NIL)) \
NIL NIL NIL))"
        )
    );
    server.shutdown().await;
}

/// RFC 3501 §6.4.5: a message/rfc822 message whose body is again a message/rfc822
/// message. Part 1 is the top message's body (the middle message); 1.1 is the
/// middle message's part 1, its body: the innermost message whole, whose header
/// and text 1.1.HEADER and 1.1.TEXT are.
#[tokio::test]
async fn sections_inside_nested_messages() {
    let server = Server::start().await;
    let innermost = "From: c@thanhhoa.gov.vn\nSubject: goc\n\nNoi dung\n";
    let message = format!(
        "From: a@thanhhoa.gov.vn\nContent-Type: message/rfc822\n\n\
From: b@thanhhoa.gov.vn\nContent-Type: message/rfc822\n\n{innermost}"
    );
    let forwarded = "From: a@b.vn\nContent-Type: multipart/mixed; boundary=o\n\n\
--o\nContent-Type: message/rfc822\n\nFrom: x@y.vn\nSubject: inner\n\ninner body\n\
--o\nContent-Type: text/plain\n\nsecond\n--o--\n";
    let mut c = mailbox_of(&server, &[&message, forwarded]).await;
    let crlf = |s: &str| s.replace('\n', "\r\n");
    let literal = |s: &str| format!("{{{}}}\r\n{s}", s.len());
    let innermost = crlf(innermost);
    assert_eq!(
        answer(&mut c, "FETCH 1 (BODY.PEEK[1.1])").await,
        format!("* 1 FETCH (BODY[1.1] {})", literal(&innermost))
    );
    assert_eq!(
        answer(&mut c, "FETCH 1 (BODY.PEEK[1.1.HEADER])").await,
        format!(
            "* 1 FETCH (BODY[1.1.HEADER] {})",
            literal(&crlf("From: c@thanhhoa.gov.vn\nSubject: goc\n\n"))
        )
    );
    assert_eq!(
        answer(&mut c, "FETCH 1 (BODY.PEEK[1.1.TEXT])").await,
        format!("* 1 FETCH (BODY[1.1.TEXT] {})", literal("Noi dung\r\n"))
    );
    assert_eq!(
        answer(&mut c, "FETCH 1 (BODY.PEEK[1.1.1])").await,
        format!("* 1 FETCH (BODY[1.1.1] {})", literal("Noi dung\r\n"))
    );
    assert_eq!(
        answer(&mut c, "FETCH 1 (BODY.PEEK[1.1.MIME])").await,
        format!(
            "* 1 FETCH (BODY[1.1.MIME] {})",
            literal(&crlf("From: b@thanhhoa.gov.vn\nContent-Type: message/rfc822\n\n"))
        )
    );
    // A forwarded single-part message: 1.1 is its body, 1.1.MIME its header.
    assert_eq!(
        answer(&mut c, "FETCH 2 (BODY.PEEK[1.1] BODY.PEEK[1.1.MIME])").await,
        format!(
            "* 2 FETCH (BODY[1.1] {} BODY[1.1.MIME] {})",
            literal("inner body"),
            literal(&crlf("From: x@y.vn\nSubject: inner\n\n"))
        )
    );
    server.shutdown().await;
}

/// RFC 3501 §6.4.4: FROM, TO, CC and BCC look in the envelope's field: address
/// and display name, a comment name and an encoded-word name (decoded, any case,
/// Vietnamese as typed), group names; not comments inside the address.
#[tokio::test]
async fn search_address_fields() {
    let server = Server::start().await;
    let mut c = mailbox_of(
        &server,
        &[
            "From: user-from@thanhhoa.gov.vn\nTo: user-to@thanhhoa.gov.vn\n\n1\n",
            "From: RealFrom <user-from@thanhhoa.gov.vn>\nTo: RealTo <user-to@thanhhoa.gov.vn>\n\n2\n",
            "From: <user-from (phong) @ (tinh) thanhhoa.gov.vn>\nTo: <user-to@thanhhoa.gov.vn>\n\n3\n",
            "From: user-from@thanhhoa.gov.vn (RealFrom)\nTo: user-to@thanhhoa.gov.vn (RealTo)\n\n4\n",
            "From: user-from1@thanhhoa.gov.vn, user-from2@thanhhoa.gov.vn\n\n5\n",
            "To: so: nhom1@thanhhoa.gov.vn, nhom2@thanhhoa.gov.vn;,\n ban: nhom3@thanhhoa.gov.vn;\n\n6\n",
            "From: =?UTF-8?Q?Nguy=E1=BB=85n_V=C4=83n_A?= <nva@thanhhoa.gov.vn>\n\
Cc: lth@thanhhoa.gov.vn (=?UTF-8?B?TMOqIFRo4buLIEhvYQ==?=)\n\
Bcc: \"Trần Bình\" <tb@thanhhoa.gov.vn>\n\n7\n",
        ],
    )
    .await;
    let cases = [
        ("FROM user-from@thanhhoa.gov.vn", "* SEARCH 1 2 3 4"),
        ("FROM realfrom", "* SEARCH 2 4"),
        ("FROM ealfro", "* SEARCH 2 4"),
        ("TO realto", "* SEARCH 2 4"),
        ("FROM phong", "* SEARCH"),
        ("FROM user-from2", "* SEARCH 5"),
        ("FROM \"thanhhoa.gov.vn, user\"", "* SEARCH"),
        ("TO so", "* SEARCH 6"),
        ("TO ban", "* SEARCH 6"),
        ("TO nhom3", "* SEARCH 6"),
        ("CHARSET UTF-8 FROM \"NGUYỄN VĂN\"", "* SEARCH 7"),
        ("CHARSET UTF-8 CC \"thị hoa\"", "* SEARCH 7"),
        ("CHARSET UTF-8 BCC \"trần\"", "* SEARCH 7"),
        ("CC \"=?UTF-8\"", "* SEARCH"),
        ("HEADER FROM phong", "* SEARCH 3"),
        ("FROM \"\"", "* SEARCH 1 2 3 4 5 7"),
    ];
    for (key, want) in cases {
        assert_eq!(answer(&mut c, &format!("SEARCH {key}")).await, want, "{key}");
    }
    server.shutdown().await;
}

/// RFC 5256 §3 CC/FROM/TO: the first address's mailbox — a group's name when the
/// field begins with a group; RFC 5957 DISPLAYFROM/DISPLAYTO: the display name
/// (decoded), else the address. Expected orders are Dovecot 2.3's for the same
/// messages, ties in mailbox order.
#[tokio::test]
async fn sort_on_addresses_and_display_names() {
    let server = Server::start().await;
    let mut c = mailbox_of(
        &server,
        &[
            "From: \"Zed\" <a@x>\nTo: b@y\n\n1\n",
            "From: alice@x (Alice Comment)\nTo: undisclosed:;\nCc: undisclosed:;, Bob <bob@y>\n\n2\n",
            "From: =?UTF-8?Q?=C3=89mile?= <e@x>\nTo: Yann <y@y>\nCc: \"\" <carl@y>\n\n3\n",
            "From: <Mike@x>\nTo: team: k@y, l@y;\nCc: group: ;, dave@y\n\n4\n",
            "Subject: none\n\n5\n",
            "From: \"\" <aaa@x>\nTo: =?UTF-8?B?w4FuaA==?= <anh@y>\nCc: Carl <CARL@y>\n\n6\n",
            "From: \"  \" <zz@x>\nTo: \"bob\" <zz@y>\nCc: Ann <ann@y>, aa@y\n\n7\n",
            "From: mike@x\nTo: <@route:q@y>\nCc: (c) x@y\n\n8\n",
            "From: x@y (=?UTF-8?Q?Nguy=E1=BB=85n?=)\nTo: Nguyen <z@y>\nCc: \n\n9\n",
        ],
    )
    .await;
    let cases = [
        ("(CC)", "* SORT 1 5 9 7 3 6 4 2 8"),
        ("(REVERSE CC)", "* SORT 8 2 4 3 6 7 1 5 9"),
        ("(FROM)", "* SORT 5 1 6 2 3 4 8 9 7"),
        ("(TO)", "* SORT 5 6 1 8 4 2 3 9 7"),
        ("(DISPLAYFROM)", "* SORT 5 7 6 2 3 4 8 9 1"),
        ("(DISPLAYTO)", "* SORT 5 6 1 7 9 8 4 2 3"),
    ];
    for (criteria, want) in cases {
        assert_eq!(
            answer(&mut c, &format!("SORT {criteria} UTF-8 ALL")).await,
            want,
            "{criteria}"
        );
    }
    let caps = answer(&mut c, "CAPABILITY").await;
    assert!(caps.split(' ').any(|cap| cap == "SORT=DISPLAY"), "{caps}");
    server.shutdown().await;
}

/// RFC 5256 §3 SUBJECT under i;unicode-casemap (RFC 5051): Vietnamese subjects
/// sort among their base letters whatever their case, encoding or normal form; Đ,
/// which has no decomposition, after Z. Dovecot 2.3's order for the same subjects.
#[tokio::test]
async fn sort_vietnamese_subjects() {
    let server = Server::start().await;
    let subjects = [
        "Zeta",
        "=?UTF-8?Q?=C3=81nh?=",
        "anh",
        "Bình",
        "Đặng",
        "ăn",
        "Ưu",
        "Dung",
        "ÁNH",
        "A\u{301}nh",
    ];
    let messages: Vec<String> = subjects
        .iter()
        .map(|subject| format!("Subject: {subject}\nFrom: x@y.vn\n\nx\n"))
        .collect();
    let messages: Vec<&str> = messages.iter().map(String::as_str).collect();
    let mut c = mailbox_of(&server, &messages).await;
    assert_eq!(
        answer(&mut c, "SORT (SUBJECT) UTF-8 ALL").await,
        "* SORT 3 2 9 10 6 4 8 7 1 5"
    );
    server.shutdown().await;
}

/// The MODSEQ in `… (MODSEQ n))` of a STORE's FETCH answer.
fn modseq_in(line: &str) -> u64 {
    let start = line.find("MODSEQ (").expect("MODSEQ") + "MODSEQ (".len();
    line[start..]
        .split(')')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

/// RFC 7162 §3.1.5 with RFC 4731 §3.2: the MODSEQ of an ESEARCH is the highest of
/// the messages it returns — with MIN and/or MAX alone, of those one or two.
#[tokio::test]
async fn esearch_min_max_report_their_own_modseq() {
    let server = Server::start().await;
    let messages = [
        "Subject: 1\n\n1\n",
        "Subject: 2\n\n2\n",
        "Subject: 3\n\n3\n",
        "Subject: 4\n\n4\n",
    ];
    let mut c = mailbox_of(&server, &messages).await;
    let select = c.command("s", "SELECT INBOX (CONDSTORE)").await;
    assert!(last(&select).starts_with("s OK"), "{select:?}");
    let mut modseq = [0u64; 5];
    for n in [1usize, 3, 2, 4] {
        let line = answer(&mut c, &format!("STORE {n} +FLAGS (\\Seen)")).await;
        modseq[n] = modseq_in(&line);
    }
    assert!(modseq[1] < modseq[3] && modseq[3] < modseq[2] && modseq[2] < modseq[4]);
    let cases = [
        ("(MIN) 1:3", format!("MIN 1 MODSEQ {}", modseq[1])),
        ("(MAX) 1:3", format!("MAX 3 MODSEQ {}", modseq[3])),
        ("() 1:3", format!("ALL 1:3 MODSEQ {}", modseq[2])),
        ("(MIN MAX) 2:3", format!("MIN 2 MAX 3 MODSEQ {}", modseq[2])),
        ("(MIN COUNT) 1:3", format!("MIN 1 COUNT 3 MODSEQ {}", modseq[2])),
    ];
    for (tail, want) in cases {
        let (ret, set) = tail.split_once(' ').unwrap_or_default();
        let line = answer(&mut c, &format!("SEARCH RETURN {ret} {set} MODSEQ 1")).await;
        assert_eq!(line, format!("* ESEARCH (TAG \"t\") {want}"), "{tail}");
    }
    let none = answer(&mut c, &format!("SEARCH RETURN (MIN) MODSEQ {}", modseq[4] + 1)).await;
    assert_eq!(none, "* ESEARCH (TAG \"t\")");
    server.shutdown().await;
}
