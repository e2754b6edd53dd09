//! Delegation of an agency mailbox to a clerk (Art. 16.1): the head grants it in
//! writing, the clerk then reaches the agency mailbox with their own credentials and
//! never learns its password. The directory records and checks grants; the IMAP
//! server asks [`Directory::delegations_for`].
//!
//! `dir.delegations` key: delegate `AccountId` ‖ mailbox `AccountId` (u64 BE each), so
//! a clerk's grants are one prefix scan.

use congvu_store::{AccountId, AccountKind};
use serde::{Deserialize, Serialize};

use crate::account::{now, plan_existing};
use crate::error::{DirectoryError, Result};
use crate::plan::Plan;
use crate::trees::T;
use crate::{Directory, text};

/// One grant: `delegate` may use the agency mailbox `mailbox`.
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
}

fn key(delegate: AccountId, mailbox: AccountId) -> Vec<u8> {
    let mut key = delegate.0.to_be_bytes().to_vec();
    key.extend_from_slice(&mailbox.0.to_be_bytes());
    key
}

impl Directory {
    /// Records that the clerk at `delegate` may use the agency mailbox of `agency`.
    /// The clerk must be a live official of that agency.
    pub fn grant_delegation(
        &self,
        agency: &str,
        delegate: &str,
        document: Option<&str>,
        actor: &str,
    ) -> Result<Delegation> {
        let document = text::optional("document", document)?;
        let _write = self.write_lock();
        let mut plan = Plan::new(self, actor, now());
        let agency = crate::account::plan_live_agency(&plan, agency)?;
        let (_, clerk) = plan_existing(&plan, delegate)?;
        if clerk.kind != AccountKind::Personal || clerk.agency != agency.abbr || clerk.disabled {
            return Err(DirectoryError::Invalid(format!(
                "{} is not a live official of {}: only the agency's own staff may be delegated",
                clerk.address, agency.abbr
            )));
        }
        let grant = Delegation {
            mailbox: agency.account,
            mailbox_address: agency.address.clone(),
            delegate: clerk.account,
            delegate_address: clerk.address.clone(),
            granted_by: actor.to_owned(),
            granted_at: plan.now,
            document,
        };
        plan.put(T::Delegations, &key(clerk.account, agency.account), &grant)?;
        plan.audit(
            "grant_delegation",
            &agency.address,
            format!("to {}", clerk.address),
        );
        plan.commit()?;
        tracing::info!(mailbox = %grant.mailbox_address, delegate = %grant.delegate_address, "delegation granted");
        Ok(grant)
    }

    /// Withdraws a grant; `NotFound` when there was none.
    pub fn revoke_delegation(&self, agency: &str, delegate: &str, actor: &str) -> Result<()> {
        let _write = self.write_lock();
        let mut plan = Plan::new(self, actor, now());
        let agency = self.existing_agency(agency)?;
        let (_, clerk) = plan_existing(&plan, delegate)?;
        let key = key(clerk.account, agency.account);
        if !plan.contains(T::Delegations, &key)? {
            return Err(DirectoryError::NotFound(format!(
                "delegation of {} to {}",
                agency.address, clerk.address
            )));
        }
        plan.remove(T::Delegations, &key);
        plan.audit(
            "revoke_delegation",
            &agency.address,
            format!("from {}", clerk.address),
        );
        plan.commit()?;
        tracing::info!(mailbox = %agency.address, delegate = %clerk.address, "delegation revoked");
        Ok(())
    }

    /// The agency mailboxes `account` may use besides its own.
    pub fn delegations_for(&self, account: AccountId) -> Result<Vec<Delegation>> {
        self.trees.scan_prefix(T::Delegations, &account.0.to_be_bytes())
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

    /// May `delegate` open the mailbox `mailbox`? Its own, or a live grant.
    pub fn may_access(&self, delegate: AccountId, mailbox: AccountId) -> Result<bool> {
        if delegate == mailbox {
            return Ok(true);
        }
        Ok(self
            .trees
            .get_raw(T::Delegations, &key(delegate, mailbox))?
            .is_some())
    }
}
