//! Address derivation per Art. 3 of Decision 3380/2013/QĐ-UBND.
//!
//! - Names are folded to lower-case ASCII: tone marks (huyền, sắc, hỏi, ngã, nặng) are
//!   dropped; ă, â → a; đ → d; ê → e; ô, ơ → o; ư → u (Art. 3.1). NFC and NFD input
//!   fold identically, because folding first decomposes (NFD) and then drops every
//!   combining mark — precomposed `ấ` and `a` + U+0302 + U+0301 end up the same.
//! - Agency mailbox (Art. 3.2): the abbreviation, or `<sub>.<parent>` for a sub-agency
//!   (`pvhtt.yendinh`).
//! - Personal mailbox (Art. 3.3.a): `<given><family initial><middle initials>.<agency>`.
//!   Vietnamese names are written family name first, given name last, with any number
//!   of middle names between: Nguyễn Anh Tuấn → `tuanna`, Nguyễn Thị Minh Khai →
//!   `khaintm`. A one-word name is used as is.
//! - Collisions (Art. 3.3.b): the regulation leaves the choice to the Provincial Office;
//!   [`alternatives`] proposes a deterministic, explained ranking — see there.

use std::str::FromStr;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::address::{AddressError, LocalPart};
use crate::text::Bilingual;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    #[error("the name contains no letters or digits")]
    NoLetters,
    #[error("invalid agency abbreviation: {0}")]
    Abbreviation(AddressError),
    #[error("an agency abbreviation may not contain '.'; give the parent agency separately")]
    DotInAbbreviation,
    #[error("the derived address {local:?} is not valid: {reason}")]
    Derived { local: String, reason: AddressError },
}

/// Folds a Vietnamese text to lower-case ASCII words separated by single spaces:
/// `"  Nguyễn   Thị-Minh Khai "` → `"nguyen thi minh khai"`.
///
/// Every character that is not an ASCII letter or digit after folding is a separator,
/// so hyphens, punctuation and letters with no ASCII base (`ß`, CJK) split words rather
/// than leaking into an address.
pub fn fold_vietnamese(s: &str) -> String {
    let spaced: String = fold_letters(s)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// NFD, drop combining marks, map the d-with-stroke letters (which have no
/// decomposition), ASCII-lowercase. Non-ASCII characters without an ASCII base pass
/// through unchanged for the caller to judge.
pub(crate) fn fold_letters(s: &str) -> impl Iterator<Item = char> + '_ {
    s.nfd().filter(|c| !is_combining_mark(*c)).map(|c| match c {
        // U+00D0 (Icelandic eth) is what legacy TCVN3/VNI conversions often leave for Đ.
        'đ' | 'Đ' | 'Ð' => 'd',
        c => c.to_ascii_lowercase(),
    })
}

/// An agency abbreviation (or full `sub.parent` abbreviation) as typed by an operator:
/// folded, with whitespace removed, so that `Yên Định` gives `yendinh` as in the
/// regulation's own example; then validated as a local part.
pub fn agency_abbreviation(s: &str) -> Result<LocalPart, NamingError> {
    let folded: String = fold_letters(s).filter(|c| !c.is_whitespace()).collect();
    LocalPart::from_str(&folded).map_err(NamingError::Abbreviation)
}

/// The agency mailbox's local part (Art. 3.2): `abbr`, or `abbr.parent` where `parent`
/// is the parent agency's full abbreviation (itself possibly `sub.parent`).
pub fn agency_local_part(abbr: &str, parent: Option<&str>) -> Result<LocalPart, NamingError> {
    let own = agency_abbreviation(abbr)?;
    if own.as_str().contains('.') {
        return Err(NamingError::DotInAbbreviation);
    }
    match parent {
        None => Ok(own),
        Some(parent) => join(&format!("{own}.{}", agency_abbreviation(parent)?)),
    }
}

/// The personal mailbox's local part (Art. 3.3.a) in the agency whose full
/// abbreviation is `agency_abbr`: `Nguyễn Anh Tuấn`, `sttt` → `tuanna.sttt`.
pub fn personal_local_part(full_name: &str, agency_abbr: &str) -> Result<LocalPart, NamingError> {
    let name = PersonName::parse(full_name)?;
    compose(&name.art3_stem(), "", &agency_abbreviation(agency_abbr)?)
}

/// One proposed local part and why it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub local: LocalPart,
    pub explanation: Bilingual,
}

/// The ranked local parts for a person, for use when the derived one is taken.
///
/// The scheme, in order (a candidate equal to an earlier one is skipped, as is one that
/// would exceed 64 characters):
/// 1. the Art. 3 name: `tuanna.sttt`;
/// 2. middle names spelled out: `tuannanh.sttt` (given + family initial + middle
///    names in full) — tells apart people who differ only in their middle names;
/// 3. family name spelled out: `tuannguyena.sttt` (given + family name in full +
///    middle initials) — keeps the Art. 3 order of the parts;
/// 4. the Art. 3 name numbered from 2: `tuanna2.sttt`, `tuanna3.sttt`, … without end
///    (the iterator is infinite unless the number no longer fits in 64 characters).
///
/// The result depends only on the arguments, so an operator who is shown the list and
/// a later run of the same command agree.
pub fn alternatives(full_name: &str, agency_abbr: &str) -> Result<Alternatives, NamingError> {
    let name = PersonName::parse(full_name)?;
    let agency = agency_abbreviation(agency_abbr)?;
    let stem = name.art3_stem();
    let mut named = vec![Candidate {
        local: compose(&stem, "", &agency)?,
        explanation: Bilingual::new(
            "Tên theo Điều 3 (tên, chữ cái đầu của họ và tên lót)",
            "Art. 3 name (given name, initials of family and middle names)",
        ),
    }];
    let spelled_out = [
        (
            name.middle_spelled_out_stem(),
            Bilingual::new("Viết đầy đủ tên lót", "middle names spelled out"),
        ),
        (
            name.family_spelled_out_stem(),
            Bilingual::new("Viết đầy đủ họ", "family name spelled out"),
        ),
    ];
    for (stem, explanation) in spelled_out {
        if let Ok(local) = compose(&stem, "", &agency)
            && !named.iter().any(|c| c.local == local)
        {
            named.push(Candidate { local, explanation });
        }
    }
    Ok(Alternatives {
        seen: named.iter().map(|c| c.local.clone()).collect(),
        named: named.into_iter(),
        stem,
        agency,
        next_number: Some(2),
    })
}

/// Iterator over [`Candidate`]s; see [`alternatives`].
#[derive(Clone, Debug)]
pub struct Alternatives {
    named: std::vec::IntoIter<Candidate>,
    /// The named candidates' local parts, so a numbered one never repeats one.
    seen: Vec<LocalPart>,
    stem: String,
    agency: LocalPart,
    /// `None` once numbering has run out of room.
    next_number: Option<u64>,
}

impl Iterator for Alternatives {
    type Item = Candidate;

    fn next(&mut self) -> Option<Candidate> {
        if let Some(candidate) = self.named.next() {
            return Some(candidate);
        }
        loop {
            let n = self.next_number?;
            self.next_number = n.checked_add(1);
            // A number that does not fit means no larger one will either: stop.
            let Ok(local) = compose(&self.stem, &n.to_string(), &self.agency) else {
                self.next_number = None;
                return None;
            };
            if !self.seen.contains(&local) {
                return Some(Candidate {
                    local,
                    explanation: Bilingual::new(format!("Thêm số thứ tự {n}"), format!("numbered {n}")),
                });
            }
        }
    }
}

/// A name split per Vietnamese order: family first, given last, middles between.
struct PersonName {
    /// Absent for a one-word name.
    family: Option<String>,
    middles: Vec<String>,
    given: String,
}

impl PersonName {
    fn parse(full_name: &str) -> Result<PersonName, NamingError> {
        let folded = fold_vietnamese(full_name);
        let mut words: Vec<String> = folded
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let given = words.pop().ok_or(NamingError::NoLetters)?;
        let family = (!words.is_empty()).then(|| words.remove(0));
        Ok(PersonName {
            family,
            middles: words,
            given,
        })
    }

    fn family_initial(&self) -> String {
        self.family.iter().map(|f| initial(f)).collect()
    }

    fn middle_initials(&self) -> String {
        self.middles.iter().map(|m| initial(m)).collect()
    }

    fn art3_stem(&self) -> String {
        format!(
            "{}{}{}",
            self.given,
            self.family_initial(),
            self.middle_initials()
        )
    }

    fn middle_spelled_out_stem(&self) -> String {
        format!("{}{}{}", self.given, self.family_initial(), self.middles.concat())
    }

    fn family_spelled_out_stem(&self) -> String {
        format!(
            "{}{}{}",
            self.given,
            self.family.as_deref().unwrap_or(""),
            self.middle_initials()
        )
    }
}

fn initial(word: &str) -> String {
    word.chars().take(1).collect()
}

fn compose(stem: &str, suffix: &str, agency: &LocalPart) -> Result<LocalPart, NamingError> {
    join(&format!("{stem}{suffix}.{agency}"))
}

fn join(local: &str) -> Result<LocalPart, NamingError> {
    LocalPart::from_str(local).map_err(|reason| NamingError::Derived {
        local: local.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every vowel of Vietnamese with each of the six tones, precomposed (NFC).
    const VOWELS_NFC: &str = "aàáảãạ ăằắẳẵặ âầấẩẫậ eèéẻẽẹ êềếểễệ iìíỉĩị \
                              oòóỏõọ ôồốổỗộ ơờớởỡợ uùúủũụ ưừứửữự yỳýỷỹỵ";
    const VOWELS_FOLDED: &str = "aaaaaa aaaaaa aaaaaa eeeeee eeeeee iiiiii \
                                 oooooo oooooo oooooo uuuuuu uuuuuu yyyyyy";

    #[test]
    fn fold_table() {
        let upper = VOWELS_NFC.to_uppercase();
        let cases: &[(&str, &str)] = &[
            (VOWELS_NFC, VOWELS_FOLDED),
            (&upper, VOWELS_FOLDED),
            ("đĐÐ", "ddd"),
            ("Đặng Đức Đạt", "dang duc dat"),
            ("NGUYỄN ANH TUẤN", "nguyen anh tuan"),
            ("  Nguyễn \t  Thị-Minh\nKhai  ", "nguyen thi minh khai"),
            ("Hoà / Hòa", "hoa hoa"),
            ("Phòng 2 (Văn thư)", "phong 2 van thu"),
            ("Straße", "stra e"),
            ("", ""),
            ("— !!", ""),
        ];
        for (input, want) in cases {
            assert_eq!(fold_vietnamese(input), *want, "{input:?}");
        }
    }

    #[test]
    fn nfc_and_nfd_fold_alike() {
        for text in [VOWELS_NFC, "Nguyễn Thị Minh Khai", "Đặng Hữu Ước", "Ngô Bảo Châu"] {
            let nfd: String = text.nfd().collect();
            let nfc: String = text.nfc().collect();
            assert_ne!(nfd, nfc, "{text:?} should differ in NFD and NFC");
            assert_eq!(fold_vietnamese(&nfd), fold_vietnamese(&nfc), "{text:?}");
            assert_eq!(
                personal_local_part(&nfd, "sttt").unwrap(),
                personal_local_part(&nfc, "sttt").unwrap(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn personal_table() {
        let cases: &[(&str, &str, &str)] = &[
            // Art. 3.3.a's own example; one middle name.
            ("Nguyễn Anh Tuấn", "sttt", "tuanna.sttt"),
            // Two middle names.
            ("Nguyễn Thị Minh Khai", "sttt", "khaintm.sttt"),
            // Three middle names.
            ("Tôn Nữ Thị Ngọc Hạnh", "sttt", "hanhtntn.sttt"),
            // No middle name.
            ("Lê Lợi", "sttt", "loil.sttt"),
            // One word.
            ("Tuấn", "sttt", "tuan.sttt"),
            ("Đặng Đức Đạt", "sttt", "datdd.sttt"),
            ("Ưng Hoàng Phúc", "sttt", "phucuh.sttt"),
            ("Ông Ích Khiêm", "sttt", "khiemoi.sttt"),
            ("NGUYỄN ANH TUẤN", "STTT", "tuanna.sttt"),
            ("   Nguyễn   Anh\tTuấn  ", "sttt", "tuanna.sttt"),
            ("Nguyễn-Anh Tuấn", "sttt", "tuanna.sttt"),
            ("Nguyễn Anh Tuấn", "pvhtt.yendinh", "tuanna.pvhtt.yendinh"),
            ("Nguyễn Anh Tuấn", "Yên Định", "tuanna.yendinh"),
        ];
        for (name, agency, want) in cases {
            assert_eq!(
                personal_local_part(name, agency)
                    .map(|l| l.to_string())
                    .as_deref(),
                Ok(*want),
                "{name:?} at {agency:?}"
            );
        }
    }

    #[test]
    fn personal_errors() {
        let long_given = format!("Nguyễn {}", "a".repeat(60));
        let cases: &[(&str, &str, NamingError)] = &[
            ("", "sttt", NamingError::NoLetters),
            ("   ", "sttt", NamingError::NoLetters),
            ("— !!", "sttt", NamingError::NoLetters),
            (
                "Nguyễn Anh Tuấn",
                "",
                NamingError::Abbreviation(AddressError::EmptyLocalPart),
            ),
            (
                "Nguyễn Anh Tuấn",
                "a..b",
                NamingError::Abbreviation(AddressError::LocalPartDots),
            ),
            (
                "Nguyễn Anh Tuấn",
                "s+t",
                NamingError::Abbreviation(AddressError::LocalPartChar('+')),
            ),
            (
                &long_given,
                "sttt",
                NamingError::Derived {
                    local: format!("{}n.sttt", "a".repeat(60)),
                    reason: AddressError::LocalPartTooLong,
                },
            ),
        ];
        for (name, agency, want) in cases {
            assert_eq!(
                personal_local_part(name, agency).as_ref(),
                Err(want),
                "{name:?} at {agency:?}"
            );
            assert_eq!(
                alternatives(name, agency).err().as_ref(),
                Some(want),
                "{name:?} at {agency:?}"
            );
        }
    }

    #[test]
    fn agency_table() {
        let cases: &[(&str, Option<&str>, Result<&str, NamingError>)] = &[
            ("sttt", None, Ok("sttt")),
            ("STTT", None, Ok("sttt")),
            ("Yên Định", None, Ok("yendinh")),
            ("pvhtt", Some("yendinh"), Ok("pvhtt.yendinh")),
            ("pvhtt", Some("Yên Định"), Ok("pvhtt.yendinh")),
            ("to1", Some("pvhtt.yendinh"), Ok("to1.pvhtt.yendinh")),
            (
                "",
                None,
                Err(NamingError::Abbreviation(AddressError::EmptyLocalPart)),
            ),
            ("a.b", None, Err(NamingError::DotInAbbreviation)),
            (
                "s&t",
                None,
                Err(NamingError::Abbreviation(AddressError::LocalPartChar('&'))),
            ),
            (
                "pvhtt",
                Some(""),
                Err(NamingError::Abbreviation(AddressError::EmptyLocalPart)),
            ),
            (
                "pvhtt",
                Some(".yendinh"),
                Err(NamingError::Abbreviation(AddressError::LocalPartDots)),
            ),
        ];
        for (abbr, parent, want) in cases {
            let got = agency_local_part(abbr, *parent).map(|l| l.to_string());
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                want.clone(),
                "{abbr:?} under {parent:?}"
            );
        }
    }

    fn first(name: &str, agency: &str, n: usize) -> Vec<String> {
        alternatives(name, agency)
            .unwrap()
            .take(n)
            .map(|c| c.local.to_string())
            .collect()
    }

    #[test]
    fn alternatives_table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Nguyễn Anh Tuấn",
                &[
                    "tuanna.sttt",
                    "tuannanh.sttt",
                    "tuannguyena.sttt",
                    "tuanna2.sttt",
                    "tuanna3.sttt",
                ],
            ),
            (
                "Nguyễn Thị Minh Khai",
                &[
                    "khaintm.sttt",
                    "khainthiminh.sttt",
                    "khainguyentm.sttt",
                    "khaintm2.sttt",
                ],
            ),
            // No middle name: "middle names spelled out" would repeat the Art. 3 name.
            ("Lê Lợi", &["loil.sttt", "loile.sttt", "loil2.sttt", "loil3.sttt"]),
            // A one-letter family name spelled out is the Art. 3 name again.
            ("A Tuấn", &["tuana.sttt", "tuana2.sttt"]),
            ("Tuấn", &["tuan.sttt", "tuan2.sttt", "tuan3.sttt"]),
        ];
        for (name, want) in cases {
            assert_eq!(first(name, "sttt", want.len()), *want, "{name:?}");
        }
    }

    #[test]
    fn alternatives_are_explained_and_first_is_art3() {
        let all: Vec<Candidate> = alternatives("Nguyễn Anh Tuấn", "sttt").unwrap().take(5).collect();
        assert_eq!(
            all[0].local,
            personal_local_part("Nguyễn Anh Tuấn", "sttt").unwrap()
        );
        for c in &all {
            assert!(
                !c.explanation.vi.is_empty() && !c.explanation.en.is_empty(),
                "{c:?}"
            );
        }
        assert_eq!(all[3].explanation.to_string(), "Thêm số thứ tự 2 / numbered 2");
    }

    #[test]
    fn alternatives_are_deterministic_and_distinct() {
        let a = first("Nguyễn Thị Minh Khai", "pvhtt.yendinh", 200);
        let b = first("Nguyễn Thị Minh Khai", "pvhtt.yendinh", 200);
        assert_eq!(a, b);
        let mut unique = a.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), a.len());
        assert_eq!(a[199], "khaintm198.pvhtt.yendinh");
    }

    #[test]
    fn alternatives_end_when_numbers_no_longer_fit() {
        // "aaa…a" + "n" + ".sttt" is exactly 64 characters: only the named forms fit.
        let name = format!("Nguyễn {}", "a".repeat(58));
        let all: Vec<String> = alternatives(&name, "sttt")
            .unwrap()
            .map(|c| c.local.to_string())
            .collect();
        assert_eq!(all, [format!("{}n.sttt", "a".repeat(58))]);
    }
}
