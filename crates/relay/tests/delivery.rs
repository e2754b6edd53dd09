//! The queue worker against a scripted SMTP server on 127.0.0.1: per-recipient
//! 2xx/4xx/5xx handling, bounces, retries, connection reuse, MX lookup through a
//! static resolver (never real DNS), DSN parameters passed on and honoured
//! (RFC 3461), and the running worker woken when mail is queued, sleeping until the
//! next retry otherwise.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use congvu_relay::resolve::Mx;
use congvu_relay::{
    QueueConfig, QueueWaker, Relay, RelaySettings, Route, StaticResolver, TlsMode, retry_now,
};
use congvu_store::{
    AccountId, AccountKind, DsnRequest, DsnRet, MailStore, Notify, OriginalRecipient, Outbound, QueueId,
    RecipientDsn, SledStore,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the fake server saw.
#[derive(Default)]
struct Seen {
    connections: usize,
    /// (sender, recipients accepted, data as received, dot-unstuffed).
    messages: Vec<(String, Vec<String>, Vec<u8>)>,
    /// Every MAIL and RCPT command as received, without its CRLF.
    commands: Vec<String>,
}

/// A reply to RCPT TO for an address (`250 ok` when `None`).
type Script = fn(&str) -> Option<&'static str>;

/// Serves SMTP on `listener`, advertising DSN (RFC 3461) when `dsn` is set.
async fn fake_server(listener: TcpListener, script: Script, dsn: bool, seen: Arc<Mutex<Seen>>) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        seen.lock().unwrap().connections += 1;
        let seen = seen.clone();
        tokio::spawn(async move {
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read);
            write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
            let (mut sender, mut rcpts) = (String::new(), Vec::new());
            let mut line = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let upper = line.to_ascii_uppercase();
                if upper.starts_with("MAIL") || upper.starts_with("RCPT") {
                    seen.lock().unwrap().commands.push(line.trim_end().to_string());
                }
                let reply: String = if upper.starts_with("EHLO") {
                    let dsn = if dsn { "250-DSN\r\n" } else { "" };
                    format!(
                        "250-fake\r\n250-PIPELINING\r\n{dsn}250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 1000000\r\n"
                    )
                } else if upper.starts_with("MAIL FROM:<") {
                    sender = line[11..line.find('>').unwrap()].to_string();
                    rcpts.clear();
                    "250 2.1.0 ok\r\n".into()
                } else if upper.starts_with("RCPT TO:<") {
                    let rcpt = line[9..line.find('>').unwrap()].to_string();
                    match script(&rcpt) {
                        Some(reply) => format!("{reply}\r\n"),
                        None => {
                            rcpts.push(rcpt);
                            "250 2.1.5 ok\r\n".into()
                        }
                    }
                } else if upper.starts_with("DATA") {
                    if rcpts.is_empty() {
                        "554 5.5.1 no valid recipients\r\n".into()
                    } else {
                        write.write_all(b"354 go\r\n").await.unwrap();
                        let mut data = Vec::new();
                        loop {
                            let mut raw = Vec::new();
                            lines.read_until(b'\n', &mut raw).await.unwrap();
                            if raw == b".\r\n" {
                                break;
                            }
                            data.extend_from_slice(raw.strip_prefix(b".").unwrap_or(&raw));
                        }
                        seen.lock()
                            .unwrap()
                            .messages
                            .push((sender.clone(), rcpts.clone(), data));
                        "250 2.0.0 queued\r\n".into()
                    }
                } else if upper.starts_with("QUIT") {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    return;
                } else {
                    "250 ok\r\n".into()
                };
                write.write_all(reply.as_bytes()).await.unwrap();
            }
        });
    }
}

async fn start(script: Script) -> (SocketAddr, Arc<Mutex<Seen>>) {
    start_with(script, false).await
}

async fn start_with(script: Script, dsn: bool) -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    tokio::spawn(fake_server(listener, script, dsn, seen.clone()));
    (addr, seen)
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<SledStore>,
    sender: AccountId,
}

/// Every test ends with the consistency check of its store and directory: a test
/// that passes but leaves an inconsistency fails here.
impl Drop for Setup {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let report = self.store.check().expect("consistency check");
        assert!(
            report.is_consistent(),
            "the test left an inconsistent store: {report:?}"
        );
    }
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(dir.path()).unwrap());
    let sender = store.create_account(AccountKind::Personal, 1 << 30).unwrap();
    Setup {
        _dir: dir,
        store,
        sender,
    }
}

fn test_queue(mx_port: u16) -> QueueConfig {
    QueueConfig {
        mx_port,
        connect_timeout_secs: 5,
        reply_timeout_secs: 5,
        connections_per_host: 2,
        ..QueueConfig::default()
    }
}

fn relay(setup: &Setup, route_to: Option<SocketAddr>, resolver: StaticResolver, mx_port: u16) -> Relay {
    relay_with(setup, route_to, resolver, test_queue(mx_port))
}

fn relay_with(
    setup: &Setup,
    route_to: Option<SocketAddr>,
    resolver: StaticResolver,
    queue: QueueConfig,
) -> Relay {
    let routes = route_to
        .map(|addr| Route {
            domains: vec!["b.vn".into(), "*.b.vn".into()],
            next_hop: addr.to_string(),
            tls: TlsMode::Opportunistic,
            ca_file: None,
            auth_user: None,
            auth_password_file: None,
        })
        .into_iter()
        .collect();
    let settings = RelaySettings {
        hostname: "mx.a.vn".into(),
        queue,
        routes,
        dkim: Default::default(),
    };
    Relay::new(settings, setup.store.clone(), Arc::new(resolver)).unwrap()
}

fn enqueue(setup: &Setup, recipients: &[&str], body: &[u8]) -> QueueId {
    enqueue_dsn(setup, recipients, body, &DsnRequest::default())
}

fn enqueue_dsn(setup: &Setup, recipients: &[&str], body: &[u8], dsn: &DsnRequest) -> QueueId {
    let recipients: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
    setup
        .store
        .enqueue(&Outbound {
            bytes: &[body],
            sender: "tuanna.sttt@a.vn",
            recipients: &recipients,
            submitted_by: Some(setup.sender),
            dsn,
        })
        .unwrap()
}

fn inbox_texts(setup: &Setup) -> Vec<String> {
    let inbox = setup
        .store
        .mailbox_by_name(setup.sender, "INBOX")
        .unwrap()
        .unwrap();
    setup
        .store
        .messages(inbox.id)
        .unwrap()
        .iter()
        .map(|m| String::from_utf8(setup.store.read_blob(&m.blob).unwrap()).unwrap())
        .collect()
}

/// The `Bounced` mail events of the sender's account (issue 14).
fn bounce_events(setup: &Setup) -> usize {
    let events = setup.store.events(0, i64::MAX).unwrap();
    assert!(events.iter().all(|e| e.account == setup.sender));
    events
        .iter()
        .filter(|e| e.kind == congvu_store::MailEventKind::Bounced)
        .count()
}

const BODY: &[u8] = b"From: Tuan <tuanna.sttt@a.vn>\nTo: x@b.vn\nSubject: hi\n\n.leading dot\nbare LF line\n";

#[tokio::test]
async fn delivers_several_messages_over_one_connection_with_crlf_only() {
    let (addr, seen) = start(|_| None).await;
    let setup = setup();
    for _ in 0..3 {
        enqueue(&setup, &["x@b.vn"], BODY);
    }
    let relay = relay(&setup, Some(addr), StaticResolver::default(), 25);
    relay.scan().await;
    assert!(setup.store.queue().unwrap().is_empty());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.messages.len(), 3);
    assert!(seen.connections <= 2, "connections reused: {}", seen.connections);
    let (sender, rcpts, data) = &seen.messages[0];
    assert_eq!(
        (sender.as_str(), rcpts.as_slice()),
        ("tuanna.sttt@a.vn", &["x@b.vn".to_string()][..])
    );
    let text = String::from_utf8(data.clone()).unwrap();
    assert!(text.contains("\r\n.leading dot\r\nbare LF line\r\n"), "{text:?}");
    assert!(!text.replace("\r\n", "").contains('\n'), "no bare LF on the wire");
}

#[tokio::test]
async fn per_recipient_4xx_is_kept_5xx_bounced_2xx_done() {
    let (addr, seen) = start(|rcpt| match rcpt {
        "later@b.vn" => Some("451 4.2.1 mailbox busy"),
        "nobody@b.vn" => Some("550 5.1.1 no such user"),
        _ => None,
    })
    .await;
    let setup = setup();
    let id = enqueue(&setup, &["ok@b.vn", "later@b.vn", "nobody@b.vn"], BODY);
    let relay = relay(&setup, Some(addr), StaticResolver::default(), 25);
    relay.scan().await;

    assert_eq!(seen.lock().unwrap().messages[0].1, ["ok@b.vn"]);
    let entry = setup
        .store
        .queue_entry(id)
        .unwrap()
        .expect("deferred recipient kept");
    assert_eq!(entry.recipients, ["later@b.vn"]);
    assert_eq!(entry.attempts, 1);
    assert!(entry.next_attempt >= entry.queued_at + 300, "5 minutes backoff");
    assert!(entry.last_error.unwrap().contains("451 4.2.1"));

    let bounces = inbox_texts(&setup);
    assert_eq!(bounces.len(), 1, "one bounce for the 5xx");
    let bounce = &bounces[0];
    assert!(bounce.contains("multipart/report; report-type=delivery-status"));
    assert!(bounce.contains("Final-Recipient: rfc822; nobody@b.vn") && bounce.contains("Status: 5.1.1"));
    assert!(!bounce.contains("later@b.vn") && !bounce.contains("Final-Recipient: rfc822; ok@b.vn"));
    assert!(bounce.contains("Subject: hi"), "original headers attached");
    assert_eq!(
        bounce_events(&setup),
        1,
        "the bounce is a mail event of the sender"
    );

    // Not due yet: a scan does nothing; after `queue retry` it is attempted again.
    assert_eq!(relay.scan().await, 0);
    retry_now(setup.store.as_ref(), id).unwrap();
    assert_eq!(relay.scan().await, 1);
    assert_eq!(setup.store.queue_entry(id).unwrap().unwrap().attempts, 2);
    // One count per recipient per attempt: 250, 451, 550, then 451 again.
    assert_eq!(
        relay.metrics().snapshot(),
        congvu_relay::DeliverySnapshot {
            delivered: 1,
            deferred: 2,
            failed: 1,
            expired: 0,
        }
    );
}

#[tokio::test]
async fn stopped_destination_is_retried_and_delivered_once_back() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let setup = setup();
    let id = enqueue(&setup, &["x@b.vn"], BODY);
    let relay = relay(&setup, Some(addr), StaticResolver::default(), 25);
    relay.scan().await;
    let entry = setup.store.queue_entry(id).unwrap().unwrap();
    assert_eq!(entry.attempts, 1);
    assert!(entry.last_error.unwrap().contains("4.4.1"));
    assert!(
        inbox_texts(&setup).is_empty(),
        "no bounce for a temporary failure"
    );

    let listener = TcpListener::bind(addr).await.unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    tokio::spawn(fake_server(listener, |_| None, false, seen.clone()));
    retry_now(setup.store.as_ref(), id).unwrap();
    relay.scan().await;
    assert!(setup.store.queue().unwrap().is_empty());
    assert_eq!(seen.lock().unwrap().messages.len(), 1);
}

#[tokio::test]
async fn mx_lookup_null_mx_and_missing_domains() {
    let (addr, seen) = start(|_| None).await;
    let mut resolver = StaticResolver::default();
    let mx = |preference, exchange: &str| Mx {
        preference,
        exchange: exchange.into(),
    };
    resolver
        .mx
        .insert("c.vn".into(), vec![mx(20, "backup.c.vn"), mx(10, "mx.c.vn")]);
    resolver.hosts.insert("mx.c.vn".into(), vec![addr.ip()]);
    resolver.hosts.insert("backup.c.vn".into(), vec![]);
    resolver.mx.insert("null.vn".into(), vec![mx(0, "")]);
    let setup = setup();
    enqueue(&setup, &["a@c.vn", "b@null.vn", "c@nowhere.vn"], BODY);
    let relay = relay(&setup, None, resolver, addr.port());
    relay.scan().await;
    assert!(setup.store.queue().unwrap().is_empty());
    assert_eq!(seen.lock().unwrap().messages[0].1, ["a@c.vn"]);
    let bounce = inbox_texts(&setup).join("");
    assert!(
        bounce.contains("Status: 5.1.10") && bounce.contains("Status: 5.1.2"),
        "{bounce}"
    );
}

#[tokio::test]
async fn null_sender_gets_no_bounce_and_delay_notice_comes_once() {
    let (addr, _seen) = start(|rcpt| {
        if rcpt.starts_with("no") {
            Some("550 5.1.1 no")
        } else {
            Some("451 4.3.0 later")
        }
    })
    .await;
    let setup = setup();
    let bounce_of_bounce = setup
        .store
        .enqueue(&Outbound {
            bytes: &[BODY],
            sender: "",
            recipients: &["nobody@b.vn".to_string()],
            submitted_by: None,
            dsn: &DsnRequest::default(),
        })
        .unwrap();
    // Delay notices after 0 s, so the first deferral earns one.
    let queue = QueueConfig {
        delay_notice_after_secs: 0,
        ..test_queue(25)
    };
    let relay = relay_with(&setup, Some(addr), StaticResolver::default(), queue);
    let delayed = enqueue(&setup, &["later@b.vn"], BODY);
    relay.scan().await;
    assert_eq!(
        setup.store.queue_entry(bounce_of_bounce).unwrap(),
        None,
        "bounced silently"
    );
    let notices = inbox_texts(&setup);
    assert_eq!(notices.len(), 1);
    assert!(notices[0].contains("Action: delayed") && notices[0].contains("Status: 4.3.0"));
    retry_now(setup.store.as_ref(), delayed).unwrap();
    relay.scan().await;
    assert_eq!(inbox_texts(&setup).len(), 1, "one delay notice per message");
    assert!(setup.store.queue_entry(delayed).unwrap().unwrap().delay_notified);
}

const SUCCESS: Notify = Notify {
    success: true,
    failure: false,
    delay: false,
};

fn wants(address: &str, notify: Option<Notify>, orcpt: Option<&str>) -> RecipientDsn {
    RecipientDsn {
        address: address.into(),
        notify,
        orcpt: orcpt.map(|address| OriginalRecipient {
            addr_type: "rfc822".into(),
            address: address.into(),
        }),
    }
}

/// Relays BODY to `a@b.vn` and `x@b.vn` with `dsn` (every recipient accepted);
/// returns the MAIL and RCPT commands the server saw.
async fn relay_to_a_and_x(
    setup: &Setup,
    addr: SocketAddr,
    dsn: &DsnRequest,
    seen: &Mutex<Seen>,
) -> Vec<String> {
    enqueue_dsn(setup, &["a@b.vn", "x@b.vn"], BODY, dsn);
    relay(setup, Some(addr), StaticResolver::default(), 25)
        .scan()
        .await;
    assert!(setup.store.queue().unwrap().is_empty());
    seen.lock().unwrap().commands.clone()
}

#[tokio::test]
async fn dsn_parameters_reach_a_next_hop_that_advertises_dsn() {
    let (addr, seen) = start_with(|_| None, true).await;
    let setup = setup();
    let dsn = DsnRequest {
        ret: Some(DsnRet::Full),
        envid: Some("QQ 31+4".into()),
        recipients: vec![wants(
            "a@b.vn",
            Some(Notify {
                failure: true,
                ..SUCCESS
            }),
            Some("Anh=A@b.vn"),
        )],
    };
    let commands = relay_to_a_and_x(&setup, addr, &dsn, &seen).await;
    assert_eq!(commands.len(), 3, "{commands:?}");
    assert!(
        commands[0].starts_with("MAIL FROM:<tuanna.sttt@a.vn> SIZE=")
            && commands[0].ends_with(" RET=FULL ENVID=QQ+2031+2B4"),
        "{commands:?}"
    );
    assert_eq!(
        commands[1..],
        [
            "RCPT TO:<a@b.vn> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Anh+3DA@b.vn",
            "RCPT TO:<x@b.vn>"
        ]
    );
    assert!(
        inbox_texts(&setup).is_empty(),
        "the next hop reports success from now on"
    );
}

#[tokio::test]
async fn without_dsn_at_the_next_hop_success_requests_get_a_relayed_report() {
    let (addr, seen) = start(|_| None).await;
    let setup = setup();
    let dsn = DsnRequest {
        ret: Some(DsnRet::Headers),
        envid: Some("QQ314159".into()),
        recipients: vec![wants("a@b.vn", Some(SUCCESS), Some("A@b.vn"))],
    };
    let commands = relay_to_a_and_x(&setup, addr, &dsn, &seen).await;
    assert!(
        commands.iter().all(|c| !c.contains("NOTIFY")
            && !c.contains("RET=")
            && !c.contains("ENVID")
            && !c.contains("ORCPT")),
        "no DSN parameter to a server that did not advertise DSN: {commands:?}"
    );
    let reports = inbox_texts(&setup);
    assert_eq!(reports.len(), 1, "one relayed report");
    let report = &reports[0];
    assert!(
        report.contains("Action: relayed") && report.contains("Status: 2.0.0"),
        "{report}"
    );
    assert!(report.contains("Original-Envelope-Id: QQ314159"));
    assert!(report.contains("Original-Recipient: rfc822;A@b.vn\r\nFinal-Recipient: rfc822; a@b.vn"));
    assert!(
        !report.contains("rfc822; x@b.vn") && !report.contains("<x@b.vn>"),
        "x@b.vn asked for no success report"
    );
    assert!(report.contains("Diagnostic-Code: smtp; 250 2.0.0 queued"));
}

#[tokio::test]
async fn notify_never_or_success_only_means_no_bounce() {
    let (addr, _seen) = start(|_| Some("550 5.1.1 no such user")).await;
    let setup = setup();
    let dsn = DsnRequest {
        recipients: vec![
            wants("never@b.vn", Some(Notify::NEVER), None),
            wants("success@b.vn", Some(SUCCESS), None),
        ],
        ..DsnRequest::default()
    };
    enqueue_dsn(&setup, &["never@b.vn", "success@b.vn"], BODY, &dsn);
    enqueue_dsn(&setup, &["never@b.vn", "success@b.vn", "plain@b.vn"], BODY, &dsn);
    relay(&setup, Some(addr), StaticResolver::default(), 25)
        .scan()
        .await;
    assert!(setup.store.queue().unwrap().is_empty(), "all bounced");
    let bounces = inbox_texts(&setup);
    assert_eq!(bounces.len(), 1, "a bounce only for the second message");
    let bounce = &bounces[0];
    assert!(
        bounce.contains("Final-Recipient: rfc822; plain@b.vn"),
        "no NOTIFY: failures reported"
    );
    assert!(!bounce.contains("never@b.vn") && !bounce.contains("success@b.vn"));
    assert_eq!(
        bounce_events(&setup),
        1,
        "no event for a failure nobody was told of"
    );
}

#[tokio::test]
async fn ret_full_returns_the_message_up_to_the_limit() {
    let (addr, _seen) = start(|_| Some("550 5.1.1 no such user")).await;
    let dsn = DsnRequest {
        ret: Some(DsnRet::Full),
        envid: Some("QQ314159".into()),
        recipients: vec![wants("a@b.vn", None, Some("Anh@b.vn"))],
    };
    let setup = setup();
    enqueue_dsn(&setup, &["a@b.vn"], BODY, &dsn);
    relay(&setup, Some(addr), StaticResolver::default(), 25)
        .scan()
        .await;
    let bounces = inbox_texts(&setup);
    let bounce = &bounces[0];
    assert!(bounce.contains("Content-Type: message/rfc822\r\n"), "{bounce}");
    assert!(
        bounce.contains("\r\n.leading dot\r\nbare LF line\r\n"),
        "the body returned"
    );
    assert!(bounce.contains("Original-Envelope-Id: QQ314159\r\n"));
    assert!(bounce.contains("Original-Recipient: rfc822;Anh@b.vn\r\nFinal-Recipient: rfc822; a@b.vn"));
    let message = mail_parser::MessageParser::default()
        .parse(bounce.as_bytes())
        .unwrap();
    let returned = message
        .attachments()
        .find_map(|p| p.message())
        .expect("message/rfc822");
    assert_eq!(returned.subject(), Some("hi"));

    // Larger than dsn_return_full_max_bytes: the header section, and why.
    let setup = self::setup();
    enqueue_dsn(&setup, &["a@b.vn"], BODY, &dsn);
    let queue = QueueConfig {
        dsn_return_full_max_bytes: 10,
        ..test_queue(25)
    };
    relay_with(&setup, Some(addr), StaticResolver::default(), queue)
        .scan()
        .await;
    let bounce = inbox_texts(&setup).join("");
    assert!(bounce.contains("Content-Type: text/rfc822-headers") && !bounce.contains("leading dot"));
    assert!(bounce.contains("Subject: hi"));
}

/// While set, `later@b.vn` is deferred; then refused.
static LATER_DEFERRED: AtomicBool = AtomicBool::new(true);

#[tokio::test]
async fn dsn_parameters_follow_recipients_across_retries() {
    let (addr, _seen) = start(|rcpt| match rcpt {
        "later@b.vn" if LATER_DEFERRED.load(Ordering::SeqCst) => Some("451 4.2.1 mailbox busy"),
        "later@b.vn" => Some("550 5.1.1 gone"),
        "quiet@b.vn" => Some("451 4.2.1 mailbox busy"),
        _ => None,
    })
    .await;
    let setup = setup();
    let dsn = DsnRequest {
        ret: None,
        envid: Some("E-7".into()),
        recipients: vec![
            wants("ok@b.vn", Some(SUCCESS), None),
            wants("later@b.vn", None, Some("Later@b.vn")),
            // Failures only: no delay notice for it.
            wants(
                "quiet@b.vn",
                Some(Notify {
                    failure: true,
                    ..Notify::NEVER
                }),
                None,
            ),
        ],
    };
    let id = enqueue_dsn(&setup, &["ok@b.vn", "later@b.vn", "quiet@b.vn"], BODY, &dsn);
    let queue = QueueConfig {
        delay_notice_after_secs: 0,
        ..test_queue(25)
    };
    let relay = relay_with(&setup, Some(addr), StaticResolver::default(), queue);
    relay.scan().await;

    let entry = setup.store.queue_entry(id).unwrap().unwrap();
    assert_eq!(entry.recipients, ["later@b.vn", "quiet@b.vn"]);
    assert_eq!(
        entry.dsn.recipients,
        dsn.recipients[1..],
        "ok@b.vn's parameters left with it"
    );
    assert_eq!(entry.dsn.envid.as_deref(), Some("E-7"));
    let reports = inbox_texts(&setup);
    assert_eq!(reports.len(), 2, "relayed for ok@b.vn, delayed for later@b.vn");
    let relayed = reports.iter().find(|r| r.contains("Action: relayed")).unwrap();
    assert!(relayed.contains("Final-Recipient: rfc822; ok@b.vn") && !relayed.contains("later@b.vn"));
    let delayed = reports.iter().find(|r| r.contains("Action: delayed")).unwrap();
    assert!(delayed.contains("Original-Recipient: rfc822;Later@b.vn\r\nFinal-Recipient: rfc822; later@b.vn"));
    assert!(
        !delayed.contains("quiet@b.vn"),
        "quiet@b.vn asked for failures only"
    );
    assert!(delayed.contains("Original-Envelope-Id: E-7"));

    LATER_DEFERRED.store(false, Ordering::SeqCst);
    retry_now(setup.store.as_ref(), id).unwrap();
    relay.scan().await;
    let reports = inbox_texts(&setup);
    assert_eq!(reports.len(), 3);
    let bounce = reports.iter().find(|r| r.contains("Action: failed")).unwrap();
    assert!(bounce.contains("Original-Recipient: rfc822;Later@b.vn\r\nFinal-Recipient: rfc822; later@b.vn"));
    assert!(
        bounce.contains("Content-Type: text/rfc822-headers"),
        "no RET: headers"
    );
    let entry = setup.store.queue_entry(id).unwrap().unwrap();
    assert_eq!(entry.recipients, ["quiet@b.vn"]);
    assert_eq!(entry.dsn.recipients, dsn.recipients[2..]);
}

#[tokio::test]
async fn a_message_without_dsn_parameters_is_relayed_and_bounced_as_before() {
    // What an entry queued before DSN support loads as (see congvu-store's tests).
    let (addr, seen) = start_with(|_| Some("550 5.1.1 no such user"), true).await;
    let setup = setup();
    enqueue(&setup, &["a@b.vn"], BODY);
    relay(&setup, Some(addr), StaticResolver::default(), 25)
        .scan()
        .await;
    let commands = seen.lock().unwrap().commands.clone();
    assert!(
        commands[0].starts_with("MAIL FROM:<tuanna.sttt@a.vn> SIZE="),
        "{commands:?}"
    );
    assert!(!commands[0].contains("RET=") && !commands[0].contains("ENVID="));
    assert_eq!(commands[1], "RCPT TO:<a@b.vn>");
    let bounce = inbox_texts(&setup).join("");
    assert!(bounce.contains("Action: failed") && bounce.contains("Content-Type: text/rfc822-headers"));
    assert!(!bounce.contains("Original-Envelope-Id") && !bounce.contains("Original-Recipient"));
    assert!(!bounce.contains("leading dot"));
}

/// Runs the worker as `congvu serve` does; returns the stop switch and its task.
fn run(relay: Relay) -> (tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    (stop, tokio::spawn(Arc::new(relay).run(stopped)))
}

/// Waits (at most `within`) until the fake server holds `count` messages; returns
/// how long that took.
async fn messages_arrive(seen: &Mutex<Seen>, count: usize, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if seen.lock().unwrap().messages.len() >= count {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

async fn stop_worker(stop: tokio::sync::watch::Sender<bool>, worker: tokio::task::JoinHandle<()>) {
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), worker)
        .await
        .expect("the worker stops when told")
        .unwrap();
}

#[tokio::test]
async fn a_queued_message_leaves_as_soon_as_the_worker_is_woken() {
    // Issue 13: the worker is woken when mail is queued instead of polling the queue
    // every few seconds. With the sweep at its old 5 s, only the wake can make the
    // message leave within the second.
    let (addr, seen) = start(|_| None).await;
    let setup = setup();
    let queue = QueueConfig {
        scan_interval_secs: 5,
        ..test_queue(25)
    };
    let waker = QueueWaker::new();
    let relay = relay_with(&setup, Some(addr), StaticResolver::default(), queue).with_waker(waker.clone());
    let (stop, worker) = run(relay);
    // Its first pass (an empty queue) is over: it sleeps now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for sent in 1..=3 {
        enqueue(&setup, &["x@b.vn"], BODY);
        waker.wake();
        let took = messages_arrive(&seen, sent, Duration::from_secs(3)).await;
        assert!(
            took.is_some_and(|took| took < Duration::from_secs(1)),
            "message {sent} left after {took:?}, not at once"
        );
    }
    stop_worker(stop, worker).await;
    assert!(setup.store.queue().unwrap().is_empty());
}

static FIRST_ATTEMPT_DEFERRED: AtomicBool = AtomicBool::new(true);

#[tokio::test]
async fn a_deferred_message_is_retried_when_due_without_a_wake() {
    // RFC 5321 §4.5.4.1: the retry happens after the retry interval; the worker sleeps
    // until the earliest one is due rather than polling (the sweep here is 60 s).
    let (addr, seen) = start(|_| {
        FIRST_ATTEMPT_DEFERRED
            .swap(false, Ordering::SeqCst)
            .then_some("451 4.3.0 try again later")
    })
    .await;
    let setup = setup();
    let id = enqueue(&setup, &["x@b.vn"], BODY);
    let queue = QueueConfig {
        scan_interval_secs: 60,
        retry_initial_secs: 1,
        ..test_queue(25)
    };
    let relay = relay_with(&setup, Some(addr), StaticResolver::default(), queue);
    let (stop, worker) = run(relay);
    let took = messages_arrive(&seen, 1, Duration::from_secs(5)).await;
    assert!(
        took.is_some_and(|took| took < Duration::from_secs(3)),
        "retried after {took:?}"
    );
    stop_worker(stop, worker).await;
    assert!(
        !FIRST_ATTEMPT_DEFERRED.load(Ordering::SeqCst),
        "the first attempt was deferred"
    );
    assert_eq!(
        setup.store.queue_entry(id).unwrap(),
        None,
        "delivered at the retry"
    );
}

/// A next hop that accepts connections and never greets: it holds a batch for the
/// reply timeout (RFC 5321 §4.5.3.2). Returns its address and how many connections
/// it accepted.
async fn silent_hop() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (addr, accepted)
}

/// A worker running with routes for `slow.vn` (to `silent`) and `b.vn` (to `addr`).
fn run_with_slow_hop(
    setup: &Setup,
    silent: SocketAddr,
    addr: SocketAddr,
    connections_per_host: usize,
) -> (
    QueueWaker,
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let route = |domain: &str, hop: SocketAddr| Route {
        domains: vec![domain.into()],
        next_hop: hop.to_string(),
        tls: TlsMode::None,
        ca_file: None,
        auth_user: None,
        auth_password_file: None,
    };
    let settings = RelaySettings {
        hostname: "mx.a.vn".into(),
        queue: QueueConfig {
            scan_interval_secs: 60,
            reply_timeout_secs: 5,
            shutdown_grace_secs: 0,
            connections_per_host,
            ..test_queue(25)
        },
        routes: vec![route("slow.vn", silent), route("b.vn", addr)],
        dkim: Default::default(),
    };
    let waker = QueueWaker::new();
    let relay = Relay::new(settings, setup.store.clone(), Arc::new(StaticResolver::default()))
        .unwrap()
        .with_waker(waker.clone());
    let (stop, worker) = run(relay);
    (waker, stop, worker)
}

#[tokio::test]
async fn a_message_queued_while_a_slow_destination_holds_a_batch_leaves_at_once() {
    let (silent, accepted) = silent_hop().await;
    let (addr, seen) = start(|_| None).await;
    let setup = setup();
    let (waker, stop, worker) = run_with_slow_hop(&setup, silent, addr, 2);
    let stuck = enqueue(&setup, &["x@slow.vn"], BODY);
    waker.wake();
    tokio::time::sleep(Duration::from_millis(300)).await;
    enqueue(&setup, &["x@b.vn"], BODY);
    waker.wake();
    let took = messages_arrive(&seen, 1, Duration::from_secs(4)).await;
    assert!(
        took.is_some_and(|took| took < Duration::from_secs(1)),
        "left after {took:?}, behind the silent hop's batch"
    );
    assert_eq!(
        setup.store.queue_entry(stuck).unwrap().unwrap().attempts,
        0,
        "the silent hop's batch is still waiting for its greeting"
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the entry in flight is in no second batch, though due at the second wake"
    );
    stop_worker(stop, worker).await;
}

#[tokio::test]
async fn concurrent_batches_share_the_connections_per_host_limit() {
    let (silent, accepted) = silent_hop().await;
    let (addr, _seen) = start(|_| None).await;
    let setup = setup();
    let (waker, stop, worker) = run_with_slow_hop(&setup, silent, addr, 1);
    for _ in 0..3 {
        enqueue(&setup, &["x@slow.vn"], BODY);
        waker.wake();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "three batches for one hop, one connection at a time"
    );
    stop_worker(stop, worker).await;
}
