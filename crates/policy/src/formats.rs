//! Attachment formats recognised by content (Art. 6.1), executables and scripts, and
//! the entries of zip archives checked by the same rules.
//!
//! The zip reader is our own and reads only what the rules need: the central directory
//! (names, sizes, methods) and, for entries whose content must be sniffed, the stored or
//! deflated data (inflate by `miniz_oxide`, bounded by the configured byte budget). Zip64,
//! encryption and unknown methods cannot be inspected and are refused as
//! [`Problem::Archive`]: a container that hides its content is not a document.

use std::fmt;

use serde::Deserialize;

use crate::config::FormatsRule;

/// A format an operator may allow, named by its usual extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Txt,
    Doc,
    Odt,
    Ods,
    Odp,
    Rtf,
    Pdf,
    Docx,
    Xlsx,
    Pptx,
    Png,
    Jpeg,
    Gif,
    Zip,
}

impl Format {
    /// The format a file name's extension claims, if it is one we know.
    pub fn from_extension(ext: &str) -> Option<Format> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "txt" => Format::Txt,
            "doc" => Format::Doc,
            "odt" => Format::Odt,
            "ods" => Format::Ods,
            "odp" => Format::Odp,
            "rtf" => Format::Rtf,
            "pdf" => Format::Pdf,
            "docx" => Format::Docx,
            "xlsx" => Format::Xlsx,
            "pptx" => Format::Pptx,
            "png" => Format::Png,
            "jpg" | "jpeg" => Format::Jpeg,
            "gif" => Format::Gif,
            "zip" => Format::Zip,
            _ => return None,
        })
    }

    /// The usual extension, as operators name the format in `allowed`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Doc => "doc",
            Format::Odt => "odt",
            Format::Ods => "ods",
            Format::Odp => "odp",
            Format::Rtf => "rtf",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Gif => "gif",
            Format::Zip => "zip",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Format::Txt => "text",
            Format::Doc => "OLE2 compound file (.doc)",
            Format::Odt => "OpenDocument text (.odt)",
            Format::Ods => "OpenDocument spreadsheet (.ods)",
            Format::Odp => "OpenDocument presentation (.odp)",
            Format::Rtf => "RTF",
            Format::Pdf => "PDF",
            Format::Docx => "OOXML document (.docx)",
            Format::Xlsx => "OOXML spreadsheet (.xlsx)",
            Format::Pptx => "OOXML presentation (.pptx)",
            Format::Png => "PNG image",
            Format::Jpeg => "JPEG image",
            Format::Gif => "GIF image",
            Format::Zip => "zip archive",
        }
    }
}

/// What a file's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    Format(Format),
    /// Machine code: PE, ELF, Mach-O.
    Executable(&'static str),
    /// Something an interpreter runs.
    Script(&'static str),
    Unknown,
}

impl fmt::Display for Detected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detected::Format(format) => f.write_str(format.describe()),
            Detected::Executable(kind) => write!(f, "{kind} executable"),
            Detected::Script(kind) => write!(f, "{kind} script"),
            Detected::Unknown => f.write_str("unknown binary"),
        }
    }
}

/// Extensions that run code when opened, whatever the content turns out to be.
const DANGEROUS_EXTENSIONS: [&str; 26] = [
    "exe", "com", "bat", "cmd", "scr", "pif", "vbs", "vbe", "js", "jse", "wsf", "wsh", "ps1", "psm1", "msi",
    "msp", "jar", "lnk", "hta", "cpl", "dll", "sys", "sh", "reg", "inf", "apk",
];

/// How much of a file [`detect`] reads, except where [`needs_whole`] says otherwise.
pub const SNIFF_LEN: usize = 1024;

/// Whether the checks of a file that starts with `head` read past its first
/// [`SNIFF_LEN`] bytes: zips (their directory is at the end, and every entry is checked)
/// and `MZ` files (the PE signature may be anywhere). Everything else is decided by the
/// first bytes, so the rest of such a file need not even be decoded.
pub fn needs_whole(head: &[u8]) -> bool {
    head.starts_with(b"MZ") || head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Sniffs `data`. Zips are opened far enough to tell ODF and OOXML apart.
pub fn detect(data: &[u8]) -> Detected {
    let head = data.get(..data.len().min(SNIFF_LEN)).unwrap_or_default();
    if data.starts_with(b"MZ") && (has_pe_signature(data) || !looks_like_text(head)) {
        return Detected::Executable("Windows PE");
    }
    if data.starts_with(b"\x7fELF") {
        return Detected::Executable("ELF");
    }
    const MACHO: [[u8; 4]; 5] = [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xcf, 0xfa, 0xed, 0xfe],
        [0xca, 0xfe, 0xba, 0xbe],
    ];
    if MACHO.iter().any(|m| data.starts_with(m)) {
        return Detected::Executable("Mach-O");
    }
    if data.starts_with(b"#!") {
        return Detected::Script("#!");
    }
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Detected::Format(Format::Pdf);
    }
    if data.starts_with(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) {
        return Detected::Format(Format::Doc);
    }
    if data.starts_with(b"{\\rtf") {
        return Detected::Format(Format::Rtf);
    }
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Detected::Format(Format::Png);
    }
    if data.starts_with(&[0xff, 0xd8, 0xff]) {
        return Detected::Format(Format::Jpeg);
    }
    if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        return Detected::Format(Format::Gif);
    }
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return Detected::Format(zip_kind(data));
    }
    if looks_like_text(head) {
        let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let first = String::from_utf8_lossy(first_line).trim().to_ascii_lowercase();
        if first.starts_with("@echo off") {
            return Detected::Script("batch");
        }
        return Detected::Format(Format::Txt);
    }
    Detected::Unknown
}

/// `MZ` … the `PE\0\0` signature at the offset stored at 0x3c.
fn has_pe_signature(data: &[u8]) -> bool {
    let Some(offset) = data.get(0x3c..0x40) else {
        return false;
    };
    let offset = u32::from_le_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize;
    data.get(offset..offset.saturating_add(4)) == Some(b"PE\0\0")
}

/// Text that decodes: UTF-8 (with or without BOM), UTF-16 with a BOM, or 8-bit text
/// (legacy Vietnamese encodings are 8-bit) without NULs and few control characters.
fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return true;
    }
    if head.contains(&0) {
        return false;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    controls * 100 <= head.len()
}

/// ODF (a `mimetype` entry naming the document type), OOXML (`[Content_Types].xml`
/// and the part folder), or a plain zip.
fn zip_kind(data: &[u8]) -> Format {
    let Ok(archive) = Zip::parse(data) else {
        return Format::Zip;
    };
    if let Some(entry) = archive.entries.iter().find(|e| e.name == "mimetype")
        && let Ok(mime) = archive.read(entry, 256)
    {
        match mime.as_slice() {
            b"application/vnd.oasis.opendocument.text" => return Format::Odt,
            b"application/vnd.oasis.opendocument.spreadsheet" => return Format::Ods,
            b"application/vnd.oasis.opendocument.presentation" => return Format::Odp,
            _ => {}
        }
    }
    if archive.entries.iter().any(|e| e.name == "[Content_Types].xml") {
        for (folder, format) in [
            ("word/", Format::Docx),
            ("xl/", Format::Xlsx),
            ("ppt/", Format::Pptx),
        ] {
            if archive.entries.iter().any(|e| e.name.starts_with(folder)) {
                return format;
            }
        }
    }
    Format::Zip
}

/// Why a file may not be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Code, by content or by name; `path` names the file (inside archives `a.zip/b.exe`).
    Dangerous {
        path: String,
        detected: String,
    },
    NotAllowed {
        path: String,
        detected: Detected,
    },
    /// The name claims one format and the content is another.
    Mismatch {
        path: String,
        claimed: String,
        detected: Detected,
    },
    /// An archive that cannot be inspected within the limits.
    Archive {
        path: String,
        why: &'static str,
    },
}

/// Everything wrong with one attachment: the first dangerous finding and the first
/// format finding (they bind different origins).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    pub dangerous: Option<Problem>,
    pub format: Option<Problem>,
}

/// Work left for archive inspection, shared by all levels of one attachment.
struct Budget {
    entries: u32,
    bytes: u64,
}

/// Checks one attachment (name as sent, decoded content) and, recursively, the
/// entries of zips.
pub fn check_file(name: Option<&str>, data: &[u8], rule: &FormatsRule) -> FileReport {
    let mut report = FileReport::default();
    let mut budget = Budget {
        entries: rule.max_zip_entries,
        bytes: rule.max_zip_bytes,
    };
    let path = name.unwrap_or("(không tên / unnamed)").to_owned();
    check_inner(&path, name, data, rule, 0, &mut budget, &mut report);
    report
}

fn extension(name: &str) -> Option<&str> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.rsplit_once('.').map(|(_, ext)| ext.trim())
}

fn check_inner(
    path: &str,
    name: Option<&str>,
    data: &[u8],
    rule: &FormatsRule,
    depth: u32,
    budget: &mut Budget,
    report: &mut FileReport,
) {
    let detected = detect(data);
    let ext = name.and_then(extension).map(str::to_ascii_lowercase);
    if report.dangerous.is_none() {
        if let Detected::Executable(_) | Detected::Script(_) = detected {
            report.dangerous = Some(Problem::Dangerous {
                path: path.to_owned(),
                detected: detected.to_string(),
            });
        } else if let Some(ext) = ext.as_deref().filter(|e| DANGEROUS_EXTENSIONS.contains(e)) {
            report.dangerous = Some(Problem::Dangerous {
                path: path.to_owned(),
                detected: format!(".{ext} file"),
            });
        }
    }
    if report.format.is_none() {
        report.format = format_problem(path, ext.as_deref(), detected, rule);
    }
    if detected != Detected::Format(Format::Zip) || (report.dangerous.is_some() && report.format.is_some()) {
        return;
    }
    if depth >= rule.max_zip_depth {
        report.format.get_or_insert(Problem::Archive {
            path: path.to_owned(),
            why: "nested too deep",
        });
        return;
    }
    let archive = match Zip::parse(data) {
        Ok(archive) => archive,
        Err(why) => {
            report.format.get_or_insert(Problem::Archive {
                path: path.to_owned(),
                why,
            });
            return;
        }
    };
    for entry in &archive.entries {
        if entry.name.ends_with('/') {
            continue;
        }
        let inner_path = format!("{path}/{}", entry.name);
        if budget.entries == 0 {
            report.format.get_or_insert(Problem::Archive {
                path: path.to_owned(),
                why: "too many entries",
            });
            return;
        }
        budget.entries -= 1;
        let content = match archive.read(entry, budget.bytes) {
            Ok(content) => content,
            Err(why) => {
                // Without the content, executables could hide here: refuse for both.
                let problem = Problem::Archive {
                    path: inner_path,
                    why,
                };
                report.dangerous.get_or_insert(problem.clone());
                report.format.get_or_insert(problem);
                return;
            }
        };
        budget.bytes = budget.bytes.saturating_sub(content.len() as u64);
        check_inner(
            &inner_path,
            Some(&entry.name),
            &content,
            rule,
            depth + 1,
            budget,
            report,
        );
    }
}

fn format_problem(path: &str, ext: Option<&str>, detected: Detected, rule: &FormatsRule) -> Option<Problem> {
    let Detected::Format(format) = detected else {
        return Some(Problem::NotAllowed {
            path: path.to_owned(),
            detected,
        });
    };
    if !rule.allowed.contains(&format) {
        return Some(Problem::NotAllowed {
            path: path.to_owned(),
            detected,
        });
    }
    match ext {
        // No name, or no extension: the content alone decides.
        None => None,
        Some(ext) => match Format::from_extension(ext) {
            Some(claimed) if claimed == format => None,
            _ => Some(Problem::Mismatch {
                path: path.to_owned(),
                claimed: format!(".{ext}"),
                detected,
            }),
        },
    }
}

/// One central-directory entry.
#[derive(Debug)]
struct Entry {
    name: String,
    method: u16,
    flags: u16,
    local_offset: usize,
    compressed: usize,
    size: u64,
}

/// A zip archive's central directory over borrowed bytes.
struct Zip<'a> {
    data: &'a [u8],
    entries: Vec<Entry>,
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl<'a> Zip<'a> {
    fn parse(data: &'a [u8]) -> Result<Zip<'a>, &'static str> {
        const EOCD: &[u8] = b"PK\x05\x06";
        // The end record is in the last 22 + 65535 (comment) bytes.
        let tail_start = data.len().saturating_sub(22 + 65535);
        let eocd = data
            .get(tail_start..)
            .and_then(|tail| tail.windows(4).rposition(|w| w == EOCD))
            .map(|p| tail_start + p)
            .ok_or("no central directory")?;
        let count = u16_at(data, eocd + 10).ok_or("truncated")?;
        let cd_offset = u32_at(data, eocd + 16).ok_or("truncated")?;
        if count == u16::MAX || cd_offset == u32::MAX {
            return Err("zip64 archive");
        }
        let mut at = cd_offset as usize;
        // `count` is at most 65535 and every entry needs 46 bytes: bounded by the data.
        let mut entries = Vec::with_capacity(usize::from(count).min(data.len() / 46));
        for _ in 0..count {
            if u32_at(data, at) != Some(0x0201_4b50) {
                return Err("damaged central directory");
            }
            let field = |offset: usize| u16_at(data, at + offset).ok_or("truncated");
            let flags = field(8)?;
            let method = field(10)?;
            let compressed = u32_at(data, at + 20).ok_or("truncated")?;
            let size = u32_at(data, at + 24).ok_or("truncated")?;
            let name_len = usize::from(field(28)?);
            let extra_len = usize::from(field(30)?);
            let comment_len = usize::from(field(32)?);
            let local_offset = u32_at(data, at + 42).ok_or("truncated")?;
            if compressed == u32::MAX || size == u32::MAX || local_offset == u32::MAX {
                return Err("zip64 archive");
            }
            let name = data.get(at + 46..at + 46 + name_len).ok_or("truncated")?;
            entries.push(Entry {
                name: String::from_utf8_lossy(name).into_owned(),
                method,
                flags,
                local_offset: local_offset as usize,
                compressed: compressed as usize,
                size: u64::from(size),
            });
            at += 46 + name_len + extra_len + comment_len;
        }
        Ok(Zip { data, entries })
    }

    /// The entry's content, at most `limit` bytes once uncompressed.
    fn read(&self, entry: &Entry, limit: u64) -> Result<Vec<u8>, &'static str> {
        if entry.flags & 1 != 0 {
            return Err("encrypted entry");
        }
        if entry.size > limit {
            return Err("archive content too large");
        }
        let at = entry.local_offset;
        if u32_at(self.data, at) != Some(0x0403_4b50) {
            return Err("damaged local header");
        }
        let name_len = usize::from(u16_at(self.data, at + 26).ok_or("truncated")?);
        let extra_len = usize::from(u16_at(self.data, at + 28).ok_or("truncated")?);
        let start = at + 30 + name_len + extra_len;
        let raw = self
            .data
            .get(start..start.saturating_add(entry.compressed))
            .ok_or("truncated entry")?;
        // The declared size may lie; the limit is enforced on what inflating produces.
        let limit = usize::try_from(limit.min(entry.size)).unwrap_or(usize::MAX);
        match entry.method {
            0 => Ok(raw.get(..limit.min(raw.len())).unwrap_or_default().to_vec()),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, limit.max(1))
                .map_err(|_| "damaged or oversized deflate data"),
            _ => Err("unsupported compression method"),
        }
    }
}

#[cfg(test)]
pub(crate) mod samples {
    //! Real files, built here: tests elsewhere in the crate use them too.

    /// A minimal valid one-page PDF.
    pub fn pdf() -> Vec<u8> {
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n".to_vec()
    }

    /// An OLE2 compound file header (the .doc container) with one empty sector.
    pub fn ole2() -> Vec<u8> {
        let mut doc = vec![0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
        doc.extend_from_slice(&[0; 16]);
        doc.extend_from_slice(&[0x3e, 0x00, 0x03, 0x00, 0xfe, 0xff, 0x09, 0x00]);
        doc.resize(1024, 0);
        doc
    }

    pub fn rtf() -> Vec<u8> {
        b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times New Roman;}} \\f0 C\\u244?ng v\\u259?n}".to_vec()
    }

    /// A minimal PE: `MZ`, e_lfanew = 0x40, `PE\0\0`, an i386 file header.
    pub fn pe() -> Vec<u8> {
        let mut exe = vec![0u8; 0x80];
        exe[0] = b'M';
        exe[1] = b'Z';
        exe[0x3c] = 0x40;
        exe[0x40..0x44].copy_from_slice(b"PE\0\0");
        exe[0x44..0x46].copy_from_slice(&0x14c_u16.to_le_bytes());
        exe
    }

    pub fn elf() -> Vec<u8> {
        let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
        elf.resize(64, 0);
        elf
    }

    /// A zip with the given (name, content, deflate?) entries, written by hand.
    pub fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, content, deflate) in entries {
            let data = if *deflate {
                miniz_oxide::deflate::compress_to_vec(content, 6)
            } else {
                content.to_vec()
            };
            let method: u16 = if *deflate { 8 } else { 0 };
            let offset = out.len() as u32;
            let header = |sig: u32, central: bool| {
                let mut h = Vec::new();
                h.extend_from_slice(&sig.to_le_bytes());
                if central {
                    h.extend_from_slice(&20u16.to_le_bytes());
                }
                h.extend_from_slice(&20u16.to_le_bytes());
                h.extend_from_slice(&0u16.to_le_bytes());
                h.extend_from_slice(&method.to_le_bytes());
                h.extend_from_slice(&[0; 4]);
                h.extend_from_slice(&0u32.to_le_bytes());
                h.extend_from_slice(&(data.len() as u32).to_le_bytes());
                h.extend_from_slice(&(content.len() as u32).to_le_bytes());
                h.extend_from_slice(&(name.len() as u16).to_le_bytes());
                h.extend_from_slice(&0u16.to_le_bytes());
                if central {
                    h.extend_from_slice(&[0; 6]);
                    h.extend_from_slice(&0u32.to_le_bytes());
                    h.extend_from_slice(&offset.to_le_bytes());
                }
                h.extend_from_slice(name.as_bytes());
                h
            };
            let local = header(0x0403_4b50, false);
            central.extend(header(0x0201_4b50, true));
            out.extend(local);
            out.extend(data);
        }
        let cd_offset = out.len() as u32;
        let cd_len = central.len() as u32;
        out.extend(central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&cd_len.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    pub fn odt() -> Vec<u8> {
        zip(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text", false),
            ("content.xml", b"<office:document-content/>", true),
        ])
    }

    pub fn docx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", b"<Types/>", true),
            ("word/document.xml", b"<w:document/>", true),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    #[test]
    fn detection_table() {
        let ods = zip(&[(
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
            false,
        )]);
        let odp = zip(&[(
            "mimetype",
            b"application/vnd.oasis.opendocument.presentation",
            false,
        )]);
        let xlsx = zip(&[
            ("[Content_Types].xml", b"x", true),
            ("xl/workbook.xml", b"x", true),
        ]);
        let cases: Vec<(&str, Vec<u8>, Detected)> = vec![
            ("pdf", pdf(), Detected::Format(Format::Pdf)),
            ("ole2", ole2(), Detected::Format(Format::Doc)),
            ("rtf", rtf(), Detected::Format(Format::Rtf)),
            ("odt", odt(), Detected::Format(Format::Odt)),
            ("ods", ods, Detected::Format(Format::Ods)),
            ("odp", odp, Detected::Format(Format::Odp)),
            ("docx", docx(), Detected::Format(Format::Docx)),
            ("xlsx", xlsx, Detected::Format(Format::Xlsx)),
            (
                "zip",
                zip(&[("a.txt", b"hello", true)]),
                Detected::Format(Format::Zip),
            ),
            (
                "utf8",
                "Kính gửi các đơn vị".as_bytes().to_vec(),
                Detected::Format(Format::Txt),
            ),
            (
                "tcvn3",
                b"C\xe9ng ho\xb5 x\xb7 h\xe9i".to_vec(),
                Detected::Format(Format::Txt),
            ),
            ("pe", pe(), Detected::Executable("Windows PE")),
            ("elf", elf(), Detected::Executable("ELF")),
            (
                "macho",
                vec![0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1],
                Detected::Executable("Mach-O"),
            ),
            ("sh", b"#!/bin/sh\nrm -rf /\n".to_vec(), Detected::Script("#!")),
            (
                "bat",
                b"@ECHO OFF\r\ndel *.*\r\n".to_vec(),
                Detected::Script("batch"),
            ),
            (
                "png",
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
                Detected::Format(Format::Png),
            ),
            ("binary", vec![0, 1, 2, 3, 0xff, 0], Detected::Unknown),
            ("mz text", b"MZ is a text".to_vec(), Detected::Format(Format::Txt)),
        ];
        for (label, data, expected) in cases {
            assert_eq!(detect(&data), expected, "{label}");
        }
    }

    #[test]
    fn file_rules_table() {
        let rule = FormatsRule::default();
        let mut with_zip = FormatsRule::default();
        with_zip.allowed.push(Format::Zip);
        with_zip.allowed.push(Format::Docx);
        let nested_exe = zip(&[("inner.zip", &zip(&[("setup.exe", &pe(), true)]), true)]);
        let nested_ok = zip(&[("inner.zip", &zip(&[("a.pdf", &pdf(), true)]), false)]);
        let deep = zip(&[(
            "1.zip",
            &zip(&[(
                "2.zip",
                &zip(&[("3.zip", &zip(&[("a.txt", b"x", false)]), false)]),
                false,
            )]),
            false,
        )]);
        type Case<'a> = (&'a str, Vec<u8>, &'a FormatsRule, bool, bool);
        // (name, content, rule, dangerous?, format problem?)
        let cases: Vec<Case> = vec![
            ("cong-van.pdf", pdf(), &rule, false, false),
            ("to-trinh.doc", ole2(), &rule, false, false),
            ("bao-cao.odt", odt(), &rule, false, false),
            ("ghi-chu.rtf", rtf(), &rule, false, false),
            ("ghi-chu.txt", b"ghi chu".to_vec(), &rule, false, false),
            ("cong-van.pdf", pe(), &rule, true, true),
            ("cong-van.pdf", ole2(), &rule, false, true),
            ("bao-cao.docx", docx(), &rule, false, true),
            ("bao-cao.docx", docx(), &with_zip, false, false),
            ("run.sh", b"#!/bin/sh\n".to_vec(), &rule, true, true),
            ("readme.txt", b"#!/usr/bin/python\n".to_vec(), &rule, true, true),
            ("hello.vbs", b"MsgBox 1".to_vec(), &rule, true, true),
            (
                "tai-lieu.zip",
                zip(&[("a.pdf", &pdf(), true)]),
                &rule,
                false,
                true,
            ),
            (
                "tai-lieu.zip",
                zip(&[("a.pdf", &pdf(), true)]),
                &with_zip,
                false,
                false,
            ),
            ("tai-lieu.zip", nested_ok, &with_zip, false, false),
            ("tai-lieu.zip", nested_exe.clone(), &with_zip, true, true),
            ("tai-lieu.zip", nested_exe, &rule, true, true),
            ("tai-lieu.zip", deep, &with_zip, false, true),
            ("anh.png", b"\x89PNG\r\n\x1a\n".to_vec(), &rule, false, true),
        ];
        for (name, data, rule, dangerous, format) in cases {
            let report = check_file(Some(name), &data, rule);
            assert_eq!(report.dangerous.is_some(), dangerous, "{name}: {report:?}");
            assert_eq!(report.format.is_some(), format, "{name}: {report:?}");
        }
    }

    #[test]
    fn zip_bombs_and_damage_are_bounded() {
        let mut rule = FormatsRule::default();
        rule.allowed.push(Format::Zip);
        rule.max_zip_bytes = 1000;
        let bomb = zip(&[("big.txt", &vec![b'a'; 100_000], true)]);
        let report = check_file(Some("bomb.zip"), &bomb, &rule);
        assert!(
            matches!(report.format, Some(Problem::Archive { .. })),
            "{report:?}"
        );
        let mut damaged = zip(&[("a.txt", b"hello", true)]);
        let len = damaged.len();
        damaged[len - 6] = 0xff; // central directory offset now points nowhere
        assert!(check_file(Some("x.zip"), &damaged, &rule).format.is_some());
        for cut in 0..bomb.len() {
            let _ = check_file(Some("cut.zip"), &bomb[..cut], &rule);
        }
    }
}
