//! Agencies and their single agency mailbox (Art. 2.3, Art. 3.2).

use congvu_policy::naming;
use congvu_store::AccountKind;

use crate::error::{DirectoryError, Result};
use crate::record::{AccountRecord, AgencyRecord};
use crate::{Directory, text};

impl Directory {
    /// Creates an agency and its agency mailbox `abbr@domain`, or `abbr.parent@domain`
    /// for a sub-agency of `parent` (a full abbreviation, which must exist). The
    /// abbreviation may be typed with diacritics or spaces (`Yên Định` → `yendinh`).
    /// `Exists` when the agency exists or its address was ever issued.
    pub fn add_agency(&self, abbr: &str, name: &str, parent: Option<&str>) -> Result<AgencyRecord> {
        let name = text::required("agency name", name)?;
        let _write = self.write_lock();
        let parent = parent
            .map(|p| self.existing_agency(p).map(|a| a.abbr))
            .transpose()?;
        let full = naming::agency_local_part(abbr, parent.as_deref())?;
        if self.trees.agency(&full)?.is_some() {
            return Err(DirectoryError::Exists(format!("agency {full}")));
        }
        let address = self.address_of(&full);
        if self.trees.is_issued(&full)? {
            return Err(DirectoryError::Exists(format!(
                "address {address} has been issued before"
            )));
        }
        let account = self
            .store
            .create_account(AccountKind::Agency, self.quotas.agency_bytes)?;
        let agency = AgencyRecord {
            abbr: full.to_string(),
            name: name.clone(),
            parent,
            address: address.clone(),
            account,
        };
        let mailbox = AccountRecord {
            address,
            kind: AccountKind::Agency,
            account,
            display_name: name,
            agency: agency.abbr.clone(),
            position: None,
            department: None,
            disabled: false,
        };
        self.trees.issue(&full, &mailbox, Some(&agency))?;
        self.flush()?;
        tracing::info!(agency = %agency.abbr, address = %agency.address, account = account.0, "agency created");
        Ok(agency)
    }

    /// The agency with this full abbreviation (any case, diacritics folded).
    pub fn agency(&self, abbr: &str) -> Result<Option<AgencyRecord>> {
        self.trees.agency(&naming::agency_abbreviation(abbr)?)
    }

    /// Every agency, ordered by full abbreviation.
    pub fn list_agencies(&self) -> Result<Vec<AgencyRecord>> {
        self.trees.agencies()
    }

    /// The agency, or `NotFound`.
    pub(crate) fn existing_agency(&self, abbr: &str) -> Result<AgencyRecord> {
        self.agency(abbr)?
            .ok_or_else(|| DirectoryError::NotFound(format!("agency {abbr}")))
    }
}
