//! `congvu agency add` and `congvu account add | passwd | quota | list`: agencies
//! and mailboxes from the command line, each an admin API call (see `client`).

use std::io::{BufRead, IsTerminal};

use congvu_directory::AgencyRecord;

use serde_json::Value;

use super::client::{Call, CliError, execute, segment};
use crate::config::Config;
use crate::http::admin::{AccountView, AddedAccount};
use crate::size::ByteSize;

pub fn agency_add(config: &Config, abbr: &str, name: &str, parent: Option<&str>) -> Result<(), CliError> {
    let agency: AgencyRecord = execute(
        config,
        Call::post(
            "/api/v1/agencies",
            serde_json::json!({"abbr": abbr, "name": name, "parent": parent}),
        ),
    )?;
    println!("{}", agency.address);
    Ok(())
}

pub fn account_add(
    config: &Config,
    agency: &str,
    name: &str,
    position: Option<&str>,
    department: Option<&str>,
) -> Result<(), CliError> {
    let added: AddedAccount = execute(
        config,
        Call::post(
            "/api/v1/accounts",
            serde_json::json!({"agency": agency, "name": name, "position": position, "department": department}),
        ),
    )?;
    if let Some(collision) = &added.collision {
        eprintln!(
            "note: {} is already taken; chose {} instead ({})",
            collision.wanted, collision.chosen, collision.explanation
        );
    }
    println!("{}", added.account.record.address);
    Ok(())
}

pub fn account_passwd(config: &Config, address: &str, from_stdin: bool) -> Result<(), CliError> {
    if !from_stdin {
        return Err(CliError::Usage(
            "give the password on standard input with --password-stdin (never on the command line)"
                .to_owned(),
        ));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("new password for {address} (then Enter):");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Usage(format!("cannot read standard input: {e}")))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(CliError::Usage("no password on standard input".to_owned()));
    }
    let _: Value = execute(
        config,
        Call::put(
            format!("/api/v1/accounts/{}/password", segment(address)),
            serde_json::json!({"password": password}),
        ),
    )?;
    eprintln!("password changed for {address}");
    Ok(())
}

pub fn account_quota(config: &Config, address: &str, size: &str) -> Result<(), CliError> {
    let size: ByteSize = size
        .parse()
        .map_err(|e: crate::size::ByteSizeError| CliError::Usage(e.to_string()))?;
    let view: AccountView = execute(
        config,
        Call::put(
            format!("/api/v1/accounts/{}/quota", segment(address)),
            serde_json::json!({"quota": size.to_string()}),
        ),
    )?;
    println!(
        "{} quota {} (used {})",
        view.record.address,
        ByteSize(view.quota_bytes),
        human(view.used_bytes)
    );
    Ok(())
}

pub fn account_list(config: &Config, agency: Option<&str>) -> Result<(), CliError> {
    let path = match agency {
        Some(agency) => format!("/api/v1/accounts?agency={}", segment(agency)),
        None => "/api/v1/accounts".to_owned(),
    };
    let accounts: Vec<AccountView> = execute(config, Call::get(path))?;
    let width = accounts
        .iter()
        .map(|a| a.record.address.len())
        .max()
        .unwrap_or(7)
        .max(7);
    println!(
        "{:<width$}  {:<8}  {:>10}  {:>10}  NAME",
        "ADDRESS", "KIND", "QUOTA", "USED"
    );
    for account in &accounts {
        let kind = match account.record.kind {
            congvu_store::AccountKind::Agency => "agency",
            congvu_store::AccountKind::Personal => "personal",
        };
        println!(
            "{:<width$}  {:<8}  {:>10}  {:>10}  {}{}",
            account.record.address,
            kind,
            ByteSize(account.quota_bytes).to_string(),
            human(account.used_bytes),
            account.record.display_name,
            if account.record.disabled {
                " (disabled)"
            } else {
                ""
            },
        );
    }
    Ok(())
}

/// Usage in the largest unit that keeps one decimal meaningful.
fn human(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")];
    for (size, unit) in UNITS {
        if bytes >= size {
            return format!("{:.1}{unit}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes}B")
}
