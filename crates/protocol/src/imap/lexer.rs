//! The token reader under the command parser: RFC 3501 §9 terminals (atoms, quoted
//! strings, literals, astrings, numbers) read from one complete command.
//!
//! The framer ([`super::framing`]) has already checked that every literal announced in
//! the command is present in full, so a literal here is a bounds-checked slice, never
//! an allocation sized by the client.

use std::borrow::Cow;

use super::mutf7::NameEncoding;

/// Why a command could not be parsed; becomes the text of a `BAD` reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Syntax(pub &'static str);

pub(crate) type Lex<T> = Result<T, Syntax>;

/// RFC 3501 §9 `atom-specials` other than CTL and SP (checked separately).
fn is_atom_special(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// `ATOM-CHAR`: any CHAR except atom-specials. 8-bit bytes are not CHARs.
pub(crate) fn is_atom_char(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && !is_atom_special(b)
}

/// `ASTRING-CHAR` = ATOM-CHAR / resp-specials.
pub(crate) fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// `list-char` = ATOM-CHAR / list-wildcards / resp-specials.
pub(crate) fn is_list_char(b: u8) -> bool {
    is_astring_char(b) || b == b'%' || b == b'*'
}

/// `tag` = 1*<any ASTRING-CHAR except "+">.
pub(crate) fn is_tag_char(b: u8) -> bool {
    is_astring_char(b) && b != b'+'
}

pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// How the session spells mailbox names (RFC 6855 §3).
    pub(crate) names: NameEncoding,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor {
            buf,
            pos: 0,
            names: NameEncoding::default(),
        }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// True when only the line terminator is left.
    pub(crate) fn at_eol(&self) -> bool {
        matches!(self.rest(), b"\r\n" | b"\n" | b"")
    }

    /// The end of the command: CRLF (a bare LF is tolerated for hand-typed sessions).
    pub(crate) fn eol(&self) -> Lex<()> {
        if self.at_eol() {
            Ok(())
        } else {
            Err(Syntax("Unexpected characters at end of command"))
        }
    }

    /// One space. Several are tolerated: some clients double them.
    pub(crate) fn sp(&mut self) -> Lex<()> {
        if self.peek() != Some(b' ') {
            return Err(Syntax("Expected a space"));
        }
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        Ok(())
    }

    /// Consumes a space if one is next; false otherwise.
    pub(crate) fn try_sp(&mut self) -> bool {
        self.sp().is_ok()
    }

    pub(crate) fn expect(&mut self, byte: u8, what: &'static str) -> Lex<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Syntax(what))
        }
    }

    pub(crate) fn try_byte(&mut self, byte: u8) -> bool {
        self.expect(byte, "").is_ok()
    }

    /// Consumes `word` if it comes next, compared case-insensitively.
    pub(crate) fn try_keyword(&mut self, word: &str) -> bool {
        let rest = self.rest();
        if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        &self.buf[start..self.pos]
    }

    pub(crate) fn tag(&mut self) -> Lex<&'a str> {
        let tag = self.take_while(is_tag_char);
        if tag.is_empty() {
            return Err(Syntax("Invalid tag"));
        }
        // Only ASCII bytes pass `is_tag_char`.
        std::str::from_utf8(tag).map_err(|_| Syntax("Invalid tag"))
    }

    pub(crate) fn atom(&mut self) -> Lex<&'a str> {
        let atom = self.take_while(is_atom_char);
        if atom.is_empty() {
            return Err(Syntax("Expected an atom"));
        }
        std::str::from_utf8(atom).map_err(|_| Syntax("Expected an atom"))
    }

    pub(crate) fn number(&mut self) -> Lex<u32> {
        let digits = self.take_while(|b| b.is_ascii_digit());
        if digits.is_empty() {
            return Err(Syntax("Expected a number"));
        }
        // RFC 3501 §4.2: numbers are unsigned 32-bit.
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or(Syntax("Number out of range"))
    }

    /// `mod-sequence-value` (RFC 7162 §7): 1*DIGIT up to 2^63 - 1.
    pub(crate) fn mod_sequence(&mut self) -> Lex<u64> {
        let digits = self.take_while(|b| b.is_ascii_digit());
        if digits.is_empty() {
            return Err(Syntax("Expected a mod-sequence"));
        }
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<u64>().ok())
            .filter(|n| *n <= i64::MAX as u64)
            .ok_or(Syntax("Mod-sequence out of range"))
    }

    pub(crate) fn nz_number(&mut self) -> Lex<u32> {
        match self.number()? {
            0 => Err(Syntax("Expected a non-zero number")),
            n => Ok(n),
        }
    }

    /// `quoted` = DQUOTE *QUOTED-CHAR DQUOTE, with `\"` and `\\` escapes. 8-bit
    /// bytes are accepted (RFC 9051 §4.3 allows UTF-8 in quoted strings).
    fn quoted(&mut self) -> Lex<Cow<'a, [u8]>> {
        self.expect(b'"', "Expected a quoted string")?;
        let start = self.pos;
        let mut owned: Option<Vec<u8>> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err(Syntax("Unterminated quoted string"));
            };
            match b {
                b'"' => {
                    let value = match owned {
                        Some(v) => Cow::Owned(v),
                        None => Cow::Borrowed(&self.buf[start..self.pos]),
                    };
                    self.pos += 1;
                    return Ok(value);
                }
                b'\\' => {
                    let escaped = self.buf.get(self.pos + 1).copied();
                    let Some(escaped @ (b'"' | b'\\')) = escaped else {
                        return Err(Syntax("Invalid escape in quoted string"));
                    };
                    owned
                        .get_or_insert_with(|| self.buf[start..self.pos].to_vec())
                        .push(escaped);
                    self.pos += 2;
                }
                b'\r' | b'\n' | 0 => return Err(Syntax("Invalid character in quoted string")),
                _ => {
                    if let Some(v) = owned.as_mut() {
                        v.push(b);
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// `literal` = "{" number ["+"] "}" CRLF *CHAR8 (RFC 7888 adds the "+").
    fn literal(&mut self) -> Lex<&'a [u8]> {
        self.expect(b'{', "Expected a literal")?;
        let size = self.number()? as usize;
        self.try_byte(b'+');
        self.expect(b'}', "Invalid literal")?;
        self.try_byte(b'\r');
        self.expect(b'\n', "Invalid literal")?;
        let end = self
            .pos
            .checked_add(size)
            .filter(|end| *end <= self.buf.len())
            .ok_or(Syntax("Truncated literal"))?;
        let data = &self.buf[self.pos..end];
        self.pos = end;
        Ok(data)
    }

    /// RFC 3516 `literal8` = "~{" number ["+"] "}" CRLF *OCTET: any byte, NUL too.
    pub(crate) fn literal8(&mut self) -> Lex<&'a [u8]> {
        self.expect(b'~', "Expected a literal8")?;
        self.literal()
    }

    /// `string` = quoted / literal.
    pub(crate) fn string(&mut self) -> Lex<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal().map(Cow::Borrowed),
            _ => Err(Syntax("Expected a string")),
        }
    }

    /// `astring` = 1*ASTRING-CHAR / string.
    pub(crate) fn astring(&mut self) -> Lex<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let atom = self.take_while(is_astring_char);
                if atom.is_empty() {
                    Err(Syntax("Expected a string"))
                } else {
                    Ok(Cow::Borrowed(atom))
                }
            }
        }
    }

    /// An astring that must be UTF-8 text.
    pub(crate) fn astring_utf8(&mut self) -> Lex<String> {
        let bytes = self.astring()?;
        String::from_utf8(bytes.into_owned()).map_err(|_| Syntax("String is not UTF-8"))
    }

    /// `nstring` = string / "NIL".
    pub(crate) fn nstring(&mut self) -> Lex<Option<Cow<'a, [u8]>>> {
        if self.try_keyword("NIL") {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    /// `list-mailbox` = 1*list-char / string.
    pub(crate) fn list_mailbox(&mut self) -> Lex<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let atom = self.take_while(is_list_char);
                if atom.is_empty() {
                    Err(Syntax("Expected a mailbox pattern"))
                } else {
                    Ok(Cow::Borrowed(atom))
                }
            }
        }
    }

    /// The rest of the line up to CRLF (for AUTHENTICATE's initial response).
    pub(crate) fn until_eol(&mut self) -> &'a [u8] {
        self.take_while(|b| b != b'\r' && b != b'\n')
    }

    /// Reads a parenthesised, space-separated list; `item` reads one element.
    pub(crate) fn paren_list<T>(
        &mut self,
        allow_empty: bool,
        mut item: impl FnMut(&mut Cursor<'a>) -> Lex<T>,
    ) -> Lex<Vec<T>> {
        self.expect(b'(', "Expected '('")?;
        let mut items = Vec::new();
        if self.try_byte(b')') {
            return if allow_empty {
                Ok(items)
            } else {
                Err(Syntax("Empty list"))
            };
        }
        loop {
            items.push(item(self)?);
            if self.try_byte(b')') {
                return Ok(items);
            }
            self.sp()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn astring_forms() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"INBOX\r\n", b"INBOX"),
            (b"\"a b\"\r\n", b"a b"),
            (b"\"a\\\"b\\\\c\"\r\n", b"a\"b\\c"),
            (b"\"\"\r\n", b""),
            (b"{3}\r\nabc\r\n", b"abc"),
            (b"{3+}\r\nabc\r\n", b"abc"),
            (b"{0}\r\n\r\n", b""),
            (b"foo]bar\r\n", b"foo]bar"),
            ("\"Công\"\r\n".as_bytes(), "Công".as_bytes()),
        ];
        for (input, want) in cases {
            let mut c = Cursor::new(input);
            assert_eq!(c.astring().unwrap().as_ref(), *want, "{input:?}");
            assert!(c.at_eol(), "{input:?}");
        }
    }

    #[test]
    fn bad_strings() {
        let cases: &[&[u8]] = &[
            b"\"abc\r\n",
            b"\"a\\nb\"\r\n",
            b"{5}\r\nab",
            b"{99999999999}\r\n",
            b"(\r\n",
            b"\r\n",
        ];
        for input in cases {
            assert!(Cursor::new(input).astring().is_err(), "{input:?}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(Cursor::new(b"4294967295").number(), Ok(u32::MAX));
        assert!(Cursor::new(b"4294967296").number().is_err());
        assert!(Cursor::new(b"0").nz_number().is_err());
        assert!(Cursor::new(b"x").number().is_err());
    }
}
