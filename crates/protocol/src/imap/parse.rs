//! The command parser: one framed command (bytes, final CRLF included) in, a typed
//! [`Command`] or a [`ParseError`] out. No I/O, no allocation sized by the client
//! beyond the bytes already framed.

use crate::Secret;
use crate::{FlagOp, Flags};

use super::command::{
    Command, CommandBody, FlagSet, ListOptions, MailboxName, QResyncParams, SearchReturn, SelectParams,
    StatusItem, Tag,
};
use super::datetime::parse_date_time;
use super::fetch::parse_fetch_attrs;
use super::lexer::{Cursor, Lex, Syntax};
use super::mutf7::NameEncoding;
use super::response::Code;
use super::search::parse_search;
use super::sequence::{MessageSet, SequenceSet};
use super::sort::{parse_sort, parse_thread};

/// A command that could not be parsed. `tag` is known when the line began with a
/// valid one, so the `BAD` can be tagged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub tag: Option<Tag>,
    pub reason: &'static str,
    /// Set when the command is well-formed (RFC 3501 §9) but a mailbox name in it
    /// is not one the server can hold — an atom such as `&'+` that is not valid
    /// modified UTF-7 (§5.1.3): the answer is `NO` with this code, not `BAD`.
    pub refusal: Option<Code>,
}

/// Why a well-formed mailbox argument names nothing; see [`ParseError::refusal`].
const UNDECODABLE_MUTF7: &str = "No such mailbox: the name is not valid modified UTF-7";
const UNDECODABLE_UTF8: &str = "No such mailbox: the name is not UTF-8 text";

/// Parses a command of a session that has not enabled UTF-8 (names in modified UTF-7).
pub fn parse_command(buf: &[u8]) -> Result<Command, ParseError> {
    parse_command_with(buf, NameEncoding::ModifiedUtf7)
}

/// Parses a command, reading mailbox names as the session spells them (RFC 6855 §3).
pub fn parse_command_with(buf: &[u8], names: NameEncoding) -> Result<Command, ParseError> {
    let mut c = Cursor::new(buf);
    c.names = names;
    let tag = match c.tag() {
        Ok(tag) => Tag(tag.to_owned()),
        Err(Syntax(reason)) => {
            return Err(ParseError {
                tag: None,
                reason,
                refusal: None,
            });
        }
    };
    let mut verb = String::new();
    let body = c.sp().and_then(|()| {
        verb = c.atom()?.to_ascii_uppercase();
        let body = parse_body(&mut c, &verb)?;
        c.eol()?;
        Ok(body)
    });
    match body {
        Ok(body) => Ok(Command { tag, body }),
        Err(Syntax(reason)) => {
            // A name the server cannot hold can never be created (RFC 5530 CANNOT),
            // and names no existing mailbox (NONEXISTENT).
            let undecodable = reason == UNDECODABLE_MUTF7 || reason == UNDECODABLE_UTF8;
            let refusal = match (undecodable, verb.as_str()) {
                (false, _) => None,
                (true, "CREATE" | "RENAME") => Some(Code::Cannot),
                (true, _) => Some(Code::NonExistent),
            };
            Err(ParseError {
                tag: Some(tag),
                reason,
                refusal,
            })
        }
    }
}

fn parse_body(c: &mut Cursor<'_>, verb: &str) -> Lex<CommandBody> {
    use CommandBody::*;
    Ok(match verb {
        "CAPABILITY" => Capability,
        "NOOP" => Noop,
        "LOGOUT" => Logout,
        "STARTTLS" => StartTls,
        "NAMESPACE" => Namespace,
        "CHECK" => Check,
        "CLOSE" => Close,
        "UNSELECT" => Unselect,
        "EXPUNGE" => Expunge(None),
        "IDLE" => Idle,
        "AUTHENTICATE" => {
            c.sp()?;
            let mechanism = c.atom()?.to_ascii_uppercase();
            let initial_response = if c.try_sp() {
                Some(Secret::new(c.until_eol().to_vec()))
            } else {
                None
            };
            Authenticate {
                mechanism,
                initial_response,
            }
        }
        "LOGIN" => {
            c.sp()?;
            let username = c.astring_utf8()?;
            c.sp()?;
            let password = Secret::new(c.astring_utf8()?);
            Login { username, password }
        }
        "ENABLE" => {
            let mut capabilities = Vec::new();
            while c.try_sp() {
                capabilities.push(c.atom()?.to_owned());
            }
            if capabilities.is_empty() {
                return Err(Syntax("ENABLE needs a capability"));
            }
            Enable(capabilities)
        }
        "ID" => {
            c.sp()?;
            Id(id_params(c)?)
        }
        "SELECT" | "EXAMINE" => Select {
            mailbox: arg_mailbox(c)?,
            read_only: verb == "EXAMINE",
            params: if c.try_sp() {
                select_params(c)?
            } else {
                SelectParams::default()
            },
        },
        "CREATE" => {
            let mailbox = arg_mailbox(c)?;
            let mut special_use = Vec::new();
            // RFC 6154 §3 / RFC 4466 create-param: `(USE (\Sent))`.
            if c.try_sp() {
                c.expect(b'(', "Expected CREATE parameters")?;
                if !c.try_keyword("USE ") {
                    return Err(Syntax("Unknown CREATE parameter"));
                }
                special_use = c.paren_list(true, |c| {
                    c.expect(b'\\', "Expected a special-use attribute")?;
                    Ok(format!("\\{}", c.atom()?))
                })?;
                c.expect(b')', "Expected ')' after CREATE parameters")?;
            }
            Create { mailbox, special_use }
        }
        "DELETE" => Delete(arg_mailbox(c)?),
        "SUBSCRIBE" => Subscribe(arg_mailbox(c)?),
        "UNSUBSCRIBE" => Unsubscribe(arg_mailbox(c)?),
        "GETQUOTAROOT" => GetQuotaRoot(arg_mailbox(c)?),
        "SETACL" | "DELETEACL" | "GETACL" | "LISTRIGHTS" | "MYRIGHTS" => super::acl::parse_acl(c, verb)?,
        "GETQUOTA" => {
            c.sp()?;
            GetQuota(c.astring_utf8()?)
        }
        "RENAME" => Rename {
            from: arg_mailbox(c)?,
            to: arg_mailbox(c)?,
        },
        "LIST" | "LSUB" => {
            c.sp()?;
            let lsub = verb == "LSUB";
            let mut options = ListOptions::default();
            if !lsub && c.peek() == Some(b'(') {
                list_selection(c, &mut options)?;
                c.sp()?;
            }
            let reference = mailbox_text(c.names, &c.astring()?)?;
            c.sp()?;
            let patterns = if !lsub && c.peek() == Some(b'(') {
                c.paren_list(false, |c| Ok(list_pattern(c.names, &c.list_mailbox()?)))?
            } else {
                vec![list_pattern(c.names, &c.list_mailbox()?)]
            };
            let patterns = patterns.into_iter().flatten().collect();
            if !lsub && c.try_keyword(" RETURN ") {
                c.paren_list(true, |c| list_return(c, &mut options))?;
            }
            List {
                reference,
                patterns,
                subscribed_only: lsub,
                options,
            }
        }
        "STATUS" => {
            let mailbox = arg_mailbox(c)?;
            c.sp()?;
            let items = c.paren_list(false, status_item)?;
            Status { mailbox, items }
        }
        "APPEND" => append(c)?,
        "UID" => {
            c.sp()?;
            let verb = c.atom()?.to_ascii_uppercase();
            match verb.as_str() {
                "FETCH" | "SEARCH" | "STORE" | "COPY" | "MOVE" | "SORT" | "THREAD" => {
                    selected_command(c, &verb, true)?
                }
                "EXPUNGE" => {
                    c.sp()?;
                    Expunge(Some(MessageSet::parse(c)?))
                }
                _ => return Err(Syntax("Unknown UID command")),
            }
        }
        "FETCH" | "SEARCH" | "STORE" | "COPY" | "MOVE" | "SORT" | "THREAD" => {
            selected_command(c, verb, false)?
        }
        // RFC 4978 §3: `COMPRESS SP algorithm`.
        "COMPRESS" => {
            c.sp()?;
            Compress(c.atom()?.to_owned())
        }
        _ => return Err(Syntax("Unknown command")),
    })
}

/// The commands that exist in plain and UID form.
fn selected_command(c: &mut Cursor<'_>, verb: &str, uid: bool) -> Lex<CommandBody> {
    c.sp()?;
    if verb == "SEARCH" {
        let ret = if c.try_keyword("RETURN ") {
            let options = c.paren_list(true, search_return)?;
            c.sp()?;
            Some(options)
        } else {
            None
        };
        let (charset, key) = parse_search(c)?;
        return Ok(CommandBody::Search {
            uid,
            ret,
            charset,
            key,
        });
    }
    if verb == "SORT" {
        let (criteria, charset, key) = parse_sort(c)?;
        return Ok(CommandBody::Sort {
            uid,
            criteria,
            charset,
            key,
        });
    }
    if verb == "THREAD" {
        let (algorithm, charset, key) = parse_thread(c)?;
        return Ok(CommandBody::Thread {
            uid,
            algorithm,
            charset,
            key,
        });
    }
    let set = MessageSet::parse(c)?;
    Ok(match verb {
        "FETCH" => {
            c.sp()?;
            let attrs = parse_fetch_attrs(c)?;
            let (mut changed_since, mut vanished) = (None, false);
            if c.try_sp() {
                // RFC 4466 §2.4 fetch-modifiers; RFC 7162 defines the two known.
                for modifier in c.paren_list(false, fetch_modifier)? {
                    match modifier {
                        FetchModifier::ChangedSince(n) => changed_since = Some(n),
                        FetchModifier::Vanished => vanished = true,
                    }
                }
            }
            CommandBody::Fetch {
                uid,
                set,
                attrs,
                changed_since,
                vanished,
            }
        }
        "STORE" => {
            c.sp()?;
            // RFC 7162 §3.1.3: `STORE set (UNCHANGEDSINCE n) +FLAGS …`.
            let unchanged_since = if c.try_byte(b'(') {
                if !c.try_keyword("UNCHANGEDSINCE ") {
                    return Err(Syntax("Unknown STORE modifier"));
                }
                let n = c.mod_sequence()?;
                c.expect(b')', "Expected ')' after STORE modifier")?;
                c.sp()?;
                Some(n)
            } else {
                None
            };
            let op = if c.try_byte(b'+') {
                FlagOp::Add
            } else if c.try_byte(b'-') {
                FlagOp::Remove
            } else {
                FlagOp::Replace
            };
            if !c.try_keyword("FLAGS") {
                return Err(Syntax("Expected FLAGS"));
            }
            let silent = c.try_keyword(".SILENT");
            c.sp()?;
            // RFC 3501 §9 store-att-flags: a flag list, or flags without parentheses.
            let flags = if c.peek() == Some(b'(') {
                flag_list(c)?
            } else {
                let mut flags = vec![flag(c)?];
                while c.try_sp() {
                    flags.push(flag(c)?);
                }
                flags
            };
            CommandBody::Store {
                uid,
                set,
                op,
                silent,
                flags: collect_flags(flags),
                unchanged_since,
            }
        }
        "COPY" => CommandBody::Copy {
            uid,
            set,
            mailbox: arg_mailbox(c)?,
        },
        _ => CommandBody::Move {
            uid,
            set,
            mailbox: arg_mailbox(c)?,
        },
    })
}

/// `(SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE)` (RFC 5258 §3.1, RFC 6154 §3).
fn list_selection(c: &mut Cursor<'_>, options: &mut ListOptions) -> Lex<()> {
    c.paren_list(true, |c| {
        let word = c.atom()?.to_ascii_uppercase();
        match word.as_str() {
            "SUBSCRIBED" => {
                options.select_subscribed = true;
                options.return_subscribed = true;
            }
            "SPECIAL-USE" => options.select_special_use = true,
            "RECURSIVEMATCH" => options.recursive_match = true,
            // Every mailbox is local: REMOTE changes nothing.
            "REMOTE" => {}
            _ => return Err(Syntax("Unknown LIST selection option")),
        }
        Ok(())
    })?;
    // RFC 5258 §3.1: RECURSIVEMATCH alone is a syntax error.
    if options.recursive_match && !options.select_subscribed && !options.select_special_use {
        return Err(Syntax("RECURSIVEMATCH needs another selection option"));
    }
    Ok(())
}

/// One of `SUBSCRIBED CHILDREN SPECIAL-USE STATUS (…)` (RFC 5258 §3.2, RFC 6154,
/// RFC 5819).
fn list_return(c: &mut Cursor<'_>, options: &mut ListOptions) -> Lex<()> {
    let word = c.atom()?.to_ascii_uppercase();
    match word.as_str() {
        "SUBSCRIBED" => options.return_subscribed = true,
        // Children and special-use attributes are always sent.
        "CHILDREN" | "SPECIAL-USE" => {}
        "STATUS" => {
            c.sp()?;
            options.status = Some(c.paren_list(false, status_item)?);
        }
        _ => return Err(Syntax("Unknown LIST return option")),
    }
    Ok(())
}

enum FetchModifier {
    ChangedSince(u64),
    Vanished,
}

fn fetch_modifier(c: &mut Cursor<'_>) -> Lex<FetchModifier> {
    if c.try_keyword("CHANGEDSINCE ") {
        Ok(FetchModifier::ChangedSince(c.mod_sequence()?))
    } else if c.try_keyword("VANISHED") {
        Ok(FetchModifier::Vanished)
    } else {
        Err(Syntax("Unknown FETCH modifier"))
    }
}

fn search_return(c: &mut Cursor<'_>) -> Lex<SearchReturn> {
    let word = c.atom()?;
    SearchReturn::ALL
        .into_iter()
        .find(|ret| ret.name().eq_ignore_ascii_case(word))
        .ok_or(Syntax("Unknown SEARCH RETURN option"))
}

/// `(CONDSTORE)` / `(QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]]))`.
fn select_params(c: &mut Cursor<'_>) -> Lex<SelectParams> {
    let mut params = SelectParams::default();
    c.expect(b'(', "Expected SELECT parameters")?;
    loop {
        if c.try_keyword("CONDSTORE") {
            params.condstore = true;
        } else if c.try_keyword("QRESYNC ") {
            c.expect(b'(', "Expected QRESYNC parameters")?;
            let uidvalidity = c.nz_number()?;
            c.sp()?;
            let modseq = c.mod_sequence()?;
            let mut known_uids = None;
            if c.try_sp() {
                if c.peek() != Some(b'(') {
                    known_uids = Some(SequenceSet::parse(c)?);
                    c.try_sp();
                }
                if c.try_byte(b'(') {
                    SequenceSet::parse(c)?;
                    c.sp()?;
                    SequenceSet::parse(c)?;
                    c.expect(b')', "Expected ')' after sequence match data")?;
                }
            }
            c.expect(b')', "Expected ')' after QRESYNC parameters")?;
            params.qresync = Some(QResyncParams {
                uidvalidity,
                modseq,
                known_uids,
            });
        } else {
            return Err(Syntax("Unknown SELECT parameter"));
        }
        if c.try_byte(b')') {
            return Ok(params);
        }
        c.sp()?;
    }
}

/// `append` = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal
fn append(c: &mut Cursor<'_>) -> Lex<CommandBody> {
    let mailbox = arg_mailbox(c)?;
    c.sp()?;
    let flags = if c.peek() == Some(b'(') {
        let flags = flag_list(c)?;
        c.sp()?;
        collect_flags(flags)
    } else {
        FlagSet::default()
    };
    let date = if c.peek() == Some(b'"') {
        let date = parse_date_time(c)?;
        c.sp()?;
        Some(date)
    } else {
        None
    };
    // RFC 6855 §4: `UTF8 (literal8)`, a message with UTF-8 headers, only from a
    // client that enabled UTF8=ACCEPT.
    let message = if c.try_keyword("UTF8 (") {
        if c.names != NameEncoding::Utf8 {
            return Err(Syntax("APPEND UTF8 needs ENABLE UTF8=ACCEPT"));
        }
        let message = c.literal8()?.to_vec();
        c.expect(b')', "Expected ')' after the UTF8 message")?;
        message
    // RFC 3516 §4.4: a message with binary content comes as a literal8.
    } else if c.peek() == Some(b'~') {
        c.literal8()?.to_vec()
    } else {
        c.string()?.into_owned()
    };
    Ok(CommandBody::Append {
        mailbox,
        flags,
        date,
        message,
    })
}

/// One flag as written by a client. `\Recent` cannot be set (RFC 3501 §2.3.2) and is
/// dropped rather than refused, as some clients echo it back.
enum Flag {
    System(Flags),
    Keyword(String),
    Recent,
}

fn flag(c: &mut Cursor<'_>) -> Lex<Flag> {
    if c.try_byte(b'\\') {
        let name = c.atom()?;
        if name.eq_ignore_ascii_case("Recent") {
            return Ok(Flag::Recent);
        }
        return Flags::from_name(&format!("\\{name}"))
            .map(Flag::System)
            .ok_or(Syntax("Unknown system flag"));
    }
    Ok(Flag::Keyword(c.atom()?.to_owned()))
}

fn flag_list(c: &mut Cursor<'_>) -> Lex<Vec<Flag>> {
    c.paren_list(true, flag)
}

fn collect_flags(flags: Vec<Flag>) -> FlagSet {
    let mut set = FlagSet::default();
    for flag in flags {
        match flag {
            Flag::System(f) => set.system = set.system.union(f),
            Flag::Keyword(k) => {
                if !set.keywords.iter().any(|have| have.eq_ignore_ascii_case(&k)) {
                    set.keywords.push(k);
                }
            }
            Flag::Recent => {}
        }
    }
    set
}

fn status_item(c: &mut Cursor<'_>) -> Lex<StatusItem> {
    let word = c.atom()?;
    StatusItem::ALL
        .into_iter()
        .find(|item| item.name().eq_ignore_ascii_case(word))
        .ok_or(Syntax("Unknown STATUS item"))
}

/// `id_params_list` = "(" *(string SP nstring) ")" / nil; at most 30 pairs (RFC 2971).
fn id_params(c: &mut Cursor<'_>) -> Lex<Vec<(String, Option<String>)>> {
    if c.try_keyword("NIL") {
        return Ok(Vec::new());
    }
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let items = c.paren_list(true, |c| {
        let key = text(&c.string()?);
        c.sp()?;
        let value = c.nstring()?.map(|v| text(&v));
        Ok((key, value))
    })?;
    if items.len() > 30 {
        return Err(Syntax("Too many ID fields"));
    }
    Ok(items)
}

pub(super) fn arg_mailbox(c: &mut Cursor<'_>) -> Lex<MailboxName> {
    c.sp()?;
    let name = mailbox_text(c.names, &c.astring()?)?;
    // RFC 3501 §5.1: INBOX is case-insensitive.
    if name.eq_ignore_ascii_case("INBOX") {
        return Ok(MailboxName("INBOX".into()));
    }
    Ok(MailboxName(name))
}

/// A mailbox name from the wire, in the store's UTF-8. One that does not decode is
/// still a well-formed argument: the error becomes a `NO` ([`ParseError::refusal`]).
fn mailbox_text(names: NameEncoding, bytes: &[u8]) -> Lex<String> {
    names.decode(bytes).map_err(|_| match names {
        NameEncoding::ModifiedUtf7 => Syntax(UNDECODABLE_MUTF7),
        NameEncoding::Utf8 => Syntax(UNDECODABLE_UTF8),
    })
}

/// A LIST pattern from the wire, in the store's UTF-8; `None` for one that does not
/// decode. Every stored name has a valid wire form, so such a pattern matches no
/// mailbox: LIST answers it with nothing (RFC 3501 §9 `list-mailbox` admits it).
fn list_pattern(names: NameEncoding, bytes: &[u8]) -> Option<String> {
    names.decode(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::fetch::FetchAttr;
    use crate::imap::search::SearchKey;
    use crate::imap::sequence::SeqNumber;

    fn ok(input: &str) -> CommandBody {
        match parse_command(input.as_bytes()) {
            Ok(cmd) => {
                assert_eq!(cmd.tag.as_str(), "a1", "{input}");
                cmd.body
            }
            Err(e) => panic!("{input:?}: {e:?}"),
        }
    }

    fn mailbox(name: &str) -> MailboxName {
        MailboxName(name.into())
    }

    #[test]
    fn simple_commands() {
        let cases = [
            ("a1 CAPABILITY\r\n", "CAPABILITY"),
            ("a1 noop\r\n", "NOOP"),
            ("a1 LOGOUT\r\n", "LOGOUT"),
            ("a1 STARTTLS\r\n", "STARTTLS"),
            ("a1 NAMESPACE\r\n", "NAMESPACE"),
            ("a1 CHECK\r\n", "CHECK"),
            ("a1 CLOSE\r\n", "CLOSE"),
            ("a1 UNSELECT\r\n", "UNSELECT"),
            ("a1 EXPUNGE\r\n", "EXPUNGE"),
            ("a1 IDLE\r\n", "IDLE"),
            ("a1 UID EXPUNGE 1:3\r\n", "UID EXPUNGE"),
            ("a1 ENABLE CONDSTORE\r\n", "ENABLE"),
            ("a1 ID NIL\r\n", "ID"),
            ("a1 GETQUOTA \"\"\r\n", "GETQUOTA"),
            ("a1 GETQUOTAROOT INBOX\r\n", "GETQUOTAROOT"),
        ];
        for (input, name) in cases {
            assert_eq!(ok(input).name(), name, "{input}");
        }
    }

    #[test]
    fn login_forms() {
        let cases = [
            ("a1 LOGIN user pass\r\n", "user", "pass"),
            ("a1 LOGIN user \"p a\\\"ss\"\r\n", "user", "p a\"ss"),
            ("a1 LOGIN {4}\r\nuser {5}\r\nsecrt\r\n", "user", "secrt"),
            ("a1 LOGIN {4+}\r\nuser \"x\"\r\n", "user", "x"),
            (
                "a1 login \"tuanna.sttt@thanhhoa.gov.vn\" \"Mật khẩu\"\r\n",
                "tuanna.sttt@thanhhoa.gov.vn",
                "Mật khẩu",
            ),
        ];
        for (input, user, pass) in cases {
            let CommandBody::Login { username, password } = ok(input) else {
                panic!("{input}");
            };
            assert_eq!(
                (username.as_str(), password.expose().as_str()),
                (user, pass),
                "{input}"
            );
        }
    }

    #[test]
    fn authenticate_forms() {
        let CommandBody::Authenticate {
            mechanism,
            initial_response,
        } = ok("a1 AUTHENTICATE plain\r\n")
        else {
            panic!();
        };
        assert_eq!(mechanism, "PLAIN");
        assert!(initial_response.is_none());
        let CommandBody::Authenticate { initial_response, .. } = ok("a1 AUTHENTICATE PLAIN AGEAYg==\r\n")
        else {
            panic!();
        };
        assert_eq!(initial_response.unwrap().expose(), b"AGEAYg==");
    }

    #[test]
    fn mailbox_commands() {
        assert!(
            matches!(ok("a1 SELECT inbox\r\n"), CommandBody::Select { mailbox: m, read_only: false, .. } if m == mailbox("INBOX"))
        );
        assert!(
            matches!(ok("a1 EXAMINE \"INBOX\"\r\n"), CommandBody::Select { mailbox: m, read_only: true, .. } if m == mailbox("INBOX"))
        );
        assert!(
            matches!(ok("a1 CREATE \"C&APQ-ng v&AQM-n &AREevw-n\"\r\n"), CommandBody::Create { mailbox: m, .. } if m == mailbox("Công văn đến"))
        );
        assert!(
            matches!(ok("a1 CREATE \"Công văn đến\"\r\n"), CommandBody::Create { mailbox: m, .. } if m == mailbox("Công văn đến"))
        );
        assert!(matches!(ok("a1 DELETE foo/bar\r\n"), CommandBody::Delete(m) if m == mailbox("foo/bar")));
        assert!(
            matches!(ok("a1 RENAME a b\r\n"), CommandBody::Rename { from, to } if from == mailbox("a") && to == mailbox("b"))
        );
        assert!(matches!(ok("a1 SUBSCRIBE Sent\r\n"), CommandBody::Subscribe(m) if m == mailbox("Sent")));
        assert!(matches!(ok("a1 UNSUBSCRIBE Sent\r\n"), CommandBody::Unsubscribe(m) if m == mailbox("Sent")));
        assert!(
            matches!(ok("a1 LIST \"\" \"*\"\r\n"), CommandBody::List { reference, patterns, subscribed_only: false, .. } if reference.is_empty() && patterns == ["*"])
        );
        assert!(
            matches!(ok("a1 LSUB \"\" %\r\n"), CommandBody::List { patterns, subscribed_only: true, .. } if patterns == ["%"])
        );
        assert!(
            matches!(ok("a1 LIST \"\" C&APQ-ng/%\r\n"), CommandBody::List { patterns, .. } if patterns == ["Công/%"])
        );
        let CommandBody::Status { mailbox: m, items } =
            ok("a1 STATUS INBOX (MESSAGES UNSEEN uidnext UIDVALIDITY RECENT SIZE HIGHESTMODSEQ)\r\n")
        else {
            panic!();
        };
        assert_eq!(m, mailbox("INBOX"));
        assert_eq!(items.len(), 7);
    }

    /// RFC 3501 §9: `atom` is any ATOM-CHAR, so `!#$&'+,-.…|}` is a well-formed
    /// mailbox, only not valid modified UTF-7 (§5.1.3): the command is refused with
    /// NO (CANNOT for a name to create, NONEXISTENT for one to open), never BAD; as a
    /// LIST pattern it matches nothing.
    #[test]
    fn undecodable_names_are_refused_not_syntax_errors() {
        let odd = "!#$&'+,-.0123456789:;<=>?@^_`|}";
        let refusal = |input: String| parse_command(input.as_bytes()).unwrap_err().refusal;
        for verb in ["SELECT", "EXAMINE", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE"] {
            assert_eq!(
                refusal(format!("a1 {verb} {odd}\r\n")),
                Some(Code::NonExistent),
                "{verb}"
            );
        }
        assert_eq!(
            refusal(format!("a1 STATUS {odd} (MESSAGES)\r\n")),
            Some(Code::NonExistent)
        );
        assert_eq!(refusal(format!("a1 CREATE {odd}\r\n")), Some(Code::Cannot));
        assert_eq!(refusal(format!("a1 RENAME INBOX {odd}\r\n")), Some(Code::Cannot));
        let Ok(Command {
            body: CommandBody::List { patterns, .. },
            ..
        }) = parse_command(format!("a1 LIST \"\" {odd}%*\r\n").as_bytes())
        else {
            panic!("LIST with an odd atom pattern");
        };
        assert!(patterns.is_empty(), "{patterns:?}");
        let Ok(Command {
            body: CommandBody::List { patterns, .. },
            ..
        }) = parse_command(format!("a1 LIST \"\" (INBOX {odd})\r\n").as_bytes())
        else {
            panic!("LIST with two patterns");
        };
        assert_eq!(patterns, ["INBOX"]);
        // A real syntax error stays BAD.
        assert_eq!(parse_command(b"a1 SELECT\r\n").unwrap_err().refusal, None);
    }

    /// RFC 6855 §3, §4: what changes once the session enabled UTF8=ACCEPT.
    #[test]
    fn utf8_accept_forms() {
        let utf8 = |input: &str| parse_command_with(input.as_bytes(), NameEncoding::Utf8).map(|c| c.body);
        // `&` is a character, not the start of a modified UTF-7 run.
        assert!(
            matches!(utf8("a1 CREATE \"Sở TT&TT\"\r\n"), Ok(CommandBody::Create { mailbox: m, .. }) if m == mailbox("Sở TT&TT"))
        );
        assert!(
            matches!(utf8("a1 SELECT \"C&APQ-ng\"\r\n"), Ok(CommandBody::Select { mailbox: m, .. }) if m == mailbox("C&APQ-ng"))
        );
        assert!(
            matches!(utf8("a1 SELECT inbox\r\n"), Ok(CommandBody::Select { mailbox: m, .. }) if m == mailbox("INBOX"))
        );
        assert!(
            matches!(utf8("a1 LIST \"\" \"Công văn/%\"\r\n"), Ok(CommandBody::List { patterns, .. }) if patterns == ["Công văn/%"])
        );
        assert!(
            matches!(utf8("a1 RENAME \"A&B\" \"Đã gửi\"\r\n"), Ok(CommandBody::Rename { from, to }) if from == mailbox("A&B") && to == mailbox("Đã gửi"))
        );
        // Without ENABLE the same `&` is modified UTF-7 and `Tom & Jerry` is invalid.
        assert!(parse_command(b"a1 CREATE \"Tom & Jerry\"\r\n").is_err());
        assert!(utf8("a1 CREATE \"Tom & Jerry\"\r\n").is_ok());
        // Bytes that are not UTF-8 are refused either way.
        assert!(parse_command_with(b"a1 CREATE \"caf\xe9\"\r\n", NameEncoding::Utf8).is_err());
        // UTF-8 search strings without a charset (the op layer refuses a label, RFC 6855 §3).
        assert!(
            matches!(utf8("a1 SEARCH SUBJECT \"công văn\"\r\n"), Ok(CommandBody::Search { charset: None, key: SearchKey::Header(f, v), .. }) if f == "SUBJECT" && v == "công văn")
        );
        // APPEND's `UTF8 (~{n})` (RFC 6855 §4), only once enabled.
        let append = "a1 APPEND Sent (\\Seen) UTF8 (~{14+}\r\nSubject: Đi\r\n)\r\n";
        let Ok(CommandBody::Append {
            mailbox: m,
            flags,
            message,
            ..
        }) = utf8(append)
        else {
            panic!("{append}");
        };
        assert_eq!(
            (m, flags.system, message.as_slice()),
            (mailbox("Sent"), Flags::SEEN, "Subject: Đi\r\n".as_bytes())
        );
        assert!(parse_command(append.as_bytes()).is_err());
        assert!(utf8("a1 APPEND Sent UTF8 (~{2+}\r\nab\r\n").is_err());
        assert!(utf8("a1 APPEND Sent UTF8 ({2+}\r\nab)\r\n").is_err());
    }

    #[test]
    fn append_forms() {
        let cases: &[(&str, Flags, usize, bool, &[u8])] = &[
            (
                "a1 APPEND INBOX {5}\r\nhello\r\n",
                Flags::empty(),
                0,
                false,
                b"hello",
            ),
            (
                "a1 APPEND INBOX {5+}\r\nhello\r\n",
                Flags::empty(),
                0,
                false,
                b"hello",
            ),
            (
                "a1 APPEND Sent (\\Seen $Sent) {2}\r\nhi\r\n",
                Flags::SEEN,
                1,
                false,
                b"hi",
            ),
            (
                "a1 APPEND Sent () \"1-Feb-1994 21:52:25 +0700\" {2}\r\nhi\r\n",
                Flags::empty(),
                0,
                true,
                b"hi",
            ),
            (
                "a1 APPEND Drafts (\\Draft \\Recent) \" 1-Feb-1994 21:52:25 -0800\" {0}\r\n\r\n",
                Flags::DRAFT,
                0,
                true,
                b"",
            ),
        ];
        for (input, want_flags, keywords, has_date, body) in cases {
            let CommandBody::Append {
                flags, date, message, ..
            } = ok(input)
            else {
                panic!("{input}");
            };
            assert_eq!(flags.system, *want_flags, "{input}");
            assert_eq!(flags.keywords.len(), *keywords, "{input}");
            assert_eq!(date.is_some(), *has_date, "{input}");
            assert_eq!(message, *body, "{input}");
        }
    }

    #[test]
    fn selected_commands() {
        let CommandBody::Fetch { uid, set, attrs, .. } = ok("a1 UID FETCH 1:* (UID FLAGS)\r\n") else {
            panic!();
        };
        assert!(uid);
        assert_eq!(
            set,
            MessageSet::Numbers(SequenceSet(vec![(SeqNumber::Value(1), SeqNumber::Largest)]))
        );
        assert_eq!(attrs, vec![FetchAttr::Uid, FetchAttr::Flags]);

        // RFC 5182: `$` stands for the saved result wherever a set may be.
        for input in [
            "a1 FETCH $ (FLAGS)\r\n",
            "a1 UID STORE $ +FLAGS (\\Seen)\r\n",
            "a1 COPY $ Trash\r\n",
            "a1 UID MOVE $ Trash\r\n",
        ] {
            assert!(
                matches!(
                    ok(input),
                    CommandBody::Fetch {
                        set: MessageSet::Saved,
                        ..
                    } | CommandBody::Store {
                        set: MessageSet::Saved,
                        ..
                    } | CommandBody::Copy {
                        set: MessageSet::Saved,
                        ..
                    } | CommandBody::Move {
                        set: MessageSet::Saved,
                        ..
                    }
                ),
                "{input}"
            );
        }
        assert!(matches!(
            ok("a1 UID EXPUNGE $\r\n"),
            CommandBody::Expunge(Some(MessageSet::Saved))
        ));
        let CommandBody::Search { ret, key, .. } = ok("a1 SEARCH RETURN (SAVE MIN) UNSEEN $\r\n") else {
            panic!();
        };
        assert_eq!(ret, Some(vec![SearchReturn::Save, SearchReturn::Min]));
        assert!(matches!(key, SearchKey::And(keys) if keys[1] == SearchKey::Saved));
        assert!(matches!(
            ok("a1 SEARCH UID $\r\n"),
            CommandBody::Search {
                key: SearchKey::Saved,
                ..
            }
        ));
        assert!(parse_command(b"a1 FETCH $,1 (FLAGS)\r\n").is_err());
        assert!(parse_command(b"a1 FETCH 1:$ (FLAGS)\r\n").is_err());

        let CommandBody::Store {
            uid,
            op,
            silent,
            flags,
            ..
        } = ok("a1 UID STORE 5 +FLAGS.SILENT (\\Deleted $Junk)\r\n")
        else {
            panic!();
        };
        assert!(uid && silent && op == FlagOp::Add);
        assert_eq!(flags.system, Flags::DELETED);
        assert_eq!(flags.keywords, vec!["$Junk".to_string()]);

        let CommandBody::Store {
            op, silent, flags, ..
        } = ok("a1 STORE 1,3 -FLAGS \\Seen \\Flagged\r\n")
        else {
            panic!();
        };
        assert!(!silent && op == FlagOp::Remove);
        assert_eq!(flags.system, Flags::SEEN.union(Flags::FLAGGED));

        let CommandBody::Store { op, .. } = ok("a1 STORE 1 FLAGS ()\r\n") else {
            panic!();
        };
        assert_eq!(op, FlagOp::Replace);

        assert!(
            matches!(ok("a1 COPY 1:2 Trash\r\n"), CommandBody::Copy { uid: false, mailbox: m, .. } if m == mailbox("Trash"))
        );
        assert!(matches!(
            ok("a1 UID MOVE 4 Archive\r\n"),
            CommandBody::Move { uid: true, .. }
        ));
        assert!(matches!(
            ok("a1 UID SEARCH CHARSET UTF-8 UNSEEN\r\n"),
            CommandBody::Search { uid: true, ret: None, charset: Some(_), key: SearchKey::Flag(f, false) } if f == Flags::SEEN
        ));
    }

    #[test]
    fn list_extended_forms() {
        let list = |input: &str| match ok(input) {
            CommandBody::List {
                patterns, options, ..
            } => (patterns, options),
            _ => panic!("{input}"),
        };
        // RFC 5258 §5 examples.
        let (patterns, options) = list("a1 LIST (SUBSCRIBED) \"\" \"*\"\r\n");
        assert_eq!(patterns, ["*"]);
        assert!(options.select_subscribed && options.return_subscribed);
        let (_, options) = list("a1 LIST () \"\" \"%\" RETURN (CHILDREN)\r\n");
        assert_eq!(options, ListOptions::default());
        let (_, options) =
            list("a1 LIST (REMOTE SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)\r\n");
        assert!(options.recursive_match);
        let (patterns, _) = list("a1 LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")\r\n");
        assert_eq!(patterns, ["INBOX", "Drafts", "Sent/%"]);
        // RFC 5819 §2 example; RFC 6154 §5.1.
        let (_, options) = list("a1 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))\r\n");
        assert_eq!(
            options.status,
            Some(vec![StatusItem::Messages, StatusItem::Unseen])
        );
        let (_, options) = list("a1 LIST (SPECIAL-USE) \"\" \"*\"\r\n");
        assert!(options.select_special_use);
        for bad in [
            "a1 LIST (RECURSIVEMATCH) \"\" %\r\n",
            "a1 LIST (FROB) \"\" %\r\n",
            "a1 LIST \"\" % RETURN (FROB)\r\n",
            "a1 LIST \"\" () \r\n",
            "a1 LSUB (SUBSCRIBED) \"\" %\r\n",
        ] {
            assert!(parse_command(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn create_special_use() {
        let CommandBody::Create {
            mailbox: m,
            special_use,
        } = ok("a1 CREATE MySpecial (USE (\\Drafts \\Sent))\r\n")
        else {
            panic!();
        };
        assert_eq!(
            (m, special_use),
            (
                mailbox("MySpecial"),
                vec!["\\Drafts".to_string(), "\\Sent".to_string()]
            )
        );
        for bad in [
            "a1 CREATE x (USE (Sent))\r\n",
            "a1 CREATE x (FOO (\\Sent))\r\n",
            "a1 CREATE x (USE (\\Sent)\r\n",
        ] {
            assert!(parse_command(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn condstore_qresync_and_esearch_forms() {
        // RFC 7162 §3.1.8, §3.2.5 examples.
        let CommandBody::Select { params, .. } = ok("a1 SELECT INBOX (CONDSTORE)\r\n") else {
            panic!();
        };
        assert!(params.condstore && params.qresync.is_none());
        let qresync = |input: &str| match ok(input) {
            CommandBody::Select { params, .. } => params.qresync.expect(input),
            _ => panic!("{input}"),
        };
        let q = qresync("a1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n");
        assert_eq!((q.uidvalidity, q.modseq), (67890007, 20050715194045000));
        assert!(q.known_uids.is_some());
        let q = qresync(
            "a1 EXAMINE INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))\r\n",
        );
        assert_eq!(q.modseq, 90060115194045000);
        let q = qresync("a1 SELECT INBOX (QRESYNC (1 2))\r\n");
        assert!(q.known_uids.is_none());
        let q = qresync("a1 SELECT INBOX (QRESYNC (1 2 (1:3 4:6)))\r\n");
        assert!(q.known_uids.is_none());

        let CommandBody::Fetch {
            changed_since,
            vanished,
            ..
        } = ok("a1 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n")
        else {
            panic!();
        };
        assert_eq!((changed_since, vanished), (Some(12345), true));
        let CommandBody::Fetch { attrs, .. } = ok("a1 FETCH 1:* (FLAGS MODSEQ)\r\n") else {
            panic!();
        };
        assert_eq!(attrs, vec![FetchAttr::Flags, FetchAttr::ModSeq]);

        let CommandBody::Store {
            unchanged_since, op, ..
        } = ok("a1 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)\r\n")
        else {
            panic!();
        };
        assert_eq!((unchanged_since, op), (Some(320162338), FlagOp::Add));

        let CommandBody::Search { ret, charset, .. } =
            ok("a1 UID SEARCH RETURN (MIN count) CHARSET UTF-8 UNSEEN\r\n")
        else {
            panic!();
        };
        assert_eq!(ret, Some(vec![SearchReturn::Min, SearchReturn::Count]));
        assert!(charset.is_some());
        let CommandBody::Search { ret, .. } = ok("a1 SEARCH RETURN () ALL\r\n") else {
            panic!();
        };
        assert_eq!(ret, Some(vec![]));
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"\r\n", None),
            (b"+ NOOP\r\n", None),
            (b"\x00\x01\x02\xff\r\n", None),
            (b"a1\r\n", Some("a1")),
            (b"a1 FROB\r\n", Some("a1")),
            (b"a1 NOOP extra\r\n", Some("a1")),
            (b"a1 LOGIN user\r\n", Some("a1")),
            (b"a1 SELECT \"&Jjo\"\r\n", Some("a1")),
            (b"a1 SELECT \"caf\xff\"\r\n", Some("a1")),
            (b"a1 STORE 1 +FLAGS (\\Bogus)\r\n", Some("a1")),
            (b"a1 STORE 1 FLAG (\\Seen)\r\n", Some("a1")),
            (b"a1 FETCH 0 FLAGS\r\n", Some("a1")),
            (b"a1 FETCH 1\r\n", Some("a1")),
            (b"a1 UID FROB 1\r\n", Some("a1")),
            (b"a1 APPEND INBOX (\\Seen)\r\n", Some("a1")),
            (b"a1 STATUS INBOX (FOO)\r\n", Some("a1")),
            (b"a1 ENABLE\r\n", Some("a1")),
            (b"a1 ID (\"a\")\r\n", Some("a1")),
            (b"a1 SELECT INBOX (FROB)\r\n", Some("a1")),
            (b"a1 SELECT INBOX (QRESYNC (0 5))\r\n", Some("a1")),
            (b"a1 SELECT INBOX (QRESYNC (1))\r\n", Some("a1")),
            (b"a1 SELECT INBOX (CONDSTORE\r\n", Some("a1")),
            (b"a1 FETCH 1 FLAGS (CHANGEDSINCE)\r\n", Some("a1")),
            (
                b"a1 FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)\r\n",
                Some("a1"),
            ),
            (b"a1 FETCH 1 FLAGS (FROB 1)\r\n", Some("a1")),
            (b"a1 STORE 1 (UNCHANGEDSINCE x) FLAGS ()\r\n", Some("a1")),
            (b"a1 STORE 1 (FROB 1) FLAGS ()\r\n", Some("a1")),
            (b"a1 SEARCH RETURN (PARTIAL 1:5) ALL\r\n", Some("a1")),
            (b"a1 SEARCH RETURN ALL\r\n", Some("a1")),
        ];
        for (input, tag) in cases {
            let err = parse_command(input).expect_err(&String::from_utf8_lossy(input));
            assert_eq!(err.tag.as_ref().map(Tag::as_str), *tag, "{input:?}");
        }
    }
}

#[cfg(test)]
mod robustness {
    use super::*;
    use crate::imap::framing::{Frame, Limits, frame};

    /// Deterministic xorshift, so a failure is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Pieces that reach deep into the grammar when shuffled together.
    const PIECES: &[&[u8]] = &[
        b"a1 ",
        b"UID ",
        b"FETCH ",
        b"STORE ",
        b"SEARCH ",
        b"APPEND ",
        b"LOGIN ",
        b"LIST ",
        b"STATUS ",
        b"1:*",
        b"*",
        b",",
        b":",
        b"4294967296",
        b"0",
        b"(",
        b")",
        b"[",
        b"]",
        b"<",
        b">",
        b".",
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"{3}\r\n",
        b"{2+}\r\n",
        b"BODY[",
        b"HEADER.FIELDS",
        b" (",
        b"FLAGS",
        b"+FLAGS",
        b"\\Seen",
        b"OR ",
        b"NOT ",
        b"CHARSET ",
        b"&",
        b"-",
        b"&AGE",
        b"\r\n",
        b" ",
        b"\xff",
        b"\0",
        b"1-Feb-1994",
        b"\"1-Feb-1994 21:52:25 +0700\"",
        b"INBOX",
        b"MIME",
        b"TEXT",
        b"~",
        b"(CHANGEDSINCE 1)",
        b"(UNCHANGEDSINCE ",
        b"VANISHED",
        b"(QRESYNC (",
        b"RETURN (",
        b"MODSEQ ",
    ];

    #[test]
    fn random_input_never_panics() {
        let limits = Limits {
            max_line: 4096,
            max_append_literal: 1 << 20,
            max_other_literal: 4096,
        };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let mut input = Vec::new();
            for _ in 0..rng.next() % 24 {
                input.extend_from_slice(PIECES[(rng.next() as usize) % PIECES.len()]);
            }
            input.extend_from_slice(b"\r\n");
            if let Frame::Command(len) = frame(&input, &limits) {
                let _ = parse_command(&input[..len]);
            }
            let _ = parse_command(&input);
        }
    }
}
