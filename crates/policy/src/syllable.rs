//! A model of the Vietnamese syllable, with and without tone marks.
//!
//! Vietnamese is written one syllable per word: an optional initial consonant cluster,
//! then a rhyme (optional medial `o`/`u`, a vowel nucleus, an optional final consonant or
//! glide). The inventory is small and closed, so "is this a possible Vietnamese
//! syllable?" is answered exactly from two tables — no dictionary, no model file. Most
//! English words fail it (`meeting`, `for`, `report`: clusters and finals Vietnamese
//! does not have); the short ones that pass (`the`, `can`, `do`) are handled by the
//! subject classifier, which weighs them as ambiguous.
//!
//! Words are folded first (tone and vowel marks dropped, `đ` → `d`), so the tables are
//! in folded form and the same test serves accented and unaccented text.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Initial consonants, longest first so that `ngh` is tried before `ng` and `n`.
const INITIALS: [&str; 27] = [
    "ngh", "ng", "gh", "gi", "kh", "nh", "ph", "th", "tr", "ch", "qu", "b", "c", "d", "g", "h", "k", "l",
    "m", "n", "p", "r", "s", "t", "v", "x", "",
];

/// Every rhyme in folded form (ă/â → a, ê → e, ô/ơ → o, ư → u; tones dropped).
const RHYMES: [&str; 123] = [
    // open and glide-final rhymes
    "a", "e", "i", "o", "u", "y", "ai", "ao", "au", "ay", "eo", "eu", "ia", "iu", "oa", "oe", "oi", "ua",
    "ue", "ui", "uu", "uy", "oai", "oay", "oao", "oeo", "uay", "uoi", "uou", "uya", "uyu", "ieu", "yeu",
    "uao", "ya", // a
    "ac", "ach", "am", "an", "ang", "anh", "ap", "at", // e (e, ê)
    "ec", "ech", "em", "en", "eng", "enh", "ep", "et", // i
    "ich", "im", "in", "inh", "ip", "it", "ic", // o (o, ô, ơ), oo
    "oc", "om", "on", "ong", "op", "ot", "ooc", "oong", // u (u, ư)
    "uc", "um", "un", "ung", "up", "ut", // y
    "ym", "yn", "ynh", "yt", // ie / ye (iê / yê)
    "iec", "iem", "ien", "ieng", "iep", "iet", "yem", "yen", "yet", // uo (uô / ươ)
    "uoc", "uom", "uon", "uong", "uop", "uot", // oa (medial o + a / ă)
    "oac", "oach", "oam", "oan", "oang", "oanh", "oap", "oat", // oe (medial o + e)
    "oec", "oem", "oen", "oet", "oeng", // medial u + a / â / ê / y
    "uac", "uach", "uan", "uang", "uanh", "uat", "uec", "uech", "uen", "uenh", "uet", "uyen", "uyet", "uynh",
    "uych", "uyt", "uyn", "uam", "uap",
];

/// Folds one word: NFD, tone and vowel marks dropped, `đ` → `d`, ASCII lower case
/// (the same folding as addresses, `naming::fold_letters`).
pub fn fold_word(word: &str) -> String {
    crate::naming::fold_letters(word).collect()
}

/// True when `word` (accented or not) can be one Vietnamese syllable.
pub fn is_syllable(word: &str) -> bool {
    let folded = fold_word(word);
    if folded.is_empty() || !folded.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    INITIALS.iter().any(|initial| {
        folded.strip_prefix(initial).is_some_and(|rhyme| {
            // `gi` and `qu` carry their vowel: `gi` alone is a word, and so is `gin` (g+in).
            (rhyme.is_empty() && *initial == "gi") || RHYMES.contains(&rhyme)
        })
    })
}

/// True when `c` is a letter only Vietnamese uses among Latin scripts (ă â đ ê ô ơ ư) or
/// carries a Vietnamese tone mark (including the hook above and dot below, which no
/// other major Latin orthography uses).
pub fn is_vietnamese_letter(c: char) -> bool {
    if matches!(c, 'đ' | 'Đ') {
        return true;
    }
    let mut marks = c.to_string().nfd().skip(1).collect::<Vec<_>>();
    marks.retain(|m| is_combining_mark(*m));
    // U+0309 hook above, U+0323 dot below, U+031B horn, U+0306 breve are distinctive;
    // circumflex, grave, acute and tilde also occur in French or Portuguese, but never
    // stacked two on one letter as in `ấ`.
    marks
        .iter()
        .any(|m| matches!(m, '\u{0309}' | '\u{0323}' | '\u{031B}' | '\u{0306}'))
        || marks.len() > 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllable_table() {
        let yes = [
            "thong", "bao", "lich", "hop", "nghiep", "nguyen", "quyet", "dinh", "truong", "giay", "gi",
            "khuya", "xoong", "ruou", "chuyen", "huynh", "nghia", "viet", "Thông", "Quyết", "định", "Nguyễn",
            "oanh", "uy", "khuech", "ke", "hoach", "trien", "khai", "tuan", "Đoàn", "yeu", "ien",
        ];
        let no = [
            "meeting",
            "invitation",
            "for",
            "monday",
            "report",
            "budget",
            "please",
            "review",
            "thanks",
            "update",
            "week",
            "team",
            "info",
            "plan",
            "check",
            "project",
            "hello",
            "x",
            "abc1",
            "",
            "strong",
            "bus",
            "dog",
        ];
        for w in yes {
            assert!(is_syllable(w), "{w} should be a syllable");
        }
        for w in no {
            assert!(!is_syllable(w), "{w} should not be a syllable");
        }
    }

    #[test]
    fn vietnamese_letters() {
        for c in ['ả', 'ạ', 'ơ', 'ư', 'ă', 'đ', 'Đ', 'ệ', 'ố', 'Ậ'] {
            assert!(is_vietnamese_letter(c), "{c}");
        }
        for c in ['a', 'é', 'à', 'ü', 'ç', 'ê', 'ô', 'ñ'] {
            assert!(!is_vietnamese_letter(c), "{c}");
        }
    }
}
