//! The PostgreSQL store against a private cluster (`congvu_store_pg::cluster`),
//! with two stores on one database standing for two congvu nodes: the invariants of
//! `crates/store` hold across them. Without PostgreSQL installed the tests say so and
//! stop, unless `CI` is set: there they must run (`.ci/run` installs `postgresql`).

use std::sync::Arc;
use std::time::Duration;

use congvu_store::{
    AccountKind, Append, ChangeKind, Delivery, DeliveryFolder, DeliveryOutcome, FlagOp, FlagStore, Flags,
    MailStore, QuotaRule, StoreError, Uid,
};
use congvu_store_pg::cluster::Cluster;
use congvu_store_pg::{PgConfig, PgStore, migrate};

const MB: u64 = 1 << 20;

fn node(cluster: &Cluster) -> PgStore {
    PgStore::connect(&PgConfig {
        url: cluster.url(),
        password: None,
        blobs: None,
        pool_size: 8,
        statement_timeout: Duration::from_secs(30),
    })
    .expect("connect a node")
}

fn append(
    store: &PgStore,
    mailbox: congvu_store::MailboxId,
    body: &[u8],
    flags: Flags,
) -> congvu_store::Appended {
    store
        .append(
            mailbox,
            &Append {
                bytes: body,
                flags,
                keywords: &[],
                internal_date: 1_796_259_600,
                internal_date_offset: 7 * 3600,
                quota: QuotaRule::Enforce,
            },
        )
        .expect("append")
}

/// What `subscription` hears next, within `seconds`.
fn wait_for_change(
    runtime: &tokio::runtime::Runtime,
    subscription: &mut congvu_store::Subscription,
    seconds: u64,
) -> Result<congvu_store::Change, tokio::sync::broadcast::error::RecvError> {
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(seconds), subscription.recv()).await })
        .unwrap_or_else(|_| panic!("nothing heard within {seconds} s"))
}

#[test]
fn migrations_apply_once_and_a_store_needs_them() {
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    let refused = PgStore::connect(&PgConfig {
        url: cluster.url(),
        password: None,
        blobs: None,
        pool_size: 1,
        statement_timeout: Duration::from_secs(5),
    });
    assert!(
        matches!(&refused, Err(StoreError::Invalid(text)) if text.contains("congvu db migrate")),
        "{:?}",
        refused.err()
    );
    assert_eq!(migrate(&cluster.url()).unwrap(), [1, 2, 3]);
    assert!(
        migrate(&cluster.url()).unwrap().is_empty(),
        "a second run applies nothing"
    );
    let store = node(&cluster);
    let account = store.create_account(AccountKind::Personal, 100 * MB).unwrap();
    let names: Vec<String> = store
        .list_mailboxes(account)
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"]);
}

#[test]
fn one_body_many_copies_released_by_the_last() {
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let store = node(&cluster);
    let a = store.create_account(AccountKind::Personal, 100 * MB).unwrap();
    let b = store.create_account(AccountKind::Agency, 500 * MB).unwrap();
    let full = store.create_account(AccountKind::Personal, 10).unwrap();
    let body = b"Subject: Cong van\r\n\r\nNoi dung.\r\n";
    let outcomes = store
        .deliver(&Delivery {
            bytes: &[b"Return-Path: <x@y.vn>\r\n", body],
            internal_date: 1,
            internal_date_offset: 0,
            targets: &[a, b, full, a],
            folder: DeliveryFolder::Inbox,
        })
        .unwrap();
    assert!(matches!(outcomes[0], DeliveryOutcome::Delivered { uid, .. } if uid == Uid::MIN));
    assert!(matches!(outcomes[2], DeliveryOutcome::OverQuota { .. }));
    assert_eq!(outcomes[3], outcomes[0], "a repeated target gets one copy");
    let size = (23 + body.len()) as u64;
    assert_eq!(store.account(a).unwrap().unwrap().used_bytes, size);
    let inbox_a = store.mailbox_by_name(a, "inbox").unwrap().unwrap();
    let inbox_b = store.mailbox_by_name(b, "INBOX").unwrap().unwrap();
    let meta = store.message(inbox_a.id, Uid::MIN).unwrap().unwrap();
    assert_eq!(store.read_blob(&meta.blob).unwrap().len() as u64, size);
    for (account, inbox) in [(a, &inbox_a), (b, &inbox_b)] {
        store
            .store_flags(
                inbox.id,
                &FlagStore {
                    uids: &[Uid::MIN],
                    op: FlagOp::Add,
                    flags: Flags::DELETED,
                    keywords: &[],
                    unchanged_since: None,
                },
            )
            .unwrap();
        assert_eq!(store.expunge(inbox.id, None).unwrap(), [Uid::MIN]);
        assert_eq!(store.account(account).unwrap().unwrap().used_bytes, 0);
        // The body stays while the other copy names it.
        assert_eq!(store.read_blob(&meta.blob).is_ok(), account == a);
    }
    assert!(matches!(
        store.read_blob(&meta.blob),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.vanished_since(inbox_a.id, 0).unwrap(), [Uid::MIN]);
}

#[test]
fn two_nodes_appending_to_one_mailbox_keep_uids_ascending_and_unique() {
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let nodes = [Arc::new(node(&cluster)), Arc::new(node(&cluster))];
    let account = nodes[0].create_account(AccountKind::Agency, 500 * MB).unwrap();
    let inbox = nodes[0].mailbox_by_name(account, "INBOX").unwrap().unwrap();
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let store = Arc::clone(&nodes[writer % 2]);
            std::thread::spawn(move || {
                let mut uids = Vec::new();
                for n in 0..40 {
                    let body = format!("Subject: {writer}-{n}\r\n\r\nx\r\n");
                    uids.push(
                        append(&store, inbox.id, body.as_bytes(), Flags::empty())
                            .uid
                            .get(),
                    );
                }
                uids
            })
        })
        .collect();
    let mut all: Vec<u32> = Vec::new();
    for writer in writers {
        let uids = writer.join().unwrap();
        assert!(
            uids.windows(2).all(|w| w[0] < w[1]),
            "one writer's UIDs ascend: {uids:?}"
        );
        all.extend(uids);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=320).collect::<Vec<u32>>(), "no UID twice, none skipped");
    let info = nodes[1].mailbox(inbox.id).unwrap().unwrap();
    assert_eq!((info.messages, info.unseen, info.uidnext), (320, 320, 321));
    assert_eq!(info.highestmodseq, 321);
    let seen = nodes[1].messages(inbox.id).unwrap();
    assert_eq!(seen.len(), 320);
    assert!(
        seen.windows(2)
            .all(|w| w[0].modseq < w[1].modseq && w[0].uid < w[1].uid)
    );
    let window = nodes[0].message_window(inbox.id, true, 0, 3).unwrap();
    assert_eq!(
        window.iter().map(|m| m.uid.get()).collect::<Vec<_>>(),
        [320, 319, 318]
    );
}

#[test]
fn a_change_on_one_node_wakes_a_subscriber_on_the_other() {
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let a = node(&cluster);
    let b = node(&cluster);
    let account = a.create_account(AccountKind::Personal, 100 * MB).unwrap();
    let inbox = a.mailbox_by_name(account, "INBOX").unwrap().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Node B listens from the moment it is connected (`PgStore::connect` waits).
    let mut subscription = b.subscribe(account);
    let appended = append(&a, inbox.id, b"Subject: x\r\n\r\ny\r\n", Flags::empty());
    let change = wait_for_change(&runtime, &mut subscription, 5).expect("a change");
    assert_eq!(
        (change.account, change.mailbox, change.kind),
        (account, inbox.id, ChangeKind::New)
    );
    // Flags set on B, seen by a CONDSTORE-style resync on A.
    let before = a.mailbox(inbox.id).unwrap().unwrap().highestmodseq;
    b.store_flags(
        inbox.id,
        &FlagStore {
            uids: &[appended.uid],
            op: FlagOp::Add,
            flags: Flags::FLAGGED,
            keywords: &["$Forwarded".to_owned()],
            unchanged_since: None,
        },
    )
    .unwrap();
    let changes = a.changed_since(inbox.id, before).unwrap();
    assert_eq!(changes.changed.len(), 1);
    assert!(changes.changed[0].flags.contains(Flags::FLAGGED));
    assert_eq!(changes.changed[0].keywords, ["$Forwarded"]);
    let flagged = wait_for_change(&runtime, &mut subscription, 5).expect("a change");
    assert_eq!(flagged.kind, ChangeKind::Flags);
    assert_eq!(flagged.modseq, changes.mailbox.highestmodseq);
}

/// The LISTEN connection broken (as by a restart or failover of PostgreSQL) is
/// made again, and every subscriber is told to resynchronise, since changes may
/// have been sent while nobody listened; then changes flow again.
#[test]
fn a_broken_listen_is_made_again_and_every_subscriber_resynchronises() {
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let store = node(&cluster);
    let account = store.create_account(AccountKind::Personal, 100 * MB).unwrap();
    let inbox = store.mailbox_by_name(account, "INBOX").unwrap().unwrap();
    let mut subscription = store.subscribe(account);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let terminated: i64 = runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&cluster.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0)
    });
    assert_eq!(terminated, 1, "one LISTEN connection");
    let after_break = wait_for_change(&runtime, &mut subscription, 10);
    assert!(
        matches!(
            after_break,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_))
        ),
        "{after_break:?}"
    );
    append(&store, inbox.id, b"Subject: x\r\n\r\ny\r\n", Flags::empty());
    let change = wait_for_change(&runtime, &mut subscription, 5).expect("a change");
    assert_eq!((change.mailbox, change.kind), (inbox.id, ChangeKind::New));
}

#[test]
fn folders_rename_move_and_delete_as_on_sled() {
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let store = node(&cluster);
    let account = store.create_account(AccountKind::Personal, 100 * MB).unwrap();
    let inbox = store.mailbox_by_name(account, "INBOX").unwrap().unwrap();
    store
        .create_mailbox(account, "Công văn/2026/Quý 1", None)
        .unwrap();
    assert!(
        store.mailbox_by_name(account, "Công văn/2026").unwrap().is_some(),
        "parents made"
    );
    assert!(matches!(
        store.create_mailbox(account, "Công văn", None),
        Err(StoreError::Exists(_))
    ));
    for n in 0..3 {
        append(
            &store,
            inbox.id,
            format!("Subject: {n}\r\n\r\nx\r\n").as_bytes(),
            Flags::SEEN,
        );
    }
    let target = store
        .mailbox_by_name(account, "Công văn/2026/Quý 1")
        .unwrap()
        .unwrap();
    let moved = store
        .move_messages(inbox.id, &[Uid::new(2).unwrap(), Uid::new(3).unwrap()], target.id)
        .unwrap();
    assert_eq!(
        moved
            .pairs
            .iter()
            .map(|(a, b)| (a.get(), b.get()))
            .collect::<Vec<_>>(),
        [(2, 1), (3, 2)]
    );
    assert_eq!(store.messages(inbox.id).unwrap().len(), 1);
    let copied = store.copy(inbox.id, &[Uid::MIN], target.id).unwrap();
    assert_eq!(copied.pairs[0].1.get(), 3);
    let used = store.account(account).unwrap().unwrap().used_bytes;
    store.rename_mailbox(account, "Công văn", "Lưu trữ 2026").unwrap();
    let renamed = store
        .mailbox_by_name(account, "Lưu trữ 2026/2026/Quý 1")
        .unwrap()
        .unwrap();
    assert_eq!(renamed.id, target.id);
    assert_eq!(renamed.messages, 3);
    assert!(matches!(
        store.delete_mailbox(account, "Lưu trữ 2026"),
        Err(StoreError::Invalid(_))
    ));
    store.delete_mailbox(account, "Lưu trữ 2026/2026/Quý 1").unwrap();
    assert_eq!(store.account(account).unwrap().unwrap().used_bytes, used / 4);
    assert!(
        store
            .subscriptions(account)
            .unwrap()
            .contains(&"Lưu trữ 2026/2026/Quý 1".to_owned())
    );
    // Renaming INBOX moves its messages and leaves it empty (RFC 3501 §6.3.5).
    store.rename_mailbox(account, "INBOX", "Cũ").unwrap();
    assert_eq!(store.mailbox(inbox.id).unwrap().unwrap().messages, 0);
    assert_eq!(store.mailbox_by_name(account, "Cũ").unwrap().unwrap().messages, 1);
    // \Recent is claimed once.
    assert_eq!(store.claim_recent(inbox.id, 5).unwrap(), 1);
    assert_eq!(store.claim_recent(inbox.id, 5).unwrap(), 5);
    store.delete_account(account).unwrap();
    assert!(store.account(account).unwrap().is_none());
    assert_eq!(store.size().unwrap().mailbox_bytes, 0);
}

fn outbound(store: &PgStore, n: usize) -> congvu_store::QueueId {
    let body = format!("Subject: thư {n}\r\n\r\nnội dung {n}\r\n");
    let recipients = vec![format!("nguoi{n}@example.net")];
    store
        .enqueue(&congvu_store::Outbound {
            bytes: &[body.as_bytes()],
            sender: "sttt@thanhhoa.gov.vn",
            recipients: &recipients,
            submitted_by: None,
            dsn: &congvu_store::DsnRequest::default(),
        })
        .expect("enqueue")
}

#[test]
fn two_nodes_claim_each_queue_entry_once_and_a_lease_runs_out() {
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let (a, b) = (Arc::new(node(&cluster)), Arc::new(node(&cluster)));
    let ids: Vec<_> = (0..200).map(|n| outbound(&a, n)).collect();
    let now = ids.len() as i64 + 1_900_000_000;
    // Both nodes ask for every entry at once, in small claims, until none is left.
    let claim = |store: Arc<PgStore>, ids: Vec<congvu_store::QueueId>| {
        std::thread::spawn(move || {
            let mut mine = Vec::new();
            for chunk in ids.chunks(7) {
                mine.extend(
                    store
                        .claim_queue(chunk, now, now + 600)
                        .unwrap()
                        .into_iter()
                        .map(|e| e.id),
                );
            }
            mine
        })
    };
    let reversed: Vec<_> = ids.iter().rev().copied().collect();
    let (got_a, got_b) = (claim(a.clone(), ids.clone()), claim(b.clone(), reversed));
    let (got_a, got_b) = (got_a.join().unwrap(), got_b.join().unwrap());
    let mut all: Vec<_> = got_a.iter().chain(&got_b).copied().collect();
    all.sort();
    assert_eq!(all, ids, "every entry claimed, by one node only");
    assert!(!got_a.is_empty() && !got_b.is_empty(), "both nodes took a share");
    // Claimed entries are nobody else's until their lease ends or their attempt is recorded.
    assert!(b.claim_queue(&ids, now, now + 600).unwrap().is_empty());
    a.queue_update(
        ids[0],
        &congvu_store::QueueUpdate {
            next_attempt: now,
            attempts: 1,
            last_error: Some("451 thử lại"),
            recipients: &["nguoi0@example.net".to_owned()],
            delay_notified: false,
        },
    )
    .unwrap();
    let again = b.claim_queue(&ids, now, now + 600).unwrap();
    assert_eq!(again.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[0]]);
    assert_eq!(again[0].attempts, 1);
    // A node that died mid-attempt: its lease runs out and the entry is the others'.
    assert!(b.claim_queue(&ids, now + 599, now + 1200).unwrap().is_empty());
    let later = b.claim_queue(&ids, now + 600, now + 1200).unwrap();
    assert_eq!(later.len(), ids.len(), "every lease ran out");
    for id in &ids {
        a.queue_remove(*id).unwrap();
    }
    assert!(a.queue().unwrap().is_empty());
    let report = a.check().unwrap();
    assert!(report.is_consistent(), "{:?}", report.problems);
    assert_eq!(report.blobs, 0, "every body went with its last queue entry");
}

#[test]
fn access_spans_events_and_acknowledgements_as_on_sled() {
    use congvu_store::{AccessEvent, AccessKind, EventRecord, MailEventKind, PendingAck};
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let (a, b) = (node(&cluster), node(&cluster));
    let agency = a.create_account(AccountKind::Agency, 500 * MB).unwrap();
    let event = |kind, at, session| AccessEvent {
        account: agency,
        login: "sttt@thanhhoa.gov.vn".into(),
        kind,
        at,
        client: "127.0.0.1".into(),
        protocol: "imap".into(),
        session,
    };
    a.record_access(&event(AccessKind::AgencyInboxSelected, 1000, 7))
        .unwrap();
    b.record_access(&event(AccessKind::AgencyInboxLeft, 1300, 7))
        .unwrap();
    a.record_login(
        &event(AccessKind::Login, 2000, 8),
        &EventRecord {
            at: 2000,
            account: agency,
            kind: MailEventKind::Login,
        },
    )
    .unwrap();
    b.record_access(&event(AccessKind::AgencyInboxSelected, 2001, 8))
        .unwrap();
    let spans = a.access_spans(agency, 0, 5000).unwrap();
    assert_eq!(
        spans
            .iter()
            .map(|s| (s.from, s.until, s.closed))
            .collect::<Vec<_>>(),
        [
            (1000, 1300, true),
            (2001, 2001 + congvu_store::OPEN_SPAN_LIMIT, false)
        ],
        "a selection and its leaving recorded on two nodes make one span"
    );
    assert_eq!(b.access_events(agency, 1000, 2000).unwrap().len(), 3);
    assert!(
        a.record_events(&[EventRecord {
            at: 1,
            account: agency,
            kind: MailEventKind::Refused { rule: String::new() }
        }])
        .is_err(),
        "an empty refusal rule is refused, as on sled"
    );
    assert_eq!(b.events(0, 5000).unwrap().len(), 1);
    let inbox = a.mailbox_by_name(agency, "INBOX").unwrap().unwrap();
    let uid = append(&a, inbox.id, b"Subject: x\r\n\r\nx\r\n", Flags::empty()).uid;
    let pending = PendingAck {
        account: agency,
        mailbox: inbox.id,
        uid,
        message_id: " <cv-1@syt.thanhhoa.gov.vn> ".into(),
        sender: "vanthu@syt.thanhhoa.gov.vn".into(),
        notify_to: None,
        received_at: 1500,
        acknowledged: None,
    };
    a.record_pending_ack(&pending).unwrap();
    // Two keepers on two nodes acknowledge at once: the first wins, whole.
    let (first, second) = std::thread::scope(|scope| {
        let one = scope.spawn(|| {
            a.acknowledge(agency, "cv-1@syt.thanhhoa.gov.vn", "an", 1600)
                .unwrap()
        });
        let two = scope.spawn(|| {
            b.acknowledge(agency, "<cv-1@syt.thanhhoa.gov.vn>", "binh", 1601)
                .unwrap()
        });
        (one.join().unwrap().unwrap(), two.join().unwrap().unwrap())
    });
    assert_eq!(
        first.acknowledged, second.acknowledged,
        "one acknowledgement, seen by both"
    );
    assert_eq!(
        a.acks(Some(agency)).unwrap()[0].message_id,
        "cv-1@syt.thanhhoa.gov.vn"
    );
    assert!(a.acknowledge(agency, "none@x", "an", 1).unwrap().is_none());
    assert_eq!(
        a.prune_events(1500).unwrap(),
        2,
        "the events before 1500 go; the pending ack stays"
    );
    assert!(a.check().unwrap().is_consistent());
}

fn directory(store: &Arc<PgStore>) -> congvu_directory::Directory {
    congvu_directory::Directory::open_on(
        Arc::new(congvu_store_pg::directory::PgDirectory::new(Arc::clone(store))),
        Arc::clone(store) as Arc<dyn MailStore>,
        "thanhhoa.gov.vn",
        congvu_directory::DefaultQuotas::default(),
    )
    .expect("open the directory")
}

#[test]
fn two_nodes_issue_distinct_addresses_from_one_directory() {
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let (a, b) = (Arc::new(node(&cluster)), Arc::new(node(&cluster)));
    let (dir_a, dir_b) = (directory(&a), directory(&b));
    dir_a
        .add_agency("sttt", "Sở Thông tin và Truyền thông", None)
        .unwrap();
    // Sixteen officials whose names all make the local part "tuanna", added from two
    // nodes at once: the advisory lock keeps "is it free?" and "take it" together.
    let families = ["Nguyễn", "Ngô", "Nông", "Ninh", "Nghiêm", "Ngọ", "Nhữ", "Nhan"];
    let add = |dir: &congvu_directory::Directory, middle: &str| {
        families
            .iter()
            .map(|family| {
                dir.add_person("sttt", &format!("{family} {middle} Tuấn"), None, None)
                    .expect("add an official")
                    .0
                    .address
            })
            .collect::<Vec<_>>()
    };
    let (from_a, from_b) = std::thread::scope(|scope| {
        let one = scope.spawn(|| add(&dir_a, "Anh"));
        let two = scope.spawn(|| add(&dir_b, "An"));
        (one.join().unwrap(), two.join().unwrap())
    });
    let mut all: Vec<_> = from_a.iter().chain(&from_b).cloned().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 16, "every address issued once: {all:?}");
    // What one node wrote, the other reads: the record and the password.
    dir_a
        .set_password(
            &from_b[0],
            &congvu_directory::Secret::new("mật khẩu đủ dài".to_owned()),
        )
        .unwrap();
    let loopback = std::net::IpAddr::from([127, 0, 0, 1]);
    let login = |dir: &congvu_directory::Directory, password: &str| {
        dir.authenticate_from(
            loopback,
            &from_b[0],
            &congvu_directory::Secret::new(password.to_owned()),
        )
        .unwrap()
        .map(|r| r.address)
    };
    assert_eq!(login(&dir_b, "mật khẩu đủ dài"), Some(from_b[0].clone()));
    // B remembers the verified password; A changes it: B's cache must not answer.
    dir_a
        .set_password(
            &from_b[0],
            &congvu_directory::Secret::new("mật khẩu mới hẳn".to_owned()),
        )
        .unwrap();
    assert_eq!(
        login(&dir_b, "mật khẩu đủ dài"),
        None,
        "the old password, changed on another node"
    );
    assert_eq!(login(&dir_b, "mật khẩu mới hẳn"), Some(from_b[0].clone()));
    assert!(dir_b.lookup(&from_a[3]).unwrap().is_some());
    assert_eq!(
        dir_a.audit_log(None, None, 100).unwrap().len(),
        dir_b.audit_log(None, None, 100).unwrap().len()
    );
    let report = dir_b.check().unwrap();
    assert!(report.is_consistent(), "{:?}", report.problems);
}

#[test]
fn a_guesser_spread_over_two_nodes_meets_one_throttle() {
    use congvu_directory::{DirectoryError, Secret, Settings, ThrottleLimits};
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let (a, b) = (Arc::new(node(&cluster)), Arc::new(node(&cluster)));
    let settings = Settings {
        login_throttle: ThrottleLimits {
            per_login: 4,
            per_address: 100,
            window: Duration::from_secs(900),
        },
        ..Settings::default()
    };
    let (dir_a, dir_b) = (
        directory(&a).with_settings(settings.clone()).unwrap(),
        directory(&b).with_settings(settings).unwrap(),
    );
    dir_a
        .add_agency("sttt", "Sở Thông tin và Truyền thông", None)
        .unwrap();
    let (official, _) = dir_a.add_person("sttt", "Nguyễn Anh Tuấn", None, None).unwrap();
    dir_a
        .set_password(&official.address, &Secret::new("mật khẩu đúng rồi".to_owned()))
        .unwrap();
    let guesser = std::net::IpAddr::from([127, 0, 0, 9]);
    let guess = |dir: &congvu_directory::Directory, n: u32| {
        dir.authenticate_from(guesser, &official.address, &Secret::new(format!("đoán {n}")))
    };
    // Four wrong guesses, alternating nodes: the budget of one login is four.
    for n in 0..4 {
        let dir = if n % 2 == 0 { &dir_a } else { &dir_b };
        assert!(
            matches!(guess(dir, n), Ok(None)),
            "guess {n} is checked and wrong"
        );
    }
    for dir in [&dir_a, &dir_b] {
        assert!(
            matches!(guess(dir, 9), Err(DirectoryError::Throttled { .. })),
            "the fifth guess is refused on either node"
        );
    }
    // Another address is not held back by the guesser, on either node.
    let colleague = std::net::IpAddr::from([127, 0, 0, 10]);
    let login = dir_b
        .authenticate_from(
            colleague,
            &official.address,
            &Secret::new("mật khẩu đúng rồi".to_owned()),
        )
        .unwrap();
    assert_eq!(login.map(|r| r.address), Some(official.address.clone()));
}

#[test]
fn a_password_changed_on_one_node_ends_the_sessions_it_opened_on_the_other() {
    use congvu_directory::Secret;
    let Some(cluster) = Cluster::for_test() else {
        return;
    };
    migrate(&cluster.url()).unwrap();
    let (a, b) = (Arc::new(node(&cluster)), Arc::new(node(&cluster)));
    let (dir_a, dir_b) = (directory(&a), Arc::new(directory(&b)));
    congvu_store_pg::directory::forward_revocations(&b, Arc::clone(&dir_b));
    dir_a
        .add_agency("sttt", "Sở Thông tin và Truyền thông", None)
        .unwrap();
    let (official, _) = dir_a.add_person("sttt", "Lê Thị Hoa", None, None).unwrap();
    dir_a
        .set_password(&official.address, &Secret::new("mật khẩu cũ đủ dài".to_owned()))
        .unwrap();
    let client = std::net::IpAddr::from([127, 0, 0, 1]);
    // An IMAP session on node B, opened with the old password.
    let (_, watch) = dir_b
        .authenticate_watched(
            client,
            &official.address,
            &Secret::new("mật khẩu cũ đủ dài".to_owned()),
        )
        .unwrap()
        .expect("the old password opens a session");
    assert!(!watch.is_revoked());
    dir_a
        .set_password(&official.address, &Secret::new("mật khẩu mới đủ dài".to_owned()))
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !watch.is_revoked() {
        assert!(
            std::time::Instant::now() < deadline,
            "node B's session of the old password still open 2 s after the change on A"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
