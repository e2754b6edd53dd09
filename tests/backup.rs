//! Issue 12, must-show 1: a backup taken while mail keeps arriving restores into a new
//! data directory with every acknowledged message, byte for byte, under the same
//! UIDVALIDITY, UIDs and flags; the restored store passes the check; a second backup
//! copies only the new bodies.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn manifests(dir: &Path) -> Vec<Value> {
    let mut names: Vec<_> = std::fs::read_dir(dir.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            serde_json::from_slice(
                &std::fs::read(dir.join("snapshots").join(n).join("manifest.json")).unwrap(),
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn a_backup_under_load_restores_every_acknowledged_message_with_its_uid_and_flags() {
    let mut server = Server::start();
    let (_agency, a, b) = server.provision();
    let acked_path = server.dir.join("acked.txt");
    let backups = server.dir.join("backups");

    let flood = Command::new("python3")
        .arg(repo_root().join("tests/py/mailclient.py"))
        .args(submission_args(&server, "flood", &a, PASSWORD_A, &a, &b))
        .args(["--clients", "4", "--count", "100000", "--seconds", "60"])
        .arg("--acked")
        .arg(&acked_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let acked = || -> Vec<String> {
        std::fs::read_to_string(&acked_path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let started = Instant::now();
    wait_until(
        started + Duration::from_secs(60),
        Duration::from_millis(50),
        || acked().len() >= 40,
        || format!("submission too slow\n{}", server.log()),
    );
    let flagged = imap_client(
        &server,
        "flag",
        &b,
        PASSWORD_B,
        &["--uids", "1:5", "--flags", "\\Seen $Forwarded"],
    );
    assert_eq!(flagged["ok"], true);

    // Everything acknowledged up to here must be in the backup.
    let before_backup = acked();
    let output = server.cli_ok(&["backup", "create", backups.to_str().unwrap()], None);
    assert!(output.contains("Đã sao lưu / backed up"), "{output}");
    let during = acked().len();
    wait_until(
        started + Duration::from_secs(90),
        Duration::from_millis(50),
        || acked().len() >= during + 20,
        || format!("submission stopped\n{}", server.log()),
    );
    let _ = Command::new("kill").arg(flood.id().to_string()).status();
    let _ = flood.wait_with_output();
    let original = imap_client(&server, "state", &b, PASSWORD_B, &[]);

    // A second backup copies only the bodies that arrived since the first.
    server.cli_ok(&["backup", "create", backups.to_str().unwrap()], None);
    let snapshots = manifests(&backups);
    assert_eq!(snapshots.len(), 2);
    let (first, second) = (&snapshots[0], &snapshots[1]);
    let new_bodies = second["blobs"].as_u64().unwrap() - first["blobs"].as_u64().unwrap();
    assert!(new_bodies >= 20, "{second}");
    assert_eq!(second["copied_blobs"].as_u64().unwrap(), new_bodies, "{second}");
    let verified = server.cli_ok(&["backup", "verify", backups.to_str().unwrap()], None);
    assert!(verified.contains("the backup is sound"), "{verified}");
    let status = admin_get(&server, "/api/v1/backups");
    assert_eq!(
        status["last_success"]["manifest"]["name"], second["name"],
        "{status}"
    );

    // Restarted with these backups as its configured directory, the server knows its
    // last successful backup: its age is reported at once.
    let (exit, _) = server.terminate();
    assert!(exit.success());
    server.add_config(&format!("[backup]\ndir = \"{}\"\n", backups.display()));
    server.spawn();
    let status = admin_get(&server, "/api/v1/backups");
    assert_eq!(
        status["last_success"]["manifest"]["name"], second["name"],
        "{status}"
    );
    let scrape = run(
        "curl",
        &["-sS", &format!("http://127.0.0.1:{}/metrics", server.ports.admin)],
    );
    let scrape = String::from_utf8_lossy(&scrape.stdout).into_owned();
    assert!(
        scrape
            .lines()
            .any(|line| line.starts_with("congvu_backup_age_seconds ")),
        "{scrape}"
    );

    // Restore the first snapshot into a new data directory and serve it.
    let (exit, _) = server.terminate();
    assert!(exit.success());
    let mut restored = Server::configure(server.dir.join("restored"), Ports::free());
    let restored_data = server.dir.join("restored").join("data");
    let output = server.cli_ok(
        &[
            "backup",
            "restore",
            backups.to_str().unwrap(),
            "--data-dir",
            restored_data.to_str().unwrap(),
            "--snapshot",
            first["name"].as_str().unwrap(),
        ],
        None,
    );
    assert!(output.contains("Nhất quán / consistent"), "{output}");
    restored.spawn();
    let check = restored.cli_ok(&["check"], None);
    assert!(check.contains("Nhất quán / consistent"), "{check}");
    let copy = imap_client(&restored, "state", &b, PASSWORD_B, &[]);

    let inbox = |state: &Value| state["INBOX"].clone();
    let original_inbox = inbox(&original);
    assert_eq!(
        inbox(&copy)["status"]["uidvalidity"],
        inbox(&original)["status"]["uidvalidity"]
    );
    let originals: HashMap<u64, &Value> = original_inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["uid"].as_u64().unwrap(), m))
        .collect();
    let restored_messages = inbox(&copy)["messages"].as_array().unwrap().clone();
    let restored_ids: Vec<&str> = restored_messages
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    let missing: Vec<&String> = before_backup
        .iter()
        .filter(|id| !restored_ids.contains(&id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but not restored: {missing:?}"
    );
    assert!(
        restored_messages.len() < originals.len(),
        "the restore is the first snapshot, not the end state"
    );
    for message in &restored_messages {
        let uid = message["uid"].as_u64().unwrap();
        let same = originals
            .get(&uid)
            .unwrap_or_else(|| panic!("UID {uid} unknown to the original"));
        for field in ["sha256", "size", "flags", "internaldate", "message_id"] {
            assert_eq!(message[field], same[field], "UID {uid} {field}");
        }
    }
    let seen: Vec<u64> = restored_messages
        .iter()
        .filter(|m| m["flags"].as_array().unwrap().iter().any(|f| f == "$Forwarded"))
        .map(|m| m["uid"].as_u64().unwrap())
        .collect();
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    // The directory came back too: the official logs in with the same password.
    assert_eq!(
        copy["Sent"]["status"]["uidvalidity"],
        original["Sent"]["status"]["uidvalidity"]
    );
}
