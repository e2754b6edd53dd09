//! APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315). The literal was bounded by
//! the framer before any byte of it was read; the tagged OK is sent only once the
//! store has the message on disk.
//!
//! Decision 3380's content rules (congvu-policy: subject, formats, attachment cap,
//! classified stamps, legacy encodings) deliberately do not apply here: APPEND puts a
//! message into the official's *own* mailbox and sends nothing. Drafts are written in
//! steps and must not be refused for an unfinished subject; the copy a client saves
//! in Sent is the message SMTP submission already checked; and migrating mail kept at
//! agencies (Art. 2) re-appends old mail that must be kept as it was (Art. 8.2). The
//! regulation's limits that do apply are storage ones: the literal size limit and the
//! quota (`NO [OVERQUOTA]`, RFC 9208), enforced by the store.
//!
//! RFC 4314 §4: APPEND needs `i`; flags the rights do not allow setting (`s` for
//! `\Seen`, `t` for `\Deleted`, `w` for the others) are dropped, not refused.

use congvu_directory::Rights;
use congvu_store::{Append, Flags, QuotaRule};

use crate::codec::datetime::DateTime;
use crate::codec::response::Code;
use crate::codec::{FlagSet, MailboxName};
use crate::session::{Reply, Session, store_failure};

use super::select::right_for_flag;

/// The flags of `flags` that `rights` allow setting.
pub(crate) fn permitted_flags(flags: FlagSet, rights: Rights) -> FlagSet {
    let system = Flags::ALL
        .iter()
        .filter(|(flag, _)| flags.system.contains(*flag) && rights.contains(right_for_flag(*flag)))
        .fold(Flags::empty(), |all, (flag, _)| all.union(*flag));
    let keywords = if rights.contains(Rights::WRITE) {
        flags.keywords
    } else {
        Vec::new()
    };
    FlagSet { system, keywords }
}

impl Session {
    pub(crate) async fn op_append(
        &mut self,
        mailbox: MailboxName,
        flags: FlagSet,
        date: Option<DateTime>,
        message: Vec<u8>,
    ) -> Reply {
        if message.is_empty() {
            return Reply::no(Some(Code::Cannot), "Empty message");
        }
        let target = match self.resolve(mailbox.as_str()) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        if let Err(reply) = target.require(Rights::INSERT, "Adding messages to this mailbox is not permitted")
        {
            return reply;
        }
        let flags = permitted_flags(flags, target.rights);
        let (account, name) = (target.account(), target.name);
        let size = u64::try_from(message.len()).unwrap_or(u64::MAX);
        let date = date.unwrap_or_else(|| DateTime {
            unix: chrono::Utc::now().timestamp(),
            offset_secs: 0,
        });
        let appended = self
            .blocking(move |store| {
                let Some(info) = store.mailbox_by_name(account, &name)? else {
                    return Ok(None);
                };
                let append = Append {
                    bytes: &message,
                    flags: flags.system,
                    keywords: &flags.keywords,
                    internal_date: date.unix,
                    internal_date_offset: date.offset_secs,
                    quota: QuotaRule::Enforce,
                };
                store.append(info.id, &append).map(Some)
            })
            .await;
        match appended {
            Ok(Some(appended)) => {
                self.ctx
                    .admission
                    .metrics()
                    .listener(self.kind.as_str())
                    .message(size);
                Reply::ok_code(
                    Code::AppendUid {
                        uidvalidity: appended.uidvalidity,
                        uid: appended.uid.get(),
                    },
                    "APPEND completed",
                )
            }
            // RFC 3501 §6.3.11: TRYCREATE tells the client to CREATE and retry.
            Ok(None) => Reply::no(Some(Code::TryCreate), "No such mailbox"),
            Err(err) => store_failure(&err),
        }
    }
}
