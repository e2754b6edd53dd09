//! The RFC 4314 ACL commands: GETACL, SETACL, DELETEACL, LISTRIGHTS, MYRIGHTS. They
//! share one module because they share everything but their response: resolving
//! the mailbox, finding whose ACL it is, and mapping identifiers to grants.
//!
//! congvu's ACLs are the directory's delegation grants (Art. 16.1), so:
//! - The ACL belongs to the agency *account*: every folder of an agency mailbox has
//!   the same ACL, and SETACL on any of them changes it for all (one written
//!   delegation covers the mailbox). A personal mailbox is never delegated: its ACL
//!   is its owner alone, and SETACL on it is `NO [CANNOT]`.
//! - Identifiers are addresses: the owner (the agency address, every right, which
//!   cannot change) and the clerks, who must be live officials of the agency. There
//!   is no `anyone` and no negative rights (`-identifier`).
//! - `a` (administer) is held by the agency's own login, its head and the provincial
//!   administrator (`session::shared`) and is never granted: LISTRIGHTS does not
//!   offer it and SETACL refuses it.
//! - Every change is a directory write with its audit entry (actor: the login), on
//!   disk before the tagged OK; an empty rights set withdraws the grant.
//! - Sending as the agency is not an ACL right (`p` is mail *to* the mailbox, §2.1):
//!   a grant made here does not send as the agency, and changing an existing
//!   grant's rights keeps what it had. Sending in the agency's name is granted only
//!   through the admin API or CLI, which record the written authorisation.
//! - A grant gives rights only while its clerk is a live official of the agency
//!   (`Directory::delegation`); moving to another agency withdraws it.

use congvu_directory::{DirectoryError, Rights};
use tracing::{error, info};

use crate::codec::MailboxName;
use crate::codec::acl::{RightsChange, write_acl, write_listrights, write_myrights};
use crate::codec::response::Code;
use crate::session::{Reply, Session, Target, no_such_mailbox, store_failure};

/// LISTRIGHTS for a clerk: nothing is always granted, each delegable right may be
/// granted on its own (§3.7).
const DELEGABLE_GROUPS: [&str; 10] = ["l", "r", "s", "w", "i", "p", "k", "x", "t", "e"];

impl Session {
    /// The mailbox's target, when it exists and the session holds `needed` on it.
    fn acl_target(&self, mailbox: &MailboxName, needed: Rights) -> Result<Target, Reply> {
        let target = self.resolve(mailbox.as_str())?;
        target.require(needed, "Administering this mailbox's ACL is not permitted")?;
        match self.ctx.store.mailbox_by_name(target.account(), &target.name) {
            Ok(Some(_)) => Ok(target),
            Ok(None) => Err(no_such_mailbox()),
            Err(err) => Err(store_failure(&err)),
        }
    }

    pub(crate) fn op_getacl(&mut self, mailbox: MailboxName) -> Reply {
        let target = match self.acl_target(&mailbox, Rights::ADMINISTER) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        let mut entries = vec![(target.owner.address.clone(), Rights::ALL)];
        match self.ctx.directory.delegations_of(target.account()) {
            Ok(grants) => entries.extend(grants.into_iter().map(|g| (g.delegate_address, g.rights))),
            Err(err) => return directory_failure(&err),
        }
        write_acl(
            &mut self.conn.output,
            mailbox.as_str(),
            self.enabled.names(),
            &entries,
        );
        Reply::ok("GETACL completed")
    }

    pub(crate) fn op_listrights(&mut self, mailbox: MailboxName, identifier: &str) -> Reply {
        let target = match self.acl_target(&mailbox, Rights::ADMINISTER) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        if identifier.eq_ignore_ascii_case(&target.owner.address) {
            write_listrights(
                &mut self.conn.output,
                mailbox.as_str(),
                self.enabled.names(),
                identifier,
                Rights::ALL,
                &[],
            );
        } else {
            write_listrights(
                &mut self.conn.output,
                mailbox.as_str(),
                self.enabled.names(),
                identifier,
                Rights::NONE,
                &DELEGABLE_GROUPS,
            );
        }
        Reply::ok("LISTRIGHTS completed")
    }

    pub(crate) fn op_myrights(&mut self, mailbox: MailboxName) -> Reply {
        let target = match self.acl_target(&mailbox, Rights::NONE) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        write_myrights(
            &mut self.conn.output,
            mailbox.as_str(),
            self.enabled.names(),
            target.rights,
        );
        Reply::ok("MYRIGHTS completed")
    }

    pub(crate) async fn op_setacl(
        &mut self,
        mailbox: MailboxName,
        identifier: String,
        change: RightsChange,
    ) -> Reply {
        self.change_acl(mailbox, identifier, Some(change), "SETACL completed")
            .await
    }

    pub(crate) async fn op_deleteacl(&mut self, mailbox: MailboxName, identifier: String) -> Reply {
        self.change_acl(mailbox, identifier, None, "DELETEACL completed")
            .await
    }

    /// SETACL (`Some(change)`) or DELETEACL (`None`) of `identifier`.
    async fn change_acl(
        &mut self,
        mailbox: MailboxName,
        identifier: String,
        change: Option<RightsChange>,
        done: &'static str,
    ) -> Reply {
        let target = match self.acl_target(&mailbox, Rights::ADMINISTER) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        let Some(actor) = self.user().map(|u| u.address.clone()) else {
            return Reply::bad("Not authenticated");
        };
        if let Some(reply) = refuse_identifier(&target, &identifier) {
            return reply;
        }
        let directory = self.ctx.directory.clone();
        let agency = target.owner.agency.clone();
        let span = tracing::Span::current();
        let changed = tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let rights = |before| change.map_or(Rights::NONE, |c: RightsChange| c.apply(before));
                directory
                    .set_delegation_rights(&agency, &identifier, rights, &actor)
                    .map(|grant| (identifier, grant))
            })
        })
        .await;
        match changed {
            Ok(Ok((identifier, grant))) => {
                let rights = grant.map_or(Rights::NONE, |g| g.rights);
                info!(mailbox = %target.owner.address, delegate = %identifier, %rights, "acl changed");
                Reply::ok(done)
            }
            Ok(Err(DirectoryError::Invalid(why))) => Reply::no(Some(Code::Cannot), why),
            Ok(Err(DirectoryError::NotFound(what))) => {
                Reply::no(Some(Code::Cannot), format!("Unknown identifier: {what}"))
            }
            Ok(Err(err)) => directory_failure(&err),
            Err(err) => {
                error!(error = %err, "acl change task failed");
                Reply::no(Some(Code::Unavailable), "Internal error; try again later")
            }
        }
    }
}

/// Identifiers whose rights cannot be set (module docs).
fn refuse_identifier(target: &Target, identifier: &str) -> Option<Reply> {
    let why = if target.owner.kind != congvu_store::AccountKind::Agency {
        "Only an agency mailbox is delegated (Art. 16.1)"
    } else if identifier.eq_ignore_ascii_case(&target.owner.address) {
        "The owner always has every right"
    } else if identifier.starts_with('-') {
        "Negative rights are not supported"
    } else if ["anyone", "authenticated"]
        .iter()
        .any(|i| identifier.eq_ignore_ascii_case(i))
    {
        "Rights are granted to named officials only (Art. 16.1)"
    } else {
        return None;
    };
    Some(Reply::no(Some(Code::Cannot), why))
}

fn directory_failure(err: &DirectoryError) -> Reply {
    error!(error = %err, "directory failure in an ACL command");
    Reply::no(
        Some(Code::Unavailable),
        "Temporarily unavailable; try again later",
    )
}
