//! Durability under `kill -9`: every message that got `250` survives a crash of the
//! server mid-stream; a clean restart keeps UIDVALIDITY and UIDNEXT; UIDs stay strictly
//! ascending.

mod common;

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn ids(server: &Server, user: &str, password: &str) -> Value {
    imap_client(server, "ids", user, password, &[])
}

#[test]
fn kill_9_during_concurrent_submission_loses_no_acknowledged_message() {
    let mut server = Server::start();
    let (_agency, a, b) = server.provision();
    let acked_path = server.dir.join("acked.txt");

    let flood = Command::new("python3")
        .arg(repo_root().join("tests/py/mailclient.py"))
        .args(submission_args(&server, "flood", &a, PASSWORD_A, &a, &b))
        .args([
            "--clients",
            "10",
            "--count",
            "100000",
            "--seconds",
            "120",
            "--acked",
            &acked_path.display().to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");

    // Let the ten clients get well into their stream, then pull the plug.
    let acked_count = || {
        std::fs::read_to_string(&acked_path)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    wait_until(
        Instant::now() + Duration::from_secs(90),
        Duration::from_millis(50),
        || acked_count() >= 150,
        || format!("submission too slow: {} acked\n{}", acked_count(), server.log()),
    );
    server.kill9();
    let flood_output = flood
        .wait_with_output()
        .expect("flood ends when the server is gone");
    assert!(
        flood_output.status.success(),
        "{}",
        String::from_utf8_lossy(&flood_output.stderr)
    );
    let counts: Value = serde_json::from_slice(&flood_output.stdout).unwrap();

    server.spawn();
    let acked: Vec<String> = std::fs::read_to_string(&acked_path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let listing = ids(&server, &b, PASSWORD_B);
    let messages = listing["messages"].as_array().unwrap();
    let stored: Vec<&str> = messages
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    let stored_set: HashSet<&str> = stored.iter().copied().collect();
    let lost: Vec<&String> = acked
        .iter()
        .filter(|id| !stored_set.contains(id.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged messages lost after kill -9: {lost:?}",
        lost.len()
    );
    let unacked_but_stored = stored.len() - acked.len();
    eprintln!(
        "crash test: {} acknowledged, {} stored ({} stored but not acknowledged: the crash cut their reply), {} client errors",
        acked.len(),
        stored.len(),
        unacked_but_stored,
        counts["errors"]
    );
    assert_eq!(stored_set.len(), stored.len(), "a message was stored twice");
    let uids: Vec<u64> = messages.iter().map(|m| m["uid"].as_u64().unwrap()).collect();
    assert!(
        uids.windows(2).all(|w| w[0] < w[1]),
        "UIDs not strictly ascending: {uids:?}"
    );

    // A clean restart changes neither UIDVALIDITY nor UIDNEXT.
    let before = listing["status"].clone();
    let (status, _) = server.terminate();
    assert!(status.success(), "clean stop exits 0: {status}\n{}", server.log());
    server.spawn();
    let after = ids(&server, &b, PASSWORD_B)["status"].clone();
    assert_eq!(before["uidvalidity"], after["uidvalidity"]);
    assert_eq!(before["uidnext"], after["uidnext"]);
    assert!(before["uidnext"].as_u64().unwrap() > *uids.last().unwrap());
}
