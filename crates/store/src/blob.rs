//! Content-addressed blob store: message bodies as files named by their SHA-256.
//!
//! Layout: `root/ab/cdef…` — the first two hex digits of the digest name one of 256
//! fan-out directories (all created at open, so a put never creates a directory), the
//! other 62 name the file. A file under its final name is always complete: it is
//! written under a temporary name (`.tmp-<hex>-<n>`) in the same directory, fsynced,
//! renamed into place, and the directory is fsynced, all before [`BlobStore::put`]
//! returns. That is what lets the metadata that names a blob commit right after the
//! put (crate invariant 1). Concurrent fsyncs of directories are folded into one
//! journal commit by the file system, so concurrent puts share that cost.
//!
//! Directories are created `0700` and files `0600`: message bodies are readable by
//! the server's user only.
//!
//! The blob store knows nothing of references; the sled store counts them and decides
//! when a file may go (see `sled_store`).

use crate::BlobId;
use crate::sled_store::create_private_dir;
use std::fs::{self, DirBuilder, File};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of files being written; never a valid final name (those are 62 hex digits).
const TEMP_PREFIX: &str = ".tmp-";

/// Mode of a blob file (given at creation; the rename keeps it).
const BLOB_FILE_MODE: u32 = 0o600;

/// Blob files under one root directory.
#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    /// Makes temporary names unique among concurrent puts of the same content.
    temp_counter: AtomicU64,
}

/// Bytes to store, as consecutive parts (the blob is their concatenation, never
/// joined in memory), with their digest computed once: callers need the id before
/// the put (to pin the blob) and the put needs it for the file name.
#[derive(Clone, Copy, Debug)]
pub struct Contents<'a> {
    id: BlobId,
    parts: &'a [&'a [u8]],
}

impl<'a> Contents<'a> {
    pub fn new(parts: &'a [&'a [u8]]) -> Contents<'a> {
        Contents {
            id: BlobId::of_parts(parts),
            parts,
        }
    }
    pub fn id(&self) -> BlobId {
        self.id
    }
    pub fn len(&self) -> u64 {
        self.parts.iter().map(|p| p.len() as u64).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A file found by [`BlobStore::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobFile {
    /// A complete blob under its final name.
    Stored(BlobId),
    /// A temporary file of an unfinished put of this blob (left by a crash, or being
    /// written right now).
    Partial(BlobId, PathBuf),
}

impl BlobStore {
    /// Opens (creating if needed) the store under `root` with all 256 fan-out
    /// directories, and makes their creation durable.
    pub fn open(root: &Path) -> io::Result<BlobStore> {
        create_private_dir(root)?;
        let mut created = false;
        for byte in 0..=u8::MAX {
            let dir = root.join(hex::encode([byte]));
            match DirBuilder::new()
                .mode(crate::sled_store::PRIVATE_DIR)
                .create(&dir)
            {
                Ok(()) => created = true,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        if created {
            sync_dir(root)?;
            if let Some(parent) = root.parent() {
                sync_dir(parent)?;
            }
        }
        Ok(BlobStore {
            root: root.to_path_buf(),
            // Temporary names carry the pid and this counter; starting it at the
            // clock's nanoseconds keeps two hosts sharing the directory (PostgreSQL
            // nodes with `[store] blobs`) from choosing one name, even with one pid.
            temp_counter: AtomicU64::new(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64),
            ),
        })
    }

    /// The file that holds (or would hold) `id`.
    pub fn path(&self, id: &BlobId) -> PathBuf {
        let hex = id.to_hex();
        let (fan_out, rest) = hex.split_at(2);
        self.root.join(fan_out).join(rest)
    }

    /// Stores the contents durably. When the blob already exists the file is left
    /// alone (same name, same content) and only its directory is fsynced: the file
    /// may have been renamed into place by a concurrent put whose directory fsync has
    /// not happened yet.
    ///
    /// The caller must keep the blob from being removed from before this call until
    /// its reference commits (the sled store pins it).
    pub fn put(&self, contents: &Contents<'_>) -> io::Result<()> {
        let path = self.path(&contents.id);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        if !path.exists() {
            let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
            let name = format!("{TEMP_PREFIX}{}-{}-{n}", contents.id.to_hex(), std::process::id());
            let temp = dir.join(name);
            if let Err(e) = write_synced(&temp, contents.parts).and_then(|()| fs::rename(&temp, &path)) {
                // Best effort: a leftover temporary file is also found by `list`.
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
        }
        sync_dir(&dir)
    }

    /// Copies blob `id` from `source` (another blob store: a backup's, or the data
    /// directory's) unless it is already here, and checks on the way that the bytes
    /// hash to the name, so a damaged file is never copied as if it were good.
    /// Returns the bytes copied, `None` when the blob was already here. The file is
    /// fsynced; its directory entry is made durable by [`BlobStore::sync_dirs`],
    /// once for a whole batch of copies.
    pub fn copy_from(&self, source: &BlobStore, id: &BlobId) -> io::Result<Option<u64>> {
        let path = self.path(id);
        if path.exists() {
            return Ok(None);
        }
        let bytes = source.read(id)?;
        if BlobId::of(&bytes) != *id {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob {} does not hash to its name", id.to_hex()),
            ));
        }
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!("{TEMP_PREFIX}{}-{}-{n}", id.to_hex(), std::process::id()));
        if let Err(e) = write_synced(&temp, &[&bytes]).and_then(|()| fs::rename(&temp, &path)) {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        Ok(Some(bytes.len() as u64))
    }

    /// Makes every fan-out directory's entries durable (after [`BlobStore::copy_from`]).
    pub fn sync_dirs(&self) -> io::Result<()> {
        for byte in 0..=u8::MAX {
            sync_dir(&self.root.join(hex::encode([byte])))?;
        }
        sync_dir(&self.root)
    }

    /// Reads the blob again and tells whether its bytes still hash to its name, and
    /// its size.
    pub fn verify(&self, id: &BlobId) -> io::Result<(bool, u64)> {
        let bytes = self.read(id)?;
        Ok((BlobId::of(&bytes) == *id, bytes.len() as u64))
    }

    /// The blob's bytes.
    pub fn read(&self, id: &BlobId) -> io::Result<Vec<u8>> {
        fs::read(self.path(id))
    }

    /// Removes the blob's file; a blob that is already gone is not an error.
    pub fn remove(&self, id: &BlobId) -> io::Result<()> {
        remove_if_present(&self.path(id))
    }

    /// Every blob and temporary file in the store. Files that are neither (foreign
    /// files an operator left) are skipped, never touched.
    pub fn list(&self) -> io::Result<Vec<BlobFile>> {
        let mut found = Vec::new();
        for fan_out in fs::read_dir(&self.root)? {
            let fan_out = fan_out?;
            let Some(prefix) = fan_out.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if prefix.len() != 2 || !fan_out.file_type()?.is_dir() {
                continue;
            }
            for entry in fs::read_dir(fan_out.path())? {
                let entry = entry?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if let Some(temp) = name.strip_prefix(TEMP_PREFIX) {
                    let hex = temp.split('-').next().unwrap_or_default();
                    if let Some(id) = parse_hex(hex) {
                        found.push(BlobFile::Partial(id, entry.path()));
                    }
                } else if let Some(id) = parse_hex(&format!("{prefix}{name}")) {
                    found.push(BlobFile::Stored(id));
                }
            }
        }
        Ok(found)
    }
}

/// Removes a file; one that is already gone is not an error.
pub(crate) fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn parse_hex(hex: &str) -> Option<BlobId> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex, &mut digest).ok()?;
    Some(BlobId(digest))
}

fn write_synced(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
    let mut file = File::options()
        .write(true)
        .create_new(true)
        .mode(BLOB_FILE_MODE)
        .open(path)?;
    for part in parts {
        file.write_all(part)?;
    }
    file.sync_data()
}

/// Makes the entries of a directory (creations, renames) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_content_addressed_and_idempotent() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&tmp.path().join("blobs")).unwrap();
        let contents = Contents::new(&[b"hel", b"lo"]);
        let a = contents.id();
        assert_eq!(a, BlobId::of(b"hello"));
        store.put(&contents).unwrap();
        store.put(&contents).unwrap();
        assert_eq!(store.read(&a).unwrap(), b"hello");
        let hex = a.to_hex();
        assert!(tmp.path().join("blobs").join(&hex[..2]).join(&hex[2..]).is_file());
        assert_eq!(store.list().unwrap(), vec![BlobFile::Stored(a)]);
        store.remove(&a).unwrap();
        store.remove(&a).unwrap();
        assert_eq!(store.read(&a).unwrap_err().kind(), io::ErrorKind::NotFound);
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn list_reports_temporary_files_and_ignores_foreign_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::open(tmp.path()).unwrap();
        let id = BlobId::of(b"partial");
        let hex = id.to_hex();
        let temp = tmp.path().join(&hex[..2]).join(format!("{TEMP_PREFIX}{hex}-1-0"));
        fs::write(&temp, b"part").unwrap();
        fs::write(tmp.path().join(&hex[..2]).join("README"), b"x").unwrap();
        fs::write(tmp.path().join("notes.txt"), b"x").unwrap();
        assert_eq!(store.list().unwrap(), vec![BlobFile::Partial(id, temp)]);
    }
}
