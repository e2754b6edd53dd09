//! Attachment formats recognised by content (Art. 6.1), executables and scripts, and
//! the entries of zip containers checked by the same rules.
//!
//! 1. A file is judged by its content and by its name as a reader sees it
//!    ([`file_name`]: NFKC, invisible and bidi characters removed, look-alike letters
//!    mapped, trailing dots and spaces and NTFS streams such as `::$DATA` dropped).
//! 2. Every zip container is opened, whatever it claims to be: plain zips have every
//!    entry checked as a document, ODF and OOXML documents have their entries checked
//!    for code (an `.exe` inside an `.odt` is refused).
//! 3. Containers that cannot be opened (7z, RAR, CAB, ISO 9660/UDF images, gzip,
//!    encrypted zip entries, zip64) are refused under the dangerous-content rule: what
//!    cannot be inspected could be code.
//! 4. One [`Budget`] per message: archive entries opened and bytes inflated (or declared
//!    by an entry) across all attachments and levels, so 200 zip bombs cost what one
//!    does. Entries are inflated only as far as their checks read
//!    ([`needs_whole`]: the first KiB, or the whole for zips and `MZ` files).
//!
//! The zip reader is our own and reads only what the rules need: the central directory
//! (names, sizes, methods) and the stored or deflated data (inflate by `miniz_oxide`,
//! output-bounded).

use std::fmt;

use serde::Deserialize;

use crate::config::FormatsRule;
use crate::reading::as_read;

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
    Xls,
    Ppt,
    Png,
    Jpeg,
    Gif,
    Tiff,
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
            "xls" => Format::Xls,
            "ppt" => Format::Ppt,
            "png" => Format::Png,
            "jpg" | "jpeg" => Format::Jpeg,
            "gif" => Format::Gif,
            "tif" | "tiff" => Format::Tiff,
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
            Format::Xls => "xls",
            Format::Ppt => "ppt",
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Gif => "gif",
            Format::Tiff => "tiff",
            Format::Zip => "zip",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Format::Txt => "text",
            Format::Doc | Format::Xls | Format::Ppt => "OLE2 compound file (.doc/.xls/.ppt)",
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
            Format::Tiff => "TIFF image",
            Format::Zip => "zip archive",
        }
    }

    /// Whether content detected as `self` may carry the name of `claimed`: the OLE2
    /// container holds Word, Excel and PowerPoint files alike.
    fn answers_to(self, claimed: Format) -> bool {
        let ole = |f| matches!(f, Format::Doc | Format::Xls | Format::Ppt);
        self == claimed || (ole(self) && ole(claimed))
    }

    /// Images a mail client shows inside an HTML body.
    pub fn is_image(self) -> bool {
        matches!(self, Format::Png | Format::Jpeg | Format::Gif | Format::Tiff)
    }

    /// Zip containers whose entries are opened.
    fn is_zip(self) -> bool {
        matches!(
            self,
            Format::Zip
                | Format::Odt
                | Format::Ods
                | Format::Odp
                | Format::Docx
                | Format::Xlsx
                | Format::Pptx
        )
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
    /// A container this crate cannot open (7z, RAR, ISO, …).
    Sealed(&'static str),
    Unknown,
}

impl fmt::Display for Detected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detected::Format(format) => f.write_str(format.describe()),
            Detected::Executable(kind) => write!(f, "{kind} executable"),
            Detected::Script(kind) => write!(f, "{kind} script"),
            Detected::Sealed(kind) => write!(f, "{kind} archive"),
            Detected::Unknown => f.write_str("unknown binary"),
        }
    }
}

/// Extensions that run code when opened, whatever the content turns out to be.
const DANGEROUS_EXTENSIONS: [&str; 42] = [
    "exe",
    "com",
    "bat",
    "cmd",
    "scr",
    "pif",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "ps1",
    "psm1",
    "msi",
    "msp",
    "jar",
    "lnk",
    "hta",
    "cpl",
    "dll",
    "sys",
    "sh",
    "reg",
    "inf",
    "apk",
    "msc",
    "gadget",
    "scf",
    "url",
    "ws",
    "wsc",
    "psd1",
    "ps1xml",
    "application",
    "appref-ms",
    "xll",
    "docm",
    "xlsm",
    "pptm",
    "dotm",
    "vb",
];

/// Extensions of containers this crate cannot open: refused like their content.
const SEALED_EXTENSIONS: [&str; 18] = [
    "7z", "rar", "iso", "img", "udf", "vhd", "vhdx", "cab", "gz", "tgz", "bz2", "xz", "tar", "arj", "ace",
    "lzh", "dmg", "zst",
];

/// How much of a file [`detect`] reads, except where [`needs_whole`] says otherwise.
pub const SNIFF_LEN: usize = 1024;

/// How much of a file whose first [`SNIFF_LEN`] bytes are all zero is read: ISO 9660 and
/// UDF images start with a 32 KiB empty system area, then `CD001`/`BEA01` (ECMA-119 §8).
pub const IMAGE_SNIFF_LEN: usize = 0x9006;

/// Whether the checks of a file that starts with `head` read past its first
/// [`SNIFF_LEN`] bytes: zips (their directory is at the end, and every entry is checked)
/// and `MZ` files (the PE signature may be anywhere). Everything else is decided by the
/// first bytes, so the rest of such a file need not even be decoded.
pub fn needs_whole(head: &[u8]) -> bool {
    head.starts_with(b"MZ") || head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// How much of a file starting with `head` its checks read: all of it, the disc-image
/// area, or the first [`SNIFF_LEN`] bytes.
pub fn sniff_len(head: &[u8]) -> usize {
    if needs_whole(head) {
        usize::MAX
    } else if head.len() >= SNIFF_LEN && head.iter().take(SNIFF_LEN).all(|&b| b == 0) {
        IMAGE_SNIFF_LEN
    } else {
        SNIFF_LEN
    }
}

/// Containers recognised by their magic number that cannot be opened here.
fn sealed(data: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 9] = [
        (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
        (b"Rar!\x1a\x07", "RAR"),
        (b"MSCF\0\0\0\0", "CAB"),
        (b"\x1f\x8b", "gzip"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\0", "xz"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"conectix", "VHD"),
        (b"vhdxfile", "VHDX"),
    ];
    if let Some((_, kind)) = MAGIC.iter().find(|(magic, _)| data.starts_with(magic)) {
        return Some(kind);
    }
    if data.get(257..262) == Some(b"ustar") {
        return Some("tar");
    }
    if data.get(7..14) == Some(b"**ACE**") {
        return Some("ACE");
    }
    if data.starts_with(&[0x60, 0xea]) {
        return Some("ARJ");
    }
    // ISO 9660 / UDF volume descriptors at sectors 16–18 (2048-byte sectors).
    let image = [0x8001, 0x8801, 0x9001].iter().any(|&at| {
        matches!(
            data.get(at..at + 5),
            Some(b"CD001" | b"BEA01" | b"NSR02" | b"NSR03")
        )
    });
    image.then_some("ISO 9660/UDF disc image")
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
    if let Some(kind) = sealed(data) {
        return Detected::Sealed(kind);
    }
    // Before the PDF search: a zip storing a PDF uncompressed shows `%PDF-` in its
    // first KiB, and a zip taken for a PDF would not be opened.
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return Detected::Format(zip_kind(data));
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
    if data.starts_with(b"II*\0") || data.starts_with(b"MM\0*") {
        return Detected::Format(Format::Tiff);
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
pub fn looks_like_text(head: &[u8]) -> bool {
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

/// A file name as the system that saves it will read it: as a person reads it
/// ([`as_read`]: RTLO and zero-width characters gone, fullwidth and look-alike letters
/// mapped), the folder dropped, an NTFS stream (`name:stream`, `name::$DATA`) dropped,
/// and trailing dots and spaces dropped (Windows strips them when saving).
pub fn file_name(name: &str) -> String {
    let read = as_read(name);
    let base = read.rsplit(['/', '\\']).next().unwrap_or(&read);
    let base = base.split(':').next().unwrap_or(base);
    base.trim_end_matches(['.', ' ', '\t']).trim_start().to_owned()
}

/// Whether a name, read as [`file_name`] reads it, is an executable's, a script's
/// or a sealed archive's: the names a part carries are weighed with it when they
/// disagree (see `mime::part_name`).
pub fn is_code_name(name: &str) -> bool {
    extension(&file_name(name)).is_some_and(|ext| {
        DANGEROUS_EXTENSIONS.contains(&ext.as_str()) || SEALED_EXTENSIONS.contains(&ext.as_str())
    })
}

/// The lower-case extension of a name made by [`file_name`].
fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.')
        .map(|(_, ext)| ext.trim().to_ascii_lowercase())
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
    /// A container that cannot be opened or inspected within the limits.
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
    /// The names of the documents inside a zip (`a.zip/b.pdf`), for the rules that
    /// read names (classification stamps).
    pub entry_names: Vec<String>,
}

/// Inspection work left for one message, shared by every part, archive and level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Archive entries and decoded files still to open.
    pub entries: u32,
    /// Bytes still to decode or inflate; zip entries are charged their declared size.
    pub bytes: u64,
}

impl Budget {
    pub fn new(rule: &FormatsRule) -> Budget {
        Budget {
            entries: rule.max_zip_entries,
            bytes: rule.max_zip_bytes,
        }
    }

    /// Takes `bytes` of work; `false` (and nothing taken) when not that much is left.
    pub fn take_bytes(&mut self, bytes: u64) -> bool {
        match self.bytes.checked_sub(bytes) {
            Some(left) => {
                self.bytes = left;
                true
            }
            None => false,
        }
    }

    /// Takes one entry; `false` when none is left.
    pub fn take_entry(&mut self) -> bool {
        match self.entries.checked_sub(1) {
            Some(left) => {
                self.entries = left;
                true
            }
            None => false,
        }
    }
}

/// Whether a file's name or content is code (checked for every part of a message,
/// whatever its role). `scripts`: whether `#!` and batch text count — they do for
/// files, not for a message's own text.
pub fn code_problem(path: &str, name: Option<&str>, data: &[u8], scripts: bool) -> Option<Problem> {
    let detected = detect(data);
    dangerous(path, name.map(file_name).as_deref(), detected, scripts)
}

fn dangerous(path: &str, name: Option<&str>, detected: Detected, scripts: bool) -> Option<Problem> {
    let ext = name.and_then(extension);
    let problem = |detected: String| {
        Some(Problem::Dangerous {
            path: path.to_owned(),
            detected,
        })
    };
    match detected {
        Detected::Executable(_) => return problem(detected.to_string()),
        Detected::Script(_) if scripts => return problem(detected.to_string()),
        Detected::Sealed(why) => {
            return Some(Problem::Archive {
                path: path.to_owned(),
                why,
            });
        }
        _ => {}
    }
    let ext = ext?;
    if DANGEROUS_EXTENSIONS.contains(&ext.as_str()) {
        return problem(format!(".{ext} file"));
    }
    SEALED_EXTENSIONS
        .contains(&ext.as_str())
        .then(|| Problem::Archive {
            path: path.to_owned(),
            why: "archive format that cannot be opened",
        })
}

/// Checks one document (`path` as messages name it, its name as sent, decoded content)
/// and, recursively, the entries of zip containers, drawing on the message's `budget`.
pub fn check_file(
    path: Option<&str>,
    name: Option<&str>,
    data: &[u8],
    rule: &FormatsRule,
    budget: &mut Budget,
) -> FileReport {
    let mut report = FileReport::default();
    let path = path.unwrap_or("(không tên / unnamed)").to_owned();
    let name = name.map(file_name);
    check_inner(&path, name.as_deref(), data, rule, 0, true, budget, &mut report);
    report
}

#[allow(clippy::too_many_arguments)]
fn check_inner(
    path: &str,
    name: Option<&str>,
    data: &[u8],
    rule: &FormatsRule,
    depth: u32,
    document: bool,
    budget: &mut Budget,
    report: &mut FileReport,
) {
    let detected = detect(data);
    if report.dangerous.is_none() {
        report.dangerous = dangerous(path, name, detected, true);
    }
    if document && report.format.is_none() {
        report.format = format_problem(path, name.and_then(extension).as_deref(), detected, rule);
    }
    let Detected::Format(format) = detected else {
        return;
    };
    if !format.is_zip() || report.dangerous.is_some() {
        return;
    }
    // Entries of a plain zip are documents; those of ODF/OOXML files are their parts,
    // checked for code only.
    let entries_are_documents = document && format == Format::Zip;
    if depth >= rule.max_zip_depth {
        report.dangerous.get_or_insert(Problem::Archive {
            path: path.to_owned(),
            why: "nested too deep",
        });
        return;
    }
    let archive = match Zip::parse(data) {
        Ok(archive) => archive,
        Err(why) => {
            report.dangerous.get_or_insert(Problem::Archive {
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
        let refuse = |report: &mut FileReport, why| {
            report.dangerous.get_or_insert(Problem::Archive {
                path: inner_path.clone(),
                why,
            });
        };
        if !budget.take_entry() {
            return refuse(report, "too many entries in the message's archives");
        }
        if !budget.take_bytes(entry.size) {
            return refuse(report, "archives inflate past the message's limit");
        }
        // The head first; the whole only when the head says the checks read on.
        let content = match archive.read(entry, SNIFF_LEN as u64) {
            Ok(head) if needs_whole(&head) && entry.size > head.len() as u64 => {
                archive.read(entry, entry.size)
            }
            read => read,
        };
        let content = match content {
            Ok(content) => content,
            // Without the content, code could hide here.
            Err(why) => return refuse(report, why),
        };
        let inner_name = file_name(&entry.name);
        if entries_are_documents {
            report.entry_names.push(inner_path.clone());
        }
        check_inner(
            &inner_path,
            Some(&inner_name),
            &content,
            rule,
            depth + 1,
            entries_are_documents,
            budget,
            report,
        );
        if report.dangerous.is_some() {
            return;
        }
    }
}

fn format_problem(path: &str, ext: Option<&str>, detected: Detected, rule: &FormatsRule) -> Option<Problem> {
    let Detected::Format(format) = detected else {
        return Some(Problem::NotAllowed {
            path: path.to_owned(),
            detected,
        });
    };
    let claimed = ext.map(|ext| (ext, Format::from_extension(ext)));
    // The name decides among the formats the content answers to (.xls for OLE2).
    let format = match claimed {
        Some((_, Some(claimed))) if format.answers_to(claimed) => claimed,
        _ => format,
    };
    if !rule.allowed.contains(&format) {
        return Some(Problem::NotAllowed {
            path: path.to_owned(),
            detected,
        });
    }
    match claimed {
        // No name, or no extension: the content alone decides.
        None => None,
        Some((_, Some(claimed))) if claimed == format => None,
        // A name in a format we do not know (`.html`, `.mp4`): that format is what
        // the file claims to be, and it is not allowed — not a naming mistake.
        Some((_, None)) => Some(Problem::NotAllowed {
            path: path.to_owned(),
            detected,
        }),
        Some((ext, _)) => Some(Problem::Mismatch {
            path: path.to_owned(),
            claimed: format!(".{ext}"),
            detected,
        }),
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

    /// The entry's content, its first `keep` bytes once uncompressed. Asked for all of
    /// it (`keep` at least the declared size), an entry that inflates past its declared
    /// size is refused: the size was a lie, and the budget charged for it.
    fn read(&self, entry: &Entry, keep: u64) -> Result<Vec<u8>, &'static str> {
        if entry.flags & 1 != 0 {
            return Err("encrypted entry");
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
        let want = usize::try_from(keep.min(entry.size)).unwrap_or(usize::MAX);
        match entry.method {
            0 => Ok(raw.get(..want.min(raw.len())).unwrap_or_default().to_vec()),
            8 => match miniz_oxide::inflate::decompress_to_vec_with_limit(raw, want.max(1)) {
                Ok(mut content) => {
                    content.truncate(want);
                    Ok(content)
                }
                Err(e)
                    if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput && keep < entry.size =>
                {
                    let mut head = e.output;
                    head.truncate(want);
                    Ok(head)
                }
                Err(e) if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                    Err("entry inflates past its declared size")
                }
                Err(_) => Err("damaged deflate data"),
            },
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

    /// The regulation's own seven formats (Art. 6.1), as before the Ministry's were added.
    fn regulation_only() -> FormatsRule {
        // The default list starts with them, in the regulation's order.
        let mut rule = FormatsRule::default();
        rule.allowed.truncate(7);
        assert_eq!(rule.allowed.last(), Some(&Format::Pdf));
        rule
    }

    fn check(name: &str, data: &[u8], rule: &FormatsRule) -> FileReport {
        check_file(Some(name), Some(name), data, rule, &mut Budget::new(rule))
    }

    /// A zip whose entries are marked encrypted (general purpose flag bit 0).
    fn encrypted_zip() -> Vec<u8> {
        let mut data = zip(&[("a.pdf", &pdf(), false)]);
        for signature in [&b"PK\x03\x04"[..], b"PK\x01\x02"] {
            let at = data.windows(4).position(|w| w == signature).unwrap();
            let flags = if signature == b"PK\x03\x04" { 6 } else { 8 };
            data[at + flags] |= 1;
        }
        data
    }

    /// An ISO 9660 image: 32 KiB of system area, then the primary volume descriptor.
    fn iso() -> Vec<u8> {
        let mut data = vec![0; 0x8000];
        data.extend_from_slice(b"\x01CD001\x01");
        data.resize(0x9000, 0);
        data
    }

    #[test]
    fn file_rules_table() {
        let seven = regulation_only();
        let rule = FormatsRule::default();
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
        let xlsx = zip(&[
            ("[Content_Types].xml", b"<Types/>", true),
            ("xl/workbook.xml", b"<workbook/>", true),
        ]);
        let odt_with_exe = zip(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text", false),
            ("content.xml", b"<office:document-content/>", true),
            ("Pictures/logo.png", &pe(), true),
        ]);
        let docx_with_script = zip(&[
            ("[Content_Types].xml", b"<Types/>", true),
            ("word/document.xml", b"<w:document/>", true),
            ("word/embeddings/run.vbs", b"MsgBox 1", true),
        ]);
        let mut seven_zip = b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec();
        seven_zip.resize(200, 0);
        let mut rar = b"Rar!\x1a\x07\x01\x00".to_vec();
        rar.resize(200, 0);
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        type Case<'a> = (&'a str, Vec<u8>, &'a FormatsRule, bool, bool);
        // (name, content, rule, dangerous?, format problem?)
        let cases: Vec<Case> = vec![
            ("cong-van.pdf", pdf(), &seven, false, false),
            ("to-trinh.doc", ole2(), &seven, false, false),
            ("bao-cao.odt", odt(), &seven, false, false),
            ("ghi-chu.rtf", rtf(), &seven, false, false),
            ("ghi-chu.txt", b"ghi chu".to_vec(), &seven, false, false),
            ("cong-van.pdf", pe(), &rule, true, true),
            ("cong-van.pdf", ole2(), &rule, false, true),
            ("bao-cao.docx", docx(), &seven, false, true),
            ("bao-cao.docx", docx(), &rule, false, false),
            ("bao-cao.xlsx", xlsx.clone(), &rule, false, false),
            ("bao-cao.xlsx", xlsx, &seven, false, true),
            ("bang-luong.xls", ole2(), &rule, false, false),
            ("bang-luong.xls", ole2(), &seven, false, true),
            ("trinh-chieu.ppt", ole2(), &rule, false, false),
            ("anh.png", png.clone(), &seven, false, true),
            ("anh.png", png, &rule, false, false),
            ("scan.tif", b"II*\0\x08\0\0\0".to_vec(), &rule, false, false),
            ("run.sh", b"#!/bin/sh\n".to_vec(), &rule, true, true),
            ("readme.txt", b"#!/usr/bin/python\n".to_vec(), &rule, true, true),
            ("hello.vbs", b"MsgBox 1".to_vec(), &rule, true, true),
            (
                "tai-lieu.zip",
                zip(&[("a.pdf", &pdf(), true)]),
                &seven,
                false,
                true,
            ),
            (
                "tai-lieu.zip",
                zip(&[("a.pdf", &pdf(), true)]),
                &rule,
                false,
                false,
            ),
            ("tai-lieu.zip", nested_ok, &rule, false, false),
            ("tai-lieu.zip", nested_exe.clone(), &rule, true, true),
            ("tai-lieu.zip", nested_exe, &seven, true, true),
            ("tai-lieu.zip", deep, &rule, true, false),
            // Containers are opened whatever they claim to be.
            ("bao-cao.odt", odt_with_exe, &rule, true, false),
            ("bao-cao.docx", docx_with_script, &rule, true, false),
            // Archives that cannot be opened, by content or by name.
            ("tai-lieu.7z", seven_zip.clone(), &rule, true, true),
            ("cong-van.pdf", seven_zip, &rule, true, true),
            ("cong-van.pdf", rar, &rule, true, true),
            ("dia.iso", iso(), &rule, true, true),
            ("cong-van.pdf", iso(), &rule, true, true),
            ("tai-lieu.zip", encrypted_zip(), &rule, true, false),
            ("ban-sao.rar", pdf(), &rule, true, true),
            // Names as Windows saves them.
            ("run.vbs.", b"MsgBox 1".to_vec(), &rule, true, true),
            ("run.vbs . .", b"MsgBox 1".to_vec(), &rule, true, true),
            ("run.vbs::$DATA", b"MsgBox 1".to_vec(), &rule, true, true),
            ("run.vbs:zone", b"MsgBox 1".to_vec(), &rule, true, true),
            ("run.vb\u{200B}s", b"MsgBox 1".to_vec(), &rule, true, true),
            ("hoa-don\u{202E}fdp.vbs", b"MsgBox 1".to_vec(), &rule, true, true),
            (
                "run.\u{FF56}\u{FF42}\u{FF53}",
                b"MsgBox 1".to_vec(),
                &rule,
                true,
                true,
            ),
            ("run.\u{0435}x\u{0435}", b"hello".to_vec(), &rule, true, true),
            ("Báo cáo quý 3.pdf", pdf(), &rule, false, false),
        ];
        for (name, data, rule, dangerous, format) in cases {
            let report = check(name, &data, rule);
            assert_eq!(report.dangerous.is_some(), dangerous, "{name}: {report:?}");
            assert_eq!(report.format.is_some(), format, "{name}: {report:?}");
        }
    }

    #[test]
    fn names_as_saved() {
        for (sent, saved) in [
            ("run.vbs.", "run.vbs"),
            ("run.vbs::$DATA", "run.vbs"),
            ("C:\\Users\\a\\run.exe", "run.exe"),
            ("x\u{202E}gpj.exe", "xgpj.exe"),
            ("Báo cáo.pdf", "Báo cáo.pdf"),
        ] {
            assert_eq!(file_name(sent), saved, "{sent:?}");
        }
    }

    #[test]
    fn zip_bombs_and_damage_are_bounded() {
        let rule = FormatsRule {
            max_zip_bytes: 1000,
            ..FormatsRule::default()
        };
        let bomb = zip(&[("big.txt", &vec![b'a'; 100_000], true)]);
        let report = check("bomb.zip", &bomb, &rule);
        assert!(
            matches!(report.dangerous, Some(Problem::Archive { .. })),
            "{report:?}"
        );
        // A declared size that lies: the inflated data is cut at it, and refused.
        let mut liar = bomb.clone();
        let declared = 100_000u32.to_le_bytes();
        for at in 0..liar.len() - 4 {
            if liar[at..at + 4] == declared {
                liar[at..at + 4].copy_from_slice(&10u32.to_le_bytes());
            }
        }
        let report = check("lie.zip", &liar, &FormatsRule::default());
        assert!(
            matches!(
                report.dangerous,
                Some(Problem::Archive {
                    why: "entry inflates past its declared size",
                    ..
                })
            ),
            "{report:?}"
        );
        let mut damaged = zip(&[("a.txt", b"hello", true)]);
        let len = damaged.len();
        damaged[len - 6] = 0xff; // central directory offset now points nowhere
        assert!(check("x.zip", &damaged, &rule).dangerous.is_some());
        for cut in 0..bomb.len() {
            let _ = check("cut.zip", &bomb[..cut], &rule);
        }
    }
}
