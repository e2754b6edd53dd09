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

fn cluster() -> Option<Cluster> {
    let cluster = Cluster::start();
    if cluster.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "PostgreSQL's server is not installed: .ci/run installs postgresql"
        );
        eprintln!("SKIPPED: PostgreSQL not installed");
    }
    cluster
}

fn node(cluster: &Cluster) -> PgStore {
    PgStore::connect(&PgConfig {
        url: cluster.url(),
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

#[test]
fn migrations_apply_once_and_a_store_needs_them() {
    let Some(cluster) = cluster() else { return };
    let refused = PgStore::connect(&PgConfig {
        url: cluster.url(),
        pool_size: 1,
        statement_timeout: Duration::from_secs(5),
    });
    assert!(
        matches!(&refused, Err(StoreError::Invalid(text)) if text.contains("congvu db migrate")),
        "{:?}",
        refused.err()
    );
    assert_eq!(migrate(&cluster.url()).unwrap(), [1]);
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
    let Some(cluster) = cluster() else { return };
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
    let Some(cluster) = cluster() else { return };
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
    let Some(cluster) = cluster() else { return };
    migrate(&cluster.url()).unwrap();
    let a = node(&cluster);
    let b = node(&cluster);
    let account = a.create_account(AccountKind::Personal, 100 * MB).unwrap();
    let inbox = a.mailbox_by_name(account, "INBOX").unwrap().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut subscription = b.subscribe(account);
    // The listener of node B is connected once a first notification gets through.
    std::thread::sleep(Duration::from_millis(300));
    let appended = append(&a, inbox.id, b"Subject: x\r\n\r\ny\r\n", Flags::empty());
    let change = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(1), subscription.recv()).await })
        .expect("woken within a second")
        .expect("a change");
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
    let flagged = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(1), subscription.recv()).await })
        .expect("woken within a second")
        .expect("a change");
    assert_eq!(flagged.kind, ChangeKind::Flags);
    assert_eq!(flagged.modseq, changes.mailbox.highestmodseq);
}

#[test]
fn folders_rename_move_and_delete_as_on_sled() {
    let Some(cluster) = cluster() else { return };
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
