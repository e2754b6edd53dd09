//! `import`: the IMAP import rate of issue 12. A private Dovecot (the migration
//! tests' `TestDovecot`) is filled over IMAP APPEND with `--messages` messages in two
//! folders (sizes as in `backup`), then `congvu import imap` (STARTTLS on loopback,
//! the production batch sizes) reads them into a store of its own; a second run
//! shows the cost of finding that everything is already there. The same user's
//! Maildir is then imported from disk for comparison.

use std::time::Instant;

use congvu_migrate::test_dovecot::{TestDovecot, TestMessage};
use congvu_migrate::{ImapSource, ImportOptions, MaildirSource, Security, Source, import};
use congvu_store::{AccountKind, MailStore, Progress, SledStore};

use crate::Error;
use crate::backup::message;

pub fn run(messages: usize) -> Result<(), Error> {
    let dovecot = TestDovecot::start(&["user1"]).ok_or("Dovecot is not installed (dovecot-imapd)")?;
    let held: Vec<TestMessage> = (0..messages)
        .map(|n| TestMessage {
            folder: if n % 4 == 3 { "Sent Items" } else { "INBOX" }.to_owned(),
            flags: if n % 2 == 0 {
                vec!["\\Seen".to_owned()]
            } else {
                Vec::new()
            },
            internal_date: 1_600_000_000 + n as i64,
            bytes: message(n),
        })
        .collect();
    let bytes: u64 = held.iter().map(|m| m.bytes.len() as u64).sum();
    let started = Instant::now();
    dovecot.append("user1", &held);
    println!(
        "dovecot APPEND: {messages} messages, {:.1} MB in {:.1} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let data = tempfile::tempdir()?;
    let store = SledStore::open(data.path())?;
    let account = store.create_account(AccountKind::Agency, 1 << 40)?;
    for run in ["first", "second"] {
        let mut config = dovecot.source_config("user1", Security::StartTls);
        config.batch_messages = 100;
        let started = Instant::now();
        let mut source = ImapSource::connect(config)?;
        let report = timed_import(&store, account, &mut source)?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "import imap ({run} run): {} imported, {} already there, {:.1} s: {:.0} messages/s, {:.1} MB/s",
            report.0,
            report.1,
            seconds,
            messages as f64 / seconds,
            bytes as f64 / 1e6 / seconds
        );
    }

    let other = store.create_account(AccountKind::Agency, 1 << 40)?;
    let started = Instant::now();
    let mut source = MaildirSource::open(&dovecot.maildir("user1"))?;
    let (imported, _) = timed_import(&store, other, &mut source)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "import maildir: {imported} imported, {seconds:.1} s: {:.0} messages/s, {:.1} MB/s",
        messages as f64 / seconds,
        bytes as f64 / 1e6 / seconds
    );
    Ok(())
}

/// (imported, already present) over every folder.
fn timed_import(
    store: &SledStore,
    account: congvu_store::AccountId,
    source: &mut dyn Source,
) -> Result<(u64, u64), Error> {
    let report = import(
        store,
        account,
        source,
        ImportOptions::default(),
        &Progress::default(),
    )?;
    Ok(report
        .folders
        .iter()
        .fold((0, 0), |(i, a), f| (i + f.imported, a + f.already_present)))
}
