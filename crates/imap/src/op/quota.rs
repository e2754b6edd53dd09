//! GETQUOTAROOT and GETQUOTA (RFC 9208). Every mailbox of an account shares one
//! quota root, named "", with the STORAGE resource in units of 1024 octets. A shared
//! agency mailbox has no quota root for the clerk (RFC 9208 §4.3: an empty list):
//! its quota is the agency's, reported to the agency's own login.

use congvu_directory::Rights;

use crate::codec::MailboxName;
use crate::codec::response::{Code, write_mailbox};
use crate::session::{Reply, Session, store_failure};

/// The account's single quota root.
const ROOT: &str = "";

impl Session {
    pub(crate) fn op_getquotaroot(&mut self, mailbox: MailboxName) -> Reply {
        let target = match self.resolve(mailbox.as_str()) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        // RFC 4314 §4: without `l` the mailbox's existence is not revealed.
        if let Err(reply) = target.require(Rights::LOOKUP, "Looking up this mailbox is not permitted") {
            return reply;
        }
        match self.ctx.store.mailbox_by_name(target.account(), &target.name) {
            Ok(Some(_)) => {}
            Ok(None) => return Reply::no(Some(Code::NonExistent), "No such mailbox"),
            Err(err) => return store_failure(&err),
        }
        let own = self.user().is_some_and(|u| u.account == target.account());
        self.conn.output.extend_from_slice(b"* QUOTAROOT ");
        write_mailbox(&mut self.conn.output, mailbox.as_str(), self.enabled.names());
        if !own {
            self.conn.output.extend_from_slice(b"\r\n");
            return Reply::ok("GETQUOTAROOT completed");
        }
        self.conn.output.extend_from_slice(b" \"\"\r\n");
        self.write_quota("GETQUOTAROOT completed")
    }

    pub(crate) fn op_getquota(&mut self, root: &str) -> Reply {
        if root != ROOT {
            return Reply::no(Some(Code::NonExistent), "No such quota root");
        }
        self.write_quota("GETQUOTA completed")
    }

    fn write_quota(&mut self, done: &'static str) -> Reply {
        let Some(account) = self.user().map(|u| u.account) else {
            return Reply::bad("Not authenticated");
        };
        let storage = match self.ctx.store.account(account) {
            Ok(Some(storage)) => storage,
            Ok(None) => return Reply::no(Some(Code::NonExistent), "No such quota root"),
            Err(err) => return store_failure(&err),
        };
        // Usage rounds up and the limit down, so a client never thinks there is
        // room that is not there.
        let line = format!(
            "* QUOTA \"\" (STORAGE {} {})\r\n",
            storage.used_bytes.div_ceil(1024),
            storage.quota_bytes / 1024
        );
        self.conn.output.extend_from_slice(line.as_bytes());
        Reply::ok(done)
    }
}
