//! # congvu-migrate — mail in from agencies' old servers, mailboxes out as archives
//!
//! Art. 2.7 brings agencies' existing mailboxes into the central system; Art. 6.3 and
//! 13 want an archive before anything is deleted (issue 12). This crate holds both
//! directions against a [`congvu_store::MailStore`]:
//!
//! - **Sources** ([`Source`]): a Dovecot/Courier Maildir++ tree ([`maildir`]), an mbox
//!   file or a tree of them ([`mbox`]), a live IMAP server ([`imap_source`]). Each
//!   lists its folders and hands over its messages one at a time, with flags,
//!   keywords and internal date, line endings already CRLF (IMAP clients expect
//!   CRLF, and Dovecot serves Maildir files that hold LF that way).
//! - **Import** ([`import::import`]): maps each source folder to ours
//!   ([`folders`]), and appends what is not already there. No policy is applied
//!   (as for IMAP APPEND); the quota is, unless the operator said `--ignore-quota`.
//! - **Export** ([`export::export`]): every folder of an account to mbox files or a
//!   Maildir++ tree, flags included, files `0600` in directories `0700`.
//! - **Agency lists** ([`accounts`]): the `--accounts FILE.csv` of a whole agency.
//!
//! ## Invariants
//! 1. An import is idempotent and resumable without state of its own: a source
//!    message whose bytes (after the CRLF conversion, so the same SHA-256 the store
//!    names its blob by) are already in the target folder, as many times as the
//!    source holds them, is skipped.
//! 2. Memory is bounded by one message (plus, for IMAP, one folder's list of UIDs
//!    and flags): mbox files are streamed, IMAP bodies fetched in bounded batches.
//! 3. An export never rewrites a stored message: it writes a copy, and the mbox
//!    reader strips exactly the headers the writer adds (`Status:`, `X-Status:`,
//!    `X-Keywords:`), so export → import gives back the stored bytes.
//!
//! ## Calling convention
//! Everything here is blocking (the store's writes are): async callers run it in
//! `tokio::task::spawn_blocking`. The IMAP source runs its own single-thread tokio
//! runtime inside, so it does not depend on the caller's.

pub mod accounts;
pub mod export;
pub mod folders;
pub mod imap_source;
pub mod import;
pub mod maildir;
pub mod mbox;
#[cfg(feature = "test-dovecot")]
pub mod test_dovecot;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use congvu_store::{Flags, SpecialUse, StoreError};

pub use accounts::{AccountRow, parse_accounts, read_accounts};
pub use export::{ExportReport, ExportedFolder, Format, export};
pub use imap_source::{ImapSource, ImapSourceConfig, Security, read_password};
pub use import::{FolderReport, ImportOptions, ImportReport, import};
pub use maildir::MaildirSource;
pub use mbox::MboxSource;

/// What went wrong in an import or an export.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The IMAP server refused or broke the protocol.
    #[error("IMAP: {0}")]
    Imap(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("timed out: {0}")]
    Timeout(&'static str),
    /// Input the operator gave that cannot be used (a CSV line, a folder name, a path).
    #[error("invalid: {0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, MigrateError>;

/// Attaches the path to an I/O error.
pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> MigrateError + '_ {
    move |source| MigrateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A folder of a source, as the source names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFolder {
    /// The name in UTF-8 (modified UTF-7 decoded), with the source's delimiter.
    pub name: String,
    /// The source's hierarchy delimiter (`.` in Maildir++, what LIST says on IMAP).
    pub delimiter: Option<char>,
    /// The RFC 6154 attribute the source gave the folder, if any.
    pub special_use: Option<SpecialUse>,
    /// Where the source finds it (a path, or the name as on the wire).
    pub(crate) locator: Locator,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Locator {
    Path(PathBuf),
    Wire(String),
}

/// One message of a source, ready to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceMessage {
    /// The message with CRLF line endings.
    pub bytes: Vec<u8>,
    pub flags: Flags,
    pub keywords: Vec<String>,
    /// INTERNALDATE as Unix seconds, and the UTC offset it was given with.
    pub internal_date: i64,
    pub internal_date_offset: i32,
}

/// Where a source hands a folder's messages.
pub trait MessageSink {
    /// The folder's size, as far as the source knows it before reading the folder
    /// (messages, bytes); called at most once, before the first message.
    fn sized(&mut self, messages: u64, bytes: u64);
    /// One message; an error stops the folder.
    fn message(&mut self, message: SourceMessage) -> Result<()>;
}

/// A place mail is imported from. Blocking; see the crate docs.
pub trait Source {
    /// Every folder that holds messages, in the order to import them.
    fn folders(&mut self) -> Result<Vec<SourceFolder>>;
    /// Reads one folder (as returned by [`Source::folders`]) into `sink`, one message
    /// at a time, in the source's order.
    fn read(&mut self, folder: &SourceFolder, sink: &mut dyn MessageSink) -> Result<()>;
}

/// The message with every bare LF made CRLF (RFC 5322 §2.3 line endings, as IMAP
/// clients expect and as Dovecot serves its LF files). CRLF and bare CR are kept,
/// so a CRLF message comes back unchanged (and unallocated).
pub fn to_crlf(bytes: &[u8]) -> Cow<'_, [u8]> {
    let bare = bytes
        .iter()
        .enumerate()
        .filter(|(i, b)| **b == b'\n' && (*i == 0 || bytes.get(i - 1) != Some(&b'\r')))
        .count();
    if bare == 0 {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + bare);
    let mut previous = 0u8;
    for &b in bytes {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    Cow::Owned(out)
}

/// A sink that keeps what a source reads, for the readers' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    #[derive(Debug, Default)]
    pub(crate) struct Collected {
        pub(crate) sized: Option<(u64, u64)>,
        pub(crate) messages: Vec<SourceMessage>,
    }

    impl MessageSink for Collected {
        fn sized(&mut self, messages: u64, bytes: u64) {
            self.sized = Some((messages, bytes));
        }
        fn message(&mut self, message: SourceMessage) -> Result<()> {
            self.messages.push(message);
            Ok(())
        }
    }

    /// Every message of the folder.
    pub(crate) fn read_all(source: &mut dyn Source, folder: &SourceFolder) -> Collected {
        let mut collected = Collected::default();
        source.read(folder, &mut collected).unwrap();
        collected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_lf_becomes_crlf_and_crlf_stays() {
        assert_eq!(&*to_crlf(b"a\nb\r\nc\rd\n"), b"a\r\nb\r\nc\rd\r\n");
        assert!(matches!(to_crlf(b"a\r\nb\r\n"), Cow::Borrowed(_)));
        assert_eq!(&*to_crlf(b"\n\n"), b"\r\n\r\n");
        assert_eq!(&*to_crlf(b""), b"");
    }
}
