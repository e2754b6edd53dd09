//! ENVELOPE (RFC 3501 §7.4.2) and BODY / BODYSTRUCTURE answers from the raw
//! message: strings as written in the header, sizes and line counts of the raw
//! (still transfer-encoded) bodies.
//!
//! Where RFC 3501 leaves the form open, it is Dovecot's, which clients and the
//! compliance scripts expect: a text part without a charset parameter gets
//! `"CHARSET" "US-ASCII"` after its other parameters (RFC 2045 §5.2); a body's
//! lines are its line breaks, a last line without one not counted. (Dovecot writes
//! these defaults in lower case; case does not matter in them, RFC 2045 §5.1.)

use crate::codec::response::write_string;

use super::address::{Address, parse_list};
use super::header::{self, parse_disposition, parse_language, unfold};
use super::mime::{Children, Entity};

pub(crate) fn write_envelope(out: &mut Vec<u8>, header_block: &[u8]) {
    let text = |name: &str| header::field(header_block, name).map(unfold);
    let addresses = |name: &str| {
        header::field(header_block, name)
            .map(parse_list)
            .filter(|list| !list.is_empty())
    };
    let from = addresses("From");
    // RFC 3501 §7.4.2: Sender and Reply-To default to From.
    let sender = addresses("Sender").or_else(|| from.clone());
    let reply_to = addresses("Reply-To").or_else(|| from.clone());
    out.push(b'(');
    write_ntext(out, text("Date").as_deref());
    out.push(b' ');
    write_ntext(out, text("Subject").as_deref());
    for list in [
        &from,
        &sender,
        &reply_to,
        &addresses("To"),
        &addresses("Cc"),
        &addresses("Bcc"),
    ] {
        out.push(b' ');
        write_address_list(out, list.as_deref());
    }
    out.push(b' ');
    write_ntext(out, text("In-Reply-To").as_deref());
    out.push(b' ');
    write_ntext(out, text("Message-ID").as_deref());
    out.push(b')');
}

fn write_address_list(out: &mut Vec<u8>, list: Option<&[Address]>) {
    let Some(list) = list else {
        out.extend_from_slice(b"NIL");
        return;
    };
    out.push(b'(');
    for address in list {
        let (name, route, mailbox, host) = match address {
            Address::Mailbox {
                name,
                route,
                local,
                domain,
            } => (
                name.as_deref(),
                route.as_deref(),
                Some(local.as_slice()),
                Some(domain.as_slice()),
            ),
            Address::GroupStart(name) => (None, None, Some(name.as_slice()), None),
            Address::GroupEnd => (None, None, None, None),
        };
        out.push(b'(');
        write_ntext(out, name);
        out.push(b' ');
        write_ntext(out, route);
        out.push(b' ');
        write_ntext(out, mailbox);
        out.push(b' ');
        write_ntext(out, host);
        out.push(b')');
    }
    out.push(b')');
}

/// `body`: BODYSTRUCTURE when `extended`, BODY otherwise.
pub(crate) fn write_structure(out: &mut Vec<u8>, raw: &[u8], entity: &Entity, extended: bool) {
    let header_block = entity.header_bytes(raw);
    out.push(b'(');
    if let Children::Multipart(children) = &entity.children {
        for child in children {
            write_structure(out, raw, child, extended);
        }
        out.push(b' ');
        write_text(out, &entity.content_type.subtype);
        if extended {
            out.push(b' ');
            write_params(out, &entity.content_type.params);
            write_common_extensions(out, header_block);
        }
        out.push(b')');
        return;
    }
    let ct = &entity.content_type;
    let body = entity.body_bytes(raw);
    write_text(out, &ct.media_type);
    out.push(b' ');
    write_text(out, &ct.subtype);
    out.push(b' ');
    if ct.is("TEXT", "*") && ct.param("charset").is_none() {
        let mut params = ct.params.clone();
        params.push((b"CHARSET".to_vec(), b"US-ASCII".to_vec()));
        write_params(out, &params);
    } else {
        write_params(out, &ct.params);
    }
    let field = |name: &str| header::field(header_block, name).map(unfold);
    out.push(b' ');
    write_ntext(out, field("Content-ID").as_deref());
    out.push(b' ');
    write_ntext(out, field("Content-Description").as_deref());
    out.push(b' ');
    write_text(
        out,
        field("Content-Transfer-Encoding").as_deref().unwrap_or(b"7BIT"),
    );
    out.extend_from_slice(format!(" {}", body.len()).as_bytes());
    match &entity.children {
        Children::Message(inner) => {
            out.push(b' ');
            write_envelope(out, inner.header_bytes(raw));
            out.push(b' ');
            write_structure(out, raw, inner, extended);
            out.extend_from_slice(format!(" {}", count_lines(body)).as_bytes());
        }
        _ if ct.is("TEXT", "*") => {
            out.extend_from_slice(format!(" {}", count_lines(body)).as_bytes());
        }
        _ => {}
    }
    if extended {
        out.push(b' ');
        write_ntext(out, field("Content-MD5").as_deref());
        write_common_extensions(out, header_block);
    }
    out.push(b')');
}

/// `SP body-fld-dsp SP body-fld-lang SP body-fld-loc`, shared by both part kinds.
fn write_common_extensions(out: &mut Vec<u8>, header_block: &[u8]) {
    out.push(b' ');
    match header::field(header_block, "Content-Disposition").and_then(parse_disposition) {
        Some((kind, params)) => {
            out.push(b'(');
            write_text(out, &kind);
            out.push(b' ');
            write_params(out, &params);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    let languages = header::field(header_block, "Content-Language")
        .map(parse_language)
        .unwrap_or_default();
    match languages.as_slice() {
        [] => out.extend_from_slice(b"NIL"),
        [one] => write_text(out, one),
        many => {
            out.push(b'(');
            for (i, tag) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_text(out, tag);
            }
            out.push(b')');
        }
    }
    out.push(b' ');
    write_ntext(
        out,
        header::field(header_block, "Content-Location")
            .map(unfold)
            .as_deref(),
    );
}

fn write_params(out: &mut Vec<u8>, params: &[(Vec<u8>, Vec<u8>)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_text(out, name);
        out.push(b' ');
        write_text(out, value);
    }
    out.push(b')');
}

/// A header's text as an IMAP string. RFC 3501 §9: a string's characters exclude
/// NUL (`CHAR8 = %x01-ff`), which a header may hold; it is written as 0x80, as
/// Dovecot writes it.
fn write_text(out: &mut Vec<u8>, s: &[u8]) {
    if s.contains(&0) {
        let replaced: Vec<u8> = s.iter().map(|&b| if b == 0 { 0x80 } else { b }).collect();
        write_string(out, &replaced);
    } else {
        write_string(out, s);
    }
}

/// [`write_text`], or NIL.
fn write_ntext(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => write_text(out, s),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// Lines of a body: its line breaks (a last line without one is not counted, as
/// Dovecot counts).
fn count_lines(body: &[u8]) -> usize {
    body.iter().filter(|b| **b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(raw: &[u8]) -> String {
        let mut out = Vec::new();
        write_envelope(&mut out, Entity::parse(raw).header_bytes(raw));
        String::from_utf8_lossy(&out).into_owned()
    }

    fn structure(raw: &[u8], extended: bool) -> String {
        let mut out = Vec::new();
        write_structure(&mut out, raw, &Entity::parse(raw), extended);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn simple_text_message() {
        let raw = b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nFrom: Fred Foobar <foobar@Blurdybloop.example>\r\n\
Subject: afternoon meeting\r\nTo: mooch@owatagu.siam.edu.example\r\nMessage-Id: <B27397-0100000@Blurdybloop.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\nHello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
        assert_eq!(
            envelope(raw),
            "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"afternoon meeting\" \
((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) \
((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) \
((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) \
((NIL NIL \"mooch\" \"owatagu.siam.edu.example\")) NIL NIL NIL \"<B27397-0100000@Blurdybloop.example>\")"
        );
        assert_eq!(
            structure(raw, false),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 55 1)"
        );
        assert_eq!(
            structure(raw, true),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 55 1 NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn message_without_headers_uses_defaults() {
        let raw = b"\r\nbody";
        assert_eq!(
            structure(raw, false),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 4 0)"
        );
        assert_eq!(envelope(raw), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    }

    #[test]
    fn multipart_with_pdf() {
        let raw = b"From: a@b.vn\r\nSubject: =?UTF-8?B?Q8O0bmcgdsSDbg==?=\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nC\xc3\xb4ng v\xc4\x83n\r\n\
--b1\r\nContent-Type: application/pdf; name=\"qd.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"qd.pdf\"\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";
        assert_eq!(
            structure(raw, true),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 10 0 NIL NIL NIL NIL)\
(\"application\" \"pdf\" (\"name\" \"qd.pdf\") NIL NIL \"base64\" 12 NIL (\"attachment\" (\"filename\" \"qd.pdf\")) NIL NIL) \
\"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)"
        );
        assert_eq!(
            structure(raw, false),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 10 0)\
(\"application\" \"pdf\" (\"name\" \"qd.pdf\") NIL NIL \"base64\" 12) \"mixed\")"
        );
        assert!(envelope(raw).contains("\"=?UTF-8?B?Q8O0bmcgdsSDbg==?=\""));
    }

    #[test]
    fn nested_message() {
        let raw = b"Subject: fwd\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n\
--o\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: x@y\r\n\r\ninner body\r\n\
--o--\r\n";
        let got = structure(raw, false);
        assert_eq!(
            got,
            "((\"text\" \"plain\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 12 0)\
(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 39 \
(NIL \"inner\" ((NIL NIL \"x\" \"y\")) ((NIL NIL \"x\" \"y\")) ((NIL NIL \"x\" \"y\")) NIL NIL NIL NIL NIL) \
(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 0) 3) \"mixed\")"
        );
    }

    /// RFC 3501 §7.4.2: a group is a start entry with the group name as mailbox
    /// name and host NIL, its members, and an end entry of four NILs; the name of
    /// `user@domain (Real Name)` is the comment. Empty Sender and Reply-To default
    /// to From.
    #[test]
    fn comment_names_and_groups() {
        let raw = b"Date: Sat, 01 Feb 2007 01:02:03 +0200\r\nFrom: nva@thanhhoa.gov.vn (Nguyen Van A)\r\n\
Sender: \r\nReply-To: (nobody)\r\nTo: so: a@b.vn, c@d.vn;, ban: e@f.vn;\r\nCc: undisclosed-recipients:;\r\n\r\nx";
        let from = "((\"Nguyen Van A\" NIL \"nva\" \"thanhhoa.gov.vn\"))";
        assert_eq!(
            envelope(raw),
            format!(
                "(\"Sat, 01 Feb 2007 01:02:03 +0200\" NIL {from} {from} {from} \
((NIL NIL \"so\" NIL)(NIL NIL \"a\" \"b.vn\")(NIL NIL \"c\" \"d.vn\")(NIL NIL NIL NIL)\
(NIL NIL \"ban\" NIL)(NIL NIL \"e\" \"f.vn\")(NIL NIL NIL NIL)) \
((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)"
            )
        );
    }

    #[test]
    fn eight_bit_names_become_literals() {
        let raw = "From: \"Nguyễn Văn A\" <a@b.vn>\r\n\r\nx".as_bytes();
        let env = envelope(raw);
        assert!(
            env.contains("(({15}\r\nNguyễn Văn A NIL \"a\" \"b.vn\"))"),
            "{env}"
        );
    }

    /// RFC 3501 §9: no NUL in a string, quoted or literal.
    #[test]
    fn nul_in_a_header_is_not_sent() {
        let env = envelope(b"Subject: a\0b\r\nFrom: \"x\0\" <a@b>\r\n\r\n");
        assert!(!env.contains('\0'), "{env:?}");
        assert!(env.starts_with("(NIL {3}\r\na\u{fffd}b "), "{env:?}");
        let structure = structure(b"Content-Type: text/plain; name=\"a\0\"\r\n\r\nx", true);
        assert!(!structure.contains('\0'), "{structure:?}");
    }

    /// The forms RFC 3501 §7.4.2 leaves open, as Dovecot 2.3 writes them but for
    /// case (module documentation): the us-ascii charset of a text part without one
    /// (RFC 2045 §5.2) after its other parameters, line breaks counted.
    #[test]
    fn defaults_as_dovecot_writes_them() {
        let raw = b"Content-Type: multipart/mixed; boundary=q\r\n\r\n\
--q\r\nContent-Type: text/plain; format=flowed\r\n\r\na\r\n\
--q\r\nContent-Type: text/plain; CHARSET=utf-8\r\n\r\nb\r\n\
--q\r\nContent-Type: application/pdf\r\n\r\ne\r\n\
--q\r\nContent-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\nf\r\n--q--\r\n";
        assert_eq!(
            structure(raw, true),
            "((\"text\" \"plain\" (\"format\" \"flowed\" \"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1 0 NIL NIL NIL NIL)\
(\"text\" \"plain\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 1 0 NIL NIL NIL NIL)\
(\"application\" \"pdf\" NIL NIL NIL \"7BIT\" 1 NIL NIL NIL NIL)\
(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 15 (NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL) \
(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL) \
\"mixed\" (\"boundary\" \"q\") NIL NIL NIL)"
        );
    }

    #[test]
    fn line_counts() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a"), 0);
        assert_eq!(count_lines(b"a\r\n"), 1);
        assert_eq!(count_lines(b"a\r\nb"), 1);
    }
}
