//! Mail events, check spans and acknowledgement records (issue 14): what each call
//! returns, that it survives a reopen, retention, and the consistency check.

use super::*;
use crate::{
    AccessKind, AccessSpan, Acknowledgement, Destination, EventRecord, MAX_RULE_LEN, MailEventKind,
    OPEN_SPAN_LIMIT, Origin, PendingAck, SPAN_SEARCH,
};

const AGENCY_LOGIN: &str = "sttt@thanhhoa.gov.vn";
const CLERK_LOGIN: &str = "vanthu.sttt@thanhhoa.gov.vn";

fn event(at: i64, account: AccountId, kind: MailEventKind) -> EventRecord {
    EventRecord { at, account, kind }
}

fn access(account: AccountId, login: &str, session: u64, at: i64, kind: AccessKind) -> AccessEvent {
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
fn record(store: &SledStore, account: AccountId, events: &[(u64, i64, AccessKind)]) {
    for &(session, at, kind) in events {
        store
            .record_access(&access(account, AGENCY_LOGIN, session, at, kind))
            .unwrap();
    }
}

/// `(from, until, closed)` of each span.
fn bounds(spans: &[AccessSpan]) -> Vec<(i64, i64, bool)> {
    spans.iter().map(|s| (s.from, s.until, s.closed)).collect()
}

fn pending(
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

#[test]
fn mail_events_come_back_by_period_in_time_order_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (agency, other) = {
        let store = SledStore::open(dir.path()).unwrap();
        let (agency, other) = (account(&store), account(&store));
        store
            .record_events(&[
                event(300, agency, MailEventKind::Bounced),
                event(
                    100,
                    agency,
                    MailEventKind::Delivered {
                        origin: Origin::Internet,
                    },
                ),
                event(
                    200,
                    other,
                    MailEventKind::Submitted {
                        destination: Destination::OtherAgency,
                    },
                ),
                event(
                    200,
                    agency,
                    MailEventKind::Refused {
                        rule: "attachment_format".into(),
                    },
                ),
            ])
            .unwrap();
        store
            .record_events(&[event(200, other, MailEventKind::Login)])
            .unwrap();
        store.record_events(&[]).unwrap();
        (agency, other)
    };
    let store = reopen(dir.path());
    let all = store.events(0, i64::MAX).unwrap();
    let seen: Vec<(i64, AccountId)> = all.iter().map(|e| (e.at, e.account)).collect();
    assert_eq!(
        seen,
        [
            (100, agency),
            (200, other),
            (200, agency),
            (200, other),
            (300, agency)
        ],
        "time order, recording order within a second"
    );
    assert_eq!(all[3].kind, MailEventKind::Login);
    let times =
        |from, until| -> Vec<i64> { store.events(from, until).unwrap().iter().map(|e| e.at).collect() };
    assert_eq!(times(200, 200), [200, 200, 200], "both ends included");
    assert_eq!(times(101, 299), [200, 200, 200]);
    assert_eq!(times(301, 1000), Vec::<i64>::new());
    assert_eq!(times(300, 100), Vec::<i64>::new(), "an empty period");
    assert_eq!(times(-50, 100), [100]);

    // A batch with one bad event writes none of it.
    let bad = store.record_events(&[
        event(400, agency, MailEventKind::Bounced),
        event(
            400,
            agency,
            MailEventKind::Refused {
                rule: "x".repeat(MAX_RULE_LEN + 1),
            },
        ),
    ]);
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
    assert_eq!(times(400, 400), Vec::<i64>::new());
    assert!(store.check().unwrap().is_consistent());
    assert_eq!(store.check().unwrap().mail_events, 5);
}

#[test]
fn a_selection_left_is_one_closed_span() {
    let (_dir, store) = open();
    let agency = account(&store);
    record(
        &store,
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

#[test]
fn a_selection_never_left_ends_at_the_limit_or_the_sessions_next_event() {
    let (_dir, store) = open();
    let agency = account(&store);
    record(
        &store,
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

#[test]
fn interleaved_sessions_close_their_own_spans() {
    let (_dir, store) = open();
    let agency = account(&store);
    record(
        &store,
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

#[test]
fn a_clerk_through_the_shared_namespace_makes_a_span_of_the_agency() {
    let (_dir, store) = open();
    let (agency, clerk) = (account(&store), account(&store));
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

#[test]
fn spans_crossing_the_periods_edges_keep_their_ends() {
    let (_dir, store) = open();
    let agency = account(&store);
    let day = 86_400;
    let from = 100 * day;
    record(
        &store,
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

#[test]
fn acknowledgements_keep_the_first_and_go_with_their_account() {
    let (_dir, store) = open();
    let (agency, other) = (account(&store), account(&store));
    let inbox = inbox(&store, agency).id;
    store
        .record_pending_ack(&pending(agency, inbox, 1, "<cv-123@sonv.thanhhoa.gov.vn>", 1_000))
        .unwrap();
    store
        .record_pending_ack(&pending(agency, inbox, 2, "cv-124@sonv.thanhhoa.gov.vn", 2_000))
        .unwrap();
    let other_inbox = inbox_of(&store, other);
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

fn inbox_of(store: &SledStore, account: AccountId) -> MailboxId {
    inbox(store, account).id
}

#[test]
fn of_two_keepers_acknowledging_at_once_one_wins_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(dir.path()).unwrap());
    let agency = account(&store);
    let inbox = inbox_of(&store, agency);
    for uid in 1..=20 {
        store
            .record_pending_ack(&pending(agency, inbox, uid, &format!("m{uid}@x"), 0))
            .unwrap();
    }
    let keepers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|by| {
            let store = store.clone();
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

#[test]
fn retention_prunes_events_access_and_acknowledged_records_before_the_cut() {
    let (_dir, store) = open();
    let (agency, other) = (account(&store), account(&store));
    let inbox = inbox_of(&store, agency);
    store
        .record_events(&[
            event(99, agency, MailEventKind::Login),
            event(100, agency, MailEventKind::Login),
            event(50, other, MailEventKind::Bounced),
        ])
        .unwrap();
    record(
        &store,
        agency,
        &[(1, 10, AccessKind::Login), (1, 150, AccessKind::Login)],
    );
    record(&store, other, &[(2, 99, AccessKind::Login)]);
    store
        .record_pending_ack(&pending(agency, inbox, 1, "old-acked@x", 10))
        .unwrap();
    store
        .record_pending_ack(&pending(agency, inbox, 2, "old-pending@x", 10))
        .unwrap();
    store
        .record_pending_ack(&pending(agency, inbox, 3, "acked-after@x", 10))
        .unwrap();
    store
        .acknowledge(agency, "old-acked@x", AGENCY_LOGIN, 20)
        .unwrap();
    store
        .acknowledge(agency, "acked-after@x", AGENCY_LOGIN, 100)
        .unwrap();

    assert_eq!(store.prune_events(100).unwrap(), 2 + 2 + 1);
    assert_eq!(
        store.events(0, i64::MAX).unwrap(),
        [event(100, agency, MailEventKind::Login)]
    );
    let at = |account| -> Vec<i64> {
        store
            .access_events(account, 0, i64::MAX)
            .unwrap()
            .iter()
            .map(|e| e.at)
            .collect()
    };
    assert_eq!(at(agency), [150]);
    assert!(at(other).is_empty());
    let kept: Vec<String> = store
        .acks(None)
        .unwrap()
        .into_iter()
        .map(|a| a.message_id)
        .collect();
    assert_eq!(
        kept,
        ["old-pending@x", "acked-after@x"],
        "pending ones stay, however old"
    );
    assert_eq!(store.prune_events(100).unwrap(), 0);
}

#[test]
fn the_check_finds_unreadable_facts_and_orphan_acknowledgements_and_the_repair_drops_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let agency = account(&store);
    store
        .record_events(&[event(100, agency, MailEventKind::Login)])
        .unwrap();
    record(&store, agency, &[(1, 100, AccessKind::Login)]);
    store
        .record_pending_ack(&pending(agency, inbox_of(&store, agency), 1, "a@x", 1))
        .unwrap();
    let clean = store.check().unwrap();
    assert!(clean.is_consistent(), "{clean:?}");
    assert_eq!((clean.mail_events, clean.access_events, clean.acks), (1, 1, 1));

    store
        .events
        .insert(events::time_key(200, 1), &[0u8; 3][..])
        .unwrap();
    store.access.insert([1u8; 24], &b"{not json"[..]).unwrap();
    store.acks.insert([2u8; 20], &b"[]"[..]).unwrap();
    acks::insert(
        &store.acks,
        &pending(AccountId(4242), MailboxId(1), 1, "ghost@x", 1),
    )
    .unwrap();
    let mut kinds: Vec<&str> = store.check().unwrap().problems.iter().map(|p| p.kind).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "ack_without_account",
            "undecodable_access_event",
            "undecodable_ack",
            "undecodable_mail_event",
        ]
    );
    assert!(
        store.events(0, i64::MAX).is_err(),
        "a period with a damaged record fails"
    );

    let repaired = store.repair().unwrap();
    assert_eq!(repaired.found.len(), 4, "{repaired:?}");
    assert!(repaired.after.is_consistent(), "{repaired:?}");
    assert_eq!(store.events(0, i64::MAX).unwrap().len(), 1, "the good ones stay");
    assert_eq!(store.acks(None).unwrap().len(), 1);
}

#[test]
fn a_login_is_one_access_event_and_one_mail_event() {
    let (dir, store) = open();
    let account = account(&store);
    let login = access(account, AGENCY_LOGIN, 7, 1_000, AccessKind::Login);
    store
        .record_login(&login, &event(1_000, account, MailEventKind::Login))
        .unwrap();
    drop(store);
    let store = reopen(dir.path());
    assert_eq!(store.access_events(account, 0, 2_000).unwrap(), [login]);
    assert_eq!(
        store.events(0, 2_000).unwrap(),
        [event(1_000, account, MailEventKind::Login)]
    );
}
