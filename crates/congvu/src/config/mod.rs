//! The TOML configuration.
//!
//! `config/congvu.toml` is the commented example and, embedded in the binary, the
//! default used when no `--config` is given: the two can never drift apart. Every
//! section denies unknown keys, and [`Config::parse`] reports every error it finds at
//! once (each section is read on its own, then the whole is checked), so an operator
//! fixes a broken file in one pass.
//!
//! Paths in the file are relative to the working directory, except
//! `[compliance] holidays_file`, which is relative to the configuration file's own
//! directory: the example names its sibling `holidays.toml`, and the two are installed
//! together (the built-in default carries the shipped holidays file embedded alike).

pub mod directory;
pub mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::size::ByteSize;

/// The built-in default configuration: the commented example, byte for byte.
pub const DEFAULT_TOML: &str = include_str!("../../../../config/congvu.toml");

/// The holidays file the built-in default names (`holidays_file = "holidays.toml"`,
/// the sibling of `config/congvu.toml`), embedded alike.
pub const DEFAULT_HOLIDAYS_TOML: &str = include_str!("../../../../config/holidays.toml");

/// The default of `[retention] events_days`: two years of mail and access events.
pub const DEFAULT_EVENTS_DAYS: u32 = 730;

#[derive(Clone, Debug)]
pub struct Config {
    pub server: Server,
    pub domain: DomainSection,
    pub listeners: Listeners,
    pub tls: Tls,
    pub log: Log,
    pub quota: Quota,
    pub smtp: congvu_smtp::SmtpConfig,
    pub imap: congvu_imap::ImapConfig,
    /// `[queue]`: outbound retry schedule and connection limits.
    pub queue: congvu_relay::QueueConfig,
    /// `[[routes]]`: next hops that replace MX lookup for some domains.
    pub routes: Vec<congvu_relay::Route>,
    /// `[dkim]`: domains whose outbound mail is signed.
    pub dkim: congvu_relay::DkimConfig,
    /// `[policy]`: Decision 3380's rules on message content (Art. 6–9).
    pub policy: congvu_policy::PolicyConfig,
    /// `[inbound_auth]`: SPF, DKIM, ARC and DMARC on the MX port.
    pub inbound_auth: congvu_mailauth::InboundAuthConfig,
    /// `[directory]`: deletion retention, late filing (Art. 15.3), API sessions.
    pub directory: directory::DirectorySection,
    /// `[smime]`: the anchors S/MIME signatures are verified against (Art. 11.3).
    pub smime: congvu_smime::SmimeConfig,
    /// `[antivirus]`: virus scanning with clamd (Art. 17.6).
    pub antivirus: congvu_antivirus::AntivirusConfig,
    /// `[store]`: sled (the embedded default) or PostgreSQL, and their settings.
    pub store: store::StoreSection,
    /// `[backup]`: the daily backup's directory, time and number kept (Art. 12.3).
    pub backup: crate::backup::BackupConfig,
    /// `[retention]`: where a mailbox's archive is written before it is purged, and
    /// how long mail and access events are kept.
    pub retention: Retention,
    /// `[compliance]`: check windows, working days and hours (Art. 10, 16.2.a).
    pub compliance: congvu_report::ComplianceSettings,
    /// The working calendar of `[compliance]` with its holidays file, read at load.
    pub calendar: congvu_report::Calendar,
}

/// Where a relative `holidays_file` is looked for.
#[derive(Clone, Copy, Debug)]
enum HolidaysBase<'a> {
    /// The built-in default: its `holidays.toml` is [`DEFAULT_HOLIDAYS_TOML`].
    Embedded,
    /// The directory of the configuration file.
    Dir(&'a Path),
}

/// `[retention]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Directory of the archives written before a purge (Art. 6.3, 13); none means
    /// `data_dir/archive`.
    pub archive_dir: Option<PathBuf>,
    /// Days the mail events, access events and acknowledged acknowledgement records
    /// are kept for the reports (issue 14); 730, two years. 0 keeps them forever.
    pub events_days: u32,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            archive_dir: None,
            events_days: DEFAULT_EVENTS_DAYS,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// The name this server gives itself in SMTP greetings and Received headers.
    pub hostname: String,
    /// Where the metadata database, message blobs, TLS material, admin token and lock
    /// file live. Relative paths are relative to the working directory.
    pub data_dir: PathBuf,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSection {
    /// The mail domain of the province (Art. 3: `<name>@thanhhoa.gov.vn`).
    pub primary: String,
    /// The mailbox `postmaster@` every local domain reaches (RFC 5321 §4.5.1); unset:
    /// the first agency mailbox created (the Provincial Office's, created at setup).
    #[serde(default)]
    pub postmaster: Option<String>,
}

/// Listening addresses. A listener left out of the file is not started.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listeners {
    pub smtp: Option<SocketAddr>,
    pub submission: Option<SocketAddr>,
    pub submissions: Option<SocketAddr>,
    pub imap: Option<SocketAddr>,
    pub imaps: Option<SocketAddr>,
    pub admin: Option<SocketAddr>,
    /// HTTPS for client autoconfiguration (Thunderbird autoconfig, Outlook
    /// autodiscover); public on 443 in deployment.
    #[serde(default)]
    pub https: Option<SocketAddr>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// PEM certificate chain. With `key`; when both are absent a self-signed
    /// certificate for `server.hostname` is generated into data_dir at first start.
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
    /// A tracing filter (`info`, `congvu_smtp=debug,info`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for Log {
    fn default() -> Log {
        Log {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// Default mailbox quotas (Art. 9.1: at least 500 MB agency, 100 MB personal).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quota {
    pub agency: ByteSize,
    pub personal: ByteSize,
}

impl Default for Quota {
    fn default() -> Quota {
        Quota {
            agency: ByteSize(500 << 20),
            personal: ByteSize(100 << 20),
        }
    }
}

/// Every problem found in a configuration file.
#[derive(Debug)]
pub struct ConfigErrors {
    pub origin: String,
    pub errors: Vec<String>,
}

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} error(s) in configuration {}:",
            self.errors.len(),
            self.origin
        )?;
        for error in &self.errors {
            writeln!(f, "  - {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

const SECTIONS: [&str; 20] = [
    "server",
    "domain",
    "listeners",
    "tls",
    "log",
    "quota",
    "smtp",
    "imap",
    "queue",
    "routes",
    "dkim",
    "policy",
    "inbound_auth",
    "directory",
    "smime",
    "antivirus",
    "store",
    "backup",
    "retention",
    "compliance",
];

/// Reads one section; missing optional sections take their default.
fn section<T: serde::de::DeserializeOwned>(
    table: &toml::Table,
    name: &str,
    default: Option<T>,
    errors: &mut Vec<String>,
) -> Option<T> {
    match table.get(name) {
        Some(value) => match value.clone().try_into::<T>() {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                errors.push(format!("[{name}]: {}", error.message().trim()));
                None
            }
        },
        None if default.is_some() => default,
        None => {
            errors.push(format!("[{name}]: section is required"));
            None
        }
    }
}

impl Config {
    /// The embedded default.
    pub fn embedded() -> Config {
        Config::parse_with(DEFAULT_TOML, "(built-in default)", HolidaysBase::Embedded)
            .unwrap_or_else(|e| unreachable!("the embedded default config is tested: {e}"))
    }

    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigErrors {
            origin: origin.clone(),
            errors: vec![format!("cannot read the file: {e}")],
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Config::parse_with(&text, &origin, HolidaysBase::Dir(dir))
    }

    /// Parses a configuration whose relative `holidays_file` is in the working
    /// directory (the tests' texts).
    #[cfg(test)]
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigErrors> {
        Config::parse_with(text, origin, HolidaysBase::Dir(Path::new(".")))
    }

    fn parse_with(text: &str, origin: &str, base: HolidaysBase<'_>) -> Result<Config, ConfigErrors> {
        let fail = |errors| ConfigErrors {
            origin: origin.to_owned(),
            errors,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| fail(vec![format!("TOML syntax: {}", e.to_string().trim())]))?;
        let mut errors = Vec::new();
        for key in table.keys().filter(|k| !SECTIONS.contains(&k.as_str())) {
            errors.push(format!(
                "unknown section or key `{key}` (known sections: {})",
                SECTIONS.join(", ")
            ));
        }
        let server = section::<Server>(&table, "server", None, &mut errors);
        let domain = section::<DomainSection>(&table, "domain", None, &mut errors);
        let listeners = section(&table, "listeners", Some(Listeners::default()), &mut errors);
        let tls = section(&table, "tls", Some(Tls::default()), &mut errors);
        let log = section(&table, "log", Some(Log::default()), &mut errors);
        let quota = section(&table, "quota", Some(Quota::default()), &mut errors);
        let smtp = section(
            &table,
            "smtp",
            Some(congvu_smtp::SmtpConfig::default()),
            &mut errors,
        );
        let imap = section(
            &table,
            "imap",
            Some(congvu_imap::ImapConfig::default()),
            &mut errors,
        );

        if let Some(server) = &server
            && (server.hostname.trim().is_empty() || server.hostname.contains(char::is_whitespace))
        {
            errors.push("[server] hostname: must be a host name without spaces".to_owned());
        }
        if let Some(domain) = &domain
            && let Err(e) = domain.primary.parse::<congvu_policy::address::Domain>()
        {
            errors.push(format!("[domain] primary: {e}"));
        }
        if let Some(tls) = &tls
            && tls.cert.is_some() != tls.key.is_some()
        {
            errors.push("[tls]: give both `cert` and `key`, or neither".to_owned());
        }
        if let Some(listeners) = &listeners {
            let all = [
                ("smtp", listeners.smtp),
                ("submission", listeners.submission),
                ("submissions", listeners.submissions),
                ("imap", listeners.imap),
                ("imaps", listeners.imaps),
                ("admin", listeners.admin),
                ("https", listeners.https),
            ];
            for (i, (name, addr)) in all.iter().enumerate() {
                // Port 0 asks the OS for any free port: several listeners may do so.
                if let Some(addr) = addr
                    && addr.port() != 0
                    && let Some((other, _)) = all[..i].iter().find(|(_, a)| *a == Some(*addr))
                {
                    errors.push(format!("[listeners] {name}: {addr} is already used by `{other}`"));
                }
            }
        }
        if let Some(quota) = &quota {
            for (name, size) in [("agency", quota.agency), ("personal", quota.personal)] {
                if size.0 == 0 {
                    errors.push(format!("[quota] {name}: must be larger than zero"));
                }
            }
        }

        let queue = section(
            &table,
            "queue",
            Some(congvu_relay::QueueConfig::default()),
            &mut errors,
        );
        let routes = section::<Vec<congvu_relay::Route>>(&table, "routes", Some(Vec::new()), &mut errors);
        let dkim = section(
            &table,
            "dkim",
            Some(congvu_relay::DkimConfig::default()),
            &mut errors,
        );
        let policy = section(
            &table,
            "policy",
            Some(congvu_policy::PolicyConfig::default()),
            &mut errors,
        );
        let inbound_auth = section(
            &table,
            "inbound_auth",
            Some(congvu_mailauth::InboundAuthConfig::default()),
            &mut errors,
        );
        for problem in inbound_auth.iter().flat_map(|c| c.problems()) {
            errors.push(format!("[inbound_auth] {problem}"));
        }
        let directory = section(
            &table,
            "directory",
            Some(directory::DirectorySection::default()),
            &mut errors,
        );
        let smime = section(
            &table,
            "smime",
            Some(congvu_smime::SmimeConfig::default()),
            &mut errors,
        );
        let antivirus = section(
            &table,
            "antivirus",
            Some(congvu_antivirus::AntivirusConfig::default()),
            &mut errors,
        );
        let store = section(&table, "store", Some(store::StoreSection::default()), &mut errors);
        if let Some(store) = &store {
            errors.extend(store.problems());
        }
        let backup = section(
            &table,
            "backup",
            Some(crate::backup::BackupConfig::default()),
            &mut errors,
        );
        if let Some(Err(problem)) = backup.as_ref().map(crate::backup::BackupConfig::minute_of_day) {
            errors.push(problem);
        }
        if let (Some(store), Some(backup)) = (&store, &backup)
            && store.backend == store::Backend::Postgres
            && backup.dir.is_some()
        {
            errors.push(
                "[backup] dir: trên PostgreSQL, sao lưu bằng pg_basebackup / on PostgreSQL, back up with \
                 pg_basebackup and WAL archiving (docs/scale-out.md)"
                    .to_owned(),
            );
        }
        let retention = section(&table, "retention", Some(Retention::default()), &mut errors);
        let compliance = section(
            &table,
            "compliance",
            Some(congvu_report::ComplianceSettings::default()),
            &mut errors,
        );
        let calendar = compliance
            .as_ref()
            .and_then(|settings| match calendar(settings, base) {
                Ok(calendar) => Some(calendar),
                Err(problem) => {
                    errors.push(problem);
                    None
                }
            });
        for problem in antivirus.iter().flat_map(|c| c.problems()) {
            errors.push(format!("[antivirus] {problem}"));
        }
        if let Some(directory) = &directory
            && directory.session_hours == 0
        {
            errors.push("[directory] session_hours: must be larger than zero".to_owned());
        }
        for (index, route) in routes.iter().flatten().enumerate() {
            if congvu_relay::route::split_host_port(&route.next_hop).is_none() {
                errors.push(format!(
                    "[[routes]] #{index}: next_hop {:?} is not host:port",
                    route.next_hop
                ));
            }
            if route.domains.is_empty() {
                errors.push(format!("[[routes]] #{index}: domains is empty"));
            }
            if route.auth_user.is_some() != route.auth_password_file.is_some() {
                errors.push(format!(
                    "[[routes]] #{index}: give auth_user and auth_password_file together"
                ));
            }
        }
        if let Some(dkim) = &dkim
            && !dkim.domains.is_empty()
            && dkim.selector.trim().is_empty()
        {
            errors.push("[dkim]: domains need a selector".to_owned());
        }

        match (server, domain, listeners, tls, log, quota, smtp, imap, calendar) {
            (
                Some(server),
                Some(domain),
                Some(listeners),
                Some(tls),
                Some(log),
                Some(quota),
                Some(smtp),
                Some(imap),
                Some(calendar),
            ) if errors.is_empty() => Ok(Config {
                server,
                domain,
                listeners,
                tls,
                log,
                quota,
                smtp,
                imap,
                // Each of these pushed an error when it did not parse.
                queue: queue.unwrap_or_default(),
                routes: routes.unwrap_or_default(),
                dkim: dkim.unwrap_or_default(),
                policy: policy.unwrap_or_default(),
                inbound_auth: inbound_auth.unwrap_or_default(),
                directory: directory.unwrap_or_default(),
                smime: smime.unwrap_or_default(),
                antivirus: antivirus.unwrap_or_default(),
                store: store.unwrap_or_default(),
                backup: backup.unwrap_or_default(),
                retention: retention.unwrap_or_default(),
                compliance: compliance.unwrap_or_default(),
                calendar,
            }),
            _ => Err(fail(errors)),
        }
    }
}

/// The working calendar of `[compliance]`: its settings checked, its holidays file read
/// (relative to `base`) and parsed. The error is the configuration problem's line,
/// Vietnamese first.
fn calendar(
    settings: &congvu_report::ComplianceSettings,
    base: HolidaysBase<'_>,
) -> Result<congvu_report::Calendar, String> {
    let holidays = match (&settings.holidays_file, base) {
        (None, _) => congvu_report::Holidays::default(),
        (Some(path), base) => {
            let (text, shown) = match base {
                HolidaysBase::Embedded if path.is_relative() => (
                    DEFAULT_HOLIDAYS_TOML.to_owned(),
                    "config/holidays.toml (built in)".to_owned(),
                ),
                HolidaysBase::Embedded => (read_holidays(path)?, path.display().to_string()),
                HolidaysBase::Dir(dir) => {
                    let full = dir.join(path);
                    (read_holidays(&full)?, full.display().to_string())
                }
            };
            congvu_report::Holidays::parse(&text)
                .map_err(|error| format!("[compliance] holidays_file {shown}: {error}"))?
        }
    };
    congvu_report::Calendar::new(settings, holidays).map_err(|error| format!("[compliance]: {error}"))
}

fn read_holidays(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| {
        format!(
            "[compliance] holidays_file {}: không đọc được tệp ngày nghỉ / cannot read the holidays file: {error}",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses_with_the_contract_values() {
        let config = Config::embedded();
        assert_eq!(config.server.hostname, "mail.thanhhoa.gov.vn");
        assert_eq!(config.server.data_dir, PathBuf::from("./data"));
        assert_eq!(config.domain.primary, "thanhhoa.gov.vn");
        assert_eq!(config.listeners.smtp, Some("127.0.0.1:2525".parse().unwrap()));
        assert_eq!(
            config.listeners.submission,
            Some("127.0.0.1:2587".parse().unwrap())
        );
        assert_eq!(
            config.listeners.submissions,
            Some("127.0.0.1:2465".parse().unwrap())
        );
        assert_eq!(config.listeners.imap, Some("127.0.0.1:2143".parse().unwrap()));
        assert_eq!(config.listeners.imaps, Some("127.0.0.1:2993".parse().unwrap()));
        assert_eq!(config.listeners.admin, Some("127.0.0.1:2080".parse().unwrap()));
        assert_eq!(config.quota.agency, ByteSize(500 << 20));
        assert_eq!(config.quota.personal, ByteSize(100 << 20));
    }

    /// The numbers written in the commented example are the code's defaults: the
    /// example documents what a missing key means.
    #[test]
    fn documented_protocol_limits_are_the_defaults() {
        let config = Config::embedded();
        assert_eq!(config.smtp, congvu_smtp::SmtpConfig::default());
        assert_eq!(config.imap, congvu_imap::ImapConfig::default());
        assert_eq!(config.queue, congvu_relay::QueueConfig::default());
        assert_eq!(config.inbound_auth, congvu_mailauth::InboundAuthConfig::default());
        assert_eq!(config.backup, crate::backup::BackupConfig::default());
        assert_eq!(config.retention, Retention::default());
        assert_eq!(config.retention.events_days, 730);
        assert_eq!(
            config.compliance,
            congvu_report::ComplianceSettings {
                holidays_file: Some(PathBuf::from("holidays.toml")),
                ..congvu_report::ComplianceSettings::default()
            }
        );
    }

    /// The built-in default reads the shipped holidays file: New Year's Day 2026 is off,
    /// the make-up Saturday 10 January is worked.
    #[test]
    fn embedded_default_has_the_shipped_holidays() {
        let calendar = Config::embedded().calendar;
        let date = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert!(!calendar.is_working_day(date(1, 1)));
        assert!(calendar.is_working_day(date(1, 10)));
        assert!(calendar.is_working_day(date(1, 5)));
    }

    /// A relative holidays file is the config file's sibling; a missing or broken one
    /// is a configuration error naming it, Vietnamese first.
    #[test]
    fn holidays_file_is_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("congvu.toml");
        let text = format!(
            "{}\n[compliance]\nholidays_file = \"days.toml\"\n",
            DEFAULT_TOML.split("[compliance]").next().unwrap()
        );
        std::fs::write(&config_path, &text).unwrap();
        let missing = Config::load(&config_path).unwrap_err().errors.join("\n");
        assert!(
            missing.contains("không đọc được tệp ngày nghỉ / cannot read"),
            "{missing}"
        );
        assert!(missing.contains(&dir.path().join("days.toml").display().to_string()));

        std::fs::write(dir.path().join("days.toml"), "[[holiday]]\ndate = \"2026-01-05\"\nname = \"x\"\n[[holiday]]\ndate = \"2026-01-05\"\nname = \"y\"\n").unwrap();
        let twice = Config::load(&config_path).unwrap_err().errors.join("\n");
        assert!(twice.contains("2026-01-05"), "{twice}");

        std::fs::write(
            dir.path().join("days.toml"),
            "[[holiday]]\ndate = \"2026-01-05\"\nname = \"x\"\n",
        )
        .unwrap();
        let calendar = Config::load(&config_path).unwrap().calendar;
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert!(!calendar.is_working_day(monday));
        assert!(calendar.is_working_day(monday.succ_opt().unwrap()));
    }

    #[test]
    fn deploy_example_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/congvu.toml");
        let config = Config::load(&path).expect("deploy example parses");
        assert_eq!(config.listeners.smtp.map(|a| a.port()), Some(25));
        assert_eq!(config.listeners.imaps.map(|a| a.port()), Some(993));
        assert!(config.backup.dir.is_some(), "production backs up daily");
        // Production counts public holidays: New Year's Day 2026 is not a working day.
        let new_year = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(!config.calendar.is_working_day(new_year));
    }

    #[test]
    fn reports_every_error_at_once() {
        let text = r#"
            bogus = 1
            [server]
            hostname = "mail example"
            data_dir = "/tmp/x"
            colour = "blue"
            [domain]
            primary = "not a domain"
            [listeners]
            smtp = "127.0.0.1:25"
            imap = "127.0.0.1:25"
            [tls]
            cert = "/etc/cert.pem"
            [quota]
            personal = "lots"
        "#;
        let errors = Config::parse(text, "test").unwrap_err().errors;
        let joined = errors.join("\n");
        for needle in ["bogus", "colour", "primary", "already used", "[tls]", "[quota]"] {
            assert!(joined.contains(needle), "missing {needle:?} in:\n{joined}");
        }
    }

    #[test]
    fn syntax_errors_are_reported_with_origin() {
        let error = Config::parse("[server", "file.toml").unwrap_err();
        assert!(error.to_string().contains("file.toml"));
        assert!(error.errors[0].starts_with("TOML syntax"));
    }
}
