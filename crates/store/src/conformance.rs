//! The store's behaviour every backend must show, as test bodies over
//! `Arc<dyn MailStore>`: the sled store's tests and the PostgreSQL store's run the
//! same ones ([`conformance_tests!`]), each on a fresh store that the runner checks
//! for consistency afterwards.
//!
//! [`references`] counts a body's references through the trait (messages of every
//! mailbox, queue entries) and asserts that the body can be read exactly while one
//! exists: crate invariant 4, checked wherever a test counts.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;

use crate::*;

pub const MB: u64 = 1 << 20;

/// One `#[test]` per conformance test, each on the store `$open` gives: `Some` value
/// that dereferences to `Arc<dyn MailStore>` and checks the store when dropped
/// ([`Fresh`]), or `None` when the backend cannot run here (the test then skips).
#[macro_export]
macro_rules! conformance_tests {
    ($open:expr) => {
        $crate::conformance_tests!(@each $open; new_account_has_default_mailboxes_with_special_use, delivery_to_three_accounts_stores_one_blob, deleting_an_account_removes_its_mailboxes_and_only_its_blob_references, duplicate_targets_get_one_copy_and_empty_bodies_are_refused, concurrent_deliveries_get_unique_ascending_uids, flags_add_remove_replace_keywords_and_unchanged_since, expunge_only_given_uids_and_bumps_modseq, copy_and_move_return_copyuid_pairs, quota_refuses_append_and_copy_and_skips_full_targets_on_delivery, create_and_rename_mailboxes_with_children, renaming_inbox_moves_its_messages_and_leaves_it_empty, deleting_a_mailbox_releases_its_blobs, deleting_a_mailbox_while_messages_arrive_keeps_counts_exact, subscriptions, changes_are_announced_after_writes, changes_reach_only_the_subscribers_of_their_account, changed_since_gives_what_changed_after_a_modseq, enqueue_keeps_a_blob_reference, junk_delivery_files_by_special_use_and_falls_back_to_the_inbox, a_sent_copy_is_filed_seen_in_the_sent_mailbox_whatever_its_name, windows_read_the_mailbox_in_uid_order_both_ways, a_selection_left_is_one_closed_span, a_selection_never_left_ends_at_the_limit_or_the_sessions_next_event, interleaved_sessions_close_their_own_spans, a_clerk_through_the_shared_namespace_makes_a_span_of_the_agency, spans_crossing_the_periods_edges_keep_their_ends, acknowledgements_keep_the_first_and_go_with_their_account, of_two_keepers_acknowledging_at_once_one_wins_whole, a_login_is_one_access_event_and_one_mail_event);
    };
    (@each $open:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let Some(store) = $open else { return };
                $crate::conformance::$name(&store);
            }
        )*
    };
}

/// A fresh store for one conformance test, and what keeps it (a temporary
/// directory, a private cluster): checked for consistency when the test is done
/// with it, before what keeps it goes.
pub struct Fresh<K> {
    store: Arc<dyn MailStore>,
    _keep: K,
}

impl<K> Fresh<K> {
    pub fn new(store: Arc<dyn MailStore>, keep: K) -> Fresh<K> {
        Fresh { store, _keep: keep }
    }
}

impl<K> std::ops::Deref for Fresh<K> {
    type Target = Arc<dyn MailStore>;
    fn deref(&self) -> &Arc<dyn MailStore> {
        &self.store
    }
}

impl<K> Drop for Fresh<K> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let report = self.store.check().expect("consistency check");
            assert!(
                report.is_consistent(),
                "the test left an inconsistent store: {report:?}"
            );
        }
    }
}

/// The references to `blob` that exist (messages in every account, queue entries);
/// asserts the body is readable exactly while there is one.
pub fn references(store: &dyn MailStore, blob: &BlobId) -> u64 {
    let mut count = 0;
    for account in store.account_ids().unwrap() {
        for mailbox in store.list_mailboxes(account).unwrap() {
            count += store
                .messages(mailbox.id)
                .unwrap()
                .iter()
                .filter(|m| m.blob == *blob)
                .count() as u64;
        }
    }
    count += store.queue().unwrap().iter().filter(|e| e.blob == *blob).count() as u64;
    assert_eq!(
        store.read_blob(blob).is_ok(),
        count > 0,
        "a body is kept exactly while something references it ({count} references)"
    );
    count
}

/// The next change announced to `subscription`, waiting up to five seconds: a
/// backend may announce after its commit from another thread (PostgreSQL's
/// LISTEN), never before it; a loaded 2-core CI machine may delay that thread.
pub fn next_change(subscription: &mut Subscription) -> Change {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match subscription.try_recv() {
            Ok(change) => return change,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(error) => panic!("no change announced within 5 s: {error:?}"),
        }
    }
}

/// True when nothing is announced to `subscription` within 200 ms.
pub fn quiet(subscription: &mut Subscription) -> bool {
    std::thread::sleep(std::time::Duration::from_millis(200));
    subscription.try_recv().is_err()
}

/// Every body referenced, sorted.
pub fn referenced(store: &dyn MailStore) -> Vec<BlobId> {
    let mut blobs: Vec<BlobId> = store.queue().unwrap().iter().map(|e| e.blob).collect();
    for account in store.account_ids().unwrap() {
        for mailbox in store.list_mailboxes(account).unwrap() {
            blobs.extend(store.messages(mailbox.id).unwrap().iter().map(|m| m.blob));
        }
    }
    blobs.sort_by_key(|b| b.0);
    blobs.dedup();
    blobs
}

pub fn account(store: &dyn MailStore) -> AccountId {
    store.create_account(AccountKind::Personal, 100 * MB).unwrap()
}

pub fn inbox(store: &dyn MailStore, account: AccountId) -> MailboxInfo {
    store.mailbox_by_name(account, "INBOX").unwrap().unwrap()
}

pub fn mailbox(store: &dyn MailStore, account: AccountId, name: &str) -> MailboxInfo {
    store
        .mailbox_by_name(account, name)
        .unwrap()
        .unwrap_or_else(|| panic!("no mailbox {name}"))
}

pub fn deliver(store: &dyn MailStore, targets: &[AccountId], bytes: &[u8]) -> Vec<DeliveryOutcome> {
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

pub fn append(store: &dyn MailStore, mailbox: MailboxId, bytes: &[u8], flags: Flags) -> Result<Appended> {
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

pub fn uid(n: u32) -> Uid {
    Uid::new(n).unwrap()
}

pub fn uids(messages: &[MessageMeta]) -> Vec<u32> {
    messages.iter().map(|m| m.uid.get()).collect()
}

pub fn store_flags(
    store: &dyn MailStore,
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

pub fn used(store: &dyn MailStore, account: AccountId) -> u64 {
    store.account(account).unwrap().unwrap().used_bytes
}

pub fn inbox_of(store: &dyn MailStore, account: AccountId) -> MailboxId {
    inbox(store, account).id
}

pub fn mb_account(store: &dyn MailStore, mailbox: MailboxId) -> AccountId {
    store.mailbox(mailbox).unwrap().unwrap().account
}

pub const AGENCY_LOGIN: &str = "sttt@thanhhoa.gov.vn";

pub const CLERK_LOGIN: &str = "vanthu.sttt@thanhhoa.gov.vn";

pub fn event(at: i64, account: AccountId, kind: MailEventKind) -> EventRecord {
    EventRecord { at, account, kind }
}

pub fn access(account: AccountId, login: &str, session: u64, at: i64, kind: AccessKind) -> AccessEvent {
    AccessEvent {
        account,
        login: login.into(),
        kind,
        at,
        client: "127.0.0.1".into(),
        protocol: "imaps".into(),
        session,
    }
}

/// Records the events of `(session, at, kind)` on the account, by the agency's login.
pub fn record(store: &dyn MailStore, account: AccountId, events: &[(u64, i64, AccessKind)]) {
    for &(session, at, kind) in events {
        store
            .record_access(&access(account, AGENCY_LOGIN, session, at, kind))
            .unwrap();
    }
}

/// `(from, until, closed)` of each span.
pub fn bounds(spans: &[AccessSpan]) -> Vec<(i64, i64, bool)> {
    spans.iter().map(|s| (s.from, s.until, s.closed)).collect()
}

pub fn pending(
    account: AccountId,
    mailbox: MailboxId,
    uid: u32,
    message_id: &str,
    received_at: i64,
) -> PendingAck {
    PendingAck {
        account,
        mailbox,
        uid: Uid::new(uid).unwrap(),
        message_id: message_id.into(),
        sender: "vanthu@sonv.thanhhoa.gov.vn".into(),
        notify_to: Some("vanthu@sonv.thanhhoa.gov.vn".into()),
        received_at,
        acknowledged: None,
    }
}

pub fn new_account_has_default_mailboxes_with_special_use(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
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
        let info = mailbox(store, id, name);
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

pub fn delivery_to_three_accounts_stores_one_blob(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let accounts = [account(store), account(store), account(store)];
    let body = b"Subject: =?utf-8?q?C=C3=B4ng_v=C4=83n?=\r\n\r\nN\xe1\xbb\x99i dung\r\n";
    let outcomes = deliver(store, &accounts, body);
    let blob = BlobId::of(body);
    assert_eq!(referenced(store), [blob]);
    assert_eq!(references(store, &blob), 3);
    for (outcome, &account) in outcomes.iter().zip(&accounts) {
        let inbox = inbox(store, account);
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
            used(store, account),
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
        let inbox = inbox(store, account);
        store_flags(store, inbox.id, &[uid(1)], FlagOp::Add, Flags::DELETED);
        assert_eq!(store.expunge(inbox.id, None).unwrap(), [uid(1)]);
        assert_eq!(used(store, account), 0);
        let left = 2 - n as u64;
        assert_eq!(references(store, &blob), left);
        assert_eq!(
            referenced(store).len() as u64,
            left.min(1),
            "file goes with the last reference"
        );
    }
    assert!(matches!(store.read_blob(&blob), Err(StoreError::NotFound(_))));
}

pub fn deleting_an_account_removes_its_mailboxes_and_only_its_blob_references(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let (gone, stays) = (account(store), account(store));
    let shared = b"Subject: chung\r\n\r\nshared\r\n";
    let own = b"Subject: rieng\r\n\r\nown\r\n";
    deliver(store, &[gone, stays], shared);
    deliver(store, &[gone], own);
    let folder = store.create_mailbox(gone, "Du an/2026", None).unwrap();
    append(store, folder, own, Flags::empty()).unwrap();
    assert_eq!(references(store, &BlobId::of(own)), 2);

    store.delete_account(gone).unwrap();
    assert_eq!(store.account(gone).unwrap(), None);
    assert!(store.list_mailboxes(gone).unwrap().is_empty());
    assert_eq!(
        referenced(store),
        [BlobId::of(shared)],
        "the own blob went, the shared one stays"
    );
    assert_eq!(references(store, &BlobId::of(shared)), 1);
    let inbox = inbox(store, stays);
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

pub fn duplicate_targets_get_one_copy_and_empty_bodies_are_refused(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let a = account(store);
    let outcomes = deliver(store, &[a, a], b"x");
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(inbox(store, a).messages, 1);
    assert!(deliver(store, &[], b"x").is_empty());
    let empty = Delivery {
        bytes: &[b"", b""],
        internal_date: 0,
        internal_date_offset: 0,
        targets: &[a],
        folder: DeliveryFolder::Inbox,
    };
    assert!(matches!(store.deliver(&empty), Err(StoreError::Invalid(_))));
    assert!(matches!(
        append(store, inbox(store, a).id, b"", Flags::empty()),
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

pub fn concurrent_deliveries_get_unique_ascending_uids(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let target = account(store);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = Arc::clone(shared);
            std::thread::spawn(move || {
                (0..100)
                    .map(|i| {
                        let body = format!("Subject: {t}/{i}\r\n\r\nbody\r\n");
                        match deliver(&*store, &[target], body.as_bytes())[..] {
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
    let inbox = inbox(store, target);
    assert_eq!(
        (inbox.messages, inbox.uidnext, inbox.highestmodseq),
        (800, 801, 801)
    );
    assert_eq!(
        uids(&store.messages(inbox.id).unwrap()),
        (1..=800).collect::<Vec<u32>>()
    );
}

pub fn flags_add_remove_replace_keywords_and_unchanged_since(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let id = account(store);
    let mb = inbox(store, id).id;
    for body in [b"a", b"b", b"c"] {
        deliver(store, &[id], body);
    }
    let all = [uid(1), uid(2), uid(3), uid(99)];
    let added = store_flags(store, mb, &all, FlagOp::Add, Flags::SEEN);
    assert_eq!(uids(&added.changed), [1, 2, 3], "missing UIDs are ignored");
    assert_eq!(
        added.changed.iter().map(|m| m.modseq).collect::<Vec<_>>(),
        [5, 6, 7]
    );
    assert_eq!(inbox(store, mb_account(store, mb)).unseen, 0);
    assert!(
        store_flags(store, mb, &all, FlagOp::Add, Flags::SEEN)
            .changed
            .is_empty(),
        "no-op changes nothing"
    );

    let removed = store_flags(store, mb, &[uid(2)], FlagOp::Remove, Flags::SEEN);
    assert_eq!(removed.changed[0].flags, Flags::empty());
    assert_eq!(inbox(store, id).unseen, 1);
    let replaced = store_flags(
        store,
        mb,
        &[uid(3)],
        FlagOp::Replace,
        Flags::ANSWERED.union(Flags::DRAFT),
    );
    assert_eq!(replaced.changed[0].flags, Flags::ANSWERED.union(Flags::DRAFT));
    assert_eq!(inbox(store, id).unseen, 2);

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
    let info = inbox(store, id);
    assert_eq!(info.highestmodseq, conditional.changed[0].modseq);
    assert!(matches!(
        store.store_flags(MailboxId(12345), &request),
        Err(StoreError::NotFound(_))
    ));
}

pub fn expunge_only_given_uids_and_bumps_modseq(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let id = account(store);
    let mb = inbox(store, id).id;
    for body in [b"a", b"b", b"c"] {
        deliver(store, &[id], body);
    }
    store_flags(store, mb, &[uid(1), uid(3)], FlagOp::Add, Flags::DELETED);
    let before = inbox(store, id).highestmodseq;
    assert_eq!(
        store.expunge(mb, Some(&[uid(2), uid(3)])).unwrap(),
        [uid(3)],
        "UID EXPUNGE"
    );
    let after = inbox(store, id);
    assert_eq!(after.highestmodseq, before + 1);
    assert_eq!((after.messages, after.size), (2, 2));
    assert_eq!(store.expunge(mb, None).unwrap(), [uid(1)]);
    assert_eq!(uids(&store.messages(mb).unwrap()), [2]);
    assert!(store.expunge(mb, None).unwrap().is_empty());
    assert!(matches!(
        store.expunge(MailboxId(999), None),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(used(store, id), 1);
}

pub fn copy_and_move_return_copyuid_pairs(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let id = account(store);
    let src = inbox(store, id);
    let archive = mailbox(store, id, "Archive");
    for body in [b"a", b"b", b"c"] {
        deliver(store, &[id], body);
    }
    store_flags(store, src.id, &[uid(2)], FlagOp::Add, Flags::SEEN);

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
    assert_eq!(references(store, &original.blob), 2);
    assert_eq!(used(store, id), 5, "a copy counts against quota");

    let moved = store.move_messages(src.id, &[uid(1)], archive.id).unwrap();
    assert_eq!(moved.pairs, [(uid(1), uid(3))]);
    assert_eq!(uids(&store.messages(src.id).unwrap()), [2, 3]);
    assert_eq!(uids(&store.messages(archive.id).unwrap()), [1, 2, 3]);
    assert_eq!(used(store, id), 5, "a move within the account changes no usage");
    assert_eq!(references(store, &BlobId::of(b"a")), 1);

    // MOVE to another account moves the usage too; MOVE within one mailbox renumbers.
    let other = account(store);
    let other_inbox = inbox(store, other);
    store
        .move_messages(archive.id, &[uid(3)], other_inbox.id)
        .unwrap();
    assert_eq!((used(store, id), used(store, other)), (4, 1));
    let renumbered = store
        .move_messages(other_inbox.id, &[uid(1)], other_inbox.id)
        .unwrap();
    assert_eq!(renumbered.pairs, [(uid(1), uid(2))]);
    let info = inbox(store, other);
    assert_eq!((info.messages, info.uidnext), (1, 3));
    assert_eq!(used(store, other), 1);

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

pub fn quota_refuses_append_and_copy_and_skips_full_targets_on_delivery(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let small = store.create_account(AccountKind::Personal, 10).unwrap();
    let roomy = account(store);
    let small_inbox = inbox(store, small).id;
    append(store, small_inbox, b"123456", Flags::SEEN).unwrap();
    match append(store, small_inbox, b"12345", Flags::empty()) {
        Err(StoreError::OverQuota { used, adding, limit }) => assert_eq!((used, adding, limit), (6, 5, 10)),
        other => panic!("{other:?}"),
    }
    let outcomes = deliver(store, &[small, roomy], b"12345");
    assert_eq!(outcomes[0], DeliveryOutcome::OverQuota { account: small });
    assert!(matches!(outcomes[1], DeliveryOutcome::Delivered { account, .. } if account == roomy));
    assert_eq!(references(store, &BlobId::of(b"12345")), 1);
    assert!(matches!(
        store.copy(inbox(store, roomy).id, &[uid(1)], small_inbox),
        Err(StoreError::OverQuota { .. })
    ));
    // A delivery nobody could take leaves no file behind.
    let nobody = deliver(store, &[small], b"far too large for ten bytes");
    assert_eq!(nobody, [DeliveryOutcome::OverQuota { account: small }]);
    assert_eq!(references(store, &BlobId::of(b"far too large for ten bytes")), 0);

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
    append(store, small_inbox, b"12345", Flags::empty()).unwrap();
    assert_eq!(store.account(small).unwrap().unwrap().quota_bytes, 100);
    assert!(matches!(
        store.set_quota(AccountId(999), 1),
        Err(StoreError::NotFound(_))
    ));
}

pub fn create_and_rename_mailboxes_with_children(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let id = account(store);
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
        mailbox(store, id, "Sent Items").special_use,
        Some(SpecialUse::Sent)
    );
    // "Sentx" is not an inferior of "Sent": a rename must not take it along.
    store.create_mailbox(id, "Sent Itemsx", None).unwrap();
    store.rename_mailbox(id, "Sent Items", "Sent").unwrap();
    assert!(store.mailbox_by_name(id, "Sent Itemsx").unwrap().is_some());
}

pub fn renaming_inbox_moves_its_messages_and_leaves_it_empty(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let id = account(store);
    deliver(store, &[id], b"first");
    deliver(store, &[id], b"second");
    let before = inbox(store, id);
    store.rename_mailbox(id, "inbox", "Old mail").unwrap();
    let after = inbox(store, id);
    assert_eq!(
        (after.id, after.uidvalidity, after.uidnext),
        (before.id, before.uidvalidity, 3)
    );
    assert_eq!((after.messages, after.unseen, after.size), (0, 0, 0));
    assert!(after.highestmodseq > before.highestmodseq);
    let old = mailbox(store, id, "Old mail");
    assert_ne!(old.uidvalidity, before.uidvalidity);
    assert_eq!(uids(&store.messages(old.id).unwrap()), [1, 2]);
    assert_eq!(
        store
            .read_blob(&store.message(old.id, uid(2)).unwrap().unwrap().blob)
            .unwrap(),
        b"second"
    );
    assert_eq!((old.messages, old.size), (2, 11));
    assert_eq!(used(store, id), 11);
    let [DeliveryOutcome::Delivered { uid: next, .. }] = deliver(store, &[id], b"third")[..] else {
        panic!()
    };
    assert_eq!(next, uid(3), "INBOX UIDs are never reused");
}

pub fn deleting_a_mailbox_releases_its_blobs(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let id = account(store);
    let project = store.create_mailbox(id, "Dự án", None).unwrap();
    append(store, project, b"shared", Flags::empty()).unwrap();
    append(store, project, b"only here", Flags::empty()).unwrap();
    deliver(store, &[id], b"shared");
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
    assert_eq!(referenced(store), [BlobId::of(b"shared")]);
    assert_eq!(references(store, &BlobId::of(b"shared")), 1);
    assert_eq!(used(store, id), 6);
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

pub fn deleting_a_mailbox_while_messages_arrive_keeps_counts_exact(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let id = account(store);
    let target = store.create_mailbox(id, "Tạm", None).unwrap();
    let appender = {
        let store = Arc::clone(shared);
        std::thread::spawn(move || {
            let mut appended = 0;
            for i in 0..200 {
                match append(&*store, target, format!("message {i}").as_bytes(), Flags::empty()) {
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
    assert_eq!(used(store, id), 0, "every deleted message left the usage");
    // Any write flushes; blobs of appends refused after the delete go with it.
    store.set_quota(id, 100 * MB).unwrap();
    assert!(referenced(store).is_empty());
}

pub fn subscriptions(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let id = account(store);
    store.set_subscribed(id, "Junk", false).unwrap();
    assert!(!mailbox(store, id, "Junk").subscribed);
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

pub fn changes_are_announced_after_writes(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let id = account(store);
    let mb = inbox(store, id).id;
    let mut changes = store.subscribe(id);
    deliver(store, &[id], b"hello");
    let new = next_change(&mut changes);
    assert_eq!(
        new,
        Change {
            account: id,
            mailbox: mb,
            kind: ChangeKind::New,
            modseq: 2
        }
    );
    store_flags(store, mb, &[uid(1)], FlagOp::Add, Flags::DELETED);
    assert_eq!(next_change(&mut changes).kind, ChangeKind::Flags);
    store.expunge(mb, None).unwrap();
    let expunge = next_change(&mut changes);
    assert_eq!((expunge.kind, expunge.modseq), (ChangeKind::Expunge, 4));
    store.create_mailbox(id, "Mới", None).unwrap();
    assert_eq!(next_change(&mut changes).kind, ChangeKind::MailboxList);
    assert!(quiet(&mut changes), "nothing else was announced");
}

/// Notifications are per account (issue 13): a subscriber of B is not woken by
/// A's mail; a MOVE from A to B tells A of the expunge and B of the new message;
/// the channels go with their last subscriber.
pub fn changes_reach_only_the_subscribers_of_their_account(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let (a, b) = (account(store), account(store));
    let (inbox_a, inbox_b) = (inbox(store, a).id, inbox(store, b).id);
    let mut watch_a = store.subscribe(a);
    let mut watch_b = store.subscribe(b);
    deliver(store, &[a], b"Subject: a\r\n\r\na\r\n");
    assert_eq!(next_change(&mut watch_a).mailbox, inbox_a);
    assert!(quiet(&mut watch_b), "B woke for A's mail");
    store.move_messages(inbox_a, &[uid(1)], inbox_b).unwrap();
    let expunge = next_change(&mut watch_a);
    assert_eq!((expunge.kind, expunge.mailbox), (ChangeKind::Expunge, inbox_a));
    let new = next_change(&mut watch_b);
    assert_eq!(
        (new.kind, new.mailbox, new.account),
        (ChangeKind::New, inbox_b, b)
    );
    assert!(quiet(&mut watch_a) && quiet(&mut watch_b));
}

/// `changed_since` gives the messages appended or re-flagged after a modseq, the
/// UIDs expunged after it, and the mailbox record; nothing after its own
/// HIGHESTMODSEQ.
pub fn changed_since_gives_what_changed_after_a_modseq(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let a = account(store);
    let mb = inbox(store, a).id;
    for n in 0..5u8 {
        deliver(store, &[a], &[b'x', n]);
    }
    let synced = inbox(store, a).highestmodseq;
    assert_eq!(synced, 6);
    let nothing = store.changed_since(mb, synced).unwrap();
    assert!(nothing.changed.is_empty() && nothing.expunged.is_empty());
    assert_eq!((nothing.mailbox.messages, nothing.mailbox.uidnext), (5, 6));

    store_flags(store, mb, &[uid(4)], FlagOp::Add, Flags::SEEN);
    store_flags(store, mb, &[uid(2), uid(3)], FlagOp::Add, Flags::DELETED);
    store.expunge(mb, Some(&[uid(2)])).unwrap();
    deliver(store, &[a], b"six");
    let changes = store.changed_since(mb, synced).unwrap();
    let seen: Vec<(u32, Flags)> = changes.changed.iter().map(|m| (m.uid.get(), m.flags)).collect();
    assert_eq!(
        seen,
        [(3, Flags::DELETED), (4, Flags::SEEN), (6, Flags::empty())],
        "ascending by UID, as they are now; UID 2 is gone"
    );
    assert_eq!(changes.expunged, [uid(2)]);
    assert_eq!(changes.mailbox, inbox(store, a));
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
        .copy(mb, &[uid(1)], mailbox(store, a, "Archive").id)
        .unwrap();
    let archive = store.changed_since(mailbox(store, a, "Archive").id, 0).unwrap();
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

pub fn enqueue_keeps_a_blob_reference(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let from = account(store);
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
    assert_eq!(references(store, &BlobId::of(b"outbound")), 2);
    assert_eq!(store.read_blob(&queue[1].blob).unwrap(), b"outbound");
    let nobody = Outbound {
        recipients: &[],
        ..outbound
    };
    assert!(matches!(store.enqueue(&nobody), Err(StoreError::Invalid(_))));
}

pub fn junk_delivery_files_by_special_use_and_falls_back_to_the_inbox(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let renamed = account(store);
    let without = account(store);
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
    let junk = mailbox(store, renamed, "Thư rác");
    assert_eq!(junk.special_use, Some(SpecialUse::Junk));
    let expected = [(renamed, junk.id), (without, inbox(store, without).id)];
    for (outcome, (account, mailbox)) in outcomes.iter().zip(expected) {
        assert!(
            matches!(outcome, DeliveryOutcome::Delivered { account: a, mailbox: m, .. } if *a == account && *m == mailbox),
            "{outcome:?}"
        );
    }
    assert!(store.messages(inbox(store, renamed).id).unwrap().is_empty());
    // The parts are one blob, their concatenation.
    let stored = store.messages(junk.id).unwrap();
    assert_eq!(store.read_blob(&stored[0].blob).unwrap(), parts.concat());
}

pub fn a_sent_copy_is_filed_seen_in_the_sent_mailbox_whatever_its_name(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
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
    let sent = mailbox(store, agency, "Thư đã gửi");
    assert!(matches!(outcomes[0], DeliveryOutcome::Delivered { mailbox, .. } if mailbox == sent.id));
    let stored = store.messages(sent.id).unwrap();
    assert_eq!(stored[0].flags, Flags::SEEN);
    assert!(store.messages(inbox(store, agency).id).unwrap().is_empty());
}

pub fn windows_read_the_mailbox_in_uid_order_both_ways(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let account = account(store);
    let inbox = inbox(store, account);
    let other = mailbox(store, account, "Archive");
    for n in 0..7 {
        append(
            store,
            inbox.id,
            format!("Subject: {n}\r\n\r\nx").as_bytes(),
            Flags::empty(),
        )
        .unwrap();
    }
    append(store, other.id, b"Subject: other\r\n\r\nx", Flags::empty()).unwrap();
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

pub fn a_selection_left_is_one_closed_span(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let agency = account(store);
    record(
        store,
        agency,
        &[
            (7, 1_000, AccessKind::Login),
            (7, 1_010, AccessKind::AgencyInboxSelected),
            (7, 4_000, AccessKind::AgencyInboxLeft),
        ],
    );
    let spans = store.access_spans(agency, 0, 10_000).unwrap();
    assert_eq!(
        spans,
        [AccessSpan {
            account: agency,
            login: AGENCY_LOGIN.into(),
            from: 1_010,
            until: 4_000,
            protocol: "imaps".into(),
            session: 7,
            closed: true,
        }]
    );
    // Any period the span meets shows it whole; one it does not meet, nothing.
    assert_eq!(
        bounds(&store.access_spans(agency, 2_000, 2_000).unwrap()),
        [(1_010, 4_000, true)]
    );
    assert_eq!(
        bounds(&store.access_spans(agency, 4_000, 5_000).unwrap()),
        [(1_010, 4_000, true)]
    );
    assert!(store.access_spans(agency, 4_001, 9_000).unwrap().is_empty());
    assert!(store.access_spans(agency, 0, 1_009).unwrap().is_empty());
    assert!(store.access_spans(AccountId(999), 0, 10_000).unwrap().is_empty());
}

pub fn a_selection_never_left_ends_at_the_limit_or_the_sessions_next_event(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let agency = account(store);
    record(
        store,
        agency,
        &[
            // The server stopped while session 1 had the INBOX selected.
            (1, 10_000, AccessKind::AgencyInboxSelected),
            // Session 2's leaving was not recorded; it selected again 10 minutes on.
            (2, 20_000, AccessKind::AgencyInboxSelected),
            (2, 20_600, AccessKind::AgencyInboxSelected),
            (2, 21_000, AccessKind::AgencyInboxLeft),
        ],
    );
    assert_eq!(
        bounds(&store.access_spans(agency, 0, 100_000).unwrap()),
        [
            (10_000, 10_000 + OPEN_SPAN_LIMIT, false),
            (20_000, 20_600, false),
            (20_600, 21_000, true),
        ]
    );
    assert_eq!(OPEN_SPAN_LIMIT, 1_800, "30 minutes, documented");
}

pub fn interleaved_sessions_close_their_own_spans(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let agency = account(store);
    record(
        store,
        agency,
        &[
            (1, 100, AccessKind::AgencyInboxSelected),
            (2, 200, AccessKind::AgencyInboxSelected),
            (1, 300, AccessKind::AgencyInboxLeft),
            (2, 400, AccessKind::AgencyInboxLeft),
            (1, 500, AccessKind::AgencyInboxSelected),
            (1, 600, AccessKind::AgencyInboxLeft),
        ],
    );
    let spans = store.access_spans(agency, 0, 1_000).unwrap();
    let sessions: Vec<(u64, i64, i64)> = spans.iter().map(|s| (s.session, s.from, s.until)).collect();
    assert_eq!(sessions, [(1, 100, 300), (2, 200, 400), (1, 500, 600)]);
    assert!(spans.iter().all(|s| s.closed));
}

pub fn a_clerk_through_the_shared_namespace_makes_a_span_of_the_agency(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let (agency, clerk) = (account(store), account(store));
    // The clerk logs into their own account and selects Shared/sttt/INBOX: the
    // selection is the agency's, with the clerk's login.
    store
        .record_access(&access(clerk, CLERK_LOGIN, 5, 1_000, AccessKind::Login))
        .unwrap();
    store
        .record_access(&access(
            agency,
            CLERK_LOGIN,
            5,
            1_100,
            AccessKind::AgencyInboxSelected,
        ))
        .unwrap();
    store
        .record_access(&access(
            agency,
            CLERK_LOGIN,
            5,
            1_700,
            AccessKind::AgencyInboxLeft,
        ))
        .unwrap();
    let spans = store.access_spans(agency, 0, 2_000).unwrap();
    assert_eq!(bounds(&spans), [(1_100, 1_700, true)]);
    assert_eq!(spans[0].login, CLERK_LOGIN);
    assert!(store.access_spans(clerk, 0, 2_000).unwrap().is_empty());
}

pub fn spans_crossing_the_periods_edges_keep_their_ends(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let agency = account(store);
    let day = 86_400;
    let from = 100 * day;
    record(
        store,
        agency,
        &[
            // Selected the evening before the period, left inside it.
            (1, from - 3_600, AccessKind::AgencyInboxSelected),
            (1, from + 600, AccessKind::AgencyInboxLeft),
            // Selected further back than the search reaches, left inside.
            (2, from - SPAN_SEARCH - 10, AccessKind::AgencyInboxSelected),
            (2, from + 900, AccessKind::AgencyInboxLeft),
            // Selected at the period's last second, left the next day.
            (3, from + day, AccessKind::AgencyInboxSelected),
            (3, from + day + 7_200, AccessKind::AgencyInboxLeft),
            // Recorded before sessions were numbered: a moment.
            (0, from + 50, AccessKind::AgencyInboxSelected),
        ],
    );
    assert_eq!(
        bounds(&store.access_spans(agency, from, from + day).unwrap()),
        [
            (from - SPAN_SEARCH, from + 900, true),
            (from - 3_600, from + 600, true),
            (from + 50, from + 50, true),
            (from + day, from + day + 7_200, true),
        ]
    );
}

pub fn acknowledgements_keep_the_first_and_go_with_their_account(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let (agency, other) = (account(store), account(store));
    let inbox = inbox(store, agency).id;
    store
        .record_pending_ack(&pending(agency, inbox, 1, "<cv-123@sonv.thanhhoa.gov.vn>", 1_000))
        .unwrap();
    store
        .record_pending_ack(&pending(agency, inbox, 2, "cv-124@sonv.thanhhoa.gov.vn", 2_000))
        .unwrap();
    let other_inbox = inbox_of(store, other);
    store
        .record_pending_ack(&pending(
            other,
            other_inbox,
            1,
            "cv-123@sonv.thanhhoa.gov.vn",
            1_500,
        ))
        .unwrap();
    let empty_id = store.record_pending_ack(&pending(agency, inbox, 3, " <> ", 1_000));
    assert!(matches!(empty_id, Err(StoreError::Invalid(_))), "{empty_id:?}");

    let listed = store.acks(Some(agency)).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[0].message_id, "cv-123@sonv.thanhhoa.gov.vn",
        "kept without brackets"
    );
    assert_eq!(store.acks(None).unwrap().len(), 3);

    let first = store
        .acknowledge(agency, " cv-123@sonv.thanhhoa.gov.vn", CLERK_LOGIN, 5_000)
        .unwrap()
        .unwrap();
    let acknowledged = Some(Acknowledgement {
        by: CLERK_LOGIN.into(),
        at: 5_000,
    });
    assert_eq!(first.acknowledged, acknowledged);
    assert_eq!(first.uid.get(), 1);
    // A second acknowledgement returns the first one's record, unchanged.
    let again = store
        .acknowledge(agency, "<cv-123@sonv.thanhhoa.gov.vn>", AGENCY_LOGIN, 6_000)
        .unwrap()
        .unwrap();
    assert_eq!(again.acknowledged, acknowledged);
    assert_eq!(
        store
            .acknowledge(agency, "unknown@x", AGENCY_LOGIN, 6_000)
            .unwrap(),
        None
    );
    // The other account's message with the same Message-ID is its own.
    assert_eq!(store.acks(Some(other)).unwrap()[0].acknowledged, None);
    assert_eq!(store.acks(Some(agency)).unwrap()[1].acknowledged, None);

    store.delete_account(agency).unwrap();
    assert!(store.acks(Some(agency)).unwrap().is_empty());
    assert_eq!(store.acks(None).unwrap().len(), 1);
}

pub fn of_two_keepers_acknowledging_at_once_one_wins_whole(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let agency = account(store);
    let inbox = inbox_of(store, agency);
    for uid in 1..=20 {
        store
            .record_pending_ack(&pending(agency, inbox, uid, &format!("m{uid}@x"), 0))
            .unwrap();
    }
    let keepers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|by| {
            let store = Arc::clone(shared);
            std::thread::spawn(move || {
                (1..=20)
                    .map(|uid| {
                        store
                            .acknowledge(agency, &format!("m{uid}@x"), by, 1)
                            .unwrap()
                            .and_then(|ack| ack.acknowledged)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<_> = keepers.into_iter().map(|k| k.join().unwrap()).collect();
    let stored: Vec<_> = store
        .acks(Some(agency))
        .unwrap()
        .into_iter()
        .map(|a| a.acknowledged)
        .collect();
    assert_eq!(answers[0], stored, "each keeper is told who won");
    assert_eq!(answers[1], stored);
    assert!(stored.iter().all(Option::is_some));
}

pub fn a_login_is_one_access_event_and_one_mail_event(shared: &Arc<dyn MailStore>) {
    let store: &dyn MailStore = shared.as_ref();
    let account = account(store);
    let login = access(account, AGENCY_LOGIN, 7, 1_000, AccessKind::Login);
    store
        .record_login(&login, &event(1_000, account, MailEventKind::Login))
        .unwrap();
    assert_eq!(store.access_events(account, 0, 2_000).unwrap(), [login]);
    assert_eq!(
        store.events(0, 2_000).unwrap(),
        [event(1_000, account, MailEventKind::Login)]
    );
}
