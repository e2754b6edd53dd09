//! COPY and UID COPY (RFC 3501 §6.4.7) with COPYUID (RFC 4315), and the part MOVE
//! shares with them.
//!
//! RFC 4314 §4: the destination needs `i` (it may be a shared mailbox of another
//! account: the store copies across accounts and charges the destination's quota);
//! MOVE also needs `t` and `e` on the source, as it stores `\Deleted` and expunges.
//! A copy keeps its flags only as far as the destination's rights allow setting
//! them (`s`, `w`, `t`), as APPEND does: a clerk with `i` alone cannot put `\Seen`
//! or `\Deleted` messages into the agency's mailbox.

use congvu_directory::Rights;
use congvu_store::{Copied, FlagOp, FlagStore};

use super::append::permitted_flags;
use crate::codec::response::Code;
use crate::codec::sequence::{Ranges, SequenceSet};
use crate::codec::{FlagSet, MailboxName};
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
        let target = self.resolve(mailbox.as_str())?;
        target.require(Rights::INSERT, "Adding messages to that mailbox is not permitted")?;
        let Some(selected) = self.selected() else {
            return Err(Reply::bad("No mailbox selected"));
        };
        if remove && selected.read_only {
            return Err(Reply::no(Some(Code::Cannot), "Mailbox is read-only"));
        }
        if remove
            && !selected
                .rights
                .contains(Rights::DELETE_MESSAGES.union(Rights::EXPUNGE))
        {
            return Err(Reply::no(
                Some(Code::NoPerm),
                "Moving messages out of this mailbox is not permitted",
            ));
        }
        let (account, name, rights) = (target.account(), target.name, target.rights);
        let Ok(indices) = selected.resolve(&set, uid) else {
            return Err(Reply::bad("Invalid message sequence number"));
        };
        let (from, uids) = (selected.id, selected.uids(&indices));
        let result = self
            .blocking(move |store| {
                let Some(to) = store.mailbox_by_name(account, &name)? else {
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
                for &(_, copy) in &copied.pairs {
                    let Some(meta) = store.message(to.id, copy)? else {
                        continue;
                    };
                    let kept = permitted_flags(
                        FlagSet {
                            system: meta.flags,
                            keywords: meta.keywords.clone(),
                        },
                        rights,
                    );
                    if kept.system != meta.flags || kept.keywords.len() != meta.keywords.len() {
                        store.store_flags(
                            to.id,
                            &FlagStore {
                                uids: &[copy],
                                op: FlagOp::Replace,
                                flags: kept.system,
                                keywords: &kept.keywords,
                                unchanged_since: None,
                            },
                        )?;
                    }
                }
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
