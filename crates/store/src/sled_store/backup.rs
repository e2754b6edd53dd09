//! Online backup, verification, restore and pruning of the store (issue 12, Art. 8.2
//! and 12.3).
//!
//! ## A backup directory
//! ```text
//!   DIR/.lock                              one writer at a time (flock)
//!   DIR/blobs/ab/cdef…                     bodies, shared by every snapshot
//!   DIR/snapshots/20261204T190000Z/metadata        the dump of every sled tree
//!   DIR/snapshots/20261204T190000Z/manifest.json   counts, sizes, the dump's SHA-256
//!   DIR/snapshots/20261204T190000Z/files/dkim/…    directories carried along (keys)
//! ```
//! Bodies are content-addressed, so a second backup into the same directory copies
//! only the blobs it does not hold yet (incremental); the metadata is dumped whole
//! each time (it is small: a few hundred bytes a message).
//!
//! ## Invariants
//! 1. **A cut.** The metadata is read while no store transaction runs and, through
//!    the caller's `quiesce`, no directory write either (the directory's writes span
//!    a store call and its own commit). Every write acknowledged before the backup
//!    started committed before that moment, so it is in the snapshot; the snapshot
//!    never holds half a transaction. Writers wait only for the dump of the
//!    metadata (`writers_held_ms` in the manifest), not for the bodies' copy.
//! 2. **Bodies outlive the cut.** From the cut until the copy ends the store deletes
//!    no blob file (`Committer::hold_removals`), so a message expunged meanwhile
//!    still has its body copied.
//! 3. **Complete or absent.** A snapshot is written under `snapshots/.tmp-NAME`,
//!    every blob it names is copied and fsynced, the fan-out directories are synced,
//!    then it is renamed to its final name. A snapshot under its final name is
//!    complete; an interrupted one is a `.tmp-` directory that [`prune`] removes.
//! 4. **Nothing damaged is copied.** Each body is hashed as it is copied (backup and
//!    restore), and a body that does not hash to its name fails the operation.
//!
//! A deleted message's body stays in `DIR/blobs` as long as a kept snapshot names
//! it: restoring an older snapshot brings the message back. [`prune`] drops the
//! snapshots beyond the `keep` newest and then the bodies no kept snapshot names.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{SledStore, StoreOptions, create_private_dir};
use crate::blob::{BlobFile, BlobStore, sync_dir};
use crate::dump::{self, DumpWriter, Item};
use crate::{BlobId, CheckReport, Progress, Result, StoreError};

pub const METADATA_FILE: &str = "metadata";
pub const MANIFEST_FILE: &str = "manifest.json";
const SNAPSHOTS: &str = "snapshots";
const BLOBS: &str = "blobs";
const TEMP_PREFIX: &str = ".tmp-";
const FORMAT: u32 = 1;
/// The tree whose keys are the blobs a snapshot names (see `tx`).
const BLOB_REFS_TREE: &[u8] = b"store.blob_refs";
const MESSAGES_TREE: &[u8] = b"store.messages";
const QUEUE_TREE: &[u8] = b"store.queue";
/// Records written per sled batch on restore.
const RESTORE_BATCH: usize = 4096;

/// What to back up besides the database and the bodies.
pub struct BackupSpec<'a> {
    /// The backup directory.
    pub dir: &'a Path,
    /// Runs its argument while the other writers of the database whose writes span
    /// several transactions (the directory) are held; `&|f| f()` when there are none.
    pub quiesce: &'a dyn Fn(&mut dyn FnMut()),
    /// Small directories of the data directory copied whole into the snapshot and
    /// put back by [`restore`] (DKIM and TLS keys), by name: `("dkim", path)`.
    pub carry: &'a [(&'a str, &'a Path)],
}

/// Where carried directories go in a snapshot.
const FILES: &str = "files";

/// What a snapshot holds; written as `manifest.json` beside its metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub name: String,
    /// Unix seconds of the cut.
    pub created_at: i64,
    pub version: String,
    pub metadata_sha256: String,
    pub metadata_bytes: u64,
    pub records: u64,
    pub messages: u64,
    pub queue_entries: u64,
    /// Bodies the snapshot names, and their total size.
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Bodies this backup had to copy (the others were already in the directory).
    pub copied_blobs: u64,
    pub copied_bytes: u64,
    /// How long writers waited for the metadata dump.
    pub writers_held_ms: u64,
    pub duration_ms: u64,
    /// Directories carried along (`BackupSpec::carry`) that existed.
    #[serde(default)]
    pub carried: Vec<String>,
}

/// What [`verify`] found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub snapshots: Vec<SnapshotVerdict>,
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Bodies whose bytes no longer hash to their name, or that cannot be read.
    pub damaged_blobs: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SnapshotVerdict {
    pub name: String,
    /// The store's consistency check run on the snapshot's metadata and the
    /// backup's bodies (orphans there are the bodies of other snapshots).
    pub check: Option<CheckReport>,
    /// Why the snapshot could not be checked (damaged dump, checksum mismatch).
    pub error: Option<String>,
}

impl VerifyReport {
    pub fn is_sound(&self) -> bool {
        !self.snapshots.is_empty()
            && self.damaged_blobs.is_empty()
            && self
                .snapshots
                .iter()
                .all(|s| s.error.is_none() && s.check.as_ref().is_some_and(CheckReport::is_consistent))
    }
}

/// What [`restore`] did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RestoreReport {
    pub snapshot: String,
    pub records: u64,
    pub blobs: u64,
    pub blob_bytes: u64,
    /// The consistency check of the restored data directory.
    pub check: CheckReport,
}

/// What [`prune`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    pub removed_snapshots: Vec<String>,
    pub removed_blobs: u64,
    pub removed_bytes: u64,
}

impl SledStore {
    /// Writes a snapshot of the whole database (store, directory, queue, access and
    /// audit logs), the bodies it names and the carried directories into
    /// `spec.dir`, while the server runs (module docs).
    pub fn backup(&self, spec: &BackupSpec<'_>, progress: &Progress) -> Result<Manifest> {
        let (dir, quiesce) = (spec.dir, spec.quiesce);
        let started = Instant::now();
        let _lock = lock_backup_dir(dir)?;
        let target = BlobStore::open(&dir.join(BLOBS))?;
        let snapshots = dir.join(SNAPSHOTS);
        create_private_dir(&snapshots)?;
        let name = snapshot_name(&snapshots);
        let temp = snapshots.join(format!("{TEMP_PREFIX}{name}"));
        create_private_dir(&temp)?;
        let file = private_file(&temp.join(METADATA_FILE))?;
        let mut writer = Some(DumpWriter::new(HashingWriter::new(BufWriter::new(file)))?);

        progress.set_phase("metadata");
        let mut manifest = Manifest {
            format: FORMAT,
            name: name.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Manifest::default()
        };
        let mut blobs: Vec<BlobId> = Vec::new();
        let mut dumped: Result<()> = Ok(());
        let mut hold = None;
        let held = Instant::now();
        quiesce(&mut || {
            self.trees.quiesced(|| {
                manifest.created_at = chrono::Utc::now().timestamp();
                hold = Some(self.committer.hold_removals());
                if let Some(writer) = writer.as_mut() {
                    dumped = dump_trees(&self.db, writer, &mut manifest, &mut blobs);
                }
            });
        });
        manifest.writers_held_ms = held.elapsed().as_millis() as u64;
        dumped?;
        let writer = writer
            .take()
            .ok_or_else(|| StoreError::Db("the backup's quiesce did not run the dump".into()))?;
        let (file, digest, bytes) = writer.finish()?.finish()?;
        file.sync_all()?;
        manifest.metadata_sha256 = hex::encode(digest);
        manifest.metadata_bytes = bytes;

        progress.set_phase("blobs");
        progress.add_total(blobs.len() as u64, 0);
        let copied = copy_blobs(&self.blobs, &target, &blobs, progress)?;
        manifest.blobs = copied.blobs;
        manifest.blob_bytes = copied.bytes;
        manifest.copied_blobs = copied.copied;
        manifest.copied_bytes = copied.copied_bytes;
        drop(hold);
        target.sync_dirs()?;
        for (name, source) in spec.carry {
            if source.is_dir() {
                copy_tree(source, &temp.join(FILES).join(name))?;
                manifest.carried.push((*name).to_owned());
            }
        }

        manifest.duration_ms = started.elapsed().as_millis() as u64;
        write_synced_json(&temp.join(MANIFEST_FILE), &manifest)?;
        sync_dir(&temp)?;
        fs::rename(&temp, snapshots.join(&name))?;
        sync_dir(&snapshots)?;
        tracing::info!(
            snapshot = %name,
            messages = manifest.messages,
            blobs = manifest.blobs,
            copied_blobs = manifest.copied_blobs,
            copied_bytes = manifest.copied_bytes,
            writers_held_ms = manifest.writers_held_ms,
            duration_ms = manifest.duration_ms,
            "backup written"
        );
        Ok(manifest)
    }

    /// Builds a store over an already open database and blob store (backup
    /// verification and restore).
    fn assemble(db: sled::Db, blobs: BlobStore) -> Result<SledStore> {
        SledStore::from_parts(db, Arc::new(blobs))
    }
}

/// Dumps every tree of `db`; counts messages and queue entries and collects the
/// blobs the metadata names.
fn dump_trees<W: Write>(
    db: &sled::Db,
    writer: &mut DumpWriter<W>,
    manifest: &mut Manifest,
    blobs: &mut Vec<BlobId>,
) -> Result<()> {
    for name in db.tree_names() {
        let tree = db.open_tree(&name)?;
        writer.tree(&name)?;
        for entry in tree.iter() {
            let (key, value) = entry?;
            writer.record(&key, &value)?;
            manifest.records += 1;
            match name.as_ref() {
                BLOB_REFS_TREE => blobs.push(blob_key(&key)?),
                MESSAGES_TREE => manifest.messages += 1,
                QUEUE_TREE => manifest.queue_entries += 1,
                _ => {}
            }
        }
    }
    Ok(())
}

fn blob_key(key: &[u8]) -> Result<BlobId> {
    <[u8; 32]>::try_from(key)
        .map(BlobId)
        .map_err(|_| StoreError::Corrupt(format!("blob reference key of {} bytes", key.len())))
}

/// Threads copying bodies: each copy ends with an fsync, and the file system folds
/// concurrent ones into fewer journal commits (20,000 bodies, 697 MB: 11.5 s with
/// one thread, 4.7 s with four; docs/benchmarks.md).
const COPY_THREADS: usize = 4;

#[derive(Default)]
struct Copied {
    blobs: u64,
    bytes: u64,
    copied: u64,
    copied_bytes: u64,
}

/// Copies `blobs` from `source` into `target` (those already there are counted,
/// not copied), hashing each on the way (`BlobStore::copy_from`).
fn copy_blobs(
    source: &BlobStore,
    target: &BlobStore,
    blobs: &[BlobId],
    progress: &Progress,
) -> Result<Copied> {
    let results: Vec<Result<Copied>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..COPY_THREADS)
            .map(|first| {
                scope.spawn(move || -> Result<Copied> {
                    let mut totals = Copied::default();
                    for blob in blobs.iter().skip(first).step_by(COPY_THREADS) {
                        let size = match target.copy_from(source, blob)? {
                            Some(copied) => {
                                totals.copied += 1;
                                totals.copied_bytes += copied;
                                copied
                            }
                            None => fs::metadata(target.path(blob))?.len(),
                        };
                        totals.blobs += 1;
                        totals.bytes += size;
                        progress.advance(1, size);
                    }
                    Ok(totals)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err(StoreError::Db("a blob copy thread panicked".into())))
            })
            .collect()
    });
    let mut totals = Copied::default();
    for result in results {
        let part = result?;
        totals.blobs += part.blobs;
        totals.bytes += part.bytes;
        totals.copied += part.copied;
        totals.copied_bytes += part.copied_bytes;
    }
    Ok(totals)
}

/// The snapshots of a backup directory, oldest first (complete ones only).
pub fn snapshots(dir: &Path) -> Result<Vec<Manifest>> {
    let root = dir.join(SNAPSHOTS);
    let mut names = Vec::new();
    match fs::read_dir(&root) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry?;
                if let Some(name) = entry.file_name().to_str()
                    && !name.starts_with('.')
                    && entry.file_type()?.is_dir()
                {
                    names.push(name.to_owned());
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    names.sort();
    names.iter().map(|name| read_manifest(&root.join(name))).collect()
}

fn read_manifest(snapshot: &Path) -> Result<Manifest> {
    let bytes = fs::read(snapshot.join(MANIFEST_FILE))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", snapshot.join(MANIFEST_FILE).display())))
}

/// Re-hashes every body of the backup and checks each snapshot: its dump against
/// the manifest's SHA-256, then the store's consistency check on it.
pub fn verify(dir: &Path, progress: &Progress) -> Result<VerifyReport> {
    let _lock = lock_backup_dir(dir)?;
    let blobs = BlobStore::open(&dir.join(BLOBS))?;
    let mut report = VerifyReport::default();
    let stored: Vec<BlobId> = blobs
        .list()?
        .into_iter()
        .filter_map(|file| match file {
            BlobFile::Stored(id) => Some(id),
            BlobFile::Partial(..) => None,
        })
        .collect();
    progress.set_phase("blobs");
    progress.add_total(stored.len() as u64, 0);
    for id in &stored {
        match blobs.verify(id) {
            Ok((true, size)) => {
                report.blobs += 1;
                report.blob_bytes += size;
                progress.advance(1, size);
            }
            Ok((false, _)) => report.damaged_blobs.push(id.to_hex()),
            Err(error) => report.damaged_blobs.push(format!("{}: {error}", id.to_hex())),
        }
    }
    for manifest in snapshots(dir)? {
        progress.set_phase(&manifest.name);
        let snapshot = dir.join(SNAPSHOTS).join(&manifest.name);
        let checked = load_temporary(&snapshot, &manifest).and_then(|db| {
            let store = SledStore::assemble(db, BlobStore::open(&dir.join(BLOBS))?)?;
            store.check()
        });
        report.snapshots.push(match checked {
            Ok(check) => SnapshotVerdict {
                name: manifest.name,
                check: Some(check),
                error: None,
            },
            Err(error) => SnapshotVerdict {
                name: manifest.name,
                check: None,
                error: Some(error.to_string()),
            },
        });
    }
    Ok(report)
}

/// Loads a snapshot's metadata into a temporary database (deleted on drop).
fn load_temporary(snapshot: &Path, manifest: &Manifest) -> Result<sled::Db> {
    let db = sled::Config::new().temporary(true).open()?;
    load_dump(&db, snapshot, manifest)?;
    Ok(db)
}

/// Checks the dump against the manifest, then writes every record into `db`.
fn load_dump(db: &sled::Db, snapshot: &Path, manifest: &Manifest) -> Result<u64> {
    let path = snapshot.join(METADATA_FILE);
    let digest = hash_file(&path)?;
    if hex::encode(digest) != manifest.metadata_sha256 {
        return Err(StoreError::Corrupt(format!(
            "{}: SHA-256 differs from the manifest's",
            path.display()
        )));
    }
    let mut tree: Option<sled::Tree> = None;
    let mut batch = sled::Batch::default();
    let mut pending = 0usize;
    let records = dump::read(BufReader::new(File::open(&path)?), |item| {
        match item {
            Item::Tree(name) => {
                if let Some(previous) = tree.take() {
                    previous
                        .apply_batch(std::mem::take(&mut batch))
                        .map_err(io_error)?;
                    pending = 0;
                }
                tree = Some(db.open_tree(name).map_err(io_error)?);
            }
            Item::Record { key, value } => {
                batch.insert(key, value);
                pending += 1;
                if pending == RESTORE_BATCH
                    && let Some(tree) = &tree
                {
                    tree.apply_batch(std::mem::take(&mut batch)).map_err(io_error)?;
                    pending = 0;
                }
            }
        }
        Ok(())
    })?;
    if let Some(tree) = tree {
        tree.apply_batch(batch)?;
    }
    if records != manifest.records {
        return Err(StoreError::Corrupt(format!(
            "{}: {records} records, the manifest says {}",
            path.display(),
            manifest.records
        )));
    }
    Ok(records)
}

fn io_error(error: sled::Error) -> io::Error {
    io::Error::other(error.to_string())
}

/// Restores a snapshot (the newest when `snapshot` is `None`) into `data_dir`, which
/// must be absent or empty; the server of that directory must not run. Every body is
/// re-hashed as it is copied, then the store's consistency check runs on the result.
pub fn restore(
    dir: &Path,
    snapshot: Option<&str>,
    data_dir: &Path,
    options: &StoreOptions,
    progress: &Progress,
) -> Result<RestoreReport> {
    let _lock = lock_backup_dir(dir)?;
    let manifests = snapshots(dir)?;
    let manifest = match snapshot {
        Some(name) => manifests.into_iter().find(|m| m.name == name),
        None => manifests.into_iter().last(),
    }
    .ok_or_else(|| {
        StoreError::NotFound(format!(
            "snapshot {} in {}",
            snapshot.unwrap_or("(any)"),
            dir.display()
        ))
    })?;
    if fs::read_dir(data_dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(StoreError::Invalid(format!(
            "{} is not empty: restore only into a new data directory",
            data_dir.display()
        )));
    }
    let db = super::open_database(data_dir, options)?;
    progress.set_phase("metadata");
    let snapshot_dir = dir.join(SNAPSHOTS).join(&manifest.name);
    let records = load_dump(&db, &snapshot_dir, &manifest)?;
    let source = BlobStore::open(&dir.join(BLOBS))?;
    let target = BlobStore::open(&data_dir.join(BLOBS))?;
    progress.set_phase("blobs");
    progress.add_total(manifest.blobs, manifest.blob_bytes);
    let mut report = RestoreReport {
        snapshot: manifest.name.clone(),
        records,
        ..RestoreReport::default()
    };
    let blobs = db
        .open_tree(BLOB_REFS_TREE)?
        .iter()
        .map(|entry| blob_key(&entry?.0))
        .collect::<Result<Vec<BlobId>>>()?;
    let copied = copy_blobs(&source, &target, &blobs, progress)?;
    report.blobs = copied.blobs;
    report.blob_bytes = copied.bytes;
    target.sync_dirs()?;
    for name in &manifest.carried {
        copy_tree(&snapshot_dir.join(FILES).join(name), &data_dir.join(name))?;
    }
    db.flush()?;
    let store = SledStore::assemble(db, target)?;
    report.check = store.check()?;
    Ok(report)
}

/// Keeps the `keep` newest snapshots, removes the older ones and any interrupted
/// one, then the bodies no kept snapshot names.
pub fn prune(dir: &Path, keep: usize) -> Result<PruneReport> {
    let _lock = lock_backup_dir(dir)?;
    let root = dir.join(SNAPSHOTS);
    let mut report = PruneReport::default();
    if let Ok(entries) = fs::read_dir(&root) {
        for entry in entries {
            let entry = entry?;
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(TEMP_PREFIX))
            {
                fs::remove_dir_all(entry.path())?;
            }
        }
    }
    let all = snapshots(dir)?;
    let (old, kept) = all.split_at(all.len().saturating_sub(keep));
    for manifest in old {
        fs::remove_dir_all(root.join(&manifest.name))?;
        report.removed_snapshots.push(manifest.name.clone());
    }
    let mut named: HashSet<BlobId> = HashSet::new();
    for manifest in kept {
        named.extend(snapshot_blobs(&root.join(&manifest.name))?);
    }
    let blobs = BlobStore::open(&dir.join(BLOBS))?;
    for file in blobs.list()? {
        let (id, path) = match file {
            BlobFile::Stored(id) => (id, blobs.path(&id)),
            BlobFile::Partial(id, path) => (id, path),
        };
        if !named.contains(&id) || path != blobs.path(&id) {
            report.removed_bytes += fs::metadata(&path)?.len();
            fs::remove_file(&path)?;
            report.removed_blobs += 1;
        }
    }
    blobs.sync_dirs()?;
    sync_dir(&root)?;
    Ok(report)
}

/// The bodies one snapshot names.
fn snapshot_blobs(snapshot: &Path) -> Result<Vec<BlobId>> {
    let mut in_refs = false;
    let mut blobs = Vec::new();
    dump::read(
        BufReader::new(File::open(snapshot.join(METADATA_FILE))?),
        |item| {
            match item {
                Item::Tree(name) => in_refs = name == BLOB_REFS_TREE,
                Item::Record { key, .. } if in_refs => blobs.push(
                    blob_key(key).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?,
                ),
                Item::Record { .. } => {}
            }
            Ok(())
        },
    )?;
    Ok(blobs)
}

/// One backup, verification, restore or prune per directory at a time.
fn lock_backup_dir(dir: &Path) -> Result<File> {
    create_private_dir(dir)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join(".lock"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::Invalid(format!(
            "{} is in use by another backup, verification or restore",
            dir.display()
        ))),
        Err(fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// `YYYYMMDDTHHMMSSZ`, with `-2`, `-3`… when a snapshot of that second exists.
fn snapshot_name(snapshots: &Path) -> String {
    let base = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let taken =
        |name: &str| snapshots.join(name).exists() || snapshots.join(format!("{TEMP_PREFIX}{name}")).exists();
    if !taken(&base) {
        return base;
    }
    (2u32..)
        .map(|n| format!("{base}-{n}"))
        .find(|name| !taken(name))
        .unwrap_or(base)
}

/// Copies a directory tree: directories `0700`, files `0600` and fsynced (keys live
/// there), symbolic links and other special files skipped.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    create_private_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            let mut file = private_file(&target)?;
            io::copy(&mut File::open(entry.path())?, &mut file)?;
            file.sync_all()?;
        }
    }
    sync_dir(to)
}

fn private_file(path: &Path) -> io::Result<File> {
    File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

fn write_synced_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut file = private_file(path)?;
    let json = serde_json::to_vec_pretty(value).map_err(|e| StoreError::Db(e.to_string()))?;
    file.write_all(&json)?;
    file.sync_all()?;
    Ok(())
}

fn hash_file(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buffer[..n]);
    }
}

/// Hashes and counts what passes through to the file.
struct HashingWriter {
    inner: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
}

impl HashingWriter {
    fn new(inner: BufWriter<File>) -> HashingWriter {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> io::Result<(File, [u8; 32], u64)> {
        let file = self.inner.into_inner().map_err(io::IntoInnerError::into_error)?;
        Ok((file, self.hasher.finalize().into(), self.bytes))
    }
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests;
