//! SELECT and EXAMINE (RFC 3501 §6.3.1–6.3.2), with the CONDSTORE and QRESYNC
//! parameters (RFC 7162 §3.1.8, §3.2.5). Selecting while a mailbox is selected
//! first closes it without expunging, announced by `OK [CLOSED]` (RFC 9051 §6.3.2).
//! A failed SELECT leaves no mailbox selected.
//!
//! `* n RECENT` counts the messages recent in this selection (see
//! `session::selected`): a read-write SELECT claims those no session has claimed
//! yet; EXAMINE (or a SELECT the rights make read-only) claims none and shows
//! `* 0 RECENT`, so a message is never `\Recent` in two sessions (RFC 3501 §2.3.2
//! "exactly one session", §6.3.2).
//!
//! HIGHESTMODSEQ is sent on every successful SELECT (RFC 7162 §3.1.2.1: the store
//! keeps modseqs for every mailbox, so there is never a NOMODSEQ).
//!
//! Selecting an agency account's INBOX — by the agency's own login, or by a clerk
//! through `Shared/<agency>/INBOX` — is recorded as an access event (Art. 10) with
//! the login that did it, before the mailbox is opened; leaving it (another
//! SELECT or EXAMINE, or this one failing) is recorded too, so that the two bound
//! a check span (see `session::access`).
//!
//! RFC 4314 §4: SELECT and EXAMINE need `r`; without any of `s w t e i` the mailbox
//! opens READ-ONLY, and PERMANENTFLAGS lists only the flags the rights allow setting.

use congvu_directory::Rights;
use congvu_store::Flags;

use crate::codec::response::{Code, Status, write_mailbox};
use crate::codec::sequence::Ranges;
use crate::codec::{MailboxName, QResyncParams, SelectParams};
use crate::session::{Recent, Reply, Selected, Session, State, store_failure};

impl Session {
    pub(crate) async fn op_select(
        &mut self,
        mailbox: MailboxName,
        read_only: bool,
        params: SelectParams,
    ) -> Reply {
        let reply = self.select(mailbox, read_only, params).await;
        // A SELECT that failed after its agency INBOX selection was recorded left
        // no mailbox selected (RFC 3501 §6.3.1): its check span ends here.
        if self.selected().is_none() {
            self.leave_agency_inbox().await;
        }
        reply
    }

    async fn select(&mut self, mailbox: MailboxName, read_only: bool, params: SelectParams) -> Reply {
        if self.selected().is_some() {
            self.leave_selected().await;
            self.untagged(Status::Ok, Some(Code::Closed), "Previous mailbox closed");
        }
        // RFC 7162 §3.2.5: QRESYNC in SELECT without ENABLE QRESYNC is a BAD.
        if params.qresync.is_some() && !self.enabled.qresync {
            return Reply::bad("QRESYNC is not enabled");
        }
        if params.condstore {
            self.enabled.condstore = true;
        }
        let Some(user) = self.user().cloned() else {
            return Reply::bad("Not authenticated");
        };
        let target = match self.resolve(mailbox.as_str()) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        if let Err(reply) = target.require(Rights::READ, "Reading this mailbox is not permitted") {
            return reply;
        }
        let writable = Rights::SEEN
            .union(Rights::WRITE)
            .union(Rights::DELETE_MESSAGES)
            .union(Rights::EXPUNGE)
            .union(Rights::INSERT);
        let read_only = read_only || target.rights.difference(writable) == target.rights;
        // Art. 10: opening an agency's INBOX is an access event, in the agency's log,
        // naming whoever logged in; it starts a check span.
        if target.is_agency_inbox()
            && let Err(reply) = self
                .record_agency_inbox_selected(target.account(), &user.address)
                .await
        {
            return reply;
        }
        let (account, name, rights) = (target.account(), target.name, target.rights);
        // RFC 3501 §2.3.2, §6.3.2: a read-only selection neither takes \Recent
        // away from anyone nor shows it; RFC 9051 has no \Recent.
        let recent_mode = if self.enabled.rev2 || read_only {
            Recent::None
        } else {
            Recent::Claim
        };
        let loaded = self
            .blocking(move |store| {
                let Some(info) = store.mailbox_by_name(account, &name)? else {
                    return Ok(None);
                };
                let selected = Selected::load(store, &info, read_only, recent_mode, rights)?;
                Ok(Some((info, selected)))
            })
            .await;
        let (info, selected) = match loaded {
            Ok(Some(loaded)) => loaded,
            Ok(None) => return Reply::no(Some(Code::NonExistent), "No such mailbox"),
            Err(err) => return store_failure(&err),
        };
        selected.write_flags_response(&mut self.conn.output);
        // RFC 3501 §7.1: `\*` says new keywords may be created.
        let permanent = if read_only {
            "()".to_string()
        } else {
            let mut flags: Vec<&str> = Flags::ALL
                .iter()
                .filter(|(flag, _)| rights.contains(right_for_flag(*flag)))
                .map(|(_, name)| *name)
                .collect();
            if rights.contains(Rights::WRITE) {
                flags.extend(selected.keywords.iter().map(String::as_str));
                flags.push("\\*");
            }
            format!("({})", flags.join(" "))
        };
        self.untagged(
            Status::Ok,
            Some(Code::PermanentFlags(permanent)),
            "Flags permitted",
        );
        let exists = format!("* {} EXISTS\r\n", selected.exists());
        self.conn.output.extend_from_slice(exists.as_bytes());
        if self.enabled.rev2 {
            // RFC 9051 §6.3.2: the mailbox's LIST response; no RECENT, no UNSEEN.
            self.conn.output.extend_from_slice(b"* LIST () \"/\" ");
            write_mailbox(&mut self.conn.output, mailbox.as_str(), self.enabled.names());
            self.conn.output.extend_from_slice(b"\r\n");
        } else {
            let recent = format!("* {} RECENT\r\n", selected.recent());
            self.conn.output.extend_from_slice(recent.as_bytes());
            if let Some(first) = selected
                .messages
                .iter()
                .position(|e| !e.meta.flags.contains(Flags::SEEN))
            {
                self.untagged(Status::Ok, Some(Code::Unseen(first as u32 + 1)), "First unseen");
            }
        }
        self.untagged(
            Status::Ok,
            Some(Code::UidValidity(info.uidvalidity)),
            "UIDs valid",
        );
        // The snapshot may be newer than `info` if a message arrived in between.
        let uidnext = info.uidnext.max(selected.max_uid() + 1);
        self.untagged(Status::Ok, Some(Code::UidNext(uidnext)), "Predicted next UID");
        self.untagged(
            Status::Ok,
            Some(Code::HighestModSeq(selected.modseq())),
            "Highest",
        );
        if let Some(qresync) = params.qresync.filter(|q| q.uidvalidity == info.uidvalidity)
            && let Err(reply) = self.resync(&selected, qresync).await
        {
            return reply;
        }
        self.state = State::Selected(user, selected);
        if read_only {
            Reply::ok_code(Code::ReadOnly, "EXAMINE completed")
        } else {
            Reply::ok_code(Code::ReadWrite, "SELECT completed")
        }
    }

    /// RFC 7162 §3.2.5.2: what changed since the client's modseq — the vanished
    /// UIDs among those it knows, then a FETCH for every message changed since.
    /// A stale UIDVALIDITY never gets here: the client then resyncs fully.
    async fn resync(&mut self, selected: &Selected, qresync: QResyncParams) -> Result<(), Reply> {
        let (id, since) = (selected.id, qresync.modseq);
        let vanished = match self.blocking(move |store| store.vanished_since(id, since)).await {
            Ok(vanished) => vanished,
            Err(err) => return Err(store_failure(&err)),
        };
        // Without known UIDs the client is taken to know every UID (§3.2.5).
        let known = qresync.known_uids.map(|set| set.resolve(u32::MAX));
        // A message expunged after the snapshot was read is announced by the next
        // sync, when its sequence number goes.
        let vanished = vanished
            .into_iter()
            .filter(|uid| selected.index_of(*uid).is_none())
            .map(|uid| uid.get())
            .filter(|uid| known.as_ref().is_none_or(|k| k.contains(*uid)));
        let vanished = Ranges::from_sorted(vanished).to_string();
        if !vanished.is_empty() {
            let line = format!("* VANISHED (EARLIER) {vanished}\r\n");
            self.conn.output.extend_from_slice(line.as_bytes());
        }
        for (index, entry) in selected.messages.iter().enumerate() {
            if entry.meta.modseq > since && known.as_ref().is_none_or(|k| k.contains(entry.meta.uid.get())) {
                selected.write_flags_fetch(index, true, &mut self.conn.output);
            }
        }
        Ok(())
    }
}

/// The right that setting or clearing a system flag needs (RFC 4314 §2.1): `s` for
/// `\Seen`, `t` for `\Deleted`, `w` for the others (and for keywords).
pub(crate) fn right_for_flag(flag: Flags) -> Rights {
    if flag == Flags::SEEN {
        Rights::SEEN
    } else if flag == Flags::DELETED {
        Rights::DELETE_MESSAGES
    } else {
        Rights::WRITE
    }
}
