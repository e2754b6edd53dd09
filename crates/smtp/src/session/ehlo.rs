//! EHLO and HELO (RFC 5321 §4.1.1.1).

use super::{Action, Greeting, Session, State};
use crate::parse::HeloName;
use crate::reply::Reply;

impl Session {
    /// Lists the extensions. CHUNKING (RFC 3030) and DSN (RFC 3461) on every port;
    /// STARTTLS only while the connection is plain (RFC 3207 §4.2); AUTH only on
    /// submission and only over TLS, so that no client is ever invited to send a
    /// password in clear (RFC 8314 §3, RFC 4954 §4).
    pub(super) fn ehlo(&mut self, name: HeloName) -> Action {
        self.greet(name, true);
        let config = &self.ctx.config;
        let mut lines = vec![
            config.hostname.clone(),
            "PIPELINING".to_owned(),
            format!("SIZE {}", config.max_message_bytes),
            "8BITMIME".to_owned(),
            "SMTPUTF8".to_owned(),
            "ENHANCEDSTATUSCODES".to_owned(),
            "CHUNKING".to_owned(),
            "DSN".to_owned(),
        ];
        if self.tls.is_none() {
            lines.push("STARTTLS".to_owned());
        }
        if self.kind.is_submission() && self.tls.is_some() {
            lines.push("AUTH PLAIN LOGIN".to_owned());
        }
        Action::Reply(Reply::plain(250, lines.join("\n")))
    }

    pub(super) fn helo(&mut self, name: HeloName) -> Action {
        self.greet(name, false);
        Action::Reply(Reply::plain(250, self.ctx.config.hostname.clone()))
    }

    /// RFC 5321 §4.1.4: EHLO/HELO also resets any open transaction, like RSET.
    fn greet(&mut self, name: HeloName, extended: bool) {
        self.helo = Some(Greeting { name, extended });
        self.state = State::Greeted;
    }
}
