//! Outlook's `winmail.dat` (TNEF, [MS-OXTNEF]): the files inside it, so they are checked
//! as the attachments they are.
//!
//! A TNEF stream is a signature (`78 9F 3E 22`), a key, then attributes: level (1
//! message, 2 attachment), id, length, data, checksum (§2.1.3). An attachment starts at
//! `attAttachRenddata`; its name is `attAttachTitle` (8-bit) or, when present, the MAPI
//! property `PR_ATTACH_LONG_FILENAME` inside `attAttachment`; its bytes are
//! `attAttachData` (§2.1.3.3). A message attached inside (attach method 5) is a nested
//! TNEF stream in `PR_ATTACH_DATA_OBJ`: read the same way, 3 levels deep.
//!
//! Hand-written: of the Rust crates for TNEF, `tnef` 0.1.1 is a basic reader without
//! releases for years and `ytnef` binds a C library; this reader is small, bounded and
//! fuzzed (`fuzz/fuzz_targets/policy_decoders.rs`). Invariants: every length is checked against the bytes left before use, no
//! allocation is larger than the stream, and the number of files is bounded by the
//! caller's budget. A stream that is not TNEF, or is damaged, is an error: the caller
//! then checks `winmail.dat` as an unknown file.

use crate::formats::Budget;

const SIGNATURE: u32 = 0x223E_9F78;
const LEVEL_ATTACHMENT: u8 = 2;
const ATT_ATTACH_DATA: u32 = 0x0006_800F;
const ATT_ATTACH_TITLE: u32 = 0x0001_8010;
const ATT_ATTACH_RENDDATA: u32 = 0x0006_9002;
const ATT_ATTACHMENT: u32 = 0x0006_9005;
const PR_ATTACH_DATA: u16 = 0x3701;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
/// Nested TNEF streams (messages attached in messages) read this deep.
const MAX_DEPTH: u32 = 3;

/// A file found in a TNEF stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TnefFile {
    pub name: Option<String>,
    pub data: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TnefError {
    #[error("not a TNEF stream")]
    NotTnef,
    #[error("damaged TNEF stream")]
    Damaged,
    #[error("TNEF holds more than the message's inspection budget")]
    Budget,
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], TnefError> {
        let end = self.at.checked_add(n).ok_or(TnefError::Damaged)?;
        let out = self.data.get(self.at..end).ok_or(TnefError::Damaged)?;
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, TnefError> {
        Ok(self.bytes(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, TnefError> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, TnefError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn len(&mut self) -> Result<usize, TnefError> {
        usize::try_from(self.u32()?).map_err(|_| TnefError::Damaged)
    }

    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
}

/// Whether `data` starts like a TNEF stream.
pub fn is_tnef(data: &[u8]) -> bool {
    data.get(..4) == Some(&SIGNATURE.to_le_bytes())
}

/// The files in a TNEF stream, each charged to `budget` (one entry, its bytes).
pub fn files(data: &[u8], budget: &mut Budget) -> Result<Vec<TnefFile>, TnefError> {
    let mut out = Vec::new();
    read_stream(data, budget, 0, &mut out)?;
    Ok(out)
}

fn read_stream(
    data: &[u8],
    budget: &mut Budget,
    depth: u32,
    out: &mut Vec<TnefFile>,
) -> Result<(), TnefError> {
    if !is_tnef(data) {
        return Err(TnefError::NotTnef);
    }
    let mut reader = Reader { data, at: 6 };
    let mut current: Option<TnefFile> = None;
    let flush = |file: Option<TnefFile>, budget: &mut Budget, out: &mut Vec<TnefFile>| {
        let Some(file) = file else {
            return Ok(());
        };
        if !budget.take_entry() || !budget.take_bytes(file.data.len() as u64) {
            return Err(TnefError::Budget);
        }
        out.push(file);
        Ok(())
    };
    while !reader.done() {
        let level = reader.u8()?;
        let id = reader.u32()?;
        let len = reader.len()?;
        let value = reader.bytes(len)?;
        reader.u16()?; // checksum: damage is found by the lengths
        if level != LEVEL_ATTACHMENT {
            continue;
        }
        match id {
            ATT_ATTACH_RENDDATA => {
                flush(current.take(), budget, out)?;
                current = Some(TnefFile {
                    name: None,
                    data: Vec::new(),
                });
            }
            ATT_ATTACH_TITLE => {
                let title = value.split(|&b| b == 0).next().unwrap_or_default();
                let file = current.get_or_insert_with(empty);
                if file.name.is_none() && !title.is_empty() {
                    file.name = Some(String::from_utf8_lossy(title).into_owned());
                }
            }
            ATT_ATTACH_DATA => {
                current.get_or_insert_with(empty).data = value.to_vec();
            }
            ATT_ATTACHMENT => {
                let props = properties(value)?;
                let file = current.get_or_insert_with(empty);
                if let Some(name) = props.long_name {
                    file.name = Some(name);
                }
                if let Some(object) = props.data {
                    // An attached message: IID_IMessage (16 bytes), then its TNEF stream.
                    match object.get(16..).filter(|inner| is_tnef(inner)) {
                        Some(inner) if depth + 1 < MAX_DEPTH => read_stream(inner, budget, depth + 1, out)?,
                        Some(_) => return Err(TnefError::Budget),
                        None if file.data.is_empty() => file.data = object.to_vec(),
                        None => {}
                    }
                }
            }
            _ => {}
        }
    }
    flush(current, budget, out)
}

fn empty() -> TnefFile {
    TnefFile {
        name: None,
        data: Vec::new(),
    }
}

/// What an `attAttachment` property list says about the file.
#[derive(Default)]
struct Properties<'a> {
    long_name: Option<String>,
    data: Option<&'a [u8]>,
}

/// A MAPI property list ([MS-OXTNEF] §2.1.3.4): count, then per property its type,
/// id, a name for named properties, and its value(s), variable-length values padded to
/// four bytes.
fn properties(list: &[u8]) -> Result<Properties<'_>, TnefError> {
    let mut reader = Reader { data: list, at: 0 };
    let mut found = Properties::default();
    let count = reader.u32()?;
    for _ in 0..count {
        let kind = reader.u16()?;
        let id = reader.u16()?;
        if id >= 0x8000 {
            reader.bytes(16)?; // property set GUID
            if reader.u32()? == 0 {
                reader.u32()?;
            } else {
                let len = reader.len()?;
                reader.bytes(len.checked_next_multiple_of(4).ok_or(TnefError::Damaged)?)?;
            }
        }
        let multi = kind & 0x1000 != 0;
        let base = kind & !0x1000;
        let values = if multi || matches!(base, 0x001E | 0x001F | 0x0102 | 0x000D) {
            reader.u32()?
        } else {
            1
        };
        for _ in 0..values {
            let fixed = match base {
                0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B => Some(4),
                0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => Some(8),
                0x0048 => Some(16),
                0x001E | 0x001F | 0x0102 | 0x000D => None,
                _ => return Err(TnefError::Damaged),
            };
            let value = match fixed {
                Some(n) => reader.bytes(n)?,
                None => {
                    let len = reader.len()?;
                    let padded = reader.bytes(len.checked_next_multiple_of(4).ok_or(TnefError::Damaged)?)?;
                    padded.get(..len).ok_or(TnefError::Damaged)?
                }
            };
            match (id, base) {
                (PR_ATTACH_LONG_FILENAME, 0x001F) => {
                    let units: Vec<u16> = value
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .take_while(|&u| u != 0)
                        .collect();
                    found.long_name = Some(String::from_utf16_lossy(&units));
                }
                (PR_ATTACH_LONG_FILENAME, 0x001E) => {
                    let bytes = value.split(|&b| b == 0).next().unwrap_or_default();
                    found.long_name = Some(String::from_utf8_lossy(bytes).into_owned());
                }
                (PR_ATTACH_DATA, 0x0102 | 0x000D) => found.data = Some(value),
                _ => {}
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
pub(crate) mod samples {
    //! TNEF streams written here, as Outlook lays them out.

    fn attribute(out: &mut Vec<u8>, level: u8, id: u32, value: &[u8]) {
        out.push(level);
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
        let checksum = value.iter().fold(0u16, |sum, &b| sum.wrapping_add(u16::from(b)));
        out.extend_from_slice(&checksum.to_le_bytes());
    }

    /// A TNEF stream holding `files` (name, content); the names as 8.3 titles and, in
    /// `attAttachment`, as UTF-16 long file names.
    pub fn tnef(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = super::SIGNATURE.to_le_bytes().to_vec();
        out.extend_from_slice(&0x1234u16.to_le_bytes());
        attribute(&mut out, 1, 0x0008_9006, &0x0001_0000u32.to_le_bytes()); // attTnefVersion
        attribute(&mut out, 1, 0x0007_8008, b"IPM.Microsoft Mail.Note\0"); // attMessageClass
        for (name, content) in files {
            attribute(&mut out, 2, super::ATT_ATTACH_RENDDATA, &[0; 14]);
            attribute(&mut out, 2, super::ATT_ATTACH_TITLE, b"ATTACH~1.DAT\0");
            attribute(&mut out, 2, super::ATT_ATTACH_DATA, content);
            let mut props = 1u32.to_le_bytes().to_vec();
            props.extend_from_slice(&0x001Fu16.to_le_bytes());
            props.extend_from_slice(&super::PR_ATTACH_LONG_FILENAME.to_le_bytes());
            props.extend_from_slice(&1u32.to_le_bytes());
            let utf16: Vec<u8> = name
                .encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect();
            props.extend_from_slice(&(utf16.len() as u32).to_le_bytes());
            props.extend_from_slice(&utf16);
            props.resize(props.len().next_multiple_of(4), 0);
            attribute(&mut out, 2, super::ATT_ATTACHMENT, &props);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> Budget {
        Budget {
            entries: 100,
            bytes: 1 << 20,
        }
    }

    #[test]
    fn files_with_long_names() {
        let stream = samples::tnef(&[("Báo cáo quý 3.pdf", b"%PDF-1.4"), ("run.exe", b"MZ")]);
        let found = files(&stream, &mut budget()).unwrap();
        assert_eq!(
            found,
            [
                TnefFile {
                    name: Some("Báo cáo quý 3.pdf".to_owned()),
                    data: b"%PDF-1.4".to_vec()
                },
                TnefFile {
                    name: Some("run.exe".to_owned()),
                    data: b"MZ".to_vec()
                },
            ]
        );
    }

    #[test]
    fn damage_and_budget_are_errors() {
        let stream = samples::tnef(&[("a.pdf", &[7; 100])]);
        for cut in 7..stream.len() {
            // Every truncation: an error or fewer files, never a panic.
            let _ = files(&stream[..cut], &mut budget());
        }
        assert_eq!(files(b"not tnef", &mut budget()), Err(TnefError::NotTnef));
        let mut small = Budget {
            entries: 100,
            bytes: 50,
        };
        assert_eq!(files(&stream, &mut small), Err(TnefError::Budget));
    }
}
