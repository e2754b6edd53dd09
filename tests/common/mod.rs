//! Shared harness for the end-to-end tests: start the real `congvu` binary on free
//! 127.0.0.1 ports with its own data directory, provision it through the CLI, and run
//! the Python client scripts in `tests/py/`.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod browser;
pub mod sink;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const DOMAIN: &str = "thanhhoa.gov.vn";
pub const PASSWORD_A: &str = "mat-khau-Tuan-2024";
pub const PASSWORD_B: &str = "mat-khau-Hoa-2024";

#[derive(Clone, Copy, Debug)]
pub struct Ports {
    pub smtp: u16,
    pub submission: u16,
    pub submissions: u16,
    pub imap: u16,
    pub imaps: u16,
    pub admin: u16,
}

impl Ports {
    /// Six distinct ports, each from [`free_port`].
    pub fn free() -> Ports {
        let mut ports: Vec<u16> = Vec::with_capacity(6);
        while ports.len() < 6 {
            let port = free_port();
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        Ports {
            smtp: ports[0],
            submission: ports[1],
            submissions: ports[2],
            imap: ports[3],
            imaps: ports[4],
            admin: ports[5],
        }
    }
    pub fn all(&self) -> [u16; 6] {
        [
            self.smtp,
            self.submission,
            self.submissions,
            self.imap,
            self.imaps,
            self.admin,
        ]
    }
}

/// A loopback port free right now, drawn at random below Linux's ephemeral range
/// (32768–60999). Ports the OS hands out for port 0 come from that range, which is
/// also where every outgoing connection of the parallel tests takes its source port:
/// one of those could take the port between this probe and the server's bind.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new();
    (0u64..)
        .map(|draw| 10_000 + (random.hash_one(draw) % 22_000) as u16)
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free loopback port")
}

pub struct Server {
    pub child: Option<Child>,
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub ports: Ports,
    /// Set by a test that damages its data directory on purpose.
    pub skip_check: bool,
    _tempdir: Option<tempfile::TempDir>,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_congvu")
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

impl Server {
    /// A fresh server with an empty data directory.
    pub fn start() -> Server {
        let mut server = Server::unstarted();
        server.spawn();
        server
    }

    /// A fresh server configured in a temporary directory of its own, not started: the
    /// test adds configuration (and files beside it) first, then calls `spawn`.
    pub fn unstarted() -> Server {
        let tempdir = tempfile::tempdir().expect("tempdir");
        let mut server = Server::configure(tempdir.path().to_owned(), Ports::free());
        server._tempdir = Some(tempdir);
        server
    }

    /// Writes the test configuration (without starting anything).
    pub fn configure(dir: PathBuf, ports: Ports) -> Server {
        std::fs::create_dir_all(&dir).expect("server directory");
        let config_path = dir.join("congvu.toml");
        let config = format!(
            r#"
[server]
hostname = "mail.thanhhoa.gov.vn"
data_dir = "{data}"
[domain]
primary = "{DOMAIN}"
[listeners]
smtp = "127.0.0.1:{}"
submission = "127.0.0.1:{}"
submissions = "127.0.0.1:{}"
imap = "127.0.0.1:{}"
imaps = "127.0.0.1:{}"
admin = "127.0.0.1:{}"
[log]
level = "info"
# Tests never ask real DNS: outbound delivery (MX lookups) is off unless a test
# replaces this section (tests/relay.rs, with routes to 127.0.0.1).
[queue]
enabled = false
"#,
            ports.smtp,
            ports.submission,
            ports.submissions,
            ports.imap,
            ports.imaps,
            ports.admin,
            data = dir.join("data").display(),
        );
        std::fs::write(&config_path, config).expect("write config");
        Server {
            child: None,
            dir,
            config_path,
            ports,
            skip_check: false,
            _tempdir: None,
        }
    }

    /// Appends `section` (TOML) to the configuration; call before `spawn`.
    pub fn add_config(&self, section: &str) {
        let mut config = std::fs::read_to_string(&self.config_path).expect("read config");
        config += section;
        std::fs::write(&self.config_path, config).expect("write config");
    }

    /// The server process's resident memory, in KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.as_ref().expect("server running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .expect("VmRSS")
    }

    /// The server's self-signed certificate, for clients that verify it.
    pub fn cafile(&self) -> String {
        self.dir
            .join("data/tls/self-signed-cert.pem")
            .display()
            .to_string()
    }

    /// The administrator's bootstrap token, written on the first start.
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.dir.join("data/admin.token"))
            .expect("admin token")
            .trim()
            .to_owned()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts the binary and waits until every listener accepts connections.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "server already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let child = Command::new(binary())
            .arg("--config")
            .arg(&self.config_path)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start congvu");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        for port in self.ports.all() {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                    panic!("congvu exited during start-up ({status}):\n{}", self.log());
                }
                assert!(
                    Instant::now() < deadline,
                    "congvu did not open port {port}:\n{}",
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// SIGKILL: the crash case.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
    }

    /// SIGTERM and wait; returns the exit status and how long the stop took.
    pub fn terminate(&mut self) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("server running");
        let started = Instant::now();
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let deadline = started + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return (status, started.elapsed());
            }
            if Instant::now() > deadline {
                child.kill().ok();
                panic!("congvu did not stop within 30 s of SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs the CLI with this server's configuration.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(binary())
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run congvu CLI");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().expect("CLI output")
    }

    /// Runs the CLI, asserts success, returns stdout trimmed.
    pub fn cli_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let output = self.cli(args, stdin);
        assert!(
            output.status.success(),
            "congvu {args:?} failed: {}\nstdout: {}\nserver log:\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout),
            self.log()
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// The standard fixture: agency `sttt` and two officials with passwords.
    /// Returns (agency address, official A, official B).
    pub fn provision(&self) -> (String, String, String) {
        let agency = self.cli_ok(
            &["agency", "add", "sttt", "--name", "Sở Thông tin và Truyền thông"],
            None,
        );
        let a = self.cli_ok(
            &[
                "account",
                "add",
                "--agency",
                "sttt",
                "--name",
                "Nguyễn Anh Tuấn",
                "--position",
                "Chuyên viên",
            ],
            None,
        );
        let b = self.cli_ok(
            &["account", "add", "--agency", "sttt", "--name", "Lê Thị Hoa"],
            None,
        );
        self.cli_ok(
            &["account", "passwd", &a, "--password-stdin"],
            Some(&format!("{PASSWORD_A}\n")),
        );
        self.cli_ok(
            &["account", "passwd", &b, "--password-stdin"],
            Some(&format!("{PASSWORD_B}\n")),
        );
        (agency, a, b)
    }
}

/// Every integration test ends with the consistency check of its data directory
/// (the store's invariants and the directory ↔ storage cross-check): through the
/// running server's admin API, or on the data directory of a stopped one. A test that
/// passes but leaves an inconsistency fails here.
impl Drop for Server {
    fn drop(&mut self) {
        let check = (!std::thread::panicking() && self.dir.join("data").exists() && !self.skip_check)
            .then(|| self.cli(&["check"], None));
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(output) = check {
            assert!(
                output.status.success(),
                "the test left an inconsistent data directory:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

/// A started server with the public HTTPS listener (autoconfig, console) on a free
/// port, once that port accepts connections.
pub fn start_with_https() -> (Server, u16) {
    let mut server = Server::unstarted();
    let https = free_port();
    let config = std::fs::read_to_string(&server.config_path).expect("read config");
    let config = config.replacen(
        "[listeners]\n",
        &format!("[listeners]\nhttps = \"127.0.0.1:{https}\"\n"),
        1,
    );
    std::fs::write(&server.config_path, config).expect("write config");
    server.spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", https)).is_err() {
        assert!(
            Instant::now() < deadline,
            "https port not open:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, https)
}

/// Runs `tests/py/<script>` with arguments; returns its output (not asserted).
/// Polls `done` every `step` until it holds; past `deadline`, fails with `failure()`.
pub fn wait_until(
    deadline: Instant,
    step: Duration,
    mut done: impl FnMut() -> bool,
    failure: impl Fn() -> String,
) {
    while !done() {
        assert!(Instant::now() < deadline, "{}", failure());
        std::thread::sleep(step);
    }
}

pub fn python(script: &str, args: &[String]) -> Output {
    Command::new("python3")
        .arg(repo_root().join("tests/py").join(script))
        .args(args)
        .output()
        .expect("python3 must be installed")
}

/// Runs a Python script and asserts it succeeded; returns stdout.
pub fn python_ok(server: &Server, script: &str, args: &[String]) -> String {
    let output = python(script, args);
    assert!(
        output.status.success(),
        "{script} {args:?} failed:\nstdout: {}\nstderr: {}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs an external client (curl, swaks, mbsync) and returns its output.
/// A small, structurally valid PDF with `padding` bytes of stream data (the policy
/// checks formats on content, so a test's attachment must be a real one).
pub fn small_pdf(padding: u32) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n".to_vec();
    bytes.extend((0..padding).map(|i| (i * 7 % 251) as u8));
    bytes.extend_from_slice(b"\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    bytes
}

pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed (.ci/run installs it): {e}"))
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A raw line-oriented client for bad-input tests: plain TCP, or TLS (rustls) trusting
/// the server's generated certificate.
pub struct Raw {
    stream: Box<dyn ReadWrite>,
    buffer: Vec<u8>,
}

pub trait ReadWrite: std::io::Read + std::io::Write + Send {}
impl<T: std::io::Read + std::io::Write + Send> ReadWrite for T {}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Raw {
            stream: Box::new(stream),
            buffer: Vec::new(),
        }
    }

    pub fn connect_tls(server: &Server, port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Raw {
            stream: Box::new(tls_client(server, stream)),
            buffer: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
        self.stream.flush().expect("flush");
    }

    /// Writes, tolerating a server that already closed (it may refuse mid-stream).
    pub fn send_lossy(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).and_then(|_| self.stream.flush());
    }

    /// The next line without CRLF, or None at EOF.
    pub fn line(&mut self) -> Option<String> {
        use std::io::Read;
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buffer.drain(..end + 2).take(end).collect();
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads lines until one starts with `prefix`; returns every line read.
    pub fn until(&mut self, prefix: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            match self.line() {
                Some(line) => {
                    let done = line.starts_with(prefix);
                    lines.push(line);
                    if done {
                        return lines;
                    }
                }
                None => panic!("connection closed before a line starting with {prefix:?}; got {lines:?}"),
            }
        }
    }

    /// The final line of an SMTP reply (multi-line replies use `NNN-`).
    pub fn smtp_reply(&mut self) -> String {
        loop {
            let line = self.line().expect("SMTP reply");
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return line;
            }
        }
    }
}

fn tls_client(
    server: &Server,
    stream: TcpStream,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let pem = server.dir.join("data/tls/self-signed-cert.pem");
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(&pem).expect("server certificate") {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    rustls::StreamOwned::new(connection, stream)
}

/// Runs `tests/py/mailclient.py` with `args`, asserts it succeeded, returns its JSON
/// answer (for `send`: `{"ok": true, …}` or the refusal's `code` and `message`).
pub fn mailclient(server: &Server, args: &[String]) -> Value {
    serde_json::from_str(&python_ok(server, "mailclient.py", args)).expect("JSON from mailclient.py")
}

/// mailclient.py arguments for `verb` (`send`, `flood`) on the submission port as an
/// official would: STARTTLS verified against the server's certificate, AUTH PLAIN as
/// `user`, envelope `from` and `to`.
pub fn submission_args(
    server: &Server,
    verb: &str,
    user: &str,
    password: &str,
    from: &str,
    to: &str,
) -> Vec<String> {
    strings(&[
        verb,
        "--port",
        &server.ports.submission.to_string(),
        "--security",
        "starttls",
        "--cafile",
        &server.cafile(),
        "--auth",
        "plain",
        "--user",
        user,
        "--password",
        password,
        "--from",
        from,
        "--to",
        to,
    ])
}

/// Sends one message through submission with smtplib (see [`submission_args`]);
/// `extra` are further mailclient.py options (`--subject`, `--message-id`, `--raw` …).
pub fn submit(server: &Server, user: &str, password: &str, from: &str, to: &str, extra: &[&str]) -> Value {
    let mut args = submission_args(server, "send", user, password, from, to);
    args.extend(strings(extra));
    mailclient(server, &args)
}

/// Sends one message to the MX port as another server would: no TLS, no AUTH;
/// `extra` are further mailclient.py options.
pub fn send_mx(server: &Server, from: &str, to: &str, extra: &[&str]) -> Value {
    let mut args = strings(&[
        "send",
        "--port",
        &server.ports.smtp.to_string(),
        "--security",
        "none",
        "--auth",
        "none",
        "--from",
        from,
        "--to",
        to,
    ]);
    args.extend(strings(extra));
    mailclient(server, &args)
}

/// `user`'s INBOX read with imaplib over IMAPS into the directory `out`: each
/// message's bytes, in UID order.
pub fn fetch_inbox(server: &Server, user: &str, password: &str, out: &Path) -> Vec<Vec<u8>> {
    fetch_mailbox(server, user, password, "INBOX", out)
}

/// mailclient.py's IMAP `verb` (`fetch`, `ids`, `state`, `flag`, `append`) as
/// `user` over IMAPS, trusting the server's certificate; `extra` are the verb's own
/// options.
pub fn imap_client(server: &Server, verb: &str, user: &str, password: &str, extra: &[&str]) -> Value {
    let mut args = strings(&[
        verb,
        "--port",
        &server.ports.imaps.to_string(),
        "--security",
        "tls",
        "--cafile",
        &server.cafile(),
        "--user",
        user,
        "--password",
        password,
    ]);
    args.extend(strings(extra));
    mailclient(server, &args)
}

/// `user`'s `mailbox` read with imaplib over IMAPS into the directory `out`: each
/// message's bytes, in UID order.
pub fn fetch_mailbox(server: &Server, user: &str, password: &str, mailbox: &str, out: &Path) -> Vec<Vec<u8>> {
    std::fs::create_dir_all(out).unwrap();
    let out_dir = out.display().to_string();
    let listing = imap_client(
        server,
        "fetch",
        user,
        password,
        &["--mailbox", mailbox, "--out", &out_dir],
    );
    listing["messages"]
        .as_array()
        .expect("message list")
        .iter()
        .map(|m| std::fs::read(out.join(format!("{}.eml", m["uid"]))).unwrap())
        .collect()
}

/// `GET path` on the admin API with curl and the bootstrap token; asserts a 2xx
/// answer and returns its JSON.
pub fn admin_get(server: &Server, path: &str) -> Value {
    admin_get_as(server, path, &server.admin_token())
}

/// `GET path` on the admin API with curl and `token` (the bootstrap token or a
/// session's): the HTTP status and the body.
pub fn admin_call(server: &Server, path: &str, token: &str) -> (u16, Vec<u8>) {
    let output = run(
        "curl",
        &[
            "-s",
            "-w",
            "\n%{http_code}",
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("http://127.0.0.1:{}{path}", server.ports.admin),
        ],
    );
    assert!(output.status.success(), "GET {path}: {output:?}");
    let mut body = output.stdout;
    let split = body.iter().rposition(|&b| b == b'\n').unwrap_or(0);
    let status = String::from_utf8_lossy(&body[split..])
        .trim()
        .parse()
        .unwrap_or(0);
    body.truncate(split);
    (status, body)
}

/// [`admin_call`] that asserts a 2xx answer and returns its JSON.
pub fn admin_get_as(server: &Server, path: &str, token: &str) -> Value {
    let (status, body) = admin_call(server, path, token);
    assert!(
        (200..300).contains(&status),
        "GET {path}: {status} {}\n{}",
        String::from_utf8_lossy(&body),
        server.log()
    );
    serde_json::from_slice(&body).expect("JSON from the admin API")
}

/// `POST path` with a JSON body on the admin API as the super-administrator;
/// asserts a 2xx answer.
pub fn admin_post(server: &Server, path: &str, body: &Value) -> Value {
    let output = run(
        "curl",
        &[
            "-sf",
            "-X",
            "POST",
            "-H",
            &format!("Authorization: Bearer {}", server.admin_token()),
            "-H",
            "content-type: application/json",
            "--data",
            &body.to_string(),
            &format!("http://127.0.0.1:{}{path}", server.ports.admin),
        ],
    );
    assert!(
        output.status.success(),
        "POST {path} {body}: {output:?}\n{}",
        server.log()
    );
    serde_json::from_slice(&output.stdout).expect("JSON from the admin API")
}

/// A full round trip still works: the server keeps serving after abuse.
pub fn assert_still_serving(server: &Server, from: &str, password: &str, to: &str) {
    let out = submit(server, from, password, from, to, &[]);
    assert_eq!(out["ok"], true, "server stopped serving: {out}\n{}", server.log());
}
