//! The metadata dump of a backup: every sled tree, every record, as a byte stream.
//!
//! ```text
//! dump    = MAGIC tree* end
//! tree    = 'T' u32(name length) name record*
//! record  = 'R' u32(key length) key u32(value length) value
//! end     = 'E' u64(number of records)
//! ```
//! Integers are big-endian. The format knows nothing of what the trees hold: it
//! copies the directory's trees, the store's, the audit and access logs alike, so a
//! tree added later is backed up without a change here.
//!
//! Invariants:
//! 1. A dump without its end marker, or whose record count disagrees with the
//!    marker, is refused: a truncated file never restores as a smaller store.
//! 2. The reader allocates at most [`MAX_KEY`] / [`MAX_VALUE`] per record, and no
//!    more than the file actually holds, whatever the lengths in it say: a damaged
//!    dump is an error, never an abort.
//! 3. The dump has no checksum of its own; the backup's manifest records its SHA-256.

use std::io::{self, Read, Write};

pub const MAGIC: &[u8; 13] = b"congvu-dump1\n";
/// sled keys here are ids and names: far below this.
pub const MAX_KEY: usize = 64 * 1024;
/// The largest record is a queue entry with its recipients: far below this.
pub const MAX_VALUE: usize = 64 * 1024 * 1024;

const TREE: u8 = b'T';
const RECORD: u8 = b'R';
const END: u8 = b'E';

/// Writes a dump; call [`DumpWriter::tree`] then [`DumpWriter::record`] for each of
/// its records, and [`DumpWriter::finish`] once.
pub struct DumpWriter<W: Write> {
    out: W,
    records: u64,
}

impl<W: Write> DumpWriter<W> {
    pub fn new(mut out: W) -> io::Result<DumpWriter<W>> {
        out.write_all(MAGIC)?;
        Ok(DumpWriter { out, records: 0 })
    }

    pub fn tree(&mut self, name: &[u8]) -> io::Result<()> {
        self.out.write_all(&[TREE])?;
        write_bytes(&mut self.out, name)
    }

    pub fn record(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.out.write_all(&[RECORD])?;
        write_bytes(&mut self.out, key)?;
        write_bytes(&mut self.out, value)?;
        self.records += 1;
        Ok(())
    }

    /// Writes the end marker and returns the output (not flushed or synced).
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[END])?;
        self.out.write_all(&self.records.to_be_bytes())?;
        Ok(self.out)
    }
}

fn write_bytes(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "dump field longer than 4 GiB"))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(bytes)
}

/// What the reader hands the visitor.
pub enum Item<'a> {
    Tree(&'a [u8]),
    Record { key: &'a [u8], value: &'a [u8] },
}

/// Reads a whole dump, calling `visit` for each tree start and record in order.
/// Returns the number of records.
pub fn read(mut input: impl Read, mut visit: impl FnMut(Item<'_>) -> io::Result<()>) -> io::Result<u64> {
    let mut magic = [0u8; MAGIC.len()];
    input.read_exact(&mut magic).map_err(truncated)?;
    if &magic != MAGIC {
        return Err(invalid("not a congvu metadata dump"));
    }
    let mut in_tree = false;
    let mut records = 0u64;
    let (mut key, mut value) = (Vec::new(), Vec::new());
    loop {
        let mut tag = [0u8; 1];
        input.read_exact(&mut tag).map_err(truncated)?;
        match tag[0] {
            TREE => {
                read_bytes(&mut input, &mut key, MAX_KEY)?;
                visit(Item::Tree(&key))?;
                in_tree = true;
            }
            RECORD if in_tree => {
                read_bytes(&mut input, &mut key, MAX_KEY)?;
                read_bytes(&mut input, &mut value, MAX_VALUE)?;
                visit(Item::Record {
                    key: &key,
                    value: &value,
                })?;
                records += 1;
            }
            RECORD => return Err(invalid("record before any tree")),
            END => {
                let mut count = [0u8; 8];
                input.read_exact(&mut count).map_err(truncated)?;
                if u64::from_be_bytes(count) != records {
                    return Err(invalid("record count disagrees with the end marker"));
                }
                let mut rest = [0u8; 1];
                if input.read(&mut rest)? != 0 {
                    return Err(invalid("bytes after the end marker"));
                }
                return Ok(records);
            }
            other => return Err(invalid(&format!("unknown tag {other:#04x}"))),
        }
    }
}

fn read_bytes(input: &mut impl Read, into: &mut Vec<u8>, max: usize) -> io::Result<()> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len).map_err(truncated)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(invalid(&format!("field of {len} bytes exceeds {max}")));
    }
    // Grown as bytes arrive, not to the length the file claims: a damaged length
    // costs what the file holds, not `max`.
    into.clear();
    input.by_ref().take(len as u64).read_to_end(into)?;
    if into.len() == len {
        Ok(())
    } else {
        Err(invalid("truncated (no end marker)"))
    }
}

fn invalid(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("metadata dump: {why}"))
}

fn truncated(error: io::Error) -> io::Error {
    if error.kind() == io::ErrorKind::UnexpectedEof {
        invalid("truncated (no end marker)")
    } else {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut writer = DumpWriter::new(Vec::new()).unwrap();
        writer.tree(b"store.meta").unwrap();
        writer.record(b"next_account", &7u64.to_be_bytes()).unwrap();
        writer.tree(b"dir.audit").unwrap();
        writer.tree(b"empty").unwrap();
        writer.record(b"k", b"").unwrap();
        writer.finish().unwrap()
    }

    #[test]
    fn what_is_written_reads_back_in_order() {
        let mut seen = Vec::new();
        let count = read(sample().as_slice(), |item| {
            seen.push(match item {
                Item::Tree(name) => format!("T {}", String::from_utf8_lossy(name)),
                Item::Record { key, value } => format!("R {} {}", String::from_utf8_lossy(key), value.len()),
            });
            Ok(())
        })
        .unwrap();
        assert_eq!(count, 2);
        assert_eq!(
            seen,
            [
                "T store.meta",
                "R next_account 8",
                "T dir.audit",
                "T empty",
                "R k 0"
            ]
        );
    }

    #[test]
    fn every_truncation_and_any_trailing_byte_is_refused() {
        let dump = sample();
        for cut in 0..dump.len() {
            let error = read(&dump[..cut], |_| Ok(())).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData, "cut at {cut}");
        }
        let mut longer = dump.clone();
        longer.push(0);
        assert!(read(longer.as_slice(), |_| Ok(())).is_err());
    }

    #[test]
    fn a_huge_length_is_an_error_not_an_allocation() {
        let mut dump = MAGIC.to_vec();
        dump.push(TREE);
        dump.extend_from_slice(&u32::MAX.to_be_bytes());
        let error = read(dump.as_slice(), |_| Ok(())).unwrap_err();
        assert!(error.to_string().contains("exceeds"), "{error}");
    }
}
