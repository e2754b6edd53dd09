//! Agencies and their single agency mailbox (Art. 2.3, Art. 3.2).

use congvu_policy::naming;
use congvu_store::{AccountId, AccountKind};

use crate::account::{POSTMASTER, now, plan_live_agency};
use crate::error::{DirectoryError, Result};
use crate::plan::Plan;
use crate::record::{AccountRecord, AgencyRecord, Role};
use crate::trees::T;
use crate::{Directory, text};

impl Directory {
    /// Creates an agency and its agency mailbox `abbr@domain`, or `abbr.parent@domain`
    /// for a sub-agency of `parent` (a full abbreviation, which must exist). The
    /// abbreviation may be typed with diacritics or spaces (`Yên Định` → `yendinh`).
    /// `Exists` when the agency exists or its address was ever issued.
    pub fn add_agency(&self, abbr: &str, name: &str, parent: Option<&str>) -> Result<AgencyRecord> {
        let _write = self.write_lock()?;
        let mut plan = Plan::new(self, "admin", now());
        let full = plan_agency(&mut plan, abbr, name, parent)?;
        plan.commit()?;
        let agency = self.existing_agency(&full)?;
        tracing::info!(agency = %agency.abbr, address = %agency.address, account = agency.account.0, "agency created");
        Ok(agency)
    }

    /// The agency with this full abbreviation (any case, diacritics folded).
    pub fn agency(&self, abbr: &str) -> Result<Option<AgencyRecord>> {
        self.trees.get(
            T::Agencies,
            naming::agency_abbreviation(abbr)?.as_str().as_bytes(),
        )
    }

    /// Every agency, ordered by full abbreviation.
    pub fn list_agencies(&self) -> Result<Vec<AgencyRecord>> {
        self.trees.all(T::Agencies)
    }

    /// The agency, or `NotFound`.
    pub(crate) fn existing_agency(&self, abbr: &str) -> Result<AgencyRecord> {
        self.agency(abbr)?
            .ok_or_else(|| DirectoryError::NotFound(format!("agency {abbr}")))
    }

    /// The postmaster's mailbox: the configured one, else the first agency mailbox
    /// ever created (normally the Provincial Office's, created first at setup).
    pub(crate) fn postmaster(&self) -> Result<Option<AccountRecord>> {
        if let Some(configured) = &self.settings.postmaster {
            return match self.local_part_of(configured) {
                Some(local) if local.as_str() != POSTMASTER => self.resolve(&local),
                _ => Ok(None),
            };
        }
        let first = self
            .list_agencies()?
            .into_iter()
            .filter(|a| a.dissolved.is_none())
            .min_by_key(|a| a.account);
        match first {
            Some(agency) => self.lookup(&agency.address),
            None => Ok(None),
        }
    }
}

/// Plans an agency and its mailbox; returns the full abbreviation.
pub(crate) fn plan_agency(
    plan: &mut Plan<'_>,
    abbr: &str,
    name: &str,
    parent: Option<&str>,
) -> Result<String> {
    let name = text::required("agency name", name)?;
    let parent = parent
        .map(|p| plan_live_agency(plan, p).map(|a| a.abbr))
        .transpose()?;
    let full = naming::agency_local_part(abbr, parent.as_deref())?;
    if full.as_str() == POSTMASTER {
        return Err(DirectoryError::Invalid(
            "postmaster is reserved (RFC 5321 §4.5.1)".into(),
        ));
    }
    if plan.agency(full.as_str())?.is_some() {
        return Err(DirectoryError::Exists(format!("agency {full}")));
    }
    let address = plan.dir().address_of(&full);
    let agency = AgencyRecord {
        abbr: full.to_string(),
        name: name.clone(),
        parent,
        address: address.clone(),
        account: AccountId(0),
        dissolved: None,
    };
    let mailbox = AccountRecord {
        address,
        kind: AccountKind::Agency,
        account: AccountId(0),
        display_name: name.clone(),
        agency: agency.abbr.clone(),
        position: None,
        department: None,
        disabled: false,
        person_id: None,
        phone: None,
        role: Role::Official,
        deleted: None,
        aliases: Vec::new(),
    };
    plan.issue(&full, &mailbox, Some(&agency))?;
    plan.audit("create_agency", &agency.address, name);
    Ok(agency.abbr)
}

/// Form 02: the agency's name changes; its abbreviation and addresses do not.
pub(crate) fn plan_rename_agency(plan: &mut Plan<'_>, abbr: &str, name: &str) -> Result<()> {
    let name = text::required("agency name", name)?;
    let mut agency = plan_live_agency(plan, abbr)?;
    let old = std::mem::replace(&mut agency.name, name.clone());
    let local = naming::agency_abbreviation(&agency.abbr)?;
    if let Some(mut mailbox) = plan.account(&local)? {
        mailbox.display_name = name.clone();
        plan.put_account(&local, &mailbox)?;
    }
    plan.put(T::Agencies, agency.abbr.as_bytes(), &agency)?;
    plan.audit("rename_agency", &agency.address, format!("{old} → {name}"));
    Ok(())
}

/// Form 03: an agency dissolved by decision. It must have no live personal mailbox and
/// no live sub-agency left; its mailbox is then deleted like a personal one.
pub(crate) fn plan_dissolve_agency(plan: &mut Plan<'_>, abbr: &str, decision: &str) -> Result<()> {
    let decision = text::required("decision", decision)?;
    let mut agency = plan_live_agency(plan, abbr)?;
    let dir = plan.dir();
    for child in dir.list_agencies()? {
        if child.parent.as_deref() == Some(agency.abbr.as_str())
            && plan.agency(&child.abbr)?.is_some_and(|c| c.dissolved.is_none())
        {
            return Err(DirectoryError::Invalid(format!(
                "agency {} still has the sub-agency {}: dissolve or move it first",
                agency.abbr, child.abbr
            )));
        }
    }
    for account in dir.list_accounts(Some(&agency.abbr))? {
        let live = match dir.local_part_of(&account.address) {
            Some(local) => plan.account(&local)?.is_some_and(|a| a.deleted.is_none()),
            None => false,
        };
        if account.kind == AccountKind::Personal && live {
            return Err(DirectoryError::Invalid(format!(
                "agency {} still has the mailbox {}: delete or move it first",
                agency.abbr, account.address
            )));
        }
    }
    agency.dissolved = Some(decision.clone());
    plan.put(T::Agencies, agency.abbr.as_bytes(), &agency)?;
    crate::delete::plan_delete(plan, &agency.address, &format!("dissolved: {decision}"), true)?;
    Ok(())
}
