//! Art. 6.2 (TCVN 6909:2001): legacy Vietnamese encodings — detection and conversion
//! to Unicode NFC, with our own tables.
//!
//! - **TCVN3 (ABC, TCVN 5712:1993 VN3)**: one byte per letter, toned vowels at
//!   0xA1–0xFE. Mail clients label it ISO-8859-1 or windows-1252, so it reaches us as
//!   Latin-1 characters: `Céng hoµ` is `Cộng hoà`.
//! - **VNI (VNI-Windows)**: a base letter followed by a mark byte: `Coäng hoøa`.
//! - **VIQR (RFC 1456)**: ASCII marks after the vowel: `Co^.ng ho`a`.
//!
//! Latin-1 text is also what French or German looks like, so detection converts the
//! words carrying the suspicious characters and keeps an encoding only if that turns
//! clearly more of them into possible Vietnamese syllables than they were as written.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::syllable::is_syllable;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legacy {
    Tcvn3,
    Vni,
    Viqr,
}

impl Legacy {
    pub fn as_str(self) -> &'static str {
        match self {
            Legacy::Tcvn3 => "TCVN3",
            Legacy::Vni => "VNI",
            Legacy::Viqr => "VIQR",
        }
    }
}

impl fmt::Display for Legacy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// TCVN3 bytes 0xA1..=0xFE (as the Latin-1 characters they arrive as) → Unicode.
/// `None` where TCVN3 leaves the byte to Latin-1 punctuation.
const TCVN3: [Option<char>; 94] = {
    let mut t = [None; 94];
    let pairs: [(u8, char); 74] = [
        (0xA1, 'Ă'),
        (0xA2, 'Â'),
        (0xA3, 'Ê'),
        (0xA4, 'Ô'),
        (0xA5, 'Ơ'),
        (0xA6, 'Ư'),
        (0xA7, 'Đ'),
        (0xA8, 'ă'),
        (0xA9, 'â'),
        (0xAA, 'ê'),
        (0xAB, 'ô'),
        (0xAC, 'ơ'),
        (0xAD, 'ư'),
        (0xAE, 'đ'),
        (0xB5, 'à'),
        (0xB6, 'ả'),
        (0xB7, 'ã'),
        (0xB8, 'á'),
        (0xB9, 'ạ'),
        (0xBB, 'ằ'),
        (0xBC, 'ẳ'),
        (0xBD, 'ẵ'),
        (0xBE, 'ắ'),
        (0xC6, 'ặ'),
        (0xC7, 'ầ'),
        (0xC8, 'ẩ'),
        (0xC9, 'ẫ'),
        (0xCA, 'ấ'),
        (0xCB, 'ậ'),
        (0xCC, 'è'),
        (0xCE, 'ẻ'),
        (0xCF, 'ẽ'),
        (0xD0, 'é'),
        (0xD1, 'ẹ'),
        (0xD2, 'ề'),
        (0xD3, 'ể'),
        (0xD4, 'ễ'),
        (0xD5, 'ế'),
        (0xD6, 'ệ'),
        (0xD7, 'ì'),
        (0xD8, 'ỉ'),
        (0xDC, 'ĩ'),
        (0xDD, 'í'),
        (0xDE, 'ị'),
        (0xDF, 'ò'),
        (0xE1, 'ỏ'),
        (0xE2, 'õ'),
        (0xE3, 'ó'),
        (0xE4, 'ọ'),
        (0xE5, 'ồ'),
        (0xE6, 'ổ'),
        (0xE7, 'ỗ'),
        (0xE8, 'ố'),
        (0xE9, 'ộ'),
        (0xEA, 'ờ'),
        (0xEB, 'ở'),
        (0xEC, 'ỡ'),
        (0xED, 'ớ'),
        (0xEE, 'ợ'),
        (0xEF, 'ù'),
        (0xF1, 'ủ'),
        (0xF2, 'ũ'),
        (0xF3, 'ú'),
        (0xF4, 'ụ'),
        (0xF5, 'ừ'),
        (0xF6, 'ử'),
        (0xF7, 'ữ'),
        (0xF8, 'ứ'),
        (0xF9, 'ự'),
        (0xFA, 'ỳ'),
        (0xFB, 'ỷ'),
        (0xFC, 'ỹ'),
        (0xFD, 'ý'),
        (0xFE, 'ỵ'),
    ];
    let mut i = 0;
    while i < pairs.len() {
        t[(pairs[i].0 - 0xA1) as usize] = Some(pairs[i].1);
        i += 1;
    }
    t
};

fn tcvn3_char(c: char) -> Option<char> {
    let code = u32::from(c);
    if (0xA1..=0xFE).contains(&code) {
        TCVN3[(code - 0xA1) as usize]
    } else {
        None
    }
}

const GRAVE: char = '\u{0300}';
const ACUTE: char = '\u{0301}';
const CIRCUMFLEX: char = '\u{0302}';
const TILDE: char = '\u{0303}';
const BREVE: char = '\u{0306}';
const HOOK: char = '\u{0309}';
const HORN: char = '\u{031B}';
const DOT: char = '\u{0323}';

/// A VNI mark byte (lower-case form) → the combining marks it stands for, and whether
/// it needs a base `a` (breve), `a`/`e`/`o` (circumflex) or any vowel (tone only).
fn vni_mark(c: char) -> Option<(&'static [char], &'static str)> {
    Some(match c.to_lowercase().next()? {
        'ø' => (&[GRAVE], "aeiouyơư"),
        'ù' => (&[ACUTE], "aeiouyơư"),
        'û' => (&[HOOK], "aeiouyơư"),
        'õ' => (&[TILDE], "aeiouyơư"),
        'ï' => (&[DOT], "aeiouyơư"),
        'â' => (&[CIRCUMFLEX], "aeo"),
        'à' => (&[CIRCUMFLEX, GRAVE], "aeo"),
        'á' => (&[CIRCUMFLEX, ACUTE], "aeo"),
        'å' => (&[CIRCUMFLEX, HOOK], "aeo"),
        'ã' => (&[CIRCUMFLEX, TILDE], "aeo"),
        'ä' => (&[CIRCUMFLEX, DOT], "aeo"),
        'ê' => (&[BREVE], "a"),
        'è' => (&[BREVE, GRAVE], "a"),
        'é' => (&[BREVE, ACUTE], "a"),
        'ú' => (&[BREVE, HOOK], "a"),
        'ü' => (&[BREVE, TILDE], "a"),
        'ë' => (&[BREVE, DOT], "a"),
        _ => return None,
    })
}

/// VNI letters that stand alone: ơ ư đ and the i/y forms.
fn vni_letter(c: char) -> Option<char> {
    Some(match c {
        'ô' => 'ơ',
        'Ô' => 'Ơ',
        'ö' => 'ư',
        'Ö' => 'Ư',
        'ñ' => 'đ',
        'Ñ' => 'Đ',
        'æ' => 'ỉ',
        'Æ' => 'Ỉ',
        'ó' => 'ĩ',
        'Ó' => 'Ĩ',
        'ò' => 'ị',
        'Ò' => 'Ị',
        'î' => 'ỵ',
        'Î' => 'Ỵ',
        _ => return None,
    })
}

fn convert_tcvn3(text: &str) -> String {
    text.chars()
        .map(|c| tcvn3_char(c).unwrap_or(c))
        .collect::<String>()
        .nfc()
        .collect()
}

fn convert_vni(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let base = vni_letter(c).unwrap_or(c);
        out.push(base);
        let lower = base.to_lowercase().next().unwrap_or(base);
        if let Some(&next) = chars.peek()
            && let Some((marks, bases)) = vni_mark(next)
            && bases.contains(lower)
        {
            out.extend(marks.iter());
            chars.next();
        }
    }
    out.nfc().collect()
}

fn viqr_modifier(base: char, m: char) -> Option<char> {
    match (base.to_ascii_lowercase(), m) {
        ('a' | 'e' | 'o', '^') => Some(CIRCUMFLEX),
        ('a', '(') => Some(BREVE),
        ('o' | 'u', '+') => Some(HORN),
        _ => None,
    }
}

fn viqr_tone(m: char) -> Option<char> {
    Some(match m {
        '`' => GRAVE,
        '\'' => ACUTE,
        '?' => HOOK,
        '~' => TILDE,
        '.' => DOT,
        _ => return None,
    })
}

fn convert_viqr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        let word_start = i == 1 || chars.get(i.wrapping_sub(2)).is_none_or(|p| !p.is_alphanumeric());
        if matches!(c, 'd' | 'D') && word_start && chars.get(i).is_some_and(|n| n.eq_ignore_ascii_case(&'d'))
        {
            out.push(if c == 'D' { 'Đ' } else { 'đ' });
            i += 1;
            continue;
        }
        out.push(c);
        if !"aeiouyAEIOUY".contains(c) {
            continue;
        }
        if let Some(m) = chars.get(i).and_then(|&m| viqr_modifier(c, m)) {
            out.push(m);
            i += 1;
        }
        if let Some(t) = chars.get(i).and_then(|&t| viqr_tone(t)) {
            // `.` or `?` before the end, or before a capital, ends a sentence: punctuation.
            // Before a lower-case word (`chu? nghi~a`) it is the tone mark.
            let after = chars.get(i + 1..).unwrap_or_default();
            let continues = match after.first() {
                None => false,
                Some(n) if n.is_whitespace() => after
                    .iter()
                    .find(|n| !n.is_whitespace())
                    .is_some_and(|n| n.is_lowercase()),
                Some(_) => true,
            };
            if continues || !matches!(chars.get(i), Some('.' | '?')) {
                out.push(t);
                i += 1;
            }
        }
    }
    out.nfc().collect()
}

/// Converts `text` from `encoding` to Unicode NFC.
pub fn convert(text: &str, encoding: Legacy) -> String {
    match encoding {
        Legacy::Tcvn3 => convert_tcvn3(text),
        Legacy::Vni => convert_vni(text),
        Legacy::Viqr => convert_viqr(text),
    }
}

/// Possible syllables among the words of `text`.
fn syllables(text: &str) -> usize {
    text.split(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
        .filter(|w| is_syllable(w))
        .count()
}

/// Detects a legacy encoding in `text` (as decoded by its declared charset).
pub fn detect(text: &str) -> Option<Legacy> {
    // Real Unicode Vietnamese has letters beyond Latin-1; legacy text never does.
    if text.chars().any(|c| u32::from(c) > 0xFF && c.is_alphabetic()) {
        return None;
    }
    let is_word_char = |c: char| !c.is_whitespace() && !c.is_ascii_punctuation() || "`'?~.^(+".contains(c);
    if text.is_ascii() {
        // VIQR: words with a modifier (^ ( +) or a tone mark followed by more letters.
        let marked: Vec<&str> = text
            .split(|c: char| !is_word_char(c))
            .filter(|w| {
                let b = w.as_bytes();
                b.windows(2).any(|p| {
                    b"aeiouyAEIOUY".contains(&p[0]) && (b"^(+".contains(&p[1]))
                        || b"`'?~.".contains(&p[0]) && p[1].is_ascii_alphabetic()
                })
            })
            .collect();
        let valid = marked
            .iter()
            .filter(|w| {
                convert_viqr(w)
                    .split(|c: char| c.is_ascii_punctuation())
                    .filter(|s| !s.is_empty())
                    .all(is_syllable)
            })
            .count();
        return (valid >= 2 && valid * 10 >= marked.len() * 6).then_some(Legacy::Viqr);
    }
    let suspicious: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
        .filter(|w| !w.is_ascii())
        .collect();
    let as_written = suspicious.iter().filter(|w| is_syllable(w)).count();
    let best = [Legacy::Tcvn3, Legacy::Vni]
        .into_iter()
        .map(|enc| {
            let valid = suspicious
                .iter()
                .filter(|w| syllables(&convert(w, enc)) > 0)
                .count();
            (valid, enc)
        })
        .max_by_key(|(valid, _)| *valid)?;
    let (valid, encoding) = best;
    (valid > as_written && valid * 10 >= suspicious.len() * 6).then_some(encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The national motto and a subject line, as TCVN3 bytes read as Latin-1.
    fn latin1(bytes: &[u8]) -> String {
        bytes.iter().map(|&b| char::from(b)).collect()
    }

    #[test]
    fn tcvn3_samples() {
        let motto = latin1(b"C\xe9ng ho\xb5 x\xb7 h\xe9i ch\xf1 ngh\xdca Vi\xd6t Nam");
        assert_eq!(detect(&motto), Some(Legacy::Tcvn3));
        assert_eq!(
            convert(&motto, Legacy::Tcvn3),
            "Cộng hoà xã hội chủ nghĩa Việt Nam"
        );
        let line = latin1(b"\xa7\xe9c l\xcbp - T\xf9 do - H\xb9nh ph\xf3c");
        assert_eq!(convert(&line, Legacy::Tcvn3), "Độc lập - Tự do - Hạnh phúc");
        let subject = latin1(b"Th\xabng b\xb8o l\xdech h\xe4p");
        assert_eq!(detect(&subject), Some(Legacy::Tcvn3));
        assert_eq!(convert(&subject, Legacy::Tcvn3), "Thông báo lịch họp");
    }

    #[test]
    fn vni_samples() {
        let motto = "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam";
        assert_eq!(detect(motto), Some(Legacy::Vni));
        assert_eq!(convert(motto, Legacy::Vni), "Cộng hòa xã hội chủ nghĩa Việt Nam");
        assert_eq!(
            convert("Ñoäc laäp - Töï do - Haïnh phuùc", Legacy::Vni),
            "Độc lập - Tự do - Hạnh phúc"
        );
        assert_eq!(convert("COÄNG HOØA", Legacy::Vni), "CỘNG HÒA");
        assert_eq!(convert("Thaêng Long, möôøi", Legacy::Vni), "Thăng Long, mười");
    }

    #[test]
    fn viqr_samples() {
        let motto = "Co^.ng ho`a xa~ ho^.i chu? nghi~a Vie^.t Nam";
        assert_eq!(detect(motto), Some(Legacy::Viqr));
        assert_eq!(convert(motto, Legacy::Viqr), "Cộng hòa xã hội chủ nghĩa Việt Nam");
        assert_eq!(convert("DDo^.c la^.p - Tu+. do", Legacy::Viqr), "Độc lập - Tự do");
    }

    #[test]
    fn not_legacy_table() {
        let cases = [
            "Cộng hòa xã hội chủ nghĩa Việt Nam",
            "Cà phê sáng",
            "Réunion à Paris, café crème",
            "Grüße aus München",
            "What? Who? Why. Done.",
            "Meeting at 10 o'clock, isn't it?",
            "Thong bao lich hop",
            "",
        ];
        for text in cases {
            assert_eq!(detect(text), None, "{text}");
        }
    }
}
