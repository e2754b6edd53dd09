//! Behaviour of the three listeners against a real store and directory.

mod support;

use std::time::Duration;

use congvu_smtp::SmtpConfig;
use congvu_store::MailStore;
use support::{DOMAIN, PASSWORD, TestServer, b64, plain};

fn user_address(server: &TestServer) -> String {
    server.user.address.clone()
}

#[tokio::test]
async fn mx_delivers_to_a_local_user_with_trace_headers_and_the_body_unchanged() {
    let server = TestServer::start().await;
    let mut c = server.connect(server.mx).await;
    let ehlo = c.command("EHLO relay.example.org", 250).await;
    let keywords: Vec<&str> = ehlo.lines.iter().skip(1).map(String::as_str).collect();
    assert_eq!(
        keywords,
        [
            "PIPELINING",
            "SIZE 37748736",
            "8BITMIME",
            "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
            "CHUNKING",
            "DSN",
            "STARTTLS"
        ]
    );
    c.command_enhanced("MAIL FROM:<sender@example.org> BODY=8BITMIME", 250, "2.1.0")
        .await;
    // Any case reaches the mailbox.
    let rcpt = server.user.address.to_uppercase();
    c.command_enhanced(&format!("RCPT TO:<{rcpt}>"), 250, "2.1.5")
        .await;
    c.command("DATA", 354).await;
    // Dot-stuffed line, a bare LF, a lone CR and 8-bit text: the dot goes, the
    // bare line endings become CRLF (the one line-ending rule), the rest is kept.
    let body = "Subject: Công văn số 12\r\n\r\n..leading dot\r\nbare\nLF and lone\rCR\r\nTiếng Việt\r\n";
    c.send_raw(body.as_bytes()).await;
    let reply = c.command(".", 250).await;
    assert!(reply.text().contains("queued as"), "{reply:?}");
    c.command("QUIT", 221).await;
    c.expect_closed().await;

    let inbox = server.inbox(server.user.account);
    assert_eq!(inbox.len(), 1);
    let stored = String::from_utf8(inbox[0].clone()).unwrap();
    let expected_body =
        "Subject: Công văn số 12\r\n\r\n.leading dot\r\nbare\r\nLF and lone\r\nCR\r\nTiếng Việt\r\n";
    assert!(stored.ends_with(expected_body), "{stored:?}");
    let trace = &stored[..stored.len() - expected_body.len()];
    assert!(
        trace.starts_with(
            "Return-Path: <sender@example.org>\r\nX-Congvu-Policy: origin=internet; pass=dangerous-content,\
             attachment-cap,formats,encrypted,classified,subject,legacy-encoding\r\nReceived: from relay.example.org \
             ([127.0.0.1])\r\n"
        ),
        "{trace}"
    );
    assert!(
        trace.contains(&format!("\tby mail.{DOMAIN} (congvu) with ESMTP id ")),
        "{trace}"
    );
    assert!(trace.contains(&format!("\tfor <{rcpt}>;")), "{trace}");
    // Counted for the listener that took it, with the size of the message as
    // received (unstuffed and repaired, before the trace fields).
    let mx = server
        .metrics
        .snapshot()
        .into_iter()
        .find(|l| l.listener == "mx")
        .unwrap();
    let received = u64::try_from(expected_body.len()).unwrap();
    assert_eq!((mx.accepted, mx.messages, mx.message_bytes), (1, 1, received));
    server.stop().await;
}

#[tokio::test]
async fn mx_refuses_relay_unknown_users_auth_and_client_quirks() {
    let server = TestServer::start().await;
    let mut c = server.connect(server.mx).await;
    c.command_enhanced("MAIL FROM:<a@example.org>", 503, "5.5.1")
        .await;
    c.command("EHLO relay.example.org", 250).await;
    c.command_enhanced("RCPT TO:<x@example.org>", 503, "5.5.1").await;
    c.command_enhanced(&format!("AUTH PLAIN {}", plain("x", "y")), 502, "5.5.1")
        .await;
    // Strict on MX: no space after the colon.
    c.command_enhanced("MAIL FROM: <a@example.org>", 501, "5.1.7")
        .await;
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command_enhanced("MAIL FROM:<a@example.org>", 503, "5.5.1")
        .await;
    c.command_enhanced("DATA", 503, "5.5.1").await;
    c.command_enhanced("RCPT TO:<victim@example.net>", 550, "5.7.1")
        .await;
    c.command_enhanced(&format!("RCPT TO:<nobody@{DOMAIN}>",), 550, "5.1.1")
        .await;
    c.command_enhanced("RCPT TO:<a@[127.0.0.1]>", 550, "5.7.1").await;
    c.command_enhanced("RCPT TO:<bad address>", 501, "5.1.3").await;
    c.command_enhanced("RCPT TO:<a@x.vn> XFORWARD=1", 555, "5.5.4")
        .await;
    // Every RCPT refused: DATA says so.
    c.command_enhanced("DATA", 554, "5.5.1").await;
    c.command("RSET", 250).await;
    c.command_enhanced("VRFY tuanna.sttt", 252, "2.5.2").await;
    c.command_enhanced("EXPN staff", 502, "5.5.1").await;
    c.command_enhanced("TURN", 502, "5.5.1").await;
    c.command("NOOP", 250).await;
    c.command("HELP", 214).await;
    c.command("QUIT", 221).await;
    assert!(server.inbox(server.user.account).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn submission_refuses_auth_and_mail_before_tls() {
    let server = TestServer::start().await;
    let mut c = server.connect(server.submission).await;
    let ehlo = c.command("EHLO pc", 250).await;
    assert!(ehlo.lines.iter().any(|l| l == "STARTTLS"));
    assert!(!ehlo.lines.iter().any(|l| l.starts_with("AUTH")), "{ehlo:?}");
    c.command_enhanced(
        &format!("AUTH PLAIN {}", plain(&user_address(&server), PASSWORD)),
        538,
        "5.7.11",
    )
    .await;
    c.command_enhanced("AUTH LOGIN", 538, "5.7.11").await;
    c.command_enhanced(&format!("MAIL FROM:<{}>", user_address(&server)), 530, "5.7.0")
        .await;
    server.stop().await;
}

#[tokio::test]
async fn starttls_then_auth_plain_delivers_locally_and_queues_remote() {
    let server = TestServer::start().await;
    let me = user_address(&server);
    let c = server.connect(server.submission).await;
    let mut c = server.starttls(c).await;
    // RFC 3207: a new EHLO is needed, and now AUTH is offered, STARTTLS is not.
    c.command_enhanced(&format!("MAIL FROM:<{me}>"), 503, "5.5.1")
        .await;
    let ehlo = c.command("EHLO pc", 250).await;
    assert!(ehlo.lines.iter().any(|l| l == "AUTH PLAIN LOGIN"), "{ehlo:?}");
    assert!(!ehlo.lines.iter().any(|l| l == "STARTTLS"));
    c.command_enhanced("STARTTLS", 503, "5.5.1").await;
    c.command_enhanced(&format!("MAIL FROM:<{me}>"), 530, "5.7.0")
        .await;
    // Two spaces after PLAIN and a space after the colon: tolerated on submission.
    c.command_enhanced(&format!("AUTH PLAIN  {}", plain(&me, PASSWORD)), 235, "2.7.0")
        .await;
    c.command_enhanced(&format!("AUTH PLAIN {}", plain(&me, PASSWORD)), 503, "5.5.1")
        .await;
    c.command(&format!("MAIL FROM: <{me}> SIZE=200"), 250).await;
    c.command(&format!("RCPT TO: <{}>", server.agency.address), 250)
        .await;
    c.command("RCPT TO:<someone@example.net>", 250).await;
    c.command("RCPT TO:<SOMEONE@example.net>", 250).await;
    c.command("DATA", 354).await;
    c.send_raw("Subject: Thử nghiệm\r\n\r\nHello\r\n.\r\n".as_bytes())
        .await;
    c.expect(250).await;
    c.command("QUIT", 221).await;

    let inbox = server.inbox(server.agency.account);
    assert_eq!(inbox.len(), 1);
    let local = String::from_utf8(inbox[0].clone()).unwrap();
    assert!(local.starts_with(&format!(
        "Return-Path: <{me}>\r\nX-Congvu-Policy: origin=submission; pass=dangerous-content,attachment-cap,\
         formats,encrypted,classified,subject,legacy-encoding\r\nReceived: from pc ([127.0.0.1])\r\n\t(using TLSv1.3"
    )), "{local}");
    assert!(local.contains(" with ESMTPSA id "), "{local}");
    assert!(
        !local.contains("\tfor <"),
        "several recipients: no `for`: {local}"
    );
    assert!(local.ends_with("\r\n\r\nHello\r\n"));

    let queue = server.store.queue().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].sender, me);
    assert_eq!(queue[0].recipients, ["someone@example.net"]);
    assert_eq!(queue[0].submitted_by, Some(server.user.account));
    let queued = String::from_utf8(server.store.read_blob(&queue[0].blob).unwrap()).unwrap();
    assert!(
        queued.starts_with("X-Congvu-Policy: origin=submission; ") && queued.contains("\r\nReceived: "),
        "no Return-Path before final delivery: {queued}"
    );
    assert!(queued.ends_with("\r\n\r\nHello\r\n"));
    server.stop().await;
}

#[tokio::test]
async fn implicit_tls_with_auth_login() {
    let server = TestServer::start().await;
    let me = user_address(&server);
    let mut c = server.connect_tls().await;
    let ehlo = c.command("EHLO outlook", 250).await;
    assert!(ehlo.lines.iter().any(|l| l == "AUTH PLAIN LOGIN"));
    assert!(!ehlo.lines.iter().any(|l| l == "STARTTLS"));
    assert_eq!(c.command("AUTH LOGIN", 334).await.text(), "VXNlcm5hbWU6");
    assert_eq!(c.command(&b64(me.as_bytes()), 334).await.text(), "UGFzc3dvcmQ6");
    c.command_enhanced(&b64(PASSWORD.as_bytes()), 235, "2.7.0").await;
    c.command(&format!("MAIL FROM:<{}>", me.to_uppercase()), 250)
        .await;
    c.command(&format!("RCPT TO:<{me}>"), 250).await;
    c.command("DATA", 354).await;
    c.send_raw("Subject: Thư gửi chính mình\r\n\r\nx\r\n.\r\n".as_bytes())
        .await;
    c.expect(250).await;
    let inbox = server.inbox(server.user.account);
    assert_eq!(inbox.len(), 1);
    assert!(String::from_utf8_lossy(&inbox[0]).contains(&format!("for <{me}>")));
    server.stop().await;
}

#[tokio::test]
async fn wrong_password_cancel_and_plain_continuation() {
    let server = TestServer::start().await;
    let me = user_address(&server);
    let c = server.connect(server.submission).await;
    let mut c = server.starttls(c).await;
    c.command("EHLO pc", 250).await;
    c.command_enhanced(&format!("AUTH PLAIN {}", plain(&me, "wrong")), 535, "5.7.8")
        .await;
    c.command_enhanced(&format!("AUTH PLAIN {}", plain("nobody", PASSWORD)), 535, "5.7.8")
        .await;
    c.command("AUTH LOGIN", 334).await;
    c.command_enhanced("*", 501, "5.0.0").await;
    c.command_enhanced("AUTH CRAM-MD5", 504, "5.5.4").await;
    c.command("AUTH PLAIN", 334).await;
    c.command_enhanced("not base64!", 501, "5.5.2").await;
    // PLAIN with its message after an empty challenge.
    let challenge = c.command("AUTH PLAIN", 334).await;
    assert_eq!(challenge.text(), "");
    c.command_enhanced(&plain(&me, PASSWORD), 235, "2.7.0").await;
    server.stop().await;
}

#[tokio::test]
async fn too_many_failed_logins_close_the_connection() {
    let server = TestServer::with_config(SmtpConfig {
        max_auth_failures: 3,
        ..SmtpConfig::default()
    })
    .await;
    let mut c = server.connect_tls().await;
    c.command("EHLO pc", 250).await;
    for _ in 0..2 {
        c.command(&format!("AUTH PLAIN {}", plain("tuanna.sttt", "guess")), 535)
            .await;
    }
    c.command_enhanced(
        &format!("AUTH PLAIN {}", plain("tuanna.sttt", "guess")),
        421,
        "4.7.0",
    )
    .await;
    c.expect_closed().await;
    server.stop().await;
}

#[tokio::test]
async fn sender_must_belong_to_the_authenticated_user() {
    let server = TestServer::start().await;
    let mut c = server.submit_session().await;
    c.command_enhanced(&format!("MAIL FROM:<{}>", server.agency.address), 553, "5.7.1")
        .await;
    c.command_enhanced("MAIL FROM:<boss@example.org>", 553, "5.7.1")
        .await;
    c.command_enhanced("MAIL FROM:<>", 553, "5.7.1").await;
    c.command_enhanced(
        &format!("MAIL FROM:<{}> SIZE=99999999999", server.user.address),
        552,
        "5.3.4",
    )
    .await;
    // Non-ASCII without SMTPUTF8.
    c.command_enhanced(&format!("MAIL FROM:<tuấn@{DOMAIN}>"), 553, "5.6.7")
        .await;
    c.command(&format!("MAIL FROM:<{}> SMTPUTF8", server.user.address), 250)
        .await;
    c.command_enhanced("RCPT TO:<nguyễn@example.net>", 250, "2.1.5")
        .await;
    c.command_enhanced(&format!("RCPT TO:<nobody@{DOMAIN}>"), 550, "5.1.1")
        .await;
    server.stop().await;
}

#[tokio::test]
async fn recipient_limit() {
    let server = TestServer::with_config(SmtpConfig {
        max_recipients: 2,
        ..SmtpConfig::default()
    })
    .await;
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
    c.command(&format!("RCPT TO:<{}>", server.agency.address), 250)
        .await;
    c.command_enhanced(&format!("RCPT TO:<{}>", server.agency.address), 452, "4.5.3")
        .await;
    c.command("DATA", 354).await;
    c.send_raw(b"x\r\n.\r\n").await;
    c.expect(250).await;
    assert_eq!(server.inbox(server.user.account).len(), 1);
    assert_eq!(server.inbox(server.agency.account).len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn over_long_lines_and_garbage_get_replies_and_the_session_goes_on() {
    let server = TestServer::start().await;
    let mut c = server.connect(server.mx).await;
    let mut long = vec![b'A'; 200 * 1024];
    long.extend_from_slice(b"\r\n");
    c.send_raw(&long).await;
    let reply = c.expect(500).await;
    assert!(reply.lines[0].starts_with("5.5.2 "), "{reply:?}");
    c.send_raw(b"\x00\xff\xfe\x16\x03\x01garbage\r\n").await;
    c.expect(500).await;
    c.send_raw(b"\r\n").await;
    c.expect(500).await;
    c.command("EHLO relay.example.org", 250).await;
    c.command("NOOP", 250).await;
    // Other clients are served meanwhile.
    let mut other = server.connect(server.mx).await;
    other.command("EHLO other.example.org", 250).await;
    server.stop().await;
}

#[tokio::test]
async fn too_many_errors_close_with_421() {
    let server = TestServer::with_config(SmtpConfig {
        max_errors: 3,
        ..SmtpConfig::default()
    })
    .await;
    let mut c = server.connect(server.mx).await;
    c.command("FOO", 500).await;
    c.command("BAR", 500).await;
    c.command_enhanced("BAZ", 421, "4.7.0").await;
    c.expect_closed().await;
    server.stop().await;
}

#[tokio::test]
async fn pipelined_commands_get_their_replies_in_order() {
    let server = TestServer::start().await;
    let mut c = server.connect(server.mx).await;
    let me = user_address(&server);
    c.send_raw(
        format!(
            "EHLO relay.example.org\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<{me}>\r\n\
             RCPT TO:<nobody@{DOMAIN}>\r\nRCPT TO:<{}>\r\nDATA\r\n",
            server.agency.address
        )
        .as_bytes(),
    )
    .await;
    for code in [250, 250, 250, 550, 250, 354] {
        c.expect(code).await;
    }
    // The data, the dot and the next transaction in one write.
    c.send_raw(b"Subject: one\r\n\r\n1\r\n.\r\nMAIL FROM:<b@example.org>\r\nRCPT TO:<nobody@thanhhoa.gov.vn>\r\nDATA\r\nQUIT\r\n")
        .await;
    for code in [250, 250, 550, 554, 221] {
        c.expect(code).await;
    }
    c.expect_closed().await;
    assert_eq!(server.inbox(server.user.account).len(), 1);
    assert_eq!(server.inbox(server.agency.account).len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn commands_pipelined_after_starttls_are_discarded() {
    let server = TestServer::start().await;
    let me = user_address(&server);
    let mut c = server.connect(server.submission).await;
    c.command("EHLO pc", 250).await;
    // CVE-2011-0411: an attacker in the path appends a command to the plaintext
    // STARTTLS; it must not be executed as if it came over TLS.
    c.send_raw(format!("STARTTLS\r\nAUTH PLAIN {}\r\n", plain(&me, PASSWORD)).as_bytes())
        .await;
    let mut c = server.handshake_after_220(c).await;
    // Had the AUTH been kept, its 235 would arrive here instead of the EHLO reply.
    let ehlo = c.command("EHLO pc", 250).await;
    assert!(ehlo.lines.iter().any(|l| l == "AUTH PLAIN LOGIN"));
    c.command_enhanced(&format!("MAIL FROM:<{me}>"), 530, "5.7.0")
        .await;
    server.stop().await;
}

#[tokio::test]
async fn message_size_limit_is_enforced_after_the_dot() {
    let server = TestServer::with_config(SmtpConfig {
        max_message_bytes: 1000,
        ..SmtpConfig::default()
    })
    .await;
    let mut c = server.connect(server.mx).await;
    let ehlo = c.command("EHLO relay.example.org", 250).await;
    assert!(ehlo.lines.iter().any(|l| l == "SIZE 1000"));
    c.command_enhanced("MAIL FROM:<a@example.org> SIZE=1001", 552, "5.3.4")
        .await;
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
    c.command("DATA", 354).await;
    c.send_raw(&vec![b'x'; 5000]).await;
    c.send_raw(b"\r\n.\r\n").await;
    c.expect(552).await;
    // The transaction is over; a new one works.
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
    c.command("DATA", 354).await;
    c.send_raw(b"small\r\n.\r\n").await;
    c.expect(250).await;
    assert_eq!(server.inbox(server.user.account).len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn quota_is_checked_at_rcpt_and_at_data() {
    let server = TestServer::start().await;
    server.directory.set_quota(&server.user.address, 100).unwrap();
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    c.command("MAIL FROM:<a@example.org> SIZE=500", 250).await;
    c.command_enhanced(&format!("RCPT TO:<{}>", server.user.address), 452, "4.2.2")
        .await;
    c.command("RSET", 250).await;
    // Without SIZE the RCPT passes; the store refuses at DATA: nobody got it, 552.
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
    c.command("DATA", 354).await;
    c.send_raw(&[b'y'; 300]).await;
    c.send_raw(b"\r\n.\r\n").await;
    let reply = c.expect(552).await;
    assert!(reply.lines[0].starts_with("5.2.2 "));
    // One over quota, one delivered: 250 (one reply for all recipients).
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
    c.command(&format!("RCPT TO:<{}>", server.agency.address), 250)
        .await;
    c.command("DATA", 354).await;
    c.send_raw(&[b'y'; 300]).await;
    c.send_raw(b"\r\n.\r\n").await;
    c.expect(250).await;
    assert!(server.inbox(server.user.account).is_empty());
    assert_eq!(server.inbox(server.agency.account).len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn idle_timeout_closes_with_421() {
    let server = TestServer::with_config(SmtpConfig {
        idle_timeout_secs: 1,
        ..SmtpConfig::default()
    })
    .await;
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    let reply = c.expect(421).await;
    assert!(reply.lines[0].starts_with("4.4.2 "));
    c.expect_closed().await;
    server.stop().await;
}

/// Issue 11: a sender that drips its data (each block inside the data timeout) is
/// cut off when the transaction has lasted `max_transaction_secs`; nothing is stored.
#[tokio::test]
async fn a_dripping_transaction_is_cut_off_at_its_time_limit() {
    let server = TestServer::with_config(SmtpConfig {
        max_transaction_secs: 1,
        ..SmtpConfig::default()
    })
    .await;
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
    c.command("DATA", 354).await;
    let started = std::time::Instant::now();
    c.send_raw(b"Subject: drip\r\n\r\n").await;
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        c.send_raw(b"x").await;
    }
    let reply = c.expect(421).await;
    assert!(reply.lines[0].starts_with("4.4.2 "), "{reply:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    c.expect_closed().await;
    assert!(server.inbox(server.user.account).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_idle_sessions_and_lets_data_finish() {
    let mut server = TestServer::start().await;
    let mut idle = server.connect(server.mx).await;
    idle.command("EHLO relay.example.org", 250).await;
    let mut busy = server.connect(server.mx).await;
    busy.command("EHLO relay.example.org", 250).await;
    busy.command("MAIL FROM:<a@example.org>", 250).await;
    busy.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
    busy.command("DATA", 354).await;
    busy.send_raw(b"Subject: in flight\r\n\r\n").await;

    server.shutdown.send(true).unwrap();
    let reply = idle.expect(421).await;
    assert!(reply.lines[0].starts_with("4.3.2 "));
    idle.expect_closed().await;
    // New connections are no longer accepted once the listeners stopped.
    tokio::time::sleep(Duration::from_millis(100)).await;
    busy.send_raw(b"still accepted\r\n.\r\n").await;
    busy.expect(250).await;
    let reply = busy.expect(421).await;
    assert!(reply.lines[0].starts_with("4.3.2 "));
    busy.expect_closed().await;
    assert_eq!(server.inbox(server.user.account).len(), 1);
    for listener in std::mem::take(&mut server.listeners) {
        tokio::time::timeout(Duration::from_secs(10), listener)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    assert!(tokio::net::TcpStream::connect(server.mx).await.is_err());
}

#[tokio::test]
async fn shutdown_cuts_a_stalled_data_phase_after_the_grace_period() {
    let server = TestServer::with_config(SmtpConfig {
        shutdown_grace_secs: 1,
        ..SmtpConfig::default()
    })
    .await;
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
    c.command("DATA", 354).await;
    c.send_raw(b"Subject: never finished\r\n\r\n").await;
    let started = std::time::Instant::now();
    server.shutdown.send(true).unwrap();
    let reply = c.expect(421).await;
    assert!(reply.lines[0].starts_with("4.3.2 "));
    c.expect_closed().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(server.inbox(server.user.account).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn postmaster_and_non_ascii_recipients_on_mx() {
    let server = TestServer::start().await;
    let mut c = server.connect(server.mx).await;
    c.command("EHLO relay.example.org", 250).await;
    c.command("MAIL FROM:<a@example.org>", 250).await;
    c.command_enhanced(&format!("RCPT TO:<tuấn@{DOMAIN}>"), 553, "5.6.7")
        .await;
    c.command("RSET", 250).await;
    c.command("MAIL FROM:<a@example.org> SMTPUTF8", 250).await;
    c.command_enhanced(&format!("RCPT TO:<tuấn@{DOMAIN}>"), 550, "5.1.1")
        .await;
    // `<Postmaster>` is routed to postmaster@ the local domain above the hostname,
    // which the directory resolves to the first agency's mailbox.
    c.command_enhanced("RCPT TO:<Postmaster>", 250, "2.1.5").await;
    c.command(&format!("RCPT TO:<{}>", server.user.address), 250)
        .await;
    c.command("DATA", 354).await;
    c.send_raw(b"x\r\n.\r\n").await;
    c.expect(250).await;
    let stored = String::from_utf8(server.inbox(server.user.account).remove(0)).unwrap();
    assert!(stored.contains(" with UTF8SMTP id "), "{stored}");
    server.stop().await;
}

/// RFC 6409 §6.1, Art. 16.1: the `From:` and `Sender:` addresses are held to the rule
/// MAIL FROM is: the official's own, or the agency's under a send-as grant. The relay
/// DKIM-signs by the `From:` domain, so a forged one would pass DMARC.
#[tokio::test]
async fn from_and_sender_headers_must_be_the_users_to_send_as() {
    let server = TestServer::start().await;
    let me = user_address(&server);
    let agency = server.agency.address.clone();
    let mut c = server.submit_session().await;
    let mut send = async |headers: &str, code: u16, enhanced: &str| {
        c.command(&format!("MAIL FROM:<{me}>"), 250).await;
        c.command(&format!("RCPT TO:<{me}>"), 250).await;
        c.command("DATA", 354).await;
        c.send_raw(format!("{headers}Subject: Thử\r\n\r\nx\r\n.\r\n").as_bytes())
            .await;
        let reply = c.expect(code).await;
        assert!(
            reply.lines[0].starts_with(&format!("{enhanced} ")),
            "{headers}: {reply:?}"
        );
        reply
    };
    // Own address, any case, with a display name; no From at all passes too.
    send(
        &format!("From: \"Tuấn\" <{}>\r\n", me.to_uppercase()),
        250,
        "2.0.0",
    )
    .await;
    send("", 250, "2.0.0").await;
    // The chairman, in From or Sender, or hidden behind our own in a list or a second field.
    let refused = send(&format!("From: chutich@{DOMAIN}\r\n"), 550, "5.7.1").await;
    assert!(
        refused.text().starts_with(
            "5.7.1 Địa chỉ người gửi trong tiêu đề From hoặc Sender không thuộc tài khoản của bạn / "
        ),
        "{refused:?}"
    );
    for headers in [
        format!("From: {me}\r\nSender: chutich@{DOMAIN}\r\n"),
        format!("From: {me}, chutich@{DOMAIN}\r\n"),
        format!("From: {me}\r\nFrom: CHUTICH@{DOMAIN}\r\n"),
        format!("From: \"{me}\" <chutich@{DOMAIN}>\r\n"),
        "From: boss@example.org\r\n".to_owned(),
        // The agency without a send-as grant.
        format!("From: {agency}\r\n"),
    ] {
        send(&headers, 550, "5.7.1").await;
    }
    send("From: Chủ tịch\r\n", 550, "5.6.0").await;
    send(&format!("From: {me}\r\nSender:\r\n"), 550, "5.6.0").await;
    // Another official's address shown as the display name (issue 10); the own
    // address or a foreign one in the name passes.
    let named = send(
        &format!("From: \"Chủ tịch (CHUTICH@{DOMAIN}.)\" <{me}>\r\n"),
        550,
        "5.7.1",
    )
    .await;
    assert!(named.text().contains("Tên hiển thị"), "{named:?}");
    send(&format!("From: \"{me}\" <{me}>\r\n"), 250, "2.0.0").await;
    send(&format!("From: \"list@example.org\" <{me}>\r\n"), 250, "2.0.0").await;
    // Art. 16.1: the clerk with a send-as grant writes the agency in From.
    server
        .directory
        .grant_delegation("sttt", &me, Some("QĐ 12"), "admin")
        .unwrap();
    send(&format!("From: {agency}\r\nSender: {me}\r\n"), 250, "2.0.0").await;
    // Refusals stored nothing: five accepted copies, all the user's own.
    assert_eq!(server.inbox(server.user.account).len(), 5);
    assert!(server.inbox(server.agency.account).is_empty());
    c.command("QUIT", 221).await;
    server.stop().await;
}

/// Art. 16.1 (issue 12): what a clerk sends as the agency is filed, server-side, in
/// the agency mailbox's Sent, seen, naming the clerk; mail the clerk sends as
/// themself is not.
#[tokio::test]
async fn mail_sent_as_the_agency_is_filed_in_the_agencys_sent_mailbox() {
    let server = TestServer::start().await;
    let me = user_address(&server);
    let agency = server.agency.address.clone();
    server
        .directory
        .grant_delegation("sttt", &me, Some("QĐ 12"), "admin")
        .unwrap();
    let mut c = server.submit_session().await;
    let mut send = async |from: &str, subject: &str| {
        c.command(&format!("MAIL FROM:<{from}>"), 250).await;
        c.command(&format!("RCPT TO:<{me}>"), 250).await;
        c.command("RCPT TO:<vanthu@congty.vn>", 250).await;
        c.command("DATA", 354).await;
        c.send_raw(format!("From: {from}\r\nSubject: {subject}\r\n\r\nx\r\n.\r\n").as_bytes())
            .await;
        c.expect(250).await;
    };
    send(&agency, "Công văn số 12").await;
    send(&me, "Thư riêng").await;
    let sent = server
        .store
        .mailbox_by_name(server.agency.account, "Sent")
        .unwrap()
        .unwrap();
    let filed = server.store.messages(sent.id).unwrap();
    assert_eq!(filed.len(), 1, "only the mail sent as the agency");
    assert_eq!(filed[0].flags, congvu_store::Flags::SEEN);
    let bytes = server.store.read_blob(&filed[0].blob).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(
        text,
        format!("X-Congvu-Sent-By: <{me}>\r\nFrom: {agency}\r\nSubject: Công văn số 12\r\n\r\nx\r\n")
    );
    // The clerk's own Sent is the clerk's client's business.
    let own_sent = server
        .store
        .mailbox_by_name(server.user.account, "Sent")
        .unwrap()
        .unwrap();
    assert!(server.store.messages(own_sent.id).unwrap().is_empty());
    c.command("QUIT", 221).await;
    server.stop().await;
}
