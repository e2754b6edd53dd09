//! RFC 5322 §3.4 address lists, parsed leniently for ENVELOPE. Display names are
//! kept as written (encoded words are not decoded: IMAP clients decode them).
//!
//! Where the address list leaves the ENVELOPE open, it reads as Dovecot does:
//! 1. A bare addr-spec followed by a comment, `user@domain (Real Name)`, has the
//!    comment as its name (the last one, when there are several); a comment before
//!    the address, or anywhere in a name-addr, is no name.
//! 2. Comments inside a display name or a group name are dropped; a comment alone
//!    is no address.
//! 3. A group gives its start `(NIL NIL "name" NIL)` and its end `(NIL NIL NIL NIL)`
//!    around its members, also when it has none (RFC 3501 §7.4.2).

/// One ENVELOPE address structure (RFC 3501 §7.4.2): a mailbox, or the start or end
/// of a group (host NIL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Address {
    Mailbox {
        name: Option<Vec<u8>>,
        route: Option<Vec<u8>>,
        local: Vec<u8>,
        domain: Vec<u8>,
    },
    GroupStart(Vec<u8>),
    GroupEnd,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(Vec<u8>),
    Quoted(Vec<u8>),
    Special(u8),
    /// A comment's content without its outer parentheses, quoted pairs undone,
    /// nested comments kept as written.
    Comment(Vec<u8>),
}

impl Token {
    fn is_comment(&self) -> bool {
        matches!(self, Token::Comment(_))
    }
}

fn tokenize(s: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'(' => {
                i += 1;
                let mut depth = 1usize;
                let mut content = Vec::new();
                while let Some(&c) = s.get(i) {
                    i += 1;
                    match c {
                        b'\\' => {
                            if let Some(&e) = s.get(i) {
                                content.push(e);
                                i += 1;
                            }
                            continue;
                        }
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        // Unfolding (RFC 5322 §2.2.3).
                        b'\r' | b'\n' => continue,
                        _ => {}
                    }
                    content.push(c);
                }
                tokens.push(Token::Comment(content));
            }
            b'"' => {
                i += 1;
                let mut q = Vec::new();
                while let Some(&c) = s.get(i) {
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            if let Some(&e) = s.get(i) {
                                q.push(e);
                                i += 1;
                            }
                        }
                        b'\r' | b'\n' => {}
                        _ => q.push(c),
                    }
                }
                tokens.push(Token::Quoted(q));
            }
            b'[' => {
                let end = s[i..]
                    .iter()
                    .position(|c| *c == b']')
                    .map_or(s.len(), |p| i + p + 1);
                tokens.push(Token::Word(s[i..end].to_vec()));
                i = end;
            }
            // A ')' that closes no comment: nothing to keep, but it must be passed
            // over, or the word below would stop at it without moving.
            b')' => i += 1,
            b'<' | b'>' | b'@' | b',' | b';' | b':' => {
                tokens.push(Token::Special(b));
                i += 1;
            }
            _ => {
                let start = i;
                while s.get(i).is_some_and(|c| !b" \t\r\n()\"[<>@,;:".contains(c)) {
                    i += 1;
                }
                tokens.push(Token::Word(s[start..i].to_vec()));
            }
        }
    }
    tokens
}

/// A display name: its words joined by single spaces.
fn phrase(words: &[Token]) -> Option<Vec<u8>> {
    let parts: Vec<&[u8]> = words
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) | Token::Quoted(w) => Some(w.as_slice()),
            Token::Special(_) | Token::Comment(_) => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(&b' '))
}

/// The tokens written back together without spaces.
fn text(tokens: &[Token]) -> Vec<u8> {
    tokens
        .iter()
        .flat_map(|t| match t {
            Token::Word(w) | Token::Quoted(w) => w.clone(),
            Token::Special(c) => vec![*c],
            Token::Comment(_) => Vec::new(),
        })
        .collect()
}

/// `local-part "@" domain` from the tokens of a bare or bracketed address. Missing
/// halves get Dovecot's placeholders, since an empty host would read as a group.
fn addr_spec(tokens: &[Token]) -> (Vec<u8>, Vec<u8>) {
    let at = tokens.iter().rposition(|t| *t == Token::Special(b'@'));
    let (local, domain) = match at {
        Some(at) => (text(&tokens[..at]), text(&tokens[at + 1..])),
        None => (text(tokens), Vec::new()),
    };
    let or = |v: Vec<u8>, placeholder: &[u8]| if v.is_empty() { placeholder.to_vec() } else { v };
    (or(local, b"MISSING_MAILBOX"), or(domain, b"MISSING_DOMAIN"))
}

/// The name a comment gives a bare addr-spec (rule 1 of the module documentation):
/// the last comment after its first token. An empty comment gives none; one of
/// white space only gives an empty name.
fn trailing_comment(words: &[Token]) -> Option<Vec<u8>> {
    let first = words.iter().position(|t| !t.is_comment())?;
    words[first..].iter().rev().find_map(|t| match t {
        Token::Comment(content) if !content.is_empty() => Some(Some(content.trim_ascii().to_vec())),
        Token::Comment(_) => Some(None),
        _ => None,
    })?
}

pub(crate) fn parse_list(value: &[u8]) -> Vec<Address> {
    let tokens = tokenize(value);
    let mut out = Vec::new();
    let mut in_group = false;
    let mut i = 0;
    while i < tokens.len() {
        // Words up to the next structural delimiter.
        let start = i;
        while i < tokens.len() && !matches!(tokens[i], Token::Special(b':' | b'<' | b',' | b';')) {
            i += 1;
        }
        let words = &tokens[start..i];
        match tokens.get(i) {
            Some(Token::Special(b':')) if !in_group => {
                out.push(Address::GroupStart(phrase(words).unwrap_or_default()));
                in_group = true;
                i += 1;
            }
            Some(Token::Special(b'<')) => {
                let close = tokens[i..]
                    .iter()
                    .position(|t| *t == Token::Special(b'>'))
                    .map_or(tokens.len(), |p| i + p);
                let inner = &tokens[i + 1..close];
                // obs-route: `@a,@b:` before the address.
                let (route, spec) = match inner.iter().position(|t| *t == Token::Special(b':')) {
                    Some(colon) if inner.first() == Some(&Token::Special(b'@')) => {
                        (Some(text(&inner[..colon])), &inner[colon + 1..])
                    }
                    _ => (None, inner),
                };
                if !spec.is_empty() {
                    let (local, domain) = addr_spec(spec);
                    out.push(Address::Mailbox {
                        name: phrase(words),
                        route,
                        local,
                        domain,
                    });
                }
                // Skip anything after '>' up to the next separator.
                i = close;
                while i < tokens.len() && !matches!(tokens[i], Token::Special(b',' | b';')) {
                    i += 1;
                }
            }
            delimiter => {
                if words.iter().any(|t| !t.is_comment()) {
                    let (local, domain) = addr_spec(words);
                    out.push(Address::Mailbox {
                        name: trailing_comment(words),
                        route: None,
                        local,
                        domain,
                    });
                }
                if matches!(delimiter, Some(Token::Special(b';'))) && in_group {
                    out.push(Address::GroupEnd);
                    in_group = false;
                }
                i += 1;
            }
        }
    }
    if in_group {
        out.push(Address::GroupEnd);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(name: Option<&str>, local: &str, domain: &str) -> Address {
        Address::Mailbox {
            name: name.map(|n| n.as_bytes().to_vec()),
            route: None,
            local: local.as_bytes().to_vec(),
            domain: domain.as_bytes().to_vec(),
        }
    }

    #[test]
    fn address_lists() {
        let cases: Vec<(&str, Vec<Address>)> = vec![
            ("a@b.vn", vec![mailbox(None, "a", "b.vn")]),
            ("<a@b.vn>", vec![mailbox(None, "a", "b.vn")]),
            (
                "Nguyen Van A <a@b.vn>",
                vec![mailbox(Some("Nguyen Van A"), "a", "b.vn")],
            ),
            (
                "\"Nguyễn, Văn A\" <a@b.vn>",
                vec![mailbox(Some("Nguyễn, Văn A"), "a", "b.vn")],
            ),
            (
                "=?UTF-8?B?Q8O0bmc=?= <a@b.vn>, c@d (comment)",
                vec![
                    mailbox(Some("=?UTF-8?B?Q8O0bmc=?="), "a", "b.vn"),
                    mailbox(Some("comment"), "c", "d"),
                ],
            ),
            (
                "john.q.public@example.com",
                vec![mailbox(None, "john.q.public", "example.com")],
            ),
            (
                "Team: a@b, C <c@d>;, e@f",
                vec![
                    Address::GroupStart(b"Team".to_vec()),
                    mailbox(None, "a", "b"),
                    mailbox(Some("C"), "c", "d"),
                    Address::GroupEnd,
                    mailbox(None, "e", "f"),
                ],
            ),
            (
                "undisclosed-recipients:;",
                vec![
                    Address::GroupStart(b"undisclosed-recipients".to_vec()),
                    Address::GroupEnd,
                ],
            ),
            ("postmaster", vec![mailbox(None, "postmaster", "MISSING_DOMAIN")]),
            ("a@[127.0.0.1]", vec![mailbox(None, "a", "[127.0.0.1]")]),
            ("", vec![]),
            (",,,", vec![]),
            ("<>", vec![]),
        ];
        for (input, want) in cases {
            assert_eq!(parse_list(input.as_bytes()), want, "{input}");
        }
    }

    /// RFC 3501 §7.4.2 (and rules 1–3 of the module documentation): a comment
    /// after a bare address is its name; groups, empty or not, give their start and
    /// end entries; comments elsewhere are dropped. Expected values as Dovecot 2.3
    /// answers them.
    #[test]
    fn comment_names_and_groups() {
        let group = |name: &str| Address::GroupStart(name.as_bytes().to_vec());
        let cases: Vec<(&str, Vec<Address>)> = vec![
            (
                "user@domain (Real Name)",
                vec![mailbox(Some("Real Name"), "user", "domain")],
            ),
            ("a@b (one) (two)", vec![mailbox(Some("two"), "a", "b")]),
            (
                "a@b ((nested) x\\) y)",
                vec![mailbox(Some("(nested) x) y"), "a", "b")],
            ),
            (
                "a@b (=?UTF-8?Q?Nguy=E1=BB=85n?=)",
                vec![mailbox(Some("=?UTF-8?Q?Nguy=E1=BB=85n?="), "a", "b")],
            ),
            (
                "a@b (),c@d ( )",
                vec![mailbox(None, "a", "b"), mailbox(Some(""), "c", "d")],
            ),
            ("(bar) x@y", vec![mailbox(None, "x", "y")]),
            ("\"Q\" <c@d> (cmt)", vec![mailbox(Some("Q"), "c", "d")]),
            ("Name (c) Two <a@b>", vec![mailbox(Some("Name Two"), "a", "b")]),
            (
                "<user-from (comment)@ (comment) domain.org>",
                vec![mailbox(None, "user-from", "domain.org")],
            ),
            (
                "group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;",
                vec![
                    group("group"),
                    mailbox(None, "g1", "d1.org"),
                    mailbox(None, "g2", "d2.org"),
                    Address::GroupEnd,
                    group("group2"),
                    mailbox(None, "g3", "d3.org"),
                    Address::GroupEnd,
                ],
            ),
            (
                "undisclosed:;, group2: (foo) ;, (bar) x@y",
                vec![
                    group("undisclosed"),
                    Address::GroupEnd,
                    group("group2"),
                    Address::GroupEnd,
                    mailbox(None, "x", "y"),
                ],
            ),
            (
                "g (c1): a@b (Name A), \"Q\" <c@d> (cmt);",
                vec![
                    group("g"),
                    mailbox(Some("Name A"), "a", "b"),
                    mailbox(Some("Q"), "c", "d"),
                    Address::GroupEnd,
                ],
            ),
            ("(just a comment)", vec![]),
        ];
        for (input, want) in cases {
            assert_eq!(parse_list(input.as_bytes()), want, "{input}");
        }
    }

    #[test]
    fn routes() {
        let got = parse_list(b"<@relay.example:joe@example.com>");
        assert_eq!(
            got,
            vec![Address::Mailbox {
                name: None,
                route: Some(b"@relay.example".to_vec()),
                local: b"joe".to_vec(),
                domain: b"example.com".to_vec(),
            }]
        );
    }

    /// Found by the imap_render fuzz target: a stray ')' made the tokenizer loop
    /// forever, growing its token list until memory ran out.
    #[test]
    fn stray_closing_parenthesis() {
        assert_eq!(parse_list(b"a@b (one) ) ;"), vec![mailbox(Some("one"), "a", "b")]);
        assert_eq!(parse_list(b")"), vec![]);
    }

    #[test]
    fn garbage_does_not_panic() {
        for input in [
            &b"<<<>>>"[..],
            b"\"unterminated",
            b"(((",
            b"a@",
            b"@",
            b":;:;",
            b"\xff\xfe<@:>",
        ] {
            let _ = parse_list(input);
        }
    }
}
