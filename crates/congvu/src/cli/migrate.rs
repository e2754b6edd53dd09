//! `congvu import …` and `congvu export mailbox …`: jobs of the admin API (the
//! running server's, or in-process on a stopped server's data directory), followed
//! with a progress bar; the summary compares each folder, source against target.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::client::{Call, CliError, run_job};
use crate::config::Config;
use crate::size::ByteSize;

/// Where an IMAP import reads from (every option but the account).
pub struct ImapServer<'a> {
    pub host: &'a str,
    pub port: u16,
    pub starttls: bool,
    pub ca_file: Option<&'a Path>,
}

pub fn import_maildir(config: &Config, path: &Path, to: &str, ignore_quota: bool) -> Result<(), CliError> {
    import(config, to, json!({"maildir": absolute(path)}), ignore_quota)
}

pub fn import_mbox(
    config: &Config,
    path: &Path,
    to: &str,
    folder: Option<&str>,
    ignore_quota: bool,
) -> Result<(), CliError> {
    import(
        config,
        to,
        json!({"mbox": {"path": absolute(path), "folder": folder}}),
        ignore_quota,
    )
}

pub fn import_imap(
    config: &Config,
    server: &ImapServer<'_>,
    user: &str,
    password_file: &Path,
    to: &str,
    ignore_quota: bool,
) -> Result<(), CliError> {
    import(
        config,
        to,
        imap_source(server, user, password_file)?,
        ignore_quota,
    )
}

/// `--accounts FILE.csv`: one import per row, in order; a row that fails is
/// reported and the others go on (run again to resume it).
pub fn import_imap_accounts(
    config: &Config,
    server: &ImapServer<'_>,
    accounts: &Path,
    ignore_quota: bool,
) -> Result<(), CliError> {
    let rows = congvu_migrate::read_accounts(accounts).map_err(|e| CliError::Usage(e.to_string()))?;
    let mut failed = Vec::new();
    for row in &rows {
        println!("== {} → {}", row.source_user, row.target_address);
        let imported = imap_source(server, &row.source_user, &row.password_file)
            .and_then(|source| import(config, &row.target_address, source, ignore_quota));
        if let Err(error) = imported {
            eprintln!("lỗi / error (dòng / line {}): {error}", row.line);
            failed.push(row.line);
        }
    }
    if failed.is_empty() {
        println!(
            "Đã chuyển {} hộp thư / {} mailboxes migrated",
            rows.len(),
            rows.len()
        );
        Ok(())
    } else {
        Err(CliError::Job(format!(
            "{} của {} hộp thư lỗi (dòng {failed:?}); chạy lại để tiếp tục / {} of {} mailboxes failed (lines {failed:?}); run again to resume",
            failed.len(),
            rows.len(),
            failed.len(),
            rows.len()
        )))
    }
}

/// The request's source; the password is read here from the operator's file (first
/// line), never given on the command line.
fn imap_source(server: &ImapServer<'_>, user: &str, password_file: &Path) -> Result<Value, CliError> {
    let password =
        congvu_migrate::read_password(password_file).map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(json!({"imap": {
        "host": server.host,
        "port": server.port,
        "security": if server.starttls { "starttls" } else { "tls" },
        "user": user,
        "password": password.expose(),
        "ca_file": server.ca_file.map(absolute),
    }}))
}

/// The server resolves paths in its own working directory: send absolute ones.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn import(config: &Config, to: &str, source: Value, ignore_quota: bool) -> Result<(), CliError> {
    let report = run_job(
        config,
        Call::post(
            "/api/v1/imports",
            json!({"to": to, "source": source, "ignore_quota": ignore_quota}),
        ),
        "nhập / import",
    )?;
    if report["ignored_quota"].as_bool() == Some(true) {
        println!("(không áp dụng hạn mức / the quota was not applied: --ignore-quota)");
    }
    println!(
        "{:<28} {:<20} {:>8} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "NGUỒN / SOURCE", "ĐÍCH / TARGET", "SOURCE", "BYTES", "NEW", "HAD", "QUOTA", "TARGET"
    );
    let count = |folder: &Value, key: &str| folder[key].as_u64().unwrap_or(0);
    let mut over_quota = 0;
    for folder in report["folders"].as_array().into_iter().flatten() {
        over_quota += count(folder, "over_quota");
        println!(
            "{:<28} {:<20} {:>8} {:>10} {:>8} {:>8} {:>8} {:>8}",
            folder["source"].as_str().unwrap_or("?"),
            folder["target"].as_str().unwrap_or("?"),
            count(folder, "source_messages"),
            ByteSize(count(folder, "source_bytes")).to_string(),
            count(folder, "imported"),
            count(folder, "already_present"),
            count(folder, "over_quota"),
            count(folder, "target_messages"),
        );
    }
    if over_quota > 0 {
        return Err(CliError::Job(format!(
            "{over_quota} thư vượt hạn mức, chưa nhập / messages over the quota were not imported (raise the quota, or --ignore-quota)"
        )));
    }
    Ok(())
}

pub fn export(config: &Config, address: &str, format: &str, to: &Path) -> Result<(), CliError> {
    if !matches!(format, "mbox" | "maildir") {
        return Err(CliError::Usage(format!(
            "--format {format}: mbox hoặc / or maildir"
        )));
    }
    let report = run_job(
        config,
        Call::post(
            "/api/v1/exports",
            json!({"address": address, "format": format, "to": absolute(to)}),
        ),
        "xuất / export",
    )?;
    for folder in report["folders"].as_array().into_iter().flatten() {
        println!(
            "{:<24} {:>8} thư / messages {:>10}  {}",
            folder["name"].as_str().unwrap_or("?"),
            folder["messages"].as_u64().unwrap_or(0),
            ByteSize(folder["bytes"].as_u64().unwrap_or(0)).to_string(),
            folder["path"].as_str().unwrap_or("?")
        );
    }
    Ok(())
}
