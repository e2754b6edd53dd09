//! Mail events, check spans and acknowledgement records (issue 14): what each call
//! returns, that it survives a reopen, retention, and the consistency check.

use super::*;
use crate::{AccessKind, Destination, MAX_RULE_LEN, MailEventKind, Origin};

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
    let store = SledStore::open(dir.path()).unwrap();
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
fn retention_prunes_events_access_and_acknowledged_records_before_the_cut() {
    let (_dir, store) = open();
    let (agency, other) = (account(&*store), account(&*store));
    let inbox = inbox_of(&*store, agency);
    store
        .record_events(&[
            event(99, agency, MailEventKind::Login),
            event(100, agency, MailEventKind::Login),
            event(50, other, MailEventKind::Bounced),
        ])
        .unwrap();
    record(
        &*store,
        agency,
        &[(1, 10, AccessKind::Login), (1, 150, AccessKind::Login)],
    );
    record(&*store, other, &[(2, 99, AccessKind::Login)]);
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
