//! SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6–6.3.7). Subscriptions are by name:
//! a name with no mailbox may be subscribed, and a subscription outlives its
//! mailbox (the store's `subscriptions`; LIST shows such names `\NonExistent`).
//! UNSUBSCRIBE of a name that is neither is `NO [NONEXISTENT]`.
//!
//! A shared mailbox's subscription is the agency's: a clerk sees it as the agency
//! left it (all default folders are subscribed). SUBSCRIBE to a shared mailbox the
//! clerk may look up succeeds without changing it; UNSUBSCRIBE is refused rather
//! than changing what every other clerk and the agency see.

use congvu_directory::Rights;

use crate::codec::MailboxName;
use crate::codec::response::Code;
use crate::session::{Reply, Session, store_failure};

impl Session {
    pub(crate) async fn op_subscribe(&mut self, mailbox: MailboxName, subscribe: bool) -> Reply {
        let target = match self.resolve(mailbox.as_str()) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        if self.user().is_some_and(|u| u.account != target.account()) {
            if let Err(reply) = target.require(Rights::LOOKUP, "No such mailbox") {
                return reply;
            }
            return match self.ctx.store.mailbox_by_name(target.account(), &target.name) {
                Ok(Some(_)) if subscribe => Reply::ok("SUBSCRIBE completed"),
                Ok(Some(_)) => Reply::no(
                    Some(Code::Cannot),
                    "Shared mailboxes follow the agency's subscriptions",
                ),
                Ok(None) => Reply::no(Some(Code::NonExistent), "No such mailbox"),
                Err(err) => store_failure(&err),
            };
        }
        let (account, name) = (target.account(), target.name);
        match self
            .blocking(move |store| store.set_subscribed(account, &name, subscribe))
            .await
        {
            Ok(()) if subscribe => Reply::ok("SUBSCRIBE completed"),
            Ok(()) => Reply::ok("UNSUBSCRIBE completed"),
            Err(err) => store_failure(&err),
        }
    }
}
