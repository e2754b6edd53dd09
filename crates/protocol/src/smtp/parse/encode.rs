//! The client side of [`parse_command`](super::parse_command): a [`Command`] written
//! back as the line a client sends (CRLF not included).
//!
//! ## Invariant
//! For every line `l` and strictness `s`: when `parse_command(l, s)` gives `c`,
//! `parse_command(c.encode(), s)` gives `c` again (unit tests below; fuzzed by
//! `smtp_roundtrip`). What the parser drops is written so that it parses back to the
//! same value: the argument of VRFY, NOOP and HELP (not kept) is left out or replaced,
//! a lenient `AUTH=` MAIL parameter (accepted and ignored) is not written.

use std::fmt::Write;

use super::command::{Body, Command, MailParams, Mechanism, RcptParams};
use super::dsn::{DsnRet, Notify};
use super::path::ForwardPath;
use super::sasl;

impl Command {
    /// The command line, without its CRLF.
    pub fn encode(&self) -> String {
        match self {
            Command::Ehlo(name) => format!("EHLO {name}"),
            Command::Helo(name) => format!("HELO {name}"),
            Command::Mail { from, params } => {
                let mut line = format!("MAIL FROM:{from}");
                mail_params(&mut line, params);
                line
            }
            Command::Rcpt { to, params } => {
                let mut line = match to {
                    ForwardPath::Postmaster => "RCPT TO:<Postmaster>".to_owned(),
                    ForwardPath::Mailbox(mailbox) => format!("RCPT TO:<{mailbox}>"),
                };
                rcpt_params(&mut line, params);
                line
            }
            Command::Data => "DATA".to_owned(),
            Command::Bdat { size, last } => {
                format!("BDAT {size}{}", if *last { " LAST" } else { "" })
            }
            Command::Rset => "RSET".to_owned(),
            Command::Noop => "NOOP".to_owned(),
            Command::Quit => "QUIT".to_owned(),
            // RFC 5321 §4.1.1.6: VRFY needs an argument; the parser keeps none.
            Command::Vrfy => "VRFY postmaster".to_owned(),
            Command::Help => "HELP".to_owned(),
            Command::StartTls => "STARTTLS".to_owned(),
            Command::Auth { mechanism, initial } => {
                let mechanism = match mechanism {
                    Mechanism::Plain => "PLAIN",
                    Mechanism::Login => "LOGIN",
                };
                match initial {
                    None => format!("AUTH {mechanism}"),
                    // RFC 4954 §4: "=" is an empty initial response.
                    Some(response) if response.expose().is_empty() => format!("AUTH {mechanism} ="),
                    Some(response) => format!("AUTH {mechanism} {}", sasl::encode_base64(response.expose())),
                }
            }
        }
    }
}

fn mail_params(line: &mut String, params: &MailParams) {
    if let Some(size) = params.size {
        let _ = write!(line, " SIZE={size}");
    }
    match params.body {
        Some(Body::SevenBit) => line.push_str(" BODY=7BIT"),
        Some(Body::EightBitMime) => line.push_str(" BODY=8BITMIME"),
        None => {}
    }
    if params.smtputf8 {
        line.push_str(" SMTPUTF8");
    }
    match params.ret {
        Some(DsnRet::Full) => line.push_str(" RET=FULL"),
        Some(DsnRet::Headers) => line.push_str(" RET=HDRS"),
        None => {}
    }
    if let Some(envid) = &params.envid {
        line.push_str(" ENVID=");
        xtext(line, envid);
    }
}

fn rcpt_params(line: &mut String, params: &RcptParams) {
    if let Some(notify) = params.notify {
        line.push_str(" NOTIFY=");
        line.push_str(&notify_value(notify));
    }
    if let Some(orcpt) = &params.orcpt {
        let _ = write!(line, " ORCPT={};", orcpt.addr_type);
        xtext(line, &orcpt.value);
    }
}

/// `NEVER`, or the events in RFC 3461 §4.1's order.
fn notify_value(notify: Notify) -> String {
    if notify.is_never() {
        return "NEVER".to_owned();
    }
    let events = [
        (notify.success, "SUCCESS"),
        (notify.failure, "FAILURE"),
        (notify.delay, "DELAY"),
    ];
    events
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(",")
}

/// RFC 3461 §4 xtext: `!` to `~` as themselves except `+` and `=`, every other
/// octet as `+` and two upper-case hex digits.
fn xtext(line: &mut String, text: &str) {
    for octet in text.bytes() {
        if matches!(octet, b'!'..=b'~') && octet != b'+' && octet != b'=' {
            line.push(char::from(octet));
        } else {
            let _ = write!(line, "+{octet:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Strictness, parse_command};

    /// parse → encode → parse gives the same command, and the encoding is the
    /// expected line.
    fn round_trip(line: &str, strictness: Strictness, encoded: &str) {
        let command = parse_command(line.as_bytes(), strictness).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(command.encode(), encoded, "{line}");
        assert_eq!(
            parse_command(command.encode().as_bytes(), strictness),
            Ok(command),
            "{line}"
        );
    }

    #[test]
    fn every_verb_round_trips() {
        use Strictness::{Lenient, Strict};
        for (line, strictness, encoded) in [
            (
                "EHLO mail.sttt.thanhhoa.gov.vn",
                Strict,
                "EHLO mail.sttt.thanhhoa.gov.vn",
            ),
            ("ehlo [192.0.2.7]", Strict, "EHLO [192.0.2.7]"),
            ("HELO DESKTOP-7F3K_2", Lenient, "HELO DESKTOP-7F3K_2"),
            ("MAIL FROM:<>", Strict, "MAIL FROM:<>"),
            (
                "mail from:<tuanna.sttt@thanhhoa.gov.vn> size=2048 body=8bitmime ret=hdrs envid=QQ+2B1",
                Strict,
                "MAIL FROM:<tuanna.sttt@thanhhoa.gov.vn> SIZE=2048 BODY=8BITMIME RET=HDRS ENVID=QQ+2B1",
            ),
            (
                "MAIL FROM: <tuấn@thanhhoá.gov.vn> SMTPUTF8 BODY=7BIT AUTH=<>",
                Lenient,
                "MAIL FROM:<tuấn@thanhhoá.gov.vn> BODY=7BIT SMTPUTF8",
            ),
            (
                "MAIL FROM:<\"Nguyen Van A\"@example.vn> SIZE=99999999999999999999",
                Strict,
                "MAIL FROM:<\"Nguyen Van A\"@example.vn> SIZE=18446744073709551615",
            ),
            ("RCPT TO:<Postmaster>", Strict, "RCPT TO:<Postmaster>"),
            (
                "RCPT TO:<hoalt.sttt@thanhhoa.gov.vn> NOTIFY=delay,success ORCPT=rfc822;hoa+2Blt@x.vn",
                Strict,
                "RCPT TO:<hoalt.sttt@thanhhoa.gov.vn> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;hoa+2Blt@x.vn",
            ),
            (
                "RCPT TO:<a@b.vn> NOTIFY=NEVER",
                Strict,
                "RCPT TO:<a@b.vn> NOTIFY=NEVER",
            ),
            ("DATA", Strict, "DATA"),
            ("BDAT 0 LAST", Strict, "BDAT 0 LAST"),
            ("bdat 65536", Strict, "BDAT 65536"),
            ("RSET", Strict, "RSET"),
            ("NOOP anything", Strict, "NOOP"),
            ("QUIT", Strict, "QUIT"),
            ("VRFY tuanna", Strict, "VRFY postmaster"),
            ("HELP MAIL", Strict, "HELP"),
            ("STARTTLS", Strict, "STARTTLS"),
            ("AUTH LOGIN", Strict, "AUTH LOGIN"),
            ("AUTH PLAIN =", Strict, "AUTH PLAIN ="),
            (
                "AUTH PLAIN AHR1YW5uYQBtYXQta2hhdQ==",
                Strict,
                "AUTH PLAIN AHR1YW5uYQBtYXQta2hhdQ==",
            ),
        ] {
            round_trip(line, strictness, encoded);
        }
    }

    #[test]
    fn xtext_encodes_what_is_not_printable_or_special() {
        let mut line = String::new();
        super::xtext(&mut line, "a+b=c d~");
        assert_eq!(line, "a+2Bb+3Dc+20d~");
    }
}
