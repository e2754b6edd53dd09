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

use congvu_directory::{AccountRecord, Rights, Role};
use congvu_store::{AccountId, AccountKind, HIERARCHY_SEPARATOR, MailboxInfo};
use tracing::error;

use crate::codec::response::Code;

use super::{Disconnect, Reply, Session, State};
use crate::codec::response::Status;

/// The shared namespace's prefix, without its separator.
pub(crate) const SHARED: &str = "Shared";

/// A mailbox name resolved for this session: whose storage it is in, what it is
/// called there, and what the session may do with it.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// The account that owns the mailbox: the user, or the delegated agency.
    pub owner: AccountRecord,
    /// The name in the owner's store (`INBOX` for `Shared/sttt/INBOX`).
    pub name: String,
    pub rights: Rights,
}

impl Target {
    pub fn account(&self) -> AccountId {
        self.owner.account
    }

    /// Opening this mailbox is an access event (Art. 10): an agency's INBOX.
    pub fn is_agency_inbox(&self) -> bool {
        self.owner.kind == AccountKind::Agency && self.name == "INBOX"
    }

    /// `Ok` when every right in `needed` is held. RFC 4314 §4: without `l` the
    /// mailbox's existence is not revealed; with it, the answer is `NOPERM`.
    pub fn require(&self, needed: Rights, what: &'static str) -> Result<(), Reply> {
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

/// True for `Shared` and every name under it (any case): not a personal name.
pub(crate) fn is_reserved(name: &str) -> bool {
    let level = name.split(HIERARCHY_SEPARATOR).next().unwrap_or_default();
    level.eq_ignore_ascii_case(SHARED)
}

/// `Shared/<local>/<rest>` → (`local`, `rest`); `None` for other names. `rest` is
/// `None` for `Shared` and `Shared/<local>`, which are levels, not mailboxes.
fn split_shared(name: &str) -> Option<(Option<&str>, Option<&str>)> {
    let rest = name.strip_prefix(SHARED)?;
    if rest.is_empty() {
        return Some((None, None));
    }
    let rest = rest.strip_prefix(HIERARCHY_SEPARATOR)?;
    match rest.split_once(HIERARCHY_SEPARATOR) {
        Some((local, folder)) if !local.is_empty() && !folder.is_empty() => Some((Some(local), Some(folder))),
        _ => Some((Some(rest), None)),
    }
}

/// The name a shared mailbox is shown under.
pub(crate) fn shared_name(agency_address: &str, folder: &str) -> String {
    let local = agency_address.split('@').next().unwrap_or(agency_address);
    format!("{SHARED}{HIERARCHY_SEPARATOR}{local}{HIERARCHY_SEPARATOR}{folder}")
}

fn directory_failure(err: &congvu_directory::DirectoryError) -> Reply {
    error!(error = %err, "directory failure resolving a mailbox");
    Reply::no(
        Some(Code::Unavailable),
        "Temporarily unavailable; try again later",
    )
}

impl Session {
    /// Resolves a mailbox name the client gave. Shared names the user holds no
    /// right on are `NO [NONEXISTENT]`, like names that do not exist.
    pub(crate) fn resolve(&self, name: &str) -> Result<Target, Reply> {
        let Some(user) = self.user() else {
            return Err(Reply::bad("Not authenticated"));
        };
        let Some((local, folder)) = split_shared(name) else {
            return Ok(Target {
                owner: user.clone(),
                name: name.to_owned(),
                rights: Rights::ALL,
            });
        };
        let (Some(local), Some(folder)) = (local, folder) else {
            return Err(no_such_mailbox());
        };
        let directory = &self.ctx.directory;
        let address = format!("{local}@{}", directory.primary_domain());
        let owner = match directory.lookup(&address) {
            Ok(Some(owner)) if owner.kind == AccountKind::Agency && !owner.disabled => owner,
            Ok(_) => return Err(no_such_mailbox()),
            Err(err) => return Err(directory_failure(&err)),
        };
        // The level below `Shared/` is the agency's own local part, never an alias.
        if shared_name(&owner.address, folder) != name {
            return Err(no_such_mailbox());
        }
        // The grant in force: none once the clerk is disabled, deleted or moved out.
        let granted = match directory.delegation(user.account, owner.account) {
            Ok(grant) => grant.map_or(Rights::NONE, |g| g.rights),
            Err(err) => return Err(directory_failure(&err)),
        };
        // Roles are read afresh: a head who is replaced loses `a` at once.
        let current = match directory.account_by_id(user.account) {
            Ok(current) => current,
            Err(err) => return Err(directory_failure(&err)),
        };
        let administers = current.is_some_and(|u| {
            !u.disabled
                && (u.role == Role::Administrator || (u.role == Role::Head && u.agency == owner.agency))
        });
        let rights = if administers {
            granted.union(Rights::ADMINISTER)
        } else {
            granted
        };
        if rights.is_empty() {
            return Err(no_such_mailbox());
        }
        // The store matches INBOX in any case; the access check must too.
        let name = if folder.eq_ignore_ascii_case("INBOX") {
            "INBOX".to_owned()
        } else {
            folder.to_owned()
        };
        Ok(Target { owner, name, rights })
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

    /// The agency mailboxes the user may list (`l`), named as in the shared
    /// namespace, in the agency's store order. Their special uses are not passed on:
    /// Thunderbird and Outlook pick the account's Sent, Drafts and Trash by the
    /// RFC 6154 attribute wherever it appears, and must not pick the agency's.
    pub(crate) fn shared_mailboxes(&self) -> Result<Vec<MailboxInfo>, Reply> {
        let Some(user) = self.user() else {
            return Ok(Vec::new());
        };
        let grants = match self.ctx.directory.delegations_for(user.account) {
            Ok(grants) => grants,
            Err(err) => return Err(directory_failure(&err)),
        };
        let mut shared = Vec::new();
        for grant in grants.iter().filter(|g| g.rights.contains(Rights::LOOKUP)) {
            match self.ctx.store.list_mailboxes(grant.mailbox) {
                Ok(mailboxes) => shared.extend(mailboxes.into_iter().map(|m| MailboxInfo {
                    name: shared_name(&grant.mailbox_address, &m.name),
                    special_use: None,
                    ..m
                })),
                Err(err) => return Err(super::store_failure(&err)),
            }
        }
        Ok(shared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_names() {
        assert_eq!(split_shared("INBOX"), None);
        assert_eq!(split_shared("Sharedx"), None);
        assert_eq!(split_shared("shared/sttt/INBOX"), None);
        assert_eq!(split_shared("Shared"), Some((None, None)));
        assert_eq!(split_shared("Shared/sttt"), Some((Some("sttt"), None)));
        assert_eq!(split_shared("Shared/sttt/"), Some((Some("sttt/"), None)));
        assert_eq!(
            split_shared("Shared/sttt/INBOX"),
            Some((Some("sttt"), Some("INBOX")))
        );
        assert_eq!(
            split_shared("Shared/pvhtt.yendinh/Công văn/2024"),
            Some((Some("pvhtt.yendinh"), Some("Công văn/2024")))
        );
        assert_eq!(shared_name("sttt@thanhhoa.gov.vn", "Sent"), "Shared/sttt/Sent");
        for reserved in ["Shared", "shared", "SHARED/x", "Shared/sttt/INBOX"] {
            assert!(is_reserved(reserved), "{reserved}");
        }
        for free in ["Sharedx", "Archive/Shared", "INBOX"] {
            assert!(!is_reserved(free), "{free}");
        }
    }
}
