use super::*;
use crate::blob::BlobFile;
use crate::{AccessKind, DsnRequest, DsnRet, FlagOp, Notify, OriginalRecipient, RecipientDsn};
use std::sync::Arc;
use std::time::Instant;

use crate::conformance::*;

/// The supervision facts of issue 14: mail events, check spans, acknowledgements.
mod facts;

/// The backend-independent tests (`crate::conformance`) on a fresh sled store each.
mod conformance_on_sled {
    use super::*;

    fn fresh() -> Option<Fresh<tempfile::TempDir>> {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn MailStore> = Arc::new(SledStore::open(dir.path()).unwrap());
        Some(Fresh::new(store, dir))
    }

    crate::conformance_tests!(fresh());
}

fn open() -> (tempfile::TempDir, Checked) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    (dir, Checked(store))
}

/// A store that runs the consistency check when the test is done with it: every
/// test that passes leaves a consistent store, or fails.
struct Checked(SledStore);

impl std::ops::Deref for Checked {
    type Target = SledStore;
    fn deref(&self) -> &SledStore {
        &self.0
    }
}

impl Drop for Checked {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let report = self.0.check().expect("consistency check");
            assert!(
                report.is_consistent(),
                "the test left an inconsistent store: {report:?}"
            );
        }
    }
}

/// An open waits for the lock another handle of this process still holds, as it
/// does for the one a dropped handle's flusher thread releases late (sled #1234):
/// the open started while the first store is open succeeds once it is dropped.
#[test]
fn an_open_waits_for_a_lock_this_process_releases() {
    let dir = tempfile::tempdir().unwrap();
    let first = SledStore::open(dir.path()).unwrap();
    let path = dir.path().to_owned();
    let second = std::thread::spawn(move || SledStore::open(&path).map(|_| ()));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!second.is_finished(), "the second open did not wait");
    drop(first);
    second
        .join()
        .unwrap()
        .expect("opened once the first store was dropped");
}

fn stored_blobs(store: &SledStore) -> Vec<BlobId> {
    store
        .blobs
        .list()
        .unwrap()
        .into_iter()
        .filter_map(|f| match f {
            BlobFile::Stored(id) => Some(id),
            BlobFile::Partial(..) => None,
        })
        .collect()
}

fn ref_count(store: &SledStore, blob: &BlobId) -> u64 {
    store
        .trees
        .refs
        .get(blob.0)
        .unwrap()
        .map(|v| tx::decode_u64(&v, "test").unwrap())
        .unwrap_or(0)
}

#[test]
fn reopen_keeps_uidvalidity_uidnext_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (id, before) = {
        let store = SledStore::open(dir.path()).unwrap();
        let id = account(&store);
        let inbox = inbox(&store, id);
        deliver(&store, &[id], b"one");
        deliver(&store, &[id], b"two");
        store_flags(
            &store,
            inbox.id,
            &[uid(2)],
            FlagOp::Add,
            Flags::SEEN.union(Flags::FLAGGED),
        );
        (id, self::inbox(&store, id))
    };
    let store = SledStore::open(dir.path()).unwrap();
    let after = inbox(&store, id);
    assert_eq!(after, before);
    assert_eq!((after.uidnext, after.unseen), (3, 1));
    let second = store.message(after.id, uid(2)).unwrap().unwrap();
    assert_eq!(second.flags, Flags::SEEN.union(Flags::FLAGGED));
    assert_eq!(store.read_blob(&second.blob).unwrap(), b"two");
    let [DeliveryOutcome::Delivered { uid: next, .. }] = deliver(&store, &[id], b"three")[..] else {
        panic!()
    };
    assert_eq!(next, uid(3));
    let other = account(&store);
    assert_eq!(other.0, id.0 + 1, "account ids continue after reopen");
}

#[test]
fn expunge_log_answers_vanished_since_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (id, mb, archive, modseq_after_first) = {
        let store = SledStore::open(dir.path()).unwrap();
        let id = account(&store);
        let mb = inbox(&store, id).id;
        for body in [b"a", b"b", b"c", b"d", b"e"] {
            deliver(&store, &[id], body);
        }
        let start = inbox(&store, id).highestmodseq;
        assert!(store.vanished_since(mb, 0).unwrap().is_empty());
        store_flags(&store, mb, &[uid(2)], FlagOp::Add, Flags::DELETED);
        store.expunge(mb, None).unwrap();
        let modseq_after_first = inbox(&store, id).highestmodseq;
        let archive = mailbox(&store, id, "Archive").id;
        store.move_messages(mb, &[uid(4), uid(5)], archive).unwrap();
        assert_eq!(store.vanished_since(mb, start).unwrap(), [uid(2), uid(4), uid(5)]);
        (id, mb, archive, modseq_after_first)
    };
    // Durable like every other write: the log is there after a restart.
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(
        store.vanished_since(mb, modseq_after_first).unwrap(),
        [uid(4), uid(5)]
    );
    assert_eq!(store.vanished_since(mb, 0).unwrap(), [uid(2), uid(4), uid(5)]);
    assert!(
        store
            .vanished_since(mb, inbox(&store, id).highestmodseq)
            .unwrap()
            .is_empty()
    );
    assert!(
        store.vanished_since(archive, 0).unwrap().is_empty(),
        "copies are not expunges"
    );
    // Renaming INBOX expunges all of it.
    store.rename_mailbox(id, "INBOX", "Old").unwrap();
    assert_eq!(
        store.vanished_since(mb, 0).unwrap(),
        [uid(1), uid(2), uid(3), uid(4), uid(5)]
    );
    let old = mailbox(&store, id, "Old").id;
    store_flags(&store, old, &[uid(1)], FlagOp::Add, Flags::DELETED);
    store.expunge(old, None).unwrap();
    assert_eq!(store.vanished_since(old, 0).unwrap(), [uid(1)]);
    store.delete_mailbox(id, "Old").unwrap();
    assert!(
        store.vanished_since(old, 0).unwrap().is_empty(),
        "deleted with its mailbox"
    );
}

#[test]
fn access_log_is_per_account_in_time_order_and_durable() {
    let dir = tempfile::tempdir().unwrap();
    let event = |account, at, kind| AccessEvent {
        account,
        login: "vanthu.sttt@thanhhoa.gov.vn".into(),
        kind,
        at,
        client: "203.0.113.7".into(),
        protocol: "imaps".into(),
        session: 1,
    };
    let (agency, other) = {
        let store = SledStore::open(dir.path()).unwrap();
        let (agency, other) = (account(&store), account(&store));
        for (account, at, kind) in [
            (agency, 200, AccessKind::AgencyInboxSelected),
            (agency, 100, AccessKind::Login),
            (other, 150, AccessKind::Login),
            (agency, 200, AccessKind::Login),
        ] {
            store.record_access(&event(account, at, kind)).unwrap();
        }
        (agency, other)
    };
    let store = SledStore::open(dir.path()).unwrap();
    let times = |account, from, until| -> Vec<i64> {
        let events = store.access_events(account, from, until).unwrap();
        events.iter().map(|e| e.at).collect()
    };
    assert_eq!(times(agency, 0, i64::MAX), [100, 200, 200]);
    assert_eq!(times(agency, 101, 200), [200, 200]);
    assert_eq!(times(agency, 201, 100), Vec::<i64>::new());
    assert_eq!(times(other, 0, 1000), [150]);
    let events = store.access_events(agency, 200, 200).unwrap();
    assert_eq!(
        events[0].kind,
        AccessKind::AgencyInboxSelected,
        "insertion order within a second"
    );
    assert_eq!(events[0], event(agency, 200, AccessKind::AgencyInboxSelected));
}

/// A store written before the change log gets one record per mailbox at open,
/// once, and the old per-message index goes; a log that does not cover the
/// records is found by the check and rebuilt by the repair.
#[test]
fn the_change_log_is_built_for_an_older_store_checked_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let a = account(&store);
    let mb = inbox(&store, a).id;
    for n in 0..4u8 {
        deliver(&store, &[a], &[b'y', n]);
    }
    store_flags(&store, mb, &[uid(2)], FlagOp::Add, Flags::FLAGGED);
    let expected = store.changed_since(mb, 0).unwrap();
    assert_eq!(uids(&expected.changed), [1, 2, 3, 4]);
    // What a store from before the log looks like.
    store.trees.changes.clear().unwrap();
    store.trees.meta.remove(super::tx::CHANGE_LOG_BUILT).unwrap();
    let old = store.db.open_tree(super::tx::OLD_MODSEQ_TREE).unwrap();
    old.insert(b"x", b"y").unwrap();
    store.db.flush().unwrap();
    drop((old, store));

    // Unchecked: damaged on purpose below.
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.check().unwrap().is_consistent());
    assert!(
        !store
            .db
            .tree_names()
            .iter()
            .any(|n| n == super::tx::OLD_MODSEQ_TREE.as_bytes())
    );
    assert_eq!(store.trees.changes.len(), 1);
    assert_eq!(store.changed_since(mb, 0).unwrap(), expected);
    assert_eq!(uids(&store.changed_since(mb, 5).unwrap().changed), [2]);
    // Built once: a marked store is not scanned again, so a record removed now
    // stays removed across a reopen, for the check to find; so does one that
    // does not decode.
    store.trees.changes.clear().unwrap();
    store
        .trees
        .changes
        .insert(super::tx::modseq_key(mb, 1), &[0u8, 0, 9][..])
        .unwrap();
    store.db.flush().unwrap();
    drop(store);
    let store = Checked(SledStore::open(dir.path()).unwrap());
    let kinds: Vec<&str> = store.check().unwrap().problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            "change_log",
            "change_log",
            "change_log",
            "change_log",
            "change_log"
        ]
    );
    let repaired = store.repair().unwrap();
    assert!(repaired.after.is_consistent(), "{repaired:?}");
    assert_eq!(store.changed_since(mb, 0).unwrap(), expected);
}

/// One record per writing transaction and mailbox, whatever it touched: a flag
/// change on every message of a mailbox writes one record of one range.
#[test]
fn a_store_on_every_message_writes_one_change_log_record() {
    let (_dir, store) = open();
    let a = account(&*store);
    let mb = inbox(&*store, a).id;
    for n in 0..50u8 {
        deliver(&*store, &[a], &[b'z', n]);
    }
    let before = store.trees.changes.len();
    let all: Vec<Uid> = (1..=50).map(uid).collect();
    store_flags(&*store, mb, &all, FlagOp::Add, Flags::SEEN);
    assert_eq!(store.trees.changes.len(), before + 1);
    let (_, record) = store.trees.changes.last().unwrap().unwrap();
    assert_eq!(record.len(), 8, "one range");
    let since = store.mailbox(mb).unwrap().unwrap().highestmodseq;
    store_flags(&*store, mb, &[uid(7), uid(9)], FlagOp::Add, Flags::FLAGGED);
    assert_eq!(uids(&store.changed_since(mb, since).unwrap().changed), [7, 9]);
    // From inside that record's modseqs: exactly the messages above.
    assert_eq!(
        uids(&store.changed_since(mb, since - 1).unwrap().changed),
        [7, 9, 50]
    );
    assert_eq!(store.changed_since(mb, since - 50).unwrap().changed.len(), 50);
}

fn enqueue_for(store: &SledStore, bytes: &[u8], recipients: &[String]) -> QueueId {
    store
        .enqueue(&Outbound {
            bytes: &[bytes],
            sender: "tuanna.sttt@thanhhoa.gov.vn",
            recipients,
            submitted_by: None,
            dsn: &DsnRequest::default(),
        })
        .unwrap()
}

fn notify_success() -> Notify {
    Notify {
        success: true,
        ..Notify::NEVER
    }
}

/// The DSN parameters of a message for `a@x.vn` (NOTIFY=SUCCESS, ORCPT) and `b@y.vn`
/// (NOTIFY=NEVER).
fn dsn_request() -> DsnRequest {
    DsnRequest {
        ret: Some(DsnRet::Full),
        envid: Some("QQ314159".into()),
        recipients: vec![
            RecipientDsn {
                address: "a@x.vn".into(),
                notify: Some(notify_success()),
                orcpt: Some(OriginalRecipient {
                    addr_type: "rfc822".into(),
                    address: "A@x.vn".into(),
                }),
            },
            RecipientDsn {
                address: "b@y.vn".into(),
                notify: Some(Notify::NEVER),
                orcpt: None,
            },
        ],
    }
}

#[test]
fn dsn_parameters_are_queued_and_follow_the_remaining_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let recipients = ["a@x.vn".to_string(), "b@y.vn".to_string(), "c@z.vn".to_string()];
    let dsn = dsn_request();
    let id = {
        let store = SledStore::open(dir.path()).unwrap();
        let outbound = Outbound {
            bytes: &[b"with dsn"],
            sender: "tuanna.sttt@thanhhoa.gov.vn",
            recipients: &recipients,
            submitted_by: None,
            dsn: &dsn,
        };
        let id = store.enqueue(&outbound).unwrap();
        assert_eq!(store.queue_entry(id).unwrap().unwrap().dsn, dsn);
        // Parameters for someone who is not a recipient are a caller's mistake.
        let stranger = DsnRequest {
            recipients: vec![RecipientDsn {
                address: "d@w.vn".into(),
                ..RecipientDsn::default()
            }],
            ..DsnRequest::default()
        };
        assert!(matches!(
            store.enqueue(&Outbound {
                dsn: &stranger,
                ..outbound
            }),
            Err(StoreError::Invalid(_))
        ));
        // a@x.vn delivered: its parameters go, b@y.vn's stay.
        let update = QueueUpdate {
            next_attempt: 42,
            attempts: 1,
            last_error: None,
            recipients: &recipients[1..],
            delay_notified: false,
        };
        store.queue_update(id, &update).unwrap();
        id
    };
    let store = SledStore::open(dir.path()).unwrap();
    let entry = store.queue_entry(id).unwrap().unwrap();
    assert_eq!(
        (entry.dsn.ret, entry.dsn.envid.as_deref()),
        (Some(DsnRet::Full), Some("QQ314159"))
    );
    assert_eq!(entry.dsn.recipients, dsn.recipients[1..]);
    assert_eq!(entry.dsn.notify("b@y.vn"), Notify::NEVER);
    assert_eq!(
        entry.dsn.notify("c@z.vn"),
        Notify::DEFAULT,
        "no NOTIFY: failure and delay"
    );
    assert_eq!(
        entry.dsn.notify("a@x.vn"),
        Notify::DEFAULT,
        "gone with its recipient"
    );
    assert!(entry.dsn.orcpt("a@x.vn").is_none());
}

#[test]
fn a_queue_entry_written_before_dsn_support_loads_without_dsn_parameters() {
    // Unchecked: the old record names a blob the fixture never stored.
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    // The record as the previous version wrote it: no `dsn`, no `delay_notified`.
    let old = br#"{"id":5,"blob":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],
        "size":3,"sender":"tuanna.sttt@thanhhoa.gov.vn","recipients":["a@x.vn"],
        "submitted_by":null,"queued_at":1700000000,"next_attempt":1700000000,
        "attempts":2,"last_error":"451 4.3.0 later"}"#;
    store.trees.queue.insert(5u64.to_be_bytes(), &old[..]).unwrap();
    let entry = store.queue_entry(QueueId(5)).unwrap().unwrap();
    assert_eq!(
        (entry.recipients.as_slice(), entry.attempts),
        (&["a@x.vn".to_string()][..], 2)
    );
    assert_eq!(entry.dsn, DsnRequest::default());
    assert_eq!(entry.dsn.notify("a@x.vn"), Notify::DEFAULT);
    assert!(!entry.delay_notified);
    assert_eq!(store.queue().unwrap(), [entry]);
}

#[test]
fn queue_update_keeps_a_subset_of_recipients_durably() {
    let dir = tempfile::tempdir().unwrap();
    let recipients = ["a@x.vn".to_string(), "b@y.vn".to_string()];
    let id = {
        let store = SledStore::open(dir.path()).unwrap();
        let id = enqueue_for(&store, b"retry me", &recipients);
        let update = QueueUpdate {
            next_attempt: 42,
            attempts: 1,
            last_error: Some("451 4.3.0 try later"),
            recipients: &recipients[1..],
            delay_notified: true,
        };
        store.queue_update(id, &update).unwrap();
        let stranger = ["c@z.vn".to_string()];
        for (recipients, what) in [(&[][..], "empty"), (&stranger[..], "stranger")] {
            let bad = QueueUpdate {
                recipients,
                ..update.clone()
            };
            assert!(
                matches!(store.queue_update(id, &bad), Err(StoreError::Invalid(_))),
                "{what}"
            );
        }
        assert!(matches!(
            store.queue_update(QueueId(99), &update),
            Err(StoreError::NotFound(_))
        ));
        id
    };
    let store = SledStore::open(dir.path()).unwrap();
    let entry = store.queue_entry(id).unwrap().unwrap();
    assert_eq!(entry.recipients, ["b@y.vn"]);
    assert_eq!(
        (entry.next_attempt, entry.attempts, entry.delay_notified),
        (42, 1, true)
    );
    assert_eq!(entry.last_error.as_deref(), Some("451 4.3.0 try later"));
    assert_eq!(store.queue_entry(QueueId(99)).unwrap(), None);
}

#[test]
fn queue_remove_drops_the_blob_reference_and_file() {
    let (_dir, store) = open();
    let recipients = ["a@x.vn".to_string()];
    let first = enqueue_for(&store, b"shared body", &recipients);
    let second = enqueue_for(&store, b"shared body", &recipients);
    let blob = BlobId::of(b"shared body");
    store.queue_remove(first).unwrap();
    assert_eq!(ref_count(&store, &blob), 1);
    assert_eq!(store.read_blob(&blob).unwrap(), b"shared body");
    store.queue_remove(second).unwrap();
    assert_eq!(ref_count(&store, &blob), 0);
    assert!(matches!(store.queue_remove(second), Err(StoreError::NotFound(_))));
    assert!(store.queue().unwrap().is_empty());
    // The file goes after the flush that made the removal durable.
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    while stored_blobs(&store).contains(&blob) && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!stored_blobs(&store).contains(&blob));
}

#[test]
fn orphan_collection_removes_unreferenced_files_only() {
    let (dir, store) = open();
    let id = account(&*store);
    deliver(&*store, &[id], b"kept");
    // A crash between the blob's put and its transaction leaves these behind.
    store.blobs.put(&Contents::new(&[b"orphan"])).unwrap();
    let partial = BlobId::of(b"partial").to_hex();
    let partial_path = dir
        .path()
        .join("blobs")
        .join(&partial[..2])
        .join(format!(".tmp-{partial}-1-0"));
    std::fs::write(&partial_path, b"part").unwrap();

    assert_eq!(store.collect_orphans().unwrap(), 2);
    assert_eq!(stored_blobs(&store), [BlobId::of(b"kept")]);
    assert!(!partial_path.exists());
    assert_eq!(store.collect_orphans().unwrap(), 0);
}

#[test]
fn a_released_blob_delivered_again_is_kept() {
    // An expunge drops the last reference while another delivery of the same bytes
    // is in flight: the file must survive for the new reference.
    let (_dir, store) = open();
    let store = Arc::new(store);
    let id = account(&**store);
    let mb = inbox(&**store, id).id;
    for round in 0..50 {
        let [DeliveryOutcome::Delivered { uid: first, .. }] = deliver(&**store, &[id], b"same bytes")[..]
        else {
            panic!()
        };
        store_flags(&**store, mb, &[first], FlagOp::Add, Flags::DELETED);
        let expunger = {
            let store = store.clone();
            std::thread::spawn(move || store.expunge(mb, None).unwrap())
        };
        deliver(&**store, &[id], b"same bytes");
        expunger.join().unwrap();
        let remaining = store.messages(mb).unwrap();
        assert_eq!(remaining.len(), 1, "round {round}");
        assert_eq!(
            store.read_blob(&remaining[0].blob).unwrap(),
            b"same bytes",
            "round {round}"
        );
        store_flags(&**store, mb, &[remaining[0].uid], FlagOp::Add, Flags::DELETED);
        store.expunge(mb, None).unwrap();
        assert!(stored_blobs(&store).is_empty(), "round {round}");
    }
}

/// Durable deliveries per second with 8 writers. Run with
/// `cargo test -p congvu-store --release -- --ignored --nocapture`.
#[test]
#[ignore]
fn durable_delivery_throughput() {
    let (_dir, store) = open();
    let store = Arc::new(store);
    let targets: Vec<AccountId> = (0..8).map(|_| account(&**store)).collect();
    let body = vec![b'x'; 10 * 1024];
    for writers in [1usize, 8, 20] {
        let per_writer = 2000 / writers;
        let started = Instant::now();
        let threads: Vec<_> = (0..writers)
            .map(|w| {
                let (store, targets, mut body) = (store.clone(), targets.clone(), body.clone());
                std::thread::spawn(move || {
                    for i in 0..per_writer {
                        body[..16].copy_from_slice(format!("{writers:02}{w:04}{i:010}").as_bytes());
                        deliver(&**store, &[targets[w % targets.len()]], &body);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let rate = (per_writer * writers) as f64 / started.elapsed().as_secs_f64();
        println!("{writers} writer(s): {rate:.0} durable deliveries/s (10 KB)");
    }
}

/// The store's own consistency check finds nothing after every kind of write, and
/// finds each kind of damage it is meant to find (issue 12).
#[test]
fn the_consistency_check_passes_after_every_write_and_names_each_damage() {
    // Unchecked at the end: the test damages the store on purpose.
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let (a, b) = (account(&store), account(&store));
    deliver(&store, &[a, b], b"Subject: one\r\n\r\nx\r\n");
    deliver(&store, &[a], b"Subject: two\r\n\r\ny\r\n");
    let sent = mailbox(&store, a, "Sent");
    append(&store, sent.id, b"Subject: sent\r\n\r\nz\r\n", Flags::SEEN).unwrap();
    let inbox_a = inbox(&store, a);
    store.copy(inbox_a.id, &[uid(1)], sent.id).unwrap();
    store
        .move_messages(inbox_a.id, &[uid(2)], inbox(&store, b).id)
        .unwrap();
    store_flags(&store, inbox_a.id, &[uid(1)], FlagOp::Add, Flags::DELETED);
    store.expunge(inbox_a.id, None).unwrap();
    enqueue_for(
        &store,
        b"Subject: out\r\n\r\nq\r\n",
        &["x@example.org".to_owned()],
    );
    store.delete_mailbox(a, "Sent").unwrap();
    let report = store.check().unwrap();
    assert!(report.is_consistent(), "{report:?}");
    assert_eq!((report.accounts, report.queue_entries), (2, 1));
    assert!(report.messages >= 2 && report.blobs >= 2, "{report:?}");

    // Damage: a reference count off by one, an account's usage, a missing file.
    let blob = store.messages(inbox(&store, b).id).unwrap()[0].blob;
    store.trees.refs.insert(blob.0, &9u64.to_be_bytes()).unwrap();
    let mut owner: AccountStorage = decode(
        &store.trees.accounts.get(b.0.to_be_bytes()).unwrap().unwrap(),
        "a",
    )
    .unwrap();
    owner.used_bytes += 1;
    store
        .trees
        .accounts
        .insert(b.0.to_be_bytes(), super::tx::encode(&owner).unwrap())
        .unwrap();
    std::fs::remove_file(store.blobs.path(&blob)).unwrap();
    let kinds: Vec<&str> = store.check().unwrap().problems.iter().map(|p| p.kind).collect();
    for kind in ["blob_ref_count", "quota_usage", "missing_blob"] {
        assert!(kinds.contains(&kind), "{kind} not found in {kinds:?}");
    }

    // Repair fixes the count and the usage; the lost body stays reported.
    let repaired = store.repair().unwrap();
    assert_eq!(repaired.found.len(), kinds.len());
    let left: Vec<&str> = repaired.after.problems.iter().map(|p| p.kind).collect();
    assert_eq!(left, ["missing_blob"], "{repaired:?}");
    drop(dir);
}

#[test]
fn claim_marks_and_kept_subscriptions_of_what_is_gone_are_found_and_repaired() {
    let (_dir, store) = open();
    let a = account(&*store);
    let inbox = inbox(&*store, a);
    deliver(&*store, &[a], b"Subject: a\r\n\r\na\r\n");
    store.claim_recent(inbox.id, 2).unwrap();
    store.set_subscribed(a, "Gone", true).unwrap();
    assert!(store.check().unwrap().is_consistent());
    // What a crash between two steps of a deletion could leave.
    store
        .recent
        .insert(999u64.to_be_bytes(), &1u32.to_be_bytes())
        .unwrap();
    store
        .subscriptions
        .insert(super::tx::name_key(AccountId(999), "X"), &[])
        .unwrap();
    let kinds: Vec<&str> = store.check().unwrap().problems.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, ["recent_without_mailbox", "subscription_without_account"]);
    let repaired = store.repair().unwrap();
    assert!(repaired.after.is_consistent(), "{repaired:?}");
    assert_eq!(store.recent_from(inbox.id).unwrap(), 2, "the live mark stays");
    assert!(
        store.subscriptions(a).unwrap().contains(&"Gone".to_owned()),
        "the live subscription stays"
    );
}

#[test]
fn repair_raises_uidnext_and_highestmodseq_and_removes_orphans() {
    let (dir, store) = open();
    let a = account(&*store);
    deliver(&*store, &[a], b"Subject: a\r\n\r\na\r\n");
    deliver(&*store, &[a], b"Subject: b\r\n\r\nb\r\n");
    let mut mailbox = inbox(&*store, a);
    let uidvalidity = mailbox.uidvalidity;
    mailbox.uidnext = 2;
    mailbox.highestmodseq = 1;
    mailbox.messages = 7;
    store
        .trees
        .mailboxes
        .insert(mailbox.id.0.to_be_bytes(), super::tx::encode(&mailbox).unwrap())
        .unwrap();
    store
        .blobs
        .put(&Contents::new(&[b"nobody refers to me"]))
        .unwrap();
    assert_eq!(store.check().unwrap().orphan_blobs, 1);

    let repaired = store.repair().unwrap();
    assert!(repaired.after.is_consistent(), "{repaired:?}");
    assert_eq!(repaired.orphans_removed, 1);
    let mailbox = inbox(&*store, a);
    assert_eq!(
        (mailbox.uidnext, mailbox.messages, mailbox.uidvalidity),
        (3, 2, uidvalidity)
    );
    // A second repair finds nothing.
    assert!(store.repair().unwrap().found.is_empty());
    drop(store);
    drop(dir);
}

#[test]
fn the_change_hub_keeps_no_channel_for_nobody() {
    let (_dir, store) = open();
    let (a, b) = (account(&*store), account(&*store));
    let watches = (store.subscribe(a), store.subscribe(b));
    deliver(&*store, &[a, b], b"Subject: x\r\n\r\nx\r\n");
    assert_eq!(store.changes.accounts(), 2);
    drop(watches);
    assert_eq!(store.changes.accounts(), 0, "no channel is kept for nobody");
}
