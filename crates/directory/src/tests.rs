//! Behaviour of the directory against the real sled store.

use std::sync::Arc;

use congvu_store::{AccountId, AccountKind, MailStore, SledStore};
use tempfile::TempDir;
use unicode_normalization::UnicodeNormalization;

use crate::{AccountRecord, Collision, DefaultQuotas, Directory, DirectoryError, Secret};

const DOMAIN: &str = "thanhhoa.gov.vn";

struct Fixture {
    store: Arc<SledStore>,
    dir: Directory,
    // Dropped last: the store's files live in it.
    _data: TempDir,
}

/// Every test that passes leaves the store and the directory consistent.
impl Drop for Fixture {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let report = self.dir.check().expect("consistency check");
        assert!(
            report.is_consistent(),
            "the test left an inconsistent data directory: {report:?}"
        );
    }
}

fn fixture() -> Fixture {
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let dir = open(&store);
    Fixture {
        store,
        dir,
        _data: data,
    }
}

fn open(store: &Arc<SledStore>) -> Directory {
    Directory::open(store.db(), store.clone(), DOMAIN, DefaultQuotas::default()).unwrap()
}

/// A directory with Sở TT&TT, UBND huyện Yên Định and its Phòng VH-TT.
fn province() -> Fixture {
    let f = fixture();
    f.dir
        .add_agency("sttt", "Sở Thông tin và Truyền thông", None)
        .unwrap();
    f.dir.add_agency("yendinh", "UBND huyện Yên Định", None).unwrap();
    f.dir
        .add_agency("pvhtt", "Phòng Văn hóa và Thông tin", Some("yendinh"))
        .unwrap();
    f
}

fn person(dir: &Directory, agency: &str, name: &str) -> (String, Option<Collision>) {
    let (record, collision) = dir.add_person(agency, name, None, None).unwrap();
    (record.address, collision)
}

fn secret(s: &str) -> Secret<String> {
    Secret::new(s.to_owned())
}

#[test]
fn agency_and_sub_agency() {
    let f = province();
    let sttt = f.dir.agency("sttt").unwrap().unwrap();
    assert_eq!(sttt.address, "sttt@thanhhoa.gov.vn");
    assert_eq!(sttt.parent, None);
    let sub = f.dir.agency("PVHTT.YenDinh").unwrap().unwrap();
    assert_eq!(sub.abbr, "pvhtt.yendinh");
    assert_eq!(sub.parent.as_deref(), Some("yendinh"));
    assert_eq!(sub.address, "pvhtt.yendinh@thanhhoa.gov.vn");
    assert_eq!(sub.name, "Phòng Văn hóa và Thông tin");

    // The agency mailbox is a real storage account with the Art. 9.1 agency quota.
    let storage = f.store.account(sub.account).unwrap().unwrap();
    assert_eq!(storage.kind, AccountKind::Agency);
    assert_eq!(storage.quota_bytes, 500 << 20);
    let mailbox = f.dir.lookup("pvhtt.yendinh@thanhhoa.gov.vn").unwrap().unwrap();
    assert_eq!(mailbox.kind, AccountKind::Agency);
    assert_eq!(mailbox.account, sub.account);
    assert_eq!(mailbox.agency, "pvhtt.yendinh");
    assert_eq!(mailbox.display_name, "Phòng Văn hóa và Thông tin");

    let abbrs: Vec<String> = f
        .dir
        .list_agencies()
        .unwrap()
        .into_iter()
        .map(|a| a.abbr)
        .collect();
    assert_eq!(abbrs, ["pvhtt.yendinh", "sttt", "yendinh"]);
    assert!(f.dir.agency("nope").unwrap().is_none());
}

#[test]
fn agency_abbreviation_typed_with_diacritics() {
    let f = fixture();
    let agency = f.dir.add_agency("Yên Định", "UBND huyện Yên Định", None).unwrap();
    assert_eq!(agency.abbr, "yendinh");
    let sub = f
        .dir
        .add_agency("pvhtt", "Phòng VH-TT", Some("Yên Định"))
        .unwrap();
    assert_eq!(sub.address, "pvhtt.yendinh@thanhhoa.gov.vn");
}

#[test]
fn bad_agencies_are_refused() {
    let f = province();
    let cases: &[(&str, &str, Option<&str>, &str)] = &[
        ("sttt", "again", None, "Exists"),
        ("STTT", "again, upper-case", None, "Exists"),
        ("pvhtt", "again", Some("yendinh"), "Exists"),
        ("pvhtt", "parent unknown", Some("nope"), "NotFound"),
        ("a.b", "dotted abbreviation", None, "Invalid"),
        ("s&t", "bad character", None, "Invalid"),
        ("", "empty abbreviation", None, "Invalid"),
        ("snv", "  ", None, "Invalid"),
    ];
    for (abbr, name, parent, want) in cases {
        let err = f.dir.add_agency(abbr, name, *parent).unwrap_err();
        assert_eq!(err.kind(), *want, "{abbr:?} {name:?} {parent:?}: {err:?}");
        assert!(!err.is_server_fault(), "{err:?}");
    }
    assert_eq!(f.dir.list_agencies().unwrap().len(), 3);
}

#[test]
fn person_gets_the_art3_address() {
    let f = province();
    let (record, collision) = f
        .dir
        .add_person(
            "sttt",
            "  Nguyễn  Anh Tuấn ",
            Some("Trưởng phòng"),
            Some("Phòng Quản lý CNTT"),
        )
        .unwrap();
    assert_eq!(collision, None);
    assert_eq!(record.address, "tuanna.sttt@thanhhoa.gov.vn");
    assert_eq!(record.kind, AccountKind::Personal);
    assert_eq!(record.display_name, "Nguyễn Anh Tuấn");
    assert_eq!(record.agency, "sttt");
    assert_eq!(record.position.as_deref(), Some("Trưởng phòng"));
    assert_eq!(record.department.as_deref(), Some("Phòng Quản lý CNTT"));
    assert!(!record.disabled);
    let storage = f.store.account(record.account).unwrap().unwrap();
    assert_eq!(storage.kind, AccountKind::Personal);
    assert_eq!(storage.quota_bytes, 100 << 20);

    let cases = [
        (
            "pvhtt.yendinh",
            "Nguyễn Thị Minh Khai",
            "khaintm.pvhtt.yendinh@thanhhoa.gov.vn",
        ),
        ("YENDINH", "Lê Lợi", "loil.yendinh@thanhhoa.gov.vn"),
        ("sttt", "Đặng Hữu Ước", "uocdh.sttt@thanhhoa.gov.vn"),
    ];
    for (agency, name, want) in cases {
        assert_eq!(person(&f.dir, agency, name), (want.to_owned(), None), "{name}");
    }
}

#[test]
fn bad_people_are_refused() {
    let f = province();
    let cases: &[(&str, &str, &str)] = &[
        ("nope", "Nguyễn Anh Tuấn", "NotFound"),
        ("sttt", "", "Invalid"),
        ("sttt", "— !!", "Invalid"),
        ("sttt", "Nguyễn\u{7}Tuấn", "Invalid"),
    ];
    for (agency, name, want) in cases {
        let err = f.dir.add_person(agency, name, None, None).unwrap_err();
        assert_eq!(err.kind(), *want, "{agency:?} {name:?}: {err:?}");
    }
    assert_eq!(
        f.dir.list_accounts(Some("sttt")).unwrap().len(),
        1,
        "only the agency mailbox"
    );
}

#[test]
fn namesakes_get_distinct_explained_addresses() {
    let f = province();
    let nfd: String = "Nguyễn Anh Tuấn".nfd().collect();
    let mut got = Vec::new();
    for name in ["Nguyễn Anh Tuấn", &nfd, "NGUYỄN ANH TUẤN", "Nguyễn Anh Tuấn"] {
        got.push(person(&f.dir, "sttt", name));
    }
    let wanted = "tuanna.sttt@thanhhoa.gov.vn";
    assert_eq!(got[0], (wanted.to_owned(), None));
    let chosen: Vec<&str> = got[1..].iter().map(|(address, _)| address.as_str()).collect();
    assert_eq!(
        chosen,
        [
            "tuannanh.sttt@thanhhoa.gov.vn",
            "tuannguyena.sttt@thanhhoa.gov.vn",
            "tuanna2.sttt@thanhhoa.gov.vn"
        ]
    );
    for (address, collision) in &got[1..] {
        let collision = collision.as_ref().expect("a collision is reported");
        assert_eq!(collision.wanted, wanted);
        assert_eq!(&collision.chosen, address);
        assert!(
            collision.explanation.contains("đã được cấp"),
            "{}",
            collision.explanation
        );
        assert!(
            collision.explanation.contains("is taken"),
            "{}",
            collision.explanation
        );
    }
    assert!(
        got[1]
            .1
            .as_ref()
            .unwrap()
            .explanation
            .contains("middle names spelled out")
    );

    // The same name in another agency is a different address: no collision.
    assert_eq!(
        person(&f.dir, "yendinh", "Nguyễn Anh Tuấn"),
        ("tuanna.yendinh@thanhhoa.gov.vn".to_owned(), None)
    );
    // Every one of them is its own storage account.
    let mut ids: Vec<AccountId> = f
        .dir
        .list_accounts(None)
        .unwrap()
        .into_iter()
        .map(|a| a.account)
        .collect();
    let all = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all);
}

#[test]
fn namesakes_added_concurrently_get_distinct_addresses() {
    let f = province();
    let addresses: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| s.spawn(|| person(&f.dir, "sttt", "Nguyễn Thị Minh Khai").0))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut unique = addresses.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{addresses:?}");
}

#[test]
fn issued_addresses_are_never_reused() {
    let f = province();
    // A tombstone without a live account — what deleting a mailbox will leave.
    let issued = f.store.db().open_tree("dir.issued").unwrap();
    issued
        .insert("khaintm.sttt", &br#"{"account":999,"issued_at":0}"#[..])
        .unwrap();
    let (address, collision) = person(&f.dir, "sttt", "Nguyễn Thị Minh Khai");
    assert_eq!(address, "khainthiminh.sttt@thanhhoa.gov.vn");
    assert_eq!(collision.unwrap().wanted, "khaintm.sttt@thanhhoa.gov.vn");

    // A person's `name.agency` and a sub-agency's `sub.parent` share one namespace.
    person(&f.dir, "sttt", "Nguyễn Anh Tuấn");
    let err = f
        .dir
        .add_agency("tuanna", "Phòng Tuấn NA", Some("sttt"))
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Exists(_)), "{err:?}");
    f.dir
        .add_agency("qlcntt", "Phòng Quản lý CNTT", Some("sttt"))
        .unwrap();
    let (address, collision) = person(&f.dir, "sttt", "Qlcntt");
    assert_eq!(address, "qlcntt2.sttt@thanhhoa.gov.vn");
    assert_eq!(collision.unwrap().wanted, "qlcntt.sttt@thanhhoa.gov.vn");
}

#[test]
fn lookup_is_case_insensitive_and_local_only() {
    let f = province();
    let (tuan, _) = person(&f.dir, "sttt", "Nguyễn Anh Tuấn");
    let dir = open(&f.store)
        .with_local_domains(["ThanhHoa.vn", DOMAIN])
        .unwrap();
    let cases: &[(&str, Option<&str>)] = &[
        ("tuanna.sttt@thanhhoa.gov.vn", Some(&tuan)),
        ("TuanNA.STTT@ThanhHoa.GOV.VN", Some(&tuan)),
        ("tuanna.sttt@thanhhoa.vn", Some(&tuan)),
        ("sttt@thanhhoa.gov.vn", Some("sttt@thanhhoa.gov.vn")),
        ("tuanna.sttt@example.com", None),
        ("nobody@thanhhoa.gov.vn", None),
        ("tuanna.sttt", None),
        ("\"tuanna.sttt\"@thanhhoa.gov.vn", None),
        ("", None),
        ("@", None),
    ];
    for (address, want) in cases {
        let got = dir.lookup(address).unwrap().map(|r| r.address);
        assert_eq!(got.as_deref(), *want, "{address:?}");
    }
    assert!(dir.is_local_domain("THANHHOA.gov.vn"));
    assert!(dir.is_local_domain("thanhhoa.vn"));
    assert!(!dir.is_local_domain("example.com"));
    assert!(!f.dir.is_local_domain("thanhhoa.vn"));
    assert!(matches!(
        open(&f.store).with_local_domains(["bad domain"]),
        Err(DirectoryError::Invalid(_))
    ));
}

#[test]
fn may_send_as_its_own_address_only() {
    let f = province();
    let (tuan, _) = person(&f.dir, "sttt", "Nguyễn Anh Tuấn");
    let account = f.dir.lookup(&tuan).unwrap().unwrap();
    let dir = open(&f.store).with_local_domains(["thanhhoa.vn"]).unwrap();
    let cases = [
        ("tuanna.sttt@thanhhoa.gov.vn", true),
        ("TUANNA.Sttt@Thanhhoa.Gov.Vn", true),
        ("tuanna.sttt@thanhhoa.vn", true),
        ("sttt@thanhhoa.gov.vn", false),
        ("tuanna.sttt@example.com", false),
        ("tuanna.sttt", false),
        ("", false),
    ];
    for (address, want) in cases {
        assert_eq!(dir.may_send_as(&account, address), want, "{address:?}");
    }
}

#[test]
fn passwords() {
    let f = province();
    let (tuan, _) = person(&f.dir, "sttt", "Nguyễn Anh Tuấn");
    let (khai, _) = person(&f.dir, "sttt", "Nguyễn Thị Minh Khai");
    let good = secret("mật khẩu đúng");

    // Refused passwords and accounts.
    let short = f.dir.set_password(&tuan, &secret("1234567")).unwrap_err();
    assert!(matches!(short, DirectoryError::Invalid(_)), "{short:?}");
    let long = f.dir.set_password(&tuan, &secret(&"x".repeat(1025))).unwrap_err();
    assert!(matches!(long, DirectoryError::Invalid(_)), "{long:?}");
    let unknown = f.dir.set_password("nobody@thanhhoa.gov.vn", &good).unwrap_err();
    assert!(matches!(unknown, DirectoryError::NotFound(_)), "{unknown:?}");
    // Eight characters, counted as characters not bytes.
    f.dir.set_password(&khai, &secret("đđđđđđđđ")).unwrap();

    f.dir.set_password(&tuan, &good).unwrap();
    let cases: &[(&str, &Secret<String>, Option<&str>)] = &[
        ("tuanna.sttt@thanhhoa.gov.vn", &good, Some(&tuan)),
        ("TuanNA.Sttt@ThanhHoa.gov.vn", &good, Some(&tuan)),
        ("tuanna.sttt", &good, Some(&tuan)),
        ("TUANNA.STTT", &good, Some(&tuan)),
        ("tuanna.sttt@thanhhoa.gov.vn", &secret("mật khẩu sai"), None),
        ("tuanna.sttt@thanhhoa.gov.vn", &secret(""), None),
        ("tuanna.sttt@example.com", &good, None),
        ("nobody@thanhhoa.gov.vn", &good, None),
        ("nobody", &good, None),
        ("", &good, None),
        ("khaintm.sttt", &secret("đđđđđđđđ"), Some(&khai)),
        // The agency mailbox has no password yet: nobody can log in to it.
        ("sttt", &secret(""), None),
        ("sttt", &good, None),
    ];
    for (login, password, want) in cases {
        let got = f.dir.authenticate(login, password).unwrap().map(|r| r.address);
        assert_eq!(got.as_deref(), *want, "{login:?}");
    }

    // Replacing a password retires the old one.
    f.dir.set_password(&tuan, &secret("mật khẩu mới")).unwrap();
    assert_eq!(f.dir.authenticate(&tuan, &good).unwrap(), None);
    assert!(
        f.dir
            .authenticate(&tuan, &secret("mật khẩu mới"))
            .unwrap()
            .is_some()
    );
}

#[test]
fn repeated_failures_throttle_the_login_from_that_address_even_with_the_right_password() {
    let f = province();
    let (tuan, _) = person(&f.dir, "sttt", "Nguyễn Anh Tuấn");
    let good = secret("mật khẩu đúng");
    f.dir.set_password(&tuan, &good).unwrap();
    let guesser: std::net::IpAddr = "192.0.2.7".parse().unwrap();
    let limit = f.dir.settings().login_throttle.per_login;
    // The full address and the bare local part name one account: one budget.
    let local_part = tuan.split('@').next().unwrap().to_uppercase();
    for attempt in 0..limit {
        let login = if attempt % 2 == 0 {
            tuan.as_str()
        } else {
            local_part.as_str()
        };
        assert_eq!(
            f.dir
                .authenticate_from(guesser, login, &secret("sai mật khẩu"))
                .unwrap(),
            None
        );
    }
    match f.dir.authenticate_from(guesser, &tuan, &good) {
        Err(DirectoryError::Throttled { retry_after }) => assert!(retry_after.as_secs() > 60),
        other => panic!("expected throttling, got {other:?}"),
    }
    // The official, from their own machine, still logs in.
    let desk: std::net::IpAddr = "192.0.2.8".parse().unwrap();
    assert!(f.dir.authenticate_from(desk, &tuan, &good).unwrap().is_some());
    assert_eq!(
        f.dir.login_counts(),
        crate::LoginCounts {
            succeeded: 1,
            failed: u64::from(limit),
            throttled: 1,
        }
    );
}

#[test]
fn accounts_by_id_list_and_quota() {
    let f = province();
    person(&f.dir, "sttt", "Nguyễn Anh Tuấn");
    person(&f.dir, "sttt", "Nguyễn Anh Tuấn");
    person(&f.dir, "pvhtt.yendinh", "Lê Lợi");

    let all: Vec<String> = f
        .dir
        .list_accounts(None)
        .unwrap()
        .into_iter()
        .map(|a| a.address)
        .collect();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert_eq!(all.len(), 6);
    let sttt: Vec<String> = f
        .dir
        .list_accounts(Some("STTT"))
        .unwrap()
        .into_iter()
        .map(|a| a.address)
        .collect();
    assert_eq!(
        sttt,
        [
            "sttt@thanhhoa.gov.vn",
            "tuanna.sttt@thanhhoa.gov.vn",
            "tuannanh.sttt@thanhhoa.gov.vn"
        ]
    );
    let yendinh = f.dir.list_accounts(Some("yendinh")).unwrap();
    assert_eq!(
        yendinh.len(),
        1,
        "a sub-agency's people are not its parent's: {yendinh:?}"
    );
    assert!(matches!(
        f.dir.list_accounts(Some("nope")),
        Err(DirectoryError::NotFound(_))
    ));

    for record in f.dir.list_accounts(None).unwrap() {
        assert_eq!(
            f.dir.account_by_id(record.account).unwrap().as_ref(),
            Some(&record)
        );
    }
    assert_eq!(f.dir.account_by_id(AccountId(u64::MAX)).unwrap(), None);

    f.dir.set_quota("TuanNA.sttt@thanhhoa.gov.vn", 2 << 30).unwrap();
    let tuan = f.dir.lookup("tuanna.sttt@thanhhoa.gov.vn").unwrap().unwrap();
    assert_eq!(
        f.store.account(tuan.account).unwrap().unwrap().quota_bytes,
        2 << 30
    );
    assert!(matches!(
        f.dir.set_quota(&tuan.address, 0),
        Err(DirectoryError::Invalid(_))
    ));
    assert!(matches!(
        f.dir.set_quota("nobody@thanhhoa.gov.vn", 1),
        Err(DirectoryError::NotFound(_))
    ));
}

#[test]
fn survives_reopening() {
    let data = tempfile::tempdir().unwrap();
    let tuan: AccountRecord = {
        let store = Arc::new(SledStore::open(data.path()).unwrap());
        let dir = open(&store);
        dir.add_agency("sttt", "Sở Thông tin và Truyền thông", None)
            .unwrap();
        let (tuan, _) = dir.add_person("sttt", "Nguyễn Anh Tuấn", None, None).unwrap();
        dir.set_password(&tuan.address, &secret("mật khẩu đúng")).unwrap();
        tuan
    };
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let dir = open(&store);
    assert_eq!(dir.lookup(&tuan.address).unwrap().as_ref(), Some(&tuan));
    assert_eq!(
        dir.authenticate("tuanna.sttt", &secret("mật khẩu đúng"))
            .unwrap()
            .as_ref(),
        Some(&tuan)
    );
    assert_eq!(
        person(&dir, "sttt", "Nguyễn Anh Tuấn").0,
        "tuannanh.sttt@thanhhoa.gov.vn"
    );
}

#[test]
fn open_refuses_a_bad_primary_domain() {
    let f = fixture();
    let err = Directory::open(
        f.store.db(),
        f.store.clone(),
        "thanh hoa",
        DefaultQuotas::default(),
    );
    assert!(matches!(err, Err(DirectoryError::Invalid(_))));
}

#[test]
fn the_cross_check_finds_orphan_and_missing_storage_and_repair_deletes_only_empty_orphans() {
    // Not a `Fixture`: the test ends with a directory account whose storage is gone.
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let dir = open(&store);
    dir.add_agency("sttt", "Sở Thông tin và Truyền thông", None)
        .unwrap();
    let (address, _) = person(&dir, "sttt", "Nguyễn Văn An");
    let kinds = || -> Vec<&'static str> { dir.check_accounts().unwrap().iter().map(|p| p.kind).collect() };
    assert!(kinds().is_empty());
    // A crash between the store's account and the directory's commit leaves this.
    let orphan = store.create_account(AccountKind::Personal, 1 << 20).unwrap();
    assert_eq!(kinds(), ["storage_account_without_directory_account"]);
    assert_eq!(dir.repair_accounts().unwrap(), 1);
    assert!(store.account(orphan).unwrap().is_none());
    assert!(kinds().is_empty());

    // A directory account whose storage is gone is reported, never invented.
    let record = dir.lookup(&address).unwrap().unwrap();
    store.delete_account(record.account).unwrap();
    assert_eq!(kinds(), ["directory_account_without_storage"]);
    assert_eq!(dir.repair_accounts().unwrap(), 0);
}

#[test]
fn a_proposed_address_is_what_creation_would_give_and_writes_nothing() {
    let f = province();
    let (address, collision) = f.dir.propose_address("sttt", "Nguyễn Anh Tuấn").unwrap();
    assert_eq!(
        (address.as_str(), collision),
        ("tuanna.sttt@thanhhoa.gov.vn", None)
    );
    assert!(f.dir.lookup(&address).unwrap().is_none(), "nothing written");
    let (created, _) = person(&f.dir, "sttt", "Nguyễn Anh Tuấn");
    assert_eq!(created, address);
    // NFD input, a namesake: the next free alternative, with the explanation.
    let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Nguyễn Anh Tuấn").collect();
    let (second, collision) = f.dir.propose_address("sttt", &nfd).unwrap();
    let collision = collision.expect("the Art. 3.3.a address is taken");
    assert_eq!(collision.wanted, "tuanna.sttt@thanhhoa.gov.vn");
    assert_eq!(collision.chosen, second);
    assert!(!collision.alternatives.is_empty());
    assert!(matches!(
        f.dir.propose_address("khongco", "Lê Lợi"),
        Err(DirectoryError::NotFound(_))
    ));
    assert!(matches!(
        f.dir.propose_address("sttt", "  "),
        Err(DirectoryError::Invalid(_))
    ));
}

#[test]
fn actions_outside_the_directory_are_audited_too() {
    let f = province();
    f.dir
        .record_audit("admin", "queue_delete", "queue 7", "2 recipient(s)")
        .unwrap();
    let entries = f.dir.audit_log(None, Some("queue 7"), 10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (
            entries[0].actor.as_str(),
            entries[0].action.as_str(),
            entries[0].detail.as_str()
        ),
        ("admin", "queue_delete", "2 recipient(s)")
    );
}
