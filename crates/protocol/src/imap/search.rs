//! SEARCH criteria (RFC 3501 §6.4.4).

use chrono::NaiveDate;

use crate::Flags;

use super::datetime::parse_date;
use super::lexer::{Cursor, Lex, Syntax};
use super::sequence::SequenceSet;

/// One search key. A list of keys means all of them (`And`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchKey {
    All,
    And(Vec<SearchKey>),
    Or(Box<SearchKey>, Box<SearchKey>),
    Not(Box<SearchKey>),
    /// Message sequence numbers.
    Sequence(SequenceSet),
    Uid(SequenceSet),
    /// A system flag set (`true`) or not set (`false`): ANSWERED/UNANSWERED, …
    Flag(Flags, bool),
    Keyword(String, bool),
    Recent,
    New,
    Old,
    Larger(u32),
    Smaller(u32),
    /// INTERNALDATE compared by date.
    Before(NaiveDate),
    On(NaiveDate),
    Since(NaiveDate),
    /// The Date: header compared by date.
    SentBefore(NaiveDate),
    SentOn(NaiveDate),
    SentSince(NaiveDate),
    /// A header field contains the string; an empty string matches any message
    /// that has the field (RFC 3501 §6.4.4 HEADER, SUBJECT).
    Header(String, String),
    /// FROM, TO, CC, BCC: one address of the envelope's field contains the string
    /// (RFC 3501 §6.4.4: "in the envelope structure's … field"), its display name
    /// and address, not the header text with its comments.
    Address(AddressField, String),
    Body(String),
    Text(String),
    /// RFC 7162 §3.1.5: modseq at least this. The optional entry name and type
    /// (per-flag modseqs) are parsed and ignored: congvu keeps one modseq per
    /// message, which is what `all` means and a valid answer for any entry.
    ModSeq(u64),
    /// `$` (or `UID $`): the saved search result (RFC 5182 §2.1). The session
    /// replaces it with the saved UIDs before the search runs.
    Saved,
}

/// The envelope's address fields SEARCH names as keys (RFC 3501 §6.4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressField {
    From,
    To,
    Cc,
    Bcc,
}

impl AddressField {
    /// The header field the envelope's field comes from.
    pub fn header_name(self) -> &'static str {
        match self {
            AddressField::From => "From",
            AddressField::To => "To",
            AddressField::Cc => "Cc",
            AddressField::Bcc => "Bcc",
        }
    }
}

/// The arguments of SEARCH after the command name: `[CHARSET x] key *(SP key)`.
/// Returns the charset named, if any; the caller refuses charsets it cannot handle.
pub(crate) fn parse_search(c: &mut Cursor<'_>) -> Lex<(Option<String>, SearchKey)> {
    let charset = if c.try_keyword("CHARSET ") {
        Some(c.astring_utf8()?)
    } else {
        None
    };
    if charset.is_some() {
        c.sp()?;
    }
    Ok((charset, search_keys(c)?))
}

/// `search-key *(SP search-key)` up to the end of the line, as one key.
pub(crate) fn search_keys(c: &mut Cursor<'_>) -> Lex<SearchKey> {
    let mut keys = vec![search_key(c, 0)?];
    while !c.at_eol() {
        c.sp()?;
        keys.push(search_key(c, 0)?);
    }
    Ok(if keys.len() == 1 {
        keys.pop().unwrap_or(SearchKey::All)
    } else {
        SearchKey::And(keys)
    })
}

/// The system-flag keys (RFC 3501 §6.4.4): the flag, its key when set, its key
/// when not set.
pub(crate) const FLAG_KEYS: [(Flags, &str, &str); 5] = [
    (Flags::ANSWERED, "ANSWERED", "UNANSWERED"),
    (Flags::DELETED, "DELETED", "UNDELETED"),
    (Flags::DRAFT, "DRAFT", "UNDRAFT"),
    (Flags::FLAGGED, "FLAGGED", "UNFLAGGED"),
    (Flags::SEEN, "SEEN", "UNSEEN"),
];

/// Nesting bound: `NOT NOT NOT …` or deep parentheses must not exhaust the stack.
const MAX_DEPTH: usize = 64;

fn search_key(c: &mut Cursor<'_>, depth: usize) -> Lex<SearchKey> {
    use SearchKey::*;
    if depth > MAX_DEPTH {
        return Err(Syntax("Search criteria nested too deeply"));
    }
    match c.peek() {
        Some(b'(') => {
            let keys = c.paren_list(false, |c| search_key(c, depth + 1))?;
            return Ok(And(keys));
        }
        Some(b'0'..=b'9' | b'*') => return SequenceSet::parse(c).map(Sequence),
        Some(b'$') => {
            c.try_byte(b'$');
            return Ok(Saved);
        }
        _ => {}
    }
    let word = c.atom()?.to_ascii_uppercase();
    for (flag, set, unset) in FLAG_KEYS {
        if word == set || word == unset {
            return Ok(Flag(flag, word == set));
        }
    }
    let key = match word.as_str() {
        "ALL" => All,
        "RECENT" => Recent,
        "NEW" => New,
        "OLD" => Old,
        "KEYWORD" => Keyword(arg_atom(c)?, true),
        "UNKEYWORD" => Keyword(arg_atom(c)?, false),
        "LARGER" => Larger(arg_number(c)?),
        "SMALLER" => Smaller(arg_number(c)?),
        "BEFORE" => Before(arg_date(c)?),
        "ON" => On(arg_date(c)?),
        "SINCE" => Since(arg_date(c)?),
        "SENTBEFORE" => SentBefore(arg_date(c)?),
        "SENTON" => SentOn(arg_date(c)?),
        "SENTSINCE" => SentSince(arg_date(c)?),
        "BCC" => Address(AddressField::Bcc, arg_string(c)?),
        "CC" => Address(AddressField::Cc, arg_string(c)?),
        "FROM" => Address(AddressField::From, arg_string(c)?),
        "TO" => Address(AddressField::To, arg_string(c)?),
        "SUBJECT" => Header(word.clone(), arg_string(c)?),
        "HEADER" => {
            let name = arg_string(c)?;
            let value = arg_string(c)?;
            Header(name, value)
        }
        "MODSEQ" => {
            c.sp()?;
            if c.peek() == Some(b'"') {
                // entry-name SP entry-type-req
                c.string()?;
                c.sp()?;
                let kind = c.atom()?;
                if !["priv", "shared", "all"]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(kind))
                {
                    return Err(Syntax("Invalid MODSEQ entry type"));
                }
                c.sp()?;
            }
            ModSeq(c.mod_sequence()?)
        }
        "BODY" => Body(arg_string(c)?),
        "TEXT" => Text(arg_string(c)?),
        "UID" => {
            c.sp()?;
            if c.try_byte(b'$') {
                Saved
            } else {
                Uid(SequenceSet::parse(c)?)
            }
        }
        "NOT" => {
            c.sp()?;
            Not(Box::new(search_key(c, depth + 1)?))
        }
        "OR" => {
            c.sp()?;
            let a = search_key(c, depth + 1)?;
            c.sp()?;
            let b = search_key(c, depth + 1)?;
            Or(Box::new(a), Box::new(b))
        }
        _ => return Err(Syntax("Unknown search key")),
    };
    Ok(key)
}

fn arg_string(c: &mut Cursor<'_>) -> Lex<String> {
    c.sp()?;
    c.astring_utf8()
}

fn arg_atom(c: &mut Cursor<'_>) -> Lex<String> {
    c.sp()?;
    Ok(c.atom()?.to_owned())
}

fn arg_number(c: &mut Cursor<'_>) -> Lex<u32> {
    c.sp()?;
    c.number()
}

fn arg_date(c: &mut Cursor<'_>) -> Lex<NaiveDate> {
    c.sp()?;
    parse_date(c)
}

#[cfg(test)]
mod tests {
    use super::super::sequence::SeqNumber;
    use super::*;
    use crate::Flags as F;
    use SearchKey::*;

    fn parse(s: &str) -> Lex<(Option<String>, SearchKey)> {
        let input = format!("{s}\r\n");
        let mut c = Cursor::new(input.as_bytes());
        let r = parse_search(&mut c)?;
        c.eol()?;
        Ok(r)
    }

    fn key(s: &str) -> SearchKey {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}")).1
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn every_key() {
        let seq = |a, b| SequenceSet(vec![(SeqNumber::Value(a), b)]);
        let cases: Vec<(&str, SearchKey)> = vec![
            ("ALL", All),
            ("ANSWERED", Flag(F::ANSWERED, true)),
            ("BCC boss", Address(AddressField::Bcc, "boss".into())),
            ("BEFORE 1-Feb-1994", Before(date(1994, 2, 1))),
            ("BODY \"công văn\"", Body("công văn".into())),
            ("CC x", Address(AddressField::Cc, "x".into())),
            ("DELETED", Flag(F::DELETED, true)),
            ("DRAFT", Flag(F::DRAFT, true)),
            ("FLAGGED", Flag(F::FLAGGED, true)),
            ("FROM \"Smith\"", Address(AddressField::From, "Smith".into())),
            ("HEADER X-Priority 1", Header("X-Priority".into(), "1".into())),
            ("HEADER Message-ID \"\"", Header("Message-ID".into(), "".into())),
            ("KEYWORD $Forwarded", Keyword("$Forwarded".into(), true)),
            ("LARGER 1024", Larger(1024)),
            ("NEW", New),
            ("NOT SEEN", Not(Box::new(Flag(F::SEEN, true)))),
            ("OLD", Old),
            ("ON 05-Mar-2024", On(date(2024, 3, 5))),
            (
                "OR SEEN FLAGGED",
                Or(Box::new(Flag(F::SEEN, true)), Box::new(Flag(F::FLAGGED, true))),
            ),
            ("RECENT", Recent),
            ("SEEN", Flag(F::SEEN, true)),
            ("SENTBEFORE 1-Jan-2020", SentBefore(date(2020, 1, 1))),
            ("SENTON 1-Jan-2020", SentOn(date(2020, 1, 1))),
            ("SENTSINCE 1-Jan-2020", SentSince(date(2020, 1, 1))),
            ("SINCE \"1-Jan-2020\"", Since(date(2020, 1, 1))),
            ("SMALLER 10", Smaller(10)),
            ("SUBJECT {5}\r\ncông", Header("SUBJECT".into(), "công".into())),
            ("TEXT hello", Text("hello".into())),
            ("TO a@b", Address(AddressField::To, "a@b".into())),
            ("UID 1:*", Uid(seq(1, SeqNumber::Largest))),
            ("UNANSWERED", Flag(F::ANSWERED, false)),
            ("UNDELETED", Flag(F::DELETED, false)),
            ("UNDRAFT", Flag(F::DRAFT, false)),
            ("UNFLAGGED", Flag(F::FLAGGED, false)),
            ("UNKEYWORD $Junk", Keyword("$Junk".into(), false)),
            ("UNSEEN", Flag(F::SEEN, false)),
            ("MODSEQ 620162338", ModSeq(620162338)),
            ("MODSEQ \"/flags/\\\\draft\" all 620162338", ModSeq(620162338)),
            ("2:4", Sequence(seq(2, SeqNumber::Value(4)))),
            (
                "(SEEN FLAGGED) unseen",
                And(vec![
                    And(vec![Flag(F::SEEN, true), Flag(F::FLAGGED, true)]),
                    Flag(F::SEEN, false),
                ]),
            ),
            (
                "NOT (OR 1 2)",
                Not(Box::new(And(vec![Or(
                    Box::new(Sequence(seq(1, SeqNumber::Value(1)))),
                    Box::new(Sequence(seq(2, SeqNumber::Value(2)))),
                )]))),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(key(input), want, "{input}");
        }
    }

    #[test]
    fn charset() {
        assert_eq!(parse("CHARSET UTF-8 ALL"), Ok((Some("UTF-8".into()), All)));
        assert_eq!(
            parse("charset \"us-ascii\" SEEN").unwrap().0.as_deref(),
            Some("us-ascii")
        );
    }

    #[test]
    fn bad_keys() {
        let deep = format!("{}ALL{}", "(".repeat(100), ")".repeat(100));
        for input in [
            "",
            "FOO",
            "LARGER",
            "LARGER x",
            "BEFORE 1994",
            "OR SEEN",
            "NOT",
            "(SEEN",
            "()",
            "UID",
            "KEYWORD",
            "SUBJECT",
            "MODSEQ",
            "MODSEQ \"/flags/\\\\draft\" mine 1",
            "MODSEQ 9223372036854775808",
            deep.as_str(),
        ] {
            assert!(parse(input).is_err(), "{input}");
        }
    }
}
