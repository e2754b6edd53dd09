//! `congvu queue list | show ID | retry ID | delete ID`: the outbound queue, each
//! an admin API call (see `client`).

use axum::http::Method;
use chrono::{TimeZone, Utc};
use congvu_store::QueueEntry;

use super::client::{Call, CliError, execute};
use crate::config::Config;

fn when(unix: i64) -> String {
    Utc.timestamp_opt(unix, 0)
        .single()
        .map_or_else(|| unix.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

fn id_of(text: &str) -> Result<u64, CliError> {
    text.parse().map_err(|_| {
        CliError::Usage(format!(
            "{text:?} is not a queue id (a number from `congvu queue list`)"
        ))
    })
}

fn print_entry(entry: &QueueEntry) {
    println!("id:           {}", entry.id.0);
    println!("from:         <{}>", entry.sender);
    println!("to:           {}", entry.recipients.join(", "));
    println!("size:         {} bytes", entry.size);
    println!("queued:       {} UTC", when(entry.queued_at));
    println!("attempts:     {}", entry.attempts);
    println!("next attempt: {} UTC", when(entry.next_attempt));
    println!("last error:   {}", entry.last_error.as_deref().unwrap_or("-"));
}

pub fn list(config: &Config) -> Result<(), CliError> {
    let entries: Vec<QueueEntry> = execute(config, Call::get("/api/v1/queue"))?;
    println!(
        "{:>8}  {:>9}  {:>8}  {:<19}  {:<30}  RECIPIENTS",
        "ID", "SIZE", "ATTEMPTS", "NEXT (UTC)", "FROM"
    );
    for e in &entries {
        println!(
            "{:>8}  {:>9}  {:>8}  {:<19}  {:<30}  {}",
            e.id.0,
            e.size,
            e.attempts,
            when(e.next_attempt),
            e.sender,
            e.recipients.join(",")
        );
    }
    println!("{} message(s) in the queue", entries.len());
    Ok(())
}

pub fn show(config: &Config, id: &str) -> Result<(), CliError> {
    let entry: QueueEntry = execute(config, Call::get(format!("/api/v1/queue/{}", id_of(id)?)))?;
    print_entry(&entry);
    Ok(())
}

pub fn retry(config: &Config, id: &str) -> Result<(), CliError> {
    let path = format!("/api/v1/queue/{}/retry", id_of(id)?);
    let entry: QueueEntry = execute(config, Call::post(path, serde_json::json!({})))?;
    println!("queue entry {} will be retried at the next scan", entry.id.0);
    Ok(())
}

pub fn delete(config: &Config, id: &str) -> Result<(), CliError> {
    let call = Call {
        method: Method::DELETE,
        path: format!("/api/v1/queue/{}", id_of(id)?),
        body: None,
    };
    let entry: QueueEntry = execute(config, call)?;
    println!(
        "queue entry {} deleted ({} recipient(s), no report sent)",
        entry.id.0,
        entry.recipients.len()
    );
    Ok(())
}
