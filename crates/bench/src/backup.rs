//! `backup`: the online backup of issue 12 on a store of `--messages` messages
//! (sizes cycling through a realistic mix), directly on the store as the server's
//! backup job runs it: populate, full backup, `--delta` new messages and as many
//! expunged, incremental backup, verification, restore into a new data directory.
//! Each phase prints its time; sizes are measured on disk.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use congvu_store::sled_store::backup::{restore, verify};
use congvu_store::{
    AccountId, AccountKind, BackupSpec, Delivery, DeliveryFolder, FlagOp, FlagStore, Flags, MailStore,
    Progress, SledStore, StoreOptions,
};

use crate::Error;

/// Message sizes in bytes: replies, notices, documents, a scanned attachment.
const SIZES: [usize; 5] = [2_048, 6_144, 12_288, 30_720, 122_880];
const ACCOUNTS: usize = 20;
const WRITERS: usize = 8;

pub fn run(messages: usize, delta: usize, work: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(work)?;
    let data = tempfile::tempdir_in(work)?;
    let store = Arc::new(SledStore::open(data.path())?);
    let accounts: Vec<AccountId> = (0..ACCOUNTS)
        .map(|_| store.create_account(AccountKind::Agency, 1 << 40))
        .collect::<Result<_, _>>()?;

    let started = Instant::now();
    populate(&store, &accounts, 0, messages)?;
    let bytes: u64 = (0..messages).map(|n| SIZES[n % SIZES.len()] as u64).sum();
    println!(
        "populate: {messages} messages, {:.1} MB in {:.1} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let backups = tempfile::tempdir_in(work)?;
    let spec = BackupSpec {
        dir: backups.path(),
        quiesce: &|f| f(),
        carry: &[],
    };
    let started = Instant::now();
    let full = store.backup(&spec, &Progress::default())?;
    println!(
        "full backup: {:.2} s, writers held {} ms, {} bodies copied ({:.1} MB), metadata {:.1} MB, directory {:.1} MB",
        started.elapsed().as_secs_f64(),
        full.writers_held_ms,
        full.copied_blobs,
        full.copied_bytes as f64 / 1e6,
        full.metadata_bytes as f64 / 1e6,
        disk_usage(backups.path())? as f64 / 1e6
    );

    populate(&store, &accounts, messages, delta)?;
    expunge_oldest(&store, &accounts, delta)?;
    let started = Instant::now();
    let incremental = store.backup(&spec, &Progress::default())?;
    println!(
        "incremental backup (+{delta} new, -{delta} expunged): {:.2} s, writers held {} ms, {} bodies copied ({:.1} MB), directory {:.1} MB",
        started.elapsed().as_secs_f64(),
        incremental.writers_held_ms,
        incremental.copied_blobs,
        incremental.copied_bytes as f64 / 1e6,
        disk_usage(backups.path())? as f64 / 1e6
    );

    let started = Instant::now();
    let verified = verify(backups.path(), &Progress::default())?;
    println!(
        "verify: {:.2} s, {} bodies re-hashed, sound: {}",
        started.elapsed().as_secs_f64(),
        verified.blobs,
        verified.is_sound()
    );

    let target = tempfile::tempdir_in(work)?;
    let started = Instant::now();
    let restored = restore(
        backups.path(),
        None,
        &target.path().join("data"),
        &StoreOptions::default(),
        &Progress::default(),
    )?;
    println!(
        "restore: {:.2} s, {} records, {} bodies ({:.1} MB), consistent: {}",
        started.elapsed().as_secs_f64(),
        restored.records,
        restored.blobs,
        restored.blob_bytes as f64 / 1e6,
        restored.check.is_consistent()
    );
    Ok(())
}

/// Delivers messages `first..first + count` from `WRITERS` threads (the group commit
/// shares flushes, as concurrent SMTP sessions do).
fn populate(store: &Arc<SledStore>, accounts: &[AccountId], first: usize, count: usize) -> Result<(), Error> {
    let threads: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            let accounts = accounts.to_vec();
            std::thread::spawn(move || -> Result<(), congvu_store::StoreError> {
                for n in (first + writer..first + count).step_by(WRITERS) {
                    let body = message(n);
                    store.deliver(&Delivery {
                        bytes: &[&body],
                        internal_date: 1_700_000_000 + n as i64,
                        internal_date_offset: 25_200,
                        targets: &[accounts[n % accounts.len()]],
                        folder: DeliveryFolder::Inbox,
                    })?;
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "writer thread panicked")??;
    }
    Ok(())
}

/// A distinct message of the n-th size.
pub fn message(n: usize) -> Vec<u8> {
    let mut body = format!(
        "From: vanthu.sttt@thanhhoa.gov.vn\r\nTo: ubnd@thanhhoa.gov.vn\r\nSubject: Công văn số {n}\r\nMessage-ID: <{n}@bench>\r\n\r\n"
    )
    .into_bytes();
    let line = b"Noi dung cong van, de nghi cac don vi thuc hien nghiem tuc.\r\n";
    while body.len() < SIZES[n % SIZES.len()] {
        body.extend_from_slice(line);
    }
    body
}

fn expunge_oldest(store: &SledStore, accounts: &[AccountId], count: usize) -> Result<(), Error> {
    let per_account = count.div_ceil(accounts.len());
    for &account in accounts {
        let inbox = store.mailbox_by_name(account, "INBOX")?.ok_or("no INBOX")?;
        let uids: Vec<_> = store
            .messages(inbox.id)?
            .iter()
            .take(per_account)
            .map(|m| m.uid)
            .collect();
        store.store_flags(
            inbox.id,
            &FlagStore {
                uids: &uids,
                op: FlagOp::Add,
                flags: Flags::DELETED,
                keywords: &[],
                unchanged_since: None,
            },
        )?;
        store.expunge(inbox.id, Some(&uids))?;
    }
    Ok(())
}

/// Bytes of the files under `dir` (as allocated: `du`'s figure).
fn disk_usage(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        total += if metadata.is_dir() {
            disk_usage(&entry.path())?
        } else {
            metadata.blocks() * 512
        };
    }
    Ok(total)
}
