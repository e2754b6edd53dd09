//! `congvu directory …` and `congvu request …`: the directory (Danh bạ) and the forms
//! 01/02/03 workflow from the command line. Each command is one or more admin API
//! calls (see `cli.rs`), so the CLI and the API can never disagree.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use serde_json::{Value, json};

use congvu_directory::import::{ImportReport, Status};
use congvu_directory::request::Request;
use congvu_directory::{AccountRecord, AuditEntry, CredentialCacheSettings, Settings, ThrottleLimits};

use crate::admin::Purged;
use crate::cli::{Call, CliError, execute, execute_text as text, segment};
use crate::config::Config;

/// Rows applied per API call during an import: the progress bar's step.
const IMPORT_BATCH_ROWS: usize = 2000;

/// `[directory]` in the configuration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectorySection {
    /// Days a deleted mailbox keeps its mail and can be restored before it is purged.
    pub retention_days: u32,
    /// Art. 15.3: requests filed more than this many days after the personnel decision
    /// took effect are flagged late.
    pub late_filing_days: u32,
    /// Lifetime of an admin API session (`POST /api/v1/login`).
    pub session_hours: u32,
    /// Failed logins (SMTP AUTH, IMAP, admin API together) of one login from one
    /// client address before that pair is refused until the window ends.
    pub failed_logins_per_login: u32,
    /// Failed logins of any logins from one client address (IPv6: per /64).
    pub failed_logins_per_address: u32,
    /// The window those counts are kept over.
    pub failed_login_window_minutes: u32,
    /// How long a verified password is taken again without Argon2 (the credential
    /// cache); 0 turns the cache off.
    pub credential_cache_secs: u64,
    /// Verified credentials kept at most (about 100 bytes each); 0 turns it off.
    pub credential_cache_entries: usize,
    /// Password checks (Argon2, 19 MiB each) running at once; 0: one per core, at
    /// most 4.
    pub password_checks: usize,
}

impl Default for DirectorySection {
    fn default() -> DirectorySection {
        let defaults = Settings::default();
        DirectorySection {
            retention_days: defaults.retention_days,
            late_filing_days: defaults.late_filing_days,
            session_hours: (defaults.session_seconds / 3600) as u32,
            failed_logins_per_login: defaults.login_throttle.per_login,
            failed_logins_per_address: defaults.login_throttle.per_address,
            failed_login_window_minutes: (defaults.login_throttle.window.as_secs() / 60) as u32,
            credential_cache_secs: CredentialCacheSettings::default().ttl.as_secs(),
            credential_cache_entries: CredentialCacheSettings::default().entries,
            password_checks: 0,
        }
    }
}

/// The credential cache from the configuration.
pub fn credential_cache(config: &Config) -> CredentialCacheSettings {
    CredentialCacheSettings {
        ttl: std::time::Duration::from_secs(config.directory.credential_cache_secs),
        entries: config.directory.credential_cache_entries,
    }
}

/// Password checks at once from the configuration.
pub fn password_checks(config: &Config) -> usize {
    match config.directory.password_checks {
        0 => congvu_directory::default_password_checks(),
        n => n,
    }
}

/// The directory's settings from the configuration.
pub fn settings(config: &Config) -> Settings {
    Settings {
        postmaster: config.domain.postmaster.clone(),
        retention_days: config.directory.retention_days,
        late_filing_days: config.directory.late_filing_days,
        session_seconds: i64::from(config.directory.session_hours) * 3600,
        login_throttle: ThrottleLimits {
            per_login: config.directory.failed_logins_per_login,
            per_address: config.directory.failed_logins_per_address,
            window: Duration::from_secs(u64::from(config.directory.failed_login_window_minutes) * 60),
        },
    }
}

#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// Import agencies and officials from CSV (dry run unless --apply).
    Import {
        file: PathBuf,
        /// Commit the rows (without it nothing is written).
        #[arg(long)]
        apply: bool,
    },
    /// Export the directory to standard output.
    Export {
        /// csv, vcard or ldif.
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        agency: Option<String>,
    },
    /// Search names, addresses, positions and departments; accents optional.
    Search { text: String },
    /// Purge deleted mailboxes whose retention period is over.
    Purge,
    /// Restore a deleted mailbox before its purge.
    Restore { address: String },
    /// Disable (no login, no delivery) or re-enable a mailbox.
    Disable {
        address: String,
        #[arg(long)]
        enable: bool,
    },
    /// Give an account a role: official, operator, head, administrator.
    Role { address: String, role: String },
    /// Add an alias address delivering to a mailbox.
    Alias { alias: String, target: String },
    /// Delegate an agency mailbox to a clerk of the agency (Art. 16.1).
    Delegate {
        agency: String,
        delegate: String,
        /// The written delegation's number and date.
        #[arg(long)]
        document: Option<String>,
        /// RFC 4314 rights on the agency's folders (default lrswipkxte, all but `a`);
        /// e.g. `lrs` to read only.
        #[arg(long)]
        rights: Option<String>,
        /// Do not let the clerk send as the agency address.
        #[arg(long)]
        no_send_as: bool,
        /// Withdraw the grant instead.
        #[arg(long)]
        revoke: bool,
    },
    /// The audit log (newest last).
    Audit {
        #[arg(long)]
        request: Option<u64>,
    },
    /// A mailbox's access events for the Art. 10 check (logins, agency INBOX
    /// selections): time, kind, login, client address, protocol.
    Access { address: String },
}

#[derive(Subcommand)]
pub enum RequestCommand {
    /// File a request (Mẫu 01/02/03) from a JSON file ("-" for standard input).
    File {
        file: PathBuf,
        /// Submit it right away.
        #[arg(long)]
        submit: bool,
    },
    Submit {
        id: u64,
    },
    /// Approve and apply every line at once.
    Approve {
        id: u64,
    },
    Reject {
        id: u64,
        #[arg(long)]
        reason: String,
    },
    Show {
        id: u64,
    },
    /// The printable form (HTML) on standard output.
    Form {
        id: u64,
    },
    List {
        #[arg(long)]
        agency: Option<String>,
        /// draft, submitted, applied or rejected.
        #[arg(long)]
        state: Option<String>,
        /// Only requests filed late (Art. 15.3).
        #[arg(long)]
        late: bool,
    },
}

fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Protocol(e.to_string()))?;
    println!("{text}");
    Ok(())
}

pub fn directory(config: &Config, command: DirectoryCommand) -> Result<(), CliError> {
    match command {
        DirectoryCommand::Import { file, apply } => import(config, &file, apply),
        DirectoryCommand::Export { format, agency } => {
            let mut path = format!("/api/v1/directory/export?format={}", segment(&format));
            if let Some(agency) = agency {
                path.push_str(&format!("&agency={}", segment(&agency)));
            }
            let body = text(config, Call::get(path))?;
            std::io::stdout()
                .write_all(&body)
                .map_err(|e| CliError::Usage(format!("cannot write standard output: {e}")))
        }
        DirectoryCommand::Search { text } => {
            let found: Vec<AccountRecord> = execute(
                config,
                Call::get(format!("/api/v1/directory/search?q={}&limit=200", segment(&text))),
            )?;
            for record in found {
                println!(
                    "{}\t{}\t{}\t{}",
                    record.address,
                    record.display_name,
                    record.position.as_deref().unwrap_or("-"),
                    record.agency
                );
            }
            Ok(())
        }
        DirectoryCommand::Purge => {
            let purged: Purged = execute(config, Call::post("/api/v1/directory/purge", json!({})))?;
            for address in &purged.purged {
                println!("{address}");
            }
            eprintln!("{} mailbox(es) purged", purged.purged.len());
            Ok(())
        }
        DirectoryCommand::Restore { address } => {
            let record: AccountRecord = execute(
                config,
                Call::post(
                    format!("/api/v1/accounts/{}/restore", segment(&address)),
                    json!({}),
                ),
            )?;
            println!("{} restored", record.address);
            Ok(())
        }
        DirectoryCommand::Disable { address, enable } => {
            let record: AccountRecord = execute(
                config,
                Call::put(
                    format!("/api/v1/accounts/{}/disabled", segment(&address)),
                    json!({"disabled": !enable}),
                ),
            )?;
            println!(
                "{} {}",
                record.address,
                if record.disabled { "disabled" } else { "enabled" }
            );
            Ok(())
        }
        DirectoryCommand::Role { address, role } => {
            let record: AccountRecord = execute(
                config,
                Call::put(
                    format!("/api/v1/accounts/{}/role", segment(&address)),
                    json!({"role": role}),
                ),
            )?;
            println!("{} is now {:?}", record.address, record.role);
            Ok(())
        }
        DirectoryCommand::Alias { alias, target } => {
            let record: AccountRecord = execute(
                config,
                Call::post("/api/v1/aliases", json!({"alias": alias, "target": target})),
            )?;
            println!("{alias} → {}", record.address);
            Ok(())
        }
        DirectoryCommand::Delegate {
            agency,
            delegate,
            document,
            rights,
            no_send_as,
            revoke,
        } => {
            if revoke {
                let call = Call {
                    method: axum::http::Method::DELETE,
                    path: format!("/api/v1/delegations/{}/{}", segment(&agency), segment(&delegate)),
                    body: None,
                };
                let _: Value = execute(config, call)?;
                eprintln!("delegation of {agency} to {delegate} revoked");
                Ok(())
            } else {
                let grant: Value = execute(
                    config,
                    Call::post(
                        "/api/v1/delegations",
                        json!({
                            "agency": agency,
                            "delegate": delegate,
                            "document": document,
                            "rights": rights,
                            "send_as": !no_send_as,
                        }),
                    ),
                )?;
                print_json(&grant)
            }
        }
        DirectoryCommand::Audit { request } => {
            let path = match request {
                Some(id) => format!("/api/v1/audit?request={id}&limit=10000"),
                None => "/api/v1/audit?limit=10000".to_owned(),
            };
            let entries: Vec<AuditEntry> = execute(config, Call::get(path))?;
            for e in entries {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    e.at,
                    e.actor,
                    e.action,
                    e.subject,
                    e.request.map(|r| r.to_string()).unwrap_or_default(),
                    e.detail
                );
            }
            Ok(())
        }
        DirectoryCommand::Access { address } => {
            let path = format!("/api/v1/access/{}", segment(&address));
            let events: Vec<congvu_store::AccessEvent> = execute(config, Call::get(path))?;
            for e in events {
                println!(
                    "{}\t{:?}\t{}\t{}\t{}",
                    e.at, e.kind, e.login, e.client, e.protocol
                );
            }
            Ok(())
        }
    }
}

/// Dry run over the whole file first (every error and collision is shown before
/// anything is written), then with `--apply` the rows in batches, with progress.
fn import(config: &Config, file: &PathBuf, apply: bool) -> Result<(), CliError> {
    let bytes =
        std::fs::read(file).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    // The API carries JSON text; the directory's parser reports the line of bad UTF-8.
    let csv = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        CliError::Usage(format!("line {line}: not UTF-8 (save the file as \"CSV UTF-8\")"))
    })?;
    let report: ImportReport = execute(
        config,
        Call::post("/api/v1/directory/import", json!({"csv": csv, "apply": false})),
    )?;
    if !apply {
        for o in &report.outcomes {
            let status = match o.status {
                Status::NewAgency => "new agency",
                Status::NewOfficial => "new",
                Status::Exists => "exists",
            };
            match &o.collision {
                Some(c) => println!("{}\t{status}\t{}\tCOLLISION: {c}", o.line, o.address),
                None => println!("{}\t{status}\t{}", o.line, o.address),
            }
        }
    }
    eprintln!(
        "{} rows: {} new agencies, {} new officials ({} collisions), {} already present{}",
        report.rows,
        report.new_agencies,
        report.new_officials,
        report.collisions,
        report.existing,
        if apply {
            ""
        } else {
            " — dry run, nothing written (use --apply)"
        }
    );
    if !apply {
        return Ok(());
    }
    let terminal = std::io::stderr().is_terminal();
    let mut start = 0;
    while start < report.rows {
        let end = (start + IMPORT_BATCH_ROWS).min(report.rows);
        let _: ImportReport = execute(
            config,
            Call::post(
                "/api/v1/directory/import",
                json!({"csv": csv, "apply": true, "start": start, "end": end}),
            ),
        )?;
        start = end;
        if terminal {
            let width = 40;
            let filled = width * start / report.rows.max(1);
            eprint!(
                "\r[{}{}] {start}/{} rows",
                "#".repeat(filled),
                " ".repeat(width - filled),
                report.rows
            );
        }
    }
    if terminal {
        eprintln!();
    }
    eprintln!("applied");
    Ok(())
}

pub fn request(config: &Config, command: RequestCommand) -> Result<(), CliError> {
    let request: Request = match command {
        RequestCommand::File { file, submit } => {
            let mut text = String::new();
            let read = if file.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text)
            } else {
                std::fs::File::open(&file).and_then(|mut f| f.read_to_string(&mut text))
            };
            read.map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
            let body: Value = serde_json::from_str(&text)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let filed: Request = execute(config, Call::post("/api/v1/requests", body))?;
            if submit {
                execute(
                    config,
                    Call::post(format!("/api/v1/requests/{}/submit", filed.id), json!({})),
                )?
            } else {
                filed
            }
        }
        RequestCommand::Submit { id } => execute(
            config,
            Call::post(format!("/api/v1/requests/{id}/submit"), json!({})),
        )?,
        RequestCommand::Approve { id } => execute(
            config,
            Call::post(format!("/api/v1/requests/{id}/approve"), json!({})),
        )?,
        RequestCommand::Reject { id, reason } => execute(
            config,
            Call::post(format!("/api/v1/requests/{id}/reject"), json!({"reason": reason})),
        )?,
        RequestCommand::Show { id } => execute(config, Call::get(format!("/api/v1/requests/{id}")))?,
        RequestCommand::Form { id } => {
            let html = text(config, Call::get(format!("/api/v1/requests/{id}/form")))?;
            return std::io::stdout()
                .write_all(&html)
                .map_err(|e| CliError::Usage(format!("cannot write standard output: {e}")));
        }
        RequestCommand::List { agency, state, late } => {
            let mut query = vec![];
            if let Some(agency) = agency {
                query.push(format!("agency={}", segment(&agency)));
            }
            if let Some(state) = state {
                query.push(format!("state={}", segment(&state)));
            }
            if late {
                query.push("late=true".to_owned());
            }
            let requests: Vec<Request> =
                execute(config, Call::get(format!("/api/v1/requests?{}", query.join("&"))))?;
            for r in requests {
                println!(
                    "{}\tMẫu {}\t{}\t{:?}\teffective {}\tfiled {}{}",
                    r.id,
                    r.form.number(),
                    r.agency,
                    r.state,
                    r.effective_date,
                    r.filing_date.as_deref().unwrap_or("-"),
                    if r.late { "\tLATE" } else { "" }
                );
            }
            return Ok(());
        }
    };
    print_json(&request)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commented example documents the defaults.
    #[test]
    fn documented_defaults() {
        assert_eq!(Config::embedded().directory, DirectorySection::default());
        let settings = settings(&Config::embedded());
        assert_eq!((settings.retention_days, settings.late_filing_days), (90, 10));
        assert_eq!(settings.session_seconds, 8 * 3600);
    }
}
