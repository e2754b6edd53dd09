//! Art. 8.1: documents classified Mật, Tối mật, Tuyệt mật may not be sent.
//!
//! A classification is a *stamp*: written in capitals (`MẬT`, `TỐI MẬT`, `TUYỆT MẬT`,
//! with or without accents), in brackets (`[Mật]`), or as an "Độ mật:" line. The same
//! syllable is an ordinary word in "bí mật" (secret, in a sentence), "mật khẩu"
//! (password), "mật ong" (honey), "thân mật" (friendly), "mật độ" (density); those are
//! not stamps, even in an all-capitals subject (`ĐỔI MẬT KHẨU`).
//!
//! Stamps are matched in the text as a reader sees it ([`crate::reading::as_read`]):
//! zero-width characters, fullwidth forms and Cyrillic or Greek look-alike letters do
//! not hide `MẬT`.
//!
//! Unaccented capitals `MAT` are English-looking, so alone they count only where a
//! stamp stands: in brackets, alone on a line, or as a file-name token.

use unicode_normalization::UnicodeNormalization;

use crate::reading::as_read;
use crate::syllable::fold_word;

/// Words that make `mật` part of an ordinary compound when they follow it.
const AFTER: [&str; 9] = ["khau", "ong", "do", "thiet", "ma", "ngot", "danh", "vu", "gau"];
/// … or precede it.
const BEFORE: [&str; 5] = ["bi", "than", "co", "tiet", "tuyen"];

/// A stamp found, in its canonical spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    Mat,
    ToiMat,
    TuyetMat,
}

impl Stamp {
    pub fn as_str(self) -> &'static str {
        match self {
            Stamp::Mat => "MẬT",
            Stamp::ToiMat => "TỐI MẬT",
            Stamp::TuyetMat => "TUYỆT MẬT",
        }
    }
}

struct Token<'a> {
    text: &'a str,
    folded: String,
    /// Byte offset just past the token in its line.
    end: usize,
    upper: bool,
    /// Directly enclosed in brackets or parentheses.
    bracketed: bool,
}

fn tokens(line: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    let bytes_len = line.len();
    for (i, c) in line.char_indices().chain(std::iter::once((bytes_len, ' '))) {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            let text = &line[s..i];
            let before = line[..s].trim_end().chars().next_back();
            let after = line[i..].trim_start().chars().next();
            out.push(Token {
                text,
                folded: fold_word(text),
                end: i,
                upper: text.chars().any(char::is_alphabetic) && !text.chars().any(char::is_lowercase),
                bracketed: matches!(before, Some('[' | '(')) && matches!(after, Some(']' | ')')),
            });
        }
    }
    out
}

/// [`find_stamp`] over a text body; HTML is also read as a browser shows it (tags
/// gone, character references decoded), so `T&#7888;I M&#7852;T` or
/// `TUYỆT M</b><span>ẬT` is the stamp it displays.
pub fn find_stamp_in_text(text: &str, html: bool) -> Option<Stamp> {
    find_stamp(text).or_else(|| html.then(|| find_stamp(&displayed(text))).flatten())
}

/// HTML as displayed, for reading stamps: tags removed (a block tag breaks the
/// line), numeric and the common named character references decoded.
fn displayed(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let close = rest.find('>');
                let end = close.map_or(rest.len(), |i| i + 1);
                let tag = rest[1..close.unwrap_or(rest.len())]
                    .trim_start_matches('/')
                    .to_ascii_lowercase();
                if ["p", "br", "div", "li", "tr", "h1", "h2", "h3", "td"]
                    .iter()
                    .any(|b| tag.split([' ', '/']).next() == Some(*b))
                {
                    out.push('\n');
                }
                rest = &rest[end..];
            }
            '&' => {
                let end = rest.find(';').filter(|&i| i <= 10);
                let decoded = end.and_then(|i| reference(&rest[1..i]));
                match (end, decoded) {
                    (Some(i), Some(ch)) => {
                        out.push(ch);
                        rest = &rest[i + 1..];
                    }
                    _ => {
                        out.push('&');
                        rest = &rest[1..];
                    }
                }
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// The character of an HTML character reference's name (between `&` and `;`).
fn reference(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let value = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(value);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => return None,
    })
}

/// Finds a classification stamp in free text (subject or a text part).
pub fn find_stamp(text: &str) -> Option<Stamp> {
    let text = as_read(text);
    // Every stamp contains `mat` once folded; most lines do not, and tokenizing is the
    // expensive part, so lines are folded whole first (a 10 KB body: ~50 µs, not ~500).
    text.lines()
        .filter(|line| may_hold_stamp(line))
        .find_map(|line| line_stamp(&line.nfc().collect::<String>(), false))
}

/// Exactly `fold_word(line).contains("mat")`, without folding the whole line: folding
/// maps each character on its own (it only drops combining marks and lower-cases), so
/// a match starts at a character that folds to `m`, and three base characters from
/// there decide it. Long attachments' text mostly has no such place.
fn may_hold_stamp(line: &str) -> bool {
    line.char_indices().any(|(i, c)| {
        let folds_to_m = matches!(c, 'm' | 'M' | '\u{1E3E}'..='\u{1E43}');
        folds_to_m && {
            let rest = &line[i..];
            let end = rest
                .char_indices()
                .filter(|(_, c)| !unicode_normalization::char::is_combining_mark(*c))
                .nth(3)
                .map_or(rest.len(), |(j, _)| j);
            fold_word(&rest[..end]).starts_with("mat")
        }
    })
}

/// Finds a stamp in an attachment's file name, where every capital token counts.
pub fn find_stamp_in_name(name: &str) -> Option<Stamp> {
    line_stamp(&as_read(name).nfc().collect::<String>(), true)
}

fn line_stamp(line: &str, file_name: bool) -> Option<Stamp> {
    let toks = tokens(line);
    // "Độ mật: Mật" / "Do mat: Toi mat", in any case.
    for (i, w) in toks.windows(2).enumerate() {
        if w[0].folded == "do" && w[1].folded == "mat" {
            let after_colon = line
                .get(w[1].end..)
                .is_some_and(|rest| rest.trim_start().starts_with(':'));
            if after_colon {
                let value: Vec<&str> = toks
                    .iter()
                    .skip(i + 2)
                    .take(2)
                    .map(|t| t.folded.as_str())
                    .collect();
                match value.as_slice() {
                    ["toi", "mat", ..] => return Some(Stamp::ToiMat),
                    ["tuyet", "mat", ..] => return Some(Stamp::TuyetMat),
                    ["mat", ..] => return Some(Stamp::Mat),
                    _ => {}
                }
            }
        }
    }
    for (i, tok) in toks.iter().enumerate() {
        if tok.folded != "mat" {
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        let next = toks.get(i + 1);
        let accented = tok.text != tok.folded && !tok.text.eq_ignore_ascii_case(&tok.folded);
        let stamp_case = tok.upper || (tok.bracketed && accented);
        if !stamp_case {
            continue;
        }
        if let Some(prev) = prev.filter(|p| p.upper || !tok.upper) {
            match prev.folded.as_str() {
                "toi" => return Some(Stamp::ToiMat),
                "tuyet" => return Some(Stamp::TuyetMat),
                _ => {}
            }
        }
        if prev.is_some_and(|p| BEFORE.contains(&p.folded.as_str()))
            || next.is_some_and(|n| AFTER.contains(&n.folded.as_str()))
        {
            continue;
        }
        let standalone = toks.len() == 1 || tok.bracketed || file_name;
        if accented || standalone {
            return Some(Stamp::Mat);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stamp_prefilter_agrees_with_folding_the_whole_line() {
        let lines = [
            "MẬT",
            "Mật",
            "TỐI MẬT",
            "mat",
            "ma t",
            "Nội dung văn bản.",
            "làm việc năm nay",
            "M\u{0323}a\u{0302}\u{0323}t",
            "\u{1E3F}at",
            "xmatx",
            "đ m",
            "Mậ",
            "m",
            "",
            "Độ mật: Mật",
            "thẩm định",
            "MAT KHAU",
            "mA\u{0300}\u{0301}\u{0302}T",
        ];
        for line in lines {
            assert_eq!(
                super::may_hold_stamp(line),
                super::fold_word(line).contains("mat"),
                "{line:?}"
            );
        }
    }

    use super::*;

    #[test]
    fn stamps_table() {
        let cases: [(&str, Option<Stamp>); 28] = [
            ("MẬT - Báo cáo tình hình an ninh", Some(Stamp::Mat)),
            ("TỐI MẬT", Some(Stamp::ToiMat)),
            ("Kế hoạch TUYỆT MẬT năm 2024", Some(Stamp::TuyetMat)),
            ("TOI MAT: ke hoach", Some(Stamp::ToiMat)),
            ("[Mật] Công văn số 12", Some(Stamp::Mat)),
            ("(MAT) cong van", Some(Stamp::Mat)),
            ("Kính gửi\nĐộ mật: Tối mật\nSố: 12", Some(Stamp::ToiMat)),
            ("Do mat: Mat", Some(Stamp::Mat)),
            ("MAT", Some(Stamp::Mat)),
            ("Đây là bí mật của cơ quan", None),
            ("GIỮ BÍ MẬT THÔNG TIN", None),
            ("Đổi mật khẩu hộp thư", None),
            ("THÔNG BÁO ĐỔI MẬT KHẨU", None),
            ("Mật ong rừng Thanh Hóa", None),
            ("Mật độ dân số", None),
            ("Thư thân mật", None),
            ("Tài liệu mật", None),
            ("Mat troi moc", None),
            ("Độ mật: không", None),
            ("NEW MAT FOR THE GYM", None),
            ("", None),
            ("Tối mật là gì", None),
            ("M\u{200B}Ậ\u{200B}T - Báo cáo", Some(Stamp::Mat)),
            ("ＴỐＩ ＭẬＴ", Some(Stamp::ToiMat)),
            (
                "\u{0422}U\u{0423}\u{0415}\u{0323}\u{0302}\u{0422} \u{041C}\u{0410}\u{0422}",
                Some(Stamp::TuyetMat),
            ),
            (
                "Kế hoạch \u{041C}\u{0410}\u{0323}\u{0302}\u{0422} năm 2024",
                Some(Stamp::Mat),
            ),
            ("Đổi m\u{00AD}ật khẩu", None),
            ("Mật ong rừng, thân mật, bí mật", None),
        ];
        for (text, expected) in cases {
            assert_eq!(find_stamp(text), expected, "{text}");
        }
    }

    #[test]
    fn names_table() {
        let cases = [
            ("TOI-MAT-bao-cao.pdf", Some(Stamp::ToiMat)),
            ("MAT_ke_hoach.doc", Some(Stamp::Mat)),
            ("bao-cao-MẬT.odt", Some(Stamp::Mat)),
            ("mat-khau.txt", None),
            ("mat_ong.pdf", None),
            ("cong-van-12.pdf", None),
            ("\u{FF2D}\u{FF21}\u{FF34}-ke-hoach.pdf", Some(Stamp::Mat)),
            ("T\u{200B}OI-M\u{200B}AT.pdf", Some(Stamp::ToiMat)),
        ];
        for (name, expected) in cases {
            assert_eq!(find_stamp_in_name(name), expected, "{name}");
        }
    }
}
