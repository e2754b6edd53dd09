//! Personal mailboxes (Art. 2.4, Art. 3.3) and the lookups every protocol needs.

use congvu_policy::naming;
use congvu_store::{AccountId, AccountKind};

use crate::error::{DirectoryError, Result};
use crate::record::{AccountRecord, Collision};
use crate::{Directory, text};

impl Directory {
    /// Creates an official's personal mailbox in the agency `agency_full_abbr`, at the
    /// address derived per Art. 3.3.a. When that address was ever issued, the first
    /// free alternative of `congvu_policy::naming::alternatives` is taken and the
    /// returned [`Collision`] says which and why (Art. 3.3.b: the operator confirms
    /// it with the agency). People are not deduplicated by name: two officials may
    /// share one.
    pub fn add_person(
        &self,
        agency_full_abbr: &str,
        full_name: &str,
        position: Option<&str>,
        department: Option<&str>,
    ) -> Result<(AccountRecord, Option<Collision>)> {
        let display_name = text::required("name", full_name)?;
        let position = text::optional("position", position)?;
        let department = text::optional("department", department)?;
        let _write = self.write_lock();
        let agency = self.existing_agency(agency_full_abbr)?;
        let mut candidates = naming::alternatives(&display_name, &agency.abbr)?;
        let wanted = candidates.next().ok_or_else(|| {
            DirectoryError::Invalid(format!("no address can be derived from {display_name:?}"))
        })?;
        let mut chosen = wanted.clone();
        while self.trees.is_issued(&chosen.local)? {
            chosen = candidates.next().ok_or_else(|| {
                DirectoryError::Exists(format!("every address derivable from {display_name:?} is taken"))
            })?;
        }
        let collision = (chosen.local != wanted.local).then(|| {
            let wanted = self.address_of(&wanted.local);
            let chosen_address = self.address_of(&chosen.local);
            Collision {
                explanation: format!(
                    "{wanted} đã được cấp, đề xuất {chosen_address} ({}) / \
                     {wanted} is taken, proposing {chosen_address} ({})",
                    chosen.explanation.vi, chosen.explanation.en
                ),
                wanted,
                chosen: chosen_address,
            }
        });
        let account = self
            .store
            .create_account(AccountKind::Personal, self.quotas.personal_bytes)?;
        let record = AccountRecord {
            address: self.address_of(&chosen.local),
            kind: AccountKind::Personal,
            account,
            display_name,
            agency: agency.abbr,
            position,
            department,
            disabled: false,
        };
        self.trees.issue(&chosen.local, &record, None)?;
        self.flush()?;
        tracing::info!(
            address = %record.address,
            agency = %record.agency,
            account = account.0,
            collision = collision.is_some(),
            "personal account created"
        );
        Ok((record, collision))
    }

    /// The account that receives mail for `address` (any case, any local domain;
    /// aliases will resolve here too). Disabled accounts are returned with
    /// `disabled = true`; a malformed or foreign address is simply not ours: `None`.
    pub fn lookup(&self, address: &str) -> Result<Option<AccountRecord>> {
        match self.local_part_of(address) {
            Some(local) => self.trees.account(&local),
            None => Ok(None),
        }
    }

    /// May this account use `address` as envelope sender / From? Its own address, in
    /// any local domain, case-insensitively. (Aliases and delegation later widen this.)
    /// The null reverse-path `<>` is not an address: the caller decides about it.
    pub fn may_send_as(&self, account: &AccountRecord, address: &str) -> bool {
        self.local_part_of(address)
            .is_some_and(|local| self.address_of(&local) == account.address)
    }

    pub fn account_by_id(&self, id: AccountId) -> Result<Option<AccountRecord>> {
        self.trees.account_by_id(id)
    }

    /// Sets the storage quota of the account at `address`.
    pub fn set_quota(&self, address: &str, bytes: u64) -> Result<()> {
        if bytes == 0 {
            return Err(DirectoryError::Invalid(
                "a quota of 0 bytes would refuse every message".into(),
            ));
        }
        let record = self.existing_account(address)?;
        self.store.set_quota(record.account, bytes)?;
        tracing::info!(address = %record.address, quota_bytes = bytes, "quota set");
        Ok(())
    }

    /// Every account (agency and personal mailboxes), or those of one agency,
    /// ordered by address.
    pub fn list_accounts(&self, agency: Option<&str>) -> Result<Vec<AccountRecord>> {
        let agency = agency.map(|a| self.existing_agency(a)).transpose()?;
        let mut accounts = self.trees.accounts()?;
        if let Some(agency) = agency {
            accounts.retain(|a| a.agency == agency.abbr);
        }
        // Keys are local parts, and `a.b@` sorts before `a@` although `a` < `a.b`.
        accounts.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(accounts)
    }

    /// The account, or `NotFound`.
    pub(crate) fn existing_account(&self, address: &str) -> Result<AccountRecord> {
        self.lookup(address)?
            .ok_or_else(|| DirectoryError::NotFound(format!("account {address}")))
    }
}
