//! A live IMAP server as a [`Source`]: an agency's old server, read folder by folder.
//!
//! - TLS always: implicit (993, RFC 8314) or STARTTLS (143, RFC 3501 §6.2.1); the
//!   server's certificate is verified against a PEM file of trust roots (the
//!   system's bundle by default, or the agency's own CA), with congvu-relay's
//!   verifier. Then `LOGIN`.
//! - `LIST "" "*"` (with `RETURN (SPECIAL-USE)` when the server advertises
//!   SPECIAL-USE and LIST-EXTENDED, RFC 6154 §5.1), names decoded from modified
//!   UTF-7 (RFC 3501 §5.1.3); `\Noselect` and `\NonExistent` names are skipped.
//! - Per folder: `EXAMINE` (read-only: the source keeps `\Recent` and `\Seen` as they
//!   were), `UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)`, then the bodies with
//!   `UID FETCH <set> BODY.PEEK[]` in batches of at most [`ImapSourceConfig::batch_messages`]
//!   messages and [`ImapSourceConfig::batch_bytes`] bytes, each body handed on as it
//!   arrives (bounded memory: one response at a time).
//! - Every network step is bounded by [`ImapSourceConfig::timeout`].
//!
//! The client is `async-imap` on a private single-thread tokio runtime, so the source
//! is blocking like the others: use it, and drop it, outside async code (in
//! `spawn_blocking`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_imap::imap_proto::{Response, Status};
use async_imap::types::{Fetch, Flag, NameAttribute};
use congvu_directory::Secret;
use congvu_store::{Flags, SpecialUse};
use futures_util::{Stream, StreamExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::{
    Locator, MessageSink, MigrateError, Result, Source, SourceFolder, SourceMessage, io_error, to_crlf,
};

/// The system's trust roots (Debian's `ca-certificates`).
pub const DEFAULT_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How the connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (usually port 993).
    ImplicitTls,
    /// Plain connection upgraded with STARTTLS before login (usually port 143).
    StartTls,
}

/// Where and as whom to read.
#[derive(Clone, Debug)]
pub struct ImapSourceConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    pub password: Secret<String>,
    /// PEM trust roots for the server's certificate; default [`DEFAULT_CA_FILE`].
    pub ca_file: PathBuf,
    /// Bound on each network step (connect, handshake, one response); default 60 s.
    pub timeout: Duration,
    /// Bodies fetched per command, at most; default 100.
    pub batch_messages: usize,
    /// Bytes of bodies fetched per command, at most (a larger message goes alone);
    /// default 16 MiB.
    pub batch_bytes: u64,
}

impl ImapSourceConfig {
    /// A configuration with the defaults above.
    pub fn new(host: &str, port: u16, security: Security, user: &str, password: Secret<String>) -> Self {
        ImapSourceConfig {
            host: host.to_owned(),
            port,
            security,
            user: user.to_owned(),
            password,
            ca_file: PathBuf::from(DEFAULT_CA_FILE),
            timeout: Duration::from_secs(60),
            batch_messages: 100,
            batch_bytes: 16 << 20,
        }
    }
}

/// The password in the first line of `path` (the `--password-file` of `congvu import
/// imap`, a column of `--accounts`); the line end is not part of it.
pub fn read_password(path: &Path) -> Result<Secret<String>> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(MigrateError::Invalid(format!(
            "{}: no password on the first line",
            path.display()
        )));
    }
    Ok(Secret::new(line.to_owned()))
}

type Session = async_imap::Session<TlsStream<TcpStream>>;

/// A logged-in connection to the source server.
pub struct ImapSource {
    runtime: tokio::runtime::Runtime,
    session: Session,
    config: ImapSourceConfig,
}

impl std::fmt::Debug for ImapSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSource")
            .field("host", &self.config.host)
            .field("port", &self.config.port)
            .field("user", &self.config.user)
            .finish_non_exhaustive()
    }
}

fn imap_error(error: async_imap::error::Error) -> MigrateError {
    MigrateError::Imap(error.to_string())
}

/// `step` bounded by `limit`.
async fn within<T>(
    limit: Duration,
    what: &'static str,
    step: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::time::timeout(limit, step)
        .await
        .map_err(|_| MigrateError::Timeout(what))?
}

impl ImapSource {
    /// Connects, protects the connection and logs in.
    pub fn connect(config: ImapSourceConfig) -> Result<ImapSource> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| MigrateError::Imap(format!("runtime: {e}")))?;
        let session = runtime.block_on(login(&config))?;
        tracing::info!(host = %config.host, port = config.port, user = %config.user, "logged in to the source");
        Ok(ImapSource {
            runtime,
            session,
            config,
        })
    }

    /// Says goodbye to the server (`LOGOUT`).
    pub fn logout(mut self) -> Result<()> {
        let limit = self.config.timeout;
        self.runtime.block_on(within(limit, "LOGOUT", async {
            self.session.logout().await.map_err(imap_error)
        }))
    }
}

async fn login(config: &ImapSourceConfig) -> Result<Session> {
    let tls = congvu_relay::client::tls::verifying(&config.ca_file).map_err(MigrateError::Tls)?;
    let connector = TlsConnector::from(Arc::clone(&tls));
    let server_name = ServerName::try_from(config.host.clone())
        .map_err(|_| MigrateError::Invalid(format!("{} is not a host name", config.host)))?;
    let limit = config.timeout;
    let tcp = within(limit, "connect", async {
        TcpStream::connect((config.host.as_str(), config.port))
            .await
            .map_err(|e| MigrateError::Imap(format!("connect to {}:{}: {e}", config.host, config.port)))
    })
    .await?;
    let tcp = match config.security {
        Security::ImplicitTls => tcp,
        Security::StartTls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client, limit).await?;
            within(limit, "STARTTLS", async {
                client
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .map_err(imap_error)
            })
            .await?;
            client.into_inner()
        }
    };
    let stream = within(limit, "TLS handshake", async {
        connector
            .connect(server_name, tcp)
            .await
            .map_err(|e| MigrateError::Tls(e.to_string()))
    })
    .await?;
    let mut client = async_imap::Client::new(stream);
    // After STARTTLS the server sends no second greeting (RFC 3501 §6.2.1).
    if config.security == Security::ImplicitTls {
        greeting(&mut client, limit).await?;
    }
    within(limit, "LOGIN", async {
        client
            .login(&config.user, config.password.expose())
            .await
            .map_err(|(error, _)| MigrateError::Imap(format!("LOGIN as {}: {error}", config.user)))
    })
    .await
}

/// Reads the server's greeting; a `* BYE` greeting (RFC 3501 §7.1.5: the server
/// will not serve us) is an error.
async fn greeting<T>(client: &mut async_imap::Client<T>, limit: Duration) -> Result<()>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let response = within(limit, "greeting", async {
        client
            .read_response()
            .await
            .map_err(|e| MigrateError::Imap(e.to_string()))?
            .ok_or_else(|| MigrateError::Imap("no greeting".into()))
    })
    .await?;
    match response.parsed() {
        Response::Data {
            status: Status::Bye, ..
        } => Err(MigrateError::Imap("the server said BYE".into())),
        _ => Ok(()),
    }
}

/// The next item of a response stream, bounded by `limit`; `None` at the end.
async fn next_within<T>(
    limit: Duration,
    stream: &mut (impl Stream<Item = async_imap::error::Result<T>> + Unpin),
) -> Result<Option<T>> {
    match tokio::time::timeout(limit, stream.next()).await {
        Err(_) => Err(MigrateError::Timeout("IMAP response")),
        Ok(None) => Ok(None),
        Ok(Some(item)) => item.map(Some).map_err(imap_error),
    }
}

fn special_use(attributes: &[NameAttribute<'_>]) -> Option<SpecialUse> {
    attributes.iter().find_map(|attribute| match attribute {
        NameAttribute::Sent => Some(SpecialUse::Sent),
        NameAttribute::Drafts => Some(SpecialUse::Drafts),
        NameAttribute::Trash => Some(SpecialUse::Trash),
        NameAttribute::Junk => Some(SpecialUse::Junk),
        NameAttribute::Archive => Some(SpecialUse::Archive),
        NameAttribute::All => Some(SpecialUse::All),
        NameAttribute::Flagged => Some(SpecialUse::Flagged),
        NameAttribute::Extension(name) => SpecialUse::from_attribute(name),
        _ => None,
    })
}

fn selectable(attributes: &[NameAttribute<'_>]) -> bool {
    !attributes.iter().any(|attribute| match attribute {
        NameAttribute::NoSelect => true,
        NameAttribute::Extension(name) => name.eq_ignore_ascii_case("\\NonExistent"),
        _ => false,
    })
}

/// Courier (and Dovecot with `prefix = INBOX.`) keep every folder under INBOX, a
/// personal namespace prefix (RFC 2342): when every folder but INBOX is below it, the
/// prefix is dropped from the names (`INBOX.Sent` is the Sent folder, not a child of
/// INBOX). The wire names stay as they are.
fn drop_inbox_prefix(folders: &mut [SourceFolder]) {
    let prefix_length = |folder: &SourceFolder| {
        let delimiter = folder.delimiter?;
        let prefix = format!("INBOX{delimiter}");
        let head = folder.name.get(..prefix.len())?;
        (head.eq_ignore_ascii_case(&prefix) && folder.name.len() > prefix.len()).then_some(prefix.len())
    };
    let others = || folders.iter().filter(|f| !f.name.eq_ignore_ascii_case("INBOX"));
    if others().next().is_none() || !others().all(|f| prefix_length(f).is_some()) {
        return;
    }
    for folder in folders.iter_mut() {
        if let Some(length) = prefix_length(folder) {
            folder.name = folder.name.get(length..).unwrap_or_default().to_owned();
        }
    }
}

/// A message's flags and keywords as FETCH FLAGS gave them (`\Recent` dropped).
fn flags_of(fetch: &Fetch) -> (Flags, Vec<String>) {
    let mut flags = Flags::empty();
    let mut keywords: Vec<String> = Vec::new();
    for flag in fetch.flags() {
        let system = match flag {
            Flag::Seen => Flags::SEEN,
            Flag::Answered => Flags::ANSWERED,
            Flag::Flagged => Flags::FLAGGED,
            Flag::Deleted => Flags::DELETED,
            Flag::Draft => Flags::DRAFT,
            Flag::Recent | Flag::MayCreate => Flags::empty(),
            // System flags in another case, and other `\` names (not keywords).
            Flag::Custom(name) if name.starts_with('\\') => Flags::from_name(&name).unwrap_or_default(),
            Flag::Custom(name) => {
                if !keywords.iter().any(|k| k.eq_ignore_ascii_case(&name)) {
                    keywords.push(name.into_owned());
                }
                Flags::empty()
            }
        };
        flags = flags.union(system);
    }
    (flags, keywords)
}

/// What the first FETCH learns of a message.
struct Listed {
    flags: Flags,
    keywords: Vec<String>,
    internal_date: i64,
    internal_date_offset: i32,
    size: u64,
}

impl Source for ImapSource {
    fn folders(&mut self) -> Result<Vec<SourceFolder>> {
        let limit = self.config.timeout;
        let session = &mut self.session;
        self.runtime.block_on(async {
            let capabilities = within(limit, "CAPABILITY", async {
                session.capabilities().await.map_err(imap_error)
            })
            .await?;
            let pattern = if capabilities.has_str("SPECIAL-USE") && capabilities.has_str("LIST-EXTENDED") {
                "\"*\" RETURN (SPECIAL-USE)"
            } else {
                "\"*\""
            };
            let mut names = within(limit, "LIST", async {
                session.list(Some(""), Some(pattern)).await.map_err(imap_error)
            })
            .await?;
            let mut folders = Vec::new();
            while let Some(name) = next_within(limit, &mut names).await? {
                if !selectable(name.attributes()) {
                    continue;
                }
                let wire = name.name().to_owned();
                // A server with UTF8=ACCEPT may send UTF-8 names: those are kept as they are.
                let decoded =
                    congvu_imap::codec::mutf7::decode(wire.as_bytes()).unwrap_or_else(|_| wire.clone());
                folders.push(SourceFolder {
                    name: decoded,
                    delimiter: name.delimiter().and_then(|d| d.chars().next()),
                    special_use: special_use(name.attributes()),
                    locator: Locator::Wire(wire),
                });
            }
            drop_inbox_prefix(&mut folders);
            // INBOX first, then the server's order.
            folders.sort_by_key(|folder| !folder.name.eq_ignore_ascii_case("INBOX"));
            Ok(folders)
        })
    }

    fn read(&mut self, folder: &SourceFolder, sink: &mut dyn MessageSink) -> Result<()> {
        let Locator::Wire(wire) = &folder.locator else {
            return Err(MigrateError::Invalid(format!(
                "{} is not an IMAP folder",
                folder.name
            )));
        };
        let limit = self.config.timeout;
        let (batch_messages, batch_bytes) = (self.config.batch_messages.max(1), self.config.batch_bytes);
        let session = &mut self.session;
        self.runtime.block_on(async {
            let mailbox = within(limit, "EXAMINE", async {
                session.examine(wire).await.map_err(imap_error)
            })
            .await?;
            if mailbox.exists == 0 {
                sink.sized(0, 0);
                return Ok(());
            }
            let mut listed: Vec<(u32, Listed)> = Vec::new();
            {
                let mut fetches = within(limit, "UID FETCH", async {
                    session
                        .uid_fetch("1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE)")
                        .await
                        .map_err(imap_error)
                })
                .await?;
                while let Some(fetch) = next_within(limit, &mut fetches).await? {
                    let Some(uid) = fetch.uid else { continue };
                    let (flags, keywords) = flags_of(&fetch);
                    let date = fetch.internal_date();
                    listed.push((
                        uid,
                        Listed {
                            flags,
                            keywords,
                            internal_date: date.map_or(0, |d| d.timestamp()),
                            internal_date_offset: date.map_or(0, |d| d.offset().local_minus_utc()),
                            size: fetch.size.map_or(0, u64::from),
                        },
                    ));
                }
            }
            listed.sort_by_key(|(uid, _)| *uid);
            listed.dedup_by_key(|(uid, _)| *uid);
            sink.sized(listed.len() as u64, listed.iter().map(|(_, l)| l.size).sum());
            let mut start = 0;
            while start < listed.len() {
                let mut end = start;
                let mut bytes = 0u64;
                while let Some((_, next)) = listed.get(end) {
                    if end > start && (end - start >= batch_messages || bytes + next.size > batch_bytes) {
                        break;
                    }
                    bytes += next.size;
                    end += 1;
                }
                let batch = listed.get(start..end).unwrap_or_default();
                let set: Vec<String> = batch.iter().map(|(uid, _)| uid.to_string()).collect();
                let by_uid: HashMap<u32, &Listed> = batch.iter().map(|(uid, l)| (*uid, l)).collect();
                let mut bodies = within(limit, "UID FETCH BODY.PEEK[]", async {
                    session
                        .uid_fetch(set.join(","), "(UID BODY.PEEK[])")
                        .await
                        .map_err(imap_error)
                })
                .await?;
                while let Some(fetch) = next_within(limit, &mut bodies).await? {
                    // Unsolicited FETCH responses (flag changes) carry no body.
                    let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) else {
                        continue;
                    };
                    let Some(meta) = by_uid.get(&uid) else { continue };
                    sink.message(SourceMessage {
                        bytes: to_crlf(body).into_owned(),
                        flags: meta.flags,
                        keywords: meta.keywords.clone(),
                        internal_date: meta.internal_date,
                        internal_date_offset: meta.internal_date_offset,
                    })?;
                }
                start = end;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_give_special_use_and_selectability() {
        assert_eq!(
            special_use(&[NameAttribute::Marked, NameAttribute::Sent]),
            Some(SpecialUse::Sent)
        );
        assert_eq!(
            special_use(&[NameAttribute::Extension("\\Archive".into())]),
            Some(SpecialUse::Archive)
        );
        assert_eq!(special_use(&[NameAttribute::NoInferiors]), None);
        assert!(!selectable(&[NameAttribute::NoSelect]));
        assert!(!selectable(&[NameAttribute::Extension("\\NonExistent".into())]));
        assert!(selectable(&[NameAttribute::Extension("\\HasChildren".into())]));
    }

    #[test]
    fn a_courier_prefix_is_dropped_only_when_every_folder_has_it() {
        let folder = |name: &str| SourceFolder {
            name: name.to_owned(),
            delimiter: Some('.'),
            special_use: None,
            locator: Locator::Wire(name.to_owned()),
        };
        let names = |folders: Vec<SourceFolder>| folders.into_iter().map(|f| f.name).collect::<Vec<_>>();
        let mut courier = vec![
            folder("INBOX"),
            folder("INBOX.Sent"),
            folder("INBOX.Work.Projects"),
        ];
        drop_inbox_prefix(&mut courier);
        assert_eq!(names(courier.clone()), ["INBOX", "Sent", "Work.Projects"]);
        assert_eq!(courier[1].locator, Locator::Wire("INBOX.Sent".into()));
        let mut dovecot = vec![folder("INBOX"), folder("INBOX.Sub"), folder("Sent")];
        drop_inbox_prefix(&mut dovecot);
        assert_eq!(names(dovecot), ["INBOX", "INBOX.Sub", "Sent"]);
        let mut only_inbox = vec![folder("INBOX")];
        drop_inbox_prefix(&mut only_inbox);
        assert_eq!(names(only_inbox), ["INBOX"]);
    }

    #[test]
    fn the_password_is_the_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "mật khẩu 1\nsecond line\n").unwrap();
        assert_eq!(read_password(&path).unwrap().expose(), "mật khẩu 1");
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(read_password(&path), Err(MigrateError::Invalid(_))));
        assert!(matches!(
            read_password(&dir.path().join("missing")),
            Err(MigrateError::Io { .. })
        ));
    }

    #[test]
    fn a_missing_ca_file_fails_before_connecting() {
        let mut config = ImapSourceConfig::new(
            "127.0.0.1",
            1,
            Security::ImplicitTls,
            "user",
            Secret::new("pw".to_owned()),
        );
        config.ca_file = PathBuf::from("/nonexistent/ca.pem");
        let error = ImapSource::connect(config).unwrap_err();
        assert!(matches!(error, MigrateError::Tls(_)), "{error}");
    }
}
