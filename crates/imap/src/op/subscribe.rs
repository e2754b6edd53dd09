//! SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6–6.3.7). Subscriptions are a property
//! of existing mailboxes in the store, so a missing mailbox is `NO [NONEXISTENT]`.

use crate::codec::MailboxName;
use crate::session::{Reply, Session, store_failure};

impl Session {
    pub(crate) async fn op_subscribe(&mut self, mailbox: MailboxName, subscribe: bool) -> Reply {
        let Some(account) = self.user().map(|u| u.account) else {
            return Reply::bad("Not authenticated");
        };
        match self
            .blocking(move |store| store.set_subscribed(account, mailbox.as_str(), subscribe))
            .await
        {
            Ok(()) if subscribe => Reply::ok("SUBSCRIBE completed"),
            Ok(()) => Reply::ok("UNSUBSCRIBE completed"),
            Err(err) => store_failure(&err),
        }
    }
}
