//! UNSELECT (RFC 3691): leave the mailbox without expunging.

use crate::session::{Reply, Session};

impl Session {
    pub(crate) fn op_unselect(&mut self) -> Reply {
        self.deselect();
        Reply::ok("UNSELECT completed")
    }
}
