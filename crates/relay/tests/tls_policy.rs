//! MTA-STS (RFC 8461) and DANE (RFC 7672) end to end, in process: a fake MX on
//! 127.0.0.1 that offers STARTTLS with a certificate from a test CA, a real HTTPS
//! server serving the MTA-STS policy, and a static resolver (never real DNS) that
//! names both `mx.congty.vn` and `mta-sts.congty.vn` 127.0.0.1.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use congvu_relay::dane::{Tlsa, TlsaAnswer};
use congvu_relay::mta_sts::HttpsFetcher;
use congvu_relay::resolve::Mx;
use congvu_relay::{QueueConfig, Relay, RelaySettings, StaticResolver};
use congvu_store::{AccountKind, DsnRequest, MailStore, Outbound, SledStore};
use rcgen::PublicKeyData;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A test CA and a certificate it issued for `mx.congty.vn` and `mta-sts.congty.vn`.
struct Pki {
    ca_file: PathBuf,
    chain: Vec<CertificateDer<'static>>,
    key: rcgen::KeyPair,
    _dir: tempfile::TempDir,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let names = vec!["mx.congty.vn".to_owned(), "mta-sts.congty.vn".to_owned()];
    let cert = rcgen::CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    Pki {
        ca_file,
        chain: vec![cert.der().clone(), ca.der().clone()],
        key,
        _dir: dir,
    }
}

fn acceptor(pki: &Pki) -> TlsAcceptor {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.serialize_der()));
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), key)
            .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// What the fake MX saw: connections, and messages with whether they came over TLS.
#[derive(Default)]
struct Seen {
    connections: usize,
    messages: Vec<bool>,
}

/// An SMTP server with STARTTLS; after the handshake it accepts one message per
/// transaction.
async fn fake_mx(pki: &Pki) -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let acceptor = acceptor(pki);
    let recorded = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            recorded.lock().unwrap().connections += 1;
            let (acceptor, seen) = (acceptor.clone(), recorded.clone());
            tokio::spawn(async move {
                let mut plain = BufReader::new(socket);
                plain.write_all(b"220 mx.congty.vn ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if plain.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") {
                        plain
                            .write_all(b"250-mx.congty.vn\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
                            .await
                            .unwrap();
                    } else if upper.starts_with("STARTTLS") {
                        plain.write_all(b"220 go ahead\r\n").await.unwrap();
                        let Ok(tls) = acceptor.accept(plain.into_inner()).await else {
                            return;
                        };
                        let _ = session(BufReader::new(tls), &seen).await;
                        return;
                    } else if upper.starts_with("QUIT") {
                        let _ = plain.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        // Without TLS this server takes nothing.
                        plain.write_all(b"530 5.7.0 STARTTLS first\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (addr, seen)
}

async fn session<S>(mut stream: BufReader<S>, seen: &Mutex<Seen>) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-mx.congty.vn\r\n250 PIPELINING\r\n"
        } else if upper.starts_with("DATA") {
            stream.write_all(b"354 go\r\n").await?;
            loop {
                let mut raw = Vec::new();
                stream.read_until(b'\n', &mut raw).await?;
                if raw == b".\r\n" || raw.is_empty() {
                    break;
                }
            }
            seen.lock().unwrap().messages.push(true);
            b"250 2.0.0 queued\r\n"
        } else if upper.starts_with("QUIT") {
            stream.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 ok\r\n"
        };
        stream.write_all(reply).await?;
    }
}

/// An HTTPS server answering every request with `policy` as text/plain; counts
/// the requests.
async fn policy_server(pki: &Pki, policy: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = acceptor(pki);
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                assert!(request.starts_with(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\n"));
                counter.fetch_add(1, Ordering::SeqCst);
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{policy}",
                    policy.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, requests)
}

fn congty_resolver() -> StaticResolver {
    let mut resolver = StaticResolver::default();
    resolver.mx.insert(
        "congty.vn".into(),
        vec![Mx {
            preference: 10,
            exchange: "mx.congty.vn".into(),
        }],
    );
    for host in ["mx.congty.vn", "mta-sts.congty.vn"] {
        resolver
            .hosts
            .insert(host.into(), vec!["127.0.0.1".parse().unwrap()]);
    }
    resolver
}

struct Outcome {
    delivered_over_tls: usize,
    connections: usize,
    /// The queue entry's last error, if it is still queued.
    deferred: Option<String>,
}

/// Queues one message to `vanthu@congty.vn` and runs one scan.
async fn attempt(
    pki: &Pki,
    seen: &Mutex<Seen>,
    mx_port: u16,
    resolver: StaticResolver,
    queue: QueueConfig,
    policy_port: Option<u16>,
) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(dir.path()).unwrap());
    let sender = store.create_account(AccountKind::Personal, 1 << 30).unwrap();
    store
        .enqueue(&Outbound {
            bytes: &[b"From: <tuanna@a.vn>\r\nTo: <vanthu@congty.vn>\r\nSubject: x\r\n\r\nhi\r\n"],
            sender: "tuanna@a.vn",
            recipients: &["vanthu@congty.vn".to_string()],
            submitted_by: Some(sender),
            dsn: &DsnRequest::default(),
        })
        .unwrap();
    let queue = QueueConfig {
        mx_port,
        connect_timeout_secs: 5,
        reply_timeout_secs: 5,
        mta_sts_ca_file: pki.ca_file.clone(),
        ..queue
    };
    let resolver = Arc::new(resolver);
    let settings = RelaySettings {
        hostname: "mail.a.vn".into(),
        queue,
        routes: Vec::new(),
        dkim: Default::default(),
    };
    let mut relay = Relay::new(settings, store.clone(), resolver.clone()).unwrap();
    if let Some(port) = policy_port {
        let roots = congvu_relay::client::tls::load_roots(&pki.ca_file).unwrap();
        let tls = congvu_relay::client::tls::verifying_roots(roots);
        let fetcher = HttpsFetcher::new(resolver, tls, port, Duration::from_secs(5));
        relay = relay.with_policy_fetcher(Arc::new(fetcher));
    }
    relay.scan().await;
    let queued = store.queue().unwrap();
    let seen = seen.lock().unwrap();
    Outcome {
        delivered_over_tls: seen.messages.len(),
        connections: seen.connections,
        deferred: queued.first().map(|e| e.last_error.clone().unwrap_or_default()),
    }
}

fn mta_sts_queue() -> QueueConfig {
    QueueConfig {
        mta_sts: true,
        dane: false,
        ..QueueConfig::default()
    }
}

/// One delivery attempt under MTA-STS: `policy` served over HTTPS with a certificate
/// from `trusted` (the CA the sender trusts), the MX presenting one from `presented`.
/// Returns the outcome and how many times the policy was fetched.
async fn mta_sts_attempt(trusted: &Pki, presented: &Pki, policy: &'static str) -> (Outcome, usize) {
    let (mx, seen) = fake_mx(presented).await;
    let (policy, fetched) = policy_server(trusted, policy).await;
    let mut resolver = congty_resolver();
    resolver
        .txt
        .insert("_mta-sts.congty.vn".into(), vec!["v=STSv1; id=20261129".into()]);
    let outcome = attempt(
        trusted,
        &seen,
        mx.port(),
        resolver,
        mta_sts_queue(),
        Some(policy.port()),
    )
    .await;
    (outcome, fetched.load(Ordering::SeqCst))
}

#[tokio::test]
async fn mta_sts_enforce_delivers_to_a_listed_mx_over_verified_tls() {
    let pki = pki();
    let (outcome, fetched) = mta_sts_attempt(
        &pki,
        &pki,
        "version: STSv1\r\nmode: enforce\r\nmx: mx.congty.vn\r\nmax_age: 86400\r\n",
    )
    .await;
    assert_eq!(outcome.deferred, None);
    assert_eq!(outcome.delivered_over_tls, 1);
    assert_eq!(fetched, 1, "the policy was fetched over HTTPS");
}

#[tokio::test]
async fn mta_sts_enforce_defers_when_no_mx_matches() {
    let pki = pki();
    let (outcome, fetched) = mta_sts_attempt(
        &pki,
        &pki,
        "version: STSv1\nmode: enforce\nmx: *.mail.congty.vn\nmax_age: 86400\n",
    )
    .await;
    let error = outcome.deferred.expect("still queued");
    assert!(error.contains("4.7.5") && error.contains("MTA-STS"), "{error}");
    assert_eq!(outcome.connections, 0, "the unlisted MX is never contacted");
    assert_eq!(fetched, 1);
}

#[tokio::test]
async fn mta_sts_enforce_defers_when_the_certificate_is_not_trusted() {
    let pki = pki();
    // The MX presents a certificate from a CA the sender does not trust.
    let other = self::pki();
    let (outcome, fetched) = mta_sts_attempt(
        &pki,
        &other,
        "version: STSv1\nmode: enforce\nmx: mx.congty.vn\nmax_age: 86400\n",
    )
    .await;
    let error = outcome.deferred.expect("still queued");
    assert!(error.starts_with("451") && error.contains("TLS"), "{error}");
    assert_eq!(outcome.delivered_over_tls, 0);
    assert_eq!(fetched, 1);
}

fn dane_queue() -> QueueConfig {
    QueueConfig {
        mta_sts: false,
        dane: true,
        ..QueueConfig::default()
    }
}

/// One delivery attempt under DANE: the MX presents `pki`'s certificate, its TLSA
/// record is `3 1 1 digest`, authenticated by DNSSEC or not.
async fn dane_attempt(pki: &Pki, digest: Vec<u8>, authenticated: bool) -> Outcome {
    let (mx, seen) = fake_mx(pki).await;
    let mut resolver = congty_resolver();
    resolver.tlsa.insert(
        format!("_{}._tcp.mx.congty.vn", mx.port()),
        TlsaAnswer {
            authenticated,
            records: vec![Tlsa {
                usage: 3,
                selector: 1,
                matching: 1,
                data: digest,
            }],
        },
    );
    attempt(pki, &seen, mx.port(), resolver, dane_queue(), None).await
}

#[tokio::test]
async fn dane_ee_matching_key_is_delivered_and_a_mismatch_deferred() {
    let pki = pki();
    let spki_sha256 = Sha256::digest(pki.key.subject_public_key_info()).to_vec();

    let outcome = dane_attempt(&pki, spki_sha256, true).await;
    assert_eq!(outcome.deferred, None);
    assert_eq!(outcome.delivered_over_tls, 1);

    let outcome = dane_attempt(&pki, vec![0xab; 32], true).await;
    let error = outcome.deferred.expect("still queued");
    assert!(error.starts_with("451") && error.contains("TLS"), "{error}");
    assert_eq!(outcome.delivered_over_tls, 0);
}

#[tokio::test]
async fn dane_is_not_applied_to_unauthenticated_tlsa() {
    let pki = pki();
    // A mismatching record that DNSSEC did not authenticate: ignored (RFC 7672 §2.1).
    let outcome = dane_attempt(&pki, vec![0xab; 32], false).await;
    assert_eq!(outcome.deferred, None);
    assert_eq!(outcome.delivered_over_tls, 1);
}
