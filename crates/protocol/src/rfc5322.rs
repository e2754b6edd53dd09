//! The header section of an Internet message and its fields (RFC 5322 §2.1, §2.2),
//! cut the one way every part of congvu cuts it: the SMTP checks (Authentication-
//! Results removal), the policy's MIME walk, the DSN's returned headers, and IMAP's
//! ENVELOPE, BODYSTRUCTURE, `BODY[HEADER…]`, SEARCH, SORT and header cache.
//!
//! Line ends: RFC 5322 §2.1 writes CRLF, but received and imported mail can carry
//! bare LF, so a line here ends at LF with or without a CR before it; the empty line
//! that ends the header section is `CRLF` or a bare `LF` (mixed is fine). A lone CR is
//! not a line end (it is a byte of the line).
//!
//! ## Invariants
//! 1. For any bytes `m`: `fields_len(m) <= header_len(m) <= m.len()`, and the
//!    difference `header_len(m) - fields_len(m)` is the empty line: 0 (there is none:
//!    all of `m` is header), 1 (`LF`) or 2 (`CRLF`).
//! 2. The [`Field::raw`] slices of [`fields`]`(m)` put end to end are exactly
//!    `m[..fields_len(m)]`: every byte before the empty line belongs to one field,
//!    lines that are not fields included (as a field with an empty name), so a header
//!    rebuilt from the fields (Authentication-Results removal) loses or adds nothing.
//! 3. A field's continuation lines (starting with SP or HT, RFC 5322 §2.2.3) belong
//!    to it; an empty line never continues a field.
//! 4. Nothing allocates and nothing panics, whatever the bytes (NUL, 8-bit, no line
//!    end at the very end); fuzzed by `rfc5322_split` (`docs/fuzzing.md`).

use memchr::{memchr, memchr_iter};

/// Length of the header section at the start of `message`, the empty line that ends
/// it included (RFC 5322 §2.1): where the body starts. Without an empty line the
/// whole message is header; a message that starts with one has an empty header.
pub fn header_len(message: &[u8]) -> usize {
    blank_line(message).map_or(message.len(), |(start, len)| start + len)
}

/// Length of the header fields: the header section without the empty line that ends
/// it (what a `text/rfc822-headers` part returns, RFC 6522 §3).
pub fn fields_len(message: &[u8]) -> usize {
    blank_line(message).map_or(message.len(), |(start, _)| start)
}

/// The header section (its empty line included) and the body.
pub fn split(message: &[u8]) -> (&[u8], &[u8]) {
    message.split_at(header_len(message))
}

/// Where the empty line that ends the header section starts, and its length (1 for
/// LF, 2 for CRLF): the first line start (0, or just past an LF) holding LF or CRLF.
fn blank_line(message: &[u8]) -> Option<(usize, usize)> {
    std::iter::once(0)
        .chain(memchr_iter(b'\n', message).map(|lf| lf + 1))
        .find_map(|start| empty_line_at(message, start).map(|len| (start, len)))
}

/// The length of the empty line at `at`, if one is there.
fn empty_line_at(message: &[u8], at: usize) -> Option<usize> {
    match message.get(at..)? {
        [b'\n', ..] => Some(1),
        [b'\r', b'\n', ..] => Some(2),
        _ => None,
    }
}

/// One header field (RFC 5322 §2.2) as written: nothing is decoded or unfolded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field name, white space before the colon dropped (RFC 5322 §4.5 obsolete
    /// syntax allows it); empty when the line is not a field (no colon, or a name
    /// that is not printable ASCII, RFC 5322 §3.6.8).
    pub name: &'a [u8],
    /// The value after the colon, folding kept, the last line end dropped; empty
    /// when the line is not a field.
    pub value: &'a [u8],
    /// The whole field, its continuation lines and last line end included (there is
    /// no line end when the field ends the input).
    pub raw: &'a [u8],
}

impl<'a> Field<'a> {
    fn parse(raw: &'a [u8]) -> Field<'a> {
        let named = memchr(b':', raw).and_then(|colon| {
            let name = raw.get(..colon)?.trim_ascii();
            let value = without_line_end(raw.get(colon + 1..)?);
            let printable = !name.is_empty() && name.iter().all(u8::is_ascii_graphic);
            printable.then_some((name, value))
        });
        let (name, value) = named.unwrap_or_default();
        Field { name, value, raw }
    }

    /// Is this the field called `name` (ASCII case-insensitive, as field names
    /// compare, RFC 5322 §1.2.2)? Never true for a line that is not a field.
    pub fn is(&self, name: &str) -> bool {
        !self.name.is_empty() && self.name.eq_ignore_ascii_case(name.as_bytes())
    }
}

/// The fields of the header section at the start of `header`, in order, up to the
/// empty line that ends it (or the end of the input): a whole message can be given.
/// Lines that are not fields come as fields with an empty name (invariant 2).
pub fn fields(header: &[u8]) -> Fields<'_> {
    Fields { rest: header }
}

/// The value of the first field called `name` (ASCII case-insensitive).
pub fn field<'a>(header: &'a [u8], name: &str) -> Option<&'a [u8]> {
    fields(header).find(|f| f.is(name)).map(|f| f.value)
}

/// The iterator of [`fields`].
#[derive(Clone, Debug)]
pub struct Fields<'a> {
    /// What is left of the header, from the start of a line.
    rest: &'a [u8],
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        let rest = self.rest;
        if rest.is_empty() || empty_line_at(rest, 0).is_some() {
            return None;
        }
        let mut end = line_end(rest, 0);
        // RFC 5322 §2.2.3: a line starting with white space continues the field.
        while matches!(rest.get(end), Some(b' ' | b'\t')) {
            end = line_end(rest, end);
        }
        let (raw, after) = rest.split_at(end);
        self.rest = after;
        Some(Field::parse(raw))
    }
}

/// The end of the line starting at `start`: just past its LF, or the end of `bytes`.
fn line_end(bytes: &[u8], start: usize) -> usize {
    bytes
        .get(start..)
        .and_then(|line| memchr(b'\n', line))
        .map_or(bytes.len(), |lf| start + lf + 1)
}

fn without_line_end(value: &[u8]) -> &[u8] {
    let value = value.strip_suffix(b"\n").unwrap_or(value);
    value.strip_suffix(b"\r").unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks invariants 1 and 2 on `message` and returns its (header, body).
    fn checked(message: &[u8]) -> (&[u8], &[u8]) {
        let (header_len, fields_len) = (header_len(message), fields_len(message));
        assert!(fields_len <= header_len && header_len <= message.len());
        assert!(header_len - fields_len <= 2);
        let rebuilt: Vec<u8> = fields(message).flat_map(|f| f.raw.iter().copied()).collect();
        assert_eq!(
            rebuilt,
            &message[..fields_len],
            "{:?}",
            String::from_utf8_lossy(message)
        );
        // The header section alone cuts the same way as the whole message.
        let (header, body) = split(message);
        assert_eq!(header_len, header.len());
        assert_eq!(self::header_len(header), header.len());
        assert_eq!(fields(header).count(), fields(message).count());
        (header, body)
    }

    fn names(message: &[u8]) -> Vec<&[u8]> {
        fields(message).map(|f| f.name).collect()
    }

    #[test]
    fn header_ends() {
        // (message, header_len, fields_len)
        for (message, header, fields) in [
            (&b"A: 1\r\nB: 2\r\n\r\nbody"[..], 14, 12),
            (b"A: 1\n\nbody", 6, 5),
            (b"A: 1\n\r\nbody\r\n\r\nmore", 7, 5),
            (b"A: 1\r\n\nbody", 7, 6),
            (b"\r\nbody", 2, 0),
            (b"\nbody", 1, 0),
            (b"\r\n", 2, 0),
            (b"A: 1\r\n", 6, 6),
            (b"A: 1", 4, 4),
            (b"", 0, 0),
            // A lone CR ends no line; a CR CR LF line is not empty.
            (b"A: 1\r\r\nB: 2\r\n\r\r\nstill header", 28, 28),
            // White space alone is a (continuation) line, not the empty line.
            (b"A: 1\r\n \r\n\r\nbody", 11, 9),
        ] {
            let shown = String::from_utf8_lossy(message);
            assert_eq!(header_len(message), header, "{shown:?}");
            assert_eq!(fields_len(message), fields, "{shown:?}");
            checked(message);
        }
        assert_eq!(split(b"A: 1\r\n\r\nbody"), (&b"A: 1\r\n\r\n"[..], &b"body"[..]));
        assert_eq!(split(b"no blank line"), (&b"no blank line"[..], &b""[..]));
    }

    #[test]
    fn folded_fields_and_odd_lines() {
        let message = b"From: a@b\r\nSubject: one\r\n two\r\n\tthree\r\nbogus line\r\nX-Empty:\r\n\
            Name With Space: x\r\nobs-name  : y\n\r\nBody: no\r\n";
        let (header, body) = checked(message);
        assert_eq!(body, b"Body: no\r\n");
        let all: Vec<Field<'_>> = fields(header).collect();
        assert_eq!(
            names(header),
            [&b"From"[..], b"Subject", b"", b"X-Empty", b"", b"obs-name"]
        );
        assert_eq!(all[1].value, b" one\r\n two\r\n\tthree");
        assert_eq!(all[1].raw, b"Subject: one\r\n two\r\n\tthree\r\n");
        assert_eq!((all[2].raw, all[2].value), (&b"bogus line\r\n"[..], &b""[..]));
        assert_eq!(all[3].value, b"");
        assert_eq!(all[5].value, b" y");
        assert_eq!(field(header, "subject"), Some(&b" one\r\n two\r\n\tthree"[..]));
        assert_eq!(field(header, "SUBJECT"), field(header, "Subject"));
        assert_eq!(field(header, "body"), None);
        assert_eq!(
            field(header, ""),
            None,
            "a line that is not a field has no name to find"
        );
        assert!(all[0].is("from") && !all[0].is("fro") && !all[2].is(""));
    }

    #[test]
    fn bare_lf_and_mixed_line_ends() {
        let message = b"A: 1\nB: 2\r\n  cont\nC: 3\n\nbody\n";
        let (header, body) = checked(message);
        assert_eq!((header.len(), body), (message.len() - 5, &b"body\n"[..]));
        assert_eq!(names(message), [&b"A"[..], b"B", b"C"]);
        assert_eq!(field(message, "b"), Some(&b" 2\r\n  cont"[..]));
    }

    #[test]
    fn no_body_empty_header_and_last_field_without_line_end() {
        assert_eq!(checked(b"A: 1\r\nB: 2"), (&b"A: 1\r\nB: 2"[..], &b""[..]));
        assert_eq!(
            fields(b"A: 1\r\nB: 2").last().map(|f| (f.raw, f.value)),
            Some((&b"B: 2"[..], &b" 2"[..]))
        );
        // Folded to the very end, CR included.
        assert_eq!(field(b"A: 1\r\n x\r", "a"), Some(&b" 1\r\n x"[..]));
        assert_eq!(checked(b"\r\nA: 1\r\n"), (&b"\r\n"[..], &b"A: 1\r\n"[..]));
        assert_eq!(fields(b"\r\nA: 1\r\n").count(), 0);
        assert_eq!(checked(b""), (&b""[..], &b""[..]));
        // White space at the very start continues nothing: not a field.
        assert_eq!(names(b" A: 1\r\nB: 2\r\n"), [&b"A"[..], b"B"]);
        assert_eq!(names(b":\r\n: x\r\n"), [&b""[..], b""]);
    }

    #[test]
    fn nul_and_8bit_bytes_are_bytes_of_the_value() {
        let message = b"Subject: C\xc3\xb4ng v\xc4\x83n\0 \xff\r\nX\0Y: 1\r\n\r\n\0";
        let (_, body) = checked(message);
        assert_eq!(body, b"\0");
        assert_eq!(
            field(message, "subject"),
            Some(&b" C\xc3\xb4ng v\xc4\x83n\0 \xff"[..])
        );
        assert_eq!(names(message), [&b"Subject"[..], b""], "a NUL is not a name byte");
    }

    #[test]
    fn huge_header() {
        let line = b"Received: from relay.thanhhoa.gov.vn by mx.thanhhoa.gov.vn\r\n\t; date\r\n";
        let mut message = line.repeat(50_000);
        let fields_end = message.len();
        message.extend_from_slice(b"\r\nbody");
        let (header, body) = checked(&message);
        assert_eq!((header.len(), body), (fields_end + 2, &b"body"[..]));
        assert_eq!(fields(&message).count(), 50_000);
        assert!(fields(&message).all(|f| f.raw == line && f.is("received")));
        // All header, one 4 MiB folded field.
        let folded = [&b"X-Long:"[..], &b" v\r\n".repeat(1 << 20)].concat();
        checked(&folded);
        assert_eq!(fields(&folded).count(), 1);
    }
}
