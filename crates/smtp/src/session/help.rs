//! HELP (RFC 5321 §4.1.1.8).

use super::{Action, Session};
use crate::reply::Reply;

impl Session {
    pub(super) fn help(&mut self) -> Action {
        Action::Reply(Reply::HELP)
    }
}
