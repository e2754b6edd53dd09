//! Migration from a real Dovecot (issue 12, "must show" 2): a private Dovecot with two
//! users holding the same folders (INBOX, "Sent Items", "Thư đã gửi", a nested
//! Vietnamese folder, a `\Archive` folder with a name of its own, Drafts), messages
//! with flags, keywords and dates. user1 is imported over IMAP (STARTTLS, then again
//! over implicit TLS), user2 from its Maildir on disk. Each target mailbox is compared
//! with what the source holds: messages, bytes, flags, keywords and dates; a second
//! run imports nothing; the store's check passes.

use std::collections::BTreeMap;

use congvu_migrate::folders::{Target, map_folder};
use congvu_migrate::test_dovecot::{TestDovecot, TestMessage};
use congvu_migrate::{ImapSource, ImportOptions, ImportReport, MaildirSource, Security, import};
use congvu_store::{AccountId, AccountKind, Flags, MailStore, Progress, SledStore, SpecialUse};

/// (bytes, flag bits, sorted keywords, internal date)
type Held = (Vec<u8>, u8, Vec<String>, i64);

fn message(folder: &str, flags: &[&str], date: i64, subject: &str, body: &str) -> TestMessage {
    TestMessage {
        folder: folder.to_owned(),
        flags: flags.iter().map(|f| (*f).to_owned()).collect(),
        internal_date: date,
        bytes: format!(
            "From: =?UTF-8?Q?V=C4=83n_th=C6=B0?= <vanthu@sotc.thanhhoa.gov.vn>\r\n\
             To: ubnd@thanhhoa.gov.vn\r\n\
             Subject: {subject}\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\
             \r\n\
             {body}\r\n"
        )
        .into_bytes(),
    }
}

fn fixture() -> Vec<TestMessage> {
    let big = "Công văn số 3380/2013/QĐ-UBND. ".repeat(8_000);
    let reply = message(
        "Sent Items",
        &["\\Seen"],
        1_500_000_300,
        "Re: lịch họp",
        "Đã nhận.",
    );
    let mut duplicate = reply.clone();
    duplicate.folder = "Thư đã gửi".to_owned();
    vec![
        message(
            "INBOX",
            &["\\Seen", "$Forwarded"],
            1_500_000_000,
            "Lịch họp",
            "Kính gửi các đơn vị.",
        ),
        message(
            "INBOX",
            &["\\Flagged", "\\Answered", "$Label1", "ThanhHoa"],
            1_500_000_100,
            "Khẩn",
            "Nội dung.",
        ),
        message("INBOX", &[], 1_500_000_200, "Tệp lớn", &big),
        reply,
        message(
            "Sent Items",
            &["\\Seen", "\\Answered"],
            1_500_000_400,
            "Báo cáo",
            "Gửi báo cáo.",
        ),
        duplicate,
        message("Công văn.Đến", &["\\Draft"], 1_500_000_500, "Đến 1", "Một."),
        message(
            "Công văn.Đến",
            &["\\Deleted", "\\Seen", "$Forwarded"],
            1_500_000_600,
            "Đến 2",
            "Hai.",
        ),
        message("Records", &["\\Seen"], 1_500_000_700, "Lưu", "Hồ sơ."),
        message("Drafts", &["\\Draft"], 1_500_000_800, "Nháp", "Chưa xong."),
    ]
}

/// Our mailbox name for a fixture folder, with the attributes the source gives.
fn target_name(folder: &str, special_use: Option<SpecialUse>) -> String {
    match map_folder(folder, Some('.'), special_use) {
        Target::Inbox => "INBOX".to_owned(),
        Target::Special(special) => congvu_migrate::folders::default_name(special).to_owned(),
        Target::Named(name) => name,
        Target::Skip => panic!("{folder} skipped"),
    }
}

fn held(message: &TestMessage) -> Held {
    let mut flags = Flags::empty();
    let mut keywords = Vec::new();
    for flag in &message.flags {
        match Flags::from_name(flag) {
            Some(system) => flags = flags.union(system),
            None => keywords.push(flag.clone()),
        }
    }
    keywords.sort();
    (message.bytes.clone(), flags.0, keywords, message.internal_date)
}

/// What each target mailbox must hold, sorted.
fn expected(over_imap: bool) -> BTreeMap<String, Vec<Held>> {
    let mut expected: BTreeMap<String, Vec<Held>> = BTreeMap::new();
    for message in fixture() {
        // Over IMAP, Dovecot announces the attributes of its configuration.
        let special_use = match message.folder.as_str() {
            "Records" if over_imap => Some(SpecialUse::Archive),
            "Drafts" => Some(SpecialUse::Drafts),
            _ => None,
        };
        expected
            .entry(target_name(&message.folder, special_use))
            .or_default()
            .push(held(&message));
    }
    expected.values_mut().for_each(|messages| messages.sort());
    expected
}

/// What each non-empty mailbox of the account holds, sorted.
fn stored(store: &SledStore, account: AccountId) -> BTreeMap<String, Vec<Held>> {
    let mut stored = BTreeMap::new();
    for mailbox in store.list_mailboxes(account).unwrap() {
        let mut messages: Vec<Held> = store
            .messages(mailbox.id)
            .unwrap()
            .into_iter()
            .map(|meta| {
                let mut keywords = meta.keywords.clone();
                keywords.sort();
                (
                    store.read_blob(&meta.blob).unwrap(),
                    meta.flags.0,
                    keywords,
                    meta.internal_date,
                )
            })
            .collect();
        let bytes: u64 = messages.iter().map(|m| m.0.len() as u64).sum();
        assert_eq!(
            (mailbox.messages as usize, mailbox.size),
            (messages.len(), bytes),
            "{}",
            mailbox.name
        );
        if !messages.is_empty() {
            messages.sort();
            stored.insert(mailbox.name, messages);
        }
    }
    stored
}

fn totals(report: &ImportReport) -> (u64, u64, u64, u64) {
    report.folders.iter().fold((0, 0, 0, 0), |sum, f| {
        (
            sum.0 + f.source_messages,
            sum.1 + f.source_bytes,
            sum.2 + f.imported,
            sum.3 + f.already_present,
        )
    })
}

/// The source folders of a report with their message counts and bytes, checked
/// against the fixture.
fn assert_sources_match(report: &ImportReport) {
    let mut by_folder: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for message in fixture() {
        let entry = by_folder.entry(message.folder.clone()).or_default();
        entry.0 += 1;
        entry.1 += message.bytes.len() as u64;
    }
    let reported: BTreeMap<String, (u64, u64)> = report
        .folders
        .iter()
        .filter(|f| f.source_messages > 0)
        .map(|f| (f.source.clone(), (f.source_messages, f.source_bytes)))
        .collect();
    assert_eq!(reported, by_folder);
}

#[test]
fn imports_a_dovecot_user_over_imap_and_another_from_its_maildir() {
    let Some(dovecot) = TestDovecot::start(&["user1", "user2"]) else {
        return;
    };
    let messages = fixture();
    let all_bytes: u64 = messages.iter().map(|m| m.bytes.len() as u64).sum();
    dovecot.append("user1", &messages);
    dovecot.append("user2", &messages);

    let data = tempfile::tempdir().unwrap();
    let store = SledStore::open(data.path()).unwrap();
    let progress = Progress::default();

    // user1 over IMAP with STARTTLS.
    let user1 = store.create_account(AccountKind::Personal, 1 << 30).unwrap();
    let mut source = ImapSource::connect(dovecot.source_config("user1", Security::StartTls)).unwrap();
    let first = import(&store, user1, &mut source, ImportOptions::default(), &progress).unwrap();
    source.logout().unwrap();
    assert_eq!(totals(&first), (10, all_bytes, 10, 0), "{first:#?}");
    assert_sources_match(&first);
    assert_eq!(stored(&store, user1), expected(true));
    // "Sent Items" and "Thư đã gửi" both went to Sent, which holds their three.
    let into_sent: Vec<(&str, u64)> = first
        .folders
        .iter()
        .filter(|f| f.target == "Sent")
        .map(|f| (f.source.as_str(), f.target_messages))
        .collect();
    assert_eq!(into_sent.len(), 2, "{into_sent:?}");
    assert_eq!(into_sent.iter().map(|(_, n)| *n).max(), Some(3));

    // Again over implicit TLS: everything is already there.
    let mut source = ImapSource::connect(dovecot.source_config("user1", Security::ImplicitTls)).unwrap();
    let again = import(&store, user1, &mut source, ImportOptions::default(), &progress).unwrap();
    source.logout().unwrap();
    assert_eq!(totals(&again), (10, all_bytes, 0, 10), "{again:#?}");
    assert_eq!(stored(&store, user1), expected(true));

    // user2 from its Maildir on disk.
    let user2 = store.create_account(AccountKind::Personal, 1 << 30).unwrap();
    let mut maildir = MaildirSource::open(&dovecot.maildir("user2")).unwrap();
    let from_disk = import(&store, user2, &mut maildir, ImportOptions::default(), &progress).unwrap();
    assert_eq!(totals(&from_disk), (10, all_bytes, 10, 0), "{from_disk:#?}");
    assert_sources_match(&from_disk);
    assert_eq!(stored(&store, user2), expected(false));
    let again = import(&store, user2, &mut maildir, ImportOptions::default(), &progress).unwrap();
    assert_eq!(totals(&again).2, 0, "{again:#?}");

    let view = progress.view();
    assert_eq!((view.items_done, view.items_total), (40, 40));
    let check = store.check().unwrap();
    assert!(check.is_consistent(), "{check:?}");
}

#[test]
fn a_wrong_password_or_an_untrusted_certificate_is_refused() {
    let Some(dovecot) = TestDovecot::start(&["user1"]) else {
        return;
    };
    let mut config = dovecot.source_config("user1", Security::ImplicitTls);
    config.password = congvu_directory::Secret::new("wrong".to_owned());
    let error = ImapSource::connect(config).unwrap_err();
    assert!(matches!(error, congvu_migrate::MigrateError::Imap(_)), "{error}");
    assert!(!format!("{error:?}").contains("wrong"));

    let other_ca = tempfile::tempdir().unwrap();
    let mut config = dovecot.source_config("user1", Security::StartTls);
    config.ca_file = other_ca.path().join("system.pem");
    std::fs::copy("/etc/ssl/certs/ca-certificates.crt", &config.ca_file).unwrap();
    let error = ImapSource::connect(config).unwrap_err();
    assert!(matches!(error, congvu_migrate::MigrateError::Tls(_)), "{error}");
}

/// The admin API runs imports as jobs on tokio's blocking threads: the source's own
/// runtime must start, serve and stop there.
#[test]
fn the_imap_source_runs_on_a_blocking_thread_of_a_server_runtime() {
    let Some(dovecot) = TestDovecot::start(&["user1"]) else {
        return;
    };
    dovecot.append("user1", &fixture()[..1]);
    let config = dovecot.source_config("user1", Security::ImplicitTls);
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let folders = server
        .block_on(async {
            tokio::task::spawn_blocking(move || {
                let mut source = ImapSource::connect(config)?;
                let folders = congvu_migrate::Source::folders(&mut source)?;
                source.logout()?;
                Ok::<_, congvu_migrate::MigrateError>(folders)
            })
            .await
        })
        .unwrap()
        .unwrap();
    assert!(folders.iter().any(|f| f.name == "INBOX"), "{folders:?}");
}
