//! DELETE (RFC 3501 §6.3.4). INBOX cannot be deleted. Deleting the selected
//! mailbox is allowed: the next sync of this session finds its messages gone.
//! A shared mailbox needs the `x` right (RFC 4314 §4).
//!
//! A mailbox with inferior names is not deleted: the store keeps no `\Noselect`
//! placeholders, and RFC 3501 §6.3.4 / RFC 9051 §6.3.4 let a server refuse instead,
//! with `NO [HASCHILDREN]` (RFC 9051 §7.1). Clients then delete the children first.

use congvu_directory::Rights;
use congvu_store::HIERARCHY_SEPARATOR;

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
        let deleted = self
            .blocking(move |store| {
                let children = format!("{name}{HIERARCHY_SEPARATOR}");
                let mailboxes = store.list_mailboxes(account)?;
                if mailboxes.iter().any(|m| m.name.starts_with(&children)) {
                    return Ok(false);
                }
                store.delete_mailbox(account, &name).map(|()| true)
            })
            .await;
        match deleted {
            Ok(true) => Reply::ok("DELETE completed"),
            Ok(false) => Reply::no(
                Some(Code::HasChildren),
                "Delete the mailboxes inside this one first",
            ),
            Err(err) => store_failure(&err),
        }
    }
}
