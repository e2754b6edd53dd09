//! UNSELECT (RFC 3691): leave the mailbox without expunging (an agency INBOX's
//! check span ends, `session::access`).

use crate::session::{Reply, Session};

impl Session {
    pub(crate) async fn op_unselect(&mut self) -> Reply {
        self.leave_selected().await;
        Reply::ok("UNSELECT completed")
    }
}
