//! Base subject extraction (RFC 5256 §2.1), the subject SORT compares and THREAD
//! groups by.
//!
//! Only the RFC's English markers are removed (`Re:`, `Fw:`, `Fwd:`, `[blob]`,
//! `(fwd)`, `[fwd: …]`). Vietnamese clients' own prefixes ("Trả lời:",
//! "Chuyển tiếp:") are left alone on purpose: the algorithm is defined by the RFC
//! and clients compute the same threads from it.

/// The base subject, and whether anything removed marked a reply or forward
/// (RFC 5256 §2.1 steps 2, 3 and 6; used by THREAD=REFERENCES §3 step 5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BaseSubject {
    pub text: String,
    pub reply_or_forward: bool,
}

/// RFC 5256 §2.1. `decoded` is the Subject: value with encoded words decoded
/// (step 1's conversion to UTF-8).
pub(crate) fn base_subject(decoded: &str) -> BaseSubject {
    // Step 1: every run of white space (folding included) becomes one space.
    let collapsed = decoded.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
    let mut s = collapsed.as_str();
    let mut reply_or_forward = false;
    loop {
        // Step 2: remove trailing `(fwd)` and white space, repeatedly.
        loop {
            s = s.trim_end_matches(' ');
            match strip_suffix_ignore_case(s, "(fwd)") {
                Some(rest) => {
                    s = rest;
                    reply_or_forward = true;
                }
                None => break,
            }
        }
        // Steps 3–5: leaders and blobs, until neither matches.
        loop {
            let before = s.len();
            // Step 3: subj-leader = (*subj-blob subj-refwd) / WSP.
            loop {
                if let Some(rest) = s.strip_prefix(' ') {
                    s = rest;
                } else if let Some(len) = leader_len(s.as_bytes()) {
                    s = &s[len..];
                    reply_or_forward = true;
                } else {
                    break;
                }
            }
            // Step 4: a leading blob, unless nothing would be left.
            if let Some(len) = blob_len(s.as_bytes())
                && !s[len..].trim_matches(' ').is_empty()
            {
                s = &s[len..];
            }
            if s.len() == before {
                break;
            }
        }
        // Step 6: `[fwd: …]` around everything: unwrap and start again at step 2.
        if s.len() >= 6 && s.as_bytes()[..5].eq_ignore_ascii_case(b"[fwd:") && s.ends_with(']') {
            s = &s[5..s.len() - 1];
            reply_or_forward = true;
            continue;
        }
        break;
    }
    BaseSubject {
        text: s.to_owned(),
        reply_or_forward,
    }
}

fn strip_suffix_ignore_case<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(cut) && s[cut..].eq_ignore_ascii_case(suffix)).then(|| &s[..cut])
}

/// `subj-blob = "[" *BLOBCHAR "]" *WSP`; BLOBCHAR is anything but `[` and `]`.
fn blob_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'[') {
        return None;
    }
    let close = s[1..].iter().position(|b| matches!(b, b'[' | b']'))? + 1;
    if s[close] != b']' {
        return None;
    }
    Some(close + 1 + wsp_len(&s[close + 1..]))
}

fn wsp_len(s: &[u8]) -> usize {
    s.iter().take_while(|b| **b == b' ').count()
}

/// `*subj-blob subj-refwd`, where
/// `subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"`.
fn leader_len(s: &[u8]) -> Option<usize> {
    let mut pos = 0;
    while let Some(len) = blob_len(&s[pos..]) {
        pos += len;
    }
    let rest = &s[pos..];
    let word = if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"fwd") {
        3
    } else if rest.len() >= 2
        && (rest[..2].eq_ignore_ascii_case(b"fw") || rest[..2].eq_ignore_ascii_case(b"re"))
    {
        2
    } else {
        return None;
    };
    pos += word;
    pos += wsp_len(&s[pos..]);
    if let Some(len) = blob_len(&s[pos..]) {
        pos += len;
    }
    (s.get(pos) == Some(&b':')).then_some(pos + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_5256_markers_are_removed() {
        // (subject, base subject, reply or forward)
        let cases = [
            ("Hello", "Hello", false),
            ("Re: Hello", "Hello", true),
            ("RE:Hello", "Hello", true),
            ("re:  re: Hello", "Hello", true),
            ("Fwd: Hello", "Hello", true),
            ("FW: Hello", "Hello", true),
            ("Re[2]: Hello", "Hello", true),
            ("[list] Re: Hello", "Hello", true),
            ("[list] Hello", "Hello", false),
            ("Re: [list] Re: Hello", "Hello", true),
            ("Hello (fwd)", "Hello", true),
            ("Hello (FWD) (fwd)  ", "Hello", true),
            ("[Fwd: Re: Hello]", "Hello", true),
            ("[fwd: [fwd: Hello (fwd)]]", "Hello", true),
            // A blob that is the whole subject stays (step 4).
            ("[list]", "[list]", false),
            ("Re: [list]", "[list]", true),
            // Folding and runs of white space become one space.
            ("  Re:\tCông   văn\r\n  số 12 ", "Công văn số 12", true),
            // Not markers: a word starting with "re", a colon elsewhere.
            ("Report: Q3", "Report: Q3", false),
            ("Ref: 12", "Ref: 12", false),
            ("Hello: world", "Hello: world", false),
            // Vietnamese reply prefixes are left alone (RFC behaviour only).
            ("Trả lời: Công văn", "Trả lời: Công văn", false),
            ("Chuyển tiếp: Công văn", "Chuyển tiếp: Công văn", false),
            ("", "", false),
            ("[unclosed Re: x", "[unclosed Re: x", false),
        ];
        for (subject, text, reply) in cases {
            let base = base_subject(subject);
            assert_eq!(base.text, text, "{subject:?}");
            assert_eq!(base.reply_or_forward, reply, "{subject:?}");
        }
    }

    #[test]
    fn non_ascii_text_never_splits_a_character() {
        for subject in ["Đ(fwd)", "ă", "[ư] ơ", "(fwd)ố", "Re:ư", "[fwd:ệ]"] {
            let _ = base_subject(subject);
        }
    }
}
