//! SMTP command lines (RFC 5321 §4.1.1) and their ESMTP parameters.

use crate::Secret;

use super::dsn::{self, DsnRet, Notify, Orcpt};
use super::path::{self, ForwardPath, HeloName, ReversePath};
use super::{Cursor, ParseError, Strictness, sasl};

/// One parsed command. `Debug` never shows an AUTH initial response (it holds the
/// password): it is a [`Secret`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Ehlo(HeloName),
    Helo(HeloName),
    Mail {
        from: ReversePath,
        params: MailParams,
    },
    Rcpt {
        to: ForwardPath,
        params: RcptParams,
    },
    Data,
    /// RFC 3030 §2: `size` octets of mail data follow the command line at once.
    Bdat {
        size: u64,
        last: bool,
    },
    Rset,
    Noop,
    Quit,
    Vrfy,
    Help,
    StartTls,
    Auth {
        mechanism: Mechanism,
        /// RFC 4954 §4: the optional initial response, base64-decoded (`=` is empty).
        initial: Option<Secret<Vec<u8>>>,
    },
}

/// SASL mechanisms offered on submission (RFC 4954, RFC 4616; LOGIN for Outlook).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

/// RFC 6152 `BODY=` values. `BINARYMIME` (RFC 3030 §3) is not offered: binary
/// content would escape the line-ending rule that BDAT chunks go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    SevenBit,
    EightBitMime,
}

/// Validated MAIL parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailParams {
    /// RFC 1870: the client's size estimate; saturates at `u64::MAX`.
    pub size: Option<u64>,
    pub body: Option<Body>,
    /// RFC 6531 §3.4.
    pub smtputf8: bool,
    /// RFC 3461 §4.3.
    pub ret: Option<DsnRet>,
    /// RFC 3461 §4.4: the sender's envelope identifier, xtext-decoded.
    pub envid: Option<String>,
}

/// Validated RCPT parameters (RFC 3461 §4.1, §4.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RcptParams {
    pub notify: Option<Notify>,
    pub orcpt: Option<Orcpt>,
}

/// Verbs RFC 5321 and its extensions define that congvu does not offer (RFC 5321
/// §4.2.4: 502). EXPN so that lists cannot be harvested (§3.5.3).
const NOT_IMPLEMENTED: [&[u8]; 7] = [b"EXPN", b"TURN", b"ETRN", b"ATRN", b"SEND", b"SOML", b"SAML"];

/// Parses one command line, CRLF removed. Verbs are case-insensitive everywhere
/// (RFC 5321 §2.4); see [`Strictness`] for what else varies.
pub fn parse_command(line: &[u8], strictness: Strictness) -> Result<Command, ParseError> {
    let line = match strictness {
        Strictness::Strict => line,
        Strictness::Lenient => line.trim_ascii_end(),
    };
    let verb_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let (verb, args) = line.split_at(verb_end);
    let mut cursor = Cursor::new(args);
    let verb = verb.to_ascii_uppercase();
    match verb.as_slice() {
        b"EHLO" => helo_name(&mut cursor, strictness).map(Command::Ehlo),
        b"HELO" => helo_name(&mut cursor, strictness).map(Command::Helo),
        b"MAIL" => mail(&mut cursor, strictness),
        b"RCPT" => rcpt(&mut cursor, strictness),
        b"DATA" => no_arguments(&cursor, Command::Data),
        b"BDAT" => bdat(&mut cursor, strictness),
        b"RSET" => no_arguments(&cursor, Command::Rset),
        b"QUIT" => no_arguments(&cursor, Command::Quit),
        // RFC 3207 §4: "STARTTLS" with no parameters.
        b"STARTTLS" => no_arguments(&cursor, Command::StartTls),
        // RFC 5321 §4.1.1.9 and §4.1.1.8: an argument is allowed and ignored.
        b"NOOP" => Ok(Command::Noop),
        b"HELP" => Ok(Command::Help),
        b"VRFY" if cursor.separator(strictness) && !cursor.is_empty() => Ok(Command::Vrfy),
        b"VRFY" => Err(ParseError::Syntax("VRFY needs an argument")),
        b"AUTH" => auth(&mut cursor, strictness),
        v if NOT_IMPLEMENTED.contains(&v) => Err(ParseError::NotImplemented),
        _ => Err(ParseError::UnknownCommand),
    }
}

fn no_arguments(cursor: &Cursor<'_>, command: Command) -> Result<Command, ParseError> {
    if cursor.is_empty() {
        Ok(command)
    } else {
        Err(ParseError::Syntax("no arguments allowed"))
    }
}

/// `"EHLO" SP ( Domain / address-literal )`
fn helo_name(cursor: &mut Cursor<'_>, strictness: Strictness) -> Result<HeloName, ParseError> {
    if !cursor.separator(strictness) {
        return Err(ParseError::Syntax("EHLO/HELO needs a domain"));
    }
    let token = cursor.take_while(|b| b != b' ');
    // Lenient: Some clients append text after the name; only the name matters.
    if strictness == Strictness::Strict && !cursor.is_empty() {
        return Err(ParseError::Syntax("EHLO/HELO takes one argument"));
    }
    HeloName::parse(token, strictness).ok_or(ParseError::Syntax("invalid EHLO/HELO domain"))
}

/// `"MAIL FROM:" Reverse-path [SP Mail-parameters]`
fn mail(cursor: &mut Cursor<'_>, strictness: Strictness) -> Result<Command, ParseError> {
    keyword(cursor, strictness, b"from:")?;
    let from = path::reverse_path(cursor, strictness).map_err(ParseError::Sender)?;
    let mut params = MailParams::default();
    let mut seen = Vec::new();
    while let Some(Param { keyword, value }) = parameter(cursor, strictness)? {
        first_time(&mut seen, &keyword)?;
        match (keyword.as_slice(), value) {
            (b"SIZE", Some(v)) => params.size = Some(size_value(v)?),
            (b"BODY", Some(v)) if v.eq_ignore_ascii_case(b"7BIT") => params.body = Some(Body::SevenBit),
            (b"BODY", Some(v)) if v.eq_ignore_ascii_case(b"8BITMIME") => {
                params.body = Some(Body::EightBitMime)
            }
            (b"SMTPUTF8", None) => params.smtputf8 = true,
            (b"RET", Some(v)) => params.ret = Some(dsn::ret(v)?),
            (b"ENVID", Some(v)) => params.envid = Some(dsn::envid(v)?),
            // RFC 4954 §5: the AUTH parameter of a trusted submitter; congvu knows the
            // submitter from its own AUTH, so the value is accepted and ignored.
            (b"AUTH", Some(_)) if strictness == Strictness::Lenient => {}
            _ => return Err(ParseError::UnknownParameter),
        }
    }
    Ok(Command::Mail { from, params })
}

/// RFC 5321 §4.1.2: a parameter may not be given twice. `seen` holds the keywords
/// of the line so far (upper-cased).
fn first_time(seen: &mut Vec<Vec<u8>>, keyword: &[u8]) -> Result<(), ParseError> {
    if seen.iter().any(|k| k == keyword) {
        return Err(ParseError::Syntax("duplicate parameter"));
    }
    seen.push(keyword.to_vec());
    Ok(())
}

/// `"RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )
/// [SP Rcpt-parameters]`
fn rcpt(cursor: &mut Cursor<'_>, strictness: Strictness) -> Result<Command, ParseError> {
    keyword(cursor, strictness, b"to:")?;
    let to = path::forward_path(cursor, strictness).map_err(ParseError::Recipient)?;
    let mut params = RcptParams::default();
    let mut seen = Vec::new();
    while let Some(Param { keyword, value }) = parameter(cursor, strictness)? {
        first_time(&mut seen, &keyword)?;
        match (keyword.as_slice(), value) {
            (b"NOTIFY", Some(v)) => params.notify = Some(dsn::notify(v)?),
            (b"ORCPT", Some(v)) => params.orcpt = Some(dsn::orcpt(v)?),
            _ => return Err(ParseError::UnknownParameter),
        }
    }
    Ok(Command::Rcpt { to, params })
}

/// `"BDAT" SP chunk-size [SP end-marker]`, `chunk-size = 1*DIGIT`, `end-marker =
/// "LAST"` (RFC 3030 §2). A size that does not fit a `u64` is no size: the chunk
/// cannot be skipped ([`ParseError::ChunkSize`] carries `None`).
fn bdat(cursor: &mut Cursor<'_>, strictness: Strictness) -> Result<Command, ParseError> {
    if !cursor.separator(strictness) {
        return Err(ParseError::ChunkSize(None));
    }
    let token = cursor.take_while(|b| b != b' ');
    let size = token.iter().try_fold(0u64, |n, &d| {
        let digit = char::from(d).to_digit(10)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    });
    let size = match size {
        Some(size) if !token.is_empty() => size,
        _ => return Err(ParseError::ChunkSize(None)),
    };
    let last = if cursor.is_empty() {
        false
    } else if cursor.separator(strictness) && cursor.eat_ignore_case(b"last") && cursor.is_empty() {
        true
    } else {
        // The size is known, so the octets can still be read past (RFC 3030 §2).
        return Err(ParseError::ChunkSize(Some(size)));
    };
    Ok(Command::Bdat { size, last })
}

/// The ` FROM:` / ` TO:` after the verb. Lenient: spaces around it (Outlook and
/// several scripts send `MAIL FROM: <a@b>`).
fn keyword(cursor: &mut Cursor<'_>, strictness: Strictness, keyword: &[u8]) -> Result<(), ParseError> {
    if !cursor.separator(strictness) || !cursor.eat_ignore_case(keyword) {
        return Err(ParseError::Syntax("expected FROM:/TO:"));
    }
    if strictness == Strictness::Lenient {
        cursor.take_while(|b| b == b' ');
    }
    Ok(())
}

/// `esmtp-param = esmtp-keyword ["=" esmtp-value]` (RFC 5321 §4.1.2).
struct Param<'a> {
    /// Upper-cased.
    keyword: Vec<u8>,
    value: Option<&'a [u8]>,
}

/// The next parameter; `None` at the end of the line.
fn parameter<'a>(cursor: &mut Cursor<'a>, strictness: Strictness) -> Result<Option<Param<'a>>, ParseError> {
    if cursor.is_empty() {
        return Ok(None);
    }
    if !cursor.separator(strictness) {
        return Err(ParseError::Syntax("expected a space before the parameter"));
    }
    // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    let name = cursor.take_while(|b| b.is_ascii_alphanumeric() || b == b'-');
    if name.first().is_none_or(|b| *b == b'-') {
        return Err(ParseError::Syntax("bad parameter keyword"));
    }
    let value = if cursor.eat(b"=") {
        // esmtp-value = 1*(%d33-60 / %d62-126), UTF-8 allowed by RFC 6531 §3.3.
        let value = cursor.take_while(|b| matches!(b, 33..=60 | 62..=126 | 0x80..));
        if value.is_empty() {
            return Err(ParseError::Syntax("empty parameter value"));
        }
        Some(value)
    } else {
        None
    };
    if !cursor.is_empty() && cursor.peek() != Some(b' ') {
        return Err(ParseError::Syntax("bad parameter"));
    }
    Ok(Some(Param {
        keyword: name.to_ascii_uppercase(),
        value,
    }))
}

/// RFC 1870: `size-value ::= 1*20DIGIT`. Values beyond `u64` saturate: they are over
/// any limit anyway.
fn size_value(value: &[u8]) -> Result<u64, ParseError> {
    if value.is_empty() || value.len() > 20 || !value.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Syntax("bad SIZE value"));
    }
    Ok(value.iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// `"AUTH" SP sasl-mech [SP initial-response]` (RFC 4954 §4). Lenient: several
/// spaces (some clients send `AUTH PLAIN  <base64>`).
fn auth(cursor: &mut Cursor<'_>, strictness: Strictness) -> Result<Command, ParseError> {
    if !cursor.separator(strictness) {
        return Err(ParseError::Syntax("AUTH needs a mechanism"));
    }
    let mechanism = cursor.take_while(|b| b != b' ');
    let mechanism = if mechanism.eq_ignore_ascii_case(b"PLAIN") {
        Mechanism::Plain
    } else if mechanism.eq_ignore_ascii_case(b"LOGIN") {
        Mechanism::Login
    } else {
        return Err(ParseError::UnsupportedMechanism);
    };
    let initial = if cursor.is_empty() {
        None
    } else {
        if !cursor.separator(strictness) {
            return Err(ParseError::Syntax("bad AUTH arguments"));
        }
        let response = cursor.take_while(|b| b != b' ');
        if !cursor.is_empty() {
            return Err(ParseError::Syntax("bad AUTH arguments"));
        }
        // RFC 4954 §4: "=" is an empty initial response.
        Some(Secret::new(if response == b"=" {
            Vec::new()
        } else {
            sasl::decode_base64(response)?
        }))
    };
    Ok(Command::Auth { mechanism, initial })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::parse::PathError;
    use crate::smtp::reply::Reply;
    use Strictness::{Lenient, Strict};

    fn ok(line: &str, strictness: Strictness) -> Command {
        parse_command(line.as_bytes(), strictness).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    fn mail_from(line: &str, strictness: Strictness) -> (String, MailParams) {
        match ok(line, strictness) {
            Command::Mail { from, params } => (from.to_string(), params),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn simple_verbs_in_any_case() {
        let cases = [
            ("DATA", Command::Data),
            ("data", Command::Data),
            ("RsEt", Command::Rset),
            ("QUIT", Command::Quit),
            ("NOOP", Command::Noop),
            ("NOOP anything at all", Command::Noop),
            ("HELP", Command::Help),
            ("HELP MAIL", Command::Help),
            ("VRFY postmaster", Command::Vrfy),
            ("STARTTLS", Command::StartTls),
            ("starttls", Command::StartTls),
        ];
        for (line, command) in cases {
            assert_eq!(ok(line, Strict), command, "{line}");
            assert_eq!(ok(line, Lenient), command, "{line}");
        }
    }

    #[test]
    fn ehlo_and_helo() {
        assert_eq!(ok("EHLO mail.x.vn", Strict), ok("ehlo mail.x.vn", Lenient));
        assert!(matches!(ok("HELO [10.0.0.1]", Strict), Command::Helo(h) if h.as_str() == "[10.0.0.1]"));
        assert!(matches!(ok("EHLO  pc_01 extra words ", Lenient), Command::Ehlo(h) if h.as_str() == "pc_01"));
        for line in [
            "EHLO",
            "EHLO ",
            "EHLO  x.vn",
            "EHLO x.vn junk",
            "EHLO pc_01",
            "HELO x(y)",
        ] {
            assert!(
                matches!(parse_command(line.as_bytes(), Strict), Err(ParseError::Syntax(_))),
                "{line}"
            );
        }
    }

    #[test]
    fn mail_from_paths_and_quirks() {
        let cases: [(&str, Strictness, Result<&str, ParseError>); 10] = [
            ("MAIL FROM:<a@x.vn>", Strict, Ok("<a@x.vn>")),
            ("mail from:<a@x.vn>", Strict, Ok("<a@x.vn>")),
            ("MAIL FROM:<>", Strict, Ok("<>")),
            (
                "MAIL FROM: <a@x.vn>",
                Strict,
                Err(ParseError::Sender(PathError::Brackets)),
            ),
            ("MAIL FROM: <a@x.vn>", Lenient, Ok("<a@x.vn>")),
            ("MAIL  FROM:  <a@x.vn>  ", Lenient, Ok("<a@x.vn>")),
            (
                "MAIL FROM:<a@x.vn> ",
                Strict,
                Err(ParseError::Syntax("bad parameter keyword")),
            ),
            (
                "MAIL FROM:a@x.vn",
                Lenient,
                Err(ParseError::Sender(PathError::Brackets)),
            ),
            (
                "MAIL TO:<a@x.vn>",
                Lenient,
                Err(ParseError::Syntax("expected FROM:/TO:")),
            ),
            ("MAIL", Strict, Err(ParseError::Syntax("expected FROM:/TO:"))),
        ];
        for (line, strictness, expected) in cases {
            let got = parse_command(line.as_bytes(), strictness).map(|c| match c {
                Command::Mail { from, .. } => from.to_string(),
                other => panic!("{other:?}"),
            });
            assert_eq!(got.as_deref().map_err(|e| *e), expected, "{line} {strictness:?}");
        }
    }

    #[test]
    fn mail_parameters() {
        let (_, p) = mail_from("MAIL FROM:<a@x.vn> SIZE=1000 BODY=8BITMIME SMTPUTF8", Strict);
        assert_eq!(
            p,
            MailParams {
                size: Some(1000),
                body: Some(Body::EightBitMime),
                smtputf8: true,
                ..MailParams::default()
            }
        );
        let (_, p) = mail_from("MAIL FROM:<a@x.vn> body=7bit size=0", Strict);
        assert_eq!(
            p,
            MailParams {
                size: Some(0),
                body: Some(Body::SevenBit),
                ..MailParams::default()
            }
        );
        let (_, p) = mail_from("MAIL FROM:<a@x.vn> SIZE=99999999999999999999", Strict);
        assert_eq!(p.size, Some(u64::MAX));
        let (_, p) = mail_from("MAIL FROM: <a@x.vn>  SIZE=5  AUTH=<>", Lenient);
        assert_eq!(p.size, Some(5));

        let errors: [(&str, ParseError); 10] = [
            (
                "MAIL FROM:<a@x.vn> SIZE=12x",
                ParseError::Syntax("bad SIZE value"),
            ),
            (
                "MAIL FROM:<a@x.vn> SIZE=123456789012345678901",
                ParseError::Syntax("bad SIZE value"),
            ),
            (
                "MAIL FROM:<a@x.vn> SIZE=",
                ParseError::Syntax("empty parameter value"),
            ),
            ("MAIL FROM:<a@x.vn> SIZE", ParseError::UnknownParameter),
            ("MAIL FROM:<a@x.vn> BODY=BINARYMIME", ParseError::UnknownParameter),
            ("MAIL FROM:<a@x.vn> SMTPUTF8=yes", ParseError::UnknownParameter),
            ("MAIL FROM:<a@x.vn> BY=120;R", ParseError::UnknownParameter),
            ("MAIL FROM:<a@x.vn> AUTH=<>", ParseError::UnknownParameter),
            (
                "MAIL FROM:<a@x.vn> SIZE=1 SIZE=2",
                ParseError::Syntax("duplicate parameter"),
            ),
            (
                "MAIL FROM:<a@x.vn>  SIZE=1",
                ParseError::Syntax("bad parameter keyword"),
            ),
        ];
        for (line, error) in errors {
            assert_eq!(parse_command(line.as_bytes(), Strict), Err(error), "{line}");
        }
    }

    #[test]
    fn rcpt_to() {
        assert_eq!(
            ok("RCPT TO:<Postmaster>", Strict),
            Command::Rcpt {
                to: ForwardPath::Postmaster,
                params: RcptParams::default()
            }
        );
        assert!(matches!(ok("rcpt to: <a@x.vn> ", Lenient), Command::Rcpt { .. }));
        let errors: [(&str, Strictness, ParseError); 5] = [
            (
                "RCPT TO: <a@x.vn>",
                Strict,
                ParseError::Recipient(PathError::Brackets),
            ),
            ("RCPT TO:<>", Lenient, ParseError::Recipient(PathError::LocalPart)),
            ("RCPT TO:<a@x.vn> SIZE=10", Strict, ParseError::UnknownParameter),
            (
                "RCPT TO:<a@x.vn>x",
                Strict,
                ParseError::Syntax("expected a space before the parameter"),
            ),
            (
                "RCPT FROM:<a@x.vn>",
                Strict,
                ParseError::Syntax("expected FROM:/TO:"),
            ),
        ];
        for (line, strictness, error) in errors {
            assert_eq!(parse_command(line.as_bytes(), strictness), Err(error), "{line}");
        }
    }

    #[test]
    fn dsn_parameters_on_mail_and_rcpt() {
        let (_, p) = mail_from("MAIL FROM:<a@x.vn> RET=HDRS ENVID=QQ314159+2Bx", Strict);
        assert_eq!(p.ret, Some(DsnRet::Headers));
        assert_eq!(p.envid.as_deref(), Some("QQ314159+x"));
        let (_, p) = mail_from("MAIL FROM:<> ret=full", Strict);
        assert_eq!(p.ret, Some(DsnRet::Full));

        let rcpt = |line: &str| match ok(line, Strict) {
            Command::Rcpt { params, .. } => params,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            rcpt("RCPT TO:<a@x.vn> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+2Bb@c"),
            RcptParams {
                notify: Some(Notify {
                    success: true,
                    failure: false,
                    delay: true
                }),
                orcpt: Some(Orcpt {
                    addr_type: "rfc822".to_owned(),
                    value: "a+b@c".to_owned()
                }),
            }
        );
        assert_eq!(rcpt("RCPT TO:<a@x.vn> notify=never").notify, Some(Notify::NEVER));
        assert_eq!(rcpt("RCPT TO:<a@x.vn>"), RcptParams::default());

        let errors: [(&str, ParseError); 10] = [
            ("MAIL FROM:<a@x.vn> RET=ALL", ParseError::Syntax("bad RET value")),
            ("MAIL FROM:<a@x.vn> RET", ParseError::UnknownParameter),
            (
                "MAIL FROM:<a@x.vn> ENVID=a+0D+0Ab",
                ParseError::Syntax("bad ENVID value"),
            ),
            (
                "MAIL FROM:<a@x.vn> RET=FULL RET=HDRS",
                ParseError::Syntax("duplicate parameter"),
            ),
            (
                "RCPT TO:<a@x.vn> NOTIFY=NEVER,DELAY",
                ParseError::Syntax("bad NOTIFY value"),
            ),
            ("RCPT TO:<a@x.vn> NOTIFY", ParseError::UnknownParameter),
            (
                "RCPT TO:<a@x.vn> ORCPT=a@b",
                ParseError::Syntax("bad ORCPT value"),
            ),
            (
                "RCPT TO:<a@x.vn> ORCPT=rfc822;a+zz",
                ParseError::Syntax("bad ORCPT value"),
            ),
            (
                "RCPT TO:<a@x.vn> NOTIFY=DELAY notify=FAILURE",
                ParseError::Syntax("duplicate parameter"),
            ),
            ("RCPT TO:<a@x.vn> RET=FULL", ParseError::UnknownParameter),
        ];
        for (line, error) in errors {
            assert_eq!(parse_command(line.as_bytes(), Strict), Err(error), "{line}");
            assert_eq!(parse_command(line.as_bytes(), Lenient), Err(error), "{line}");
        }
        let long_envid = format!("MAIL FROM:<a@x.vn> ENVID={}", "x".repeat(101));
        assert_eq!(
            parse_command(long_envid.as_bytes(), Strict),
            Err(ParseError::Syntax("ENVID too long"))
        );
    }

    #[test]
    fn bdat_command() {
        let bdat = |size, last| Command::Bdat { size, last };
        assert_eq!(ok("BDAT 100 LAST", Strict), bdat(100, true));
        assert_eq!(ok("bdat 0 last", Strict), bdat(0, true));
        assert_eq!(ok("BDAT 65536", Strict), bdat(65536, false));
        assert_eq!(ok("BDAT 007", Strict), bdat(7, false));
        assert_eq!(ok("BDAT  12  LAST  ", Lenient), bdat(12, true));
        assert_eq!(ok("BDAT 18446744073709551615", Strict), bdat(u64::MAX, false));
        let errors: [(&str, Strictness, ParseError); 10] = [
            ("BDAT", Strict, ParseError::ChunkSize(None)),
            ("BDAT ", Strict, ParseError::ChunkSize(None)),
            ("BDAT x LAST", Strict, ParseError::ChunkSize(None)),
            ("BDAT 12x", Strict, ParseError::ChunkSize(None)),
            ("BDAT -1", Strict, ParseError::ChunkSize(None)),
            ("BDAT 18446744073709551616", Strict, ParseError::ChunkSize(None)),
            ("BDAT  12", Strict, ParseError::ChunkSize(None)),
            ("BDAT 12 FIRST", Strict, ParseError::ChunkSize(Some(12))),
            ("BDAT 12 LAST x", Lenient, ParseError::ChunkSize(Some(12))),
            ("BDAT 12  LAST", Strict, ParseError::ChunkSize(Some(12))),
        ];
        for (line, strictness, error) in errors {
            assert_eq!(parse_command(line.as_bytes(), strictness), Err(error), "{line}");
        }
        assert_eq!(ParseError::ChunkSize(Some(1)).reply(), Reply::SYNTAX_ERROR);
    }

    #[test]
    fn auth_command() {
        let expect = |line: &str, strictness, mechanism, initial: Option<&[u8]>| {
            assert_eq!(
                ok(line, strictness),
                Command::Auth {
                    mechanism,
                    initial: initial.map(|i| Secret::new(i.to_vec()))
                },
                "{line}"
            );
        };
        expect("AUTH PLAIN", Strict, Mechanism::Plain, None);
        expect("auth login", Strict, Mechanism::Login, None);
        expect("AUTH PLAIN AHUAcA==", Strict, Mechanism::Plain, Some(b"\0u\0p"));
        expect("AUTH PLAIN =", Strict, Mechanism::Plain, Some(b""));
        expect("AUTH PLAIN  AHUAcA==", Lenient, Mechanism::Plain, Some(b"\0u\0p"));
        expect("AUTH LOGIN dXNlcg", Strict, Mechanism::Login, Some(b"user"));
        let errors: [(&str, ParseError); 5] = [
            ("AUTH PLAIN  AHUAcA==", ParseError::Syntax("bad AUTH arguments")),
            ("AUTH CRAM-MD5", ParseError::UnsupportedMechanism),
            ("AUTH", ParseError::Syntax("AUTH needs a mechanism")),
            ("AUTH PLAIN !!!", ParseError::Base64),
            ("AUTH PLAIN AHUAcA== x", ParseError::Syntax("bad AUTH arguments")),
        ];
        for (line, error) in errors {
            assert_eq!(parse_command(line.as_bytes(), Strict), Err(error), "{line}");
        }
    }

    #[test]
    fn auth_debug_hides_the_credentials() {
        let command = ok("AUTH PLAIN AHVzZXIAc2VjcmV0", Strict);
        assert!(!format!("{command:?}").contains("secret"));
    }

    #[test]
    fn unknown_unimplemented_and_garbage() {
        let cases: [(&[u8], ParseError); 9] = [
            (b"TURN", ParseError::NotImplemented),
            (b"EXPN staff", ParseError::NotImplemented),
            (b"ETRN x.vn", ParseError::NotImplemented),
            (b"FOO", ParseError::UnknownCommand),
            (b"", ParseError::UnknownCommand),
            (b"\x00\xff\xfe\x80 \x01", ParseError::UnknownCommand),
            (b"GET / HTTP/1.1", ParseError::UnknownCommand),
            (b"DATA x", ParseError::Syntax("no arguments allowed")),
            (b"VRFY", ParseError::Syntax("VRFY needs an argument")),
        ];
        for (line, error) in cases {
            assert_eq!(
                parse_command(line, Strict),
                Err(error),
                "{:?}",
                String::from_utf8_lossy(line)
            );
            assert_eq!(parse_command(line, Lenient), Err(error));
        }
        // Every prefix of every valid line, and byte noise, parse without panicking.
        let samples: [&[u8]; 4] = [
            b"MAIL FROM:<\"a\\\"b\"@[IPv6:::1]> SIZE=10 BODY=8BITMIME SMTPUTF8",
            b"RCPT TO:<@a.vn,@b.vn:nguy\xe1\xbb\x85n@x.vn>",
            b"AUTH PLAIN AHVzZXIAc2VjcmV0",
            b"EHLO [192.0.2.1]",
        ];
        for sample in samples {
            for end in 0..=sample.len() {
                for strictness in [Strict, Lenient] {
                    let _ = parse_command(&sample[..end], strictness);
                }
            }
        }
        const ALPHABET: &[u8] = b"MAILRCPT FROM:TO<>@.\"\\=[]SIZE \x00\xff";
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            let line: Vec<u8> = (0..40)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ALPHABET[(state % ALPHABET.len() as u64) as usize]
                })
                .collect();
            let _ = parse_command(&line, Lenient);
        }
    }
}
