use super::*;
use crate::{
    AccountId, AccountKind, Append, DeliveryFolder, FlagOp, FlagStore, Flags, MailStore, MailboxInfo,
    MessageMeta, QuotaRule,
};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

fn no_other_writers(f: &mut dyn FnMut()) {
    f()
}

fn spec(dir: &Path) -> BackupSpec<'_> {
    BackupSpec {
        dir,
        quiesce: &no_other_writers,
        carry: &[],
    }
}

fn deliver(store: &SledStore, account: AccountId, body: &[u8]) {
    store
        .deliver(&crate::Delivery {
            bytes: &[body],
            internal_date: 1_700_000_000,
            internal_date_offset: 25200,
            targets: &[account],
            folder: DeliveryFolder::Inbox,
        })
        .unwrap();
}

/// Each mailbox with its messages and their bodies, as an IMAP client would see them.
fn expunge(store: &SledStore, mailbox: crate::MailboxId, uids: &[crate::Uid]) {
    store
        .store_flags(
            mailbox,
            &FlagStore {
                uids,
                op: FlagOp::Add,
                flags: Flags::DELETED,
                keywords: &[],
                unchanged_since: None,
            },
        )
        .unwrap();
    store.expunge(mailbox, Some(uids)).unwrap();
}

/// A mailbox and its messages with their bodies.
type MailboxView = (MailboxInfo, Vec<(MessageMeta, Vec<u8>)>);

fn view(store: &SledStore, account: AccountId) -> Vec<MailboxView> {
    store
        .list_mailboxes(account)
        .unwrap()
        .into_iter()
        .map(|mailbox| {
            let messages = store
                .messages(mailbox.id)
                .unwrap()
                .into_iter()
                .map(|meta| {
                    let body = store.read_blob(&meta.blob).unwrap();
                    (meta, body)
                })
                .collect();
            (mailbox, messages)
        })
        .collect()
}

#[test]
fn a_restored_snapshot_gives_the_same_uids_flags_modseqs_and_bodies() {
    let data = tempfile::tempdir().unwrap();
    let store = SledStore::open(data.path()).unwrap();
    let account = store.create_account(AccountKind::Personal, 100 << 20).unwrap();
    for n in 0..5 {
        deliver(
            &store,
            account,
            format!("Subject: {n}\r\n\r\nbody {n}\r\n").as_bytes(),
        );
    }
    let inbox = store.mailbox_by_name(account, "INBOX").unwrap().unwrap();
    let keyword = ["$Forwarded".to_owned()];
    store
        .store_flags(
            inbox.id,
            &FlagStore {
                uids: &[crate::Uid::new(2).unwrap()],
                op: FlagOp::Add,
                flags: Flags::SEEN,
                keywords: &keyword,
                unchanged_since: None,
            },
        )
        .unwrap();
    let sent = store.mailbox_by_name(account, "Sent").unwrap().unwrap();
    store
        .append(
            sent.id,
            &Append {
                bytes: b"Subject: sent\r\n\r\nx\r\n",
                flags: Flags::SEEN,
                keywords: &[],
                internal_date: 1_600_000_000,
                internal_date_offset: -3600,
                quota: QuotaRule::Enforce,
            },
        )
        .unwrap();
    let before = view(&store, account);

    let backups = tempfile::tempdir().unwrap();
    let first = store.backup(&spec(backups.path()), &Progress::default()).unwrap();
    assert_eq!((first.messages, first.blobs, first.copied_blobs), (6, 6, 6));

    // After the first backup: one message expunged, one delivered.
    expunge(&store, inbox.id, &[crate::Uid::new(1).unwrap()]);
    deliver(&store, account, b"Subject: later\r\n\r\nlater\r\n");
    let second = store.backup(&spec(backups.path()), &Progress::default()).unwrap();
    assert_eq!(second.messages, 6);
    assert_eq!(
        second.copied_blobs, 1,
        "an incremental backup copies only the new body"
    );
    assert_ne!(first.name, second.name);

    let report = verify(backups.path(), &Progress::default()).unwrap();
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(
        report.blobs, 7,
        "the expunged message's body stays for the first snapshot"
    );

    // The first snapshot restores the state before the expunge, byte for byte.
    let restored_dir = tempfile::tempdir().unwrap();
    let target = restored_dir.path().join("data");
    let restored = restore(
        backups.path(),
        Some(&first.name),
        &target,
        &StoreOptions::default(),
        &Progress::default(),
    )
    .unwrap();
    assert!(restored.check.is_consistent(), "{:?}", restored.check);
    assert_eq!(restored.blobs, 6);
    let reopened = SledStore::open(&target).unwrap();
    assert_eq!(view(&reopened, account), before);
    drop(reopened);

    // A restore never writes over data.
    let error = restore(
        backups.path(),
        None,
        &target,
        &StoreOptions::default(),
        &Progress::default(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("not empty"), "{error}");

    // Keeping one snapshot drops the first and the body only it named.
    let pruned = prune(backups.path(), 1).unwrap();
    assert_eq!(pruned.removed_snapshots, vec![first.name.clone()]);
    assert_eq!(pruned.removed_blobs, 1);
    assert!(verify(backups.path(), &Progress::default()).unwrap().is_sound());
}

#[test]
fn a_damaged_body_or_dump_fails_verification() {
    let data = tempfile::tempdir().unwrap();
    let store = SledStore::open(data.path()).unwrap();
    let account = store.create_account(AccountKind::Agency, 500 << 20).unwrap();
    deliver(&store, account, b"Subject: a\r\n\r\na\r\n");
    let backups = tempfile::tempdir().unwrap();
    let manifest = store.backup(&spec(backups.path()), &Progress::default()).unwrap();
    let blob = store
        .messages(store.mailbox_by_name(account, "INBOX").unwrap().unwrap().id)
        .unwrap()[0]
        .blob;
    let hex = blob.to_hex();
    let copy = backups.path().join("blobs").join(&hex[..2]).join(&hex[2..]);
    std::fs::write(&copy, b"Subject: b\r\n\r\nb\r\n").unwrap();
    let report = verify(backups.path(), &Progress::default()).unwrap();
    assert!(!report.is_sound());
    assert_eq!(report.damaged_blobs, vec![hex.clone()]);
    // Restoring refuses the damaged body instead of copying it.
    let target = tempfile::tempdir().unwrap();
    let error = restore(
        backups.path(),
        None,
        &target.path().join("data"),
        &StoreOptions::default(),
        &Progress::default(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("does not hash"), "{error}");

    let metadata = backups
        .path()
        .join("snapshots")
        .join(&manifest.name)
        .join(METADATA_FILE);
    let mut dump = std::fs::read(&metadata).unwrap();
    let last = dump.len() - 1;
    dump[last] ^= 1;
    std::fs::write(&metadata, dump).unwrap();
    let report = verify(backups.path(), &Progress::default()).unwrap();
    assert!(
        report.snapshots[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("SHA-256"),
        "{report:?}"
    );
}

/// Writers keep delivering while backups run: each snapshot is a cut (its check
/// passes), and every delivery acknowledged before the backup began is in it.
#[test]
fn backups_taken_under_load_are_consistent_cuts() {
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let account = store.create_account(AccountKind::Agency, 500 << 20).unwrap();
    let inbox = store.mailbox_by_name(account, "INBOX").unwrap().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    deliver(
                        &store,
                        account,
                        format!("Subject: {w}-{n}\r\n\r\n{n}\r\n").as_bytes(),
                    );
                    if n.is_multiple_of(3) {
                        let uids: Vec<_> = store
                            .messages(inbox.id)
                            .unwrap()
                            .iter()
                            .map(|m| m.uid)
                            .take(1)
                            .collect();
                        expunge(&store, inbox.id, &uids);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    let backups = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for _ in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(150));
        let acknowledged = store.messages(inbox.id).unwrap().last().map(|m| m.uid);
        let manifest = store.backup(&spec(backups.path()), &Progress::default()).unwrap();
        names.push((manifest.name, acknowledged));
    }
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    let report = verify(backups.path(), &Progress::default()).unwrap();
    assert!(report.is_sound(), "{report:?}");
    for (name, acknowledged) in names {
        let target = tempfile::tempdir().unwrap();
        let path = target.path().join("data");
        let restored = restore(
            backups.path(),
            Some(&name),
            &path,
            &StoreOptions::default(),
            &Progress::default(),
        )
        .unwrap();
        assert!(restored.check.is_consistent(), "{:?}", restored.check);
        let reopened = SledStore::open(&path).unwrap();
        let mailbox = reopened.mailbox_by_name(account, "INBOX").unwrap().unwrap();
        assert_eq!(mailbox.uidvalidity, inbox.uidvalidity);
        if let Some(acknowledged) = acknowledged {
            assert!(
                mailbox.uidnext > acknowledged.get(),
                "{name}: UID {acknowledged} missing"
            );
        }
    }
    assert!(store.check().unwrap().is_consistent());
}

#[test]
fn carried_directories_come_back_private() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let store = SledStore::open(data.path()).unwrap();
    let keys = data.path().join("dkim");
    std::fs::create_dir_all(keys.join("thanhhoa.gov.vn")).unwrap();
    std::fs::write(keys.join("thanhhoa.gov.vn").join("s1.pem"), b"PRIVATE KEY").unwrap();
    let backups = tempfile::tempdir().unwrap();
    let missing = data.path().join("no-such-dir");
    let manifest = store
        .backup(
            &BackupSpec {
                dir: backups.path(),
                quiesce: &no_other_writers,
                carry: &[("dkim", &keys), ("tls", &missing)],
            },
            &Progress::default(),
        )
        .unwrap();
    assert_eq!(manifest.carried, ["dkim"]);
    let target = tempfile::tempdir().unwrap();
    let path = target.path().join("data");
    restore(
        backups.path(),
        None,
        &path,
        &StoreOptions::default(),
        &Progress::default(),
    )
    .unwrap();
    let key = path.join("dkim").join("thanhhoa.gov.vn").join("s1.pem");
    assert_eq!(std::fs::read(&key).unwrap(), b"PRIVATE KEY");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!path.join("tls").exists());
}

/// Issue 14: the supervision facts (mail events, access events, acknowledgement
/// records) are in the dump, so a restored store computes the same reports.
#[test]
fn a_restored_snapshot_carries_the_mail_events_access_log_and_acknowledgements() {
    use crate::{AccessEvent, AccessKind, EventRecord, MailEventKind, Origin, PendingAck};
    let data = tempfile::tempdir().unwrap();
    let store = SledStore::open(data.path()).unwrap();
    let account = store.create_account(AccountKind::Agency, 100 << 20).unwrap();
    let inbox = store.mailbox_by_name(account, "INBOX").unwrap().unwrap();
    store
        .record_events(&[EventRecord {
            at: 1_767_574_800,
            account,
            kind: MailEventKind::Delivered {
                origin: Origin::AgencyRelay,
            },
        }])
        .unwrap();
    for (at, kind) in [
        (1_767_574_900, AccessKind::AgencyInboxSelected),
        (1_767_575_900, AccessKind::AgencyInboxLeft),
    ] {
        store
            .record_access(&AccessEvent {
                account,
                login: "sttt@thanhhoa.gov.vn".into(),
                kind,
                at,
                client: "127.0.0.1".into(),
                protocol: "imap".into(),
                session: 3,
            })
            .unwrap();
    }
    store
        .record_pending_ack(&PendingAck {
            account,
            mailbox: inbox.id,
            uid: crate::Uid::MIN,
            message_id: "cv-1@sonv.thanhhoa.gov.vn".into(),
            sender: "vanthu@sonv.thanhhoa.gov.vn".into(),
            notify_to: None,
            received_at: 1_767_574_800,
            acknowledged: None,
        })
        .unwrap();
    let spans = store.access_spans(account, 0, i64::MAX).unwrap();
    let (events, acks) = (store.events(0, i64::MAX).unwrap(), store.acks(None).unwrap());

    let backups = tempfile::tempdir().unwrap();
    let manifest = store.backup(&spec(backups.path()), &Progress::default()).unwrap();
    let restored_dir = tempfile::tempdir().unwrap();
    let target = restored_dir.path().join("data");
    let restored = restore(
        backups.path(),
        Some(&manifest.name),
        &target,
        &StoreOptions::default(),
        &Progress::default(),
    )
    .unwrap();
    assert!(restored.check.is_consistent(), "{:?}", restored.check);
    assert_eq!(
        (
            restored.check.mail_events,
            restored.check.access_events,
            restored.check.acks
        ),
        (1, 2, 1)
    );
    let reopened = SledStore::open(&target).unwrap();
    assert_eq!(reopened.events(0, i64::MAX).unwrap(), events);
    assert_eq!(reopened.access_spans(account, 0, i64::MAX).unwrap(), spans);
    assert_eq!(spans.len(), 1);
    assert_eq!(reopened.acks(None).unwrap(), acks);
}
