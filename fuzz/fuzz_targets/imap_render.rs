//! The IMAP message renderer: any bytes as a stored message → ENVELOPE, BODY,
//! BODYSTRUCTURE (RFC 3501 §7.4.2) and a set of `BODY[section]`s (§6.4.5), as FETCH
//! writes them. Never a panic; each structure is one parenthesised list whose
//! parentheses balance, whose strings are valid quoted strings (7-bit, no CR, LF or
//! NUL, only `"` and `\` escaped) or literals (`{n}` CRLF and exactly n bytes, no
//! NUL), and whose tokens are separated; every section but HEADER.FIELDS is a run
//! of the message's own bytes, and HEADER.FIELDS ends with the empty line.
#![no_main]

use std::borrow::Cow;

use congvu_imap::codec::fetch::{Section, SectionText};
use congvu_imap::render;
use libfuzzer_sys::fuzz_target;

/// Checks that `out` is one IMAP parenthesised list of NIL, numbers, strings and
/// lists, as the response grammar (RFC 3501 §9) allows them.
fn check_list(out: &[u8]) {
    assert_eq!(out.first(), Some(&b'('), "{out:?}");
    let mut depth = 0usize;
    let mut i = 0;
    while i < out.len() {
        assert!(i == 0 || depth > 0, "bytes after the list: {out:?}");
        match out[i] {
            b'(' => {
                depth += 1;
                i += 1;
                continue;
            }
            b')' => {
                depth = depth.checked_sub(1).expect("unbalanced ')'");
                i += 1;
            }
            b' ' => {
                i += 1;
                assert!(!matches!(out.get(i), Some(b' ' | b')') | None), "stray space: {out:?}");
                continue;
            }
            b'"' => {
                i += 1;
                loop {
                    let b = *out.get(i).expect("unterminated quoted string");
                    i += 1;
                    match b {
                        b'"' => break,
                        b'\\' => {
                            assert!(matches!(out.get(i), Some(b'"' | b'\\')), "bad escape");
                            i += 1;
                        }
                        0 | b'\r' | b'\n' | 0x80..=0xff => panic!("{b:#x} in a quoted string"),
                        _ => {}
                    }
                }
            }
            b'{' => {
                let close = out[i..].iter().position(|b| *b == b'}').expect("literal without '}'") + i;
                let digits = &out[i + 1..close];
                assert!(!digits.is_empty() && digits.iter().all(u8::is_ascii_digit));
                let n: usize = std::str::from_utf8(digits).unwrap().parse().unwrap();
                assert_eq!(out.get(close + 1..close + 3), Some(&b"\r\n"[..]), "literal without CRLF");
                let data = out.get(close + 3..close + 3 + n).expect("literal shorter than announced");
                assert!(!data.contains(&0), "NUL in a literal");
                i = close + 3 + n;
            }
            b'N' => {
                assert!(out[i..].starts_with(b"NIL"), "{out:?}");
                i += 3;
            }
            b'0'..=b'9' => {
                while out.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            other => panic!("unexpected {other:#x} at {i}: {out:?}"),
        }
        // After a token or a list: a separator, the end of a list, or (between
        // lists) the next list.
        let closed = out[i - 1] == b')';
        match out.get(i) {
            None | Some(b' ' | b')') => {}
            Some(b'(') if closed => {}
            Some(other) => panic!("{other:#x} right after a token at {i}: {out:?}"),
        }
    }
    assert_eq!(depth, 0, "unbalanced '(': {out:?}");
}

fn section(part: &[u32], text: Option<SectionText>) -> Section {
    Section {
        part: part.to_vec(),
        text,
    }
}

fuzz_target!(|data: &[u8]| {
    let fields = |not| {
        Some(SectionText::HeaderFields {
            not,
            fields: vec!["From".to_string(), "Subject".to_string()],
        })
    };
    let sections = [
        section(&[], None),
        section(&[], Some(SectionText::Header)),
        section(&[], Some(SectionText::Text)),
        section(&[], fields(false)),
        section(&[1], None),
        section(&[1], Some(SectionText::Mime)),
        section(&[1], Some(SectionText::Header)),
        section(&[1, 1], None),
        section(&[1, 1], Some(SectionText::Text)),
        section(&[1, 1], fields(true)),
        section(&[2], Some(SectionText::Mime)),
        section(&[2, 1], Some(SectionText::Header)),
        section(&[2, 1, 1], None),
        section(&[1, 2, 1], Some(SectionText::Mime)),
        section(&[3, 1], Some(SectionText::Text)),
    ];
    let rendering = render(data, &sections);
    check_list(&rendering.envelope);
    check_list(&rendering.body);
    check_list(&rendering.body_structure);
    let whole = data.as_ptr_range();
    for (section, bytes) in sections.iter().zip(&rendering.sections) {
        match (bytes, &section.text) {
            (None, _) => {}
            (Some(bytes), Some(SectionText::HeaderFields { .. })) => {
                assert!(bytes.ends_with(b"\r\n"), "{section:?}");
            }
            (Some(Cow::Borrowed(bytes)), _) => {
                let run = bytes.as_ptr_range();
                assert!(
                    bytes.is_empty() || (whole.start <= run.start && run.end <= whole.end),
                    "{section:?} is not the message's own bytes"
                );
            }
            (Some(Cow::Owned(_)), _) => panic!("{section:?} copied"),
        }
    }
});
