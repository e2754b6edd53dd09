//! `congvu backup …` and `congvu check [--repair]`.
//!
//! A backup is a job of the admin API (the running server's, or the router
//! in-process on a stopped server's data directory): only the server may read its
//! database. Verification, listing and restore work on the backup's files alone, so
//! they run here, with or without a server (an off-site copy has none); restore
//! writes a new data directory and is refused into one that holds anything.

use std::path::{Path, PathBuf};

use congvu_store::Progress;
use congvu_store::sled_store::backup;
use serde_json::{Value, json};

use super::client::{Call, CliError, execute, run_job};
use super::progress_bar;
use crate::config::Config;
use crate::size::ByteSize;

pub fn create(config: &Config, dir: Option<&Path>) -> Result<(), CliError> {
    let result = run_job(
        config,
        Call::post("/api/v1/backups", json!({"dir": dir})),
        "sao lưu / backup",
    )?;
    let m = &result["manifest"];
    let count = |v: &Value, key: &str| v[key].as_u64().unwrap_or(0);
    println!(
        "Đã sao lưu / backed up: {} → {}",
        m["name"].as_str().unwrap_or("?"),
        result["dir"].as_str().unwrap_or("?")
    );
    println!(
        "  {} thư / messages, {} tệp nội dung / bodies ({}), {} tệp mới / new ({}), chặn ghi / writers held {} ms, tổng / total {} ms",
        count(m, "messages"),
        count(m, "blobs"),
        ByteSize(count(m, "blob_bytes")),
        count(m, "copied_blobs"),
        ByteSize(count(m, "copied_bytes")),
        count(m, "writers_held_ms"),
        count(m, "duration_ms"),
    );
    let pruned = result["pruned"]["removed_snapshots"]
        .as_array()
        .map_or(0, Vec::len);
    if pruned > 0 {
        println!(
            "  đã xóa {pruned} bản cũ / pruned {pruned} old snapshot(s), {} tệp / bodies",
            count(&result["pruned"], "removed_blobs")
        );
    }
    Ok(())
}

/// Runs here, on the backup's files, whether or not a server runs: a copy kept
/// off-site is verified on a machine that has no server (the admin API's
/// `POST /api/v1/backups/verify` runs the same function).
pub fn verify(config: &Config, dir: Option<&Path>) -> Result<(), CliError> {
    let dir = backup_dir(config, dir)?;
    let progress = Progress::default();
    let report = progress_bar::follow("kiểm tra / verify", &progress, || {
        backup::verify(&dir, &progress)
    })
    .map_err(|e| CliError::Usage(format!("không kiểm tra được / cannot verify: {e}")))?;
    println!(
        "{} tệp nội dung / bodies re-hashed ({})",
        report.blobs,
        ByteSize(report.blob_bytes)
    );
    for damaged in &report.damaged_blobs {
        println!("  hỏng / damaged: {damaged}");
    }
    let mut problems = report.damaged_blobs.len();
    for snapshot in &report.snapshots {
        match (&snapshot.error, &snapshot.check) {
            (Some(error), _) => {
                println!("  {}: {error}", snapshot.name);
                problems += 1;
            }
            (None, Some(check)) => {
                println!(
                    "  {}: {} thư / messages, {} lỗi / problems",
                    snapshot.name,
                    check.messages,
                    check.problems.len()
                );
                for problem in &check.problems {
                    println!("    {}: {}", problem.kind, problem.detail);
                }
                problems += check.problems.len();
            }
            (None, None) => {}
        }
    }
    if report.is_sound() {
        println!("Bản sao lưu nguyên vẹn / the backup is sound");
        Ok(())
    } else {
        Err(CliError::Inconsistent(problems.max(1)))
    }
}

pub fn list(config: &Config, dir: Option<&Path>) -> Result<(), CliError> {
    let dir = backup_dir(config, dir)?;
    let snapshots = backup::snapshots(&dir).map_err(|e| CliError::Usage(e.to_string()))?;
    println!(
        "{:<20}  {:>9}  {:>9}  {:>10}  {:>9}",
        "SNAPSHOT", "MESSAGES", "BODIES", "SIZE", "NEW"
    );
    for m in &snapshots {
        println!(
            "{:<20}  {:>9}  {:>9}  {:>10}  {:>9}",
            m.name,
            m.messages,
            m.blobs,
            ByteSize(m.blob_bytes).to_string(),
            m.copied_blobs
        );
    }
    Ok(())
}

pub fn restore(config: &Config, dir: &Path, data_dir: &Path, snapshot: Option<&str>) -> Result<(), CliError> {
    let progress = Progress::default();
    let report = progress_bar::follow("khôi phục / restore", &progress, || {
        backup::restore(dir, snapshot, data_dir, &config.store.sled(), &progress)
    })
    .map_err(|e| CliError::Usage(format!("không khôi phục được / cannot restore: {e}")))?;
    println!(
        "Đã khôi phục / restored {} → {}: {} bản ghi / records, {} tệp nội dung / bodies ({})",
        report.snapshot,
        data_dir.display(),
        report.records,
        report.blobs,
        ByteSize(report.blob_bytes)
    );
    print_check(&serde_json::to_value(&report.check).unwrap_or_default())
}

fn backup_dir(config: &Config, dir: Option<&Path>) -> Result<PathBuf, CliError> {
    dir.map(Path::to_path_buf)
        .or_else(|| config.backup.dir.clone())
        .ok_or_else(|| CliError::Usage(crate::backup::BackupRefused::NoDirectory.to_string()))
}

/// `congvu check`: the store's consistency check and the directory's cross-check,
/// through the admin API; with `repair`, the repair first.
pub fn check(config: &Config, repair: bool) -> Result<(), CliError> {
    if repair {
        let repaired: Value = execute(config, Call::post("/api/v1/check/repair", json!({})))?;
        let found = repaired["store"]["found"].as_array().map_or(0, Vec::len);
        println!(
            "Đã sửa / repaired: {found} lỗi kho / store problems, {} tệp thừa / orphan bodies, {} tài khoản lưu trữ rỗng / empty storage accounts",
            repaired["store"]["orphans_removed"].as_u64().unwrap_or(0),
            repaired["storage_accounts_removed"].as_u64().unwrap_or(0)
        );
        return print_check(&repaired["after"]);
    }
    let report: Value = execute(config, Call::get("/api/v1/check"))?;
    print_check(&report)
}

fn print_check(report: &Value) -> Result<(), CliError> {
    let count = |key: &str| report[key].as_u64().unwrap_or(0);
    println!(
        "Đã kiểm tra / checked: {} tài khoản / accounts, {} hộp thư / mailboxes, {} thư / messages, \
         {} thư chờ gửi / queued, {} tệp / blobs ({} tệp thừa / orphans)",
        count("accounts"),
        count("mailboxes"),
        count("messages"),
        count("queue_entries"),
        count("blobs"),
        count("orphan_blobs")
    );
    let problems = report["problems"].as_array().cloned().unwrap_or_default();
    for problem in &problems {
        println!(
            "  {}: {}",
            problem["kind"].as_str().unwrap_or("?"),
            problem["detail"].as_str().unwrap_or("")
        );
    }
    if problems.is_empty() {
        println!("Nhất quán / consistent");
        Ok(())
    } else {
        Err(CliError::Inconsistent(problems.len()))
    }
}
