//! COPY and UID COPY (RFC 3501 §6.4.7) with COPYUID (RFC 4315), and the part MOVE
//! shares with them.

use congvu_store::Copied;

use crate::codec::MailboxName;
use crate::codec::response::Code;
use crate::codec::sequence::{Ranges, SequenceSet};
use crate::session::{Reply, Session, store_failure};

/// What a copy or move reports: COPYUID with both UID sets, when anything was copied.
pub(crate) fn copyuid(copied: &Copied) -> Option<Code> {
    if copied.pairs.is_empty() {
        return None;
    }
    Some(Code::CopyUid {
        uidvalidity: copied.uidvalidity,
        source: Ranges::from_sorted(copied.pairs.iter().map(|(s, _)| s.get())).to_string(),
        destination: Ranges::from_sorted(copied.pairs.iter().map(|(_, d)| d.get())).to_string(),
    })
}

impl Session {
    pub(crate) async fn op_copy(&mut self, uid: bool, set: SequenceSet, mailbox: MailboxName) -> Reply {
        match self.transfer(uid, set, mailbox, false).await {
            Ok(copied) => match copyuid(&copied) {
                Some(code) => Reply::ok_code(code, "COPY completed"),
                None => Reply::ok("COPY completed"),
            },
            Err(reply) => reply,
        }
    }

    /// Copies (or, with `remove`, moves) the named messages to `mailbox`.
    pub(crate) async fn transfer(
        &mut self,
        uid: bool,
        set: SequenceSet,
        mailbox: MailboxName,
        remove: bool,
    ) -> Result<Copied, Reply> {
        let Some(account) = self.user().map(|u| u.account) else {
            return Err(Reply::bad("Not authenticated"));
        };
        let Some(selected) = self.selected() else {
            return Err(Reply::bad("No mailbox selected"));
        };
        if remove && selected.read_only {
            return Err(Reply::no(Some(Code::Cannot), "Mailbox is read-only"));
        }
        let Ok(indices) = selected.resolve(&set, uid) else {
            return Err(Reply::bad("Invalid message sequence number"));
        };
        let (from, uids) = (selected.id, selected.uids(&indices));
        let result = self
            .blocking(move |store| {
                let Some(to) = store.mailbox_by_name(account, mailbox.as_str())? else {
                    return Ok(None);
                };
                if uids.is_empty() {
                    return Ok(Some(Copied {
                        uidvalidity: to.uidvalidity,
                        pairs: Vec::new(),
                    }));
                }
                let copied = if remove {
                    store.move_messages(from, &uids, to.id)?
                } else {
                    store.copy(from, &uids, to.id)?
                };
                Ok(Some(copied))
            })
            .await;
        match result {
            Ok(Some(copied)) => Ok(copied),
            Ok(None) => Err(Reply::no(Some(Code::TryCreate), "No such mailbox")),
            Err(err) => Err(store_failure(&err)),
        }
    }
}
