//! Mailbox names and the rights on them: the personal namespace (`""`, the account's
//! own mailboxes, every right) and the shared namespace `Shared/` (RFC 2342), where a
//! clerk finds the agency mailboxes delegated to them (Art. 16.1) as
//! `Shared/<agency local part>/<folder>`, e.g. `Shared/sttt/INBOX`.
//!
//! The prefix is plain ASCII `Shared/` on purpose: clients show namespace prefixes as
//! folder names without decoding them reliably (a modified UTF-7 prefix such as
//! "Hộp thư đơn vị" shows as `H&Ag0-p th&AbA-…` in some Outlook builds), and it is
//! what Dovecot's and Cyrus's shared namespaces look like to the same clients. The
//! level below is the agency address's local part, not the whole address: every
//! mailbox lives in the one primary domain, and `sttt` is what officials call the
//! agency. Names beginning with `Shared` are therefore reserved: CREATE and RENAME
//! refuse them in the personal namespace.
//!
//! Rights (RFC 4314) come from the directory's grant, read at every command: a
//! revoked grant stops the next command that names the mailbox, and a session with
//! the agency's mailbox selected is ended with `BYE` at its next command or when a
//! change to the mailbox wakes its IDLE (Thunderbird keeps INBOX selected for days;
//! a withdrawal must not wait for it to reselect). A reduced grant takes effect the
//! same way. The agency's head and the provincial administrator also hold `a` on
//! every mailbox of the agency: they manage its ACL without reading its mail.

use congvu_directory::Rights;
use congvu_store::MailboxInfo;
use tracing::error;

use crate::codec::response::Code;
use crate::view::Unresolved;
pub(crate) use crate::view::{SHARED, Target, is_reserved};

use super::{Disconnect, Reply, Session, State};
use crate::codec::response::Status;

impl Target {
    /// `Ok` when every right in `needed` is held. RFC 4314 §4: without `l` the
    /// mailbox's existence is not revealed; with it, the answer is `NOPERM`.
    pub(crate) fn require(&self, needed: Rights, what: &'static str) -> Result<(), Reply> {
        if self.rights.contains(needed) {
            Ok(())
        } else if !self.rights.contains(Rights::LOOKUP) {
            Err(no_such_mailbox())
        } else {
            Err(Reply::no(Some(Code::NoPerm), what))
        }
    }
}

pub(crate) fn no_such_mailbox() -> Reply {
    Reply::no(Some(Code::NonExistent), "No such mailbox")
}

fn directory_failure(err: &congvu_directory::DirectoryError) -> Reply {
    error!(error = %err, "directory failure resolving a mailbox");
    Reply::no(
        Some(Code::Unavailable),
        "Temporarily unavailable; try again later",
    )
}

impl Session {
    /// Resolves a mailbox name the client gave (`view::resolve`). Shared names the
    /// user holds no right on are `NO [NONEXISTENT]`, like names that do not exist.
    pub(crate) fn resolve(&self, name: &str) -> Result<Target, Reply> {
        let Some(user) = self.user() else {
            return Err(Reply::bad("Not authenticated"));
        };
        crate::view::resolve(&self.ctx.directory, user, name).map_err(|err| match err {
            Unresolved::NoSuchMailbox => no_such_mailbox(),
            Unresolved::Directory(err) => directory_failure(&err),
            Unresolved::Store(err) => super::store_failure(&err),
        })
    }

    /// Re-reads the grant behind a selected agency mailbox: the selection keeps the
    /// rights held now, and ends the session when reading is no longer one of them
    /// (the grant withdrawn, or its clerk no longer a live official of the agency).
    pub(crate) fn recheck_selected(&mut self) -> Result<(), Disconnect> {
        let (user, owner) = match &self.state {
            State::Selected(user, selected) if selected.owner != user.account => {
                (user.account, selected.owner)
            }
            _ => return Ok(()),
        };
        let rights = match self.ctx.directory.delegation(user, owner) {
            Ok(grant) => grant.map_or(Rights::NONE, |g| g.rights),
            Err(err) => {
                // Keep serving what was granted; the next command tries again.
                error!(error = %err, "directory failure rechecking a delegation");
                return Ok(());
            }
        };
        if !rights.contains(Rights::READ) {
            self.untagged(Status::Bye, None, "Access to the agency mailbox was withdrawn");
            return Err(Disconnect("delegation withdrawn"));
        }
        if let State::Selected(_, selected) = &mut self.state {
            selected.rights = rights;
        }
        Ok(())
    }

    /// The agency mailboxes the user may list (`view::shared_mailboxes`).
    pub(crate) fn shared_mailboxes(&self) -> Result<Vec<MailboxInfo>, Reply> {
        let Some(user) = self.user() else {
            return Ok(Vec::new());
        };
        match crate::view::shared_mailboxes(&self.ctx.directory, &*self.ctx.store, user) {
            Ok(shared) => Ok(shared.into_iter().map(|(info, _)| info).collect()),
            Err(Unresolved::Store(err)) => Err(super::store_failure(&err)),
            Err(Unresolved::Directory(err)) => Err(directory_failure(&err)),
            Err(Unresolved::NoSuchMailbox) => Ok(Vec::new()),
        }
    }
}
