//! Modified UTF-7 (RFC 3501 §5.1.3), the wire form of mailbox names.
//!
//! Printable US-ASCII stands for itself except `&`, written `&-`; any other run of
//! characters is UTF-16BE in base64 with `,` for `/`, no padding, between `&` and `-`.
//! The store keeps names in UTF-8; this module converts at the protocol boundary.
//! Decoding is strict so that every accepted name has exactly one wire form: encoded
//! printable ASCII, non-zero padding bits and unpaired surrogates are refused.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid mailbox name encoding")]
pub struct InvalidMutf7;

/// How a session writes and reads mailbox names: modified UTF-7 until the client
/// sends `ENABLE UTF8=ACCEPT`, plain UTF-8 after (RFC 6855 §3), when `&` is just a
/// character and names go out as UTF-8 quoted strings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NameEncoding {
    #[default]
    ModifiedUtf7,
    Utf8,
}

impl NameEncoding {
    /// A wire name (mailbox or LIST pattern) in the store's UTF-8 spelling.
    pub fn decode(self, wire: &[u8]) -> Result<String, InvalidMutf7> {
        match self {
            // 7-bit names are modified UTF-7; a name with 8-bit bytes is taken as
            // UTF-8, so clients that skip the encoding still reach their folders.
            NameEncoding::ModifiedUtf7 if wire.is_ascii() => decode(wire),
            NameEncoding::ModifiedUtf7 | NameEncoding::Utf8 => {
                let name = std::str::from_utf8(wire).map_err(|_| InvalidMutf7)?;
                // RFC 6855 §3: names are Net-Unicode (RFC 5198), so no controls.
                if name.chars().any(char::is_control) {
                    return Err(InvalidMutf7);
                }
                Ok(name.to_owned())
            }
        }
    }
}

fn is_direct(c: char) -> bool {
    (' '..='~').contains(&c)
}

pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_direct(c) {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut out, &mut pending);
    out
}

fn flush(out: &mut String, units: &mut Vec<u16>) {
    if units.is_empty() {
        return;
    }
    out.push('&');
    let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for s in &sextets[..chunk.len() + 1] {
            out.push(char::from(ALPHABET[*s as usize]));
        }
    }
    out.push('-');
    units.clear();
}

pub fn decode(wire: &[u8]) -> Result<String, InvalidMutf7> {
    let mut out = String::with_capacity(wire.len());
    let mut i = 0;
    while let Some(&b) = wire.get(i) {
        if !(0x20..0x7f).contains(&b) {
            return Err(InvalidMutf7);
        }
        i += 1;
        if b != b'&' {
            out.push(char::from(b));
            continue;
        }
        let end = wire[i..]
            .iter()
            .position(|b| *b == b'-')
            .map(|p| i + p)
            .ok_or(InvalidMutf7)?;
        if end == i {
            out.push('&');
        } else {
            decode_run(&wire[i..end], &mut out)?;
        }
        i = end + 1;
    }
    Ok(out)
}

fn decode_run(run: &[u8], out: &mut String) -> Result<(), InvalidMutf7> {
    let mut bits: u32 = 0;
    let mut nbits = 0u32;
    let mut units: Vec<u16> = Vec::with_capacity(run.len() * 6 / 16);
    for &c in run {
        let value = ALPHABET.iter().position(|a| *a == c).ok_or(InvalidMutf7)? as u32;
        bits = (bits << 6) | value;
        nbits += 6;
        if nbits >= 16 {
            nbits -= 16;
            units.push((bits >> nbits) as u16);
            bits &= (1 << nbits) - 1;
        }
    }
    if nbits >= 6 || bits != 0 || units.is_empty() {
        return Err(InvalidMutf7);
    }
    for c in char::decode_utf16(units) {
        let c = c.map_err(|_| InvalidMutf7)?;
        if is_direct(c) {
            return Err(InvalidMutf7);
        }
        out.push(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let cases = [
            ("INBOX", "INBOX"),
            ("Công văn đến", "C&APQ-ng v&AQM-n &AREevw-n"),
            ("Tom & Jerry", "Tom &- Jerry"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("Entwürfe", "Entw&APw-rfe"),
            ("😀", "&2D3eAA-"),
            ("", ""),
        ];
        for (utf8, wire) in cases {
            assert_eq!(encode(utf8), wire, "encode {utf8}");
            assert_eq!(decode(wire.as_bytes()).as_deref(), Ok(utf8), "decode {wire}");
        }
    }

    #[test]
    fn vietnamese_names_round_trip() {
        for name in [
            "Công văn đến",
            "Công văn đi",
            "Thư nháp",
            "Đã gửi",
            "Sở TT&TT/Phòng Hành chính",
        ] {
            assert_eq!(decode(encode(name).as_bytes()).as_deref(), Ok(name));
        }
    }

    #[test]
    fn utf8_names_are_taken_as_they_are() {
        let utf8 = NameEncoding::Utf8;
        // RFC 6855 §3: after ENABLE UTF8=ACCEPT, `&` is a character, not an escape.
        assert_eq!(utf8.decode(b"Tom &- Jerry").as_deref(), Ok("Tom &- Jerry"));
        assert_eq!(utf8.decode(b"C&APQ-ng").as_deref(), Ok("C&APQ-ng"));
        assert_eq!(utf8.decode("Công văn".as_bytes()).as_deref(), Ok("Công văn"));
        assert_eq!(utf8.decode(b"caf\xe9"), Err(InvalidMutf7));
        assert_eq!(utf8.decode(b"a\tb"), Err(InvalidMutf7));
        let mutf7 = NameEncoding::ModifiedUtf7;
        assert_eq!(mutf7.decode(b"C&APQ-ng").as_deref(), Ok("Công"));
        assert_eq!(mutf7.decode("Công".as_bytes()).as_deref(), Ok("Công"));
        assert_eq!(mutf7.decode(b"Tom & Jerry"), Err(InvalidMutf7));
    }

    #[test]
    fn rejects_invalid() {
        let cases: &[&[u8]] = &[
            b"&",           // unterminated
            b"&AGE",        // unterminated run
            b"&AGE=-",      // '=' is not in the alphabet
            b"&AGF-",       // non-zero padding bits
            b"&AEE-",       // encodes printable 'A'
            b"&2D3-",       // truncated UTF-16 unit
            b"&2D0-",       // lone high surrogate
            b"caf\xc3\xa9", // raw 8-bit
            b"a\tb",        // control character
        ];
        for wire in cases {
            assert_eq!(decode(wire), Err(InvalidMutf7), "{wire:?}");
        }
    }
}
