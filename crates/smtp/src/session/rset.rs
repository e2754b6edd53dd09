//! RSET (RFC 5321 §4.1.1.5): abort the transaction, keep the greeting and AUTH.

use super::{Action, Session};
use crate::reply::Reply;

impl Session {
    pub(super) fn rset(&mut self) -> Action {
        self.state = self.idle_state();
        Action::Reply(Reply::OK)
    }
}
