//! A private Dovecot for tests (feature `test-dovecot`): Debian's `/usr/sbin/dovecot`
//! (packages `dovecot-core`, `dovecot-imapd`) started with a configuration written
//! into a temporary directory, listening on free ports of 127.0.0.1 (IMAP with
//! STARTTLS, and implicit TLS), users with passwords in a passwd-file, Maildir++
//! storage under the temporary directory, a self-signed certificate made with
//! `openssl`. Stopped when dropped (SIGTERM to the master named by its pid file). The
//! system's Dovecot, its `/etc/dovecot` and its `/run/dovecot` are never touched.
//!
//! As root the mail processes run as the system user `mail` (uid 8 on Debian), the
//! login processes as Dovecot's own `dovenull`; as another user everything runs as
//! that user.
//!
//! ```ignore
//! let Some(dovecot) = TestDovecot::start(&["user1"]) else { return }; // no Dovecot
//! dovecot.append("user1", &[TestMessage::new("Sent Items", b"Subject: x\r\n\r\n")]);
//! let source = ImapSource::connect(dovecot.source_config("user1", Security::StartTls))?;
//! ```
//!
//! Without Dovecot installed, [`TestDovecot::start`] prints a loud notice and returns
//! `None`, except with `CI=true`, where it panics (as `test-clamd` does).

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use congvu_directory::Secret;
use tempfile::TempDir;

use crate::imap_source::{ImapSourceConfig, Security};

/// Where Debian's `dovecot-core` installs the master.
pub const DOVECOT_BINARY: &str = "/usr/sbin/dovecot";
/// Time allowed for the listeners to come up, and for the master to go.
const WAIT: Duration = Duration::from_secs(15);

/// One message to put into the test server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestMessage {
    /// Folder name in UTF-8, levels separated by `.` (the server's delimiter).
    pub folder: String,
    /// IMAP flags and keywords, e.g. `\Seen`, `$Forwarded`.
    pub flags: Vec<String>,
    /// INTERNALDATE as Unix seconds (written in +0700).
    pub internal_date: i64,
    /// The message, CRLF line ends.
    pub bytes: Vec<u8>,
}

/// A running private Dovecot; stopped when dropped.
#[derive(Debug)]
pub struct TestDovecot {
    directory: TempDir,
    imap_port: u16,
    imaps_port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

fn run(command: &mut Command) {
    let output = command.output().expect("command runs");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl TestDovecot {
    /// Starts a Dovecot with these users (password: [`TestDovecot::password`]);
    /// `None` when Dovecot is not installed (see the module documentation).
    ///
    /// # Panics
    /// When Dovecot is missing and `CI=true`, or when it does not start.
    pub fn start(users: &[&str]) -> Option<TestDovecot> {
        if !Path::new(DOVECOT_BINARY).exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{DOVECOT_BINARY} is missing and CI=true: install dovecot-imapd (.ci/run)"
            );
            eprintln!(
                "\n*** SKIPPED: {DOVECOT_BINARY} is missing, the Dovecot test did not run. \
                 Install it: apt-get install --no-install-recommends dovecot-imapd ***\n"
            );
            return None;
        }
        let directory = tempfile::tempdir().expect("temporary directory for Dovecot");
        let dir = directory.path();
        // The mail and login processes run as other users: they must reach their files.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        let me = fs::metadata("/proc/self").expect("/proc/self").uid();
        let (uid, gid, internal_user, login_user, login_chroot) = if me == 0 {
            (8, 8, "dovecot".to_owned(), "dovenull".to_owned(), "")
        } else {
            let name = std::env::var("USER").unwrap_or_else(|_| me.to_string());
            let gid = fs::metadata("/proc/self").expect("/proc/self").gid();
            // An unprivileged master cannot chroot its login processes.
            (me, gid, name.clone(), name, "  chroot =\n")
        };
        run(Command::new("openssl").current_dir(dir).args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
            "tls.key",
            "-out",
            "tls.crt",
        ]));
        let mut passwd = String::new();
        for user in users {
            let home = dir.join("home").join(user);
            fs::create_dir_all(&home).expect("home");
            std::os::unix::fs::chown(&home, Some(uid), Some(gid)).expect("chown home");
            passwd.push_str(&format!(
                "{user}:{{PLAIN}}{}:{uid}:{gid}::{}::\n",
                password_of(user),
                home.display()
            ));
        }
        fs::write(dir.join("users"), passwd).expect("users");
        for sub in ["run", "state"] {
            fs::create_dir(dir.join(sub)).expect("run directory");
            fs::set_permissions(dir.join(sub), fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let (imap_port, imaps_port) = (free_port(), free_port());
        let d = dir.display();
        let conf = format!(
            "protocols = imap\n\
             listen = 127.0.0.1\n\
             base_dir = {d}/run\n\
             state_dir = {d}/state\n\
             instance_name = congvu-test-{imap_port}\n\
             log_path = {d}/dovecot.log\n\
             ssl = yes\n\
             ssl_cert = <{d}/tls.crt\n\
             ssl_key = <{d}/tls.key\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             first_valid_uid = {uid}\n\
             last_valid_uid = {uid}\n\
             default_internal_user = {internal_user}\n\
             default_login_user = {login_user}\n\
             mail_location = maildir:~/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%n {d}/users\n}}\n\
             userdb {{\n  driver = passwd-file\n  args = username_format=%n {d}/users\n}}\n\
             namespace inbox {{\n  inbox = yes\n  separator = .\n\
             \x20 mailbox Drafts {{\n    special_use = \\Drafts\n  }}\n\
             \x20 mailbox Records {{\n    special_use = \\Archive\n  }}\n}}\n\
             service imap-login {{\n{login_chroot}\
             \x20 inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap_port}\n  }}\n\
             \x20 inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps_port}\n    ssl = yes\n  }}\n}}\n\
             protocol imap {{\n  mail_max_userip_connections = 100\n}}\n"
        );
        let conf_path = dir.join("dovecot.conf");
        fs::write(&conf_path, conf).expect("dovecot.conf");
        // The master daemonizes and keeps its standard streams: they go to a file,
        // not to a pipe that would never close.
        let start_log = dir.join("dovecot.start");
        let stderr = fs::File::create(&start_log).expect("dovecot.start");
        let status = Command::new(DOVECOT_BINARY)
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .status()
            .expect("dovecot runs");
        assert!(
            status.success(),
            "dovecot: {}",
            fs::read_to_string(&start_log).unwrap_or_default()
        );
        let dovecot = TestDovecot {
            directory,
            imap_port,
            imaps_port,
        };
        let started = Instant::now();
        while [imap_port, imaps_port]
            .iter()
            .any(|port| TcpStream::connect(("127.0.0.1", *port)).is_err())
        {
            assert!(
                started.elapsed() < WAIT,
                "Dovecot did not listen: {}",
                fs::read_to_string(dovecot.directory.path().join("dovecot.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(dovecot)
    }

    /// The port with STARTTLS.
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// The port with implicit TLS.
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// The self-signed certificate (PEM), to trust.
    pub fn ca_file(&self) -> PathBuf {
        self.directory.path().join("tls.crt")
    }

    pub fn password(&self, user: &str) -> Secret<String> {
        Secret::new(password_of(user))
    }

    /// The user's Maildir++ root.
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.directory.path().join("home").join(user).join("Maildir")
    }

    /// A source configuration for `user` on the port of `security`, trusting
    /// [`TestDovecot::ca_file`].
    pub fn source_config(&self, user: &str, security: Security) -> ImapSourceConfig {
        let port = match security {
            Security::StartTls => self.imap_port,
            Security::ImplicitTls => self.imaps_port,
        };
        let mut config = ImapSourceConfig::new("127.0.0.1", port, security, user, self.password(user));
        config.ca_file = self.ca_file();
        config.timeout = Duration::from_secs(10);
        // Small batches, so that a test crosses batch boundaries.
        config.batch_messages = 2;
        config
    }

    /// Creates the folders the messages name and appends the messages, in order,
    /// over plain IMAP on the loopback port.
    ///
    /// # Panics
    /// On any refusal by the server.
    pub fn append(&self, user: &str, messages: &[TestMessage]) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port))
                .await
                .expect("connect");
            let mut client = async_imap::Client::new(tcp);
            client.read_response().await.expect("greeting");
            let mut session = client
                .login(user, password_of(user))
                .await
                .map_err(|(error, _)| error)
                .expect("LOGIN");
            let mut created: Vec<&str> = vec!["INBOX"];
            for message in messages {
                let wire = congvu_imap::codec::mutf7::encode(&message.folder);
                if !created.contains(&message.folder.as_str()) {
                    session.create(&wire).await.expect("CREATE");
                    created.push(&message.folder);
                }
                let date = chrono::DateTime::from_timestamp(message.internal_date, 0)
                    .expect("a date")
                    .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("+0700"))
                    .format("\"%d-%b-%Y %H:%M:%S %z\"")
                    .to_string();
                let flags = format!("({})", message.flags.join(" "));
                session
                    .append(&wire, Some(&flags), Some(&date), &message.bytes)
                    .await
                    .expect("APPEND");
            }
            session.logout().await.expect("LOGOUT");
        });
    }
}

fn password_of(user: &str) -> String {
    format!("pass-{user}-3380")
}

impl Drop for TestDovecot {
    fn drop(&mut self) {
        let pid_file = self.directory.path().join("run").join("master.pid");
        let Some(pid) = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
        else {
            return;
        };
        let _ = Command::new("kill").arg(pid.to_string()).status();
        let started = Instant::now();
        while Path::new(&format!("/proc/{pid}")).exists() && started.elapsed() < WAIT {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
