//! DELETE (RFC 3501 §6.3.4). INBOX cannot be deleted. Deleting the selected
//! mailbox is allowed: the next sync of this session finds its messages gone.
//! A shared mailbox needs the `x` right (RFC 4314 §4).

use congvu_directory::Rights;

use crate::codec::MailboxName;
use crate::codec::response::Code;
use crate::session::{Reply, Session, store_failure};

impl Session {
    pub(crate) async fn op_delete(&mut self, mailbox: MailboxName) -> Reply {
        let target = match self.resolve(mailbox.as_str()) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        if let Err(reply) = target.require(Rights::DELETE_MAILBOX, "Deleting this mailbox is not permitted") {
            return reply;
        }
        if target.name == "INBOX" {
            return Reply::no(Some(Code::Cannot), "INBOX cannot be deleted");
        }
        let (account, name) = (target.account(), target.name);
        match self
            .blocking(move |store| store.delete_mailbox(account, &name))
            .await
        {
            Ok(()) => Reply::ok("DELETE completed"),
            Err(err) => store_failure(&err),
        }
    }
}
