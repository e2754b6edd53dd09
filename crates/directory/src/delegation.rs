//! Delegation of an agency mailbox to a clerk (Art. 16.1): the head grants it in
//! writing, the clerk then reaches the agency mailbox with their own credentials and
//! never learns its password. The directory records and checks grants; the IMAP
//! server asks [`Directory::delegations_for`] (shared namespace, RFC 4314 ACL) and
//! SMTP submission asks [`Directory::may_submit_as`].
//!
//! A grant carries the RFC 4314 rights the clerk has on every mailbox of the agency
//! account ([`Rights`]: one ACL per agency account, not per folder), and whether the
//! clerk may send as the agency address (`send_as`). Sending as someone is not an IMAP
//! right: RFC 4314 §2.1 `p` ("post") is about mail sent *to* a mailbox's submission
//! address, so it is kept apart and set only through the admin API. `a` (administer)
//! is never delegated: only the head, in writing, grants (Art. 16.1), so a clerk
//! cannot pass the mailbox on.
//!
//! Grants recorded before rights existed read as [`Rights::DELEGABLE`] with
//! `send_as` — what "may use the agency mailbox" meant — so no migration pass rewrites
//! them.
//!
//! `dir.delegations` key: delegate `AccountId` ‖ mailbox `AccountId` (u64 BE each), so
//! a clerk's grants are one prefix scan.

use congvu_protocol::Rights;
use congvu_store::{AccountId, AccountKind};
use serde::{Deserialize, Serialize};

use crate::account::{now, plan_existing};
use crate::error::{DirectoryError, Result};
use crate::plan::Plan;
use crate::record::AccountRecord;
use crate::trees::T;
use crate::{Directory, text};

fn delegable() -> Rights {
    Rights::DELEGABLE
}

fn yes() -> bool {
    true
}

/// One grant: `delegate` may use the agency mailbox `mailbox` with `rights`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    pub mailbox: AccountId,
    pub mailbox_address: String,
    pub delegate: AccountId,
    pub delegate_address: String,
    pub granted_by: String,
    /// Unix seconds.
    pub granted_at: i64,
    /// The written delegation (number and date of the document), Art. 16.1.
    pub document: Option<String>,
    /// RFC 4314 rights on every mailbox of the agency account; never `a`.
    #[serde(default = "delegable")]
    pub rights: Rights,
    /// May submit mail with the agency address as sender.
    #[serde(default = "yes")]
    pub send_as: bool,
}

/// What a grant gives: see [`Directory::grant_delegation_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantTerms {
    pub rights: Rights,
    pub send_as: bool,
}

impl Default for GrantTerms {
    /// Everything a clerk may hold: the full use of the agency mailbox.
    fn default() -> GrantTerms {
        GrantTerms {
            rights: Rights::DELEGABLE,
            send_as: true,
        }
    }
}

fn key(delegate: AccountId, mailbox: AccountId) -> Vec<u8> {
    let mut key = delegate.0.to_be_bytes().to_vec();
    key.extend_from_slice(&mailbox.0.to_be_bytes());
    key
}

impl Directory {
    /// Records that the clerk at `delegate` may use the agency mailbox of `agency`
    /// with every delegable right and may send as the agency.
    pub fn grant_delegation(
        &self,
        agency: &str,
        delegate: &str,
        document: Option<&str>,
        actor: &str,
    ) -> Result<Delegation> {
        self.grant_delegation_with(agency, delegate, document, GrantTerms::default(), actor)
    }

    /// Records (or replaces) the grant of the agency mailbox of `agency` to the clerk
    /// at `delegate` on `terms`. The clerk must be a live official of that agency;
    /// the rights must not be empty nor include `a`.
    pub fn grant_delegation_with(
        &self,
        agency: &str,
        delegate: &str,
        document: Option<&str>,
        terms: GrantTerms,
        actor: &str,
    ) -> Result<Delegation> {
        let document = text::optional("document", document)?;
        check_rights(terms.rights)?;
        let grant = self.write_grant(agency, delegate, actor, |_| Ok(Some((document, terms))))?;
        grant.ok_or_else(|| DirectoryError::Db("a grant vanished while being written".into()))
    }

    /// RFC 4314 SETACL and DELETEACL on an agency mailbox: the clerk's rights become
    /// `change(rights held now)`, read and written under the directory's write lock
    /// so concurrent `+x` and `+y` both land. The rest of an existing grant is kept
    /// (document, `send_as`); a new grant may not send as the agency: sending in the
    /// agency's name needs the written authorisation the admin API records
    /// (Art. 16.1), which an IMAP command does not carry. Empty rights withdraw the
    /// grant (`Ok(None)`; also when there was none).
    pub fn set_delegation_rights(
        &self,
        agency: &str,
        delegate: &str,
        change: impl FnOnce(Rights) -> Rights,
        actor: &str,
    ) -> Result<Option<Delegation>> {
        self.write_grant(agency, delegate, actor, |existing| {
            let rights = change(existing.map_or(Rights::NONE, |g| g.rights));
            if rights.is_empty() {
                return Ok(None);
            }
            check_rights(rights)?;
            let (document, send_as) = existing.map_or((None, false), |g| (g.document.clone(), g.send_as));
            Ok(Some((document, GrantTerms { rights, send_as })))
        })
    }

    /// Writes the grant `decide` makes of the existing one (`None`: withdraw it), with
    /// its audit entry, in one plan under the write lock. A grant needs a live agency
    /// and one of its live officials; a withdrawal does not (a clerk who moved away or
    /// was disabled can still be withdrawn).
    fn write_grant(
        &self,
        agency: &str,
        delegate: &str,
        actor: &str,
        decide: impl FnOnce(Option<&Delegation>) -> Result<Option<(Option<String>, GrantTerms)>>,
    ) -> Result<Option<Delegation>> {
        let _write = self.write_lock()?;
        let mut plan = Plan::new(self, actor, now());
        let key = {
            let agency = self.existing_agency(agency)?;
            let (_, clerk) = plan_existing(&plan, delegate)?;
            key(clerk.account, agency.account)
        };
        let existing: Option<Delegation> = plan.get(T::Delegations, &key)?;
        let Some((document, terms)) = decide(existing.as_ref())? else {
            let Some(existing) = existing else {
                return Ok(None);
            };
            plan.remove(T::Delegations, &key);
            plan.audit(
                "revoke_delegation",
                &existing.mailbox_address,
                format!("from {}", existing.delegate_address),
            );
            plan.commit()?;
            tracing::info!(
                mailbox = %existing.mailbox_address,
                delegate = %existing.delegate_address,
                "delegation revoked"
            );
            return Ok(None);
        };
        let (agency, clerk) = plan_parties(&plan, agency, delegate)?;
        let grant = Delegation {
            mailbox: agency.account,
            mailbox_address: agency.address.clone(),
            delegate: clerk.account,
            delegate_address: clerk.address.clone(),
            granted_by: actor.to_owned(),
            granted_at: plan.now,
            document,
            rights: terms.rights,
            send_as: terms.send_as,
        };
        plan.put(T::Delegations, &key, &grant)?;
        plan.audit(
            "grant_delegation",
            &agency.address,
            format!(
                "to {} rights {} send_as {}",
                clerk.address, grant.rights, grant.send_as
            ),
        );
        plan.commit()?;
        tracing::info!(
            mailbox = %grant.mailbox_address,
            delegate = %grant.delegate_address,
            rights = %grant.rights,
            send_as = grant.send_as,
            "delegation granted"
        );
        Ok(Some(grant))
    }

    /// Withdraws a grant; `NotFound` when there was none.
    pub fn revoke_delegation(&self, agency: &str, delegate: &str, actor: &str) -> Result<()> {
        let mut found = false;
        self.write_grant(agency, delegate, actor, |existing| {
            found = existing.is_some();
            Ok(None)
        })?;
        if found {
            Ok(())
        } else {
            Err(DirectoryError::NotFound(format!(
                "delegation of agency {agency} to {delegate}"
            )))
        }
    }

    /// The agency mailboxes `account` may use besides its own: its grants in force
    /// ([`Directory::delegation`]).
    pub fn delegations_for(&self, account: AccountId) -> Result<Vec<Delegation>> {
        let mut grants = Vec::new();
        for grant in self
            .trees
            .scan_prefix::<Delegation>(T::Delegations, &account.0.to_be_bytes())?
        {
            if self.in_force(&grant)? {
                grants.push(grant);
            }
        }
        Ok(grants)
    }

    /// Every grant on the agency mailbox `mailbox`.
    pub fn delegations_of(&self, mailbox: AccountId) -> Result<Vec<Delegation>> {
        Ok(self
            .trees
            .all::<Delegation>(T::Delegations)?
            .into_iter()
            .filter(|d| d.mailbox == mailbox)
            .collect())
    }

    /// May `delegate` open the mailbox `mailbox`? Its own, or a grant in force
    /// ([`Directory::delegation`]).
    pub fn may_access(&self, delegate: AccountId, mailbox: AccountId) -> Result<bool> {
        if delegate == mailbox {
            return Ok(true);
        }
        Ok(self.delegation(delegate, mailbox)?.is_some())
    }

    /// The grant of `mailbox` to `delegate` when it is in force now: the one check
    /// every use goes through (IMAP rights, [`Directory::may_access`],
    /// [`Directory::may_submit_as`]). The rule a grant is written under — the clerk is
    /// a live official of the agency — is asked again here, because the clerk may
    /// since have been disabled, deleted or moved to another agency, and the agency
    /// mailbox disabled or deleted; a grant failing it gives nothing.
    pub fn delegation(&self, delegate: AccountId, mailbox: AccountId) -> Result<Option<Delegation>> {
        let Some(grant) = self
            .trees
            .get::<Delegation>(T::Delegations, &key(delegate, mailbox))?
        else {
            return Ok(None);
        };
        Ok(self.in_force(&grant)?.then_some(grant))
    }

    /// Is `grant` usable now? Its clerk is a live official of the agency whose live
    /// mailbox it covers (the rule of `plan_parties`, read from the accounts now).
    fn in_force(&self, grant: &Delegation) -> Result<bool> {
        let (Some(clerk), Some(agency)) = (
            self.account_by_id(grant.delegate)?,
            self.account_by_id(grant.mailbox)?,
        ) else {
            return Ok(false);
        };
        let live = |r: &AccountRecord| !r.disabled && r.deleted.is_none();
        Ok(clerk.kind == AccountKind::Personal
            && agency.kind == AccountKind::Agency
            && live(&clerk)
            && live(&agency)
            && clerk.agency == agency.agency)
    }

    /// May `account` submit mail with `address` as envelope sender? Its own address
    /// or alias ([`Directory::may_send_as`]), or an agency address it holds a grant
    /// in force ([`Directory::delegation`]) with `send_as` for.
    pub fn may_submit_as(&self, account: &AccountRecord, address: &str) -> Result<bool> {
        if self.may_send_as(account, address) {
            return Ok(true);
        }
        let Some(owner) = self.lookup(address)? else {
            return Ok(false);
        };
        if owner.kind != AccountKind::Agency || owner.disabled {
            return Ok(false);
        }
        Ok(self
            .delegation(account.account, owner.account)?
            .is_some_and(|grant| grant.send_as))
    }
}

/// Withdraws, in `plan`, every grant held by the clerk `delegate`, with an audit
/// entry each: a clerk who leaves the agency takes no access to its mailbox along.
pub(crate) fn plan_withdraw_grants_of(plan: &mut Plan<'_>, delegate: AccountId) -> Result<()> {
    let grants: Vec<Delegation> = plan
        .dir()
        .trees
        .scan_prefix(T::Delegations, &delegate.0.to_be_bytes())?;
    for grant in grants {
        plan.remove(T::Delegations, &key(grant.delegate, grant.mailbox));
        plan.audit(
            "revoke_delegation",
            &grant.mailbox_address,
            format!("from {} (moved to another agency)", grant.delegate_address),
        );
    }
    Ok(())
}

/// The agency (live) and the clerk (a live official of it) of a grant.
fn plan_parties(
    plan: &Plan<'_>,
    agency: &str,
    delegate: &str,
) -> Result<(crate::AgencyRecord, AccountRecord)> {
    let agency = crate::account::plan_live_agency(plan, agency)?;
    let (_, clerk) = plan_existing(plan, delegate)?;
    if clerk.kind != AccountKind::Personal || clerk.agency != agency.abbr || clerk.disabled {
        return Err(DirectoryError::Invalid(format!(
            "{} is not a live official of {}: only the agency's own staff may be delegated",
            clerk.address, agency.abbr
        )));
    }
    Ok((agency, clerk))
}

/// A grant gives some rights, and never `a` (see the module docs).
fn check_rights(rights: Rights) -> Result<()> {
    if rights.is_empty() {
        return Err(DirectoryError::Invalid(
            "a delegation needs at least one right".into(),
        ));
    }
    if rights.contains(Rights::ADMINISTER) {
        return Err(DirectoryError::Invalid(
            "the a (administer) right is not delegated: only the agency head grants (Art. 16.1)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_written_before_rights_read_as_full_use() {
        let old = r#"{"mailbox":1,"mailbox_address":"sttt@x.vn","delegate":2,
            "delegate_address":"a.sttt@x.vn","granted_by":"admin","granted_at":5,"document":null}"#;
        let grant: Delegation = serde_json::from_str(old).unwrap();
        assert_eq!((grant.rights, grant.send_as), (Rights::DELEGABLE, true));
        let round: Delegation = serde_json::from_str(&serde_json::to_string(&grant).unwrap()).unwrap();
        assert_eq!(round, grant);
        let bad = old.replace("null}", r#"null,"rights":"lrq"}"#);
        assert!(serde_json::from_str::<Delegation>(&bad).is_err());
    }
}
