use super::*;
use crate::blob::BlobFile;
use crate::{AccessKind, DsnRequest, DsnRet, FlagOp, Notify, OriginalRecipient, RecipientDsn};
use std::sync::Arc;
use std::time::Instant;

/// The supervision facts of issue 14: mail events, check spans, acknowledgements.
mod facts;

const MB: u64 = 1 << 20;

fn open() -> (tempfile::TempDir, Checked) {
    let dir = tempfile::tempdir().unwrap();
    let store = reopen(dir.path());
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

/// Opens the store again after the previous handle was dropped. sled releases its
/// file lock from a background thread shortly after the last handle goes, so an
/// immediate reopen in the same process can still find it held: wait for it.
fn reopen(path: &std::path::Path) -> SledStore {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match SledStore::open(path) {
            Ok(store) => return store,
            Err(error)
                if std::time::Instant::now() < deadline && error.to_string().contains("acquire lock") =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(error) => panic!("reopen: {error}"),
        }
    }
}

fn account(store: &SledStore) -> AccountId {
    store.create_account(AccountKind::Personal, 100 * MB).unwrap()
}

fn inbox(store: &SledStore, account: AccountId) -> MailboxInfo {
    store.mailbox_by_name(account, "INBOX").unwrap().unwrap()
}

fn mailbox(store: &SledStore, account: AccountId, name: &str) -> MailboxInfo {
    store
        .mailbox_by_name(account, name)
        .unwrap()
        .unwrap_or_else(|| panic!("no mailbox {name}"))
}

fn deliver(store: &SledStore, targets: &[AccountId], bytes: &[u8]) -> Vec<DeliveryOutcome> {
    store
        .deliver(&Delivery {
            bytes: &[bytes],
            internal_date: 1_700_000_000,
            internal_date_offset: 25200,
            targets,
            folder: DeliveryFolder::Inbox,
        })
        .unwrap()
}

fn append(store: &SledStore, mailbox: MailboxId, bytes: &[u8], flags: Flags) -> Result<Appended> {
    store.append(
        mailbox,
        &Append {
            bytes,
            flags,
            keywords: &[],
            internal_date: 1_700_000_000,
            internal_date_offset: 0,
            quota: QuotaRule::Enforce,
        },
    )
}

fn uid(n: u32) -> Uid {
    Uid::new(n).unwrap()
}

fn uids(messages: &[MessageMeta]) -> Vec<u32> {
    messages.iter().map(|m| m.uid.get()).collect()
}

fn store_flags(
    store: &SledStore,
    mailbox: MailboxId,
    uids: &[Uid],
    op: FlagOp,
    flags: Flags,
) -> StoreOutcome {
    store
        .store_flags(
            mailbox,
            &FlagStore {
                uids,
                op,
                flags,
                keywords: &[],
                unchanged_since: None,
            },
        )
        .unwrap()
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

fn used(store: &SledStore, account: AccountId) -> u64 {
    store.account(account).unwrap().unwrap().used_bytes
}

#[test]
fn new_account_has_default_mailboxes_with_special_use() {
    let (_dir, store) = open();
    let id = store.create_account(AccountKind::Agency, 500 * MB).unwrap();
    let storage = store.account(id).unwrap().unwrap();
    assert_eq!(
        storage,
        AccountStorage {
            id,
            kind: AccountKind::Agency,
            quota_bytes: 500 * MB,
            used_bytes: 0
        }
    );
    let list = store.list_mailboxes(id).unwrap();
    let names: Vec<&str> = list.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"]);
    for (name, special_use) in DEFAULT_MAILBOXES {
        let info = mailbox(&store, id, name);
        assert_eq!(info.special_use, special_use, "{name}");
        assert!(info.subscribed);
        assert_eq!((info.uidnext, info.messages, info.highestmodseq), (1, 0, 1));
    }
    let mut validities: Vec<u32> = list.iter().map(|m| m.uidvalidity).collect();
    validities.dedup();
    assert_eq!(validities.len(), 6, "UIDVALIDITY is unique per mailbox");
    assert!(
        validities[0] as i64 >= chrono::Utc::now().timestamp() - 5,
        "seeded by the clock"
    );

    for spelling in ["inbox", "Inbox", "INBOX"] {
        assert_eq!(
            store.mailbox_by_name(id, spelling).unwrap().unwrap().name,
            "INBOX"
        );
    }
    assert!(
        store.mailbox_by_name(id, "sent").unwrap().is_none(),
        "other names are exact"
    );
    assert!(store.list_mailboxes(AccountId(999)).unwrap().is_empty());
}

#[test]
fn delivery_to_three_accounts_stores_one_blob() {
    let (_dir, store) = open();
    let accounts = [account(&store), account(&store), account(&store)];
    let body = b"Subject: =?utf-8?q?C=C3=B4ng_v=C4=83n?=\r\n\r\nN\xe1\xbb\x99i dung\r\n";
    let outcomes = deliver(&store, &accounts, body);
    let blob = BlobId::of(body);
    assert_eq!(stored_blobs(&store), [blob]);
    assert_eq!(ref_count(&store, &blob), 3);
    for (outcome, &account) in outcomes.iter().zip(&accounts) {
        let inbox = inbox(&store, account);
        assert_eq!(
            *outcome,
            DeliveryOutcome::Delivered {
                account,
                mailbox: inbox.id,
                uid: uid(1)
            }
        );
        assert_eq!(
            (inbox.messages, inbox.unseen, inbox.size, inbox.uidnext),
            (1, 1, body.len() as u64, 2)
        );
        assert_eq!(
            used(&store, account),
            body.len() as u64,
            "quota counts it per mailbox"
        );
        let meta = store.message(inbox.id, uid(1)).unwrap().unwrap();
        assert_eq!(store.read_blob(&meta.blob).unwrap(), body);
        assert_eq!(
            (meta.internal_date, meta.internal_date_offset),
            (1_700_000_000, 25200)
        );
    }
    let size = store.size().unwrap();
    assert_eq!(
        (size.accounts, size.mailbox_bytes),
        (3, 3 * body.len() as u64),
        "every copy counts as quotas count it"
    );
    assert!(size.metadata_bytes > 0);

    for (n, &account) in accounts.iter().enumerate() {
        let inbox = inbox(&store, account);
        store_flags(&store, inbox.id, &[uid(1)], FlagOp::Add, Flags::DELETED);
        assert_eq!(store.expunge(inbox.id, None).unwrap(), [uid(1)]);
        assert_eq!(used(&store, account), 0);
        let left = 2 - n as u64;
        assert_eq!(ref_count(&store, &blob), left);
        assert_eq!(
            stored_blobs(&store).len() as u64,
            left.min(1),
            "file goes with the last reference"
        );
    }
    assert!(matches!(store.read_blob(&blob), Err(StoreError::NotFound(_))));
}

#[test]
fn deleting_an_account_removes_its_mailboxes_and_only_its_blob_references() {
    let (_dir, store) = open();
    let (gone, stays) = (account(&store), account(&store));
    let shared = b"Subject: chung\r\n\r\nshared\r\n";
    let own = b"Subject: rieng\r\n\r\nown\r\n";
    deliver(&store, &[gone, stays], shared);
    deliver(&store, &[gone], own);
    let folder = store.create_mailbox(gone, "Du an/2026", None).unwrap();
    append(&store, folder, own, Flags::empty()).unwrap();
    assert_eq!(ref_count(&store, &BlobId::of(own)), 2);

    store.delete_account(gone).unwrap();
    assert_eq!(store.account(gone).unwrap(), None);
    assert!(store.list_mailboxes(gone).unwrap().is_empty());
    assert_eq!(
        stored_blobs(&store),
        [BlobId::of(shared)],
        "the own blob went, the shared one stays"
    );
    assert_eq!(ref_count(&store, &BlobId::of(shared)), 1);
    let inbox = inbox(&store, stays);
    assert_eq!(
        store
            .read_blob(&store.message(inbox.id, uid(1)).unwrap().unwrap().blob)
            .unwrap(),
        shared
    );
    assert!(matches!(store.delete_account(gone), Err(StoreError::NotFound(_))));
    // Its mailbox ids are gone for good: nothing reaches them.
    assert_eq!(store.mailbox(folder).unwrap(), None);
}

#[test]
fn duplicate_targets_get_one_copy_and_empty_bodies_are_refused() {
    let (_dir, store) = open();
    let a = account(&store);
    let outcomes = deliver(&store, &[a, a], b"x");
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(inbox(&store, a).messages, 1);
    assert!(deliver(&store, &[], b"x").is_empty());
    let empty = Delivery {
        bytes: &[b"", b""],
        internal_date: 0,
        internal_date_offset: 0,
        targets: &[a],
        folder: DeliveryFolder::Inbox,
    };
    assert!(matches!(store.deliver(&empty), Err(StoreError::Invalid(_))));
    assert!(matches!(
        append(&store, inbox(&store, a).id, b"", Flags::empty()),
        Err(StoreError::Invalid(_))
    ));
    let unknown = Delivery {
        bytes: &[b"y"],
        internal_date: 0,
        internal_date_offset: 0,
        targets: &[AccountId(77)],
        folder: DeliveryFolder::Inbox,
    };
    assert!(matches!(store.deliver(&unknown), Err(StoreError::NotFound(_))));
}

#[test]
fn concurrent_deliveries_get_unique_ascending_uids() {
    let (_dir, store) = open();
    let store = Arc::new(store);
    let target = account(&store);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..100)
                    .map(|i| {
                        let body = format!("Subject: {t}/{i}\r\n\r\nbody\r\n");
                        match deliver(&store, &[target], body.as_bytes())[..] {
                            [DeliveryOutcome::Delivered { uid, .. }] => uid.get(),
                            ref other => panic!("{other:?}"),
                        }
                    })
                    .collect::<Vec<u32>>()
            })
        })
        .collect();
    let mut all = Vec::new();
    for thread in threads {
        let mine = thread.join().unwrap();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "one writer's UIDs ascend");
        all.extend(mine);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=800).collect::<Vec<u32>>());
    let inbox = inbox(&store, target);
    assert_eq!(
        (inbox.messages, inbox.uidnext, inbox.highestmodseq),
        (800, 801, 801)
    );
    assert_eq!(
        uids(&store.messages(inbox.id).unwrap()),
        (1..=800).collect::<Vec<u32>>()
    );
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
    let store = reopen(dir.path());
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
fn flags_add_remove_replace_keywords_and_unchanged_since() {
    let (_dir, store) = open();
    let id = account(&store);
    let mb = inbox(&store, id).id;
    for body in [b"a", b"b", b"c"] {
        deliver(&store, &[id], body);
    }
    let all = [uid(1), uid(2), uid(3), uid(99)];
    let added = store_flags(&store, mb, &all, FlagOp::Add, Flags::SEEN);
    assert_eq!(uids(&added.changed), [1, 2, 3], "missing UIDs are ignored");
    assert_eq!(
        added.changed.iter().map(|m| m.modseq).collect::<Vec<_>>(),
        [5, 6, 7]
    );
    assert_eq!(inbox(&store, mb_account(&store, mb)).unseen, 0);
    assert!(
        store_flags(&store, mb, &all, FlagOp::Add, Flags::SEEN)
            .changed
            .is_empty(),
        "no-op changes nothing"
    );

    let removed = store_flags(&store, mb, &[uid(2)], FlagOp::Remove, Flags::SEEN);
    assert_eq!(removed.changed[0].flags, Flags::empty());
    assert_eq!(inbox(&store, id).unseen, 1);
    let replaced = store_flags(
        &store,
        mb,
        &[uid(3)],
        FlagOp::Replace,
        Flags::ANSWERED.union(Flags::DRAFT),
    );
    assert_eq!(replaced.changed[0].flags, Flags::ANSWERED.union(Flags::DRAFT));
    assert_eq!(inbox(&store, id).unseen, 2);

    let keywords = [
        "$Forwarded".to_string(),
        "$forwarded".to_string(),
        "Công_việc".to_string(),
    ];
    let request = FlagStore {
        uids: &[uid(1)],
        op: FlagOp::Add,
        flags: Flags::empty(),
        keywords: &keywords,
        unchanged_since: None,
    };
    let with_keywords = store.store_flags(mb, &request).unwrap();
    assert_eq!(with_keywords.changed[0].keywords, ["$Forwarded", "Công_việc"]);
    let remove = ["$FORWARDED".to_string()];
    let request = FlagStore {
        uids: &[uid(1)],
        op: FlagOp::Remove,
        flags: Flags::empty(),
        keywords: &remove,
        unchanged_since: None,
    };
    assert_eq!(
        store.store_flags(mb, &request).unwrap().changed[0].keywords,
        ["Công_việc"]
    );

    // RFC 7162 §3.2: only messages not modified since the given modseq change.
    let modseq_of_1 = store.message(mb, uid(1)).unwrap().unwrap().modseq;
    let modseq_of_2 = store.message(mb, uid(2)).unwrap().unwrap().modseq;
    assert!(modseq_of_2 < modseq_of_1);
    let request = FlagStore {
        uids: &[uid(1), uid(2)],
        op: FlagOp::Add,
        flags: Flags::FLAGGED,
        keywords: &[],
        unchanged_since: Some(modseq_of_2),
    };
    let conditional = store.store_flags(mb, &request).unwrap();
    assert_eq!(uids(&conditional.changed), [2]);
    assert_eq!(conditional.failed, [uid(1)]);
    let info = inbox(&store, id);
    assert_eq!(info.highestmodseq, conditional.changed[0].modseq);
    assert!(matches!(
        store.store_flags(MailboxId(12345), &request),
        Err(StoreError::NotFound(_))
    ));
}

fn mb_account(store: &SledStore, mailbox: MailboxId) -> AccountId {
    store.mailbox(mailbox).unwrap().unwrap().account
}

#[test]
fn expunge_only_given_uids_and_bumps_modseq() {
    let (_dir, store) = open();
    let id = account(&store);
    let mb = inbox(&store, id).id;
    for body in [b"a", b"b", b"c"] {
        deliver(&store, &[id], body);
    }
    store_flags(&store, mb, &[uid(1), uid(3)], FlagOp::Add, Flags::DELETED);
    let before = inbox(&store, id).highestmodseq;
    assert_eq!(
        store.expunge(mb, Some(&[uid(2), uid(3)])).unwrap(),
        [uid(3)],
        "UID EXPUNGE"
    );
    let after = inbox(&store, id);
    assert_eq!(after.highestmodseq, before + 1);
    assert_eq!((after.messages, after.size), (2, 2));
    assert_eq!(store.expunge(mb, None).unwrap(), [uid(1)]);
    assert_eq!(uids(&store.messages(mb).unwrap()), [2]);
    assert!(store.expunge(mb, None).unwrap().is_empty());
    assert!(matches!(
        store.expunge(MailboxId(999), None),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(used(&store, id), 1);
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
    let store = reopen(dir.path());
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
    let store = reopen(dir.path());
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

#[test]
fn copy_and_move_return_copyuid_pairs() {
    let (_dir, store) = open();
    let id = account(&store);
    let src = inbox(&store, id);
    let archive = mailbox(&store, id, "Archive");
    for body in [b"a", b"b", b"c"] {
        deliver(&store, &[id], body);
    }
    store_flags(&store, src.id, &[uid(2)], FlagOp::Add, Flags::SEEN);

    let copied = store.copy(src.id, &[uid(3), uid(2), uid(7)], archive.id).unwrap();
    assert_eq!(
        copied,
        Copied {
            uidvalidity: archive.uidvalidity,
            pairs: vec![(uid(2), uid(1)), (uid(3), uid(2))]
        }
    );
    let copy = store.message(archive.id, uid(1)).unwrap().unwrap();
    let original = store.message(src.id, uid(2)).unwrap().unwrap();
    assert_eq!(
        (copy.flags, copy.internal_date, copy.blob),
        (original.flags, original.internal_date, original.blob)
    );
    assert_eq!(ref_count(&store, &original.blob), 2);
    assert_eq!(used(&store, id), 5, "a copy counts against quota");

    let moved = store.move_messages(src.id, &[uid(1)], archive.id).unwrap();
    assert_eq!(moved.pairs, [(uid(1), uid(3))]);
    assert_eq!(uids(&store.messages(src.id).unwrap()), [2, 3]);
    assert_eq!(uids(&store.messages(archive.id).unwrap()), [1, 2, 3]);
    assert_eq!(used(&store, id), 5, "a move within the account changes no usage");
    assert_eq!(ref_count(&store, &BlobId::of(b"a")), 1);

    // MOVE to another account moves the usage too; MOVE within one mailbox renumbers.
    let other = account(&store);
    let other_inbox = inbox(&store, other);
    store
        .move_messages(archive.id, &[uid(3)], other_inbox.id)
        .unwrap();
    assert_eq!((used(&store, id), used(&store, other)), (4, 1));
    let renumbered = store
        .move_messages(other_inbox.id, &[uid(1)], other_inbox.id)
        .unwrap();
    assert_eq!(renumbered.pairs, [(uid(1), uid(2))]);
    let info = inbox(&store, other);
    assert_eq!((info.messages, info.uidnext), (1, 3));
    assert_eq!(used(&store, other), 1);

    assert!(
        store
            .copy(src.id, &[uid(50)], archive.id)
            .unwrap()
            .pairs
            .is_empty()
    );
    assert!(matches!(
        store.copy(src.id, &[uid(2)], MailboxId(999)),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn quota_refuses_append_and_copy_and_skips_full_targets_on_delivery() {
    let (_dir, store) = open();
    let small = store.create_account(AccountKind::Personal, 10).unwrap();
    let roomy = account(&store);
    let small_inbox = inbox(&store, small).id;
    append(&store, small_inbox, b"123456", Flags::SEEN).unwrap();
    match append(&store, small_inbox, b"12345", Flags::empty()) {
        Err(StoreError::OverQuota { used, adding, limit }) => assert_eq!((used, adding, limit), (6, 5, 10)),
        other => panic!("{other:?}"),
    }
    let outcomes = deliver(&store, &[small, roomy], b"12345");
    assert_eq!(outcomes[0], DeliveryOutcome::OverQuota { account: small });
    assert!(matches!(outcomes[1], DeliveryOutcome::Delivered { account, .. } if account == roomy));
    assert_eq!(ref_count(&store, &BlobId::of(b"12345")), 1);
    assert!(matches!(
        store.copy(inbox(&store, roomy).id, &[uid(1)], small_inbox),
        Err(StoreError::OverQuota { .. })
    ));
    // A delivery nobody could take leaves no file behind.
    let nobody = deliver(&store, &[small], b"far too large for ten bytes");
    assert_eq!(nobody, [DeliveryOutcome::OverQuota { account: small }]);
    assert!(!stored_blobs(&store).contains(&BlobId::of(b"far too large for ten bytes")));

    // An import told to ignore the quota stores the message and counts it past the limit.
    let ignored = Append {
        bytes: b"12345",
        flags: Flags::empty(),
        keywords: &[],
        internal_date: 1_700_000_000,
        internal_date_offset: 0,
        quota: QuotaRule::Ignore,
    };
    store.append(small_inbox, &ignored).unwrap();
    assert_eq!(store.account(small).unwrap().unwrap().used_bytes, 11);
    assert!(store.check().unwrap().is_consistent());
    store.set_quota(small, 100).unwrap();
    append(&store, small_inbox, b"12345", Flags::empty()).unwrap();
    assert_eq!(store.account(small).unwrap().unwrap().quota_bytes, 100);
    assert!(matches!(
        store.set_quota(AccountId(999), 1),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn create_and_rename_mailboxes_with_children() {
    let (_dir, store) = open();
    let id = account(&store);
    let child = store.create_mailbox(id, "Công văn đến/2024/Quý 1", None).unwrap();
    for name in ["Công văn đến", "Công văn đến/2024"] {
        assert!(
            store.mailbox_by_name(id, name).unwrap().is_some(),
            "parent {name} created"
        );
    }
    assert!(matches!(
        store.create_mailbox(id, "Công văn đến", None),
        Err(StoreError::Exists(_))
    ));
    assert!(matches!(
        store.create_mailbox(id, "inbox", None),
        Err(StoreError::Exists(_))
    ));
    assert!(matches!(
        store.create_mailbox(id, "a//b", None),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_mailbox(AccountId(999), "x", None),
        Err(StoreError::NotFound(_))
    ));

    let before = store.mailbox(child).unwrap().unwrap();
    store
        .rename_mailbox(id, "Công văn đến", "Lưu trữ/Công văn")
        .unwrap();
    let after = store.mailbox(child).unwrap().unwrap();
    assert_eq!(after.name, "Lưu trữ/Công văn/2024/Quý 1");
    assert_eq!(after.uidvalidity, before.uidvalidity);
    assert!(store.mailbox_by_name(id, "Công văn đến").unwrap().is_none());
    assert!(
        store.mailbox_by_name(id, "Lưu trữ").unwrap().is_some(),
        "new parent created"
    );

    assert!(matches!(
        store.rename_mailbox(id, "Sent", "Drafts"),
        Err(StoreError::Exists(_))
    ));
    assert!(matches!(
        store.rename_mailbox(id, "Sent", "Sent/x"),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.rename_mailbox(id, "Nope", "Other"),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.rename_mailbox(id, "Sent", "INBOX"),
        Err(StoreError::Exists(_))
    ));
    store.rename_mailbox(id, "Sent", "Sent Items").unwrap();
    assert_eq!(
        mailbox(&store, id, "Sent Items").special_use,
        Some(SpecialUse::Sent)
    );
    // "Sentx" is not an inferior of "Sent": a rename must not take it along.
    store.create_mailbox(id, "Sent Itemsx", None).unwrap();
    store.rename_mailbox(id, "Sent Items", "Sent").unwrap();
    assert!(store.mailbox_by_name(id, "Sent Itemsx").unwrap().is_some());
}

#[test]
fn renaming_inbox_moves_its_messages_and_leaves_it_empty() {
    let (_dir, store) = open();
    let id = account(&store);
    deliver(&store, &[id], b"first");
    deliver(&store, &[id], b"second");
    let before = inbox(&store, id);
    store.rename_mailbox(id, "inbox", "Old mail").unwrap();
    let after = inbox(&store, id);
    assert_eq!(
        (after.id, after.uidvalidity, after.uidnext),
        (before.id, before.uidvalidity, 3)
    );
    assert_eq!((after.messages, after.unseen, after.size), (0, 0, 0));
    assert!(after.highestmodseq > before.highestmodseq);
    let old = mailbox(&store, id, "Old mail");
    assert_ne!(old.uidvalidity, before.uidvalidity);
    assert_eq!(uids(&store.messages(old.id).unwrap()), [1, 2]);
    assert_eq!(
        store
            .read_blob(&store.message(old.id, uid(2)).unwrap().unwrap().blob)
            .unwrap(),
        b"second"
    );
    assert_eq!((old.messages, old.size), (2, 11));
    assert_eq!(used(&store, id), 11);
    let [DeliveryOutcome::Delivered { uid: next, .. }] = deliver(&store, &[id], b"third")[..] else {
        panic!()
    };
    assert_eq!(next, uid(3), "INBOX UIDs are never reused");
}

#[test]
fn deleting_a_mailbox_releases_its_blobs() {
    let (_dir, store) = open();
    let id = account(&store);
    let project = store.create_mailbox(id, "Dự án", None).unwrap();
    append(&store, project, b"shared", Flags::empty()).unwrap();
    append(&store, project, b"only here", Flags::empty()).unwrap();
    deliver(&store, &[id], b"shared");
    let first = store.mailbox(project).unwrap().unwrap();

    store.create_mailbox(id, "Dự án/Con", None).unwrap();
    assert!(
        matches!(store.delete_mailbox(id, "Dự án"), Err(StoreError::Invalid(_))),
        "has children"
    );
    store.delete_mailbox(id, "Dự án/Con").unwrap();
    store.delete_mailbox(id, "Dự án").unwrap();

    assert!(store.mailbox(project).unwrap().is_none());
    assert!(store.messages(project).is_err());
    assert_eq!(stored_blobs(&store), [BlobId::of(b"shared")]);
    assert_eq!(ref_count(&store, &BlobId::of(b"shared")), 1);
    assert_eq!(used(&store, id), 6);
    assert!(matches!(
        store.delete_mailbox(id, "INBOX"),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.delete_mailbox(id, "Dự án"),
        Err(StoreError::NotFound(_))
    ));

    let again = store.create_mailbox(id, "Dự án", None).unwrap();
    let again = store.mailbox(again).unwrap().unwrap();
    assert_ne!(
        again.uidvalidity, first.uidvalidity,
        "a recreated mailbox gets a new UIDVALIDITY"
    );
    assert_eq!(again.uidnext, 1);
}

#[test]
fn deleting_a_mailbox_while_messages_arrive_keeps_counts_exact() {
    let (_dir, store) = open();
    let store = Arc::new(store);
    let id = account(&store);
    let target = store.create_mailbox(id, "Tạm", None).unwrap();
    let appender = {
        let store = store.clone();
        std::thread::spawn(move || {
            let mut appended = 0;
            for i in 0..200 {
                match append(&store, target, format!("message {i}").as_bytes(), Flags::empty()) {
                    Ok(_) => appended += 1,
                    Err(StoreError::NotFound(_)) => break,
                    Err(other) => panic!("{other:?}"),
                }
            }
            appended
        })
    };
    while store.mailbox(target).unwrap().unwrap().messages < 20 {
        std::thread::yield_now();
    }
    store.delete_mailbox(id, "Tạm").unwrap();
    let appended = appender.join().unwrap();
    assert!(appended >= 20);
    assert_eq!(used(&store, id), 0, "every deleted message left the usage");
    // Any write flushes; blobs of appends refused after the delete go with it.
    store.set_quota(id, 100 * MB).unwrap();
    assert!(stored_blobs(&store).is_empty());
    assert_eq!(store.trees.refs.len(), 0);
}

#[test]
fn subscriptions() {
    let (_dir, store) = open();
    let id = account(&store);
    store.set_subscribed(id, "Junk", false).unwrap();
    assert!(!mailbox(&store, id, "Junk").subscribed);
    store.set_subscribed(id, "inbox", true).unwrap();
    // RFC 3501 §6.3.6: a name with no mailbox may be subscribed (see
    // `subscriptions`); only unsubscribing a name that is nothing fails.
    store.set_subscribed(id, "Nope", true).unwrap();
    assert!(store.subscriptions(id).unwrap().contains(&"Nope".to_string()));
    assert!(matches!(
        store.set_subscribed(id, "Never", false),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn changes_are_announced_after_writes() {
    let (_dir, store) = open();
    let id = account(&store);
    let mb = inbox(&store, id).id;
    let mut changes = store.subscribe(id);
    deliver(&store, &[id], b"hello");
    let new = changes.try_recv().unwrap();
    assert_eq!(
        new,
        Change {
            account: id,
            mailbox: mb,
            kind: ChangeKind::New,
            modseq: 2
        }
    );
    store_flags(&store, mb, &[uid(1)], FlagOp::Add, Flags::DELETED);
    assert_eq!(changes.try_recv().unwrap().kind, ChangeKind::Flags);
    store.expunge(mb, None).unwrap();
    let expunge = changes.try_recv().unwrap();
    assert_eq!((expunge.kind, expunge.modseq), (ChangeKind::Expunge, 4));
    store.create_mailbox(id, "Mới", None).unwrap();
    assert_eq!(changes.try_recv().unwrap().kind, ChangeKind::MailboxList);
    assert!(changes.try_recv().is_err(), "nothing else was announced");
}

/// Notifications are per account (issue 13): a subscriber of B is not woken by
/// A's mail; a MOVE from A to B tells A of the expunge and B of the new message;
/// the channels go with their last subscriber.
#[test]
fn changes_reach_only_the_subscribers_of_their_account() {
    let (_dir, store) = open();
    let (a, b) = (account(&store), account(&store));
    let (inbox_a, inbox_b) = (inbox(&store, a).id, inbox(&store, b).id);
    let mut watch_a = store.subscribe(a);
    let mut watch_b = store.subscribe(b);
    deliver(&store, &[a], b"Subject: a\r\n\r\na\r\n");
    assert_eq!(watch_a.try_recv().unwrap().mailbox, inbox_a);
    assert!(watch_b.try_recv().is_err(), "B woke for A's mail");
    store.move_messages(inbox_a, &[uid(1)], inbox_b).unwrap();
    let expunge = watch_a.try_recv().unwrap();
    assert_eq!((expunge.kind, expunge.mailbox), (ChangeKind::Expunge, inbox_a));
    let new = watch_b.try_recv().unwrap();
    assert_eq!(
        (new.kind, new.mailbox, new.account),
        (ChangeKind::New, inbox_b, b)
    );
    assert!(watch_a.try_recv().is_err() && watch_b.try_recv().is_err());
    assert_eq!(store.changes.accounts(), 2);
    drop((watch_a, watch_b));
    assert_eq!(store.changes.accounts(), 0, "no channel is kept for nobody");
}

/// `changed_since` gives the messages appended or re-flagged after a modseq, the
/// UIDs expunged after it, and the mailbox record; nothing after its own
/// HIGHESTMODSEQ.
#[test]
fn changed_since_gives_what_changed_after_a_modseq() {
    let (_dir, store) = open();
    let a = account(&store);
    let mb = inbox(&store, a).id;
    for n in 0..5u8 {
        deliver(&store, &[a], &[b'x', n]);
    }
    let synced = inbox(&store, a).highestmodseq;
    assert_eq!(synced, 6);
    let nothing = store.changed_since(mb, synced).unwrap();
    assert!(nothing.changed.is_empty() && nothing.expunged.is_empty());
    assert_eq!((nothing.mailbox.messages, nothing.mailbox.uidnext), (5, 6));

    store_flags(&store, mb, &[uid(4)], FlagOp::Add, Flags::SEEN);
    store_flags(&store, mb, &[uid(2), uid(3)], FlagOp::Add, Flags::DELETED);
    store.expunge(mb, Some(&[uid(2)])).unwrap();
    deliver(&store, &[a], b"six");
    let changes = store.changed_since(mb, synced).unwrap();
    let seen: Vec<(u32, Flags)> = changes.changed.iter().map(|m| (m.uid.get(), m.flags)).collect();
    assert_eq!(
        seen,
        [(3, Flags::DELETED), (4, Flags::SEEN), (6, Flags::empty())],
        "ascending by UID, as they are now; UID 2 is gone"
    );
    assert_eq!(changes.expunged, [uid(2)]);
    assert_eq!(changes.mailbox, inbox(&store, a));
    assert_eq!(changes.mailbox.highestmodseq, synced + 5);
    // From where the caller got to: nothing more.
    let later = store.changed_since(mb, changes.mailbox.highestmodseq).unwrap();
    assert!(later.changed.is_empty() && later.expunged.is_empty());
    // From just before the last delivery: only it.
    let last = store.changed_since(mb, synced + 4).unwrap();
    assert_eq!(uids(&last.changed), [6]);
    assert!(last.expunged.is_empty());
    // From 0: every message; a copy in comes as new.
    store
        .copy(mb, &[uid(1)], mailbox(&store, a, "Archive").id)
        .unwrap();
    let archive = store.changed_since(mailbox(&store, a, "Archive").id, 0).unwrap();
    assert_eq!(uids(&archive.changed), [1]);
    assert_eq!(
        uids(&store.changed_since(mb, 0).unwrap().changed),
        [1, 3, 4, 5, 6]
    );

    store.delete_mailbox(a, "Archive").unwrap();
    assert!(matches!(
        store.changed_since(archive.mailbox.id, 0),
        Err(StoreError::NotFound(_))
    ));
}

/// A store written before the change log gets one record per mailbox at open,
/// once, and the old per-message index goes; a log that does not cover the
/// records is found by the check and rebuilt by the repair.
#[test]
fn the_change_log_is_built_for_an_older_store_checked_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let store = reopen(dir.path());
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
    let store = reopen(dir.path());
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
    let store = Checked(reopen(dir.path()));
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
    let a = account(&store);
    let mb = inbox(&store, a).id;
    for n in 0..50u8 {
        deliver(&store, &[a], &[b'z', n]);
    }
    let before = store.trees.changes.len();
    let all: Vec<Uid> = (1..=50).map(uid).collect();
    store_flags(&store, mb, &all, FlagOp::Add, Flags::SEEN);
    assert_eq!(store.trees.changes.len(), before + 1);
    let (_, record) = store.trees.changes.last().unwrap().unwrap();
    assert_eq!(record.len(), 8, "one range");
    let since = store.mailbox(mb).unwrap().unwrap().highestmodseq;
    store_flags(&store, mb, &[uid(7), uid(9)], FlagOp::Add, Flags::FLAGGED);
    assert_eq!(uids(&store.changed_since(mb, since).unwrap().changed), [7, 9]);
    // From inside that record's modseqs: exactly the messages above.
    assert_eq!(
        uids(&store.changed_since(mb, since - 1).unwrap().changed),
        [7, 9, 50]
    );
    assert_eq!(store.changed_since(mb, since - 50).unwrap().changed.len(), 50);
}

#[test]
fn enqueue_keeps_a_blob_reference() {
    let (_dir, store) = open();
    let from = account(&store);
    let recipients = ["a@example.org".to_string(), "b@example.net".to_string()];
    let outbound = Outbound {
        bytes: &[b"out", b"bound"],
        sender: "tuanna.sttt@thanhhoa.gov.vn",
        recipients: &recipients,
        submitted_by: Some(from),
        dsn: &DsnRequest::default(),
    };
    let first = store.enqueue(&outbound).unwrap();
    let second = store.enqueue(&outbound).unwrap();
    assert_eq!((first, second), (QueueId(1), QueueId(2)));
    let queue = store.queue().unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!(queue[0].recipients, recipients);
    assert_eq!(
        (queue[0].size, queue[0].attempts, queue[0].queued_at),
        (8, 0, queue[0].next_attempt)
    );
    assert_eq!(ref_count(&store, &BlobId::of(b"outbound")), 2);
    assert_eq!(store.read_blob(&queue[1].blob).unwrap(), b"outbound");
    let nobody = Outbound {
        recipients: &[],
        ..outbound
    };
    assert!(matches!(store.enqueue(&nobody), Err(StoreError::Invalid(_))));
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
    let store = reopen(dir.path());
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
    let store = reopen(dir.path());
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
    let store = reopen(dir.path());
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
    let id = account(&store);
    deliver(&store, &[id], b"kept");
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
    let id = account(&store);
    let mb = inbox(&store, id).id;
    for round in 0..50 {
        let [DeliveryOutcome::Delivered { uid: first, .. }] = deliver(&store, &[id], b"same bytes")[..]
        else {
            panic!()
        };
        store_flags(&store, mb, &[first], FlagOp::Add, Flags::DELETED);
        let expunger = {
            let store = store.clone();
            std::thread::spawn(move || store.expunge(mb, None).unwrap())
        };
        deliver(&store, &[id], b"same bytes");
        expunger.join().unwrap();
        let remaining = store.messages(mb).unwrap();
        assert_eq!(remaining.len(), 1, "round {round}");
        assert_eq!(
            store.read_blob(&remaining[0].blob).unwrap(),
            b"same bytes",
            "round {round}"
        );
        store_flags(&store, mb, &[remaining[0].uid], FlagOp::Add, Flags::DELETED);
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
    let targets: Vec<AccountId> = (0..8).map(|_| account(&store)).collect();
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
                        deliver(&store, &[targets[w % targets.len()]], &body);
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

#[test]
fn junk_delivery_files_by_special_use_and_falls_back_to_the_inbox() {
    let (_dir, store) = open();
    let renamed = account(&store);
    let without = account(&store);
    store.rename_mailbox(renamed, "Junk", "Thư rác").unwrap();
    store.delete_mailbox(without, "Junk").unwrap();
    let parts: [&[u8]; 2] = [b"X-Tag: 1\r\n", b"Subject: a\r\n\r\nbody\r\n"];
    let outcomes = store
        .deliver(&Delivery {
            bytes: &parts,
            internal_date: 1_700_000_000,
            internal_date_offset: 0,
            targets: &[renamed, without],
            folder: DeliveryFolder::Junk,
        })
        .unwrap();
    let junk = mailbox(&store, renamed, "Thư rác");
    assert_eq!(junk.special_use, Some(SpecialUse::Junk));
    let expected = [(renamed, junk.id), (without, inbox(&store, without).id)];
    for (outcome, (account, mailbox)) in outcomes.iter().zip(expected) {
        assert!(
            matches!(outcome, DeliveryOutcome::Delivered { account: a, mailbox: m, .. } if *a == account && *m == mailbox),
            "{outcome:?}"
        );
    }
    assert!(store.messages(inbox(&store, renamed).id).unwrap().is_empty());
    // The parts are one blob, their concatenation.
    let stored = store.messages(junk.id).unwrap();
    assert_eq!(store.read_blob(&stored[0].blob).unwrap(), parts.concat());
}

#[test]
fn a_sent_copy_is_filed_seen_in_the_sent_mailbox_whatever_its_name() {
    let (_dir, store) = open();
    let agency = store.create_account(AccountKind::Agency, 500 * MB).unwrap();
    store.rename_mailbox(agency, "Sent", "Thư đã gửi").unwrap();
    let outcomes = store
        .deliver(&Delivery {
            bytes: &["Subject: công văn\r\n\r\nx\r\n".as_bytes()],
            internal_date: 1_700_000_000,
            internal_date_offset: 25200,
            targets: &[agency],
            folder: DeliveryFolder::Sent,
        })
        .unwrap();
    let sent = mailbox(&store, agency, "Thư đã gửi");
    assert!(matches!(outcomes[0], DeliveryOutcome::Delivered { mailbox, .. } if mailbox == sent.id));
    let stored = store.messages(sent.id).unwrap();
    assert_eq!(stored[0].flags, Flags::SEEN);
    assert!(store.messages(inbox(&store, agency).id).unwrap().is_empty());
}

/// The store's own consistency check finds nothing after every kind of write, and
/// finds each kind of damage it is meant to find (issue 12).
#[test]
fn the_consistency_check_passes_after_every_write_and_names_each_damage() {
    // Unchecked at the end: the test damages the store on purpose.
    let dir = tempfile::tempdir().unwrap();
    let store = reopen(dir.path());
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
    let a = account(&store);
    let inbox = inbox(&store, a);
    deliver(&store, &[a], b"Subject: a\r\n\r\na\r\n");
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
    let a = account(&store);
    deliver(&store, &[a], b"Subject: a\r\n\r\na\r\n");
    deliver(&store, &[a], b"Subject: b\r\n\r\nb\r\n");
    let mut mailbox = inbox(&store, a);
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
    let mailbox = inbox(&store, a);
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
fn windows_read_the_mailbox_in_uid_order_both_ways() {
    let (_dir, store) = open();
    let account = account(&store);
    let inbox = inbox(&store, account);
    let other = mailbox(&store, account, "Archive");
    for n in 0..7 {
        append(
            &store,
            inbox.id,
            format!("Subject: {n}\r\n\r\nx").as_bytes(),
            Flags::empty(),
        )
        .unwrap();
    }
    append(&store, other.id, b"Subject: other\r\n\r\nx", Flags::empty()).unwrap();
    assert_eq!(
        uids(&store.message_window(inbox.id, true, 0, 3).unwrap()),
        [7, 6, 5]
    );
    assert_eq!(uids(&store.message_window(inbox.id, true, 5, 3).unwrap()), [2, 1]);
    assert_eq!(
        uids(&store.message_window(inbox.id, false, 2, 2).unwrap()),
        [3, 4]
    );
    assert!(store.message_window(inbox.id, false, 9, 2).unwrap().is_empty());
    // A window never spills into the next mailbox's keys.
    assert_eq!(uids(&store.message_window(other.id, true, 0, 9).unwrap()), [1]);
    assert!(store.message_window(MailboxId(999_999), true, 0, 1).is_err());
}
