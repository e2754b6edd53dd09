//! IMAP benchmarks against a running congvu over implicit TLS.
//!
//! - `imap-idle`: opens `--sessions` authenticated sessions that SELECT INBOX and
//!   IDLE, and reports the server's resident memory per session (VmRSS of
//!   `--pid` before and after, from /proc). Give the server
//!   `max_connections_per_ip = 0` and `max_connections_per_user = 0`.
//! - `imap-load`: imaptest-style: `--clients` sessions on one INBOX for
//!   `--seconds`, each looping APPEND, UID FETCH, UID STORE and, every fifth round,
//!   UID EXPUNGE of what it appended. Every tagged reply must be OK and every
//!   APPEND must return APPENDUID; anything else is a protocol error.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::{Error, Lines, loopback};

/// Where and as whom the benchmarks log in.
pub struct Target {
    pub imaps: SocketAddr,
    pub connector: TlsConnector,
    pub user: String,
    pub password: String,
}

/// A TLS connector trusting the certificates in `cafile` (the server's own).
pub fn connector(cafile: &Path) -> Result<TlsConnector, Error> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cafile)? {
        roots.add(cert?)?;
    }
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

pub async fn tls_session(
    imaps: SocketAddr,
    connector: &TlsConnector,
) -> Result<Lines<TlsStream<TcpStream>>, Error> {
    let stream = connector
        .connect(
            rustls_pki_types::ServerName::try_from("localhost")?,
            TcpStream::connect(loopback(imaps)?).await?,
        )
        .await?;
    let mut session = Lines::new(stream);
    session.read().await?;
    Ok(session)
}

type Session = Lines<TlsStream<TcpStream>>;

/// Sends `tag command` and reads through the tagged reply; returns the untagged
/// lines and the tagged one, failing unless it is OK.
async fn command(session: &mut Session, tag: &str, command: &[u8]) -> Result<(Vec<String>, String), Error> {
    let mut bytes = format!("{tag} ").into_bytes();
    bytes.extend_from_slice(command);
    bytes.extend_from_slice(b"\r\n");
    session.send(&bytes).await?;
    let prefix = format!("{tag} ");
    let mut untagged = Vec::new();
    loop {
        let line = session.read().await?;
        if let Some(status) = line.strip_prefix(&prefix) {
            let status = status.to_owned();
            if !status.starts_with("OK") {
                return Err(format!("{tag}: {status}").into());
            }
            return Ok((untagged, status));
        }
        // BYE is an error except as LOGOUT's answer (RFC 3501 §6.1.3).
        if line.starts_with("* BYE") && !command.eq_ignore_ascii_case(b"LOGOUT") {
            return Err(format!("{tag}: {line}").into());
        }
        untagged.push(line.to_owned());
    }
}

async fn login(target: &Target) -> Result<Session, Error> {
    let mut session = tls_session(target.imaps, &target.connector).await?;
    let login = format!("LOGIN \"{}\" \"{}\"", target.user, target.password);
    command(&mut session, "l", login.as_bytes()).await?;
    command(&mut session, "s", b"SELECT INBOX").await?;
    Ok(session)
}

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS for pid {pid}").into())
}

/// Opens `count` sessions that SELECT INBOX and IDLE, `concurrency` at a time.
async fn open_idle(target: &Arc<Target>, count: usize, concurrency: usize) -> Result<Vec<Session>, Error> {
    let mut idle: Vec<Session> = Vec::with_capacity(count);
    let mut batch = tokio::task::JoinSet::new();
    let mut opened = 0;
    while idle.len() < count {
        while opened < count && batch.len() < concurrency {
            let target = target.clone();
            batch.spawn(async move {
                let mut session = login(&target).await?;
                session.send(b"i IDLE\r\n").await?;
                let line = session.read().await?;
                if !line.starts_with('+') {
                    return Err(format!("IDLE: {line}").into());
                }
                Ok::<_, Error>(session)
            });
            opened += 1;
        }
        match batch.join_next().await {
            Some(done) => idle.push(done??),
            None => break,
        }
    }
    Ok(idle)
}

pub async fn idle_memory(target: Target, sessions: usize, concurrency: usize, pid: u32) -> Result<(), Error> {
    let target = Arc::new(target);
    // A first round at full concurrency, not counted: the allocator's per-thread
    // arenas keep what Argon2 used during logins, and that is not per session.
    let warm = open_idle(&target, concurrency * 4, concurrency).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(pid)?;
    let started = Instant::now();
    let idle = open_idle(&target, sessions, concurrency).await?;
    let opening = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid)?;
    let per_session = (after.saturating_sub(before)) as f64 / sessions as f64;
    println!("sessions={sessions} opened_in={:.1}s", opening.as_secs_f64());
    println!("server_rss_before={before} KiB after={after} KiB");
    println!("rss_per_idle_tls_session={per_session:.1} KiB");
    drop(idle);
    drop(warm);
    Ok(())
}

/// A test message of about 2 KiB, numbered.
fn message(client: usize, n: usize) -> Vec<u8> {
    let mut body = format!(
        "From: bench@thanhhoa.gov.vn\r\nTo: bench@thanhhoa.gov.vn\r\nSubject: Tai {client}-{n}\r\n\
         Message-ID: <{client}.{n}@bench>\r\n\r\n"
    );
    while body.len() < 2048 {
        body.push_str("Noi dung kiem tra tai.\r\n");
    }
    body.into_bytes()
}

/// Counters of one load client.
#[derive(Default)]
struct Done {
    commands: u64,
    appends: u64,
}

async fn load_client(target: Arc<Target>, client: usize, until: Instant) -> Result<Done, Error> {
    let mut session = login(&target).await?;
    let mut done = Done::default();
    let mut mine: Vec<u32> = Vec::new();
    let mut round = 0usize;
    while Instant::now() < until {
        round += 1;
        let body = message(client, round);
        let mut append = format!("APPEND INBOX {{{}+}}\r\n", body.len()).into_bytes();
        append.extend_from_slice(&body);
        let (_, status) = command(&mut session, "a", &append).await?;
        let uid: u32 = status
            .strip_prefix("OK [APPENDUID ")
            .and_then(|rest| rest.split([' ', ']']).nth(1))
            .and_then(|uid| uid.parse().ok())
            .ok_or_else(|| format!("APPEND without APPENDUID: {status}"))?;
        mine.push(uid);
        let fetch = format!("UID FETCH {uid} (FLAGS RFC822.SIZE BODY.PEEK[HEADER])");
        command(&mut session, "f", fetch.as_bytes()).await?;
        command(
            &mut session,
            "s",
            format!("UID STORE {uid} +FLAGS (\\Seen)").as_bytes(),
        )
        .await?;
        done.commands += 3;
        done.appends += 1;
        if round.is_multiple_of(5) {
            let set: Vec<String> = mine.drain(..).map(|u| u.to_string()).collect();
            let set = set.join(",");
            command(
                &mut session,
                "d",
                format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)").as_bytes(),
            )
            .await?;
            command(&mut session, "e", format!("UID EXPUNGE {set}").as_bytes()).await?;
            done.commands += 2;
        }
    }
    command(&mut session, "o", b"LOGOUT").await?;
    Ok(done)
}

pub async fn load(target: Target, clients: usize, seconds: u64) -> Result<(), Error> {
    let target = Arc::new(target);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut workers = tokio::task::JoinSet::new();
    for client in 0..clients {
        workers.spawn(load_client(target.clone(), client, until));
    }
    let (mut commands, mut appends, mut errors) = (0, 0, 0);
    while let Some(done) = workers.join_next().await {
        match done? {
            Ok(done) => {
                commands += done.commands;
                appends += done.appends;
            }
            Err(error) => {
                errors += 1;
                eprintln!("client failed: {error}");
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("clients={clients} seconds={elapsed:.1} protocol_errors={errors}");
    println!(
        "commands={commands} ({:.0}/s) appends={appends} ({:.0}/s)",
        commands as f64 / elapsed,
        appends as f64 / elapsed
    );
    if errors > 0 {
        return Err(format!("{errors} clients hit a protocol error").into());
    }
    Ok(())
}

/// `login-storm`: `logins` IMAPS logins (TLS, LOGIN, LOGOUT: a reconnect storm)
/// from `clients` concurrent clients; prints logins/s and the server's VmRSS before
/// and after.
pub async fn login_storm(target: Target, logins: usize, clients: usize, pid: u32) -> Result<(), Error> {
    let target = Arc::new(target);
    let before = rss_kib(pid)?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (target, next) = (target.clone(), next.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < logins {
                let mut session = tls_session(target.imaps, &target.connector).await?;
                let login = format!("LOGIN \"{}\" \"{}\"", target.user, target.password);
                command(&mut session, "l", login.as_bytes()).await?;
                command(&mut session, "o", b"LOGOUT").await?;
            }
            Ok::<_, Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = rss_kib(pid)?;
    println!(
        "{logins} logins from {clients} clients in {elapsed:.2} s: {:.0} logins/s; server VmRSS {before} KiB before, {after} KiB after ({:.1} MB)",
        logins as f64 / elapsed,
        after as f64 * 1024.0 / 1e6
    );
    Ok(())
}

/// `rss`: the server's VmRSS now.
pub fn print_rss(pid: u32) -> Result<(), Error> {
    let kib = rss_kib(pid)?;
    println!("server VmRSS {kib} KiB ({:.1} MB)", kib as f64 * 1024.0 / 1e6);
    Ok(())
}

/// `idle-connections`: `count` plain TCP connections to `addr` that read the greeting
/// and then say nothing, held while the server's VmRSS is read; counts the ones the
/// server refused (421 / BYE) or closed.
pub async fn idle_connections(addr: SocketAddr, count: usize, pid: u32) -> Result<(), Error> {
    let before = rss_kib(pid)?;
    let mut held = Vec::with_capacity(count);
    let (mut greeted, mut refused) = (0, 0);
    for _ in 0..count {
        let mut session = Lines::new(TcpStream::connect(loopback(addr)?).await?);
        match session.read().await {
            Ok(line) if line.starts_with("220") || line.starts_with("* OK") => greeted += 1,
            _ => refused += 1,
        }
        held.push(session);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = rss_kib(pid)?;
    println!(
        "{count} idle connections to {addr}: {greeted} greeted, {refused} refused; server VmRSS {before} KiB before, {after} KiB with them ({:.1} MB)",
        after as f64 * 1024.0 / 1e6
    );
    Ok(())
}
