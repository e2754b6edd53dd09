//! MOVE and UID MOVE (RFC 6851): COPYUID in an untagged OK first, then the
//! EXPUNGE responses (from the sync after the command), then the tagged OK
//! (RFC 6851 §4.3).

use crate::codec::MailboxName;
use crate::codec::response::Status;
use crate::codec::sequence::SequenceSet;
use crate::session::{Reply, Session};

use super::copy::copyuid;

impl Session {
    pub(crate) async fn op_move(&mut self, uid: bool, set: SequenceSet, mailbox: MailboxName) -> Reply {
        match self.transfer(uid, set, mailbox, true).await {
            Ok(moved) => {
                if let Some(code) = copyuid(&moved) {
                    self.untagged(Status::Ok, Some(code), "Moved");
                }
                Reply::ok("MOVE completed")
            }
            Err(reply) => reply,
        }
    }
}
