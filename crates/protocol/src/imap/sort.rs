//! SORT and THREAD arguments (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO).
//!
//! ```text
//! sort   = ["UID" SP] "SORT" SP sort-criteria SP search-criteria
//! sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
//! sort-criterion = ["REVERSE" SP] sort-key
//! thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
//! search-criteria = charset 1*(SP search-key)
//! ```
//!
//! Unlike SEARCH, the charset is mandatory and has no `CHARSET` keyword.

use std::fmt;

use super::lexer::{Cursor, Lex, Syntax};
use super::search::{SearchKey, search_keys};

/// RFC 5256 §3 sort keys, with RFC 5957's two display forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortCriterion {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

impl SortCriterion {
    pub fn name(self) -> &'static str {
        use SortCriterion::*;
        match self {
            Arrival => "ARRIVAL",
            Cc => "CC",
            Date => "DATE",
            From => "FROM",
            Size => "SIZE",
            Subject => "SUBJECT",
            To => "TO",
            DisplayFrom => "DISPLAYFROM",
            DisplayTo => "DISPLAYTO",
        }
    }

    const ALL: [SortCriterion; 9] = [
        SortCriterion::Arrival,
        SortCriterion::Cc,
        SortCriterion::Date,
        SortCriterion::From,
        SortCriterion::Size,
        SortCriterion::Subject,
        SortCriterion::To,
        SortCriterion::DisplayFrom,
        SortCriterion::DisplayTo,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub criterion: SortCriterion,
    pub reverse: bool,
}

/// `sort-criterion` as a client writes it: `[REVERSE ]KEY`.
impl fmt::Display for SortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reverse {
            f.write_str("REVERSE ")?;
        }
        f.write_str(self.criterion.name())
    }
}

/// The threading algorithms advertised as `THREAD=…` (RFC 5256 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadAlgorithm {
    OrderedSubject,
    References,
}

impl ThreadAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            ThreadAlgorithm::OrderedSubject => "ORDEREDSUBJECT",
            ThreadAlgorithm::References => "REFERENCES",
        }
    }
}

/// SORT's arguments after `SORT SP`.
pub(crate) fn parse_sort(c: &mut Cursor<'_>) -> Lex<(Vec<SortKey>, String, SearchKey)> {
    let criteria = c.paren_list(false, sort_key)?;
    let (charset, key) = criteria_tail(c)?;
    Ok((criteria, charset, key))
}

/// THREAD's arguments after `THREAD SP`.
pub(crate) fn parse_thread(c: &mut Cursor<'_>) -> Lex<(ThreadAlgorithm, String, SearchKey)> {
    let name = c.atom()?;
    let algorithm = [ThreadAlgorithm::OrderedSubject, ThreadAlgorithm::References]
        .into_iter()
        .find(|algorithm| algorithm.name().eq_ignore_ascii_case(name))
        .ok_or(Syntax("Unknown threading algorithm"))?;
    let (charset, key) = criteria_tail(c)?;
    Ok((algorithm, charset, key))
}

/// `SP charset 1*(SP search-key)`.
fn criteria_tail(c: &mut Cursor<'_>) -> Lex<(String, SearchKey)> {
    c.sp()?;
    let charset = c.astring_utf8()?;
    c.sp()?;
    Ok((charset, search_keys(c)?))
}

fn sort_key(c: &mut Cursor<'_>) -> Lex<SortKey> {
    let reverse = c.try_keyword("REVERSE ");
    let word = c.atom()?;
    let criterion = SortCriterion::ALL
        .into_iter()
        .find(|criterion| criterion.name().eq_ignore_ascii_case(word))
        .ok_or(Syntax("Unknown sort criterion"))?;
    Ok(SortKey { criterion, reverse })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::{CommandBody, parse_command};

    fn body(line: &str) -> Result<CommandBody, &'static str> {
        parse_command(line.as_bytes())
            .map(|c| c.body)
            .map_err(|e| e.reason)
    }

    #[test]
    fn sort_commands() {
        use SortCriterion::*;
        // RFC 5256 §4 examples.
        let Ok(CommandBody::Sort {
            uid,
            criteria,
            charset,
            key,
        }) = body("A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994\r\n")
        else {
            panic!();
        };
        assert!(!uid);
        assert_eq!(
            criteria,
            [SortKey {
                criterion: Subject,
                reverse: false
            }]
        );
        assert_eq!(charset, "UTF-8");
        assert!(matches!(key, SearchKey::Since(_)));
        let Ok(CommandBody::Sort { uid, criteria, .. }) =
            body("A283 UID SORT (REVERSE DATE displayfrom Arrival) US-ASCII UNDELETED SUBJECT \"x\"\r\n")
        else {
            panic!();
        };
        assert!(uid);
        let got: Vec<(SortCriterion, bool)> = criteria.iter().map(|k| (k.criterion, k.reverse)).collect();
        assert_eq!(got, [(Date, true), (DisplayFrom, false), (Arrival, false)]);
        for bad in [
            "a SORT () UTF-8 ALL\r\n",
            "a SORT (SUBJECT) ALL\r\n",
            "a SORT (SUBJECT)\r\n",
            "a SORT (BOGUS) UTF-8 ALL\r\n",
            "a SORT (REVERSE) UTF-8 ALL\r\n",
            "a SORT SUBJECT UTF-8 ALL\r\n",
        ] {
            assert!(body(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn thread_commands() {
        let Ok(CommandBody::Thread {
            uid,
            algorithm,
            charset,
            ..
        }) = body("A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000\r\n")
        else {
            panic!();
        };
        assert!(!uid && algorithm == ThreadAlgorithm::OrderedSubject && charset == "UTF-8");
        assert!(matches!(
            body("A284 UID THREAD references \"US-ASCII\" ALL\r\n"),
            Ok(CommandBody::Thread {
                uid: true,
                algorithm: ThreadAlgorithm::References,
                ..
            })
        ));
        assert!(body("a THREAD REFS UTF-8 ALL\r\n").is_err());
        assert!(body("a THREAD REFERENCES UTF-8\r\n").is_err());
        assert!(matches!(body("a COMPRESS DEFLATE\r\n"), Ok(CommandBody::Compress(m)) if m == "DEFLATE"));
        assert!(body("a COMPRESS\r\n").is_err());
    }
}
