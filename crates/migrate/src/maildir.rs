//! Maildir++ as Dovecot and Courier keep it: the reader ([`MaildirSource`]) and the
//! naming rules the writer in [`crate::export`] shares with it.
//!
//! Layout: `cur/` and `new/` of the root are INBOX; each `.Name/` beside them is a
//! folder, levels separated by `.` (`.Work.Projects`), names in modified UTF-7
//! (Dovecot). `tmp/` holds deliveries in progress and is never read.
//!
//! A message file's flags are the letters after `:2,` in its name (maildir(5)):
//! `D` Draft, `F` Flagged, `R` Answered, `S` Seen, `T` Deleted; `P` (passed) has no
//! IMAP flag and is ignored. Lower-case letters are Dovecot keywords, `a` being line
//! `0` of the folder's `dovecot-keywords` file (lines `0 $Forwarded`). Internal date
//! is the file's mtime (Dovecot's convention, offset +0000). Files may hold LF line
//! endings (Dovecot saves LF): they are imported with CRLF, as Dovecot serves them.
//!
//! Files are read in mtime order (then by name), which is arrival order for mail a
//! server delivered. A file that disappears between the listing and its reading (a
//! server still running renamed it) is skipped with a warning; a second run takes it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use congvu_store::Flags;

use crate::{Locator, MessageSink, Result, Source, SourceFolder, SourceMessage, io_error, to_crlf};

/// The Maildir++ hierarchy delimiter.
pub const DELIMITER: char = '.';
/// Dovecot's per-folder keyword table.
pub const KEYWORDS_FILE: &str = "dovecot-keywords";
/// Keywords a Maildir file name can carry (`a`–`z`).
pub const MAX_KEYWORDS: usize = 26;

/// The system flags and their letters, in the ASCII order names must carry them.
pub(crate) const FLAG_LETTERS: [(char, Flags); 5] = [
    ('D', Flags::DRAFT),
    ('F', Flags::FLAGGED),
    ('R', Flags::ANSWERED),
    ('S', Flags::SEEN),
    ('T', Flags::DELETED),
];

/// A Maildir++ tree on disk.
#[derive(Debug)]
pub struct MaildirSource {
    root: PathBuf,
}

impl MaildirSource {
    /// The tree at `root` (the directory holding `cur/`, `new/` and the `.Name/`
    /// folders, e.g. `~user/Maildir`). Fails when it is not a directory.
    pub fn open(root: &Path) -> Result<MaildirSource> {
        let metadata = fs::metadata(root).map_err(io_error(root))?;
        if !metadata.is_dir() {
            return Err(crate::MigrateError::Invalid(format!(
                "{} is not a Maildir directory",
                root.display()
            )));
        }
        Ok(MaildirSource {
            root: root.to_path_buf(),
        })
    }
}

fn is_maildir(path: &Path) -> bool {
    path.join("cur").is_dir() || path.join("new").is_dir()
}

/// The UTF-8 name of a `.Name` directory (without its dot): modified UTF-7 decoded,
/// or the bytes as they are when they are not modified UTF-7.
pub(crate) fn decode_folder_name(encoded: &str) -> String {
    congvu_imap::codec::mutf7::decode(encoded.as_bytes()).unwrap_or_else(|_| encoded.to_owned())
}

/// The directory name (`.Work.Projects`) of a stored name (`Work/Projects`).
pub(crate) fn folder_directory(name: &str) -> String {
    let levels: Vec<String> = name
        .split(congvu_store::HIERARCHY_SEPARATOR)
        .map(congvu_imap::codec::mutf7::encode)
        .collect();
    format!("{DELIMITER}{}", levels.join(&DELIMITER.to_string()))
}

impl Source for MaildirSource {
    fn folders(&mut self) -> Result<Vec<SourceFolder>> {
        let mut folders = Vec::new();
        if is_maildir(&self.root) {
            folders.push(SourceFolder {
                name: "INBOX".to_owned(),
                delimiter: Some(DELIMITER),
                special_use: None,
                locator: Locator::Path(self.root.clone()),
            });
        }
        let mut named = BTreeMap::new();
        for entry in fs::read_dir(&self.root).map_err(io_error(&self.root))? {
            let entry = entry.map_err(io_error(&self.root))?;
            let file_name = entry.file_name();
            let Some(encoded) = file_name.to_str().and_then(|n| n.strip_prefix(DELIMITER)) else {
                continue;
            };
            let path = entry.path();
            if encoded.is_empty() || encoded == "." || !is_maildir(&path) {
                continue;
            }
            named.insert(decode_folder_name(encoded), path);
        }
        folders.extend(named.into_iter().map(|(name, path)| SourceFolder {
            name,
            delimiter: Some(DELIMITER),
            special_use: None,
            locator: Locator::Path(path),
        }));
        Ok(folders)
    }

    fn read(&mut self, folder: &SourceFolder, sink: &mut dyn MessageSink) -> Result<()> {
        let Locator::Path(directory) = &folder.locator else {
            return Err(crate::MigrateError::Invalid(format!(
                "{} is not a Maildir folder",
                folder.name
            )));
        };
        let keywords = read_keywords(directory)?;
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let path = directory.join(sub);
            let entries = match fs::read_dir(&path) {
                Ok(entries) => entries,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(io_error(&path)(error)),
            };
            for entry in entries {
                let entry = entry.map_err(io_error(&path))?;
                let metadata = entry.metadata().map_err(io_error(&entry.path()))?;
                if !metadata.is_file() {
                    continue;
                }
                let mtime = metadata
                    .modified()
                    .ok()
                    .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                files.push((mtime, entry.path(), metadata.len()));
            }
        }
        files.sort();
        sink.sized(files.len() as u64, files.iter().map(|(_, _, len)| len).sum());
        for (mtime, path, _) in files {
            let raw = match fs::read(&path) {
                Ok(raw) => raw,
                // A server still running on the Maildir renamed it (new flags, or new/
                // to cur/): the next run finds it under its new name.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(file = %path.display(), "message file gone while importing");
                    continue;
                }
                Err(error) => return Err(io_error(&path)(error)),
            };
            let file_name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            let (flags, letters) = parse_info(&file_name);
            sink.message(SourceMessage {
                bytes: to_crlf(&raw).into_owned(),
                flags,
                keywords: letters
                    .into_iter()
                    .filter_map(|letter| keywords.get(&letter).cloned())
                    .collect(),
                internal_date: mtime,
                internal_date_offset: 0,
            })?;
        }
        Ok(())
    }
}

/// The flags and keyword letters of a file name's `:2,` info.
pub(crate) fn parse_info(file_name: &str) -> (Flags, Vec<char>) {
    let Some((_, info)) = file_name.rsplit_once(":2,") else {
        return (Flags::empty(), Vec::new());
    };
    let mut flags = Flags::empty();
    let mut letters = Vec::new();
    for letter in info.chars() {
        if let Some((_, flag)) = FLAG_LETTERS.iter().find(|(l, _)| *l == letter) {
            flags = flags.union(*flag);
        } else if letter.is_ascii_lowercase() && !letters.contains(&letter) {
            letters.push(letter);
        }
    }
    (flags, letters)
}

/// The `:2,` info for these flags and keyword letters, letters in ASCII order.
pub(crate) fn info_suffix(flags: Flags, keyword_letters: &[char]) -> String {
    let mut letters: Vec<char> = FLAG_LETTERS
        .iter()
        .filter(|(_, flag)| flags.contains(*flag))
        .map(|(letter, _)| *letter)
        .chain(keyword_letters.iter().copied())
        .collect();
    letters.sort_unstable();
    letters.dedup();
    format!(":2,{}", letters.into_iter().collect::<String>())
}

/// The letter of keyword number `index` (`0` → `a`), for the first 26.
pub(crate) fn keyword_letter(index: usize) -> Option<char> {
    u8::try_from(index)
        .ok()
        .filter(|i| usize::from(*i) < MAX_KEYWORDS)
        .map(|i| char::from(b'a' + i))
}

/// The folder's `dovecot-keywords` as letter → keyword; empty when there is none.
fn read_keywords(directory: &Path) -> Result<BTreeMap<char, String>> {
    let path = directory.join(KEYWORDS_FILE);
    let text = match fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => return Err(io_error(&path)(error)),
    };
    Ok(parse_keywords(&text))
}

pub(crate) fn parse_keywords(text: &str) -> BTreeMap<char, String> {
    text.lines()
        .filter_map(|line| {
            let (index, keyword) = line.trim_end().split_once(' ')?;
            let letter = keyword_letter(index.parse().ok()?)?;
            (!keyword.is_empty()).then(|| (letter, keyword.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::read_all;
    use std::fs::File;
    use std::time::{Duration, SystemTime};

    fn write(path: &Path, bytes: &[u8], mtime: i64) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(mtime as u64);
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    #[test]
    fn info_letters_are_flags_and_keywords() {
        let (flags, letters) = parse_info("1700000000.M1P2.host,S=10,W=12:2,FRSab");
        assert_eq!(flags, Flags::FLAGGED.union(Flags::ANSWERED).union(Flags::SEEN));
        assert_eq!(letters, ['a', 'b']);
        assert_eq!(parse_info("1700000000.M1P2.host"), (Flags::empty(), vec![]));
        assert_eq!(parse_info("x:2,DTP").0, Flags::DRAFT.union(Flags::DELETED));
        assert_eq!(
            info_suffix(Flags::SEEN.union(Flags::DRAFT), &['c', 'a']),
            ":2,DSac"
        );
        assert_eq!(info_suffix(Flags::empty(), &[]), ":2,");
        assert_eq!(keyword_letter(25), Some('z'));
        assert_eq!(keyword_letter(26), None);
        let table = parse_keywords("0 $Forwarded\n1 Công_văn\n26 too-far\nbroken\n");
        assert_eq!(table.get(&'a').map(String::as_str), Some("$Forwarded"));
        assert_eq!(table.get(&'b').map(String::as_str), Some("Công_văn"));
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn folder_names_are_modified_utf7_with_dots() {
        let directory = folder_directory("Thư đã gửi");
        assert!(
            directory.is_ascii() && directory.starts_with(".Th&"),
            "{directory}"
        );
        assert_eq!(decode_folder_name(&directory[1..]), "Thư đã gửi");
        assert_eq!(folder_directory("Work/Projects"), ".Work.Projects");
        assert_eq!(decode_folder_name("not &valid"), "not &valid");
    }

    /// Renames a file away when the first message arrives, as a running server would.
    struct Renaming {
        from: PathBuf,
        messages: usize,
    }

    impl MessageSink for Renaming {
        fn sized(&mut self, _: u64, _: u64) {}
        fn message(&mut self, _: SourceMessage) -> Result<()> {
            if self.messages == 0 {
                fs::rename(&self.from, self.from.with_extension("moved:2,S")).unwrap();
            }
            self.messages += 1;
            Ok(())
        }
    }

    #[test]
    fn a_file_renamed_while_reading_is_left_for_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("cur/1.M1.host:2,"),
            b"Subject: a\n\n",
            1_700_000_000,
        );
        write(
            &dir.path().join("cur/2.M2.host:2,"),
            b"Subject: b\n\n",
            1_700_000_001,
        );
        let mut source = MaildirSource::open(dir.path()).unwrap();
        let inbox = &source.folders().unwrap()[0];
        let mut sink = Renaming {
            from: dir.path().join("cur/2.M2.host:2,"),
            messages: 0,
        };
        source.read(inbox, &mut sink).unwrap();
        assert_eq!(sink.messages, 1);
        assert_eq!(read_all(&mut source, inbox).messages.len(), 2);
    }

    #[test]
    fn reads_inbox_and_folders_with_flags_keywords_and_dates() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            &root.join("new/1.M1.host"),
            b"Subject: new\n\nbody\n",
            1_700_000_300,
        );
        write(
            &root.join("cur/2.M2.host:2,Sa"),
            b"Subject: seen\r\n\r\nbody\r\n",
            1_700_000_100,
        );
        write(&root.join("tmp/3.M3.host"), b"in progress", 1_700_000_000);
        fs::write(root.join(KEYWORDS_FILE), "0 $Forwarded\n").unwrap();
        write(
            &root.join(".Sent Items/cur/4.M4.host:2,RS"),
            b"Subject: sent\n\nx\n",
            1_600_000_000,
        );
        write(
            &root.join(".Work.Projects/new/5.M5.host"),
            b"Subject: p\n\ny\n",
            1_600_000_000,
        );
        fs::create_dir_all(root.join(".not-a-maildir")).unwrap();

        let mut source = MaildirSource::open(root).unwrap();
        let folders = source.folders().unwrap();
        let names: Vec<&str> = folders.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["INBOX", "Sent Items", "Work.Projects"]);

        let inbox = read_all(&mut source, &folders[0]);
        assert_eq!(inbox.sized, Some((2, 19 + 23)));
        let [older, newer] = &inbox.messages[..] else {
            panic!("{:?}", inbox.messages)
        };
        assert_eq!(older.bytes, b"Subject: seen\r\n\r\nbody\r\n");
        assert_eq!(older.flags, Flags::SEEN);
        assert_eq!(older.keywords, ["$Forwarded"]);
        assert_eq!(older.internal_date, 1_700_000_100);
        assert_eq!(newer.bytes, b"Subject: new\r\n\r\nbody\r\n");
        assert_eq!(newer.flags, Flags::empty());
        assert!(newer.keywords.is_empty());

        let sent = read_all(&mut source, &folders[1]);
        assert_eq!(sent.messages[0].flags, Flags::ANSWERED.union(Flags::SEEN));
        assert!(MaildirSource::open(&root.join("new/1.M1.host")).is_err());
    }
}
