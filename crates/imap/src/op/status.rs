//! STATUS (RFC 3501 §6.3.10), plus SIZE (RFC 8438), DELETED (RFC 9051) and
//! HIGHESTMODSEQ (RFC 7162 §3.1.6, which enables CONDSTORE) items. LIST-STATUS
//! (RFC 5819) shares the item computation. RFC 4314 §4: STATUS needs `r`.

use congvu_directory::Rights;
use congvu_store::{Flags, MailboxInfo};

use crate::codec::mutf7::NameEncoding;
use crate::codec::response::{Code, write_mailbox};
use crate::codec::{MailboxName, StatusItem};
use crate::session::{Reply, Session, store_failure};

/// `* STATUS name (items)`.
pub(crate) fn write_status(out: &mut Vec<u8>, name: &str, names: NameEncoding, values: &str) {
    out.extend_from_slice(b"* STATUS ");
    write_mailbox(out, name, names);
    out.extend_from_slice(format!(" ({values})\r\n").as_bytes());
}

impl Session {
    pub(crate) fn op_status(&mut self, mailbox: MailboxName, items: &[StatusItem]) -> Reply {
        let target = match self.resolve(mailbox.as_str()) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        if let Err(reply) = target.require(Rights::READ, "Reading this mailbox is not permitted") {
            return reply;
        }
        let info = match self.ctx.store.mailbox_by_name(target.account(), &target.name) {
            Ok(Some(info)) => info,
            Ok(None) => return Reply::no(Some(Code::NonExistent), "No such mailbox"),
            Err(err) => return store_failure(&err),
        };
        match self.status_values(&info, items) {
            Ok(values) => write_status(
                &mut self.conn.output,
                mailbox.as_str(),
                self.enabled.names(),
                &values,
            ),
            Err(reply) => return reply,
        }
        Reply::ok("STATUS completed")
    }

    /// `MESSAGES 3 UIDNEXT 4 …` for the items asked, in their order.
    pub(crate) fn status_values(
        &mut self,
        info: &MailboxInfo,
        items: &[StatusItem],
    ) -> Result<String, Reply> {
        if items.contains(&StatusItem::HighestModSeq) {
            self.enabled.condstore = true;
        }
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            let value: u64 = match item {
                StatusItem::Messages => u64::from(info.messages),
                StatusItem::Recent => self.recent_count(info)?,
                StatusItem::UidNext => u64::from(info.uidnext),
                StatusItem::UidValidity => u64::from(info.uidvalidity),
                StatusItem::Unseen => u64::from(info.unseen),
                StatusItem::Size => info.size,
                StatusItem::HighestModSeq => info.highestmodseq,
                StatusItem::Deleted => match self.ctx.store.messages(info.id) {
                    Ok(messages) => messages
                        .iter()
                        .filter(|m| m.flags.contains(Flags::DELETED))
                        .count() as u64,
                    Err(err) => return Err(store_failure(&err)),
                },
            };
            values.push(format!("{} {value}", item.name()));
        }
        Ok(values.join(" "))
    }

    /// RFC 3501 §6.3.10 RECENT: the messages recent in this session if it has the
    /// mailbox selected, and those no session has claimed yet, which are recent to
    /// the next SELECT (§2.3.2), each counted once. IMAP4rev2 has no `\Recent`:
    /// always 0 there.
    fn recent_count(&self, info: &MailboxInfo) -> Result<u64, Reply> {
        if self.enabled.rev2 {
            return Ok(0);
        }
        let first = match self.ctx.store.recent_from(info.id) {
            Ok(first) => first,
            Err(err) => return Err(store_failure(&err)),
        };
        // A read-only selection sees unclaimed messages as recent too: those are
        // counted below, with the mailbox's.
        let own = self.selected().filter(|s| s.id == info.id).map_or(0, |s| {
            s.messages
                .iter()
                .filter(|e| e.recent && e.meta.uid.get() < first)
                .count() as u64
        });
        if first >= info.uidnext {
            return Ok(own);
        }
        match self.ctx.store.messages(info.id) {
            Ok(messages) => {
                let unclaimed = messages.iter().filter(|m| m.uid.get() >= first).count();
                Ok(own + unclaimed as u64)
            }
            Err(err) => Err(store_failure(&err)),
        }
    }
}
