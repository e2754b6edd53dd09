//! mbox: the reader ([`MboxSource`]) and the writer of one message
//! ([`write_message`], used by [`crate::export`]).
//!
//! Format (mboxrd, as mutt and Dovecot write it):
//! - Each message starts with a `From SENDER DATE` line (DATE in C `asctime` form,
//!   `Thu Nov 14 22:13:20 2023`, UTC) at the start of the file or after an empty line,
//!   and is followed by one empty line.
//! - A line of the message matching `^>*From ` is written with one more `>`; the reader
//!   strips one `>` from lines matching `^>+From ` (mboxrd). An mboxo file (which
//!   escapes only `From `) reads the same, except a body line that began `>From `.
//! - Flags travel in headers: `Status:` (`R` \Seen, `O` old), `X-Status:` (`A`
//!   \Answered, `F` \Flagged, `T` \Draft, `D` \Deleted), `X-Keywords:` (keywords,
//!   separated by spaces or commas). The writer adds them at the end of the exported
//!   copy's header; the reader takes the flags from them and removes them, wherever
//!   they are in the header, as Dovecot hides them from IMAP clients. A stored message
//!   that carried such fields itself comes back without them.
//! - Lines are LF in the file; the stored message has CRLF. A message whose last
//!   line had no line end comes back with one.
//!
//! The reader streams: one line and one message in memory at a time, whatever the
//! size of the file.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use chrono::{DateTime, NaiveDateTime, Utc};
use congvu_store::{Flags, HIERARCHY_SEPARATOR};

use crate::{Locator, MessageSink, Result, Source, SourceFolder, SourceMessage, io_error, to_crlf};

/// The extension of the files [`crate::export`] writes and [`MboxSource::tree`] reads.
pub const EXTENSION: &str = "mbox";
/// `asctime` without the zone, as in the `From ` line.
const ASCTIME: &str = "%a %b %e %H:%M:%S %Y";
/// The header fields that carry flags; the writer adds them, the reader removes them.
const FLAG_FIELDS: [&str; 3] = ["Status", "X-Status", "X-Keywords"];
/// `X-Status:` letters.
const X_STATUS_LETTERS: [(char, Flags); 4] = [
    ('A', Flags::ANSWERED),
    ('F', Flags::FLAGGED),
    ('T', Flags::DRAFT),
    ('D', Flags::DELETED),
];

/// One mbox file, or a tree of them.
#[derive(Debug)]
pub struct MboxSource {
    files: Vec<SourceFolder>,
}

impl MboxSource {
    /// One file, imported into `folder` (our UTF-8 name, `/`-separated; the folder
    /// mapping still applies, so `Sent Items` goes to Sent).
    pub fn file(path: &Path, folder: &str) -> Result<MboxSource> {
        let metadata = fs::metadata(path).map_err(io_error(path))?;
        if !metadata.is_file() {
            return Err(crate::MigrateError::Invalid(format!(
                "{} is not an mbox file",
                path.display()
            )));
        }
        Ok(MboxSource {
            files: vec![SourceFolder {
                name: folder.to_owned(),
                delimiter: Some(HIERARCHY_SEPARATOR),
                special_use: None,
                locator: Locator::Path(path.to_path_buf()),
            }],
        })
    }

    /// Every `*.mbox` file below `directory`, as [`crate::export`] writes them: the
    /// file `Work/Projects.mbox` is the folder `Work/Projects`.
    pub fn tree(directory: &Path) -> Result<MboxSource> {
        let mut files = Vec::new();
        collect_tree(directory, directory, &mut files)?;
        files.sort_by(|a: &SourceFolder, b| (a.name != "INBOX", &a.name).cmp(&(b.name != "INBOX", &b.name)));
        Ok(MboxSource { files })
    }
}

fn collect_tree(root: &Path, directory: &Path, files: &mut Vec<SourceFolder>) -> Result<()> {
    for entry in fs::read_dir(directory).map_err(io_error(directory))? {
        let entry = entry.map_err(io_error(directory))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io_error(&path))?;
        if kind.is_dir() {
            collect_tree(root, &path, files)?;
            continue;
        }
        if !kind.is_file() || path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path).with_extension("");
        let levels: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        files.push(SourceFolder {
            name: levels.join(&HIERARCHY_SEPARATOR.to_string()),
            delimiter: Some(HIERARCHY_SEPARATOR),
            special_use: None,
            locator: Locator::Path(path),
        });
    }
    Ok(())
}

impl Source for MboxSource {
    fn folders(&mut self) -> Result<Vec<SourceFolder>> {
        Ok(self.files.clone())
    }

    fn read(&mut self, folder: &SourceFolder, sink: &mut dyn MessageSink) -> Result<()> {
        let Locator::Path(path) = &folder.locator else {
            return Err(crate::MigrateError::Invalid(format!(
                "{} is not an mbox file",
                folder.name
            )));
        };
        let file_date = fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        // A first pass counts the messages, so that progress has a total.
        let mut counted = 0u64;
        let mut length = 0u64;
        for_each_line(path, |line, separator| {
            length += line.len() as u64;
            counted += u64::from(separator.is_some());
            Ok(())
        })?;
        sink.sized(counted, length);
        let mut pending: Option<(i64, Vec<u8>)> = None;
        for_each_line(path, |line, separator| {
            if let Some(date) = separator {
                if let Some((date, bytes)) = pending.take() {
                    sink.message(finish(date, bytes))?;
                }
                pending = Some((date.unwrap_or(file_date), Vec::new()));
                return Ok(());
            }
            // Text before the first `From ` line belongs to no message.
            if let Some((_, bytes)) = pending.as_mut() {
                bytes.extend_from_slice(unescape(line));
            }
            Ok(())
        })?;
        if let Some((date, bytes)) = pending {
            sink.message(finish(date, bytes))?;
        }
        Ok(())
    }
}

/// Calls `visit` with every line of the file (line end included) and, for a `From `
/// separator, `Some` of its date (itself `None` when it cannot be read).
fn for_each_line(path: &Path, mut visit: impl FnMut(&[u8], Option<Option<i64>>) -> Result<()>) -> Result<()> {
    let mut reader = BufReader::new(File::open(path).map_err(io_error(path))?);
    let mut line = Vec::new();
    let mut after_empty_line = true;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io_error(path))? == 0 {
            return Ok(());
        }
        let separator = (after_empty_line && line.starts_with(b"From ")).then(|| from_line_date(&line));
        after_empty_line = line == b"\n" || line == b"\r\n";
        visit(&line, separator)?;
    }
}

/// The date of a `From SENDER DATE` line: `asctime`, possibly with a zone after the
/// time or after the year.
fn from_line_date(line: &[u8]) -> Option<i64> {
    let text = String::from_utf8_lossy(line);
    let words: Vec<&str> = text.split_ascii_whitespace().skip(2).collect();
    let joined = words.join(" ");
    if let Ok(naive) = NaiveDateTime::parse_from_str(&joined, ASCTIME) {
        return Some(naive.and_utc().timestamp());
    }
    ["%a %b %e %H:%M:%S %Y %z", "%a %b %e %H:%M:%S %z %Y"]
        .iter()
        .find_map(|format| DateTime::parse_from_str(&joined, format).ok())
        .map(|date| date.timestamp())
}

/// For a line matching `^>*From `, the number of `>` before `From `.
fn quoted_from_depth(line: &[u8]) -> Option<usize> {
    let depth = line.iter().take_while(|b| **b == b'>').count();
    line.get(depth..)
        .is_some_and(|rest| rest.starts_with(b"From "))
        .then_some(depth)
}

/// One `>` less on a line matching `^>+From ` (mboxrd).
fn unescape(line: &[u8]) -> &[u8] {
    match quoted_from_depth(line) {
        Some(depth) if depth > 0 => line.get(1..).unwrap_or(line),
        _ => line,
    }
}

/// A message as read between two separators: the separator's empty line dropped, the
/// flag fields taken out of the header, CRLF line ends.
fn finish(internal_date: i64, mut bytes: Vec<u8>) -> SourceMessage {
    if bytes.ends_with(b"\n\n") || bytes.ends_with(b"\n\r\n") {
        let cut = if bytes.ends_with(b"\r\n") { 2 } else { 1 };
        bytes.truncate(bytes.len() - cut);
    }
    let (flags, keywords, kept) = take_flag_fields(&bytes);
    SourceMessage {
        bytes: to_crlf(&kept).into_owned(),
        flags,
        keywords,
        internal_date,
        internal_date_offset: 0,
    }
}

/// The flags and keywords of the header's `Status:`, `X-Status:` and `X-Keywords:`
/// fields, and the message without those fields.
fn take_flag_fields(message: &[u8]) -> (Flags, Vec<String>, Vec<u8>) {
    let mut flags = Flags::empty();
    let mut keywords: Vec<String> = Vec::new();
    let mut kept = Vec::with_capacity(message.len());
    let mut in_header = true;
    // The field being skipped (its continuation lines go with it), and its value.
    let mut skipping: Option<(usize, String)> = None;
    for line in message.split_inclusive(|b| *b == b'\n') {
        if !in_header {
            kept.extend_from_slice(line);
            continue;
        }
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if continuation && let Some((_, value)) = skipping.as_mut() {
            value.push_str(&String::from_utf8_lossy(line));
            continue;
        }
        if let Some((field, value)) = skipping.take() {
            apply_field(field, &value, &mut flags, &mut keywords);
        }
        if line == b"\n" || line == b"\r\n" {
            in_header = false;
            kept.extend_from_slice(line);
            continue;
        }
        let field = FLAG_FIELDS.iter().enumerate().find_map(|(index, name)| {
            let (head, value) = (line.get(..name.len())?, line.get(name.len()..)?);
            let value = value.strip_prefix(b":")?;
            head.eq_ignore_ascii_case(name.as_bytes())
                .then_some((index, value))
        });
        match field {
            Some((field, value)) => skipping = Some((field, String::from_utf8_lossy(value).into_owned())),
            None => kept.extend_from_slice(line),
        }
    }
    if let Some((field, value)) = skipping {
        apply_field(field, &value, &mut flags, &mut keywords);
    }
    (flags, keywords, kept)
}

fn apply_field(field: usize, value: &str, flags: &mut Flags, keywords: &mut Vec<String>) {
    match FLAG_FIELDS.get(field) {
        Some(&"Status") if value.contains('R') => *flags = flags.union(Flags::SEEN),
        Some(&"X-Status") => {
            for (letter, flag) in X_STATUS_LETTERS {
                if value.contains(letter) {
                    *flags = flags.union(flag);
                }
            }
        }
        Some(&"X-Keywords") => {
            for keyword in value.split(|c: char| c.is_whitespace() || c == ',') {
                if !keyword.is_empty() && !keywords.iter().any(|k| k.eq_ignore_ascii_case(keyword)) {
                    keywords.push(keyword.to_owned());
                }
            }
        }
        _ => {}
    }
}

/// What the writer needs to know of a message besides its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Envelope<'a> {
    pub internal_date: i64,
    pub flags: Flags,
    pub keywords: &'a [String],
}

/// Writes one message as an mbox entry: `From ` line, the message with LF line ends,
/// `>From ` escaping and the flag fields at the end of its header, then the empty
/// separator line.
pub fn write_message(out: &mut impl Write, envelope: Envelope<'_>, message: &[u8]) -> std::io::Result<()> {
    let date = DateTime::<Utc>::from_timestamp(envelope.internal_date, 0)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .format(ASCTIME);
    writeln!(out, "From {} {date}", envelope_sender(message))?;
    let mut status = String::from("Status: ");
    if envelope.flags.contains(Flags::SEEN) {
        status.push('R');
    }
    status.push_str("O\n");
    let x_status: String = X_STATUS_LETTERS
        .iter()
        .filter(|(_, flag)| envelope.flags.contains(*flag))
        .map(|(letter, _)| *letter)
        .collect();
    if !x_status.is_empty() {
        status.push_str(&format!("X-Status: {x_status}\n"));
    }
    if !envelope.keywords.is_empty() {
        status.push_str(&format!("X-Keywords: {}\n", envelope.keywords.join(" ")));
    }
    let mut fields = Some(status);
    for line in message.split_inclusive(|b| *b == b'\n') {
        // Every line ends with LF in the file, the last one too.
        let text = line
            .strip_suffix(b"\r\n")
            .or_else(|| line.strip_suffix(b"\n"))
            .unwrap_or(line);
        if text.is_empty()
            && let Some(fields) = fields.take()
        {
            out.write_all(fields.as_bytes())?;
        }
        if quoted_from_depth(text).is_some() {
            out.write_all(b">")?;
        }
        out.write_all(text)?;
        out.write_all(b"\n")?;
    }
    // A message with no empty line after its header gets the fields at its end.
    if let Some(fields) = fields {
        out.write_all(fields.as_bytes())?;
    }
    out.write_all(b"\n")
}

/// The `From ` line's sender: the `Return-Path:` address, `MAILER-DAEMON` when there
/// is none (or it is `<>`).
fn envelope_sender(message: &[u8]) -> String {
    let header_end = message
        .windows(2)
        .position(|w| w == b"\n\n" || w == b"\n\r")
        .unwrap_or(message.len());
    let header = String::from_utf8_lossy(message.get(..header_end).unwrap_or(message));
    header
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("Return-Path").then(|| {
                value
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
        })
        .filter(|address| !address.is_empty() && !address.contains(char::is_whitespace))
        .unwrap_or_else(|| "MAILER-DAEMON".to_owned())
}

/// The file a folder is exported to under `directory` (`Work/Projects` →
/// `directory/Work/Projects.mbox`); `None` for a name with a `.` or `..` level.
pub(crate) fn folder_file(directory: &Path, name: &str) -> Option<PathBuf> {
    let mut path = directory.to_path_buf();
    for level in name.split(HIERARCHY_SEPARATOR) {
        if level.is_empty() || level == "." || level == ".." {
            return None;
        }
        path.push(level);
    }
    let mut file_name = path.file_name()?.to_os_string();
    file_name.push(".");
    file_name.push(EXTENSION);
    path.set_file_name(file_name);
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Collected, read_all};

    fn read_file(text: &[u8]) -> Collected {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.mbox");
        fs::write(&path, text).unwrap();
        let mut source = MboxSource::file(&path, "INBOX").unwrap();
        let folders = source.folders().unwrap();
        read_all(&mut source, &folders[0])
    }

    #[test]
    fn reads_messages_flags_dates_and_unescapes() {
        let text = b"From alice@example.vn Tue Nov 14 22:13:20 2023\n\
Subject: one\n\
Status: RO\n\
X-Status: AF\n\
X-Keywords: $Forwarded Important\n\
\n\
>From the body\n\
>>From quoted\n\
> From not escaped\n\
\n\
From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n\
Subject: two\n\
X-Keywords: a,\n\
\x20b\n\
\n\
body\n\
From here\n";
        let collected = read_file(text);
        assert_eq!(collected.sized, Some((2, text.len() as u64)));
        let [one, two] = &collected.messages[..] else {
            panic!("{:?}", collected.messages)
        };
        assert_eq!(
            String::from_utf8_lossy(&one.bytes),
            "Subject: one\r\n\r\nFrom the body\r\n>From quoted\r\n> From not escaped\r\n"
        );
        assert_eq!(
            one.flags,
            Flags::SEEN.union(Flags::ANSWERED).union(Flags::FLAGGED)
        );
        assert_eq!(one.keywords, ["$Forwarded", "Important"]);
        assert_eq!(one.internal_date, 1_700_000_000);
        // `From here` follows no empty line: a body line, not a separator.
        assert_eq!(
            String::from_utf8_lossy(&two.bytes),
            "Subject: two\r\n\r\nbody\r\nFrom here\r\n"
        );
        assert_eq!(two.flags, Flags::empty());
        assert_eq!(two.keywords, ["a", "b"]);
        assert_eq!(two.internal_date, 1_704_067_200);
    }

    #[test]
    fn dates_with_zones_and_unreadable_dates() {
        assert_eq!(
            from_line_date(b"From a Mon Jan  1 07:00:00 2024 +0700\n"),
            Some(1_704_067_200)
        );
        assert_eq!(
            from_line_date(b"From a Mon Jan 1 07:00:00 +0700 2024\n"),
            Some(1_704_067_200)
        );
        assert_eq!(from_line_date(b"From a yesterday\n"), None);
    }

    #[test]
    fn writer_and_reader_give_back_the_message() {
        let message = b"Return-Path: <clerk@thanhhoa.gov.vn>\r\n\
Subject: round trip\r\n\
\r\n\
From the start of a line\r\n\
>From already quoted\r\n\
Status: in the body stays\r\n";
        let keywords = ["$Forwarded".to_owned(), "Công_văn".to_owned()];
        let envelope = Envelope {
            internal_date: 1_700_000_000,
            flags: Flags::SEEN.union(Flags::DRAFT).union(Flags::DELETED),
            keywords: &keywords,
        };
        let mut file = Vec::new();
        write_message(&mut file, envelope, message).unwrap();
        write_message(&mut file, envelope, b"Subject: no end of line").unwrap();
        let text = String::from_utf8(file.clone()).unwrap();
        assert!(
            text.starts_with("From clerk@thanhhoa.gov.vn Tue Nov 14 22:13:20 2023\nReturn-Path:"),
            "{text}"
        );
        assert!(
            text.contains("\nStatus: RO\nX-Status: TD\nX-Keywords: $Forwarded Công_văn\n\n>From the start")
        );
        assert!(text.contains("\n>>From already quoted\n"));
        let collected = read_file(&file);
        let [first, second] = &collected.messages[..] else {
            panic!("{:?}", collected.messages)
        };
        assert_eq!(first.bytes, message);
        assert_eq!(first.flags, envelope.flags);
        assert_eq!(first.keywords, keywords);
        assert_eq!(first.internal_date, 1_700_000_000);
        assert_eq!(second.bytes, b"Subject: no end of line\r\n");
    }

    #[test]
    fn folder_files_follow_the_hierarchy() {
        let root = Path::new("/x");
        assert_eq!(folder_file(root, "INBOX"), Some(PathBuf::from("/x/INBOX.mbox")));
        assert_eq!(
            folder_file(root, "Công văn/Đến"),
            Some(PathBuf::from("/x/Công văn/Đến.mbox"))
        );
        assert_eq!(folder_file(root, "a/../b"), None);
    }

    #[test]
    fn a_tree_names_folders_by_path() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("Work")).unwrap();
        for file in ["INBOX.mbox", "Archive.mbox", "Work/Projects.mbox", "notes.txt"] {
            fs::write(dir.path().join(file), b"").unwrap();
        }
        let mut source = MboxSource::tree(dir.path()).unwrap();
        let names: Vec<String> = source.folders().unwrap().into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["INBOX", "Archive", "Work/Projects"]);
    }
}
