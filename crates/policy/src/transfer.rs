//! Content-Transfer-Encoding (RFC 2045 §6) removed for the rules: the exact decoded size
//! of a body from one pass over its encoded bytes, keeping only as many decoded bytes as
//! the caller reads.
//!
//! The attachment cap (Art. 9) counts decoded bytes, but the format checks read only the
//! first KiB of most files ([`crate::formats::needs_whole`]); decoding a 2 MB PDF to look
//! at its first line was most of the time spent on a large message. Sizes here are not
//! estimates: [`decode`] with a small `keep` reports the same `size` as the length of the
//! full decoding (unit tests and the fuzz target hold it to that).

/// The transfer encodings that change bytes; `7bit`, `8bit`, `binary` and unknown
/// values leave the body as it is (RFC 2045 §6.4: an unknown encoding cannot be
/// decoded, so the body is checked as received).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferEncoding {
    Identity,
    Base64,
    QuotedPrintable,
}

impl TransferEncoding {
    /// From the raw header value (`Content-Transfer-Encoding: Base64 \r\n`).
    pub fn from_header(value: &[u8]) -> TransferEncoding {
        let value = value.trim_ascii();
        if value.eq_ignore_ascii_case(b"base64") {
            TransferEncoding::Base64
        } else if value.eq_ignore_ascii_case(b"quoted-printable") {
            TransferEncoding::QuotedPrintable
        } else {
            TransferEncoding::Identity
        }
    }
}

/// A body with its transfer encoding removed.
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The first `min(keep, size)` decoded bytes.
    pub head: Vec<u8>,
    /// Length of the whole decoded body.
    pub size: u64,
}

/// Decodes `body`, keeping the first `keep` bytes. `None` when the body is not valid in
/// that encoding (a character outside the base64 alphabet): the caller then checks the
/// bytes as received, as mail-parser does with such parts.
pub fn decode(encoding: TransferEncoding, body: &[u8], keep: usize) -> Option<Decoded> {
    match encoding {
        TransferEncoding::Identity => Some(Decoded {
            head: body.get(..keep.min(body.len())).unwrap_or_default().to_vec(),
            size: body.len() as u64,
        }),
        TransferEncoding::Base64 => base64(body, keep),
        TransferEncoding::QuotedPrintable => Some(quoted_printable(body, keep)),
    }
}

const INVALID: u8 = 0xff;
const SPACE: u8 = 0xfe;
const PAD: u8 = 0xfd;

/// RFC 4648 §4 alphabet values; spaces and line breaks (folding, RFC 2045 §6.8) and `=`
/// marked apart.
const BASE64: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut value = 0;
    while value < 64 {
        let c = match value {
            0..=25 => b'A' + value,
            26..=51 => b'a' + (value - 26),
            52..=61 => b'0' + (value - 52),
            62 => b'+',
            _ => b'/',
        };
        table[c as usize] = value;
        value += 1;
    }
    table[b' ' as usize] = SPACE;
    table[b'\t' as usize] = SPACE;
    table[b'\r' as usize] = SPACE;
    table[b'\n' as usize] = SPACE;
    table[b'=' as usize] = PAD;
    table
};

/// Bytes a quantum of `chars` alphabet characters (0..=3) decodes to when `=` or the end
/// closes it early: 2 → 1, 3 → 2; a lone character carries no whole byte.
fn partial(chars: usize) -> u64 {
    [0, 0, 1, 2][chars & 3]
}

/// Base64 as mail clients decode it: spaces and line breaks ignored, `=` closes the
/// current quantum (concatenated encodings decode one after the other), a quantum left
/// open at the end is closed the same way.
fn base64(body: &[u8], keep: usize) -> Option<Decoded> {
    let mut head = Vec::with_capacity(keep.min(body.len() / 4 * 3 + 3));
    let mut quantum: u32 = 0;
    let mut chars = 0usize;
    let mut at = 0;
    // Decode while the head is wanted, a quantum at a time.
    while head.len() < keep {
        // Fast path: four alphabet characters in a row.
        if chars == 0
            && let Some(&[a, b, c, d]) = body.get(at..at + 4)
        {
            let (a, b, c, d) = (
                BASE64[a as usize],
                BASE64[b as usize],
                BASE64[c as usize],
                BASE64[d as usize],
            );
            if a | b | c | d < 64 {
                let word = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
                head.extend_from_slice(&word.to_be_bytes()[1..]);
                at += 4;
                continue;
            }
        }
        let Some(&byte) = body.get(at) else {
            break;
        };
        at += 1;
        match BASE64[byte as usize] {
            SPACE => {}
            PAD => {
                flush(&mut head, quantum, chars);
                (quantum, chars) = (0, 0);
            }
            INVALID => return None,
            value => {
                quantum = (quantum << 6) | u32::from(value);
                chars += 1;
                if chars == 4 {
                    head.extend_from_slice(&quantum.to_be_bytes()[1..]);
                    (quantum, chars) = (0, 0);
                }
            }
        }
    }
    flush(&mut head, quantum, chars);
    let mut size = head.len() as u64;
    // `flush` above closed the quantum the head stopped in; the rest continues it.
    size -= partial(chars);
    size += count_base64(body.get(at..).unwrap_or_default(), chars)?;
    head.truncate(keep);
    Some(Decoded { head, size })
}

/// Appends the bytes of an open quantum (`chars` < 4 characters in `quantum`).
fn flush(head: &mut Vec<u8>, quantum: u32, chars: usize) {
    match chars {
        2 => head.push((quantum >> 4) as u8),
        3 => head.extend_from_slice(&((quantum >> 2) as u16).to_be_bytes()),
        _ => {}
    }
}

/// Decoded length of base64 `rest`, continuing a quantum that already holds `chars`
/// characters; `None` on a character outside the alphabet. Counting needs no decoding:
/// every `=`-delimited run of `n` alphabet characters is `n / 4 * 3` bytes plus the
/// closing partial quantum.
fn count_base64(rest: &[u8], chars: usize) -> Option<u64> {
    let mut size = 0u64;
    let mut open = chars;
    let mut start = 0;
    // `=` found by memchr: splitting byte by byte would cost as much as the count.
    let pads = memchr::memchr_iter(b'=', rest).chain(std::iter::once(rest.len()));
    for end in pads {
        let run = &rest[start..end];
        start = end + 1;
        let (alphabet, invalid) = classify(run);
        if invalid {
            return None;
        }
        let n = open + alphabet;
        size += (n / 4 * 3) as u64 + partial(n);
        open = 0;
    }
    Some(size)
}

/// Alphabet characters in `run`, and whether anything in it is neither alphabet nor
/// space. Computed without branches or tables, 64 bytes at a time, so it compiles to
/// vector instructions: this is the whole cost of an attachment's size.
fn classify(run: &[u8]) -> (usize, bool) {
    fn block(bytes: &[u8]) -> (u8, u8) {
        let mut alphabet = 0u8;
        let mut invalid = 0u8;
        for &b in bytes {
            let letter = (b | 0x20).wrapping_sub(b'a') < 26;
            let base64 = letter | (b.wrapping_sub(b'0') < 10) | (b == b'+') | (b == b'/');
            let space = (b == b' ') | (b == b'\t') | (b == b'\r') | (b == b'\n');
            alphabet += u8::from(base64);
            invalid |= u8::from(!(base64 | space));
        }
        (alphabet, invalid)
    }
    let mut alphabet = 0usize;
    let mut invalid = 0u8;
    let blocks = run.chunks_exact(64);
    let rest = blocks.remainder();
    for bytes in blocks.chain(std::iter::once(rest)) {
        let (n, bad) = block(bytes);
        alphabet += usize::from(n);
        invalid |= bad;
    }
    (alphabet, invalid != 0)
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

/// Output that keeps the first `keep` bytes and counts them all.
struct Sink {
    head: Vec<u8>,
    keep: usize,
    size: u64,
}

impl Sink {
    fn put(&mut self, bytes: &[u8]) {
        let room = self.keep.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..room.min(bytes.len())]);
        self.size += bytes.len() as u64;
    }
}

/// Quoted-printable, RFC 2045 §6.7: `=XX` is one byte (lower-case hex accepted), `=`
/// then optional spaces then a line break is a soft break, spaces and tabs at the end of
/// a line are dropped (rule 3), line breaks are kept as sent (CRLF or LF), and an `=`
/// that starts none of these is kept literally (the "robust implementation" of note 2).
fn quoted_printable(body: &[u8], keep: usize) -> Decoded {
    let mut out = Sink {
        head: Vec::with_capacity(keep.min(body.len())),
        keep,
        size: 0,
    };
    // Spaces and tabs not yet known to be inside a line: `body[spaces..at]`.
    let mut spaces = None;
    let mut at = 0;
    while let Some(&byte) = body.get(at) {
        match byte {
            b' ' | b'\t' => {
                spaces.get_or_insert(at);
                at += 1;
            }
            b'\r' if body.get(at + 1) == Some(&b'\n') => {
                spaces = None;
                out.put(b"\r\n");
                at += 2;
            }
            b'\n' => {
                spaces = None;
                out.put(b"\n");
                at += 1;
            }
            b'=' => {
                if let Some(start) = spaces.take() {
                    out.put(&body[start..at]);
                }
                let rest = &body[at + 1..];
                let padding = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
                let after = &rest[padding..];
                if after.starts_with(b"\r\n") {
                    at += 1 + padding + 2;
                } else if after.starts_with(b"\n") {
                    at += 1 + padding + 1;
                } else if let [h, l, ..] = rest
                    && let (Some(h), Some(l)) = (hex(*h), hex(*l))
                {
                    out.put(&[(h << 4) | l]);
                    at += 3;
                } else if after.is_empty() {
                    // `=` at the very end: a soft break with nothing after it.
                    at = body.len();
                } else {
                    out.put(b"=");
                    at += 1;
                }
            }
            _ => {
                if let Some(start) = spaces.take() {
                    out.put(&body[start..at]);
                }
                // Copy the run of ordinary bytes at once.
                let run = body[at..]
                    .iter()
                    .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'='))
                    .map_or(body.len() - at, |n| n.max(1));
                out.put(&body[at..at + run]);
                at += run;
            }
        }
    }
    Decoded {
        head: out.head,
        size: out.size,
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    /// Base64 in 76-character lines with CRLF (RFC 2045 §6.8), as mailers send it.
    fn wrapped(data: &[u8]) -> Vec<u8> {
        let encoded = STANDARD.encode(data);
        let lines: Vec<&[u8]> = encoded.as_bytes().chunks(76).collect();
        lines.join(&b"\r\n"[..])
    }

    fn full(encoding: TransferEncoding, body: &[u8]) -> Option<Decoded> {
        decode(encoding, body, usize::MAX)
    }

    #[test]
    fn encoding_names() {
        use TransferEncoding::*;
        for (value, expected) in [
            (&b" base64\r\n"[..], Base64),
            (b"BASE64", Base64),
            (b"Quoted-Printable", QuotedPrintable),
            (b"7bit", Identity),
            (b"binary", Identity),
            (b"x-uuencode", Identity),
            (b"", Identity),
        ] {
            assert_eq!(TransferEncoding::from_header(value), expected, "{value:?}");
        }
    }

    /// Every length around the quantum and line boundaries: padding 0, 1 and 2, a line
    /// break right after the last full line, sizes exact whatever is kept.
    #[test]
    fn base64_sizes_are_exact_at_every_boundary() {
        let data: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        for len in (0..=120).chain(224..=232).chain(567..=571).chain([684, 685, 700]) {
            let data = &data[..len];
            let mut body = wrapped(data);
            let padding = body.iter().rev().take_while(|&&b| b == b'=').count();
            assert_eq!(padding, (3 - len % 3) % 3, "{len}");
            for trailer in [&b""[..], b"\r\n", b"\r\n\r\n"] {
                body.extend_from_slice(trailer);
                for keep in [0, 1, 2, 3, 4, 57, 58, 1024, usize::MAX] {
                    let decoded = decode(TransferEncoding::Base64, &body, keep).unwrap();
                    assert_eq!(decoded.size, len as u64, "len {len} keep {keep}");
                    assert_eq!(decoded.head, &data[..keep.min(len)], "len {len} keep {keep}");
                }
            }
        }
    }

    #[test]
    fn base64_unpadded_lf_and_concatenated() {
        // Unpadded: the open quantum is closed at the end.
        let decoded = full(TransferEncoding::Base64, b"aGVsbG8").unwrap();
        assert_eq!((decoded.head.as_slice(), decoded.size), (&b"hello"[..], 5));
        // LF line ends and spaces.
        let decoded = full(TransferEncoding::Base64, b"aGVs\nbG8g\n d29y bGQ=\n").unwrap();
        assert_eq!(decoded.head, b"hello world");
        // Two encodings one after the other.
        for keep in [0, 1, 5, 6, 100] {
            let decoded = decode(TransferEncoding::Base64, b"aGk=aGk=\r\n", keep).unwrap();
            assert_eq!(decoded.size, 4);
            assert_eq!(decoded.head, &b"hihi"[..keep.min(4)]);
        }
        // Outside the alphabet: not base64 at all.
        for body in [&b"aGVsbG8*"[..], b"PCFET0N-VFlQRQ==", b"\xffaaa"] {
            assert_eq!(full(TransferEncoding::Base64, body), None, "{body:?}");
            assert_eq!(decode(TransferEncoding::Base64, body, 0), None, "{body:?}");
        }
    }

    /// The size found while counting equals the length of the full decoding for any
    /// bytes made of the characters that matter.
    #[test]
    fn base64_count_matches_decoding() {
        let alphabet = b"QUJD=\r\n ";
        let mut state = 0x2545_f491_u32;
        for _ in 0..3000 {
            let len = (state % 40) as usize;
            let body: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    alphabet[(state % alphabet.len() as u32) as usize]
                })
                .collect();
            let whole = full(TransferEncoding::Base64, &body).unwrap();
            assert_eq!(whole.size, whole.head.len() as u64, "{body:?}");
            for keep in 0..8 {
                let part = decode(TransferEncoding::Base64, &body, keep).unwrap();
                assert_eq!(part.size, whole.size, "{body:?} keep {keep}");
                assert_eq!(part.head, &whole.head[..keep.min(whole.head.len())], "{body:?}");
            }
        }
    }

    #[test]
    fn quoted_printable_table() {
        let cases: [(&[u8], &[u8]); 11] = [
            (b"Th=C3=B4ng b=C3=A1o", "Thông báo".as_bytes()),
            (b"soft=\r\nbreak", b"softbreak"),
            (b"soft=\nbreak", b"softbreak"),
            (b"padded soft=  \r\nbreak", b"padded softbreak"),
            (b"trailing   \r\nspaces\t\r\n", b"trailing\r\nspaces\r\n"),
            (b"kept=20\r\n", b"kept \r\n"),
            (b"inner  spaces", b"inner  spaces"),
            (b"lower=c3=b4", "lowerô".as_bytes()),
            (b"bad=ZZ and =", b"bad=ZZ and "),
            (b"a==41", b"a=A"),
            (b"lf\nonly\n", b"lf\nonly\n"),
        ];
        for (body, expected) in cases {
            let decoded = full(TransferEncoding::QuotedPrintable, body).unwrap();
            assert_eq!(decoded.head, expected, "{:?}", String::from_utf8_lossy(body));
            assert_eq!(decoded.size, expected.len() as u64);
            for keep in 0..expected.len() {
                let part = decode(TransferEncoding::QuotedPrintable, body, keep).unwrap();
                assert_eq!(part.size, expected.len() as u64);
                assert_eq!(part.head, &expected[..keep]);
            }
        }
    }

    /// A QP body with a soft break every 76 characters around a 1 MiB boundary.
    #[test]
    fn quoted_printable_soft_breaks_at_scale() {
        for len in [1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1] {
            let data: Vec<u8> = (0..len).map(|i| if i % 7 == 0 { 0xe1 } else { b'a' }).collect();
            let mut body = Vec::new();
            let mut line = 0;
            for &b in &data {
                let encoded = if b == 0xe1 { b"=E1".to_vec() } else { vec![b] };
                if line + encoded.len() > 75 {
                    body.extend_from_slice(b"=\r\n");
                    line = 0;
                }
                line += encoded.len();
                body.extend_from_slice(&encoded);
            }
            let decoded = decode(TransferEncoding::QuotedPrintable, &body, 16).unwrap();
            assert_eq!(decoded.size, len as u64);
            assert_eq!(decoded.head, &data[..16]);
        }
    }
}
