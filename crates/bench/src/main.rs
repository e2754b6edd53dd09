//! congvu-bench — load against a running congvu on loopback.
//!
//! `smtp`: the end-to-end figure, shaped like Postfix's `smtp-source` without
//! `-d`: `--concurrency` sessions, one new connection per message, `--size`-byte
//! messages to one recipient over the MX port; then IMAP `STATUS INBOX (MESSAGES)`
//! (over TLS, trusting `--cafile`) until every message is visible. Because congvu
//! answers `250` only after the message is durable in the recipient's INBOX, the
//! end-to-end time is the accept time plus one STATUS round trip.
//!
//! `imap-idle`, `imap-load`, `login-storm`, `idle-connections` and `rss` (the
//! server's memory probes): see [`imap`]. `checks`: see [`checks`]. `backup`
//! (on a store of its own, no server): see [`backup`]. `import` (from a private
//! Dovecot): see [`import`]. `report` (the yearly report of a generated province,
//! on a store of its own, computed by the `congvu` binary): see [`report`].
//! `webmail` (the webmail against IMAP on one 20,000-message folder): see [`webmail`].
//!
//! Loopback only: the addresses are parsed and refused unless they are in 127.0.0.0/8.

mod backup;
mod checks;
mod imap;
mod import;
mod report;
mod webmail;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// SMTP in, visible over IMAP.
    Smtp {
        #[arg(long, default_value = "127.0.0.1:2525")]
        smtp: SocketAddr,
        #[arg(long, default_value = "127.0.0.1:2993")]
        imaps: SocketAddr,
        /// The server's certificate (data_dir/tls/self-signed-cert.pem).
        #[arg(long, default_value = "data/tls/self-signed-cert.pem")]
        cafile: PathBuf,
        /// Recipient address (also the IMAP login).
        #[arg(long)]
        rcpt: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value_t = 5000)]
        messages: usize,
        #[arg(long, default_value_t = 20)]
        concurrency: usize,
        #[arg(long, default_value_t = 10240)]
        size: usize,
    },
    /// Server memory per authenticated IDLE session over TLS.
    ImapIdle {
        #[command(flatten)]
        login: ImapLogin,
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
        /// Sessions being opened at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// The server's process id (its VmRSS is read from /proc).
        #[arg(long)]
        pid: u32,
    },
    /// A reconnect storm: IMAPS logins (TLS, LOGIN, LOGOUT), logins/s and the
    /// server's memory.
    LoginStorm {
        #[command(flatten)]
        login: ImapLogin,
        #[arg(long, default_value_t = 1000)]
        logins: usize,
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// The server's process id (its VmRSS is read from /proc).
        #[arg(long)]
        pid: u32,
    },
    /// The server's resident memory now (VmRSS).
    Rss {
        #[arg(long)]
        pid: u32,
    },
    /// Idle plain connections held open against one port, and the server's memory.
    IdleConnections {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long, default_value_t = 2000)]
        count: usize,
        #[arg(long)]
        pid: u32,
    },
    /// Time per message of the end-of-DATA checks: policy, S/MIME, clamd.
    Checks {
        /// Message files (RFC 5322, CRLF line ends).
        #[arg(required = true)]
        messages: Vec<PathBuf>,
        /// clamd: `127.0.0.1:3310` or `unix:/path`.
        #[arg(long)]
        clamd: congvu_antivirus::ClamdAddress,
        /// S/MIME anchors (PEM), as `[smime] ca_file`.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// Online backup of a store of `--messages`: full, incremental, verify, restore.
    Backup {
        #[arg(long, default_value_t = 20_000)]
        messages: usize,
        /// New and expunged messages between the full and the incremental backup.
        #[arg(long, default_value_t = 1_000)]
        delta: usize,
        /// Where the store, the backup and the restore are made (removed after).
        #[arg(long, default_value = "target/bench-backup")]
        work: PathBuf,
    },
    /// The yearly report of a generated province: its time and the events' size.
    Report(report::Generated),
    /// IMAP import rate from a private Dovecot on loopback.
    Import {
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
    },
    /// imaptest-style APPEND/FETCH/STORE/EXPUNGE mix on one INBOX.
    ImapLoad {
        #[command(flatten)]
        login: ImapLogin,
        #[arg(long, default_value_t = 10)]
        clients: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Log out and in again every this many rounds (0: never).
        #[arg(long, default_value_t = 0)]
        relogin_every: usize,
    },
    /// SELECT, FETCH 1:* FLAGS, SEARCH SUBJECT and STORE 1:* on a large mailbox.
    ImapMailbox {
        #[command(flatten)]
        login: ImapLogin,
        #[arg(long, default_value_t = 20_000)]
        messages: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// The webmail's first page and one message against IMAP, on one folder.
    Webmail {
        #[command(flatten)]
        login: ImapLogin,
        /// The public HTTPS listener.
        #[arg(long, default_value = "127.0.0.1:2443")]
        https: SocketAddr,
        #[arg(long, default_value_t = 20_000)]
        messages: usize,
        #[arg(long, default_value_t = 9)]
        runs: usize,
    },
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The IMAPS server and account the IMAP benchmarks log in to.
#[derive(clap::Args)]
struct ImapLogin {
    #[arg(long, default_value = "127.0.0.1:2993")]
    imaps: SocketAddr,
    #[arg(long, default_value = "data/tls/self-signed-cert.pem")]
    cafile: PathBuf,
    /// The name the certificate is checked against.
    #[arg(long, default_value = "localhost")]
    server_name: String,
    /// Accept any certificate (the reference Dovecot's has no subjectAltName).
    #[arg(long)]
    trust_any_certificate: bool,
    #[arg(long)]
    user: String,
    #[arg(long)]
    password: String,
}

impl ImapLogin {
    fn target(self) -> Result<imap::Target, Error> {
        Ok(imap::Target {
            imaps: self.imaps,
            connector: imap::connector(&self.cafile, self.trust_any_certificate)?,
            server_name: self.server_name,
            user: self.user,
            password: self.password,
        })
    }
}

fn loopback(addr: SocketAddr) -> Result<SocketAddr, Error> {
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(format!("{addr} is not a loopback address: benchmarks only target 127.0.0.0/8").into())
    }
}

struct Lines<S> {
    stream: BufReader<S>,
    line: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Lines<S> {
    fn new(stream: S) -> Self {
        Lines {
            stream: BufReader::new(stream),
            line: String::new(),
        }
    }
    async fn read(&mut self) -> Result<&str, Error> {
        self.line.clear();
        if self.stream.read_line(&mut self.line).await? == 0 {
            return Err("connection closed".into());
        }
        Ok(self.line.trim_end())
    }
    /// The last line of an SMTP reply; fails unless its code starts with `expect`.
    async fn reply(&mut self, expect: char) -> Result<(), Error> {
        loop {
            let line = self.read().await?;
            if line.as_bytes().get(3) != Some(&b'-') {
                return if line.starts_with(expect) {
                    Ok(())
                } else {
                    Err(format!("unexpected reply: {line}").into())
                };
            }
        }
    }
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.stream.get_mut().write_all(bytes).await?;
        Ok(())
    }
}

fn message(size: usize, n: usize, rcpt: &str) -> Vec<u8> {
    let mut text = format!(
        "From: bench@example.net\r\nTo: {rcpt}\r\nSubject: Thử tải {n}\r\nMessage-ID: <bench-{n}@example.net>\r\n\r\n"
    )
    .into_bytes();
    let line = b"Noi dung thu nghiem hieu nang he thong thu dien tu cong vu tinh Thanh Hoa.\r\n";
    while text.len() + line.len() <= size {
        text.extend_from_slice(line);
    }
    text
}

async fn send_one(smtp: SocketAddr, rcpt: &str, body: &[u8]) -> Result<(), Error> {
    let mut session = Lines::new(TcpStream::connect(smtp).await?);
    session.reply('2').await?;
    session.send(b"EHLO bench.test\r\n").await?;
    session.reply('2').await?;
    session
        .send(format!("MAIL FROM:<bench@example.net>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes())
        .await?;
    session.reply('2').await?;
    session.reply('2').await?;
    session.reply('3').await?;
    session.send(body).await?;
    session.send(b".\r\n").await?;
    session.reply('2').await?;
    session.send(b"QUIT\r\n").await?;
    session.reply('2').await
}

async fn imap_messages(imaps: SocketAddr, cafile: &Path, user: &str, password: &str) -> Result<usize, Error> {
    let target = imap::Target {
        imaps,
        connector: imap::connector(cafile, false)?,
        server_name: "localhost".to_owned(),
        user: user.to_owned(),
        password: password.to_owned(),
    };
    let mut session = imap::tls_session(&target).await?;
    session
        .send(
            format!("a LOGIN \"{user}\" \"{password}\"\r\nb STATUS INBOX (MESSAGES)\r\nc LOGOUT\r\n")
                .as_bytes(),
        )
        .await?;
    let mut count = None;
    loop {
        let line = session.read().await?.to_owned();
        if let Some(rest) = line.strip_prefix("* STATUS ") {
            let digits: String = rest
                .rsplit("MESSAGES ")
                .next()
                .unwrap_or("")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            count = digits.parse().ok();
        }
        if line.starts_with("a NO") || line.starts_with("b NO") || line.starts_with("b BAD") {
            return Err(format!("IMAP: {line}").into());
        }
        if line.starts_with("c ") {
            return count.ok_or_else(|| "no STATUS response".into());
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn smtp_bench(
    smtp: SocketAddr,
    imaps: SocketAddr,
    cafile: PathBuf,
    rcpt: String,
    password: String,
    messages: usize,
    concurrency: usize,
    size: usize,
) -> Result<(), Error> {
    let (smtp, imaps) = (loopback(smtp)?, loopback(imaps)?);
    let before = imap_messages(imaps, &cafile, &rcpt, &password).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let rcpt = Arc::new(rcpt);
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (next, failures, rcpt) = (next.clone(), failures.clone(), rcpt.clone());
        workers.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= messages {
                    return;
                }
                // Every failure is counted; the first few are shown.
                if let Err(error) = send_one(smtp, &rcpt, &message(size, n, &rcpt)).await
                    && failures.fetch_add(1, Ordering::Relaxed) < 5
                {
                    eprintln!("message {n}: {error}");
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let accepted = started.elapsed();
    let failed = failures.load(Ordering::Relaxed);
    let target = before + messages - failed;
    loop {
        let visible = imap_messages(imaps, &cafile, &rcpt, &password).await?;
        if visible >= target {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!(
                "only {} of {} messages visible after 10 minutes",
                visible - before,
                messages
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let end_to_end = started.elapsed();
    let rate = |d: Duration| (messages - failed) as f64 / d.as_secs_f64();
    println!("messages={messages} concurrency={concurrency} size={size} failed={failed}");
    println!(
        "accept      {:>8.0} msg/s ({:.2} s)",
        rate(accepted),
        accepted.as_secs_f64()
    );
    println!(
        "end-to-end  {:>8.0} msg/s ({:.2} s, visible over IMAP)",
        rate(end_to_end),
        end_to_end.as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    match Cli::parse().command {
        Bench::Smtp {
            smtp,
            imaps,
            cafile,
            rcpt,
            password,
            messages,
            concurrency,
            size,
        } => smtp_bench(smtp, imaps, cafile, rcpt, password, messages, concurrency, size).await,
        Bench::ImapIdle {
            login,
            sessions,
            concurrency,
            pid,
        } => imap::idle_memory(login.target()?, sessions, concurrency, pid).await,
        Bench::ImapLoad {
            login,
            clients,
            seconds,
            relogin_every,
        } => imap::load(login.target()?, clients, seconds, relogin_every).await,
        Bench::ImapMailbox {
            login,
            messages,
            runs,
        } => imap::mailbox_timings(login.target()?, messages, runs).await,
        Bench::Webmail {
            login,
            https,
            messages,
            runs,
        } => webmail::webmail_timings(login.target()?, https, messages, runs).await,
        Bench::LoginStorm {
            login,
            logins,
            clients,
            pid,
        } => imap::login_storm(login.target()?, logins, clients, pid).await,
        Bench::Rss { pid } => imap::print_rss(pid),
        Bench::IdleConnections { addr, count, pid } => imap::idle_connections(addr, count, pid).await,
        Bench::Backup {
            messages,
            delta,
            work,
        } => tokio::task::spawn_blocking(move || backup::run(messages, delta, &work)).await?,
        Bench::Report(generated) => tokio::task::spawn_blocking(move || report::run(generated)).await?,
        Bench::Import { messages } => tokio::task::spawn_blocking(move || import::run(messages)).await?,
        Bench::Checks {
            messages,
            clamd,
            ca_file,
            runs,
        } => {
            checks::run(checks::Checks {
                messages,
                clamd,
                ca_file,
                runs,
            })
            .await
        }
    }
}
