//! Art. 7: the subject is in Vietnamese.
//!
//! Reply and forward prefixes are stripped first (`Re:`, `Fwd:`, `TL:`, `Chuyển tiếp:`
//! and their unaccented forms, repeated). Then:
//! 1. nothing left → [`SubjectClass::Empty`];
//! 2. words with a Vietnamese letter or stacked tone mark (`ơ`, `ạ`, `ấ`, `đ`, …) are
//!    clear evidence: two of them make the subject Vietnamese; one alone counts as one
//!    Vietnamese word among the others (`Meeting report ở Q3` is English);
//! 3. the other words are judged with the syllable model ([`crate::syllable`]):
//!    words that are possible Vietnamese syllables and not common English words are
//!    evidence for Vietnamese, as are administrative abbreviations (`UBND`, `V/v`);
//!    words that are possible syllables *and* common English words (`the`, `can`)
//!    count only towards the proportion. The subject is Vietnamese when at least one
//!    word is clear evidence and at least half the words are possible syllables — a
//!    deliberate bias to accept, because refusing an official's real Vietnamese is
//!    worse than letting an English subject through.

use unicode_normalization::UnicodeNormalization;

use crate::syllable::{fold_word, is_syllable, is_vietnamese_letter};

/// Prefixes mail clients add, compared in lower case after NFC.
const PREFIXES: [&str; 14] = [
    "re:",
    "fw:",
    "fwd:",
    "tl:",
    "aw:",
    "wg:",
    "sv:",
    "tr:",
    "trả lời:",
    "tra loi:",
    "chuyển tiếp:",
    "chuyen tiep:",
    "chuyển:",
    "fwd :",
];

/// Common English words that are also possible Vietnamese syllables: ambiguous.
const ENGLISH: [&str; 64] = [
    "a", "an", "am", "at", "in", "it", "on", "to", "do", "go", "no", "so", "me", "he", "my", "by", "the",
    "say", "may", "day", "pay", "top", "hot", "not", "can", "get", "set", "let", "net", "yet", "met", "ten",
    "men", "him", "got", "but", "put", "cut", "sun", "run", "chat", "buy", "guy", "oh", "hi", "bye", "via",
    "man", "tip", "bit", "hit", "sit", "map", "pin", "cap", "pop", "up", "ok", "lot", "son", "bet", "mom",
    "dim", "sin",
];

/// Abbreviations of Vietnamese administration, in folded form: `UBND`, `QĐ`, `V/v`, …
const ADMIN_CODES: [&str; 30] = [
    "ubnd", "hdnd", "qd", "cv", "tb", "kh", "bc", "ttr", "nq", "ct", "vp", "vpubnd", "sttt", "stttt", "snv",
    "stc", "skhdt", "nd", "tw", "bch", "bnv", "btc", "ttg", "vv", "qh", "tu", "hu", "ubmttq", "sgddt", "syt",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectClass {
    Empty,
    Vietnamese,
    NotVietnamese,
}

/// The subject without reply/forward prefixes, NFC, trimmed.
pub fn strip_prefixes(subject: &str) -> String {
    let mut rest: String = subject.nfc().collect::<String>().trim().to_owned();
    loop {
        let lower = rest.to_lowercase();
        let Some(prefix) = PREFIXES.iter().find(|p| lower.starts_with(*p)) else {
            return rest;
        };
        // Lower-casing these prefixes never changes their byte length (all in NFC).
        rest = rest.get(prefix.len()..).unwrap_or_default().trim().to_owned();
    }
}

/// Classifies a decoded subject.
pub fn classify(subject: &str) -> SubjectClass {
    let subject = strip_prefixes(subject);
    if subject.chars().all(|c| !c.is_alphanumeric()) {
        return SubjectClass::Empty;
    }
    let mut evidence = 0usize;
    let mut possible = 0usize;
    let mut words = 0usize;
    // Words with a letter only Vietnamese writes: clear evidence, one word each (a
    // lone `ở` counts as a word here, unlike other single letters).
    let mut marked = 0usize;
    let lower = subject.to_lowercase();
    if lower.contains("v/v") {
        evidence += 1;
    }
    for token in subject
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        if token.chars().any(is_vietnamese_letter) {
            marked += 1;
            words += 1;
            possible += 1;
            evidence += 1;
            continue;
        }
        if token.chars().any(|c| c.is_ascii_digit()) || token.chars().count() == 1 {
            continue; // numbers, codes such as 123/UBND-VP and lone letters are neutral
        }
        let folded = fold_word(token);
        let upper = token.chars().all(|c| !c.is_lowercase()) && token.chars().count() > 1;
        if upper && ADMIN_CODES.contains(&folded.as_str()) {
            evidence += 1;
            continue;
        }
        if upper && token.chars().count() <= 5 && !is_syllable(token) {
            continue; // other acronyms (IT, HR, ABC) are neutral
        }
        words += 1;
        if is_syllable(token) {
            possible += 1;
            if !ENGLISH.contains(&folded.as_str()) {
                evidence += 1;
            }
        }
    }
    if marked >= 2 || (evidence > 0 && possible * 2 >= words) {
        SubjectClass::Vietnamese
    } else {
        SubjectClass::NotVietnamese
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_table() {
        let cases = [
            ("Re: Fwd: Báo cáo", "Báo cáo"),
            ("TL: TL:  Thông báo", "Thông báo"),
            ("Chuyển tiếp: Công văn", "Công văn"),
            ("chuyen tiep: cong van", "cong van"),
            ("RE:", ""),
            ("Báo cáo Re: x", "Báo cáo Re: x"),
        ];
        for (input, expected) in cases {
            assert_eq!(strip_prefixes(input), expected, "{input}");
        }
    }

    #[test]
    fn classify_table() {
        use SubjectClass::*;
        let cases = [
            ("", Empty),
            ("Re: ", Empty),
            ("  Fwd: -- ", Empty),
            ("Thông báo lịch họp", Vietnamese),
            ("Thong bao lich hop", Vietnamese),
            ("Meeting invitation for Monday", NotVietnamese),
            ("V/v: 123/UBND-VP", Vietnamese),
            ("Ke hoach trien khai nam 2024", Vietnamese),
            ("Can you send the report", NotVietnamese),
            ("Hop ve project ABC", Vietnamese),
            ("Réunion à Paris", NotVietnamese),
            ("Re: Updated budget for 2024", NotVietnamese),
            ("Hello", NotVietnamese),
            ("12345", NotVietnamese),
            ("Giấy mời", Vietnamese),
            ("TB 45/TB-UBND", Vietnamese),
            ("Meeting report ở Q3", NotVietnamese),
            ("Please review the attached báo cáo", Vietnamese),
            ("Giấy mời họp", Vietnamese),
            ("Mời", Vietnamese),
            ("Mời họp online", Vietnamese),
        ];
        for (subject, expected) in cases {
            assert_eq!(classify(subject), expected, "{subject}");
        }
    }

    /// The labelled set in `tests/data/subjects.tsv`: precision and recall of the
    /// "Vietnamese" class (what Art. 7 accepts), per category on failure. The figures
    /// are quoted in docs/policy.md (`cargo test -p congvu-policy labelled -- --nocapture`).
    #[test]
    fn labelled_subjects() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/subjects.tsv");
        let data = std::fs::read_to_string(path).unwrap();
        let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
        let mut wrong = Vec::new();
        for line in data.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let mut fields = line.splitn(3, '\t');
            let (label, category, subject) = (
                fields.next().unwrap(),
                fields.next().unwrap(),
                fields.next().unwrap(),
            );
            let accepted = classify(subject) == SubjectClass::Vietnamese;
            match (label == "vi", accepted) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (false, false) => tn += 1,
                (true, false) => fn_ += 1,
            }
            if accepted != (label == "vi") {
                wrong.push(format!("{label}\t{category}\t{subject}"));
            }
        }
        let precision = f64::from(tp) / f64::from(tp + fp);
        let recall = f64::from(tp) / f64::from(tp + fn_);
        println!(
            "subjects: {} | vi accepted {tp}, vi refused {fn_}, other refused {tn}, other accepted {fp} | \
             precision {precision:.3} recall {recall:.3}\nmisclassified:\n{}",
            tp + fp + tn + fn_,
            wrong.join("\n")
        );
        assert!(tp + fp + tn + fn_ >= 300);
        assert!(recall >= 0.97, "recall {recall}");
        assert!(precision >= 0.95, "precision {precision}");
    }
}
