//! A real server (SledStore + Directory in a tempdir, three listeners on
//! 127.0.0.1:0) and a minimal SMTP client for the behaviour tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use congvu_directory::{AccountRecord, AgencyRecord, DefaultQuotas, Directory, Secret};
use congvu_smtp::{ListenerKind, SmtpConfig, SmtpContext, serve};
use congvu_store::{MailStore, SledStore};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

pub const DOMAIN: &str = "thanhhoa.gov.vn";
pub const PASSWORD: &str = "mật khẩu đúng 123";
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

pub struct TestServer {
    pub mx: SocketAddr,
    pub submission: SocketAddr,
    pub submissions: SocketAddr,
    pub store: Arc<SledStore>,
    pub directory: Arc<Directory>,
    /// The official `tuanna.sttt@…`, with [`PASSWORD`].
    pub user: AccountRecord,
    /// The agency mailbox `sttt@…` (no password).
    pub agency: AgencyRecord,
    pub shutdown: watch::Sender<bool>,
    pub listeners: Vec<JoinHandle<std::io::Result<()>>>,
    /// What the listeners counted.
    pub metrics: Arc<congvu_listener::ListenerMetrics>,
    connector: TlsConnector,
    _data: tempfile::TempDir,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn tls_pair() -> (TlsAcceptor, TlsConnector) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (
        TlsAcceptor::from(Arc::new(server)),
        TlsConnector::from(Arc::new(client)),
    )
}

/// Every test ends with the consistency check of its store and directory: a test
/// that passes but leaves an inconsistency fails here.
impl Drop for TestServer {
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

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::with_config(SmtpConfig::default()).await
    }

    pub async fn with_config(mut config: SmtpConfig) -> TestServer {
        config.hostname = format!("mail.{DOMAIN}");
        let data = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(data.path()).unwrap());
        let dyn_store: Arc<dyn MailStore> = store.clone();
        let directory = Directory::open(
            store.db(),
            Arc::clone(&dyn_store),
            DOMAIN,
            DefaultQuotas::default(),
        )
        .unwrap();
        let agency = directory
            .add_agency("sttt", "Sở Thông tin và Truyền thông", None)
            .unwrap();
        let (user, _) = directory
            .add_person("sttt", "Nguyễn Anh Tuấn", None, None)
            .unwrap();
        directory
            .set_password(&user.address, &Secret::new(PASSWORD.to_owned()))
            .unwrap();
        let directory = Arc::new(directory);
        let limits = config.limits();
        let ctx = Arc::new(SmtpContext {
            config,
            policy: congvu_policy::PolicyConfig::default(),
            policy_metrics: Arc::default(),
            store: dyn_store,
            directory: Arc::clone(&directory),
            inbound_auth: None,
            authserv_id: "mx.test".to_owned(),
            smime: None,
            antivirus: None,
            admission: congvu_listener::Admission::new(limits),
            memory_budget: congvu_smtp::MemoryBudget::new(64 << 20),
            queue_waker: Default::default(),
            agency_domains: vec!["*.bacninh.gov.vn".to_owned()],
        });
        let (acceptor, connector) = tls_pair();
        let (shutdown, watch) = watch::channel(false);
        let mut addresses = Vec::new();
        let mut listeners = Vec::new();
        for kind in [
            ListenerKind::Mx,
            ListenerKind::Submission,
            ListenerKind::Submissions,
        ] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addresses.push(listener.local_addr().unwrap());
            listeners.push(tokio::spawn(serve(
                listener,
                kind,
                acceptor.clone(),
                Arc::clone(&ctx),
                watch.clone(),
            )));
        }
        TestServer {
            metrics: Arc::clone(ctx.admission.metrics()),
            mx: addresses[0],
            submission: addresses[1],
            submissions: addresses[2],
            store,
            directory,
            user,
            agency,
            shutdown,
            listeners,
            connector,
            _data: data,
        }
    }

    /// Connects and reads the greeting.
    pub async fn connect(&self, addr: SocketAddr) -> Client<TcpStream> {
        let mut client = Client::new(TcpStream::connect(addr).await.unwrap());
        client.expect(220).await;
        client
    }

    /// Connects with TLS from the first byte (port 465) and reads the greeting.
    pub async fn connect_tls(&self) -> Client<TlsStream<TcpStream>> {
        let stream = TcpStream::connect(self.submissions).await.unwrap();
        let tls = self
            .connector
            .connect(ServerName::try_from("localhost").unwrap(), stream)
            .await
            .unwrap();
        let mut client = Client::new(tls);
        client.expect(220).await;
        client
    }

    /// STARTTLS on a plain connection; returns the TLS client, before any EHLO.
    pub async fn starttls(&self, mut client: Client<TcpStream>) -> Client<TlsStream<TcpStream>> {
        client.send("STARTTLS").await;
        self.handshake_after_220(client).await
    }

    /// Reads the 220 to a STARTTLS already sent and runs the client handshake.
    pub async fn handshake_after_220(&self, mut client: Client<TcpStream>) -> Client<TlsStream<TcpStream>> {
        client.expect(220).await;
        let stream = client.into_inner();
        let tls = self
            .connector
            .connect(ServerName::try_from("localhost").unwrap(), stream)
            .await
            .unwrap();
        Client::new(tls)
    }

    /// Submission port, STARTTLS, EHLO, AUTH PLAIN as the official.
    pub async fn submit_session(&self) -> Client<TlsStream<TcpStream>> {
        let mut client = self.connect(self.submission).await;
        client.command("EHLO client.example", 250).await;
        let mut client = self.starttls(client).await;
        client.command("EHLO client.example", 250).await;
        client
            .command(
                &format!("AUTH PLAIN {}", plain(&self.user.address, PASSWORD)),
                235,
            )
            .await;
        client
    }

    /// Every message in the INBOX of `account`, raw.
    pub fn inbox(&self, account: congvu_store::AccountId) -> Vec<Vec<u8>> {
        let inbox = self.store.mailbox_by_name(account, "INBOX").unwrap().unwrap();
        self.store
            .messages(inbox.id)
            .unwrap()
            .iter()
            .map(|m| self.store.read_blob(&m.blob).unwrap())
            .collect()
    }

    pub async fn stop(mut self) {
        self.shutdown.send_replace(true);
        for listener in std::mem::take(&mut self.listeners) {
            tokio::time::timeout(Duration::from_secs(10), listener)
                .await
                .expect("serve returns after shutdown")
                .unwrap()
                .unwrap();
        }
    }
}

/// The base64 AUTH PLAIN message with an empty authzid.
pub fn plain(login: &str, password: &str) -> String {
    b64(format!("\0{login}\0{password}").as_bytes())
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A line-oriented SMTP client that checks reply codes.
pub struct Client<S> {
    stream: BufReader<S>,
}

/// One reply: its code and the text of each line (after `NNN-`/`NNN `).
#[derive(Debug)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub fn new(stream: S) -> Client<S> {
        Client {
            stream: BufReader::new(stream),
        }
    }

    pub fn into_inner(self) -> S {
        assert!(self.stream.buffer().is_empty(), "unread server bytes");
        self.stream.into_inner()
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.unwrap();
        self.stream.get_mut().flush().await.unwrap();
    }

    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    /// Reads one reply; `None` when the server closed the connection.
    pub async fn try_reply(&mut self) -> Option<Reply> {
        let mut lines = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = tokio::time::timeout(REPLY_TIMEOUT, self.stream.read_until(b'\n', &mut line))
                .await
                .expect("reply in time")
                .ok()?;
            if n == 0 {
                return None;
            }
            let line = String::from_utf8(line).expect("UTF-8 reply");
            let line = line.strip_suffix("\r\n").expect("CRLF-terminated reply");
            assert!(line.len() >= 4, "short reply line {line:?}");
            let (code, rest) = line.split_at(3);
            let code: u16 = code.parse().expect("numeric code");
            lines.push(rest[1..].to_owned());
            match &rest[..1] {
                "-" => continue,
                " " => return Some(Reply { code, lines }),
                other => panic!("bad separator {other:?} in {line:?}"),
            }
        }
    }

    pub async fn reply(&mut self) -> Reply {
        self.try_reply()
            .await
            .expect("connection closed instead of a reply")
    }

    /// Reads a reply and checks its code.
    pub async fn expect(&mut self, code: u16) -> Reply {
        let reply = self.reply().await;
        assert_eq!(reply.code, code, "unexpected reply {reply:?}");
        reply
    }

    /// Sends a line, reads the reply, checks its code.
    pub async fn command(&mut self, line: &str, code: u16) -> Reply {
        self.send(line).await;
        self.expect(code).await
    }

    /// Sends a line and checks the full first-line text `"5.7.1 Relay access denied"`.
    pub async fn command_enhanced(&mut self, line: &str, code: u16, enhanced: &str) -> Reply {
        let reply = self.command(line, code).await;
        assert!(
            reply.lines[0].starts_with(&format!("{enhanced} ")),
            "{line}: expected {code} {enhanced}, got {reply:?}"
        );
        reply
    }

    /// Expects the server to close the connection now.
    pub async fn expect_closed(&mut self) {
        assert!(self.try_reply().await.is_none(), "connection still open");
    }
}
