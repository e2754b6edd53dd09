//! Export of every folder of an account (`congvu export mailbox`, and the archive a
//! purge writes first, Art. 6.3, 13).
//!
//! - [`Format::Mbox`]: one file per folder, `to/INBOX.mbox`, `to/Sent.mbox`,
//!   `to/Công văn/Đến.mbox` (see [`crate::mbox`] for what is in them).
//! - [`Format::Maildir`]: a Maildir++ tree as Dovecot reads it (see
//!   [`crate::maildir`]): INBOX in `to/cur`, folders in `to/.Name/cur`, flags in the
//!   file names (`:2,FRS`), keywords through each folder's `dovecot-keywords` (the
//!   first 26 of a folder: a Maildir name has no room for more; the others are
//!   counted in [`ExportReport::keywords_not_written`]), mtime = internal date, the
//!   bytes as stored (CRLF). Levels are joined with `.`, Maildir++'s delimiter, so
//!   a name with a `.` inside a level (`v1.2`) comes back as two levels.
//!
//! Invariants:
//! 1. The stored messages are only read; the export writes copies.
//! 2. `to` must be missing or empty, so an export never mixes with an older one.
//! 3. Files are `0600`, directories `0700`; every file is fsynced when written and
//!    every directory at the end, before the report is returned: an archive that
//!    was reported is on disk.

use std::collections::BTreeSet;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use congvu_store::{AccountId, MailStore, MailboxInfo, Progress};
use serde::Serialize;

use crate::maildir::{KEYWORDS_FILE, folder_directory, info_suffix, keyword_letter};
use crate::mbox::{Envelope, folder_file, write_message};
use crate::{MigrateError, Result, io_error};

/// The archive's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Format {
    Mbox,
    Maildir,
}

/// One exported folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportedFolder {
    /// Our mailbox's name.
    pub name: String,
    /// The file (mbox) or directory (Maildir) it was written to.
    pub path: PathBuf,
    pub messages: u64,
    pub bytes: u64,
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub folders: Vec<ExportedFolder>,
    /// Keywords of messages that a Maildir could not carry (past 26 in a folder).
    pub keywords_not_written: u64,
}

/// Writes every folder of `account` under `to` in `format`.
pub fn export(
    store: &dyn MailStore,
    account: AccountId,
    format: Format,
    to: &Path,
    progress: &Progress,
) -> Result<ExportReport> {
    prepare_target(to)?;
    let mut writer = Writer {
        directories: BTreeSet::from([to.to_path_buf()]),
        report: ExportReport::default(),
    };
    let mailboxes = store.list_mailboxes(account)?;
    for mailbox in &mailboxes {
        progress.add_total(u64::from(mailbox.messages), mailbox.size);
    }
    for mailbox in &mailboxes {
        progress.set_phase(&mailbox.name);
        match format {
            Format::Mbox => writer.mbox_folder(store, mailbox, to, progress)?,
            Format::Maildir => writer.maildir_folder(store, mailbox, to, progress)?,
        }
    }
    for directory in &writer.directories {
        File::open(directory)
            .and_then(|d| d.sync_all())
            .map_err(io_error(directory))?;
    }
    tracing::info!(account = account.0, to = %to.display(), folders = writer.report.folders.len(), "exported");
    Ok(writer.report)
}

fn prepare_target(to: &Path) -> Result<()> {
    match fs::read_dir(to) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(MigrateError::Invalid(format!(
                    "{} is not empty: an export goes into a new directory",
                    to.display()
                )));
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => make_directory(to),
        Err(error) => Err(io_error(to)(error)),
    }
}

fn make_directory(path: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io_error(path))
}

fn create_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error(path))
}

struct Writer {
    /// Every directory written into, fsynced at the end.
    directories: BTreeSet<PathBuf>,
    report: ExportReport,
}

impl Writer {
    /// Makes `path` and remembers it and its parents below the export root for the
    /// final fsync.
    fn directory(&mut self, path: &Path) -> Result<()> {
        make_directory(path)?;
        let mut current = Some(path);
        while let Some(directory) = current {
            if !self.directories.insert(directory.to_path_buf()) {
                break;
            }
            current = directory.parent();
        }
        Ok(())
    }

    fn mbox_folder(
        &mut self,
        store: &dyn MailStore,
        mailbox: &MailboxInfo,
        to: &Path,
        progress: &Progress,
    ) -> Result<()> {
        let path = folder_file(to, &mailbox.name)
            .ok_or_else(|| MigrateError::Invalid(format!("mailbox name {:?} is not a path", mailbox.name)))?;
        if let Some(parent) = path.parent() {
            self.directory(parent)?;
        }
        let mut out = BufWriter::new(create_file(&path)?);
        let (mut messages, mut bytes) = (0, 0);
        for meta in store.messages(mailbox.id)? {
            let body = store.read_blob(&meta.blob)?;
            let envelope = Envelope {
                internal_date: meta.internal_date,
                flags: meta.flags,
                keywords: &meta.keywords,
            };
            write_message(&mut out, envelope, &body).map_err(io_error(&path))?;
            messages += 1;
            bytes += meta.size;
            progress.advance(1, meta.size);
        }
        let file = out.into_inner().map_err(|e| io_error(&path)(e.into_error()))?;
        file.sync_all().map_err(io_error(&path))?;
        self.report.folders.push(ExportedFolder {
            name: mailbox.name.clone(),
            path,
            messages,
            bytes,
        });
        Ok(())
    }

    fn maildir_folder(
        &mut self,
        store: &dyn MailStore,
        mailbox: &MailboxInfo,
        to: &Path,
        progress: &Progress,
    ) -> Result<()> {
        let directory = if mailbox.name == "INBOX" {
            to.to_path_buf()
        } else {
            to.join(folder_directory(&mailbox.name))
        };
        for sub in ["cur", "new", "tmp"] {
            self.directory(&directory.join(sub))?;
        }
        let messages = store.messages(mailbox.id)?;
        // The folder's keywords in order of first use; the first 26 get letters.
        let mut keywords: Vec<&str> = Vec::new();
        for keyword in messages.iter().flat_map(|m| &m.keywords) {
            if !keywords.iter().any(|k| k.eq_ignore_ascii_case(keyword)) {
                keywords.push(keyword);
            }
        }
        if !keywords.is_empty() {
            let path = directory.join(KEYWORDS_FILE);
            let mut table = String::new();
            for (index, keyword) in keywords
                .iter()
                .enumerate()
                .filter(|(i, _)| keyword_letter(*i).is_some())
            {
                table.push_str(&format!("{index} {keyword}\n"));
            }
            let mut file = create_file(&path)?;
            file.write_all(table.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io_error(&path))?;
        }
        let (mut count, mut bytes) = (0, 0);
        for meta in &messages {
            let letters: Vec<char> = meta
                .keywords
                .iter()
                .filter_map(|keyword| {
                    let index = keywords.iter().position(|k| k.eq_ignore_ascii_case(keyword))?;
                    let letter = keyword_letter(index);
                    if letter.is_none() {
                        self.report.keywords_not_written += 1;
                    }
                    letter
                })
                .collect();
            let name = format!(
                "{}.M{}V{}.congvu,S={}{}",
                meta.internal_date.max(0),
                meta.uid,
                mailbox.uidvalidity,
                meta.size,
                info_suffix(meta.flags, &letters)
            );
            let path = directory.join("cur").join(name);
            let body = store.read_blob(&meta.blob)?;
            let mut file = create_file(&path)?;
            let modified =
                SystemTime::UNIX_EPOCH + Duration::from_secs(meta.internal_date.max(0).unsigned_abs());
            file.write_all(&body)
                .and_then(|()| file.set_modified(modified))
                .and_then(|()| file.sync_all())
                .map_err(io_error(&path))?;
            count += 1;
            bytes += meta.size;
            progress.advance(1, meta.size);
        }
        self.report.folders.push(ExportedFolder {
            name: mailbox.name.clone(),
            path: directory,
            messages: count,
            bytes,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ImportOptions, MaildirSource, MboxSource, import};
    use congvu_store::{AccountKind, Append, Flags, MessageMeta, QuotaRule, SledStore};
    use std::os::unix::fs::PermissionsExt;

    /// An account with messages in INBOX, Sent and a nested Vietnamese folder, with
    /// flags, keywords, `From ` lines to escape, an empty body line and one message
    /// in two folders.
    fn filled_store(dir: &Path) -> (SledStore, AccountId) {
        let store = SledStore::open(dir).unwrap();
        let account = store.create_account(AccountKind::Agency, 1 << 30).unwrap();
        store.create_mailbox(account, "Công văn/Đến", None).unwrap();
        let messages: [(&str, &[u8], Flags, &[&str]); 5] = [
            (
                "INBOX",
                b"Return-Path: <a@b.vn>\r\nSubject: one\r\n\r\nFrom me\r\n>From you\r\n",
                Flags::SEEN,
                &["$Forwarded"],
            ),
            (
                "INBOX",
                b"Subject: two\r\n\r\nsame\r\n",
                Flags::FLAGGED.union(Flags::ANSWERED),
                &[],
            ),
            (
                "Sent",
                b"Subject: sent\r\n\r\nbody\r\n",
                Flags::SEEN.union(Flags::DRAFT).union(Flags::DELETED),
                &["Công_văn", "$Label1"],
            ),
            (
                "Công văn/Đến",
                b"Subject: =?UTF-8?B?xJDhur9u?=\r\n\r\n\r\n",
                Flags::empty(),
                &["$Forwarded"],
            ),
            ("Công văn/Đến", b"Subject: two\r\n\r\nsame\r\n", Flags::SEEN, &[]),
        ];
        for (index, (folder, bytes, flags, keywords)) in messages.into_iter().enumerate() {
            let mailbox = store.mailbox_by_name(account, folder).unwrap().unwrap();
            let keywords: Vec<String> = keywords.iter().map(|k| (*k).to_owned()).collect();
            store
                .append(
                    mailbox.id,
                    &Append {
                        bytes,
                        flags,
                        keywords: &keywords,
                        internal_date: 1_700_000_000 + index as i64,
                        internal_date_offset: 0,
                        quota: QuotaRule::Enforce,
                    },
                )
                .unwrap();
        }
        (store, account)
    }

    /// A message as compared: bytes, flags, keywords, internal date.
    type Held = (Vec<u8>, Flags, Vec<String>, i64);

    /// Every mailbox's messages, by mailbox name.
    fn contents(store: &SledStore, account: AccountId) -> Vec<(String, Vec<Held>)> {
        store
            .list_mailboxes(account)
            .unwrap()
            .into_iter()
            .map(|mailbox| {
                let messages = store
                    .messages(mailbox.id)
                    .unwrap()
                    .into_iter()
                    .map(|m: MessageMeta| {
                        (
                            store.read_blob(&m.blob).unwrap(),
                            m.flags,
                            m.keywords,
                            m.internal_date,
                        )
                    })
                    .collect();
                (mailbox.name, messages)
            })
            .collect()
    }

    fn round_trip(format: Format) {
        let source_dir = tempfile::tempdir().unwrap();
        let (store, account) = filled_store(source_dir.path());
        let archive = tempfile::tempdir().unwrap();
        let to = archive.path().join("archive");
        let progress = Progress::default();
        let report = export(&store, account, format, &to, &progress).unwrap();
        assert_eq!(report.folders.iter().map(|f| f.messages).sum::<u64>(), 5);
        assert_eq!(report.keywords_not_written, 0);
        let view = progress.view();
        assert_eq!((view.items_done, view.items_total), (5, 5));
        assert_eq!(fs::metadata(&to).unwrap().permissions().mode() & 0o777, 0o700);
        let any_file = &report.folders[0].path;
        if format == Format::Mbox {
            assert_eq!(
                fs::metadata(any_file).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // A second export into the same directory is refused.
        assert!(matches!(
            export(&store, account, format, &to, &progress),
            Err(MigrateError::Invalid(_))
        ));

        let target_dir = tempfile::tempdir().unwrap();
        let target = SledStore::open(target_dir.path()).unwrap();
        let fresh = target.create_account(AccountKind::Agency, 1 << 30).unwrap();
        let imported = match format {
            Format::Mbox => import(
                &target,
                fresh,
                &mut MboxSource::tree(&to).unwrap(),
                ImportOptions::default(),
                &progress,
            ),
            Format::Maildir => import(
                &target,
                fresh,
                &mut MaildirSource::open(&to).unwrap(),
                ImportOptions::default(),
                &progress,
            ),
        }
        .unwrap();
        assert_eq!(
            imported.folders.iter().map(|f| f.imported).sum::<u64>(),
            5,
            "{imported:?}"
        );
        assert_eq!(contents(&target, fresh), contents(&store, account));
        assert!(target.check().unwrap().is_consistent());
    }

    #[test]
    fn mbox_export_then_import_gives_back_every_message() {
        round_trip(Format::Mbox);
    }

    #[test]
    fn maildir_export_then_import_gives_back_every_message() {
        round_trip(Format::Maildir);
    }

    #[test]
    fn maildir_names_carry_flags_and_keyword_letters() {
        let source_dir = tempfile::tempdir().unwrap();
        let (store, account) = filled_store(source_dir.path());
        let archive = tempfile::tempdir().unwrap();
        export(
            &store,
            account,
            Format::Maildir,
            archive.path(),
            &Progress::default(),
        )
        .unwrap();
        let sent = archive.path().join(".Sent");
        assert_eq!(
            fs::read_to_string(sent.join(KEYWORDS_FILE)).unwrap(),
            "0 Công_văn\n1 $Label1\n"
        );
        let names: Vec<String> = fs::read_dir(sent.join("cur"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 1);
        assert!(names[0].ends_with(":2,DSTab"), "{names:?}");
        let modified = fs::metadata(sent.join("cur").join(&names[0]))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(
            modified,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_002)
        );
        assert!(
            archive
                .path()
                .join(folder_directory("Công văn/Đến"))
                .join("cur")
                .is_dir()
        );
    }
}
