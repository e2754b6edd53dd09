//! Typed SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 2034, RFC 3463).
//!
//! Every reply the server sends is a [`Reply`]; the fixed ones are named constants so
//! that a reply code is chosen in one place and tests can compare against it.

use std::borrow::Cow;
use std::fmt;

/// One SMTP reply. `text` may contain `\n` to make a multi-line reply; each line is
/// then rendered as `code-text` except the last, `code text` (RFC 5321 §4.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Enhanced status code `class.subject.detail` (RFC 3463), written on every line.
    /// `None` for the greeting, EHLO, 334 and 354, which carry none (RFC 2034 §3).
    pub enhanced: Option<(u8, u16, u16)>,
    pub text: Cow<'static, str>,
}

const fn fixed(code: u16, enhanced: (u8, u16, u16), text: &'static str) -> Reply {
    Reply {
        code,
        enhanced: Some(enhanced),
        text: Cow::Borrowed(text),
    }
}

impl Reply {
    pub const OK: Reply = fixed(250, (2, 0, 0), "OK");
    pub const SENDER_OK: Reply = fixed(250, (2, 1, 0), "Sender OK");
    pub const RECIPIENT_OK: Reply = fixed(250, (2, 1, 5), "Recipient OK");
    pub const BYE: Reply = fixed(221, (2, 0, 0), "Bye");
    pub const HELP: Reply = fixed(214, (2, 0, 0), "congvu: see RFC 5321");
    /// RFC 5321 §3.5.3: VRFY may answer 252 so that addresses cannot be harvested.
    pub const CANNOT_VRFY: Reply = fixed(
        252,
        (2, 5, 2),
        "Cannot VRFY user, but will accept message and attempt delivery",
    );
    pub const READY_FOR_TLS: Reply = fixed(220, (2, 0, 0), "Ready to start TLS");
    pub const AUTH_OK: Reply = fixed(235, (2, 7, 0), "Authentication successful");
    pub const START_DATA: Reply = Reply {
        code: 354,
        enhanced: None,
        text: Cow::Borrowed("End data with <CR><LF>.<CR><LF>"),
    };

    pub const SHUTTING_DOWN: Reply = fixed(421, (4, 3, 2), "Server shutting down");
    pub const IDLE_TIMEOUT: Reply = fixed(421, (4, 4, 2), "Idle timeout, closing connection");
    pub const TOO_MANY_ERRORS: Reply = fixed(421, (4, 7, 0), "Too many errors, closing connection");
    pub const TOO_MANY_COMMANDS: Reply = fixed(
        421,
        (4, 7, 0),
        "Too many commands without a mail transaction, closing connection",
    );
    pub const TOO_MANY_AUTH_FAILURES: Reply = fixed(
        421,
        (4, 7, 0),
        "Too many failed authentication attempts, closing connection",
    );
    /// RFC 4954 §6: 4.7.0 for a temporary authentication failure; the client's
    /// address has failed too often lately (counted across connections).
    pub const AUTH_THROTTLED: Reply = fixed(
        421,
        (4, 7, 0),
        "Too many failed logins from your address, try again later",
    );
    pub const LOCAL_ERROR: Reply = fixed(451, (4, 3, 0), "Local error in processing, try again later");
    pub const MAILBOX_FULL_TEMP: Reply = fixed(452, (4, 2, 2), "Mailbox full");
    pub const TOO_MANY_RECIPIENTS: Reply = fixed(452, (4, 5, 3), "Too many recipients");
    pub const AUTH_TEMP_FAILURE: Reply = fixed(454, (4, 7, 0), "Temporary authentication failure");

    pub const UNKNOWN_COMMAND: Reply = fixed(500, (5, 5, 1), "Command unrecognized");
    pub const LINE_TOO_LONG: Reply = fixed(500, (5, 5, 2), "Line too long");
    pub const SYNTAX_ERROR: Reply = fixed(501, (5, 5, 4), "Syntax error in parameters or arguments");
    pub const BAD_BASE64: Reply = fixed(501, (5, 5, 2), "Invalid base64 data");
    pub const BAD_SENDER_SYNTAX: Reply = fixed(501, (5, 1, 7), "Bad sender address syntax");
    pub const BAD_RECIPIENT_SYNTAX: Reply = fixed(501, (5, 1, 3), "Bad recipient address syntax");
    pub const BAD_SASL_MESSAGE: Reply = fixed(501, (5, 5, 2), "Malformed authentication response");
    pub const AUTH_CANCELLED: Reply = fixed(501, (5, 0, 0), "Authentication cancelled");
    pub const NOT_IMPLEMENTED: Reply = fixed(502, (5, 5, 1), "Command not implemented");
    pub const BAD_SEQUENCE: Reply = fixed(503, (5, 5, 1), "Bad sequence of commands");
    pub const HELO_FIRST: Reply = fixed(503, (5, 5, 1), "Send EHLO or HELO first");
    pub const NESTED_MAIL: Reply = fixed(503, (5, 5, 1), "Nested MAIL command");
    pub const NEED_MAIL: Reply = fixed(503, (5, 5, 1), "Need MAIL command first");
    pub const NEED_RCPT: Reply = fixed(503, (5, 5, 1), "Need RCPT command first");
    pub const ALREADY_AUTHENTICATED: Reply = fixed(503, (5, 5, 1), "Already authenticated");
    pub const AUTH_IN_TRANSACTION: Reply =
        fixed(503, (5, 5, 1), "AUTH not permitted during a mail transaction");
    pub const TLS_ALREADY_ACTIVE: Reply = fixed(503, (5, 5, 1), "TLS already active");
    pub const UNSUPPORTED_MECHANISM: Reply = fixed(504, (5, 5, 4), "Unrecognized authentication mechanism");
    pub const AUTH_REQUIRED: Reply = fixed(530, (5, 7, 0), "Authentication required");
    /// RFC 3207 §4: commands other than EHLO/STARTTLS/NOOP/QUIT before TLS.
    pub const TLS_REQUIRED: Reply = fixed(530, (5, 7, 0), "Must issue a STARTTLS command first");
    pub const AUTH_INVALID: Reply = fixed(535, (5, 7, 8), "Authentication credentials invalid");
    /// RFC 4954 §6: the mechanism may only be used over an encrypted connection.
    pub const ENCRYPTION_REQUIRED: Reply = fixed(
        538,
        (5, 7, 11),
        "Encryption required for requested authentication mechanism",
    );
    pub const NO_SUCH_USER: Reply = fixed(550, (5, 1, 1), "No such user here");
    pub const MAILBOX_DISABLED: Reply = fixed(550, (5, 2, 1), "Mailbox disabled, not accepting messages");
    pub const RELAY_DENIED: Reply = fixed(550, (5, 7, 1), "Relay access denied");
    pub const MAILBOX_FULL: Reply = fixed(552, (5, 2, 2), "Mailbox full");
    pub const MESSAGE_TOO_BIG: Reply = fixed(552, (5, 3, 4), "Message size exceeds fixed limit");
    pub const SENDER_NOT_OWNED: Reply =
        fixed(553, (5, 7, 1), "Sender address not owned by authenticated user");
    pub const NULL_SENDER_DENIED: Reply = fixed(553, (5, 7, 1), "Null sender not permitted here");
    /// A `From:`/`Sender:` address the authenticated user may not send as (RFC 6409 §6.1).
    pub const ORIGINATOR_NOT_OWNED: Reply = fixed(
        550,
        (5, 7, 1),
        "Địa chỉ người gửi trong tiêu đề From hoặc Sender không thuộc tài khoản của bạn \
         / the From or Sender header address is not yours to send as",
    );
    /// A `From:`/`Sender:` field with no readable address (RFC 5322 §3.6.2).
    pub const ORIGINATOR_NAME_NOT_OWNED: Reply = fixed(
        550,
        (5, 7, 1),
        "Tên hiển thị trong tiêu đề From chứa địa chỉ thư công vụ không thuộc tài khoản của bạn \
         / the From display name holds an official address that is not yours to send as",
    );
    pub const ORIGINATOR_UNREADABLE: Reply = fixed(
        550,
        (5, 6, 0),
        "Tiêu đề From hoặc Sender không có địa chỉ đọc được \
         / the From or Sender header has no readable address",
    );
    /// RFC 6531 §3.4, RFC 6533: a non-ASCII address without the SMTPUTF8 parameter.
    pub const NON_ASCII_WITHOUT_SMTPUTF8: Reply = fixed(
        553,
        (5, 6, 7),
        "Non-ASCII address requires the SMTPUTF8 parameter",
    );
    pub const NO_VALID_RECIPIENTS: Reply = fixed(554, (5, 5, 1), "No valid recipients");
    pub const UNKNOWN_PARAMETER: Reply = fixed(
        555,
        (5, 5, 4),
        "MAIL or RCPT parameter not recognized or not implemented",
    );

    /// A reply without enhanced code (greeting, EHLO, SASL challenges).
    pub fn plain(code: u16, text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            code,
            enhanced: None,
            text: text.into(),
        }
    }

    pub fn new(code: u16, enhanced: (u8, u16, u16), text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            code,
            enhanced: Some(enhanced),
            text: text.into(),
        }
    }

    /// 2xx and 3xx: the command was accepted.
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// 5xx: the client's command was refused for good.
    pub fn is_permanent_failure(&self) -> bool {
        self.code >= 500
    }

    /// Appends the wire form (CRLF-terminated lines) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut lines = self.text.split('\n').peekable();
        while let Some(line) = lines.next() {
            let separator = if lines.peek().is_some() { '-' } else { ' ' };
            out.extend_from_slice(format!("{}{}", self.code, separator).as_bytes());
            if let Some((class, subject, detail)) = self.enhanced {
                out.extend_from_slice(format!("{class}.{subject}.{detail} ").as_bytes());
            }
            // Reply text comes from this crate, but a CR would still break the framing.
            out.extend(line.bytes().filter(|&b| b != b'\r'));
            out.extend_from_slice(b"\r\n");
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write_to(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_single_and_multi_line_replies() {
        let cases: [(Reply, &str); 5] = [
            (Reply::OK, "250 2.0.0 OK\r\n"),
            (Reply::plain(334, ""), "334 \r\n"),
            (
                Reply::plain(250, "mx.example\nPIPELINING\nSIZE 10"),
                "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10\r\n",
            ),
            (
                Reply::new(550, (5, 1, 1), "one\ntwo"),
                "550-5.1.1 one\r\n550 5.1.1 two\r\n",
            ),
            (Reply::plain(220, "a\rb"), "220 ab\r\n"),
        ];
        for (reply, wire) in cases {
            assert_eq!(reply.to_string(), wire);
        }
    }

    #[test]
    fn classes() {
        assert!(Reply::START_DATA.is_positive());
        assert!(!Reply::TOO_MANY_RECIPIENTS.is_positive());
        assert!(!Reply::TOO_MANY_RECIPIENTS.is_permanent_failure());
        assert!(Reply::RELAY_DENIED.is_permanent_failure());
    }
}
