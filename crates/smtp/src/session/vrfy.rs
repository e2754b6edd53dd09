//! VRFY (RFC 5321 §4.1.1.6). Always 252: confirming addresses would let anyone
//! harvest the province's directory (RFC 5321 §3.5.3, §7.3).

use super::{Action, Session};
use crate::reply::Reply;

impl Session {
    pub(super) fn vrfy(&mut self) -> Action {
        Action::Reply(Reply::CANNOT_VRFY)
    }
}
