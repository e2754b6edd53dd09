//! NOOP (RFC 5321 §4.1.1.9).

use super::{Action, Session};
use crate::reply::Reply;

impl Session {
    pub(super) fn noop(&mut self) -> Action {
        Action::Reply(Reply::OK)
    }
}
