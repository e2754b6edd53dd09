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
    /// The name the server's certificate is checked against.
    pub server_name: String,
    pub user: String,
    pub password: String,
}

/// A TLS connector trusting the certificates in `cafile` (the server's own), or,
/// with `trust_any`, any certificate (the reference Dovecot's self-signed one names
/// no subjectAltName, which WebPKI requires; loopback only, benchmarks only). Both
/// servers are measured through the same TLS stack either way.
pub fn connector(cafile: &Path, trust_any: bool) -> Result<TlsConnector, Error> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let config = if trust_any {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(cafile)? {
            roots.add(cert?)?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Accepts the server's certificate whatever it is; still checks the handshake
/// signatures, so the TLS work is the same as with verification.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

pub async fn tls_session(target: &Target) -> Result<Lines<TlsStream<TcpStream>>, Error> {
    let stream = target
        .connector
        .connect(
            rustls_pki_types::ServerName::try_from(target.server_name.clone())?,
            TcpStream::connect(loopback(target.imaps)?).await?,
        )
        .await?;
    let mut session = Lines::new(stream);
    session.read().await?;
    Ok(session)
}

pub(crate) type Session = Lines<TlsStream<TcpStream>>;

/// Sends `tag command` and reads through the tagged reply; returns the untagged
/// lines and the tagged one, failing unless it is OK.
pub(crate) async fn command(
    session: &mut Session,
    tag: &str,
    command: &[u8],
) -> Result<(Vec<String>, String), Error> {
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
    let mut session = tls_session(target).await?;
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
    logins: u64,
}

async fn load_client(
    target: Arc<Target>,
    client: usize,
    until: Instant,
    relogin_every: usize,
) -> Result<Done, Error> {
    let mut session = login(&target).await?;
    let mut done = Done::default();
    let mut mine: Vec<u32> = Vec::new();
    let mut round = 0usize;
    while Instant::now() < until {
        round += 1;
        // The reconnect-heavy variant: a new connection and LOGIN every few rounds,
        // as mail clients that poll do (TLS, LOGIN, SELECT count as commands).
        if relogin_every > 0 && round > 1 && (round - 1).is_multiple_of(relogin_every) {
            command(&mut session, "o", b"LOGOUT").await?;
            session = login(&target).await?;
            done.commands += 3;
            done.logins += 1;
        }
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

pub async fn load(target: Target, clients: usize, seconds: u64, relogin_every: usize) -> Result<(), Error> {
    let target = Arc::new(target);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut workers = tokio::task::JoinSet::new();
    for client in 0..clients {
        workers.spawn(load_client(target.clone(), client, until, relogin_every));
    }
    let (mut commands, mut appends, mut logins, mut errors) = (0, 0, 0, 0);
    while let Some(done) = workers.join_next().await {
        match done? {
            Ok(done) => {
                commands += done.commands;
                appends += done.appends;
                logins += done.logins;
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
        "commands={commands} ({:.0}/s) appends={appends} ({:.0}/s) relogins={logins}",
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
                let mut session = tls_session(&target).await?;
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

/// Fills the mailbox `Bench` of `target`'s account with `messages` messages of about
/// 2 KiB (created if missing, appended from 8 connections when it holds fewer); one
/// in 1,000 has the word `kimcuong` in its Subject.
pub async fn fill_mailbox(target: &Arc<Target>, messages: usize) -> Result<(), Error> {
    let mut session = tls_session(target).await?;
    let login = format!("LOGIN \"{}\" \"{}\"", target.user, target.password);
    command(&mut session, "l", login.as_bytes()).await?;
    let _ = command(&mut session, "c", b"CREATE Bench").await;
    let (untagged, _) = command(&mut session, "s", b"STATUS Bench (MESSAGES)").await?;
    let held: usize = untagged
        .iter()
        .find_map(|line| line.rsplit("MESSAGES ").next())
        .and_then(|rest| rest.trim_end_matches(')').parse().ok())
        .unwrap_or(0);
    command(&mut session, "o", b"LOGOUT").await?;
    if held < messages {
        let started = Instant::now();
        let mut fillers = tokio::task::JoinSet::new();
        for filler in 0..8usize {
            let target = target.clone();
            fillers.spawn(async move {
                let mut session = tls_session(&target).await?;
                let login = format!("LOGIN \"{}\" \"{}\"", target.user, target.password);
                command(&mut session, "l", login.as_bytes()).await?;
                for n in (held + filler..messages).step_by(8) {
                    let mut body = message(filler, n);
                    if n.is_multiple_of(1000) {
                        let at = body.windows(9).position(|w| w == b"Subject: ").unwrap_or(0) + 9;
                        body.splice(at..at, b"kimcuong ".iter().copied());
                    }
                    let mut append = format!("APPEND Bench {{{}+}}\r\n", body.len()).into_bytes();
                    append.extend_from_slice(&body);
                    command(&mut session, "a", &append).await?;
                }
                command(&mut session, "o", b"LOGOUT").await?;
                Ok::<_, Error>(())
            });
        }
        while let Some(done) = fillers.join_next().await {
            done??;
        }
        println!(
            "filled Bench with {} messages in {:.1} s",
            messages - held,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `imap-mailbox`: fills the mailbox `Bench` ([`fill_mailbox`]), then times, `runs`
/// times each on a fresh session, SELECT, `FETCH 1:* (FLAGS)`, `SEARCH SUBJECT`
/// (a word in one message in 1,000) and `STORE 1:* +FLAGS.SILENT (\\Seen)` (then
/// `-FLAGS.SILENT` untimed, so every run changes every message); prints the median.
pub async fn mailbox_timings(target: Target, messages: usize, runs: usize) -> Result<(), Error> {
    let target = Arc::new(target);
    fill_mailbox(&target, messages).await?;
    let steps: [(&str, &[u8]); 4] = [
        ("SELECT", b"SELECT Bench"),
        ("FETCH 1:* (FLAGS)", b"FETCH 1:* (FLAGS)"),
        ("SEARCH SUBJECT", b"SEARCH SUBJECT kimcuong"),
        (
            "STORE 1:* +FLAGS.SILENT (\\Seen)",
            b"STORE 1:* +FLAGS.SILENT (\\Seen)",
        ),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); steps.len()];
    for _ in 0..runs {
        let mut session = tls_session(&target).await?;
        let login = format!("LOGIN \"{}\" \"{}\"", target.user, target.password);
        command(&mut session, "l", login.as_bytes()).await?;
        for (i, (_, line)) in steps.iter().enumerate() {
            let started = Instant::now();
            let (untagged, _) = command(&mut session, "t", line).await?;
            times[i].push(started.elapsed().as_secs_f64() * 1000.0);
            if i == 2 {
                let found = untagged
                    .iter()
                    .find(|l| l.starts_with("* SEARCH"))
                    .map_or(0, |l| l.split(' ').count() - 2);
                if found != messages.div_ceil(1000) {
                    return Err(format!(
                        "SEARCH found {found} messages, expected {}",
                        messages.div_ceil(1000)
                    )
                    .into());
                }
            }
        }
        command(&mut session, "u", b"STORE 1:* -FLAGS.SILENT (\\Seen)").await?;
        command(&mut session, "o", b"LOGOUT").await?;
    }
    for ((name, _), mut samples) in steps.iter().zip(times) {
        samples.sort_by(f64::total_cmp);
        println!(
            "{name}: median {:.1} ms (min {:.1}, max {:.1}) over {runs} runs, {messages} messages",
            samples[samples.len() / 2],
            samples[0],
            samples[samples.len() - 1]
        );
    }
    Ok(())
}
