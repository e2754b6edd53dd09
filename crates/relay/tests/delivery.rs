//! The queue worker against a scripted SMTP server on 127.0.0.1: per-recipient
//! 2xx/4xx/5xx handling, bounces, retries, connection reuse, MX lookup through a
//! static resolver (never real DNS).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use congvu_relay::resolve::Mx;
use congvu_relay::{QueueConfig, Relay, RelaySettings, Route, StaticResolver, TlsMode, retry_now};
use congvu_store::{AccountId, AccountKind, MailStore, Outbound, QueueId, SledStore};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the fake server saw.
#[derive(Default)]
struct Seen {
    connections: usize,
    /// (sender, recipients accepted, data as received, dot-unstuffed).
    messages: Vec<(String, Vec<String>, Vec<u8>)>,
}

/// A reply to RCPT TO for an address (`250 ok` when `None`).
type Script = fn(&str) -> Option<&'static str>;

async fn fake_server(listener: TcpListener, script: Script, seen: Arc<Mutex<Seen>>) {
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
                let reply: String = if upper.starts_with("EHLO") {
                    "250-fake\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 1000000\r\n"
                        .into()
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
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    tokio::spawn(fake_server(listener, script, seen.clone()));
    (addr, seen)
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<SledStore>,
    sender: AccountId,
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
    let recipients: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
    setup
        .store
        .enqueue(&Outbound {
            bytes: body,
            sender: "tuanna.sttt@a.vn",
            recipients: &recipients,
            submitted_by: Some(setup.sender),
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

    // Not due yet: a scan does nothing; after `queue retry` it is attempted again.
    assert_eq!(relay.scan().await, 0);
    retry_now(setup.store.as_ref(), id).unwrap();
    assert_eq!(relay.scan().await, 1);
    assert_eq!(setup.store.queue_entry(id).unwrap().unwrap().attempts, 2);
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
    tokio::spawn(fake_server(listener, |_| None, seen.clone()));
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
            bytes: BODY,
            sender: "",
            recipients: &["nobody@b.vn".to_string()],
            submitted_by: None,
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
