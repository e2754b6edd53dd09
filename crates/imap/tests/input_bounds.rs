//! Input bounded by state (issue 11): before login no literal over 8 KiB gets a
//! `+`, a non-synchronising one ends the connection, and the server holds none of
//! it. One test in its own binary, so the resident size it reads from
//! `/proc/self/status` is the server's and this scenario's alone.

mod support;

use std::time::Duration;

use support::{PASSWORD, Server, sample_message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connections in each wave of the attack.
const ATTACKERS: usize = 16;
/// What each non-synchronising attacker pushes after its announcement.
const PUSHED: usize = 4 * 1024 * 1024;
/// Growth of the resident size the whole attack may cause (the attack would buffer
/// `ATTACKERS * PUSHED` = 64 MiB without the bound).
const RSS_BOUND_KB: u64 = 16 * 1024;

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Reads one line from a raw socket, byte by byte (the tests' sockets only).
async fn raw_line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
        .await
        .expect("a reply within 10 s")
        .unwrap_or(0)
        == 1
    {
        line.push(byte[0]);
        if byte[0] == b'\n' {
            break;
        }
    }
    String::from_utf8_lossy(&line).trim_end().to_string()
}

/// Connects to the STARTTLS port and reads the greeting.
async fn greeted(server: &Server) -> TcpStream {
    let mut stream = TcpStream::connect(server.imap).await.unwrap();
    let greeting = raw_line(&mut stream).await;
    assert!(greeting.starts_with("* OK"), "{greeting}");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_login_a_64_mib_append_gets_no_continuation_and_costs_no_memory() {
    let server = Server::start().await;
    // Warm up: one full session, so allocations every session makes are counted
    // before the baseline.
    let mut warm = server.login(0).await;
    warm.command("w", "SELECT INBOX").await;
    drop(warm);
    // The attackers' payload, shared and allocated before the baseline: the client
    // side must not count as the server's growth.
    let payload: std::sync::Arc<[u8]> = vec![b'x'; PUSHED].into();
    let before = rss_kb();

    // Synchronising: refused with NO [TOOBIG], never `+`; the connection stays.
    let mut waiting = Vec::new();
    for i in 0..ATTACKERS {
        let mut stream = greeted(&server).await;
        stream
            .write_all(format!("s{i} APPEND INBOX {{67108864}}\r\n").as_bytes())
            .await
            .unwrap();
        let reply = raw_line(&mut stream).await;
        assert!(reply.starts_with(&format!("s{i} NO [TOOBIG]")), "{reply}");
        waiting.push(stream);
    }
    // The connections are still usable for what is allowed before login.
    for (i, stream) in waiting.iter_mut().enumerate() {
        stream
            .write_all(format!("n{i} NOOP\r\n").as_bytes())
            .await
            .unwrap();
        let reply = raw_line(stream).await;
        assert!(reply.starts_with(&format!("n{i} OK")), "{reply}");
    }

    // Non-synchronising (LITERAL+): the data comes anyway, so BAD [TOOBIG], BYE and
    // the connection is closed without reading it.
    let mut pushers = Vec::new();
    for i in 0..ATTACKERS {
        let mut stream = greeted(&server).await;
        let payload = payload.clone();
        pushers.push(tokio::spawn(async move {
            let announcement = format!("p{i} APPEND INBOX {{67108864+}}\r\n");
            // The server hangs up midway: a failed write is the expected outcome.
            let pushed = async {
                stream.write_all(announcement.as_bytes()).await?;
                stream.write_all(&payload).await
            };
            let _ = tokio::time::timeout(Duration::from_secs(10), pushed).await;
            let mut reply = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
            String::from_utf8_lossy(&reply).into_owned()
        }));
    }
    for (i, pusher) in pushers.into_iter().enumerate() {
        let reply = pusher.await.unwrap();
        // The reset that follows the close may come before the reply is read.
        assert!(
            reply.is_empty() || (reply.starts_with(&format!("p{i} BAD [TOOBIG]")) && reply.contains("* BYE")),
            "{reply}"
        );
    }

    let grown = rss_kb().saturating_sub(before);
    eprintln!("resident size growth during the attack: {grown} kB");
    assert!(
        grown < RSS_BOUND_KB,
        "resident size grew by {grown} kB during the attack (bound {RSS_BOUND_KB} kB)"
    );
    drop(waiting);

    // Legitimate use still works: LOGIN with a synchronising literal (within the
    // bound) on the TLS port, then an APPEND larger than 8 KiB.
    let mut client = server.tls().await;
    let user = &server.users[0];
    client
        .send(format!("l LOGIN {user} {{{}}}\r\n", PASSWORD.len()).as_bytes())
        .await;
    assert!(client.line().await.starts_with('+'));
    client.send(format!("{PASSWORD}\r\n").as_bytes()).await;
    let lines = client.until_tagged("l").await;
    assert!(lines.last().unwrap().starts_with("l OK"), "{lines:?}");
    let mut message = sample_message("Công văn lớn");
    message.resize(message.len() + 256 * 1024, b'a');
    message.extend_from_slice(b"\r\n");
    client
        .send(format!("a APPEND INBOX {{{}}}\r\n", message.len()).as_bytes())
        .await;
    assert!(client.line().await.starts_with('+'));
    message.extend_from_slice(b"\r\n");
    client.send(&message).await;
    let lines = client.until_tagged("a").await;
    assert!(lines.last().unwrap().starts_with("a OK"), "{lines:?}");
    server.shutdown().await;
}
