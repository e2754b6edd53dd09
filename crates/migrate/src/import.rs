//! The import engine: every folder of a [`Source`] into an account, by the folder
//! mapping of [`crate::folders`].
//!
//! 1. No policy is applied: old mail is stored as the old server had it (as IMAP
//!    APPEND does). Flags, keywords and internal dates are kept.
//! 2. The quota is enforced ([`QuotaRule::Enforce`]): a message that does not fit is
//!    counted in [`FolderReport::over_quota`] and the import goes on with the next.
//!    With [`ImportOptions::ignore_quota`] every message is stored and counted in the
//!    usage past the quota; the report says so, for the caller to log.
//! 3. Idempotent and resumable (crate invariant 1): the blobs already in a target
//!    mailbox are counted when the import first reaches it; a source message whose
//!    digest is among them uses one of them up and is not appended. Two source
//!    folders mapped to one target (`Sent` and `Sent Items`) share that count.

use std::collections::HashMap;

use congvu_store::{AccountId, Append, BlobId, MailStore, MailboxId, Progress, QuotaRule, StoreError};
use serde::Serialize;

use crate::folders::{map_folder, resolve};
use crate::{MessageSink, Result, Source, SourceMessage};

/// What the operator asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Store every message even past the quota (`--ignore-quota`).
    pub ignore_quota: bool,
}

/// One source folder: what it held and what became of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FolderReport {
    /// The source's name (UTF-8).
    pub source: String,
    /// Our mailbox's name.
    pub target: String,
    pub source_messages: u64,
    /// Bytes of the source's messages as stored (CRLF line ends).
    pub source_bytes: u64,
    pub imported: u64,
    /// Skipped because the same bytes were already in the target (an earlier run).
    pub already_present: u64,
    /// Refused by the quota (never with `ignore_quota`).
    pub over_quota: u64,
    /// The target mailbox after this folder (it may hold other mail too).
    pub target_messages: u64,
    pub target_bytes: u64,
}

/// The whole import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub folders: Vec<FolderReport>,
    /// The quota was not applied (`--ignore-quota`): the caller logs it.
    pub ignored_quota: bool,
}

/// Imports every folder of `source` into `account`. Virtual folders (`\All`,
/// `\Flagged`) are skipped and logged. Fails on the first error of the source or of
/// the store other than a full quota; what was appended until then stays, and a new
/// run resumes after it.
pub fn import(
    store: &dyn MailStore,
    account: AccountId,
    source: &mut dyn Source,
    options: ImportOptions,
    progress: &Progress,
) -> Result<ImportReport> {
    let quota = if options.ignore_quota {
        tracing::warn!(account = account.0, "import ignores the quota");
        QuotaRule::Ignore
    } else {
        QuotaRule::Enforce
    };
    let mut report = ImportReport {
        folders: Vec::new(),
        ignored_quota: options.ignore_quota,
    };
    let mut present: HashMap<MailboxId, HashMap<BlobId, u32>> = HashMap::new();
    for folder in source.folders()? {
        let target = map_folder(&folder.name, folder.delimiter, folder.special_use);
        let Some(mailbox) = resolve(store, account, &target)? else {
            tracing::info!(folder = %folder.name, "virtual folder skipped");
            continue;
        };
        progress.set_phase(&folder.name);
        let present = match present.entry(mailbox.id) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => entry.insert(blob_counts(store, mailbox.id)?),
        };
        let mut sink = Importer {
            store,
            mailbox: mailbox.id,
            quota,
            present,
            progress,
            sized: false,
            report: FolderReport {
                source: folder.name.clone(),
                target: mailbox.name.clone(),
                ..FolderReport::default()
            },
        };
        source.read(&folder, &mut sink)?;
        let mut folder_report = sink.report;
        if let Some(after) = store.mailbox(mailbox.id)? {
            folder_report.target_messages = u64::from(after.messages);
            folder_report.target_bytes = after.size;
        }
        tracing::info!(
            source = %folder_report.source,
            target = %folder_report.target,
            source_messages = folder_report.source_messages,
            imported = folder_report.imported,
            already_present = folder_report.already_present,
            over_quota = folder_report.over_quota,
            "folder imported"
        );
        report.folders.push(folder_report);
    }
    Ok(report)
}

/// How many messages of the mailbox hold each blob.
fn blob_counts(store: &dyn MailStore, mailbox: MailboxId) -> Result<HashMap<BlobId, u32>> {
    let mut counts = HashMap::new();
    for message in store.messages(mailbox)? {
        *counts.entry(message.blob).or_insert(0u32) += 1;
    }
    Ok(counts)
}

struct Importer<'a> {
    store: &'a dyn MailStore,
    mailbox: MailboxId,
    quota: QuotaRule,
    present: &'a mut HashMap<BlobId, u32>,
    progress: &'a Progress,
    sized: bool,
    report: FolderReport,
}

impl MessageSink for Importer<'_> {
    fn sized(&mut self, messages: u64, bytes: u64) {
        self.sized = true;
        self.progress.add_total(messages, bytes);
    }

    fn message(&mut self, message: SourceMessage) -> Result<()> {
        let size = message.bytes.len() as u64;
        if !self.sized {
            self.progress.add_total(1, size);
        }
        self.report.source_messages += 1;
        self.report.source_bytes += size;
        let blob = BlobId::of(&message.bytes);
        match self.present.get_mut(&blob) {
            Some(count) if *count > 0 => {
                *count -= 1;
                self.report.already_present += 1;
            }
            _ => {
                let append = Append {
                    bytes: &message.bytes,
                    flags: message.flags,
                    keywords: &message.keywords,
                    internal_date: message.internal_date,
                    internal_date_offset: message.internal_date_offset,
                    quota: self.quota,
                };
                match self.store.append(self.mailbox, &append) {
                    Ok(_) => self.report.imported += 1,
                    Err(StoreError::OverQuota { .. }) => self.report.over_quota += 1,
                    Err(error) => return Err(error.into()),
                }
            }
        }
        self.progress.advance(1, size);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Locator, SourceFolder};
    use congvu_store::{AccountKind, Flags, SledStore, SpecialUse};

    /// A source held in memory.
    struct Fixed(Vec<(SourceFolder, Vec<SourceMessage>)>);

    impl Source for Fixed {
        fn folders(&mut self) -> Result<Vec<SourceFolder>> {
            Ok(self.0.iter().map(|(folder, _)| folder.clone()).collect())
        }
        fn read(&mut self, folder: &SourceFolder, sink: &mut dyn MessageSink) -> Result<()> {
            let (_, messages) = self.0.iter().find(|(f, _)| f == folder).unwrap();
            sink.sized(
                messages.len() as u64,
                messages.iter().map(|m| m.bytes.len() as u64).sum(),
            );
            for message in messages {
                sink.message(message.clone())?;
            }
            Ok(())
        }
    }

    fn folder(name: &str, special_use: Option<SpecialUse>) -> SourceFolder {
        SourceFolder {
            name: name.to_owned(),
            delimiter: Some('.'),
            special_use,
            locator: Locator::Wire(name.to_owned()),
        }
    }

    fn message(text: &str, flags: Flags, keywords: &[&str]) -> SourceMessage {
        SourceMessage {
            bytes: text.as_bytes().to_vec(),
            flags,
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            internal_date: 1_600_000_000,
            internal_date_offset: 25_200,
        }
    }

    fn source() -> Fixed {
        let same = message("Subject: same\r\n\r\nx\r\n", Flags::SEEN, &[]);
        Fixed(vec![
            (
                folder("INBOX", None),
                vec![
                    message(
                        "Subject: a\r\n\r\nhello\r\n",
                        Flags::SEEN.union(Flags::FLAGGED),
                        &["$Forwarded"],
                    ),
                    same.clone(),
                    same.clone(),
                ],
            ),
            (folder("Sent Items", None), vec![same.clone()]),
            (folder("Gesendet", Some(SpecialUse::Sent)), vec![same]),
            (
                folder("Work.Projects", None),
                vec![message("Subject: p\r\n\r\n", Flags::DRAFT, &[])],
            ),
            (
                folder("All Mail", Some(SpecialUse::All)),
                vec![message("x", Flags::empty(), &[])],
            ),
        ])
    }

    fn open(quota: u64) -> (tempfile::TempDir, SledStore, AccountId) {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let account = store.create_account(AccountKind::Personal, quota).unwrap();
        (dir, store, account)
    }

    fn import_fixture(
        store: &SledStore,
        account: AccountId,
        options: ImportOptions,
        progress: &Progress,
    ) -> ImportReport {
        import(store, account, &mut source(), options, progress).unwrap()
    }

    #[test]
    fn imports_once_maps_folders_and_keeps_flags() {
        let (_dir, store, account) = open(1 << 20);
        let progress = Progress::default();
        let first = import_fixture(&store, account, ImportOptions::default(), &progress);
        let summary: Vec<(&str, &str, u64, u64)> = first
            .folders
            .iter()
            .map(|f| {
                (
                    f.source.as_str(),
                    f.target.as_str(),
                    f.imported,
                    f.already_present,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("INBOX", "INBOX", 3, 0),
                ("Sent Items", "Sent", 1, 0),
                ("Gesendet", "Sent", 1, 0),
                ("Work.Projects", "Work/Projects", 1, 0),
            ]
        );
        assert_eq!(first.folders[2].target_messages, 2);
        let view = progress.view();
        assert_eq!((view.items_done, view.items_total), (6, 6));

        let inbox = store.mailbox_by_name(account, "INBOX").unwrap().unwrap();
        let messages = store.messages(inbox.id).unwrap();
        assert_eq!(messages[0].flags, Flags::SEEN.union(Flags::FLAGGED));
        assert_eq!(messages[0].keywords, ["$Forwarded"]);
        assert_eq!(
            (messages[0].internal_date, messages[0].internal_date_offset),
            (1_600_000_000, 25_200)
        );
        assert_eq!(
            store.read_blob(&messages[0].blob).unwrap(),
            b"Subject: a\r\n\r\nhello\r\n"
        );

        let second = import_fixture(&store, account, ImportOptions::default(), &progress);
        assert!(second.folders.iter().all(|f| f.imported == 0), "{second:?}");
        assert_eq!(second.folders.iter().map(|f| f.already_present).sum::<u64>(), 6);
        assert_eq!(store.messages(inbox.id).unwrap().len(), 3);
        assert!(store.check().unwrap().is_consistent());
    }

    #[test]
    fn the_quota_refuses_unless_ignored() {
        let (_dir, store, account) = open(30);
        let progress = Progress::default();
        let enforced = import_fixture(&store, account, ImportOptions::default(), &progress);
        assert!(!enforced.ignored_quota);
        let refused: u64 = enforced.folders.iter().map(|f| f.over_quota).sum();
        let imported: u64 = enforced.folders.iter().map(|f| f.imported).sum();
        assert_eq!((imported, refused), (1, 5), "{enforced:?}");

        let options = ImportOptions { ignore_quota: true };
        let ignored = import_fixture(&store, account, options, &progress);
        assert!(ignored.ignored_quota);
        assert_eq!(ignored.folders.iter().map(|f| f.imported).sum::<u64>(), 5);
        assert_eq!(ignored.folders.iter().map(|f| f.over_quota).sum::<u64>(), 0);
        let used = store.account(account).unwrap().unwrap().used_bytes;
        assert!(used > 30, "{used}");
        assert!(store.check().unwrap().is_consistent());
    }
}
