//! Text as a person reads it: what the classified-stamp rule and the file-name checks
//! compare, so that a stamp or an extension cannot hide behind characters that render
//! the same or not at all.
//!
//! [`as_read`], in order:
//! 1. NFKC (UAX #15): fullwidth `ＭẬＴ`, ligatures and other compatibility forms become
//!    their ordinary letters;
//! 2. invisible characters removed: format characters (zero-width space, joiners, soft
//!    hyphen, bidi marks and embeddings such as RTLO, word joiner, BOM) and the other
//!    default-ignorable code points (variation selectors, Hangul fillers, tags);
//! 3. look-alike letters replaced by their Latin prototype (UTS #39 confusables, by
//!    `unicode-security`): Cyrillic `МАТ`, Greek `ΤΟΙ`, mathematical and other styled
//!    letters. Only characters outside Latin are mapped, one at a time, and only to
//!    ASCII letters or digits: Vietnamese letters (`ậ`, `đ`, `ư`) and their combining
//!    marks are kept as written, so the accent folding of the stamp rule still sees
//!    `MẬT` as accented and `mật khẩu` as an ordinary word.
//! 4. NFC again, so a Cyrillic base with Vietnamese combining marks composes as a
//!    Vietnamese letter would.
//!
//! Invariant: text made only of Latin letters (ASCII, Latin-1, Latin Extended-A/B and
//! Additional, where every Vietnamese letter is), Latin-1 signs except the soft hyphen,
//! combining diacritics and general punctuation (dashes, quotes) is returned unchanged and unallocated (most mail). The few
//! compatibility characters in those blocks (`ſ`, `Ǆ`, `…`) are then not folded: none
//! spells a stamp or an extension.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Default-ignorable code points (Unicode `DerivedCoreProperties.txt`), which render as
/// nothing: removed before any comparison.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Latin letters as written: ASCII, Latin-1 Supplement, Latin Extended-A/B and Latin
/// Extended Additional (every precomposed Vietnamese letter is in one of these).
fn is_latin(c: char) -> bool {
    c.is_ascii() || matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}')
}

/// The Latin letter or digit `c` is mistaken for, if it is one (UTS #39 skeleton of the
/// single character).
fn latin_prototype(c: char) -> Option<char> {
    let mut buffer = [0u8; 4];
    let mut skeleton = unicode_security::skeleton(c.encode_utf8(&mut buffer));
    let first = skeleton.next()?;
    if skeleton.next().is_some() || !first.is_ascii_alphanumeric() {
        return None;
    }
    // The prototype of `I` and its look-alikes (Cyrillic `І`, Greek `Ι`) is `l`: a
    // capital stays a capital for the stamp rule, which reads case.
    Some(if first == 'l' && c.is_uppercase() {
        'I'
    } else {
        first
    })
}

/// `text` as a reader sees it (see the module documentation).
pub fn as_read(text: &str) -> Cow<'_, str> {
    // Latin letters and the combining diacritics (U+0300–U+036F) read as written: most
    // Vietnamese text is returned as it is, without normalising (a 10 KB body: ~10 µs
    // instead of ~600).
    let as_written = |c: char| {
        is_latin(c)
            || matches!(c, '\u{00A0}'..='\u{00AC}' | '\u{00AE}'..='\u{00BF}')
            || matches!(c, '\u{0300}'..='\u{036F}' | '\u{2010}'..='\u{2027}')
    };
    if text.chars().all(as_written) {
        return Cow::Borrowed(text);
    }
    let mut mapped = String::with_capacity(text.len());
    for c in text.nfkc().filter(|c| !is_invisible(*c)) {
        unicode_normalization::char::decompose_canonical(c, |d| {
            mapped.push(if is_combining_mark(d) || is_latin(d) {
                d
            } else {
                latin_prototype(d).unwrap_or(d)
            });
        });
    }
    Cow::Owned(mapped.nfc().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_table() {
        let cases = [
            ("MẬT", "MẬT"),
            ("M\u{200B}Ậ\u{200B}T", "MẬT"),
            ("T\u{00AD}Ố\u{200D}I M\u{2060}ẬT", "TỐI MẬT"),
            ("ＭẬＴ", "MẬT"),
            ("ＴＵＹỆＴ ＭẬＴ", "TUYỆT MẬT"),
            // Cyrillic Т, О, І, М, А; the Vietnamese marks composed on the prototypes.
            (
                "\u{0422}\u{041E}\u{0406} \u{041C}\u{0410}\u{0323}\u{0302}\u{0422}",
                "TOI MẬT",
            ),
            // Greek capitals, mathematical bold.
            ("\u{039C}\u{0391}\u{03A4}", "MAT"),
            ("\u{1D40C}\u{1D400}\u{1D413}", "MAT"),
            ("a\u{202E}txt.exe", "atxt.exe"),
            (
                "Cộng hoà xã hội chủ nghĩa Việt Nam",
                "Cộng hoà xã hội chủ nghĩa Việt Nam",
            ),
            ("Đường Lê Lợi, phường Điện Biên", "Đường Lê Lợi, phường Điện Biên"),
            ("plain ascii", "plain ascii"),
        ];
        for (text, expected) in cases {
            assert_eq!(as_read(text), expected, "{text:?}");
        }
        // Decomposed Vietnamese is kept as written (callers compose it where they
        // compare); with a look-alike letter it is composed.
        let nfd: String = "Thông báo mật khẩu".nfd().collect();
        assert_eq!(as_read(&nfd), nfd);
        let cyrillic: String = "\u{0422}hông báo".nfd().collect();
        assert_eq!(as_read(&cyrillic), "Thông báo");
    }
}
