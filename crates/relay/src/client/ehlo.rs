//! The EHLO reply's extension list (RFC 5321 §4.1.1.1), parsed without I/O.

use congvu_protocol::smtp::reply_parser::ServerReply;

/// What the server offered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub starttls: bool,
    pub pipelining: bool,
    /// RFC 1870: the limit, 0 when it announced none.
    pub size: Option<u64>,
    pub eightbitmime: bool,
    pub smtputf8: bool,
    /// AUTH PLAIN offered (RFC 4954).
    pub auth_plain: bool,
    /// RFC 3461: the server takes `RET`/`ENVID` and `NOTIFY`/`ORCPT`, and reports
    /// from then on itself.
    pub dsn: bool,
}

impl Capabilities {
    /// From a positive EHLO reply: the first line is the greeting, each other line
    /// one keyword with parameters; keywords are case-insensitive.
    pub fn from_ehlo(reply: &ServerReply) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else { continue };
            match keyword.to_ascii_uppercase().as_str() {
                "STARTTLS" => caps.starttls = true,
                "PIPELINING" => caps.pipelining = true,
                "SIZE" => caps.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0)),
                "8BITMIME" => caps.eightbitmime = true,
                "SMTPUTF8" => caps.smtputf8 = true,
                "DSN" => caps.dsn = true,
                "AUTH" => caps.auth_plain |= words.any(|m| m.eq_ignore_ascii_case("PLAIN")),
                _ => {}
            }
        }
        caps
    }

    /// Whether a message of `size` bytes fits the announced limit (0 = no limit).
    pub fn accepts_size(&self, size: u64) -> bool {
        self.size.is_none_or(|limit| limit == 0 || size <= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        let reply = ServerReply {
            code: 250,
            lines: [
                "mx.b.vn hello",
                "pipelining",
                "SIZE 1000",
                "8BITMIME",
                "AUTH LOGIN plain",
                "STARTTLS",
                "SMTPUTF8",
                "dsn",
                "",
            ]
            .map(String::from)
            .to_vec(),
        };
        let caps = Capabilities::from_ehlo(&reply);
        assert_eq!(
            caps,
            Capabilities {
                starttls: true,
                pipelining: true,
                size: Some(1000),
                eightbitmime: true,
                smtputf8: true,
                auth_plain: true,
                dsn: true
            }
        );
        assert!(caps.accepts_size(1000) && !caps.accepts_size(1001));
        let bare = Capabilities::from_ehlo(&ServerReply {
            code: 250,
            lines: vec!["x".into(), "SIZE".into()],
        });
        assert!(bare.accepts_size(u64::MAX) && !bare.starttls && !bare.dsn);
    }
}
