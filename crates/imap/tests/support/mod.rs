//! A real server (SledStore in a temp dir, a real Directory, self-signed TLS) on
//! 127.0.0.1:0, and a small line-oriented IMAP client for the tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use congvu_directory::{DefaultQuotas, Directory, Secret};
use congvu_imap::{ImapConfig, ImapContext, ListenerKind, serve};
use congvu_store::{MailStore, SledStore};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "mật khẩu an toàn";

pub struct Server {
    pub imap: SocketAddr,
    pub imaps: SocketAddr,
    pub store: Arc<SledStore>,
    pub directory: Arc<Directory>,
    /// The two test officials' login addresses.
    pub users: Vec<String>,
    /// What the listeners counted.
    pub metrics: Arc<congvu_listener::ListenerMetrics>,
    cert: CertificateDer<'static>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// Every test ends with the consistency check of its store and directory: a test
/// that passes but leaves an inconsistency fails here.
impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let report = self.directory.check().expect("consistency check");
        assert!(
            report.is_consistent(),
            "the test left an inconsistent data directory: {report:?}"
        );
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

impl Server {
    /// The store's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub async fn start() -> Server {
        Server::start_with(ImapConfig::default()).await
    }

    pub async fn start_with(config: ImapConfig) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(dir.path()).unwrap());
        let quotas = DefaultQuotas {
            agency_bytes: 500 << 20,
            personal_bytes: 100 << 20,
        };
        let directory = Directory::open(
            store.db(),
            store.clone() as Arc<dyn MailStore>,
            "thanhhoa.gov.vn",
            quotas,
        )
        .unwrap();
        directory
            .add_agency("sttt", "Sở Thông tin và Truyền thông", None)
            .unwrap();
        let mut users = Vec::new();
        for name in ["Nguyễn Anh Tuấn", "Lê Thị Hoa"] {
            let (record, _) = directory.add_person("sttt", name, None, None).unwrap();
            directory
                .set_password(&record.address, &Secret::new(PASSWORD.to_string()))
                .unwrap();
            users.push(record.address);
        }
        let directory = Arc::new(directory);

        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
        let tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let ctx = Arc::new(ImapContext::new(config, store.clone(), directory.clone()));
        let (shutdown, rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut addrs = Vec::new();
        for kind in [ListenerKind::Imap, ListenerKind::Imaps] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addrs.push(listener.local_addr().unwrap());
            tasks.push(tokio::spawn(serve(
                listener,
                kind,
                acceptor.clone(),
                ctx.clone(),
                rx.clone(),
            )));
        }
        Server {
            metrics: Arc::clone(ctx.listener_metrics()),
            imap: addrs[0],
            imaps: addrs[1],
            store,
            directory,
            users,
            cert,
            shutdown,
            tasks,
            _dir: dir,
        }
    }

    fn connector(&self) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }

    /// A client on the STARTTLS port, greeting read.
    pub async fn plain(&self) -> Client {
        let stream = TcpStream::connect(self.imap).await.unwrap();
        let mut client = Client {
            stream: ClientStream::Plain(stream),
            buf: Vec::new(),
            connector: self.connector(),
        };
        let greeting = client.line().await;
        assert!(greeting.starts_with("* OK [CAPABILITY "), "{greeting}");
        client
    }

    /// A client on the implicit-TLS port, greeting read.
    pub async fn tls(&self) -> Client {
        let stream = TcpStream::connect(self.imaps).await.unwrap();
        let connector = self.connector();
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), stream)
            .await
            .unwrap();
        let mut client = Client {
            stream: ClientStream::Tls(Box::new(tls)),
            buf: Vec::new(),
            connector,
        };
        let greeting = client.line().await;
        assert!(greeting.starts_with("* OK [CAPABILITY "), "{greeting}");
        client
    }

    /// A TLS client logged in as user `n`.
    pub async fn login(&self, n: usize) -> Client {
        self.login_as(&self.users[n]).await
    }

    /// A TLS client logged in as `address` (whose password is [`PASSWORD`]).
    pub async fn login_as(&self, address: &str) -> Client {
        let mut client = self.tls().await;
        let lines = client
            .command("l", &format!("LOGIN {address} \"{PASSWORD}\""))
            .await;
        assert!(lines.last().unwrap().starts_with("l OK"), "{lines:?}");
        client
    }

    /// Signals shutdown and waits for both listeners to return.
    pub async fn shutdown(mut self) {
        self.shutdown.send(true).unwrap();
        for task in self.tasks.drain(..) {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("serve returns after shutdown")
                .unwrap()
                .unwrap();
        }
    }
}

enum ClientStream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Gone,
}

pub struct Client {
    stream: ClientStream,
    buf: Vec<u8>,
    connector: tokio_rustls::TlsConnector,
}

impl Client {
    pub async fn send(&mut self, bytes: &[u8]) {
        match &mut self.stream {
            ClientStream::Plain(s) => s.write_all(bytes).await.unwrap(),
            ClientStream::Tls(s) => {
                s.write_all(bytes).await.unwrap();
                s.flush().await.unwrap();
            }
            ClientStream::Gone => panic!("no stream"),
        }
    }

    /// Reads more bytes; 0 at end of stream.
    async fn fill(&mut self) -> usize {
        let mut chunk = vec![0u8; 64 * 1024];
        let read = match &mut self.stream {
            ClientStream::Plain(s) => s.read(&mut chunk).await,
            ClientStream::Tls(s) => s.read(&mut chunk).await,
            ClientStream::Gone => panic!("no stream"),
        };
        let n = read.unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    /// One response: a line, with any literals it announces read into it. Panics
    /// after 10 s without one.
    pub async fn response_bytes(&mut self) -> Vec<u8> {
        tokio::time::timeout(Duration::from_secs(10), self.response_inner())
            .await
            .expect("timed out waiting for a response")
    }

    async fn response_inner(&mut self) -> Vec<u8> {
        let mut scanned = 0;
        loop {
            if let Some(lf) = self.buf[scanned..].iter().position(|b| *b == b'\n') {
                let end = scanned + lf + 1;
                let line = &self.buf[..end];
                let trimmed = line.strip_suffix(b"\r\n").unwrap_or(line);
                if let Some(size) = literal_size(trimmed) {
                    while self.buf.len() < end + size {
                        assert!(self.fill().await > 0, "EOF inside a literal");
                    }
                    scanned = end + size;
                    continue;
                }
                return self.buf.drain(..end).collect();
            }
            scanned = self.buf.len();
            if self.fill().await == 0 {
                return self.buf.drain(..).collect();
            }
        }
    }

    pub async fn line(&mut self) -> String {
        String::from_utf8_lossy(&self.response_bytes().await)
            .trim_end()
            .to_string()
    }

    /// Sends `tag command` and collects responses through the tagged one.
    pub async fn command(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.until_tagged(tag).await
    }

    pub async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            assert!(!line.is_empty(), "connection closed; got {lines:?}");
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// True when the server has closed the connection (after what is buffered).
    pub async fn closed(&mut self) -> bool {
        loop {
            if !self.buf.is_empty() {
                self.buf.clear();
            }
            match tokio::time::timeout(Duration::from_secs(10), self.fill()).await {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    }

    /// Reads the OK to a STARTTLS tagged `tls` already sent, and does the handshake.
    pub async fn finish_starttls(&mut self) {
        let lines = self.until_tagged("tls").await;
        assert!(lines.last().unwrap().starts_with("tls OK"), "{lines:?}");
        let ClientStream::Plain(tcp) = std::mem::replace(&mut self.stream, ClientStream::Gone) else {
            panic!("already TLS");
        };
        let tls = self
            .connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        self.stream = ClientStream::Tls(Box::new(tls));
    }
}

/// The tagged line that ended a command's responses.
pub fn last(lines: &[String]) -> &str {
    lines.last().map(String::as_str).unwrap_or_default()
}

/// Runs `command` (tag `t`), which must succeed; its response lines.
pub async fn ok(client: &mut Client, command: &str) -> Vec<String> {
    let lines = client.command("t", command).await;
    assert!(last(&lines).starts_with("t OK"), "{command}: {lines:?}");
    lines
}

/// True when any response line contains `needle`.
pub fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

/// The size of the literal announced at the end of a response line.
fn literal_size(line: &[u8]) -> Option<usize> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|b| *b == b'{')?;
    std::str::from_utf8(&inner[open + 1..]).ok()?.parse().ok()
}

/// A small test message with a Vietnamese subject and a PDF attachment.
pub fn sample_message(subject: &str) -> Vec<u8> {
    format!(
        "From: =?UTF-8?B?Tmd1eeG7hW4gVsSDbiBB?= <nva@thanhhoa.gov.vn>\r\n\
To: tuanna.sttt@thanhhoa.gov.vn\r\n\
Subject: {subject}\r\n\
Date: Tue, 5 Mar 2024 09:30:00 +0700\r\n\
Message-ID: <1@thanhhoa.gov.vn>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Kính gửi các đơn vị: công văn số 123.\r\n\
--b1\r\n\
Content-Type: application/pdf; name=\"cv123.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"cv123.pdf\"\r\n\
\r\n\
JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n\
--b1--\r\n"
    )
    .into_bytes()
}

/// APPENDs with a non-synchronising literal and returns the tagged line.
pub async fn append(client: &mut Client, mailbox: &str, flags: &str, message: &[u8]) -> String {
    let mut command = format!("ap APPEND {mailbox} {flags} {{{}+}}\r\n", message.len()).into_bytes();
    command.extend_from_slice(message);
    command.extend_from_slice(b"\r\n");
    client.send(&command).await;
    let lines = client.until_tagged("ap").await;
    lines.last().unwrap().clone()
}
