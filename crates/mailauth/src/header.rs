//! `Authentication-Results:` fields already in a message (I/O-free).
//!
//! RFC 8601 §5: a border MTA must not pass on a field that claims to come from its own
//! authserv-id — anyone on the Internet can write one — so those are removed before
//! ours is added. Fields of other authserv-ids are kept: they are someone else's
//! statements, and readers know to ignore them (RFC 8601 §7.1). The header section
//! is cut by `congvu_protocol::rfc5322`, as everywhere in congvu.

use congvu_protocol::rfc5322::{self, Field};

/// The message without the `Authentication-Results:` fields of the header section
/// whose authserv-id is `authserv_id` (ASCII case-insensitive), with the number
/// removed; `None` when there is none (the message is then used as it is).
pub fn without_own_results(message: &[u8], authserv_id: &str) -> Option<(Vec<u8>, usize)> {
    let mut out: Option<Vec<u8>> = None;
    let mut removed = 0;
    // Where the current field starts: the fields' raw bytes put end to end are the
    // header section up to its empty line (rfc5322 invariant 2), so the rest is
    // copied from there.
    let mut start = 0;
    for field in rfc5322::fields(message) {
        if claims(&field, authserv_id) {
            out.get_or_insert_with(|| message.get(..start).unwrap_or_default().to_vec());
            removed += 1;
        } else if let Some(kept) = out.as_mut() {
            kept.extend_from_slice(field.raw);
        }
        start += field.raw.len();
    }
    let mut kept = out?;
    kept.extend_from_slice(message.get(start..).unwrap_or_default());
    Some((kept, removed))
}

/// True for an `Authentication-Results:` field whose authserv-id is `authserv_id`.
fn claims(field: &Field<'_>, authserv_id: &str) -> bool {
    if !field.is("Authentication-Results") {
        return false;
    }
    let value = skip_cfws(field.value);
    let id_len = value
        .iter()
        .position(|&b| matches!(b, b';' | b'(' | b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(value.len());
    let id = &value[..id_len];
    // A quoted authserv-id (RFC 8601 §2.2 allows a quoted-string value).
    let id = id
        .strip_prefix(b"\"")
        .and_then(|i| i.strip_suffix(b"\""))
        .unwrap_or(id);
    id.eq_ignore_ascii_case(authserv_id.as_bytes())
}

/// Skips folding white space and (nested) comments (RFC 5322 §3.2.2).
fn skip_cfws(mut value: &[u8]) -> &[u8] {
    loop {
        value = value.trim_ascii_start();
        if value.first() != Some(&b'(') {
            return value;
        }
        let mut depth = 0usize;
        let mut end = value.len();
        let mut escaped = false;
        for (i, &b) in value.iter().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        value = &value[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_only_our_claims_in_the_header_section() {
        let message = b"Received: x\r\n\
            Authentication-Results: MX.A.VN; dkim=pass\r\n\
            \theader.d=a.vn\r\n\
            Authentication-Results: other.vn; spf=pass\r\n\
            authentication-results : (forged) mx.a.vn;\r\n  spf=pass\r\n\
            Authentication-Results: \"mx.a.vn\"; none\r\n\
            Authentication-Results: mx.a.vn.evil.vn; none\r\n\
            Subject: hi\r\n\
            \r\n\
            Authentication-Results: mx.a.vn; in the body\r\n";
        let (kept, removed) = without_own_results(message, "mx.a.vn").unwrap();
        assert_eq!(removed, 3);
        assert_eq!(
            String::from_utf8(kept).unwrap(),
            "Received: x\r\n\
             Authentication-Results: other.vn; spf=pass\r\n\
             Authentication-Results: mx.a.vn.evil.vn; none\r\n\
             Subject: hi\r\n\
             \r\n\
             Authentication-Results: mx.a.vn; in the body\r\n"
        );
    }

    #[test]
    fn nothing_to_remove_and_odd_input() {
        for message in [
            &b"Subject: a\r\n\r\nAuthentication-Results: mx.a.vn; x\r\n"[..],
            b"",
            b"no colon at all",
            b"Authentication-Results: (unclosed comment mx.a.vn; x",
            b"Authentication-Results:",
        ] {
            assert_eq!(without_own_results(message, "mx.a.vn"), None);
        }
        // Bare LF line endings and a last line without one.
        let (kept, removed) =
            without_own_results(b"A: 1\nAuthentication-Results: mx.a.vn; x", "mx.a.vn").unwrap();
        assert_eq!((kept.as_slice(), removed), (&b"A: 1\n"[..], 1));
    }

    #[test]
    fn a_claim_behind_white_space_at_the_very_start_is_removed_too() {
        // White space before the first field name continues nothing; readers that
        // trim it would take the line for our field, so it goes (rfc5322 names are
        // trimmed on both sides; this module used to trim only the end).
        let message = b" Authentication-Results: mx.a.vn; dkim=pass\r\nSubject: hi\r\n\r\nbody";
        let (kept, removed) = without_own_results(message, "mx.a.vn").unwrap();
        assert_eq!((kept.as_slice(), removed), (&b"Subject: hi\r\n\r\nbody"[..], 1));
    }
}
