//! RENAME (RFC 3501 §6.3.5): children move along; renaming INBOX moves its
//! messages into the new mailbox and leaves INBOX empty (the store does both).

use crate::codec::MailboxName;
use crate::session::{Reply, Session, store_failure};

use super::create::{create_parents, new_mailbox_name};

impl Session {
    pub(crate) async fn op_rename(&mut self, from: MailboxName, to: MailboxName) -> Reply {
        let to = match new_mailbox_name(&to) {
            Ok(to) => to,
            Err(reply) => return reply,
        };
        let Some(account) = self.user().map(|u| u.account) else {
            return Reply::bad("Not authenticated");
        };
        let renamed = self
            .blocking(move |store| {
                create_parents(store, account, &to)?;
                store.rename_mailbox(account, from.as_str(), &to)
            })
            .await;
        match renamed {
            Ok(()) => Reply::ok("RENAME completed"),
            Err(err) => store_failure(&err),
        }
    }
}
