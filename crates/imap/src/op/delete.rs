//! DELETE (RFC 3501 §6.3.4). INBOX cannot be deleted. Deleting the selected
//! mailbox is allowed: the next sync of this session finds its messages gone.

use crate::codec::MailboxName;
use crate::codec::response::Code;
use crate::session::{Reply, Session, store_failure};

impl Session {
    pub(crate) async fn op_delete(&mut self, mailbox: MailboxName) -> Reply {
        if mailbox.as_str() == "INBOX" {
            return Reply::no(Some(Code::Cannot), "INBOX cannot be deleted");
        }
        let Some(account) = self.user().map(|u| u.account) else {
            return Reply::bad("Not authenticated");
        };
        match self
            .blocking(move |store| store.delete_mailbox(account, mailbox.as_str()))
            .await
        {
            Ok(()) => Reply::ok("DELETE completed"),
            Err(err) => store_failure(&err),
        }
    }
}
