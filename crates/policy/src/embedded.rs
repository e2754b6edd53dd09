//! Files written inside a text body by the pre-MIME encodings that mail clients still
//! decode and offer as attachments: uuencode (`begin 644 name` … `end`, and
//! `begin-base64`), BinHex 4.0 (`(This file must be converted with BinHex 4.0)` then
//! `:…:`) and yEnc (`=ybegin … name=` … `=yend`). Each file found is checked by name and
//! content like any attachment.
//!
//! Invariants: every block is decoded at most once, its output charged to the message's
//! [`Budget`] (one entry, its bytes) before it is kept, so a body cannot expand past the
//! budget; a block that is cut off yields what was decoded so far (a client would offer
//! that too).

use base64::Engine;
use memchr::memmem;

use crate::formats::Budget;

/// A file decoded from a text body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbeddedFile {
    pub encoding: &'static str,
    pub name: Option<String>,
    pub data: Vec<u8>,
}

/// The message's inspection budget is exhausted: the rest cannot be checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("files encoded in the text exceed the message's inspection budget")]
pub struct OverBudget;

/// Lines of `text` from byte offset `at` on, without their line breaks.
fn lines_from(text: &[u8], at: usize) -> impl Iterator<Item = &[u8]> {
    text.get(at..)
        .unwrap_or_default()
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
}

/// Offsets where a line starts with `marker`.
fn line_starts<'t>(text: &'t [u8], marker: &'t [u8]) -> impl Iterator<Item = usize> + 't {
    memmem::find_iter(text, marker).filter(move |&at| at == 0 || text.get(at - 1) == Some(&b'\n'))
}

/// Every uuencoded, BinHex and yEnc file in `text`.
pub fn files(text: &[u8], budget: &mut Budget) -> Result<Vec<EmbeddedFile>, OverBudget> {
    let mut found = Vec::new();
    let keep = |file: EmbeddedFile, found: &mut Vec<EmbeddedFile>, budget: &mut Budget| {
        if !budget.take_entry() || !budget.take_bytes(file.data.len() as u64) {
            return Err(OverBudget);
        }
        found.push(file);
        Ok(())
    };
    for at in line_starts(text, b"begin") {
        if let Some(file) = uudecode(text, at) {
            keep(file, &mut found, budget)?;
        }
    }
    for at in line_starts(text, b"=ybegin ") {
        if let Some(file) = ydecode(text, at) {
            keep(file, &mut found, budget)?;
        }
    }
    if let Some(at) = memmem::find(text, b"(This file must be converted with BinHex")
        && let Some(file) = binhex(text, at, budget.bytes)?
    {
        keep(file, &mut found, budget)?;
    }
    Ok(found)
}

/// `begin <octal mode> <name>` (POSIX uuencode): lines whose first character gives the
/// byte count, four characters per three bytes, `(c - 32) & 63`; `begin-base64` is the
/// same header with base64 lines up to `====`.
fn uudecode(text: &[u8], at: usize) -> Option<EmbeddedFile> {
    let mut lines = lines_from(text, at);
    let header = std::str::from_utf8(lines.next()?).ok()?;
    let (base64, rest) = match header.strip_prefix("begin-base64 ") {
        Some(rest) => (true, rest),
        None => (false, header.strip_prefix("begin ")?),
    };
    let (mode, name) = rest.trim_start().split_once(' ')?;
    if !(3..=4).contains(&mode.len()) || !mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
    let mut data = Vec::new();
    if base64 {
        let mut encoded = Vec::new();
        for line in lines.take_while(|l| *l != b"====") {
            encoded.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
        }
        let engine = base64::engine::general_purpose::STANDARD;
        data = engine.decode(&encoded).ok()?;
    } else {
        for line in lines {
            let Some((&count, chars)) = line.split_first() else {
                break;
            };
            let count = usize::from(count.wrapping_sub(b' ') & 63);
            if count == 0 || line == b"end" {
                break;
            }
            let mut bytes = Vec::with_capacity(count + 2);
            for quad in chars.chunks(4) {
                let v = |i: usize| u32::from(quad.get(i).copied().unwrap_or(b' ').wrapping_sub(b' ') & 63);
                let word = (v(0) << 18) | (v(1) << 12) | (v(2) << 6) | v(3);
                bytes.extend_from_slice(&word.to_be_bytes()[1..]);
            }
            bytes.truncate(count);
            data.extend_from_slice(&bytes);
        }
    }
    Some(EmbeddedFile {
        encoding: "uuencode",
        name,
        data,
    })
}

/// yEnc 1.3: `=ybegin line=… size=… name=<rest of line>`, an optional `=ypart` line,
/// data lines where each byte is `b - 42` and `=` escapes the next (`b - 106`), up to
/// `=yend`.
fn ydecode(text: &[u8], at: usize) -> Option<EmbeddedFile> {
    let mut lines = lines_from(text, at).peekable();
    let header = lines.next()?;
    let name = memmem::find(header, b" name=")
        .and_then(|n| header.get(n + 6..))
        .map(|n| String::from_utf8_lossy(n).trim().to_owned())
        .filter(|n| !n.is_empty());
    if lines.peek().is_some_and(|l| l.starts_with(b"=ypart ")) {
        lines.next();
    }
    let mut data = Vec::new();
    for line in lines {
        if line.starts_with(b"=yend") {
            break;
        }
        let mut bytes = line.iter();
        while let Some(&b) = bytes.next() {
            match b {
                b'=' => match bytes.next() {
                    Some(&escaped) => data.push(escaped.wrapping_sub(106)),
                    None => break,
                },
                _ => data.push(b.wrapping_sub(42)),
            }
        }
    }
    Some(EmbeddedFile {
        encoding: "yEnc",
        name,
        data,
    })
}

/// BinHex 4.0 alphabet: 64 characters, value = position.
const BINHEX: &[u8; 64] = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

/// BinHex 4.0 (RFC 1741): after the notice, the data between two `:`, six bits per
/// character (line breaks ignored), then run-length coded (`0x90 n`: repeat the previous
/// byte to n in all, `0x90 0`: a literal 0x90), then a header (name length, name,
/// version, type, creator, flags, data length, resource length, CRC) and the data fork.
/// Run-length decoding stops with [`OverBudget`] past `max` bytes (it expands up to
/// 127 times).
fn binhex(text: &[u8], at: usize, max: u64) -> Result<Option<EmbeddedFile>, OverBudget> {
    Ok(binhex_within(text, at, max)?.and_then(|plain| binhex_file(&plain)))
}

fn binhex_within(text: &[u8], at: usize, max: u64) -> Result<Option<Vec<u8>>, OverBudget> {
    let Some(packed) = binhex_packed(text, at) else {
        return Ok(None);
    };
    let mut plain = Vec::with_capacity(packed.len());
    let mut bytes = packed.iter();
    let mut previous = None;
    while let Some(&b) = bytes.next() {
        if plain.len() as u64 > max {
            return Err(OverBudget);
        }
        if b == 0x90 {
            match bytes.next() {
                Some(0) => {
                    plain.push(0x90);
                    previous = Some(0x90);
                }
                Some(&n) => {
                    let Some(repeated) = previous else {
                        return Ok(None);
                    };
                    plain.extend(std::iter::repeat_n(repeated, usize::from(n).saturating_sub(1)));
                }
                None => break,
            }
        } else {
            plain.push(b);
            previous = Some(b);
        }
    }
    Ok(Some(plain))
}

/// The six-bit characters between the colons, packed into bytes.
fn binhex_packed(text: &[u8], at: usize) -> Option<Vec<u8>> {
    let rest = text.get(at..)?;
    let start = memchr::memchr(b'\n', rest)? + 1;
    let body = rest.get(start..)?;
    let open = memchr::memchr(b':', body)? + 1;
    let body = body.get(open..)?;
    let close = memchr::memchr(b':', body).unwrap_or(body.len());
    let mut packed = Vec::with_capacity(close / 4 * 3 + 3);
    let (mut bits, mut count) = (0u32, 0u32);
    for &c in body.get(..close)? {
        if c.is_ascii_whitespace() {
            continue;
        }
        let value = BINHEX.iter().position(|&a| a == c)?;
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            packed.push((bits >> count) as u8);
        }
    }
    Some(packed)
}

/// The header and data fork of run-length-decoded BinHex.
fn binhex_file(plain: &[u8]) -> Option<EmbeddedFile> {
    let name_len = usize::from(*plain.first()?);
    let name = plain.get(1..1 + name_len)?;
    let after_name = 1 + name_len + 1 + 4 + 4 + 2;
    let length = plain.get(after_name..after_name + 4)?;
    let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
    let data_start = after_name + 4 + 4 + 2;
    let data = plain
        .get(data_start..data_start.saturating_add(length).min(plain.len()))
        .unwrap_or_default()
        .to_vec();
    Some(EmbeddedFile {
        encoding: "BinHex",
        name: Some(String::from_utf8_lossy(name).into_owned()),
        data,
    })
}

#[cfg(test)]
pub(crate) mod samples {
    //! Encoders for the tests, as the old tools write.

    pub fn uuencode(name: &str, data: &[u8]) -> String {
        let c = |v: u8| if v == 0 { '`' } else { char::from(v + 32) };
        let mut out = format!("begin 644 {name}\n");
        for line in data.chunks(45) {
            out.push(char::from(line.len() as u8 + 32));
            for triple in line.chunks(3) {
                let b = |i: usize| triple.get(i).copied().unwrap_or(0);
                let word = (u32::from(b(0)) << 16) | (u32::from(b(1)) << 8) | u32::from(b(2));
                for shift in [18, 12, 6, 0] {
                    out.push(c(((word >> shift) & 63) as u8));
                }
            }
            out.push('\n');
        }
        out + "`\nend\n"
    }

    pub fn yencode(name: &str, data: &[u8]) -> Vec<u8> {
        let mut out = format!("=ybegin line=128 size={} name={name}\r\n", data.len()).into_bytes();
        for line in data.chunks(128) {
            for &b in line {
                let e = b.wrapping_add(42);
                if matches!(e, 0 | b'\n' | b'\r' | b'=') {
                    out.extend_from_slice(&[b'=', e.wrapping_add(64)]);
                } else {
                    out.push(e);
                }
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("=yend size={}\r\n", data.len()).as_bytes());
        out
    }

    /// BinHex 4.0 without run-length runs (0x90 escaped) and with zero CRCs: what the
    /// checks read is the name and the data fork.
    pub fn binhex(name: &str, data: &[u8]) -> String {
        let mut plain = vec![name.len() as u8];
        plain.extend_from_slice(name.as_bytes());
        plain.push(0);
        plain.extend_from_slice(b"TEXTttxt\0\0");
        plain.extend_from_slice(&(data.len() as u32).to_be_bytes());
        plain.extend_from_slice(&0u32.to_be_bytes());
        plain.extend_from_slice(&[0, 0]);
        plain.extend_from_slice(data);
        plain.extend_from_slice(&[0, 0, 0, 0]);
        let mut packed = Vec::new();
        for b in plain {
            packed.push(b);
            if b == 0x90 {
                packed.push(0);
            }
        }
        let mut out = String::from("(This file must be converted with BinHex 4.0)\n:");
        let (mut bits, mut count) = (0u32, 0u32);
        for b in packed {
            bits = (bits << 8) | u32::from(b);
            count += 8;
            while count >= 6 {
                count -= 6;
                out.push(char::from(super::BINHEX[((bits >> count) & 63) as usize]));
            }
        }
        if count > 0 {
            out.push(char::from(super::BINHEX[((bits << (6 - count)) & 63) as usize]));
        }
        out + ":\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> Budget {
        Budget {
            entries: 10,
            bytes: 1 << 20,
        }
    }

    #[test]
    fn each_encoding_round_trips() {
        let exe: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let uu = samples::uuencode("setup.exe", &exe);
        let b64 = format!(
            "begin-base64 644 run.vbs\n{}\n====\n",
            base64::engine::general_purpose::STANDARD.encode(b"MsgBox 1")
        );
        let mut y = b"Xem tep:\r\n".to_vec();
        y.extend(samples::yencode("tool.exe", &exe));
        let hqx = format!("Kinh gui\n{}", samples::binhex("app.exe", &exe));
        let cases: [(&[u8], &str, &str, &[u8]); 4] = [
            (uu.as_bytes(), "uuencode", "setup.exe", &exe),
            (b64.as_bytes(), "uuencode", "run.vbs", b"MsgBox 1"),
            (&y, "yEnc", "tool.exe", &exe),
            (hqx.as_bytes(), "BinHex", "app.exe", &exe),
        ];
        for (text, encoding, name, data) in cases {
            let found = files(text, &mut budget()).unwrap();
            assert_eq!(found.len(), 1, "{encoding}");
            assert_eq!(found[0].encoding, encoding);
            assert_eq!(found[0].name.as_deref(), Some(name));
            assert_eq!(found[0].data, data, "{encoding}");
        }
    }

    #[test]
    fn ordinary_text_has_no_files_and_cuts_are_safe() {
        let text = "Kính gửi, begin 644 is not at a line start.\nbeginning of a line\nbegin 9x9 name\n";
        assert_eq!(files(text.as_bytes(), &mut budget()), Ok(Vec::new()));
        let uu = samples::uuencode("a.exe", &[7; 300]);
        let hqx = samples::binhex("a.exe", &[0x90; 300]);
        let y = samples::yencode("a.exe", &[7; 300]);
        for text in [uu.as_bytes(), hqx.as_bytes(), &y] {
            for cut in 0..text.len() {
                let _ = files(&text[..cut], &mut budget());
            }
        }
        let mut small = Budget {
            entries: 10,
            bytes: 100,
        };
        assert_eq!(files(uu.as_bytes(), &mut small), Err(OverBudget));
    }
}
