//! Aliases, postmaster, roles, sessions, the forms 01/02/03 workflow, deletion and
//! purge, delegation, search and import — against the real sled store.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use congvu_store::{Delivery, DeliveryFolder, DeliveryOutcome, MailStore, SledStore};
use tempfile::TempDir;

use crate::import::{self, Status};
use crate::plan::Plan;
use crate::request::{Acting, DeletionReason, Form, Line, NewRequest, Requester, State};
use crate::{DefaultQuotas, Directory, DirectoryError, NewOfficial, Role, Secret, Settings};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

const DOMAIN: &str = "thanhhoa.gov.vn";
const ADMIN: Acting<'static> = Acting {
    actor: "admin",
    administrator: true,
};
/// 2024-05-20 12:00 in Vietnam.
const NOW: i64 = 1_716_181_200;
const DAY: i64 = 86_400;

struct Fixture {
    store: Arc<SledStore>,
    dir: Directory,
    archiver: Arc<TestArchiver>,
    _data: TempDir,
}

/// Records which mailboxes were archived and how many messages each held; fails
/// while `fail` is set.
struct TestArchiver {
    store: Arc<SledStore>,
    fail: std::sync::atomic::AtomicBool,
    archived: std::sync::Mutex<Vec<(String, u32)>>,
}

impl crate::Archiver for TestArchiver {
    fn archive(&self, record: &crate::AccountRecord) -> std::result::Result<String, String> {
        if self.fail.load(std::sync::atomic::Ordering::Relaxed) {
            return Err("disk full".into());
        }
        let messages = self
            .store
            .list_mailboxes(record.account)
            .map_err(|e| e.to_string())?
            .iter()
            .map(|m| m.messages)
            .sum();
        self.archived
            .lock()
            .unwrap()
            .push((record.address.clone(), messages));
        Ok(format!("/archive/{}", record.address))
    }
}

fn fixture(settings: Settings) -> Fixture {
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let archiver = Arc::new(TestArchiver {
        store: store.clone(),
        fail: Default::default(),
        archived: Default::default(),
    });
    let dir = Directory::open(store.db(), store.clone(), DOMAIN, DefaultQuotas::default())
        .unwrap()
        .with_local_domains(["thanhhoa.vn"])
        .unwrap()
        .with_settings(settings)
        .unwrap()
        .with_archiver(archiver.clone());
    dir.add_agency("vpubnd", "Văn phòng UBND tỉnh", None).unwrap();
    dir.add_agency("sttt", "Sở Thông tin và Truyền thông", None)
        .unwrap();
    dir.add_agency("yendinh", "UBND huyện Yên Định", None).unwrap();
    Fixture {
        store,
        dir,
        archiver,
        _data: data,
    }
}

fn official(name: &str) -> NewOfficial {
    NewOfficial {
        name: name.to_owned(),
        ..NewOfficial::default()
    }
}

fn request(form: Form, agency: &str, effective: &str, lines: Vec<Line>) -> NewRequest {
    NewRequest {
        form,
        agency: agency.to_owned(),
        requester: Requester {
            name: "Lê Văn Thư".into(),
            position: Some("Chánh văn phòng".into()),
            phone: Some("0237 3852 000".into()),
        },
        effective_date: effective.to_owned(),
        lines,
    }
}

/// Files, submits and approves; returns the applied request's results.
fn run(dir: &Directory, new: NewRequest) -> Vec<String> {
    let filed = dir.file_request(new, ADMIN, NOW).unwrap();
    dir.submit_request(filed.id, ADMIN, NOW).unwrap();
    let applied = dir.approve_request(filed.id, ADMIN, NOW).unwrap();
    assert_eq!(applied.state, State::Applied);
    applied.results
}

fn deliver(store: &SledStore, account: congvu_store::AccountId) {
    let message = b"Subject: test\r\n\r\nhello\r\n";
    let outcome = store
        .deliver(&Delivery {
            bytes: &[message],
            internal_date: NOW,
            internal_date_offset: 0,
            targets: &[account],
            folder: DeliveryFolder::Inbox,
        })
        .unwrap();
    assert!(
        matches!(outcome[..], [DeliveryOutcome::Delivered { .. }]),
        "{outcome:?}"
    );
}

#[test]
fn postmaster_resolves_in_every_local_domain() {
    let f = fixture(Settings::default());
    for address in [
        "postmaster@thanhhoa.gov.vn",
        "PostMaster@ThanhHoa.gov.vn",
        "postmaster@thanhhoa.vn",
    ] {
        let record = f.dir.lookup(address).unwrap().unwrap();
        assert_eq!(
            record.address, "vpubnd@thanhhoa.gov.vn",
            "{address}: first agency mailbox"
        );
    }
    let configured = fixture(Settings {
        postmaster: Some("sttt@thanhhoa.gov.vn".into()),
        ..Settings::default()
    });
    let record = configured.dir.lookup("postmaster@thanhhoa.vn").unwrap().unwrap();
    assert_eq!(record.address, "sttt@thanhhoa.gov.vn");
    assert!(matches!(
        f.dir.add_agency("postmaster", "x", None),
        Err(DirectoryError::Invalid(_))
    ));
    let bad = Directory::open(f.store.db(), f.store.clone(), DOMAIN, DefaultQuotas::default())
        .unwrap()
        .with_settings(Settings {
            postmaster: Some("someone@example.com".into()),
            ..Settings::default()
        });
    assert!(matches!(bad, Err(DirectoryError::Invalid(_))));
}

#[test]
fn aliases_deliver_and_are_never_reissued() {
    let f = fixture(Settings::default());
    let (tuan, _) = f.dir.add_person("sttt", "Nguyễn Anh Tuấn", None, None).unwrap();
    let record = f
        .dir
        .add_alias("tuan@thanhhoa.gov.vn", &tuan.address, "admin")
        .unwrap();
    assert_eq!(record.aliases, ["tuan@thanhhoa.gov.vn"]);
    assert_eq!(
        f.dir.lookup("TUAN@thanhhoa.vn").unwrap().unwrap().address,
        tuan.address
    );
    assert!(f.dir.may_send_as(&record, "tuan@thanhhoa.gov.vn"));
    let cases: &[(&str, &str, &str)] = &[
        ("tuan@thanhhoa.gov.vn", &tuan.address, "Exists"),
        ("sttt@thanhhoa.gov.vn", &tuan.address, "Exists"),
        ("x@example.com", &tuan.address, "Invalid"),
        ("postmaster@thanhhoa.gov.vn", &tuan.address, "Invalid"),
        ("new@thanhhoa.gov.vn", "nobody@thanhhoa.gov.vn", "NotFound"),
    ];
    for (alias, target, want) in cases {
        let err = f.dir.add_alias(alias, target, "admin").unwrap_err();
        assert_eq!(err.kind(), *want, "{alias}: {err:?}");
    }
    f.dir.remove_alias("tuan@thanhhoa.gov.vn", "admin").unwrap();
    assert!(f.dir.lookup("tuan@thanhhoa.gov.vn").unwrap().is_none());
    // Removed but still issued: a later one-word "Tuấn" at no agency cannot take it.
    let err = f
        .dir
        .add_alias("tuan@thanhhoa.gov.vn", "sttt@thanhhoa.gov.vn", "admin")
        .unwrap_err();
    assert_eq!(err.kind(), "Exists");
}

#[test]
fn one_mailbox_per_person() {
    let f = fixture(Settings::default());
    let with_id = NewOfficial {
        person_id: Some("038090001234".into()),
        ..official("Nguyễn Anh Tuấn")
    };
    let (first, _) = f.dir.add_official("sttt", &with_id, "admin").unwrap();
    assert_eq!(first.person_id.as_deref(), Some("038090001234"));
    // The same person id, even elsewhere and under another spelling of the name.
    let again = NewOfficial {
        name: "Nguyen Anh Tuan".into(),
        ..with_id.clone()
    };
    let err = f.dir.add_official("yendinh", &again, "admin").unwrap_err();
    assert_eq!(err.kind(), "Exists", "{err:?}");
    assert!(err.to_string().contains(&first.address));
    // Without an id, a namesake in the same agency needs a confirmation.
    let err = f
        .dir
        .add_official("sttt", &official("NGUYỄN ANH TUẤN"), "admin")
        .unwrap_err();
    assert!(err.to_string().contains("confirm"), "{err}");
    let confirmed = NewOfficial {
        confirm_namesake: true,
        ..official("Nguyễn Anh Tuấn")
    };
    let (second, collision) = f.dir.add_official("sttt", &confirmed, "admin").unwrap();
    let collision = collision.unwrap();
    assert_eq!(second.address, "tuannanh.sttt@thanhhoa.gov.vn");
    assert_eq!(collision.alternatives[0], second.address);
    assert_eq!(collision.alternatives.len(), 3, "{collision:?}");
    // Another agency is another context: no confirmation needed.
    f.dir
        .add_official("yendinh", &official("Nguyễn Anh Tuấn"), "admin")
        .unwrap();
    // The operator picks a proposed alternative; an unproposed one is refused.
    let picked = NewOfficial {
        address: Some("tuanna3.sttt@thanhhoa.gov.vn".into()),
        ..confirmed.clone()
    };
    assert_eq!(
        f.dir.add_official("sttt", &picked, "admin").unwrap().0.address,
        "tuanna3.sttt@thanhhoa.gov.vn"
    );
    let unproposed = NewOfficial {
        address: Some("boss.sttt@thanhhoa.gov.vn".into()),
        ..confirmed
    };
    assert_eq!(
        f.dir
            .add_official("sttt", &unproposed, "admin")
            .unwrap_err()
            .kind(),
        "Invalid"
    );
}

#[test]
fn form01_creates_agency_and_officials_atomically() {
    let f = fixture(Settings::default());
    let lines = vec![
        Line::NewAgency {
            abbr: "pvhtt".into(),
            name: "Phòng Văn hóa và Thông tin".into(),
            parent: Some("yendinh".into()),
        },
        Line::NewOfficial(official("Lê Thị Hoa")),
        Line::NewOfficial(NewOfficial {
            confirm_namesake: true,
            ..official("Lê Thị Hoa")
        }),
    ];
    let results = run(&f.dir, request(Form::New, "yendinh", "2024-05-15", lines));
    assert_eq!(results[0], "pvhtt.yendinh@thanhhoa.gov.vn");
    assert_eq!(results[1], "hoalt.yendinh@thanhhoa.gov.vn");
    assert!(
        results[2].starts_with("hoalthi.yendinh@thanhhoa.gov.vn"),
        "{}",
        results[2]
    );
    assert!(f.dir.lookup("pvhtt.yendinh@thanhhoa.gov.vn").unwrap().is_some());

    // A failing line fails the whole request: nothing of line 1 is applied.
    let lines = vec![
        Line::NewOfficial(official("Trần Văn Nam")),
        Line::NewOfficial(official("Lê Thị Hoa")),
    ];
    let filed = f
        .dir
        .file_request(request(Form::New, "yendinh", "2024-05-15", lines), ADMIN, NOW)
        .unwrap();
    let err = f.dir.submit_request(filed.id, ADMIN, NOW).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    assert_eq!(f.dir.request(filed.id).unwrap().unwrap().state, State::Draft);
    assert!(f.dir.lookup("namtv.yendinh@thanhhoa.gov.vn").unwrap().is_none());
}

#[test]
fn workflow_states_and_refusals() {
    let f = fixture(Settings::default());
    let new = || {
        request(
            Form::New,
            "sttt",
            "2024-05-15",
            vec![Line::NewOfficial(official("Phạm Minh Chính"))],
        )
    };
    let filed = f.dir.file_request(new(), ADMIN, NOW).unwrap();
    assert_eq!(filed.state, State::Draft);
    assert_eq!(
        f.dir.approve_request(filed.id, ADMIN, NOW).unwrap_err().kind(),
        "Conflict"
    );
    f.dir.submit_request(filed.id, ADMIN, NOW).unwrap();
    f.dir.approve_request(filed.id, ADMIN, NOW).unwrap();
    let twice = f.dir.approve_request(filed.id, ADMIN, NOW).unwrap_err();
    assert_eq!(twice.kind(), "Conflict", "{twice}");
    assert_eq!(
        f.dir
            .reject_request(filed.id, "late", ADMIN, NOW)
            .unwrap_err()
            .kind(),
        "Conflict"
    );

    let other = f.dir.file_request(new(), ADMIN, NOW).unwrap();
    // The namesake refusal shows at submission.
    assert_eq!(
        f.dir.submit_request(other.id, ADMIN, NOW).unwrap_err().kind(),
        "Exists"
    );
    let third = f
        .dir
        .file_request(
            request(
                Form::New,
                "sttt",
                "2024-05-15",
                vec![Line::NewOfficial(NewOfficial {
                    confirm_namesake: true,
                    ..official("Phạm Minh Chính")
                })],
            ),
            ADMIN,
            NOW,
        )
        .unwrap();
    f.dir.submit_request(third.id, ADMIN, NOW).unwrap();
    let rejected = f.dir.reject_request(third.id, "trùng người", ADMIN, NOW).unwrap();
    assert_eq!(rejected.state, State::Rejected);
    assert_eq!(rejected.reason.as_deref(), Some("trùng người"));

    let refusals: Vec<(NewRequest, &str)> = vec![
        (
            request(
                Form::New,
                "nope",
                "2024-05-15",
                vec![Line::NewOfficial(official("A B"))],
            ),
            "NotFound",
        ),
        (
            request(
                Form::New,
                "sttt",
                "15/05/2024",
                vec![Line::NewOfficial(official("A B"))],
            ),
            "Invalid",
        ),
        (request(Form::New, "sttt", "2024-05-15", vec![]), "Invalid"),
        (
            request(
                Form::Delete,
                "sttt",
                "2024-05-15",
                vec![Line::NewOfficial(official("A B"))],
            ),
            "Invalid",
        ),
    ];
    for (new, want) in refusals {
        let err = f.dir.file_request(new, ADMIN, NOW).unwrap_err();
        assert_eq!(err.kind(), want, "{err}");
    }
    // An operator creates sub-agencies of their own agency only.
    let operator = Acting {
        actor: "op@thanhhoa.gov.vn",
        administrator: false,
    };
    let top = request(
        Form::New,
        "sttt",
        "2024-05-15",
        vec![Line::NewAgency {
            abbr: "snv".into(),
            name: "Sở Nội vụ".into(),
            parent: None,
        }],
    );
    assert_eq!(
        f.dir.file_request(top, operator, NOW).unwrap_err().kind(),
        "Invalid"
    );
    // Every step is in the audit log with its request id.
    let log = f.dir.audit_log(Some(filed.id), None, 100).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "file_request",
            "submit_request",
            "create_official",
            "approve_request"
        ]
    );
}

#[test]
fn late_filing_is_flagged() {
    let f = fixture(Settings::default());
    let lines = || {
        vec![Line::NewOfficial(NewOfficial {
            confirm_namesake: true,
            ..official("Vũ Đức Đam")
        })]
    };
    // NOW is 2024-05-20 in Vietnam: 10 days after 05-10 is on time, 11 days is late.
    for (effective, late) in [("2024-05-10", false), ("2024-05-09", true), ("2024-06-01", false)] {
        let filed = f
            .dir
            .file_request(request(Form::New, "sttt", effective, lines()), ADMIN, NOW)
            .unwrap();
        let submitted = f.dir.submit_request(filed.id, ADMIN, NOW).unwrap();
        assert_eq!(submitted.late, late, "{effective}");
        assert_eq!(submitted.filing_date.as_deref(), Some("2024-05-20"));
    }
    let report = f.dir.list_requests(None, None, true).unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].effective_date, "2024-05-09");
    assert_eq!(report[0].days_after_effect, Some(11));
}

#[test]
fn an_unfiled_draft_is_reminded_once_seven_days_after_effect() {
    let f = fixture(Settings::default());
    let lines = || vec![Line::NewOfficial(official("Vũ Đức Đam"))];
    // NOW is 2024-05-20 in Vietnam: 7 days after 05-13 is due, 6 days after 05-14 is not.
    let due = f
        .dir
        .file_request(request(Form::New, "sttt", "2024-05-13", lines()), ADMIN, NOW)
        .unwrap();
    let early = f
        .dir
        .file_request(request(Form::New, "sttt", "2024-05-14", lines()), ADMIN, NOW)
        .unwrap();
    let submitted = f
        .dir
        .file_request(request(Form::New, "sttt", "2024-05-01", lines()), ADMIN, NOW)
        .unwrap();
    f.dir.submit_request(submitted.id, ADMIN, NOW).unwrap();
    let ids = |after_days: u32, now: i64| -> Vec<u64> {
        let due = f.dir.filing_reminders_due(after_days, now).unwrap();
        due.iter().map(|request| request.id).collect()
    };
    assert_eq!(
        ids(7, NOW),
        vec![due.id],
        "the submitted one is filed, the other early"
    );
    assert_eq!(ids(7, NOW + DAY), vec![due.id, early.id], "a day later both are");
    assert_eq!(ids(0, NOW + DAY), Vec::<u64>::new(), "0 turns reminders off");

    let reminded = f.dir.record_filing_reminder(due.id, "congvu", NOW).unwrap();
    assert_eq!(reminded.reminded_at, Some(NOW));
    assert_eq!(ids(7, NOW + DAY), vec![early.id], "reminded once");
    assert!(matches!(
        f.dir.record_filing_reminder(due.id, "congvu", NOW),
        Err(DirectoryError::Conflict(_))
    ));
    assert!(matches!(
        f.dir.record_filing_reminder(submitted.id, "congvu", NOW),
        Err(DirectoryError::Conflict(_))
    ));
    let audit = f.dir.audit_log(Some(due.id), None, 10).unwrap();
    let line = audit
        .iter()
        .find(|entry| entry.action == "filing_reminder")
        .expect("the reminder is in the audit log");
    assert_eq!(line.subject, format!("request {}", due.id));
    assert_eq!(line.detail, "effective 2024-05-13");
    // Still a draft: filing it now (day 7) is on time.
    let filed = f.dir.submit_request(due.id, ADMIN, NOW).unwrap();
    assert!(!filed.late);
    assert_eq!(filed.reminded_at, Some(NOW));
}

#[test]
fn the_office_picks_an_alternative_address_on_a_collision() {
    let f = fixture(Settings::default());
    let (tuan, _) = f.dir.add_person("sttt", "Nguyễn Anh Tuấn", None, None).unwrap();
    let lines = vec![Line::NewOfficial(NewOfficial {
        confirm_namesake: true,
        ..official("Nguyễn Anh Tuấn")
    })];
    let filed = f
        .dir
        .file_request(request(Form::New, "sttt", "2024-05-15", lines), ADMIN, NOW)
        .unwrap();
    assert!(
        matches!(
            f.dir.pick_address(filed.id, 1, "x@thanhhoa.gov.vn", ADMIN, NOW),
            Err(DirectoryError::Conflict(_))
        ),
        "a draft is not given addresses"
    );
    f.dir.submit_request(filed.id, ADMIN, NOW).unwrap();
    let (_, collision) = f.dir.propose_address("sttt", "Nguyễn Anh Tuấn").unwrap();
    let collision = collision.unwrap();
    assert_eq!(collision.wanted, tuan.address);
    let second = collision.alternatives[1].clone();
    assert_ne!(second, collision.chosen, "not the one taken by default");
    let refused = f
        .dir
        .pick_address(filed.id, 1, "lethihoa.sttt@thanhhoa.gov.vn", ADMIN, NOW);
    assert!(
        matches!(&refused, Err(DirectoryError::Invalid(m)) if m.starts_with("line 1:")),
        "{refused:?}"
    );
    assert!(matches!(
        f.dir.pick_address(filed.id, 2, &second, ADMIN, NOW),
        Err(DirectoryError::Invalid(_))
    ));
    let picked = f.dir.pick_address(filed.id, 1, &second, ADMIN, NOW).unwrap();
    let Line::NewOfficial(line) = &picked.lines[0] else {
        panic!()
    };
    assert_eq!(line.address.as_deref(), Some(second.as_str()));
    let applied = f.dir.approve_request(filed.id, ADMIN, NOW).unwrap();
    assert!(applied.results[0].contains(&second), "{:?}", applied.results);
    assert!(f.dir.lookup(&second).unwrap().is_some());
    let audit = f.dir.audit_log(Some(filed.id), None, 10).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "pick_address" && e.detail == format!("line 1: {second}"))
    );
}

#[test]
fn form02_move_keeps_mail_password_and_old_address() {
    let f = fixture(Settings::default());
    let (tuan, _) = f
        .dir
        .add_person("sttt", "Nguyễn Anh Tuấn", Some("Chuyên viên"), None)
        .unwrap();
    f.dir
        .set_password(&tuan.address, &Secret::new("mật khẩu đúng".into()))
        .unwrap();
    deliver(&f.store, tuan.account);
    f.dir.set_role(&tuan.address, Role::Operator, "admin").unwrap();
    let lines = vec![Line::MoveOfficial {
        address: tuan.address.clone(),
        position: Some("Phó Chủ tịch".into()),
        department: None,
        new_address: None,
    }];
    let results = run(&f.dir, request(Form::Change, "yendinh", "2024-05-15", lines));
    assert_eq!(
        results[0],
        "tuanna.sttt@thanhhoa.gov.vn → tuanna.yendinh@thanhhoa.gov.vn"
    );
    let moved = f.dir.lookup("tuanna.yendinh@thanhhoa.gov.vn").unwrap().unwrap();
    assert_eq!(moved.account, tuan.account, "same storage: the mail stays");
    assert_eq!(moved.agency, "yendinh");
    assert_eq!(moved.role, Role::Official, "authority does not travel");
    assert_eq!(moved.position.as_deref(), Some("Phó Chủ tịch"));
    assert_eq!(moved.aliases, ["tuanna.sttt@thanhhoa.gov.vn"]);
    assert_eq!(
        f.dir.lookup(&tuan.address).unwrap().unwrap().address,
        moved.address
    );
    let inbox = f.store.mailbox_by_name(moved.account, "INBOX").unwrap().unwrap();
    assert_eq!(inbox.messages, 1);
    let login = f
        .dir
        .authenticate("tuanna.yendinh", &Secret::new("mật khẩu đúng".into()))
        .unwrap();
    assert_eq!(login.unwrap().address, moved.address);
    assert_eq!(
        f.dir.account_by_id(tuan.account).unwrap().unwrap().address,
        moved.address
    );

    // Moving again keeps both earlier addresses delivering.
    let back = vec![Line::MoveOfficial {
        address: moved.address.clone(),
        position: None,
        department: None,
        new_address: None,
    }];
    let results = run(&f.dir, request(Form::Change, "sttt", "2024-05-15", back));
    assert_eq!(
        results[0],
        "tuanna.yendinh@thanhhoa.gov.vn → tuannanh.sttt@thanhhoa.gov.vn"
    );
    for old in ["tuanna.sttt@thanhhoa.gov.vn", "tuanna.yendinh@thanhhoa.gov.vn"] {
        assert_eq!(f.dir.lookup(old).unwrap().unwrap().account, tuan.account, "{old}");
    }
    // A move must be filed by the receiving agency, and a change by the own agency.
    let own = vec![Line::ChangeOfficial {
        address: "tuannanh.sttt@thanhhoa.gov.vn".into(),
        position: Some("Trưởng phòng".into()),
        department: None,
        phone: None,
    }];
    let filed = f
        .dir
        .file_request(
            request(Form::Change, "yendinh", "2024-05-15", own.clone()),
            ADMIN,
            NOW,
        )
        .unwrap();
    assert!(
        f.dir
            .submit_request(filed.id, ADMIN, NOW)
            .unwrap_err()
            .to_string()
            .contains("not to the filing agency")
    );
    run(&f.dir, request(Form::Change, "sttt", "2024-05-15", own));
    let changed = f.dir.lookup("tuannanh.sttt@thanhhoa.gov.vn").unwrap().unwrap();
    assert_eq!(changed.position.as_deref(), Some("Trưởng phòng"));
}

#[test]
fn form02_rename_and_convert() {
    let f = fixture(Settings::default());
    run(
        &f.dir,
        request(
            Form::Change,
            "sttt",
            "2024-05-15",
            vec![Line::RenameAgency {
                agency: "sttt".into(),
                name: "Sở Khoa học và Công nghệ".into(),
            }],
        ),
    );
    assert_eq!(
        f.dir.agency("sttt").unwrap().unwrap().name,
        "Sở Khoa học và Công nghệ"
    );
    assert_eq!(
        f.dir
            .lookup("sttt@thanhhoa.gov.vn")
            .unwrap()
            .unwrap()
            .display_name,
        "Sở Khoa học và Công nghệ"
    );

    // An old-scheme mailbox: an alias added by hand stands in for a pre-regulation address.
    let (hoa, _) = f.dir.add_person("sttt", "Lê Thị Hoa", None, None).unwrap();
    let err = f
        .dir
        .file_request(
            request(
                Form::Change,
                "sttt",
                "2024-05-15",
                vec![Line::ConvertAddress {
                    address: hoa.address.clone(),
                    new_address: None,
                }],
            ),
            ADMIN,
            NOW,
        )
        .and_then(|r| f.dir.submit_request(r.id, ADMIN, NOW))
        .unwrap_err();
    assert!(err.to_string().contains("already follows Art. 3"), "{err}");
}

#[test]
fn form02_converts_an_old_scheme_address() {
    let f = fixture(Settings::default());
    // A mailbox from before the regulation, issued as is (the way a migration would).
    let old: congvu_policy::LocalPart = "anhtuan".parse().unwrap();
    {
        let _write = f.dir.write_lock().unwrap();
        let mut plan = Plan::new(&f.dir, "migration", NOW);
        let template = crate::AccountRecord {
            address: "anhtuan@thanhhoa.gov.vn".into(),
            kind: congvu_store::AccountKind::Personal,
            account: congvu_store::AccountId(0),
            display_name: "Nguyễn Anh Tuấn".into(),
            agency: "sttt".into(),
            position: None,
            department: None,
            disabled: false,
            person_id: None,
            phone: None,
            role: Role::Official,
            deleted: None,
            aliases: Vec::new(),
        };
        plan.issue(&old, &template, None).unwrap();
        plan.commit().unwrap();
    }
    let results = run(
        &f.dir,
        request(
            Form::Change,
            "sttt",
            "2024-05-15",
            vec![Line::ConvertAddress {
                address: "anhtuan@thanhhoa.gov.vn".into(),
                new_address: None,
            }],
        ),
    );
    assert_eq!(results, ["anhtuan@thanhhoa.gov.vn → tuanna.sttt@thanhhoa.gov.vn"]);
    let converted = f.dir.lookup("anhtuan@thanhhoa.gov.vn").unwrap().unwrap();
    assert_eq!(converted.address, "tuanna.sttt@thanhhoa.gov.vn");
    assert_eq!(converted.aliases, ["anhtuan@thanhhoa.gov.vn"]);
}

/// Form 03 for an official of Sở TT&TT who retired.
fn retirement(address: &str) -> NewRequest {
    request(
        Form::Delete,
        "sttt",
        "2024-05-15",
        vec![Line::DeleteOfficial {
            address: address.to_owned(),
            reason: DeletionReason::Retired,
        }],
    )
}

#[test]
fn form03_deletion_revokes_the_sessions_of_the_mailbox() {
    let f = fixture(Settings::default());
    let (hoa, _) = f.dir.add_person("sttt", "Lê Thị Hoa", None, None).unwrap();
    let password = Secret::new("mật khẩu đúng".to_owned());
    f.dir.set_password(&hoa.address, &password).unwrap();
    let (_, watch) = f
        .dir
        .authenticate_watched(LOOPBACK, &hoa.address, &password)
        .unwrap()
        .unwrap();
    assert!(!watch.is_revoked());
    run(&f.dir, retirement(&hoa.address));
    assert!(watch.is_revoked());
    assert!(
        f.dir
            .authenticate_from(LOOPBACK, &hoa.address, &password)
            .unwrap()
            .is_none()
    );
}

#[test]
fn form03_delete_restore_purge() {
    let f = fixture(Settings::default());
    let (hoa, _) = f.dir.add_person("sttt", "Lê Thị Hoa", None, None).unwrap();
    let password = Secret::new("mật khẩu đúng".to_owned());
    f.dir.set_password(&hoa.address, &password).unwrap();
    deliver(&f.store, hoa.account);
    let delete = || retirement(&hoa.address);
    run(&f.dir, delete());
    let deleted = f.dir.lookup(&hoa.address).unwrap().unwrap();
    assert!(deleted.disabled);
    let deletion = deleted.deleted.clone().unwrap();
    assert_eq!(deletion.purge_after, NOW + 90 * DAY);
    assert_eq!(
        f.dir.authenticate(&hoa.address, &password).unwrap(),
        None,
        "cannot log in"
    );
    assert!(
        f.dir.search("hoa", 10).unwrap().is_empty(),
        "gone from the directory"
    );

    // Undo within the window.
    f.dir.restore(&hoa.address, "admin").unwrap();
    assert!(f.dir.authenticate(&hoa.address, &password).unwrap().is_some());
    run(&f.dir, delete());

    // Not yet due: nothing purged. Due but the archive cannot be written: nothing
    // purged either. Due and archived: content gone, address unknown, never reissued.
    assert!(f.dir.purge_expired(NOW + DAY, "admin").unwrap().is_empty());
    f.archiver.fail.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(f.dir.purge_expired(NOW + 91 * DAY, "admin").unwrap().is_empty());
    assert!(
        f.store.account(hoa.account).unwrap().is_some(),
        "kept without an archive"
    );
    f.archiver.fail.store(false, std::sync::atomic::Ordering::Relaxed);
    let purged = f.dir.purge_expired(NOW + 91 * DAY, "admin").unwrap();
    assert_eq!(purged, std::slice::from_ref(&hoa.address));
    assert_eq!(
        f.archiver.archived.lock().unwrap().as_slice(),
        [(hoa.address.clone(), 1)]
    );
    let log = f.dir.audit_log(None, Some(&hoa.address), 100).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    let archive = actions
        .iter()
        .position(|a| *a == "archive")
        .expect("archive audited");
    let purge = actions.iter().position(|a| *a == "purge").expect("purge audited");
    assert!(log[archive].at <= log[purge].at, "{actions:?}");
    assert_eq!(log[archive].detail, format!("/archive/{}", hoa.address));
    assert!(f.dir.lookup(&hoa.address).unwrap().is_none());
    assert_eq!(
        f.store.account(hoa.account).unwrap(),
        None,
        "storage account deleted"
    );
    assert!(f.store.list_mailboxes(hoa.account).unwrap().is_empty());
    assert_eq!(
        f.dir.restore(&hoa.address, "admin").unwrap_err().kind(),
        "NotFound"
    );
    let (again, collision) = f.dir.add_person("sttt", "Lê Thị Hoa", None, None).unwrap();
    assert_ne!(again.address, hoa.address);
    assert_eq!(collision.unwrap().wanted, hoa.address);

    // An agency mailbox goes only with its agency.
    let err = f
        .dir
        .file_request(
            request(
                Form::Delete,
                "sttt",
                "2024-05-15",
                vec![Line::DeleteOfficial {
                    address: "sttt@thanhhoa.gov.vn".into(),
                    reason: DeletionReason::Left,
                }],
            ),
            ADMIN,
            NOW,
        )
        .and_then(|r| f.dir.submit_request(r.id, ADMIN, NOW))
        .unwrap_err();
    assert!(err.to_string().contains("not a personal mailbox"), "{err}");
}

#[test]
fn form03_dissolve_needs_an_empty_agency() {
    let f = fixture(Settings::default());
    f.dir.add_agency("pvhtt", "Phòng VH-TT", Some("yendinh")).unwrap();
    let (nam, _) = f
        .dir
        .add_person("pvhtt.yendinh", "Trần Văn Nam", None, None)
        .unwrap();
    let dissolve = || {
        request(
            Form::Delete,
            "yendinh",
            "2024-05-15",
            vec![Line::DissolveAgency {
                agency: "pvhtt.yendinh".into(),
                decision: "Quyết định 123/QĐ-UBND".into(),
            }],
        )
    };
    let filed = f.dir.file_request(dissolve(), ADMIN, NOW).unwrap();
    let err = f.dir.submit_request(filed.id, ADMIN, NOW).unwrap_err();
    assert!(err.to_string().contains(&nam.address), "{err}");
    run(
        &f.dir,
        request(
            Form::Delete,
            "pvhtt.yendinh",
            "2024-05-15",
            vec![Line::DeleteOfficial {
                address: nam.address.clone(),
                reason: DeletionReason::MovedOut,
            }],
        ),
    );
    run(&f.dir, dissolve());
    let agency = f.dir.agency("pvhtt.yendinh").unwrap().unwrap();
    assert_eq!(agency.dissolved.as_deref(), Some("Quyết định 123/QĐ-UBND"));
    assert!(f.dir.lookup(&agency.address).unwrap().unwrap().disabled);
    let err = f
        .dir
        .add_person("pvhtt.yendinh", "Ngô Bảo Châu", None, None)
        .unwrap_err();
    assert_eq!(err.kind(), "Invalid");
}

#[test]
fn delegation_grants() {
    let f = fixture(Settings::default());
    let (clerk, _) = f.dir.add_person("sttt", "Đỗ Thị Văn Thư", None, None).unwrap();
    let (outsider, _) = f.dir.add_person("yendinh", "Hà Văn Khác", None, None).unwrap();
    let agency = f.dir.agency("sttt").unwrap().unwrap();
    let grant = f
        .dir
        .grant_delegation("sttt", &clerk.address, Some("QĐ 5/QĐ-STTT"), "head")
        .unwrap();
    assert_eq!(grant.mailbox, agency.account);
    assert_eq!(f.dir.delegations_for(clerk.account).unwrap(), [grant]);
    assert!(f.dir.may_access(clerk.account, agency.account).unwrap());
    assert!(!f.dir.may_access(outsider.account, agency.account).unwrap());
    let err = f
        .dir
        .grant_delegation("sttt", &outsider.address, None, "head")
        .unwrap_err();
    assert_eq!(err.kind(), "Invalid");
    f.dir.revoke_delegation("sttt", &clerk.address, "head").unwrap();
    assert!(f.dir.delegations_for(clerk.account).unwrap().is_empty());
    assert_eq!(
        f.dir
            .revoke_delegation("sttt", &clerk.address, "head")
            .unwrap_err()
            .kind(),
        "NotFound"
    );
}

#[test]
fn delegation_rights_and_sending_as_the_agency() {
    use crate::{GrantTerms, Rights};
    let f = fixture(Settings::default());
    let (clerk, _) = f.dir.add_person("sttt", "Đỗ Thị Văn Thư", None, None).unwrap();
    let (other, _) = f.dir.add_person("sttt", "Lê Văn Khác", None, None).unwrap();
    let agency = f.dir.lookup("sttt@thanhhoa.gov.vn").unwrap().unwrap();
    assert!(!f.dir.may_submit_as(&clerk, &agency.address).unwrap());
    assert!(f.dir.may_submit_as(&clerk, &clerk.address).unwrap());

    // SETACL: a new grant with the rights given, and no sending as the agency: that
    // needs the written authorisation only the admin API records.
    let read: Rights = "lrs".parse().unwrap();
    let grant = f
        .dir
        .set_delegation_rights("sttt", &clerk.address, |_| read, "sttt@thanhhoa.gov.vn")
        .unwrap()
        .unwrap();
    assert_eq!((grant.rights, grant.send_as), (read, false));
    assert!(!f.dir.may_submit_as(&clerk, &agency.address).unwrap());

    // The admin API grants sending as the agency; SETACL changing the rights keeps it.
    f.dir
        .grant_delegation("sttt", &clerk.address, Some("QĐ 6"), "admin")
        .unwrap();
    let grant = f
        .dir
        .set_delegation_rights("sttt", &clerk.address, |_| read, "sttt@thanhhoa.gov.vn")
        .unwrap()
        .unwrap();
    assert_eq!((grant.rights, grant.send_as), (read, true));
    assert!(f.dir.may_submit_as(&clerk, "STTT@thanhhoa.gov.vn").unwrap());
    assert!(!f.dir.may_submit_as(&other, &agency.address).unwrap());
    // A clerk holds a grant, not the other official's address.
    assert!(!f.dir.may_submit_as(&clerk, &other.address).unwrap());

    // The admin API's terms: no sending as the agency; SETACL keeps that.
    let terms = GrantTerms {
        rights: Rights::DELEGABLE,
        send_as: false,
    };
    f.dir
        .grant_delegation_with("sttt", &clerk.address, Some("QĐ 7"), terms, "admin")
        .unwrap();
    assert!(!f.dir.may_submit_as(&clerk, &agency.address).unwrap());
    let grant = f
        .dir
        .set_delegation_rights("sttt", &clerk.address, |_| read, "admin")
        .unwrap()
        .unwrap();
    assert_eq!(
        (grant.rights, grant.send_as, grant.document.as_deref()),
        (read, false, Some("QĐ 7"))
    );

    // `a` is never delegated; an empty set withdraws the grant.
    let err = f
        .dir
        .set_delegation_rights("sttt", &clerk.address, |_| Rights::ALL, "admin")
        .unwrap_err();
    assert_eq!(err.kind(), "Invalid");
    assert!(
        f.dir
            .set_delegation_rights("sttt", &clerk.address, |r| r.difference(read), "admin")
            .unwrap()
            .is_none()
    );
    assert!(f.dir.delegations_for(clerk.account).unwrap().is_empty());
    let actions: Vec<String> = f
        .dir
        .audit_log(None, Some(&agency.address), 100)
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.detail))
        .collect();
    assert!(
        actions.contains(&format!(
            "grant_delegation to {} rights lrs send_as false",
            clerk.address
        )),
        "{actions:?}"
    );
    assert!(
        actions.last().unwrap().starts_with("revoke_delegation"),
        "{actions:?}"
    );

    // Withdrawn and granted again by SETACL: still no sending as the agency.
    let grant = f
        .dir
        .set_delegation_rights("sttt", &clerk.address, |_| read, "sttt@thanhhoa.gov.vn")
        .unwrap()
        .unwrap();
    assert_eq!((grant.rights, grant.send_as, grant.document), (read, false, None));
    assert!(!f.dir.may_submit_as(&clerk, &agency.address).unwrap());
}

#[test]
fn form02_move_withdraws_the_clerks_delegations() {
    let f = fixture(Settings::default());
    let (clerk, _) = f.dir.add_person("sttt", "Đỗ Thị Văn Thư", None, None).unwrap();
    let agency = f.dir.lookup("sttt@thanhhoa.gov.vn").unwrap().unwrap();
    f.dir
        .grant_delegation("sttt", &clerk.address, Some("QĐ 5/QĐ-STTT"), "head")
        .unwrap();
    assert!(f.dir.may_submit_as(&clerk, &agency.address).unwrap());

    let lines = vec![Line::MoveOfficial {
        address: clerk.address.clone(),
        position: None,
        department: None,
        new_address: None,
    }];
    run(&f.dir, request(Form::Change, "yendinh", "2024-05-15", lines));
    let moved = f.dir.account_by_id(clerk.account).unwrap().unwrap();
    assert_eq!(moved.agency, "yendinh");
    // The grant record itself is gone, in the move's own transaction.
    assert!(
        f.dir
            .trees
            .scan_prefix::<crate::Delegation>(crate::trees::T::Delegations, &clerk.account.0.to_be_bytes())
            .unwrap()
            .is_empty()
    );
    assert!(f.dir.delegations_of(agency.account).unwrap().is_empty());
    assert_eq!(f.dir.delegation(clerk.account, agency.account).unwrap(), None);
    assert!(!f.dir.may_access(clerk.account, agency.account).unwrap());
    assert!(!f.dir.may_submit_as(&moved, &agency.address).unwrap());
    let actions: Vec<String> = f
        .dir
        .audit_log(None, Some(&agency.address), 100)
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.detail))
        .collect();
    assert!(
        actions.contains(&format!(
            "revoke_delegation from {} (moved to another agency)",
            clerk.address
        )),
        "{actions:?}"
    );

    // Moving back does not bring the grant back: the head grants again, in writing.
    let back = vec![Line::MoveOfficial {
        address: moved.address.clone(),
        position: None,
        department: None,
        new_address: None,
    }];
    run(&f.dir, request(Form::Change, "sttt", "2024-05-15", back));
    let back = f.dir.account_by_id(clerk.account).unwrap().unwrap();
    assert!(!f.dir.may_submit_as(&back, &agency.address).unwrap());
    assert!(f.dir.delegations_for(clerk.account).unwrap().is_empty());
}

#[test]
fn a_grant_gives_nothing_once_its_clerk_is_no_live_official_of_the_agency() {
    use crate::{Delegation, Rights};
    let f = fixture(Settings::default());
    let (clerk, _) = f.dir.add_person("sttt", "Đỗ Thị Văn Thư", None, None).unwrap();
    let (outsider, _) = f.dir.add_person("yendinh", "Hà Văn Khác", None, None).unwrap();
    let agency = f.dir.lookup("sttt@thanhhoa.gov.vn").unwrap().unwrap();
    let grant = f
        .dir
        .grant_delegation("sttt", &clerk.address, Some("QĐ 5/QĐ-STTT"), "head")
        .unwrap();
    assert_eq!((grant.rights, grant.send_as), (Rights::DELEGABLE, true));

    // A record naming an official of another agency (as a move before withdrawal on
    // move left behind) is on disk but gives no rights and no sending.
    let stale = Delegation {
        delegate: outsider.account,
        delegate_address: outsider.address.clone(),
        ..grant.clone()
    };
    let mut plan = Plan::new(&f.dir, "test", NOW);
    let mut key = outsider.account.0.to_be_bytes().to_vec();
    key.extend_from_slice(&agency.account.0.to_be_bytes());
    plan.put(crate::trees::T::Delegations, &key, &stale).unwrap();
    plan.commit().unwrap();
    assert_eq!(
        f.dir.delegations_of(agency.account).unwrap().len(),
        2,
        "the record exists"
    );
    assert_eq!(f.dir.delegation(outsider.account, agency.account).unwrap(), None);
    assert!(f.dir.delegations_for(outsider.account).unwrap().is_empty());
    assert!(!f.dir.may_access(outsider.account, agency.account).unwrap());
    assert!(!f.dir.may_submit_as(&outsider, &agency.address).unwrap());

    // A disabled clerk's grant gives nothing either, and comes back with the account.
    f.dir.set_disabled(&clerk.address, true, "admin").unwrap();
    assert_eq!(f.dir.delegation(clerk.account, agency.account).unwrap(), None);
    assert!(!f.dir.may_access(clerk.account, agency.account).unwrap());
    assert!(!f.dir.may_submit_as(&clerk, &agency.address).unwrap());
    f.dir.set_disabled(&clerk.address, false, "admin").unwrap();
    assert_eq!(
        f.dir.delegation(clerk.account, agency.account).unwrap(),
        Some(grant)
    );
    assert!(f.dir.may_submit_as(&clerk, &agency.address).unwrap());

    // Nor does a grant on a disabled agency mailbox.
    f.dir.set_disabled(&agency.address, true, "admin").unwrap();
    assert_eq!(f.dir.delegation(clerk.account, agency.account).unwrap(), None);
    assert!(f.dir.delegations_for(clerk.account).unwrap().is_empty());
}

#[test]
fn sessions_follow_the_account() {
    let f = fixture(Settings::default());
    let (op, _) = f
        .dir
        .add_person("sttt", "Nguyễn Văn Vận Hành", None, None)
        .unwrap();
    let password = Secret::new("mật khẩu đúng".to_owned());
    f.dir.set_password(&op.address, &password).unwrap();
    f.dir.set_role(&op.address, Role::Operator, "admin").unwrap();
    assert!(
        f.dir
            .login(LOOPBACK, &op.address, &Secret::new("sai".into()))
            .unwrap()
            .is_none()
    );
    let (token, principal, _) = f.dir.login(LOOPBACK, &op.address, &password).unwrap().unwrap();
    assert_eq!(principal.role, Role::Operator);
    assert_eq!(principal.agency, "sttt");
    assert_eq!(
        f.dir.principal(token.expose()).unwrap().unwrap().address,
        op.address
    );
    assert!(f.dir.principal("forged").unwrap().is_none());
    f.dir.set_disabled(&op.address, true, "admin").unwrap();
    assert!(
        f.dir.principal(token.expose()).unwrap().is_none(),
        "disabled: session dead"
    );
    f.dir.set_disabled(&op.address, false, "admin").unwrap();
    assert!(
        f.dir.principal(token.expose()).unwrap().is_none(),
        "enabled again: the session stays ended"
    );
    // A password change ends every session of the account, and only of it.
    let (first, _, _) = f.dir.login(LOOPBACK, &op.address, &password).unwrap().unwrap();
    let (second, _, _) = f.dir.login(LOOPBACK, &op.address, &password).unwrap().unwrap();
    let (other, _) = f.dir.add_person("sttt", "Lê Thị Hoa", None, None).unwrap();
    f.dir.set_password(&other.address, &password).unwrap();
    let (bystander, _, _) = f.dir.login(LOOPBACK, &other.address, &password).unwrap().unwrap();
    f.dir
        .set_password(&op.address, &Secret::new("mật khẩu mới".into()))
        .unwrap();
    assert!(f.dir.principal(first.expose()).unwrap().is_none());
    assert!(f.dir.principal(second.expose()).unwrap().is_none());
    assert!(f.dir.principal(bystander.expose()).unwrap().is_some());
    f.dir.logout(bystander.expose()).unwrap();
    assert!(f.dir.principal(bystander.expose()).unwrap().is_none());
    assert_eq!(
        f.dir
            .set_role("sttt@thanhhoa.gov.vn", Role::Operator, "admin")
            .unwrap_err()
            .kind(),
        "Invalid"
    );
}

#[test]
fn search_ignores_accents() {
    let f = fixture(Settings::default());
    f.dir
        .add_person("sttt", "Nguyễn Anh Tuấn", Some("Chuyên viên"), None)
        .unwrap();
    f.dir
        .add_person("yendinh", "Trần Thị Tươi", None, Some("Phòng Tư pháp"))
        .unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("tuan", &["tuanna.sttt@thanhhoa.gov.vn"]),
        ("TUẤN", &["tuanna.sttt@thanhhoa.gov.vn"]),
        ("nguyen tuan", &["tuanna.sttt@thanhhoa.gov.vn"]),
        (
            "tu",
            &["tuanna.sttt@thanhhoa.gov.vn", "tuoitt.yendinh@thanhhoa.gov.vn"],
        ),
        ("tu phap", &["tuoitt.yendinh@thanhhoa.gov.vn"]),
        ("chuyen vien", &["tuanna.sttt@thanhhoa.gov.vn"]),
        ("nobody", &[]),
    ];
    for (query, want) in cases {
        let got: Vec<String> = f
            .dir
            .search(query, 10)
            .unwrap()
            .into_iter()
            .map(|r| r.address)
            .collect();
        assert_eq!(got, *want, "{query:?}");
    }
}

const CSV: &str = "\u{feff}kind,agency,parent,name,person_id,position,department,phone\r\n\
agency,snv,,Sở Nội vụ,,,,\r\n\
agency,pcc,snv,Phòng Công chức,,,,\r\n\
official,snv,,Nguyễn Văn An,,Giám đốc,,0912000001\r\n\
official,snv,,Nguyễn Văn An,,Chuyên viên,,\r\n\
official,pcc.snv,,Lê Thị Bình,038090000001,\"Phó phòng, phụ trách\",,\r\n";

#[test]
fn import_dry_run_apply_and_rerun() {
    let f = fixture(Settings::default());
    let rows = import::parse(CSV.as_bytes()).unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4].line, 6);
    let dry = f.dir.import(&rows, false, None, "admin", &mut |_, _| {}).unwrap();
    assert!(!dry.applied);
    assert_eq!(
        (dry.new_agencies, dry.new_officials, dry.existing, dry.collisions),
        (2, 3, 0, 1)
    );
    let addresses: Vec<&str> = dry.outcomes.iter().map(|o| o.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "snv@thanhhoa.gov.vn",
            "pcc.snv@thanhhoa.gov.vn",
            "annv.snv@thanhhoa.gov.vn",
            "annvan.snv@thanhhoa.gov.vn",
            "binhlt.pcc.snv@thanhhoa.gov.vn",
        ]
    );
    assert!(f.dir.agency("snv").unwrap().is_none(), "a dry run writes nothing");

    // Applied in two ranges (as the CLI does for its progress bar), then re-run whole.
    let mut calls = Vec::new();
    f.dir
        .import(&rows, true, Some(0..3), "admin", &mut |done, total| {
            calls.push((done, total))
        })
        .unwrap();
    assert_eq!(calls, [(3, 3)]);
    let second = f
        .dir
        .import(&rows, true, Some(3..5), "admin", &mut |_, _| {})
        .unwrap();
    assert_eq!((second.new_officials, second.existing), (2, 0));
    let rerun = f.dir.import(&rows, true, None, "admin", &mut |_, _| {}).unwrap();
    assert_eq!(
        (rerun.new_agencies, rerun.new_officials, rerun.existing),
        (0, 0, 5)
    );
    assert!(rerun.outcomes.iter().all(|o| o.status == Status::Exists));
    assert_eq!(f.dir.list_accounts(Some("snv")).unwrap().len(), 3);
    let binh = f.dir.lookup("binhlt.pcc.snv@thanhhoa.gov.vn").unwrap().unwrap();
    assert_eq!(binh.position.as_deref(), Some("Phó phòng, phụ trách"));
    assert_eq!(binh.person_id.as_deref(), Some("038090000001"));
}

#[test]
fn import_errors_name_the_line_and_apply_nothing() {
    let f = fixture(Settings::default());
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("kind,agency,colour\r\n", "line 1: unknown column \"colour\""),
        ("kind,name\r\n", "line 1: the column \"agency\" is missing"),
        ("kind,agency,name\r\nofficial,sttt\r\n", "line 2: 2 fields"),
        (
            "kind,agency,name\r\nofficial,sttt,A\r\nperson,sttt,B\r\n",
            "line 3: kind \"person\"",
        ),
        (
            "kind,agency,name\r\nofficial,sttt,\"A\r\nB\r\nofficial,sttt,C\r\n",
            "line 2: a quoted field is not closed",
        ),
        (
            "kind,agency,name\r\nofficial,sttt,A\"B\r\n",
            "line 2: a quote inside",
        ),
        ("kind,agency,name\r\nofficial,sttt,\r\n", "line 2: name is empty"),
    ];
    for (csv, want) in cases {
        let err = import::parse(csv.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(want), "{csv:?}: {err}");
    }
    let bad_utf8 = b"kind,agency,name\nofficial,sttt,Nguy\xe1n\n";
    assert!(
        import::parse(bad_utf8)
            .unwrap_err()
            .to_string()
            .contains("line 2: not UTF-8")
    );

    // Well-formed but unknown agency on line 3: line 2 is not applied either.
    let rows = import::parse("kind,agency,name\nofficial,sttt,Trần Văn Một\nofficial,nope,Hai\n".as_bytes())
        .unwrap();
    let err = f
        .dir
        .import(&rows, true, None, "admin", &mut |_, _| {})
        .unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    assert!(f.dir.lookup("motv.sttt@thanhhoa.gov.vn").unwrap().is_none());
}
