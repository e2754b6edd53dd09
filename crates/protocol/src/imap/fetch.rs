//! FETCH data items (RFC 3501 §6.4.5) and body section specifiers.

use std::fmt;

use super::lexer::{Cursor, Lex, Syntax, is_astring_char};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchAttr {
    Envelope,
    Flags,
    InternalDate,
    Rfc822Size,
    Uid,
    /// RFC 7162 §3.1.4.1.
    ModSeq,
    /// `BODY`: the structure without extension data.
    Body,
    BodyStructure,
    /// `RFC822` = `BODY[]`, answered under its own name; sets `\Seen`.
    Rfc822,
    /// `RFC822.HEADER` = `BODY.PEEK[HEADER]`.
    Rfc822Header,
    /// `RFC822.TEXT` = `BODY[TEXT]`; sets `\Seen`.
    Rfc822Text,
    /// `BODY[section]<partial>` and `BODY.PEEK[…]`.
    Section {
        peek: bool,
        section: Section,
        partial: Option<Partial>,
    },
    /// RFC 3516 `BINARY[part]<partial>` and `BINARY.PEEK[…]`: the part's content with
    /// its content transfer encoding undone. An empty part is the whole message.
    Binary {
        peek: bool,
        part: Vec<u32>,
        partial: Option<Partial>,
    },
    /// RFC 3516 `BINARY.SIZE[part]`: the size of what `BINARY[part]` returns.
    BinarySize(Vec<u32>),
}

impl FetchAttr {
    /// Does fetching this item set `\Seen` (RFC 3501 §6.4.5)?
    pub fn sets_seen(&self) -> bool {
        matches!(
            self,
            FetchAttr::Rfc822
                | FetchAttr::Rfc822Text
                | FetchAttr::Section { peek: false, .. }
                | FetchAttr::Binary { peek: false, .. }
        )
    }

    /// Does answering this item need the message itself, not just its index entry?
    pub fn needs_content(&self) -> bool {
        !matches!(
            self,
            FetchAttr::Flags
                | FetchAttr::InternalDate
                | FetchAttr::Rfc822Size
                | FetchAttr::Uid
                | FetchAttr::ModSeq
        )
    }
}

/// The items that are one fixed name. Longer names first where one is a prefix of
/// another (the parser takes the first that matches).
const NAMED_ITEMS: [(&str, FetchAttr); 10] = [
    ("ENVELOPE", FetchAttr::Envelope),
    ("FLAGS", FetchAttr::Flags),
    ("INTERNALDATE", FetchAttr::InternalDate),
    ("RFC822.SIZE", FetchAttr::Rfc822Size),
    ("RFC822.HEADER", FetchAttr::Rfc822Header),
    ("RFC822.TEXT", FetchAttr::Rfc822Text),
    ("RFC822", FetchAttr::Rfc822),
    ("UID", FetchAttr::Uid),
    ("MODSEQ", FetchAttr::ModSeq),
    ("BODYSTRUCTURE", FetchAttr::BodyStructure),
];

/// The item as a client writes it in FETCH: `BODY.PEEK[1.HEADER]<0.100>`.
impl fmt::Display for FetchAttr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let partial = |f: &mut fmt::Formatter<'_>, partial: &Option<Partial>| match partial {
            Some(Partial { start, length }) => write!(f, "<{start}.{length}>"),
            None => Ok(()),
        };
        match self {
            FetchAttr::Body => f.write_str("BODY"),
            FetchAttr::Section {
                peek,
                section,
                partial: range,
            } => {
                let name = if *peek { "BODY.PEEK" } else { "BODY" };
                write!(f, "{name}[{section}]")?;
                partial(f, range)
            }
            FetchAttr::Binary {
                peek,
                part,
                partial: range,
            } => {
                let name = if *peek { "BINARY.PEEK" } else { "BINARY" };
                write!(f, "{name}[{}]", PartNumbers(part))?;
                partial(f, range)
            }
            FetchAttr::BinarySize(part) => write!(f, "BINARY.SIZE[{}]", PartNumbers(part)),
            named => {
                let name = NAMED_ITEMS
                    .iter()
                    .find(|(_, attr)| attr == named)
                    .map(|(name, _)| *name);
                f.write_str(name.unwrap_or_default())
            }
        }
    }
}

/// `<start.length>`: `length` is non-zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partial {
    pub start: u32,
    pub length: u32,
}

/// Part numbers as written in a section: `1.2.3`.
struct PartNumbers<'a>(&'a [u32]);

impl fmt::Display for PartNumbers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

/// `section` = "[" [section-spec] "]"
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    /// Part numbers, `1.2.3`; empty for the whole message.
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionText {
    Header,
    /// `HEADER.FIELDS (…)` / `HEADER.FIELDS.NOT (…)`; names as the client wrote them,
    /// echoed back in the response.
    HeaderFields {
        not: bool,
        fields: Vec<String>,
    },
    Text,
    /// The MIME header of a part; only after a part number.
    Mime,
}

impl fmt::Display for Section {
    /// The section as a client writes it and a FETCH response echoes it:
    /// `1.2.HEADER.FIELDS (From To)`. A field name is an `astring` (RFC 3501 §9
    /// `header-fld-name`): quoted when it is not an atom.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", PartNumbers(&self.part))?;
        let Some(text) = &self.text else {
            return Ok(());
        };
        if !self.part.is_empty() {
            f.write_str(".")?;
        }
        match text {
            SectionText::Header => f.write_str("HEADER"),
            SectionText::Text => f.write_str("TEXT"),
            SectionText::Mime => f.write_str("MIME"),
            SectionText::HeaderFields { not, fields } => {
                f.write_str(if *not {
                    "HEADER.FIELDS.NOT ("
                } else {
                    "HEADER.FIELDS ("
                })?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write_field_name(f, field)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A header field name as an `astring`: an atom when it is one, else quoted. The
/// parser takes only printable ASCII names, which a quoted string always carries.
fn write_field_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    if !name.is_empty() && name.bytes().all(is_astring_char) {
        return f.write_str(name);
    }
    f.write_str("\"")?;
    for c in name.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

/// The whole FETCH argument: one item, a macro, or a parenthesised list.
pub(crate) fn parse_fetch_attrs(c: &mut Cursor<'_>) -> Lex<Vec<FetchAttr>> {
    use FetchAttr::*;
    if c.peek() == Some(b'(') {
        return c.paren_list(false, fetch_attr);
    }
    // RFC 3501 §6.4.5 macros, valid only on their own.
    if c.try_keyword("ALL") {
        Ok(vec![Flags, InternalDate, Rfc822Size, Envelope])
    } else if c.try_keyword("FAST") {
        Ok(vec![Flags, InternalDate, Rfc822Size])
    } else if c.try_keyword("FULL") {
        Ok(vec![Flags, InternalDate, Rfc822Size, Envelope, Body])
    } else {
        Ok(vec![fetch_attr(c)?])
    }
}

fn fetch_attr(c: &mut Cursor<'_>) -> Lex<FetchAttr> {
    for (name, attr) in NAMED_ITEMS {
        if c.try_keyword(name) {
            return Ok(attr);
        }
    }
    if c.try_keyword("BINARY.PEEK[") {
        return binary_attr(c, true);
    }
    if c.try_keyword("BINARY.SIZE[") {
        let part = section_binary(c)?;
        return Ok(FetchAttr::BinarySize(part));
    }
    if c.try_keyword("BINARY[") {
        return binary_attr(c, false);
    }
    if c.try_keyword("BODY.PEEK[") {
        return section_attr(c, true);
    }
    if c.try_keyword("BODY[") {
        return section_attr(c, false);
    }
    if c.try_keyword("BODY") {
        return Ok(FetchAttr::Body);
    }
    Err(Syntax("Unknown FETCH item"))
}

/// After `BODY[` / `BODY.PEEK[`: the section spec, `]`, and an optional partial.
fn section_attr(c: &mut Cursor<'_>, peek: bool) -> Lex<FetchAttr> {
    let section = section_spec(c)?;
    c.expect(b']', "Expected ']' after section")?;
    let partial = partial(c)?;
    Ok(FetchAttr::Section {
        peek,
        section,
        partial,
    })
}

/// `<start.length>`, if present.
fn partial(c: &mut Cursor<'_>) -> Lex<Option<Partial>> {
    if !c.try_byte(b'<') {
        return Ok(None);
    }
    let start = c.number()?;
    c.expect(b'.', "Invalid partial")?;
    let length = c.nz_number()?;
    c.expect(b'>', "Invalid partial")?;
    Ok(Some(Partial { start, length }))
}

/// After `BINARY[` / `BINARY.PEEK[`: the part, `]`, and an optional partial.
fn binary_attr(c: &mut Cursor<'_>, peek: bool) -> Lex<FetchAttr> {
    let part = section_binary(c)?;
    let partial = partial(c)?;
    Ok(FetchAttr::Binary { peek, part, partial })
}

/// RFC 3516 `section-binary = "[" [section-part] "]"`, after the `[`: part numbers
/// only, no HEADER/TEXT/MIME.
fn section_binary(c: &mut Cursor<'_>) -> Lex<Vec<u32>> {
    let mut part = Vec::new();
    if c.try_byte(b']') {
        return Ok(part);
    }
    loop {
        part.push(c.nz_number()?);
        if c.try_byte(b']') {
            return Ok(part);
        }
        c.expect(b'.', "Invalid BINARY section")?;
    }
}

fn section_spec(c: &mut Cursor<'_>) -> Lex<Section> {
    let mut part = Vec::new();
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        part.push(c.nz_number()?);
        if !c.try_byte(b'.') {
            return Ok(Section { part, text: None });
        }
    }
    if c.peek() == Some(b']') {
        return if part.is_empty() {
            Ok(Section::default())
        } else {
            Err(Syntax("Invalid section"))
        };
    }
    let text = if c.try_keyword("HEADER.FIELDS") {
        let not = c.try_keyword(".NOT");
        c.sp()?;
        let fields = c.paren_list(false, |c| c.astring_utf8())?;
        if fields
            .iter()
            .any(|f| !f.bytes().all(|b| b.is_ascii_graphic() && b != b':'))
        {
            return Err(Syntax("Invalid header field name"));
        }
        SectionText::HeaderFields { not, fields }
    } else if c.try_keyword("HEADER") {
        SectionText::Header
    } else if c.try_keyword("TEXT") {
        SectionText::Text
    } else if c.try_keyword("MIME") {
        if part.is_empty() {
            return Err(Syntax("MIME needs a part number"));
        }
        SectionText::Mime
    } else {
        return Err(Syntax("Invalid section"));
    };
    Ok(Section {
        part,
        text: Some(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Lex<Vec<FetchAttr>> {
        let mut c = Cursor::new(s.as_bytes());
        let attrs = parse_fetch_attrs(&mut c)?;
        c.eol()?;
        Ok(attrs)
    }

    fn section(part: &[u32], text: Option<SectionText>) -> Section {
        Section {
            part: part.to_vec(),
            text,
        }
    }

    #[test]
    fn fetch_items() {
        use FetchAttr::*;
        let fields = |not, f: &[&str]| SectionText::HeaderFields {
            not,
            fields: f.iter().map(|s| s.to_string()).collect(),
        };
        let cases: Vec<(&str, Vec<FetchAttr>)> = vec![
            ("FLAGS", vec![Flags]),
            ("(UID FLAGS)", vec![Uid, Flags]),
            ("fast", vec![Flags, InternalDate, Rfc822Size]),
            ("ALL", vec![Flags, InternalDate, Rfc822Size, Envelope]),
            ("FULL", vec![Flags, InternalDate, Rfc822Size, Envelope, Body]),
            (
                "(RFC822 RFC822.SIZE RFC822.HEADER RFC822.TEXT BODY BODYSTRUCTURE)",
                vec![Rfc822, Rfc822Size, Rfc822Header, Rfc822Text, Body, BodyStructure],
            ),
            (
                "BODY[]",
                vec![Section {
                    peek: false,
                    section: section(&[], None),
                    partial: None,
                }],
            ),
            (
                "BODY.PEEK[]<0.100>",
                vec![Section {
                    peek: true,
                    section: section(&[], None),
                    partial: Some(Partial {
                        start: 0,
                        length: 100,
                    }),
                }],
            ),
            (
                "BODY[1.2.MIME]",
                vec![Section {
                    peek: false,
                    section: section(&[1, 2], Some(SectionText::Mime)),
                    partial: None,
                }],
            ),
            (
                "BODY[3]",
                vec![Section {
                    peek: false,
                    section: section(&[3], None),
                    partial: None,
                }],
            ),
            (
                "(UID BODY.PEEK[HEADER.FIELDS (From To \"Subject\")])",
                vec![
                    Uid,
                    Section {
                        peek: true,
                        section: section(&[], Some(fields(false, &["From", "To", "Subject"]))),
                        partial: None,
                    },
                ],
            ),
            (
                "BODY[2.HEADER.FIELDS.NOT (Received)]",
                vec![Section {
                    peek: false,
                    section: section(&[2], Some(fields(true, &["Received"]))),
                    partial: None,
                }],
            ),
            (
                "BODY[TEXT]<10.5>",
                vec![Section {
                    peek: false,
                    section: section(&[], Some(SectionText::Text)),
                    partial: Some(Partial { start: 10, length: 5 }),
                }],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn bad_fetch_items() {
        for input in [
            "",
            "()",
            "FOO",
            "BODY[MIME]",
            "BODY[0]",
            "BODY[1.]",
            "BODY[HEADER.FIELDS ()]",
            "BODY[HEADER.FIELDS (a:b)]",
            "BODY[]<0.0>",
            "BODY[]<1>",
            "(FLAGS",
            "(ALL)",
        ] {
            assert!(parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn section_display() {
        let s = section(
            &[1, 2],
            Some(SectionText::HeaderFields {
                not: true,
                fields: vec!["From".into(), "To".into()],
            }),
        );
        assert_eq!(s.to_string(), "1.2.HEADER.FIELDS.NOT (From To)");
        // RFC 3501 §9 header-fld-name is an astring: quoted when not an atom.
        let quoted = section(
            &[],
            Some(SectionText::HeaderFields {
                not: false,
                fields: vec!["X(\"Y\\".into(), "".into(), "a]".into()],
            }),
        );
        assert_eq!(quoted.to_string(), "HEADER.FIELDS (\"X(\\\"Y\\\\\" \"\" a])");
        assert_eq!(section(&[], None).to_string(), "");
        assert_eq!(section(&[3], None).to_string(), "3");
        assert_eq!(section(&[], Some(SectionText::Text)).to_string(), "TEXT");
    }
}

#[cfg(test)]
mod binary_tests {
    use super::*;

    fn parse(s: &str) -> Lex<Vec<FetchAttr>> {
        let mut c = Cursor::new(s.as_bytes());
        let attrs = parse_fetch_attrs(&mut c)?;
        c.eol()?;
        Ok(attrs)
    }

    #[test]
    fn rfc_3516_items() {
        assert_eq!(
            parse("(BINARY[1.2] BINARY.PEEK[]<0.100> BINARY.SIZE[3] BODY.PEEK[1])\r\n"),
            Ok(vec![
                FetchAttr::Binary {
                    peek: false,
                    part: vec![1, 2],
                    partial: None
                },
                FetchAttr::Binary {
                    peek: true,
                    part: vec![],
                    partial: Some(Partial {
                        start: 0,
                        length: 100
                    })
                },
                FetchAttr::BinarySize(vec![3]),
                FetchAttr::Section {
                    peek: true,
                    section: Section {
                        part: vec![1],
                        text: None
                    },
                    partial: None
                },
            ])
        );
        assert!(
            FetchAttr::Binary {
                peek: false,
                part: vec![1],
                partial: None
            }
            .sets_seen()
        );
        assert!(!FetchAttr::BinarySize(vec![1]).sets_seen());
        for bad in [
            "BINARY[1.TEXT]\r\n",
            "BINARY[HEADER]\r\n",
            "BINARY[0]\r\n",
            "BINARY[1.]\r\n",
            "BINARY.SIZE[1]<0.5>\r\n",
            "BINARY\r\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn append_takes_a_literal8() {
        use crate::imap::{CommandBody, parse_command};
        let body = parse_command(b"a APPEND INBOX (\\Seen) ~{4+}\r\n\x00\x01\r\n\r\n").map(|c| c.body);
        assert!(
            matches!(&body, Ok(CommandBody::Append { message, .. }) if message == b"\x00\x01\r\n"),
            "{body:?}"
        );
        assert!(parse_command(b"a APPEND INBOX ~\"x\"\r\n").is_err());
    }
}
