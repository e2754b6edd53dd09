//! SELECT and EXAMINE (RFC 3501 §6.3.1–6.3.2). Selecting while a mailbox is
//! selected first closes it without expunging, announced by `OK [CLOSED]`
//! (RFC 9051 §6.3.2). A failed SELECT leaves no mailbox selected.

use congvu_store::Flags;

use crate::codec::MailboxName;
use crate::codec::response::{Code, Status};
use crate::session::{Reply, Selected, Session, State, store_failure};

impl Session {
    pub(crate) async fn op_select(&mut self, mailbox: MailboxName, read_only: bool) -> Reply {
        if self.selected().is_some() {
            self.deselect();
            self.untagged(Status::Ok, Some(Code::Closed), "Previous mailbox closed");
        }
        let Some(account) = self.user().map(|u| u.account) else {
            return Reply::bad("Not authenticated");
        };
        let loaded = self
            .blocking(move |store| {
                let Some(info) = store.mailbox_by_name(account, mailbox.as_str())? else {
                    return Ok(None);
                };
                let selected = Selected::load(store, &info, read_only)?;
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
            let mut flags: Vec<&str> = Flags::ALL.iter().map(|(_, name)| *name).collect();
            flags.extend(selected.keywords.iter().map(String::as_str));
            flags.push("\\*");
            format!("({})", flags.join(" "))
        };
        self.untagged(
            Status::Ok,
            Some(Code::PermanentFlags(permanent)),
            "Flags permitted",
        );
        let counts = format!(
            "* {} EXISTS\r\n* {} RECENT\r\n",
            selected.exists(),
            selected.recent()
        );
        self.conn.output.extend_from_slice(counts.as_bytes());
        if let Some(first) = selected
            .messages
            .iter()
            .position(|e| !e.meta.flags.contains(Flags::SEEN))
        {
            self.untagged(Status::Ok, Some(Code::Unseen(first as u32 + 1)), "First unseen");
        }
        self.untagged(
            Status::Ok,
            Some(Code::UidValidity(info.uidvalidity)),
            "UIDs valid",
        );
        // The snapshot may be newer than `info` if a message arrived in between.
        let uidnext = info.uidnext.max(selected.max_uid() + 1);
        self.untagged(Status::Ok, Some(Code::UidNext(uidnext)), "Predicted next UID");
        let Some(user) = self.user().cloned() else {
            return Reply::bad("Not authenticated");
        };
        self.state = State::Selected(user, selected);
        if read_only {
            Reply::ok_code(Code::ReadOnly, "EXAMINE completed")
        } else {
            Reply::ok_code(Code::ReadWrite, "SELECT completed")
        }
    }
}
