//! QUIT (RFC 5321 §4.1.1.10): an open transaction is abandoned, nothing is delivered.

use super::{Action, Session};
use crate::reply::Reply;

impl Session {
    pub(super) fn quit(&mut self) -> Action {
        Action::Close(Reply::BYE)
    }
}
