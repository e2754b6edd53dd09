//! Header fields of a raw header block (RFC 5322 §2.2), kept as raw bytes: IMAP
//! answers with the header text as it was received (ENVELOPE strings, BODY[HEADER…]),
//! never decoded.

pub(crate) use congvu_protocol::rfc5322::{Field, field};

/// The fields of a header block, in order, cut by `congvu_protocol::rfc5322` (the one
/// splitter of the server). Stops at the empty line that ends the block; lines that
/// are neither fields nor continuations are skipped.
pub(crate) fn fields(header: &[u8]) -> impl Iterator<Item = Field<'_>> {
    congvu_protocol::rfc5322::fields(header).filter(|field| !field.name.is_empty())
}

/// Length of the first line of `s`, its LF included (all of `s` if there is none).
pub(crate) fn line_length(s: &[u8]) -> usize {
    s.iter().position(|b| *b == b'\n').map_or(s.len(), |p| p + 1)
}

/// A value unfolded (line breaks removed, RFC 5322 §2.2.3) and trimmed.
pub(crate) fn unfold(value: &[u8]) -> Vec<u8> {
    let unfolded: Vec<u8> = value
        .iter()
        .copied()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect();
    unfolded.trim_ascii().to_vec()
}

/// RFC 2045 `tspecials`.
fn is_tspecial(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')'
            | b'<'
            | b'>'
            | b'@'
            | b','
            | b';'
            | b':'
            | b'\\'
            | b'"'
            | b'/'
            | b'['
            | b']'
            | b'?'
            | b'='
    )
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_graphic() && !is_tspecial(b)
}

/// A reader for structured MIME header values (Content-Type, Content-Disposition):
/// tokens, quoted strings, comments skipped.
struct Structured<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Structured<'a> {
    fn skip_cfws(&mut self) {
        loop {
            match self.s.get(self.pos) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'(') => {
                    let mut depth = 0usize;
                    while let Some(&b) = self.s.get(self.pos) {
                        self.pos += 1;
                        match b {
                            b'\\' => self.pos += 1,
                            b'(' => depth += 1,
                            b')' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => return,
            }
        }
    }

    fn token(&mut self) -> Option<&'a [u8]> {
        self.skip_cfws();
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|b| is_token_char(*b)) {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.s[start..self.pos])
    }

    fn byte(&mut self, b: u8) -> bool {
        self.skip_cfws();
        if self.s.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Vec<u8>> {
        self.skip_cfws();
        if self.s.get(self.pos) != Some(&b'"') {
            return self.token().map(<[u8]>::to_vec);
        }
        self.pos += 1;
        let mut v = Vec::new();
        while let Some(&b) = self.s.get(self.pos) {
            self.pos += 1;
            match b {
                b'"' => return Some(v),
                b'\\' => {
                    if let Some(&e) = self.s.get(self.pos) {
                        v.push(e);
                        self.pos += 1;
                    }
                }
                b'\r' | b'\n' => {}
                _ => v.push(b),
            }
        }
        Some(v)
    }

    /// `*(";" attribute "=" value)`; a malformed parameter ends the list.
    fn params(&mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut params = Vec::new();
        while self.byte(b';') {
            let Some(name) = self.token() else {
                // Tolerate a stray or trailing ';'.
                continue;
            };
            if !self.byte(b'=') {
                break;
            }
            let Some(value) = self.value() else {
                break;
            };
            params.push((name.to_vec(), value));
        }
        params
    }
}

/// A parsed `Content-Type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ContentType {
    pub media_type: Vec<u8>,
    pub subtype: Vec<u8>,
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
}

impl ContentType {
    /// RFC 2045 §5.2: no or an unparseable Content-Type means text/plain; us-ascii.
    pub fn default_text() -> ContentType {
        ContentType {
            media_type: b"TEXT".to_vec(),
            subtype: b"PLAIN".to_vec(),
            params: vec![(b"CHARSET".to_vec(), b"US-ASCII".to_vec())],
        }
    }

    /// RFC 2046 §5.1.5: the default inside multipart/digest.
    pub fn default_message() -> ContentType {
        ContentType {
            media_type: b"MESSAGE".to_vec(),
            subtype: b"RFC822".to_vec(),
            params: Vec::new(),
        }
    }

    pub fn parse(value: &[u8]) -> Option<ContentType> {
        let mut s = Structured { s: value, pos: 0 };
        let media_type = s.token()?.to_vec();
        if !s.byte(b'/') {
            return None;
        }
        let subtype = s.token()?.to_vec();
        let params = s.params();
        Some(ContentType {
            media_type,
            subtype,
            params,
        })
    }

    pub fn is(&self, media_type: &str, subtype: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type.as_bytes())
            && (subtype == "*" || self.subtype.eq_ignore_ascii_case(subtype.as_bytes()))
    }

    pub fn param(&self, name: &str) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

/// A parsed `Content-Disposition`: type and parameters.
pub(crate) type Disposition = (Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);

pub(crate) fn parse_disposition(value: &[u8]) -> Option<Disposition> {
    let mut s = Structured { s: value, pos: 0 };
    let kind = s.token()?.to_vec();
    Some((kind, s.params()))
}

/// `Content-Language`: a comma-separated list of tags.
pub(crate) fn parse_language(value: &[u8]) -> Vec<Vec<u8>> {
    let mut s = Structured { s: value, pos: 0 };
    let mut tags = Vec::new();
    loop {
        if let Some(tag) = s.token() {
            tags.push(tag.to_vec());
        }
        if !s.byte(b',') {
            return tags;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_iteration() {
        let header = b"From: a@b\r\nSubject: one\r\n two\r\nbogus line\r\nX-Empty:\r\n\r\nbody: no\r\n";
        let got: Vec<(&[u8], &[u8])> = fields(header).map(|f| (f.name, f.value)).collect();
        assert_eq!(
            got,
            vec![
                (&b"From"[..], &b" a@b"[..]),
                (b"Subject", b" one\r\n two"),
                (b"X-Empty", b""),
            ]
        );
        assert_eq!(fields(header).nth(1).unwrap().raw, b"Subject: one\r\n two\r\n");
        assert_eq!(unfold(b" one\r\n two"), b"one two");
        assert_eq!(field(header, "subject"), Some(&b" one\r\n two"[..]));
        assert_eq!(field(header, "body"), None);
    }

    #[test]
    fn content_types() {
        let ct = ContentType::parse(b" multipart/mixed; (comment) boundary=\"=_a b\";\r\n\tcharset=utf-8;")
            .unwrap();
        assert!(ct.is("MULTIPART", "MIXED"));
        assert_eq!(ct.param("Boundary"), Some(&b"=_a b"[..]));
        assert_eq!(ct.param("charset"), Some(&b"utf-8"[..]));
        assert!(ContentType::parse(b"text").is_none());
        assert!(ContentType::parse(b"").is_none());
        let ct = ContentType::parse(b"application/pdf; name=\"C\\\"V.pdf\"").unwrap();
        assert_eq!(ct.param("name"), Some(&b"C\"V.pdf"[..]));
    }

    #[test]
    fn dispositions_and_languages() {
        let (kind, params) = parse_disposition(b"attachment; filename=\"v\xc4\x83n.pdf\"").unwrap();
        assert_eq!(kind, b"attachment");
        assert_eq!(
            params,
            vec![(b"filename".to_vec(), "văn.pdf".as_bytes().to_vec())]
        );
        assert_eq!(
            parse_language(b" vi, en-US"),
            vec![b"vi".to_vec(), b"en-US".to_vec()]
        );
    }
}
