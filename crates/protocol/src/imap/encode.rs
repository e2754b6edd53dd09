//! The command encoder: a typed [`Command`] back into the bytes a client sends, in
//! the forms [`parse_command_with`](super::parse_command_with) reads. A client (the
//! migration tool, the test servers) writes its commands with it, and the
//! `imap_roundtrip` fuzz target drives parse → encode → parse.
//!
//! ## Invariants
//! 1. Round trip: for every command the parser returns, parsing what
//!    [`Command::encode_with`] writes, with the same [`NameEncoding`], gives an
//!    equal command (tested per verb below, fuzzed). Values the parser never makes
//!    (an empty sequence set or FETCH list, a flag set with several search flags)
//!    are written as faithfully as the grammar allows, not refused.
//! 2. A string takes the plainest form that carries it (RFC 3501 §4.3): an atom
//!    when it is one, a quoted string when it is short 7-bit text, else a
//!    non-synchronising literal `{n+}` (RFC 7888), which the parser takes wherever
//!    a string may stand, so the encoded command is one frame that needs no `+`.
//!    A message with NUL bytes goes as `~{n+}` (RFC 3516 literal8).
//! 3. Mailbox names go out in the session's wire form: modified UTF-7 (RFC 3501
//!    §5.1.3), or UTF-8 after `ENABLE UTF8=ACCEPT` (RFC 6855 §3), where a message
//!    with 8-bit bytes is sent as `UTF8 (~{n+}…)` (§4).
//! 4. Secrets (LOGIN's password, AUTHENTICATE's initial response) are written,
//!    since a client must send them; the encoder logs nothing, and `Command`'s
//!    `Debug` still shows them redacted.

use std::fmt::Display;

use crate::FlagOp;

use super::command::{Command, CommandBody, ListOptions, SelectParams};
use super::datetime::format_date;
use super::fetch::FetchAttr;
use super::lexer::{is_astring_char, is_list_char};
use super::mutf7::{self, NameEncoding};
use super::response::{is_quotable, is_quotable_utf8, write_flags, write_quoted};
use super::search::{FLAG_KEYS, SearchKey};

/// A LIST pattern that decodes to no name under either encoding (a control
/// character, RFC 6855 §3 / RFC 3501 §5.1.3): how a LIST whose every pattern was
/// undecodable, which the parser keeps as no pattern at all, is written again.
const UNDECODABLE_PATTERN: &[u8] = b"\"\x01\"";

impl Command {
    /// The command as a client sends it to a session that has not enabled UTF-8
    /// (mailbox names in modified UTF-7), final CRLF included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.encode_with(out, NameEncoding::ModifiedUtf7);
    }

    /// The command as a client sends it, mailbox names spelled as `names` says
    /// (RFC 6855 §3), final CRLF included.
    pub fn encode_with(&self, out: &mut Vec<u8>, names: NameEncoding) {
        let mut w = Writer { out, names };
        w.text(self.tag.as_str());
        w.sp();
        // `name` is the verb as the parser reads it: `UID FETCH`, `EXAMINE`, `LSUB`.
        w.text(self.body.name());
        w.body(&self.body);
        w.text("\r\n");
    }
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    names: NameEncoding,
}

impl Writer<'_> {
    fn text(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    fn display(&mut self, value: impl Display) {
        self.text(&value.to_string());
    }

    fn sp(&mut self) {
        self.out.push(b' ');
    }

    /// `(a b c)`, each item written by `item`.
    fn list<T>(&mut self, items: &[T], mut item: impl FnMut(&mut Self, &T)) {
        self.out.push(b'(');
        for (i, value) in items.iter().enumerate() {
            if i > 0 {
                self.sp();
            }
            item(self, value);
        }
        self.out.push(b')');
    }

    /// A non-synchronising literal (RFC 7888 §3); `~` makes it a literal8 (RFC 3516).
    fn literal(&mut self, data: &[u8], literal8: bool) {
        if literal8 {
            self.out.push(b'~');
        }
        self.text(&format!("{{{}+}}\r\n", data.len()));
        self.out.extend_from_slice(data);
    }

    /// `string`: quoted when it can be, else a literal.
    fn string(&mut self, s: &[u8]) {
        if is_quotable(s) {
            write_quoted(self.out, s);
        } else {
            self.literal(s, false);
        }
    }

    /// `astring`: an atom when every byte is an ASTRING-CHAR, else a string.
    fn astring(&mut self, s: &[u8]) {
        self.atom_or(s, is_astring_char, |w, s| w.string(s));
    }

    /// `s` bare when it is a non-empty run of `atom_char`, else as `otherwise` writes it.
    fn atom_or(&mut self, s: &[u8], atom_char: fn(u8) -> bool, otherwise: impl FnOnce(&mut Self, &[u8])) {
        if !s.is_empty() && s.iter().copied().all(atom_char) {
            self.out.extend_from_slice(s);
        } else {
            otherwise(self, s);
        }
    }

    /// A name in the session's wire form, as an astring (or, for a LIST pattern,
    /// as a `list-mailbox`, where `%` and `*` are atom characters too).
    fn name(&mut self, name: &str, atom_char: fn(u8) -> bool) {
        match self.names {
            NameEncoding::ModifiedUtf7 => {
                let wire = mutf7::encode(name);
                self.atom_or(wire.as_bytes(), atom_char, |w, s| w.string(s));
            }
            NameEncoding::Utf8 => self.atom_or(name.as_bytes(), atom_char, |w, s| {
                if is_quotable_utf8(name) {
                    write_quoted(w.out, s);
                } else {
                    w.literal(s, false);
                }
            }),
        }
    }

    fn mailbox(&mut self, name: &str) {
        self.name(name, is_astring_char);
    }

    fn body(&mut self, body: &CommandBody) {
        use CommandBody::*;
        match body {
            Capability | Noop | Logout | StartTls | Namespace | Check | Close | Unselect | Idle
            | Expunge(None) => {}
            Authenticate {
                mechanism,
                initial_response,
            } => {
                self.sp();
                self.text(mechanism);
                if let Some(response) = initial_response {
                    // RFC 4959: the rest of the line, as the client gave it.
                    self.sp();
                    self.out.extend_from_slice(response.expose());
                }
            }
            Login { username, password } => {
                self.sp();
                self.astring(username.as_bytes());
                self.sp();
                self.astring(password.expose().as_bytes());
            }
            Enable(capabilities) => {
                for capability in capabilities {
                    self.sp();
                    self.text(capability);
                }
            }
            Id(fields) => {
                self.sp();
                if fields.is_empty() {
                    self.text("NIL");
                } else {
                    self.list(fields, |w, (field, value)| {
                        w.string(field.as_bytes());
                        w.sp();
                        match value {
                            Some(value) => w.string(value.as_bytes()),
                            None => w.text("NIL"),
                        }
                    });
                }
            }
            Select { mailbox, params, .. } => {
                self.sp();
                self.mailbox(mailbox.as_str());
                self.select_params(params);
            }
            Create { mailbox, special_use } => {
                self.sp();
                self.mailbox(mailbox.as_str());
                // RFC 6154 §3.
                if !special_use.is_empty() {
                    self.text(" (USE ");
                    self.list(special_use, |w, attribute| w.text(attribute));
                    self.text(")");
                }
            }
            Delete(mailbox)
            | Subscribe(mailbox)
            | Unsubscribe(mailbox)
            | GetQuotaRoot(mailbox)
            | GetAcl(mailbox)
            | MyRights(mailbox) => {
                self.sp();
                self.mailbox(mailbox.as_str());
            }
            Rename { from, to } => {
                self.sp();
                self.mailbox(from.as_str());
                self.sp();
                self.mailbox(to.as_str());
            }
            List {
                reference,
                patterns,
                subscribed_only,
                options,
            } => self.list_command(reference, patterns, *subscribed_only, options),
            Status { mailbox, items } => {
                self.sp();
                self.mailbox(mailbox.as_str());
                self.sp();
                self.list(items, |w, item| w.text(item.name()));
            }
            Append {
                mailbox,
                flags,
                date,
                message,
            } => {
                self.sp();
                self.mailbox(mailbox.as_str());
                if flags.system != crate::Flags::empty() || !flags.keywords.is_empty() {
                    self.sp();
                    write_flags(self.out, flags.system, &flags.keywords, false);
                }
                if let Some(date) = date {
                    self.sp();
                    self.text(&date.to_imap());
                }
                self.sp();
                if self.names == NameEncoding::Utf8 && !message.is_ascii() {
                    self.text("UTF8 (");
                    self.literal(message, true);
                    self.text(")");
                } else {
                    self.literal(message, message.contains(&0));
                }
            }
            Expunge(Some(set)) => {
                self.sp();
                self.display(set);
            }
            Search {
                ret, charset, key, ..
            } => {
                self.sp();
                if let Some(options) = ret {
                    self.text("RETURN ");
                    self.list(options, |w, option| w.text(option.name()));
                    self.sp();
                }
                if let Some(charset) = charset {
                    self.text("CHARSET ");
                    self.astring(charset.as_bytes());
                    self.sp();
                }
                self.search_keys(key);
            }
            Fetch {
                set,
                attrs,
                changed_since,
                vanished,
                ..
            } => {
                self.sp();
                self.display(set);
                self.sp();
                self.list(attrs, |w, attr: &FetchAttr| w.display(attr));
                // RFC 4466 §2.4 fetch-modifiers, RFC 7162's two.
                let mut modifiers = Vec::new();
                if let Some(modseq) = changed_since {
                    modifiers.push(format!("CHANGEDSINCE {modseq}"));
                }
                if *vanished {
                    modifiers.push("VANISHED".to_owned());
                }
                if !modifiers.is_empty() {
                    self.sp();
                    self.list(&modifiers, |w, modifier| w.text(modifier));
                }
            }
            Store {
                set,
                op,
                silent,
                flags,
                unchanged_since,
                ..
            } => {
                self.sp();
                self.display(set);
                self.sp();
                if let Some(modseq) = unchanged_since {
                    self.text(&format!("(UNCHANGEDSINCE {modseq}) "));
                }
                self.text(op_prefix(*op));
                self.text(if *silent { "FLAGS.SILENT " } else { "FLAGS " });
                write_flags(self.out, flags.system, &flags.keywords, false);
            }
            Copy { set, mailbox, .. } | Move { set, mailbox, .. } => {
                self.sp();
                self.display(set);
                self.sp();
                self.mailbox(mailbox.as_str());
            }
            Sort {
                criteria,
                charset,
                key,
                ..
            } => {
                self.sp();
                self.list(criteria, |w, criterion| w.display(criterion));
                self.sp();
                self.astring(charset.as_bytes());
                self.sp();
                self.search_keys(key);
            }
            Thread {
                algorithm,
                charset,
                key,
                ..
            } => {
                self.sp();
                self.text(algorithm.name());
                self.sp();
                self.astring(charset.as_bytes());
                self.sp();
                self.search_keys(key);
            }
            Compress(mechanism) => {
                self.sp();
                self.text(mechanism);
            }
            GetQuota(root) => {
                self.sp();
                self.astring(root.as_bytes());
            }
            SetAcl {
                mailbox,
                identifier,
                change,
            } => {
                self.sp();
                self.mailbox(mailbox.as_str());
                self.sp();
                self.astring(identifier.as_bytes());
                self.sp();
                // RFC 4314 §3.1 mod-rights; the letters without the obsolete `c`/`d`,
                // which would stand for more than was granted.
                let rights = format!("{}{}", op_prefix(change.op), change.rights);
                self.astring(rights.as_bytes());
            }
            DeleteAcl { mailbox, identifier } | ListRights { mailbox, identifier } => {
                self.sp();
                self.mailbox(mailbox.as_str());
                self.sp();
                self.astring(identifier.as_bytes());
            }
        }
    }

    /// ` (CONDSTORE QRESYNC (uidvalidity modseq [known-uids]))` (RFC 7162 §3.1.8,
    /// §3.2.5), or nothing. The sequence-match data is not kept by the parser.
    fn select_params(&mut self, params: &SelectParams) {
        let mut items = Vec::new();
        if params.condstore {
            items.push("CONDSTORE".to_owned());
        }
        if let Some(qresync) = &params.qresync {
            let known = match &qresync.known_uids {
                Some(set) => format!(" {set}"),
                None => String::new(),
            };
            items.push(format!(
                "QRESYNC ({} {}{known})",
                qresync.uidvalidity, qresync.modseq
            ));
        }
        if !items.is_empty() {
            self.sp();
            self.list(&items, |w, item| w.text(item));
        }
    }

    /// LIST / LSUB with LIST-EXTENDED's selection and return options (RFC 5258 §3).
    fn list_command(&mut self, reference: &str, patterns: &[String], lsub: bool, options: &ListOptions) {
        self.sp();
        if !lsub {
            let selection = [
                (options.select_subscribed, "SUBSCRIBED"),
                (options.select_special_use, "SPECIAL-USE"),
                (options.recursive_match, "RECURSIVEMATCH"),
            ];
            let selection: Vec<&str> = selection
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, name)| *name)
                .collect();
            if !selection.is_empty() {
                self.list(&selection, |w, option| w.text(option));
                self.sp();
            }
        }
        self.mailbox(reference);
        self.sp();
        match patterns {
            [] => self.out.extend_from_slice(UNDECODABLE_PATTERN),
            [pattern] => self.name(pattern, is_list_char),
            patterns => self.list(patterns, |w, pattern| w.name(pattern, is_list_char)),
        }
        if lsub {
            return;
        }
        // RFC 5258 §3.2: a SUBSCRIBED selection implies the return option.
        let subscribed = options.return_subscribed && !options.select_subscribed;
        if subscribed || options.status.is_some() {
            self.text(" RETURN (");
            if subscribed {
                self.text("SUBSCRIBED");
            }
            if let Some(items) = &options.status {
                if subscribed {
                    self.sp();
                }
                // RFC 5819.
                self.text("STATUS ");
                self.list(items, |w, item| w.text(item.name()));
            }
            self.text(")");
        }
    }

    /// SEARCH's (and SORT's, THREAD's) criteria: the parser reads several keys
    /// at the top level as one `And`, so such an `And` goes out unparenthesised.
    fn search_keys(&mut self, key: &SearchKey) {
        match key {
            SearchKey::And(keys) if keys.len() > 1 => {
                for (i, key) in keys.iter().enumerate() {
                    if i > 0 {
                        self.sp();
                    }
                    self.search_key(key);
                }
            }
            key => self.search_key(key),
        }
    }

    /// One `search-key` (RFC 3501 §6.4.4, RFC 7162 §3.1.5, RFC 5182 §2.1).
    fn search_key(&mut self, key: &SearchKey) {
        use SearchKey::*;
        let date = |w: &mut Self, name: &str, date: &chrono::NaiveDate| {
            w.text(name);
            w.text(&format_date(*date));
        };
        match key {
            All => self.text("ALL"),
            // The parser makes no empty `And`: it means every message.
            And(keys) if keys.is_empty() => self.text("ALL"),
            And(keys) => self.list(keys, |w, key| w.search_key(key)),
            Or(a, b) => {
                self.text("OR ");
                self.search_key(a);
                self.sp();
                self.search_key(b);
            }
            Not(key) => {
                self.text("NOT ");
                self.search_key(key);
            }
            Sequence(set) => self.display(set),
            Uid(set) => {
                self.text("UID ");
                self.display(set);
            }
            Flag(flags, set) => self.flag_key(*flags, *set),
            Keyword(keyword, set) => {
                self.text(if *set { "KEYWORD " } else { "UNKEYWORD " });
                self.text(keyword);
            }
            Recent => self.text("RECENT"),
            New => self.text("NEW"),
            Old => self.text("OLD"),
            Larger(n) => self.text(&format!("LARGER {n}")),
            Smaller(n) => self.text(&format!("SMALLER {n}")),
            Before(d) => date(self, "BEFORE ", d),
            On(d) => date(self, "ON ", d),
            Since(d) => date(self, "SINCE ", d),
            SentBefore(d) => date(self, "SENTBEFORE ", d),
            SentOn(d) => date(self, "SENTON ", d),
            SentSince(d) => date(self, "SENTSINCE ", d),
            // The parser names SUBJECT's field `SUBJECT`; any other spelling came
            // from HEADER and goes back as HEADER.
            Header(field, value) if field == "SUBJECT" => {
                self.text("SUBJECT ");
                self.astring(value.as_bytes());
            }
            Header(field, value) => {
                self.text("HEADER ");
                self.astring(field.as_bytes());
                self.sp();
                self.astring(value.as_bytes());
            }
            Address(field, value) => {
                self.text(field.header_name());
                self.sp();
                self.astring(value.as_bytes());
            }
            Body(text) => {
                self.text("BODY ");
                self.astring(text.as_bytes());
            }
            Text(text) => {
                self.text("TEXT ");
                self.astring(text.as_bytes());
            }
            ModSeq(modseq) => self.text(&format!("MODSEQ {modseq}")),
            Saved => self.text("$"),
        }
    }

    /// `Flag(flags, set)`: the message has every flag of `flags` (`set`) or not
    /// all of them. One flag is its own key (`SEEN`, `UNSEEN`); several are their
    /// keys in parentheses (under `NOT` when not set); none is `ALL`.
    fn flag_key(&mut self, flags: crate::Flags, set: bool) {
        let keys: Vec<(&str, &str)> = FLAG_KEYS
            .iter()
            .filter(|(flag, _, _)| flags.contains(*flag))
            .map(|(_, on, off)| (*on, *off))
            .collect();
        match keys.as_slice() {
            [(on, off)] => self.text(if set { on } else { off }),
            keys => {
                if !set {
                    self.text("NOT ");
                }
                match keys {
                    [] => self.text("ALL"),
                    keys => self.list(keys, |w, (on, _)| w.text(on)),
                }
            }
        }
    }
}

/// STORE's `+FLAGS`/`-FLAGS`/`FLAGS` and SETACL's `+rights`/`-rights`/`rights`.
fn op_prefix(op: FlagOp) -> &'static str {
    match op {
        FlagOp::Add => "+",
        FlagOp::Remove => "-",
        FlagOp::Replace => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use crate::imap::{Frame, Limits, MailboxName, Tag, frame, parse_command_with};

    const BOTH: [NameEncoding; 2] = [NameEncoding::ModifiedUtf7, NameEncoding::Utf8];

    /// Parses `line`, encodes the command, parses that again and compares; the
    /// encoding must also be exactly one frame that asks for no `+`.
    fn round_trip(line: &[u8], names: NameEncoding) -> String {
        let shown = String::from_utf8_lossy(line);
        let first =
            parse_command_with(line, names).unwrap_or_else(|e| panic!("{shown:?} ({names:?}): {e:?}"));
        let mut wire = Vec::new();
        first.encode_with(&mut wire, names);
        let again = parse_command_with(&wire, names);
        let encoded = String::from_utf8_lossy(&wire).into_owned();
        assert_eq!(
            again.as_ref(),
            Ok(&first),
            "{shown:?} ({names:?}) encoded as {encoded:?}"
        );
        let limits = Limits {
            max_line: usize::MAX,
            max_append_literal: u64::MAX,
            max_other_literal: u64::MAX,
        };
        assert_eq!(frame(&wire, &limits), Frame::Command(wire.len()), "{encoded:?}");
        encoded
    }

    fn round_trips(lines: &[&str]) {
        for line in lines {
            for names in BOTH {
                round_trip(line.as_bytes(), names);
            }
        }
    }

    #[test]
    fn commands_without_arguments_and_the_session_ones() {
        round_trips(&[
            "a1 CAPABILITY\r\n",
            "a1 noop\r\n",
            "a1 LOGOUT\r\n",
            "a1 STARTTLS\r\n",
            "a1 NAMESPACE\r\n",
            "a1 CHECK\r\n",
            "a1 CLOSE\r\n",
            "a1 UNSELECT\r\n",
            "a1 EXPUNGE\r\n",
            "a1 IDLE\r\n",
            "a1 UID EXPUNGE 1:3,5,7:*\r\n",
            "a1 ENABLE CONDSTORE QRESYNC UTF8=ACCEPT IMAP4rev2\r\n",
            "a1 ID (\"name\" \"Thunderbird\" \"version\" NIL \"os\" {5}\r\nLi\nux)\r\n",
            "a1 ID NIL\r\n",
            "a1 ID ()\r\n",
            "a1 COMPRESS DEFLATE\r\n",
            "a1 GETQUOTA \"\"\r\n",
            "a1 GETQUOTAROOT inbox\r\n",
        ]);
        let mut out = Vec::new();
        parse_command_with(b"a1 ID ()\r\n", NameEncoding::ModifiedUtf7)
            .unwrap()
            .encode(&mut out);
        assert_eq!(out, b"a1 ID NIL\r\n");
    }

    #[test]
    fn login_and_authenticate_with_literals_and_utf8() {
        round_trips(&[
            "a1 LOGIN user pass\r\n",
            "a1 LOGIN {4}\r\nuser {5}\r\nsecrt\r\n",
            "a1 LOGIN \"a b\" {6+}\r\np\r\nass\r\n",
            "a1 LOGIN \"\" \"q\\\"uo\\\\te\"\r\n",
            "a1 login \"tuanna.sttt@thanhhoa.gov.vn\" \"Mật khẩu\"\r\n",
            "a1 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==\r\n",
            "a1 AUTHENTICATE plain\r\n",
            "a1 AUTHENTICATE PLAIN =\r\n",
        ]);
        assert_eq!(
            round_trip(
                "a1 login \"tuanna.sttt@thanhhoa.gov.vn\" \"Mật khẩu\"\r\n".as_bytes(),
                NameEncoding::ModifiedUtf7
            ),
            "a1 LOGIN tuanna.sttt@thanhhoa.gov.vn {12+}\r\nMật khẩu\r\n"
        );
        assert_eq!(
            round_trip(
                b"a1 LOGIN \"a b\" {6+}\r\np\r\nass\r\n",
                NameEncoding::ModifiedUtf7
            ),
            "a1 LOGIN \"a b\" {6+}\r\np\r\nass\r\n"
        );
        // A command a client builds: the password goes on the wire, never in Debug.
        let login = Command {
            tag: Tag("c1".into()),
            body: CommandBody::Login {
                username: "thudt.sttt@thanhhoa.gov.vn".into(),
                password: Secret::new("mật khẩu \"bí mật\"".into()),
            },
        };
        let mut wire = Vec::new();
        login.encode(&mut wire);
        assert!(String::from_utf8_lossy(&wire).contains("mật khẩu \"bí mật\""));
        assert!(!format!("{login:?}").contains("bí mật"));
        assert_eq!(parse_command_with(&wire, NameEncoding::ModifiedUtf7), Ok(login));
    }

    #[test]
    fn mailbox_commands_with_non_ascii_names() {
        round_trips(&[
            "a1 SELECT inbox (CONDSTORE)\r\n",
            "a1 EXAMINE \"Công văn đến\" (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n",
            "a1 SELECT INBOX (CONDSTORE QRESYNC (1 0 1:* (1:5 1:5)))\r\n",
            "a1 SELECT INBOX (QRESYNC (1 5))\r\n",
            "a1 SELECT \"C&APQ-ng v&AQM-n\"\r\n",
            "a1 CREATE \"Đã gửi\" (USE (\\Sent))\r\n",
            "a1 CREATE \"Tom & Jerry/台北\" (USE ())\r\n",
            "a1 CREATE {4}\r\nThư\r\n",
            "a1 CREATE &AA0ACg-\r\n",
            "a1 DELETE foo/bar\r\n",
            "a1 RENAME \"Thư nháp\" \"Lưu trữ/2024\"\r\n",
            "a1 SUBSCRIBE Sent\r\n",
            "a1 UNSUBSCRIBE \"\"\r\n",
            "a1 STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE DELETED HIGHESTMODSEQ)\r\n",
            "a1 STATUS \"Công văn đi\" (messages)\r\n",
        ]);
        let select = "a1 SELECT \"Công văn đến\" (CONDSTORE)\r\n".as_bytes();
        assert_eq!(
            round_trip(select, NameEncoding::ModifiedUtf7),
            "a1 SELECT \"C&APQ-ng v&AQM-n &AREevw-n\" (CONDSTORE)\r\n"
        );
        assert_eq!(
            round_trip(select, NameEncoding::Utf8),
            "a1 SELECT \"Công văn đến\" (CONDSTORE)\r\n"
        );
        assert_eq!(
            round_trip("a1 CREATE \"Tom & Jerry\"\r\n".as_bytes(), NameEncoding::Utf8),
            "a1 CREATE \"Tom & Jerry\"\r\n"
        );
        assert_eq!(
            round_trip(b"a1 CREATE Tom&-Jerry\r\n", NameEncoding::ModifiedUtf7),
            "a1 CREATE Tom&-Jerry\r\n"
        );
    }

    #[test]
    fn list_extended_selection_and_return_options() {
        round_trips(&[
            "a1 LIST \"\" *\r\n",
            "a1 LIST \"\" \"\"\r\n",
            "a1 LIST \"Công văn\" %\r\n",
            "a1 LSUB \"\" \"Công*\"\r\n",
            "a1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"INBOX*\" \"Công%\") RETURN (CHILDREN STATUS (MESSAGES UNSEEN SIZE))\r\n",
            "a1 LIST (SPECIAL-USE REMOTE) \"\" * RETURN (SPECIAL-USE SUBSCRIBED)\r\n",
            "a1 LIST () \"\" % RETURN ()\r\n",
            "a1 LIST \"\" \"\x01\"\r\n",
            "a1 LIST \"\" (a \"\x01\" b)\r\n",
            "a1 LSUB \"\" \"\x01\"\r\n",
        ]);
        assert_eq!(
            round_trip(
                "a1 LIST (SUBSCRIBED) \"\" (\"INBOX*\" \"Công%\") RETURN (STATUS (MESSAGES))\r\n".as_bytes(),
                NameEncoding::ModifiedUtf7
            ),
            "a1 LIST (SUBSCRIBED) \"\" (INBOX* C&APQ-ng%) RETURN (STATUS (MESSAGES))\r\n"
        );
        // Every pattern undecodable: the parser keeps none, and so does the round trip.
        assert_eq!(
            round_trip(b"a1 LIST \"\" &bad\r\n", NameEncoding::ModifiedUtf7),
            "a1 LIST \"\" \"\x01\"\r\n"
        );
    }

    #[test]
    fn append_with_flags_date_and_binary_or_utf8_content() {
        let message = "From: a@b\r\nSubject: Công văn\r\n\r\nNội dung\r\n";
        let with_all = format!(
            "a1 APPEND \"Đã gửi\" (\\Seen \\Draft $Forwarded \\Recent) \"17-Jul-1996 02:44:25 -0700\" {{{}}}\r\n{message}\r\n",
            message.len()
        );
        round_trips(&[
            &with_all,
            "a1 APPEND INBOX {3}\r\nabc\r\n",
            "a1 APPEND INBOX () \" 1-Feb-1994 21:52:25 +0700\" {0}\r\n\r\n",
            "a1 APPEND INBOX ~{4+}\r\n\x00\x01\r\n\r\n",
            "a1 APPEND INBOX \"1-Jan-0999 00:00:00 -0000\" \"x\"\r\n",
        ]);
        assert_eq!(
            round_trip(
                b"a1 APPEND INBOX (\\Seen) ~{4+}\r\n\x00\x01\r\n\r\n",
                NameEncoding::ModifiedUtf7
            ),
            "a1 APPEND INBOX (\\Seen) ~{4+}\r\n\x00\x01\r\n\r\n"
        );
        // RFC 6855 §4: after ENABLE UTF8=ACCEPT, 8-bit content goes as UTF8 (~{n}).
        let utf8 = format!("a1 APPEND INBOX UTF8 (~{{{}}}\r\n{message})\r\n", message.len());
        assert_eq!(
            round_trip(utf8.as_bytes(), NameEncoding::Utf8),
            format!("a1 APPEND INBOX UTF8 (~{{{}+}}\r\n{message})\r\n", message.len())
        );
    }

    #[test]
    fn search_with_nested_keys_dates_and_charset() {
        round_trips(&[
            "a1 SEARCH CHARSET UTF-8 OR (FROM \"Nguyễn\" SINCE 1-Feb-2024) NOT (UNSEEN BEFORE \"5-Mar-2024\") SUBJECT {10}\r\ncông văn\r\n",
            "a1 UID SEARCH RETURN (MIN MAX COUNT SAVE ALL) 1:* UNDELETED HEADER X-Priority 1 MODSEQ 5\r\n",
            "a1 SEARCH RETURN () $\r\n",
            "a1 SEARCH (SEEN)\r\n",
            "a1 SEARCH (SEEN FLAGGED) unseen\r\n",
            "a1 SEARCH NOT NOT (OR 1 2)\r\n",
            "a1 SEARCH KEYWORD $Junk UNKEYWORD $Forwarded LARGER 10 SMALLER 2000 ON 1-Jan-2020 SENTON 1-Jan-2020 SENTBEFORE 2-Jan-2020 SENTSINCE 3-Jan-2020\r\n",
            "a1 SEARCH BODY x TEXT \"a b\" TO a@b CC c BCC \"\" RECENT NEW OLD UID 5:7 ANSWERED DELETED DRAFT FLAGGED\r\n",
            "a1 SEARCH UNANSWERED UNDELETED UNDRAFT UNFLAGGED ALL\r\n",
            "a1 SEARCH HEADER subject x HEADER SUBJECT y\r\n",
            "a1 SEARCH UID $ MODSEQ \"/flags/\\\\draft\" all 620162338\r\n",
            "a1 SEARCH CHARSET \"us-ascii\" (((((TEXT \"(\")))))\r\n",
        ]);
        assert_eq!(
            round_trip(
                b"a1 SEARCH OR (FROM x SINCE 01-Feb-2024) NOT (UNSEEN BEFORE \"5-Mar-2024\")\r\n",
                NameEncoding::ModifiedUtf7
            ),
            "a1 SEARCH OR (From x SINCE 1-Feb-2024) NOT (UNSEEN BEFORE 5-Mar-2024)\r\n"
        );
        // One key in parentheses stays one: `(SEEN)` is an And of one key.
        assert_eq!(
            round_trip(b"a1 SEARCH (SEEN)\r\n", NameEncoding::ModifiedUtf7),
            "a1 SEARCH (SEEN)\r\n"
        );
    }

    #[test]
    fn fetch_with_sections_partials_and_modifiers() {
        round_trips(&[
            "a1 FETCH 1:* (FLAGS UID BODY.PEEK[HEADER.FIELDS (From To \"X(Y\" \"\")] BODY[1.2.MIME] BODY[]<0.100> BODY[TEXT] BINARY.PEEK[1.2]<5.10> BINARY.SIZE[3] BINARY[])\r\n",
            "a1 FETCH 2,4:6 (RFC822 RFC822.SIZE RFC822.HEADER RFC822.TEXT ENVELOPE INTERNALDATE BODY BODYSTRUCTURE MODSEQ BODY[2.HEADER.FIELDS.NOT (Received)] BODY[3.1.HEADER] BODY[3])\r\n",
            "a1 UID FETCH 1:* FAST (CHANGEDSINCE 12345 VANISHED)\r\n",
            "a1 FETCH $ ALL\r\n",
            "a1 FETCH 2 FULL (CHANGEDSINCE 1)\r\n",
            "a1 FETCH * BODY[HEADER.FIELDS (a])]\r\n",
        ]);
        assert_eq!(
            round_trip(
                b"a1 UID FETCH 1:* FAST (CHANGEDSINCE 12345 VANISHED)\r\n",
                NameEncoding::ModifiedUtf7
            ),
            "a1 UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE) (CHANGEDSINCE 12345 VANISHED)\r\n"
        );
        assert_eq!(
            round_trip(
                b"a1 FETCH 1 (BODY.PEEK[1.HEADER.FIELDS (From \"X(Y\")]<0.10> BINARY[2]<1.2>)\r\n",
                NameEncoding::ModifiedUtf7
            ),
            "a1 FETCH 1 (BODY.PEEK[1.HEADER.FIELDS (From \"X(Y\")]<0.10> BINARY[2]<1.2>)\r\n"
        );
    }

    #[test]
    fn store_copy_move_sort_thread() {
        round_trips(&[
            "a1 STORE 1:3 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted $Junk)\r\n",
            "a1 UID STORE 4 -FLAGS \\Seen \\Flagged \\Recent\r\n",
            "a1 STORE $ FLAGS ()\r\n",
            "a1 UID COPY 1:5 \"Lưu trữ\"\r\n",
            "a1 MOVE 2 Trash\r\n",
            "a1 UID MOVE 3:* \"Công văn đến\"\r\n",
            "a1 UID SORT (REVERSE DATE DISPLAYFROM SUBJECT) UTF-8 UNDELETED SINCE 1-Feb-2024\r\n",
            "a1 SORT (ARRIVAL CC FROM SIZE TO DISPLAYTO) US-ASCII ALL\r\n",
            "a1 THREAD REFERENCES UTF-8 (SEEN) SUBJECT x\r\n",
            "a1 UID THREAD orderedsubject \"US-ASCII\" ALL\r\n",
        ]);
        assert_eq!(
            round_trip(
                b"a1 STORE 1:3 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT \\Deleted $Junk\r\n",
                NameEncoding::ModifiedUtf7
            ),
            "a1 STORE 1:3 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted $Junk)\r\n"
        );
    }

    #[test]
    fn acl_commands() {
        round_trips(&[
            "A001 SETACL INBOX/Drafts Byron lrswikda\r\n",
            "a1 SETACL \"Shared/sttt/INBOX\" thudt.sttt@thanhhoa.gov.vn +cda\r\n",
            "a1 SETACL INBOX John -d\r\n",
            "a1 SETACL INBOX \"a b\" \"\"\r\n",
            "a1 DELETEACL INBOX/Drafts \"Byron\"\r\n",
            "a1 GETACL inbox\r\n",
            "a1 LISTRIGHTS ~/Mail/saved smith\r\n",
            "a1 MYRIGHTS \"Công văn\"\r\n",
        ]);
        // `d` and `c` are written as the rights they stand for (RFC 4314 §2.1.1).
        assert_eq!(
            round_trip(b"a1 SETACL INBOX Chris +cda\r\n", NameEncoding::ModifiedUtf7),
            "a1 SETACL INBOX Chris +kxtea\r\n"
        );
    }

    #[test]
    fn values_the_parser_never_makes_are_still_written() {
        use crate::Flags;
        let mut out = Vec::new();
        let mut write = |key: SearchKey| {
            out.clear();
            Writer {
                out: &mut out,
                names: NameEncoding::ModifiedUtf7,
            }
            .search_keys(&key);
            String::from_utf8_lossy(&out).into_owned()
        };
        assert_eq!(write(SearchKey::And(Vec::new())), "ALL");
        assert_eq!(
            write(SearchKey::Flag(Flags::SEEN.union(Flags::DELETED), true)),
            "(DELETED SEEN)"
        );
        assert_eq!(
            write(SearchKey::Flag(Flags::SEEN.union(Flags::DELETED), false)),
            "NOT (DELETED SEEN)"
        );
        assert_eq!(write(SearchKey::Flag(Flags::empty(), false)), "NOT ALL");
        // Longer than a quoted string may be: a literal, in both encodings.
        let mailbox = |name: &str| MailboxName(name.into());
        let rename = Command {
            tag: Tag("x".into()),
            body: CommandBody::Rename {
                from: mailbox(&"đ".repeat(600)),
                to: mailbox(&"x".repeat(2000)),
            },
        };
        for names in BOTH {
            let mut wire = Vec::new();
            rename.encode_with(&mut wire, names);
            assert_eq!(
                parse_command_with(&wire, names).as_ref(),
                Ok(&rename),
                "{names:?}"
            );
        }
    }
}
