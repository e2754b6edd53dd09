//! CHUNKING (BDAT, RFC 3030) and DSN parameters (RFC 3461) against a real server.

// Shared with the other test binaries, which use what this one does not.
#[allow(dead_code)]
mod support;

use congvu_smtp::SmtpConfig;
use congvu_store::{DsnRet, MailStore, Notify};
use support::{Client, DOMAIN, TestServer};
use tokio::io::{AsyncRead, AsyncWrite};

/// `BDAT <len> [LAST]` and the chunk, in one write.
fn bdat(chunk: &[u8], last: bool) -> Vec<u8> {
    let marker = if last { " LAST" } else { "" };
    [format!("BDAT {}{marker}\r\n", chunk.len()).as_bytes(), chunk].concat()
}

async fn send_chunk<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Client<S>,
    chunk: &[u8],
    last: bool,
    code: u16,
) {
    c.send_raw(&bdat(chunk, last)).await;
    c.expect(code).await;
}

/// MAIL from a remote sender, RCPT to the official.
async fn mail_to_official<S: AsyncRead + AsyncWrite + Unpin>(c: &mut Client<S>, server: &TestServer) {
    c.command("MAIL FROM:<sender@example.org>", 250).await;
    c.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
}

/// MX: EHLO, then a transaction to the official.
async fn mx_transaction(server: &TestServer) -> Client<tokio::net::TcpStream> {
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    mail_to_official(&mut c, server).await;
    c
}

/// The official's INBOX holds one message, `expected` after the trace fields.
fn assert_inbox_holds_only(server: &TestServer, expected: &[u8]) {
    let inbox = server.inbox(server.user.account);
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        String::from_utf8_lossy(without_trace(&inbox[0])),
        String::from_utf8_lossy(expected)
    );
}

/// The stored message without the trace fields this server added in front.
fn without_trace(stored: &[u8]) -> &[u8] {
    let text = String::from_utf8_lossy(stored);
    let start = text.find("Subject:").expect("the message's own header");
    &stored[start..]
}

#[tokio::test]
async fn ehlo_lists_chunking_and_dsn_on_every_port() {
    let server = TestServer::start().await;
    let mut c = server.connect(server.mx).await;
    let ehlo = c.command("EHLO relay.example.org", 250).await;
    assert!(ehlo.lines.iter().any(|l| l == "CHUNKING"), "{ehlo:?}");
    assert!(ehlo.lines.iter().any(|l| l == "DSN"), "{ehlo:?}");
    assert!(!ehlo.lines.iter().any(|l| l == "BINARYMIME"), "{ehlo:?}");
    let mut c = server.submit_session().await;
    let ehlo = c.command("EHLO client.example", 250).await;
    assert!(ehlo.lines.iter().any(|l| l == "CHUNKING"), "{ehlo:?}");
    assert!(ehlo.lines.iter().any(|l| l == "DSN"), "{ehlo:?}");
    server.stop().await;
}

#[tokio::test]
async fn bdat_chunks_with_bare_line_endings_store_what_data_stores() {
    let server = TestServer::start().await;
    // The same message by DATA (dot-stuffed) and by BDAT (raw).
    let raw: &[u8] = b"Subject: chunked\r\n\r\n.dot line\nbare LF\rbare CR\r\nend\r\n.\r\nnot the end\r\n";
    let mut c = mx_transaction(&server).await;
    c.command("DATA", 354).await;
    c.send_raw(b"Subject: chunked\r\n\r\n..dot line\nbare LF\rbare CR\r\nend\r\n..\r\nnot the end\r\n.\r\n")
        .await;
    c.expect(250).await;
    // Chunk boundaries inside a CRLF, before a bare LF, after a bare CR and inside
    // the `CRLF.CRLF` that means nothing in BDAT.
    let at = |needle: &[u8]| raw.windows(needle.len()).position(|w| w == needle).unwrap();
    let splits = [
        0,
        at(b"\r\n") + 1,
        at(b"\nbare LF"),
        at(b"\rbare CR") + 1,
        at(b"\r\n.\r\n") + 3,
        raw.len(),
    ];
    mail_to_official(&mut c, &server).await;
    for pair in splits.windows(2) {
        send_chunk(&mut c, &raw[pair[0]..pair[1]], false, 250).await;
    }
    // BDAT 0 LAST ends the message.
    let reply = c.command("BDAT 0 LAST", 250).await;
    assert!(reply.text().contains("queued as"), "{reply:?}");
    c.command("QUIT", 221).await;

    let inbox = server.inbox(server.user.account);
    assert_eq!(inbox.len(), 2);
    let expected: &[u8] =
        b"Subject: chunked\r\n\r\n.dot line\r\nbare LF\r\nbare CR\r\nend\r\n.\r\nnot the end\r\n";
    assert_eq!(without_trace(&inbox[0]), expected);
    assert_eq!(without_trace(&inbox[1]), expected);
    server.stop().await;
}

#[tokio::test]
async fn bdat_pipelined_with_mail_and_rcpt_in_one_write() {
    let server = TestServer::start().await;
    let me = &server.user.address;
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    let first: &[u8] = b"Subject: pipelined\r\n\r\nHello";
    let last: &[u8] = b" world\r\n";
    let write = [
        format!("MAIL FROM:<a@example.org>\r\nRCPT TO:<{me}>\r\nRCPT TO:<nobody@{DOMAIN}>\r\n").as_bytes(),
        &bdat(first, false),
        &bdat(last, true),
        b"NOOP\r\n",
    ]
    .concat();
    c.send_raw(&write).await;
    for code in [250, 250, 550] {
        c.expect(code).await;
    }
    let chunk = c.expect(250).await;
    assert!(chunk.lines[0].starts_with("2.0.0 "), "{chunk:?}");
    assert!(
        chunk.text().contains(&format!("{} octets received", first.len())),
        "{chunk:?}"
    );
    let stored = c.expect(250).await;
    assert!(stored.text().contains("queued as"), "{stored:?}");
    c.expect(250).await;
    let inbox = server.inbox(server.user.account);
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        without_trace(&inbox[0]),
        b"Subject: pipelined\r\n\r\nHello world\r\n"
    );
    server.stop().await;
}

#[tokio::test]
async fn refused_bdat_octets_are_read_and_dropped() {
    let server = TestServer::start().await;
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    // Without MAIL: 503, and the command-looking octets are not commands.
    let evil = format!(
        "MAIL FROM:<x@example.org>\r\nRCPT TO:<{}>\r\n",
        server.user.address
    );
    c.send_raw(&bdat(evil.as_bytes(), true)).await;
    c.expect(503).await;
    c.command("NOOP", 250).await;
    // Split across writes, the chunk is still read to its end.
    c.send_raw(b"BDAT 12 LAST\r\nQUIT\r\n").await;
    c.send_raw(b"QUIT\r\n").await;
    c.expect(503).await;
    c.command("NOOP", 250).await;
    // MAIL but no RCPT: 503; every RCPT refused: 554 (RFC 5321 §3.3, as for DATA).
    c.command("MAIL FROM:<a@example.org>", 250).await;
    send_chunk(&mut c, b"QUIT\r\n", true, 503).await;
    c.command(&format!("RCPT TO:<nobody@{DOMAIN}>"), 550).await;
    send_chunk(&mut c, b"QUIT\r\n", true, 554).await;
    c.command("RSET", 250).await;
    // A bad end marker with a readable size: 501 after the octets.
    mail_to_official(&mut c, &server).await;
    c.send_raw(b"BDAT 6 FIRST\r\nQUIT\r\n").await;
    let reply = c.expect(501).await;
    assert!(reply.lines[0].starts_with("5.5.4 "), "{reply:?}");
    // …and the transaction is aborted.
    send_chunk(&mut c, b"x", true, 503).await;
    c.command("NOOP", 250).await;
    assert!(server.inbox(server.user.account).is_empty());
    // An unreadable size loses the framing: 501 and the connection closes.
    c.send_raw(b"BDAT ten LAST\r\nQUIT\r\n").await;
    let reply = c.expect(501).await;
    assert!(reply.text().contains("closing connection"), "{reply:?}");
    c.expect_closed().await;
    server.stop().await;
}

#[tokio::test]
async fn data_or_rcpt_after_bdat_is_out_of_sequence() {
    let server = TestServer::start().await;
    let mut c = mx_transaction(&server).await;
    send_chunk(&mut c, b"Subject: x\r\n\r\nabc", false, 250).await;
    c.command_enhanced("DATA", 503, "5.5.1").await;
    // The transaction is gone: the next chunk has no MAIL.
    send_chunk(&mut c, b"def\r\n", true, 503).await;
    mail_to_official(&mut c, &server).await;
    send_chunk(&mut c, b"Subject: y\r\n\r\n", false, 250).await;
    c.command_enhanced(&format!("RCPT TO:<{}>", server.agency.address), 503, "5.5.1")
        .await;
    send_chunk(&mut c, b"z\r\n", true, 503).await;
    // STARTTLS between chunks would lose the transaction in the TLS reset.
    mail_to_official(&mut c, &server).await;
    send_chunk(&mut c, b"Subject: w\r\n\r\n", false, 250).await;
    c.command_enhanced("STARTTLS", 503, "5.5.1").await;
    assert!(server.inbox(server.user.account).is_empty());
    assert!(server.inbox(server.agency.account).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn bdat_over_the_size_limit_is_refused() {
    let server = TestServer::with_config(SmtpConfig {
        max_message_bytes: 1000,
        ..SmtpConfig::default()
    })
    .await;
    let mut c = mx_transaction(&server).await;
    // Chunks that together pass the limit: accepted one by one, 552 at LAST.
    send_chunk(&mut c, &[b'x'; 600], false, 250).await;
    c.send_raw(&bdat(&[b'y'; 600], true)).await;
    let reply = c.expect(552).await;
    assert!(reply.lines[0].starts_with("5.3.4 "), "{reply:?}");
    // One chunk alone over the limit: 552 at once, its octets dropped.
    mail_to_official(&mut c, &server).await;
    let mut big = vec![b'z'; 5000];
    big.extend_from_slice(b"\r\nQUIT\r\n");
    c.send_raw(&bdat(&big, false)).await;
    let reply = c.expect(552).await;
    assert!(reply.lines[0].starts_with("5.3.4 "), "{reply:?}");
    // Aborted: a further chunk has no transaction; then a new one works.
    send_chunk(&mut c, b"more", true, 503).await;
    mail_to_official(&mut c, &server).await;
    send_chunk(&mut c, b"Subject: small\r\n\r\nok\r\n", true, 250).await;
    assert_inbox_holds_only(&server, b"Subject: small\r\n\r\nok\r\n");
    server.stop().await;
}

#[tokio::test]
async fn rset_between_chunks_discards_them() {
    let server = TestServer::start().await;
    let mut c = mx_transaction(&server).await;
    send_chunk(&mut c, b"Subject: forgotten\r\n\r\n", false, 250).await;
    c.command("RSET", 250).await;
    send_chunk(&mut c, b"tail\r\n", true, 503).await;
    mail_to_official(&mut c, &server).await;
    send_chunk(&mut c, b"Subject: kept\r\n\r\nbody\r\n", true, 250).await;
    assert_inbox_holds_only(&server, b"Subject: kept\r\n\r\nbody\r\n");
    server.stop().await;
}

#[tokio::test]
async fn bdat_on_submission_delivers_and_queues() {
    let server = TestServer::start().await;
    let me = server.user.address.clone();
    let mut c = server.submit_session().await;
    c.command(&format!("MAIL FROM:<{me}>"), 250).await;
    c.command(&format!("RCPT TO:<{}>", server.agency.address), 250)
        .await;
    c.command("RCPT TO:<someone@example.net>", 250).await;
    send_chunk(&mut c, b"Subject: Th\xe1\xbb\xad\r\n", false, 250).await;
    send_chunk(&mut c, b"\r\nHello\r\n", true, 250).await;
    let inbox = server.inbox(server.agency.account);
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].ends_with("Subject: Thử\r\n\r\nHello\r\n".as_bytes()));
    let queue = server.store.queue().unwrap();
    assert_eq!(queue.len(), 1);
    assert!(
        server
            .store
            .read_blob(&queue[0].blob)
            .unwrap()
            .ends_with("Subject: Thử\r\n\r\nHello\r\n".as_bytes())
    );
    server.stop().await;
}

#[tokio::test]
async fn dsn_parameters_are_accepted_on_both_ports_and_refused_when_malformed() {
    let server = TestServer::start().await;
    let me = server.user.address.clone();
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    c.command_enhanced("MAIL FROM:<a@example.org> RET=ALL", 501, "5.5.4")
        .await;
    c.command_enhanced("MAIL FROM:<a@example.org> ENVID=a+0D+0AX", 501, "5.5.4")
        .await;
    c.command("MAIL FROM:<a@example.org> RET=HDRS ENVID=QQ314159+2B1", 250)
        .await;
    c.command_enhanced(&format!("RCPT TO:<{me}> NOTIFY=NEVER,SUCCESS"), 501, "5.5.4")
        .await;
    c.command_enhanced(&format!("RCPT TO:<{me}> ORCPT=rfc822;a+0D+0Ab"), 501, "5.5.4")
        .await;
    c.command_enhanced(&format!("RCPT TO:<{me}> ORCPT=rfc822"), 501, "5.5.4")
        .await;
    c.command_enhanced(&format!("RCPT TO:<{me}> RET=FULL"), 555, "5.5.4")
        .await;
    c.command(
        &format!("RCPT TO:<{me}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;{me}"),
        250,
    )
    .await;
    c.command("DATA", 354).await;
    c.send_raw(b"Subject: dsn\r\n\r\nx\r\n.\r\n").await;
    c.expect(250).await;
    // Parameters are ESMTP: not after HELO.
    c.command("HELO relay.example.org", 250).await;
    c.command_enhanced("MAIL FROM:<a@example.org> RET=FULL", 555, "5.5.4")
        .await;
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command_enhanced(&format!("RCPT TO:<{me}> NOTIFY=NEVER"), 555, "5.5.4")
        .await;
    assert_eq!(server.inbox(server.user.account).len(), 1);

    let mut c = server.submit_session().await;
    c.command(&format!("MAIL FROM:<{me}> RET=FULL ENVID=abc"), 250)
        .await;
    c.command_enhanced(
        "RCPT TO:<someone@example.net> NOTIFY=DELAY,DELAY,NEVER",
        501,
        "5.5.4",
    )
    .await;
    c.command(
        "RCPT TO:<someone@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;Someone@example.net",
        250,
    )
    .await;
    send_chunk(&mut c, "Subject: Thử DSN\r\n\r\nx\r\n".as_bytes(), true, 250).await;
    // The MX message asked NOTIFY=SUCCESS: its delivered report is queued to
    // a@example.org with the null sender (RFC 3461 §6.2.2, RFC 5321 §4.5.5).
    let queue = server.store.queue().unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!(
        (queue[0].sender.as_str(), queue[0].recipients.as_slice()),
        ("", &["a@example.org".to_owned()][..])
    );
    // The submitted entry carries them to the relay, decoded.
    let dsn = &queue[1].dsn;
    assert_eq!(dsn.ret, Some(DsnRet::Full));
    assert_eq!(dsn.envid.as_deref(), Some("abc"));
    assert_eq!(
        dsn.notify("someone@example.net"),
        Notify {
            success: false,
            failure: true,
            delay: true
        }
    );
    assert_eq!(
        dsn.orcpt("someone@example.net")
            .map(|o| (o.addr_type.as_str(), o.address.as_str())),
        Some(("rfc822", "Someone@example.net"))
    );
    server.stop().await;
}

#[tokio::test]
async fn local_recipients_that_ask_notify_success_are_reported_delivered() {
    let server = TestServer::start().await;
    let me = server.user.address.clone();
    let agency = server.agency.address.clone();
    let mut c = server.submit_session().await;
    c.command(&format!("MAIL FROM:<{me}> ENVID=bao-cao+2B7"), 250)
        .await;
    c.command(
        &format!("RCPT TO:<{agency}> NOTIFY=SUCCESS ORCPT=rfc822;vanthu+40sttt.vn"),
        250,
    )
    .await;
    c.command("DATA", 354).await;
    c.send_raw("Subject: Báo cáo tuần\r\n\r\nx\r\n.\r\n".as_bytes())
        .await;
    c.expect(250).await;
    // Without NOTIFY=SUCCESS: no report.
    c.command(&format!("MAIL FROM:<{me}>"), 250).await;
    c.command(&format!("RCPT TO:<{agency}>"), 250).await;
    c.command("DATA", 354).await;
    c.send_raw("Subject: Báo cáo tuần\r\n\r\ny\r\n.\r\n".as_bytes())
        .await;
    c.expect(250).await;
    c.command("QUIT", 221).await;

    assert_eq!(server.inbox(server.agency.account).len(), 2);
    let reports = server.inbox(server.user.account);
    assert_eq!(reports.len(), 1, "one report, to the submitter's INBOX");
    let report = String::from_utf8_lossy(&reports[0]);
    for expected in [
        "Content-Type: multipart/report; report-type=delivery-status",
        "Original-Envelope-Id: bao-cao+7",
        "Original-Recipient: rfc822;vanthu@sttt.vn",
        "Action: delivered",
        "Subject: Báo cáo tuần",
    ] {
        assert!(report.contains(expected), "missing {expected:?} in:\n{report}");
    }
    server.stop().await;
}
