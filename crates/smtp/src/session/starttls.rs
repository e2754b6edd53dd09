//! STARTTLS (RFC 3207). The driver performs the handshake; bytes the client sent
//! after the command and before the handshake are discarded there, never read as
//! commands (STARTTLS command injection, CVE-2011-0411).

use super::{Action, Session, State};
use crate::reply::Reply;

impl Session {
    pub(super) fn starttls(&mut self) -> Action {
        if self.tls.is_some() {
            return Action::Reply(Reply::TLS_ALREADY_ACTIVE);
        }
        // The transaction would be lost in the reset that follows the handshake.
        if matches!(self.state, State::Mail(_) | State::Chunking(..)) {
            return Action::Reply(Reply::BAD_SEQUENCE);
        }
        Action::StartTls(Reply::READY_FOR_TLS)
    }
}
