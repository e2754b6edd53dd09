//! `congvu directory …`: the directory (Danh bạ) from the command line — import,
//! export, search, aliases, roles, account state, delegations, the audit log. Each
//! command is one or more admin API calls (see `client`), so the CLI and the API can
//! never disagree.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{Value, json};

use congvu_directory::import::{ImportReport, Status};
use congvu_directory::{AccountRecord, AuditEntry};

use super::client::{Call, CliError, execute, execute_text as text, print_json, segment};
use crate::config::Config;
use crate::http::admin::Purged;

/// Rows applied per API call during an import: the progress bar's step.
const IMPORT_BATCH_ROWS: usize = 2000;

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
