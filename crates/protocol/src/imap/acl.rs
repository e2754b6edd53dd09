//! The RFC 4314 ACL commands (§3): SETACL, DELETEACL, GETACL, LISTRIGHTS and
//! MYRIGHTS, parsed into [`CommandBody`], and their responses (§3.6–3.8).
//!
//! ```text
//! setacl     = "SETACL" SP mailbox SP identifier SP mod-rights
//! deleteacl  = "DELETEACL" SP mailbox SP identifier
//! getacl     = "GETACL" SP mailbox
//! listrights = "LISTRIGHTS" SP mailbox SP identifier
//! myrights   = "MYRIGHTS" SP mailbox
//! identifier = astring
//! mod-rights = astring   ; +rights to add, -rights to remove, rights to replace
//! ```
//! A letter that is not a right makes the command a BAD (§3.1: the server MUST NOT
//! ignore it).

use crate::FlagOp;
use crate::Rights;

use super::command::CommandBody;
use super::lexer::{Cursor, Lex, Syntax};
use super::mutf7::NameEncoding;
use super::parse::arg_mailbox;
use super::response::{write_mailbox, write_string};

/// What SETACL does to the identifier's rights: add, remove or replace `rights`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RightsChange {
    pub op: FlagOp,
    pub rights: Rights,
}

impl RightsChange {
    /// The rights after the change, from those held before.
    pub fn apply(self, before: Rights) -> Rights {
        match self.op {
            FlagOp::Add => before.union(self.rights),
            FlagOp::Remove => before.difference(self.rights),
            FlagOp::Replace => self.rights,
        }
    }
}

/// The body of an ACL command whose verb (upper case) has been read.
pub(super) fn parse_acl(c: &mut Cursor<'_>, verb: &str) -> Lex<CommandBody> {
    let mailbox = arg_mailbox(c)?;
    Ok(match verb {
        "GETACL" => CommandBody::GetAcl(mailbox),
        "MYRIGHTS" => CommandBody::MyRights(mailbox),
        _ => {
            c.sp()?;
            let identifier = c.astring_utf8()?;
            match verb {
                "DELETEACL" => CommandBody::DeleteAcl { mailbox, identifier },
                "LISTRIGHTS" => CommandBody::ListRights { mailbox, identifier },
                _ => {
                    c.sp()?;
                    let change = mod_rights(&c.astring_utf8()?)?;
                    CommandBody::SetAcl {
                        mailbox,
                        identifier,
                        change,
                    }
                }
            }
        }
    })
}

fn mod_rights(text: &str) -> Lex<RightsChange> {
    let (op, letters) = if let Some(rest) = text.strip_prefix('+') {
        (FlagOp::Add, rest)
    } else if let Some(rest) = text.strip_prefix('-') {
        (FlagOp::Remove, rest)
    } else {
        (FlagOp::Replace, text)
    };
    let rights = letters
        .parse()
        .map_err(|_| Syntax("Unknown right in SETACL (RFC 4314 §2.1)"))?;
    Ok(RightsChange { op, rights })
}

/// `* ACL mailbox identifier rights *(SP identifier SP rights)` (§3.6).
pub fn write_acl(out: &mut Vec<u8>, mailbox: &str, names: NameEncoding, entries: &[(String, Rights)]) {
    out.extend_from_slice(b"* ACL ");
    write_mailbox(out, mailbox, names);
    for (identifier, rights) in entries {
        out.push(b' ');
        write_string(out, identifier.as_bytes());
        out.push(b' ');
        write_string(out, rights.for_clients().as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// `* LISTRIGHTS mailbox identifier required *(SP optional)` (§3.7): each optional
/// group may be granted on its own.
pub fn write_listrights(
    out: &mut Vec<u8>,
    mailbox: &str,
    names: NameEncoding,
    identifier: &str,
    required: Rights,
    optional: &[&str],
) {
    out.extend_from_slice(b"* LISTRIGHTS ");
    write_mailbox(out, mailbox, names);
    out.push(b' ');
    write_string(out, identifier.as_bytes());
    out.push(b' ');
    write_string(out, required.for_clients().as_bytes());
    for group in optional {
        out.push(b' ');
        out.extend_from_slice(group.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// `* MYRIGHTS mailbox rights` (§3.8).
pub fn write_myrights(out: &mut Vec<u8>, mailbox: &str, names: NameEncoding, rights: Rights) {
    out.extend_from_slice(b"* MYRIGHTS ");
    write_mailbox(out, mailbox, names);
    out.push(b' ');
    write_string(out, rights.for_clients().as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::{MailboxName, parse_command};

    fn ok(input: &str) -> CommandBody {
        parse_command(input.as_bytes()).unwrap().body
    }

    fn bad(input: &str) -> &'static str {
        parse_command(input.as_bytes()).unwrap_err().reason
    }

    fn mailbox(name: &str) -> MailboxName {
        MailboxName(name.into())
    }

    fn rights(text: &str) -> Rights {
        text.parse().unwrap()
    }

    #[test]
    fn rfc4314_examples() {
        // §3.1–3.5 examples, as written there.
        match ok("A001 SETACL INBOX/Drafts Byron lrswikda\r\n") {
            CommandBody::SetAcl {
                mailbox: m,
                identifier,
                change,
            } => {
                assert_eq!(m, mailbox("INBOX/Drafts"));
                assert_eq!(identifier, "Byron");
                assert_eq!(change.op, FlagOp::Replace);
                // `d` stands for x, t and e (§2.1.1).
                assert_eq!(change.rights, rights("lrswikxtea"));
            }
            other => panic!("{other:?}"),
        }
        match ok("A002 SETACL INBOX/Drafts Chris +cda\r\n") {
            CommandBody::SetAcl { change, .. } => {
                assert_eq!(change.op, FlagOp::Add);
                assert_eq!(change.rights, rights("kxtea"));
            }
            other => panic!("{other:?}"),
        }
        match ok("A035 SETACL INBOX/Drafts John -d\r\n") {
            CommandBody::SetAcl { change, .. } => {
                assert_eq!(change.op, FlagOp::Remove);
                assert_eq!(change.apply(rights("lrsxte")), rights("lrs"));
            }
            other => panic!("{other:?}"),
        }
        match ok("A001 DELETEACL INBOX/Drafts \"Byron\"\r\n") {
            CommandBody::DeleteAcl {
                mailbox: m,
                identifier,
            } => assert_eq!((m, identifier.as_str()), (mailbox("INBOX/Drafts"), "Byron")),
            other => panic!("{other:?}"),
        }
        match ok("A002 GETACL inbox\r\n") {
            CommandBody::GetAcl(m) => assert_eq!(m, mailbox("INBOX")),
            other => panic!("{other:?}"),
        }
        match ok("a001 LISTRIGHTS ~/Mail/saved smith\r\n") {
            CommandBody::ListRights {
                mailbox: m,
                identifier,
            } => assert_eq!((m, identifier.as_str()), (mailbox("~/Mail/saved"), "smith")),
            other => panic!("{other:?}"),
        }
        match ok("A003 MYRIGHTS Shared/sttt/INBOX\r\n") {
            CommandBody::MyRights(m) => assert_eq!(m, mailbox("Shared/sttt/INBOX")),
            other => panic!("{other:?}"),
        }
        // Identifiers are addresses here; quoted and literal forms both work.
        match ok("a SETACL \"Shared/sttt/INBOX\" {26+}\r\nthudt.sttt@thanhhoa.gov.vn \"\"\r\n") {
            CommandBody::SetAcl {
                identifier, change, ..
            } => {
                assert_eq!(identifier, "thudt.sttt@thanhhoa.gov.vn");
                assert_eq!((change.op, change.rights), (FlagOp::Replace, Rights::NONE));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            bad("a SETACL INBOX Byron lrz\r\n"),
            "Unknown right in SETACL (RFC 4314 §2.1)"
        );
        assert_eq!(
            bad("a SETACL INBOX Byron +L\r\n"),
            "Unknown right in SETACL (RFC 4314 §2.1)"
        );
        assert!(parse_command(b"a SETACL INBOX Byron\r\n").is_err());
        assert!(parse_command(b"a DELETEACL INBOX\r\n").is_err());
        assert!(parse_command(b"a LISTRIGHTS INBOX\r\n").is_err());
        assert!(parse_command(b"a GETACL\r\n").is_err());
        assert!(parse_command(b"a MYRIGHTS INBOX extra\r\n").is_err());
        assert!(parse_command(b"a GETACL INBOX Byron\r\n").is_err());
    }

    #[test]
    fn responses() {
        let mut out = Vec::new();
        write_acl(
            &mut out,
            "Shared/sttt/INBOX",
            NameEncoding::ModifiedUtf7,
            &[("sttt@x.vn".into(), Rights::ALL), ("a b".into(), rights("lr"))],
        );
        write_listrights(
            &mut out,
            "INBOX",
            NameEncoding::ModifiedUtf7,
            "smith",
            Rights::NONE,
            &["l", "r"],
        );
        write_myrights(&mut out, "Công văn", NameEncoding::ModifiedUtf7, rights("lrs"));
        // RFC 6855 §3: after ENABLE UTF8=ACCEPT the name is UTF-8.
        write_myrights(&mut out, "Công văn", NameEncoding::Utf8, rights("lr"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "* ACL \"Shared/sttt/INBOX\" \"sttt@x.vn\" \"lrswipkxteacd\" \"a b\" \"lr\"\r\n\
             * LISTRIGHTS \"INBOX\" \"smith\" \"\" l r\r\n\
             * MYRIGHTS \"C&APQ-ng v&AQM-n\" \"lrs\"\r\n\
             * MYRIGHTS \"Công văn\" \"lr\"\r\n"
        );
    }
}
