//! Tests against a real clamd (`test_clamd`), over TCP and a unix socket, and against
//! fake servers that never answer or are gone.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use crate::test_clamd::{
    EICAR_SIGNATURE, Listen, TestClamd, crc32, eicar, message_with_attachment, stored_zip,
};
use crate::{AntivirusConfig, ClamdAddress, Decision, Error, MetricsSnapshot, OnError, ScanVerdict, Scanner};

const FROM: &str = "a@thanhhoa.gov.vn";
const TO: &str = "b@thanhhoa.gov.vn";
const PREFIX: &[u8] = b"Return-Path: <a@thanhhoa.gov.vn>\r\nReceived: from client\r\n";

fn scanner(config: &AntivirusConfig) -> Scanner {
    Scanner::from_config(config).expect("a clamd address is configured")
}

fn assert_infected(verdict: ScanVerdict) {
    match verdict {
        ScanVerdict::Infected { signature } => assert_eq!(signature.as_str(), EICAR_SIGNATURE),
        other => panic!("expected EICAR, got {other:?}"),
    }
}

#[test]
fn crc32_of_the_check_string() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}

#[tokio::test]
async fn eicar_refused_with_its_name_and_clean_mail_accepted() {
    for listen in [Listen::Tcp, Listen::Unix] {
        let Some(clamd) = TestClamd::start(listen) else {
            return;
        };
        let scanner = scanner(&clamd.config());
        scanner.ping().await.unwrap();
        let eicar = eicar();
        let decision = scanner.check(&[&[&eicar]]).await;
        let reply = decision.reply().expect("refused");
        assert_eq!((reply.code, reply.enhanced), (554, (5, 7, 1)), "{listen:?}");
        assert!(reply.text.vi.contains(EICAR_SIGNATURE), "{}", reply.text);
        assert!(reply.text.en.contains(EICAR_SIGNATURE), "{}", reply.text);
        let clean = message_with_attachment(FROM, TO, "bao-cao.txt", "Báo cáo tháng".as_bytes());
        assert!(matches!(
            scanner.check(&[&[PREFIX, &clean]]).await,
            Decision::Accept
        ));
        assert_eq!(
            scanner.metrics().snapshot(),
            MetricsSnapshot {
                scanned: 2,
                clean: 1,
                infected: 1,
                ..MetricsSnapshot::default()
            }
        );
    }
}

#[tokio::test]
async fn eicar_found_in_zip_in_base64_mime_and_across_slices() {
    let Some(clamd) = TestClamd::start(Listen::Tcp) else {
        return;
    };
    let scanner = scanner(&clamd.config());
    let eicar = eicar();
    let zip = stored_zip("tai-lieu.com", &eicar);
    // clamd opens the archive itself (ScanArchive).
    assert_infected(scanner.scan(&[&[&zip]]).await);
    // clamd decodes the MIME message and its base64 itself (ScanMail).
    let mime = message_with_attachment(FROM, TO, "eicar.com", &eicar);
    assert_infected(scanner.scan(&[&[PREFIX, &mime]]).await);
    let zipped_in_mime = message_with_attachment(FROM, TO, "tai-lieu.zip", &zip);
    assert_infected(scanner.scan(&[&[PREFIX, &zipped_in_mime]]).await);
    // One stream made of several slices is scanned as their concatenation.
    let (head, tail) = eicar.split_at(30);
    assert_infected(scanner.scan(&[&[head, b"", tail]]).await);
    // The file is found as a later stream too (a decoded TNEF or uuencoded file).
    let clean = message_with_attachment(FROM, TO, "bao-cao.txt", b"ok");
    assert_infected(scanner.scan(&[&[PREFIX, &clean], &[&eicar]]).await);
    // The same bytes, not whole, are nothing.
    assert!(matches!(
        scanner.scan(&[&[head], &[tail]]).await,
        ScanVerdict::Clean
    ));
}

#[tokio::test]
async fn clamd_stopped_defers_or_accepts_by_on_error() {
    let Some(mut clamd) = TestClamd::start(Listen::Tcp) else {
        return;
    };
    let tempfail = scanner(&clamd.config());
    let accept = scanner(&AntivirusConfig {
        on_error: OnError::Accept,
        ..clamd.config()
    });
    let message = message_with_attachment(FROM, TO, "bao-cao.txt", b"ok");
    let streams: &[&[&[u8]]] = &[&[PREFIX, &message]];
    assert!(matches!(tempfail.check(streams).await, Decision::Accept));
    clamd.stop();
    let decision = tempfail.check(streams).await;
    assert!(
        matches!(decision, Decision::Defer(Error::Connect { .. })),
        "{decision:?}"
    );
    let reply = decision.reply().expect("deferred");
    assert_eq!((reply.code, reply.enhanced), (451, (4, 7, 1)));
    assert_eq!(
        tempfail.metrics().snapshot(),
        MetricsSnapshot {
            scanned: 2,
            clean: 1,
            errors: 1,
            ..MetricsSnapshot::default()
        }
    );
    let decision = accept.check(streams).await;
    assert!(matches!(
        decision,
        Decision::AcceptUnscanned(Error::Connect { .. })
    ));
    assert_eq!(decision.reply(), None);
    assert_eq!(
        accept.metrics().snapshot(),
        MetricsSnapshot {
            scanned: 1,
            errors: 1,
            skipped_on_error: 1,
            ..MetricsSnapshot::default()
        }
    );
    assert!(matches!(tempfail.ping().await, Err(Error::Connect { .. })));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // Reads everything, answers nothing, keeps the connection open.
    let silent = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut sink = Vec::new();
        let _ = socket.read_to_end(&mut sink).await;
        std::future::pending::<()>().await
    });
    let scanner = scanner(&AntivirusConfig {
        clamd: Some(ClamdAddress::Tcp(address)),
        timeout_secs: 1,
        ..AntivirusConfig::default()
    });
    let started = Instant::now();
    let decision = scanner.check(&[&[b"Subject: x\r\n\r\nbody\r\n"]]).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(decision, Decision::Defer(Error::Timeout(_))),
        "{decision:?}"
    );
    assert!(
        (Duration::from_secs(1)..Duration::from_secs(2)).contains(&elapsed),
        "{elapsed:?}"
    );
    silent.abort();
}

#[tokio::test]
async fn streams_over_the_limits_are_not_scanned() {
    let big = vec![b'a'; 3 * 1024 * 1024];
    // Over clamd's StreamMaxLength: clamd's own answer, not a broken pipe.
    for listen in [Listen::Tcp, Listen::Unix] {
        let Some(clamd) = TestClamd::start_with(listen, 1024 * 1024) else {
            return;
        };
        let verdict = scanner(&clamd.config()).scan(&[&[&big]]).await;
        assert!(
            matches!(verdict, ScanVerdict::Failed(Error::SizeLimitExceeded)),
            "{listen:?}: {verdict:?}"
        );
    }
    let Some(clamd) = TestClamd::start(Listen::Unix) else {
        return;
    };
    // Over max_stream_bytes: not even sent; a later infected stream still counts.
    let small_limit = scanner(&AntivirusConfig {
        max_stream_bytes: 1000,
        ..clamd.config()
    });
    let verdict = small_limit.scan(&[&[&big[..600], &big[..600]]]).await;
    assert!(matches!(
        verdict,
        ScanVerdict::Failed(Error::TooLarge {
            bytes: 1200,
            limit: 1000
        })
    ));
    let eicar = eicar();
    assert_infected(small_limit.scan(&[&[&big[..2000]], &[&eicar]]).await);
}
