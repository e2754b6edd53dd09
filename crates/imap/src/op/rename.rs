//! RENAME (RFC 3501 §6.3.5): children move along; renaming INBOX moves its
//! messages into the new mailbox and leaves INBOX empty (the store does both).
//! Within a shared agency mailbox the source needs `x` and the new name `k`
//! (RFC 4314 §4); a rename cannot move a folder between accounts.

use congvu_directory::Rights;

use crate::codec::MailboxName;
use crate::codec::response::Code;
use crate::session::{Reply, Session, store_failure};

use super::create::{create_parents, creation_target, new_mailbox_name};

impl Session {
    pub(crate) async fn op_rename(&mut self, from: MailboxName, to: MailboxName) -> Reply {
        let to = match new_mailbox_name(&to) {
            Ok(to) => to,
            Err(reply) => return reply,
        };
        let source = match self.resolve(from.as_str()) {
            Ok(source) => source,
            Err(reply) => return reply,
        };
        if let Err(reply) = source.require(Rights::DELETE_MAILBOX, "Renaming this mailbox is not permitted") {
            return reply;
        }
        let target = match creation_target(self, &to) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        if source.account() != target.account() {
            return Reply::no(
                Some(Code::Cannot),
                "A mailbox cannot be renamed into another account",
            );
        }
        let (account, from, to) = (source.account(), source.name, target.name);
        let renamed = self
            .blocking(move |store| {
                create_parents(store, account, &to)?;
                store.rename_mailbox(account, &from, &to)
            })
            .await;
        match renamed {
            Ok(()) => Reply::ok("RENAME completed"),
            Err(err) => store_failure(&err),
        }
    }
}
