//! The client side of [`parse_command`](super::parse_command): a [`Command`] written
//! back as the line a client sends, final CRLF included.
//!
//! ## Invariants
//! 1. Round trip: for every line `l` and strictness `s`, when `parse_command(l, s)`
//!    gives `c`, the line [`Command::encode`] writes, without its CRLF, parses in
//!    `s` to `c` again (unit tests below; fuzzed by `smtp_roundtrip`). What the
//!    parser drops is written so that it parses back to the same value: the
//!    argument of VRFY, NOOP and HELP (not kept) is left out or replaced, a lenient
//!    `AUTH=` MAIL parameter (accepted and ignored) is not written.
//! 2. One line: the only CR and LF written are the final CRLF (the parser lets no
//!    CR or LF into a value, and xtext escapes every control octet).
//! 3. An AUTH initial response is written, since a client must send it; the
//!    encoder logs nothing, and `Secret`'s `Debug` still redacts it.

use std::io::Write;

use super::command::{Body, Command, MailParams, Mechanism, RcptParams};
use super::dsn::{DsnRet, encode_xtext};
use super::path::ForwardPath;
use super::sasl;

impl Command {
    /// Appends the command line as a client sends it, final CRLF included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        // Writing into a Vec<u8> cannot fail: the io::Result is always Ok.
        let _ = self.write_line(out);
        out.extend_from_slice(b"\r\n");
    }

    fn write_line(&self, out: &mut Vec<u8>) -> std::io::Result<()> {
        match self {
            Command::Ehlo(name) => write!(out, "EHLO {name}"),
            Command::Helo(name) => write!(out, "HELO {name}"),
            Command::Mail { from, params } => {
                write!(out, "MAIL FROM:{from}")?;
                mail_params(out, params)
            }
            Command::Rcpt { to, params } => {
                match to {
                    ForwardPath::Postmaster => out.extend_from_slice(b"RCPT TO:<Postmaster>"),
                    ForwardPath::Mailbox(mailbox) => write!(out, "RCPT TO:<{mailbox}>")?,
                }
                rcpt_params(out, params)
            }
            Command::Data => write!(out, "DATA"),
            Command::Bdat { size, last } => {
                write!(out, "BDAT {size}{}", if *last { " LAST" } else { "" })
            }
            Command::Rset => write!(out, "RSET"),
            Command::Noop => write!(out, "NOOP"),
            Command::Quit => write!(out, "QUIT"),
            // RFC 5321 §4.1.1.6: VRFY needs an argument; the parser keeps none.
            Command::Vrfy => write!(out, "VRFY postmaster"),
            Command::Help => write!(out, "HELP"),
            Command::StartTls => write!(out, "STARTTLS"),
            Command::Auth { mechanism, initial } => {
                let mechanism = match mechanism {
                    Mechanism::Plain => "PLAIN",
                    Mechanism::Login => "LOGIN",
                };
                match initial {
                    None => write!(out, "AUTH {mechanism}"),
                    // RFC 4954 §4: "=" is an empty initial response.
                    Some(response) if response.expose().is_empty() => write!(out, "AUTH {mechanism} ="),
                    Some(response) => {
                        write!(out, "AUTH {mechanism} {}", sasl::encode_base64(response.expose()))
                    }
                }
            }
        }
    }
}

fn mail_params(out: &mut Vec<u8>, params: &MailParams) -> std::io::Result<()> {
    if let Some(size) = params.size {
        write!(out, " SIZE={size}")?;
    }
    match params.body {
        Some(Body::SevenBit) => out.extend_from_slice(b" BODY=7BIT"),
        Some(Body::EightBitMime) => out.extend_from_slice(b" BODY=8BITMIME"),
        None => {}
    }
    if params.smtputf8 {
        out.extend_from_slice(b" SMTPUTF8");
    }
    match params.ret {
        Some(DsnRet::Full) => out.extend_from_slice(b" RET=FULL"),
        Some(DsnRet::Headers) => out.extend_from_slice(b" RET=HDRS"),
        None => {}
    }
    if let Some(envid) = &params.envid {
        write!(out, " ENVID={}", encode_xtext(envid))?;
    }
    Ok(())
}

fn rcpt_params(out: &mut Vec<u8>, params: &RcptParams) -> std::io::Result<()> {
    if let Some(notify) = params.notify {
        write!(out, " NOTIFY={notify}")?;
    }
    if let Some(orcpt) = &params.orcpt {
        write!(out, " ORCPT={};{}", orcpt.addr_type, encode_xtext(&orcpt.value))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Strictness, parse_command};

    /// parse → encode → parse gives the same command, and the encoding is the
    /// expected line and its CRLF.
    fn round_trip(line: &str, strictness: Strictness, encoded: &str) {
        let command = parse_command(line.as_bytes(), strictness).unwrap_or_else(|e| panic!("{line}: {e}"));
        let mut out = Vec::new();
        command.encode(&mut out);
        assert_eq!(String::from_utf8_lossy(&out), format!("{encoded}\r\n"), "{line}");
        let again = out.strip_suffix(b"\r\n").unwrap_or(&out);
        assert_eq!(parse_command(again, strictness), Ok(command), "{line}");
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
            (
                "RCPT TO:<nguyễn.thị.hằng@sởytế.thanhhoa.gov.vn> NOTIFY=FAILURE",
                Strict,
                "RCPT TO:<nguyễn.thị.hằng@sởytế.thanhhoa.gov.vn> NOTIFY=FAILURE",
            ),
            (
                "RCPT  TO: <\"Phòng Tổng hợp\"@ubnd.thanhhoa.gov.vn>  ORCPT=utf-8;a+20b+3Dc  ",
                Lenient,
                "RCPT TO:<\"Phòng Tổng hợp\"@ubnd.thanhhoa.gov.vn> ORCPT=utf-8;a+20b+3Dc",
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
            ("auth login  dXNlcg", Lenient, "AUTH LOGIN dXNlcg=="),
            ("BDAT  12   last", Lenient, "BDAT 12 LAST"),
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
}
