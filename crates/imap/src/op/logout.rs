//! LOGOUT (RFC 3501 §6.1.3): BYE, then the tagged OK, then the connection closes;
//! the session's end records the leaving of an agency INBOX (`session::access`).

use crate::codec::Tag;
use crate::codec::response::Status;
use crate::session::{Disconnect, Reply, Session, State};

impl Session {
    pub(crate) fn op_logout(&mut self, tag: &Tag) -> Result<(), Disconnect> {
        self.untagged(Status::Bye, None, "congvu logging out");
        self.finish(tag, Reply::ok("LOGOUT completed"))?;
        self.state = State::Logout;
        self.closing = Some("logout");
        Ok(())
    }
}
