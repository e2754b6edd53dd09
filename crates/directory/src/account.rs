//! Personal mailboxes (Art. 2.4, Art. 3.3): creation with the one-mailbox-per-person
//! rule, changes (Form 02), and the lookups every protocol needs.

use congvu_policy::{LocalPart, naming};
use congvu_store::{AccountId, AccountKind};

use crate::error::{DirectoryError, Result};
use crate::plan::Plan;
use crate::record::{AccountRecord, Collision, NewOfficial, Role};
use crate::trees::T;
use crate::{Directory, text};

/// How many free alternatives a collision proposes to the operator.
const PROPOSED_ALTERNATIVES: usize = 3;
/// How far down the ranked alternatives an operator-chosen address may be.
const MAX_CHOSEN_RANK: usize = 50;
/// Longer person ids are not person ids (a CCCD number has 12 digits).
const MAX_PERSON_ID: usize = 32;

impl Directory {
    /// Creates an official's personal mailbox in the agency `agency_full_abbr`, at the
    /// address derived per Art. 3.3.a, for an administrator adding people directly:
    /// namesakes are taken as confirmed. See [`Directory::add_official`].
    pub fn add_person(
        &self,
        agency_full_abbr: &str,
        full_name: &str,
        position: Option<&str>,
        department: Option<&str>,
    ) -> Result<(AccountRecord, Option<Collision>)> {
        let official = NewOfficial {
            name: full_name.to_owned(),
            position: position.map(str::to_owned),
            department: department.map(str::to_owned),
            confirm_namesake: true,
            ..NewOfficial::default()
        };
        self.add_official(agency_full_abbr, &official, "admin")
    }

    /// The address an official named `full_name` would get in `agency_full_abbr` now,
    /// and the collision if it is not the Art. 3.3.a one — what a form shows while it
    /// is typed. Nothing is written; a later filing may find it taken meanwhile.
    pub fn propose_address(
        &self,
        agency_full_abbr: &str,
        full_name: &str,
    ) -> Result<(String, Option<Collision>)> {
        let plan = Plan::new(self, "", now());
        let name = text::required("name", full_name)?;
        let agency = plan_live_agency(&plan, agency_full_abbr)?;
        let (local, collision) = choose_address(&plan, &name, &agency.abbr, None)?;
        Ok((self.address_of(&local), collision))
    }

    /// Creates an official's personal mailbox (Art. 2.4: exactly one per person). When
    /// the derived address was ever issued, the operator's choice (`official.address`)
    /// or the first free alternative of `congvu_policy::naming::alternatives` is taken
    /// and the returned [`Collision`] says which and why (Art. 3.3.b). Refused with
    /// `Exists`: a person id that already has a mailbox; without a person id, a
    /// namesake in the same agency unless `confirm_namesake`.
    pub fn add_official(
        &self,
        agency_full_abbr: &str,
        official: &NewOfficial,
        actor: &str,
    ) -> Result<(AccountRecord, Option<Collision>)> {
        let _write = self.write_lock()?;
        let mut plan = Plan::new(self, actor, now());
        let (local, collision) = plan_official(&mut plan, agency_full_abbr, official)?;
        plan.commit()?;
        let record = self.existing_local(&local)?;
        tracing::info!(
            address = %record.address,
            agency = %record.agency,
            account = record.account.0,
            collision = collision.is_some(),
            "personal account created"
        );
        Ok((record, collision))
    }

    /// The account that receives mail for `address` (any case, any local domain,
    /// through aliases; `postmaster@` every local domain reaches the configured
    /// postmaster). Disabled accounts are returned with `disabled = true`; a malformed
    /// or foreign address is simply not ours: `None`.
    pub fn lookup(&self, address: &str) -> Result<Option<AccountRecord>> {
        match self.local_part_of(address) {
            Some(local) => self.resolve(&local),
            None => Ok(None),
        }
    }

    /// The account a local part names: its own, an alias's target, or the postmaster.
    pub(crate) fn resolve(&self, local: &LocalPart) -> Result<Option<AccountRecord>> {
        let key = local.as_str().as_bytes();
        if let Some(record) = self.trees.get(T::Accounts, key)? {
            return Ok(Some(record));
        }
        if let Some(target) = self.trees.get::<String>(T::Aliases, key)? {
            return self.trees.get(T::Accounts, target.as_bytes());
        }
        if local.as_str() == POSTMASTER {
            return self.postmaster();
        }
        Ok(None)
    }

    /// May this account use `address` as envelope sender / From? Its own address or one
    /// of its aliases, in any local domain, case-insensitively. The null reverse-path
    /// `<>` is not an address: the caller decides about it.
    pub fn may_send_as(&self, account: &AccountRecord, address: &str) -> bool {
        self.local_part_of(address).is_some_and(|local| {
            let candidate = self.address_of(&local);
            candidate == account.address || account.aliases.contains(&candidate)
        })
    }

    pub fn account_by_id(&self, id: AccountId) -> Result<Option<AccountRecord>> {
        let Some(local) = self.trees.get_raw(T::AccountIds, &id.0.to_be_bytes())? else {
            return Ok(None);
        };
        match self.trees.get(T::Accounts, &local)? {
            Some(record) => Ok(Some(record)),
            None => Err(crate::trees::corrupt(
                "dir.account_ids",
                &id.0.to_string(),
                "points to no account",
            )),
        }
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
        let mut accounts: Vec<AccountRecord> = self.trees.all(T::Accounts)?;
        if let Some(agency) = agency {
            accounts.retain(|a| a.agency == agency.abbr);
        }
        // Keys are local parts, and `a.b@` sorts before `a@` although `a` < `a.b`.
        accounts.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(accounts)
    }

    /// Disables (no login, no delivery) or re-enables an account, e.g. when its owner
    /// reports lost control (Art. 16.2). A deleted account is re-enabled only by
    /// [`Directory::restore`].
    pub fn set_disabled(&self, address: &str, disabled: bool, actor: &str) -> Result<AccountRecord> {
        let _write = self.write_lock()?;
        let mut plan = Plan::new(self, actor, now());
        let (local, mut record) = plan_existing(&plan, address)?;
        if !disabled && record.deleted.is_some() {
            return Err(DirectoryError::Invalid(format!(
                "{} is deleted: restore it instead",
                record.address
            )));
        }
        record.disabled = disabled;
        plan.put_account(&local, &record)?;
        plan.audit(if disabled { "disable" } else { "enable" }, &record.address, "");
        plan.commit()?;
        tracing::info!(address = %record.address, disabled, "account state changed");
        Ok(record)
    }

    /// Gives an account a role; operators and heads act for the agency the account
    /// belongs to.
    pub fn set_role(&self, address: &str, role: Role, actor: &str) -> Result<AccountRecord> {
        let _write = self.write_lock()?;
        let mut plan = Plan::new(self, actor, now());
        let (local, mut record) = plan_existing(&plan, address)?;
        if record.kind == AccountKind::Agency && role != Role::Official {
            return Err(DirectoryError::Invalid(
                "roles belong to people: an agency mailbox has none".into(),
            ));
        }
        record.role = role;
        plan.put_account(&local, &record)?;
        plan.audit("set_role", &record.address, format!("{role:?}"));
        plan.commit()?;
        tracing::info!(address = %record.address, role = ?role, "role set");
        Ok(record)
    }

    /// The account, or `NotFound`.
    pub(crate) fn existing_account(&self, address: &str) -> Result<AccountRecord> {
        self.lookup(address)?
            .ok_or_else(|| DirectoryError::NotFound(format!("account {address}")))
    }

    fn existing_local(&self, local: &LocalPart) -> Result<AccountRecord> {
        self.trees
            .get(T::Accounts, local.as_str().as_bytes())?
            .ok_or_else(|| DirectoryError::NotFound(format!("account {local}")))
    }
}

/// The local part every domain must accept (RFC 5321 §4.5.1); never issued.
pub(crate) const POSTMASTER: &str = "postmaster";

pub use congvu_store::unix_now as now;

/// The account at `address` as planned, with its own (not alias) local part.
pub(crate) fn plan_existing(plan: &Plan<'_>, address: &str) -> Result<(LocalPart, AccountRecord)> {
    let dir = plan.dir();
    let not_found = || DirectoryError::NotFound(format!("account {address}"));
    let local = dir.local_part_of(address).ok_or_else(not_found)?;
    let own = match plan.get::<String>(T::Aliases, local.as_str().as_bytes())? {
        Some(target) => target.parse().map_err(|_| not_found())?,
        None => local,
    };
    let record = plan.account(&own)?.ok_or_else(not_found)?;
    Ok((own, record))
}

/// The key of the namesake index: agency and the folded name.
fn name_key(agency: &str, name: &str) -> Vec<u8> {
    format!("{agency}\0{}", naming::fold_vietnamese(name)).into_bytes()
}

fn namesakes(plan: &Plan<'_>, agency: &str, name: &str) -> Result<Vec<String>> {
    Ok(plan.get(T::Names, &name_key(agency, name))?.unwrap_or_default())
}

pub(crate) fn index_name(
    plan: &mut Plan<'_>,
    agency: &str,
    name: &str,
    local: &LocalPart,
    add: bool,
) -> Result<()> {
    let key = name_key(agency, name);
    let mut locals = namesakes(plan, agency, name)?;
    locals.retain(|l| l != local.as_str());
    if add {
        locals.push(local.to_string());
    }
    if locals.is_empty() {
        plan.remove(T::Names, &key);
        Ok(())
    } else {
        plan.put(T::Names, &key, &locals)
    }
}

/// Live namesakes (same folded name, same agency) as planned so far.
pub(crate) fn live_namesakes(plan: &Plan<'_>, agency: &str, name: &str) -> Result<Vec<AccountRecord>> {
    let mut live = Vec::new();
    for local in namesakes(plan, agency, name)? {
        if let Ok(local) = local.parse()
            && let Some(record) = plan.account(&local)?
            && record.deleted.is_none()
        {
            live.push(record);
        }
    }
    Ok(live)
}

fn person_id(value: Option<&str>) -> Result<Option<String>> {
    let Some(id) = text::optional("person id", value)? else {
        return Ok(None);
    };
    if id.len() > MAX_PERSON_ID || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(DirectoryError::Invalid(format!(
            "person id {id:?}: at most {MAX_PERSON_ID} ASCII letters, digits and '-'"
        )));
    }
    Ok(Some(id.to_ascii_uppercase()))
}

/// The live mailbox of a person id, as planned so far.
pub(crate) fn mailbox_of_person(plan: &Plan<'_>, id: &str) -> Result<Option<AccountRecord>> {
    let Some(local) = plan.get::<String>(T::PersonIds, id.as_bytes())? else {
        return Ok(None);
    };
    match local.parse() {
        Ok(local) => plan.account(&local),
        Err(_) => Ok(None),
    }
}

/// Plans one official's mailbox; returns its local part and any collision.
pub(crate) fn plan_official(
    plan: &mut Plan<'_>,
    agency_abbr: &str,
    official: &NewOfficial,
) -> Result<(LocalPart, Option<Collision>)> {
    let display_name = text::required("name", &official.name)?;
    let position = text::optional("position", official.position.as_deref())?;
    let department = text::optional("department", official.department.as_deref())?;
    let phone = text::optional("phone", official.phone.as_deref())?;
    let person_id = person_id(official.person_id.as_deref())?;
    let agency = plan_live_agency(plan, agency_abbr)?;
    if let Some(id) = &person_id {
        if let Some(existing) = mailbox_of_person(plan, id)? {
            return Err(DirectoryError::Exists(format!(
                "person {id} already has the mailbox {} (Art. 2.4: one personal mailbox per official)",
                existing.address
            )));
        }
    } else if !official.confirm_namesake
        && let Some(existing) = live_namesakes(plan, &agency.abbr, &display_name)?.first()
    {
        return Err(DirectoryError::Exists(format!(
            "{display_name} already has the mailbox {} in {}: give a person id, or confirm that this \
             is another person (confirm_namesake)",
            existing.address, agency.abbr
        )));
    }
    let (local, collision) = choose_address(plan, &display_name, &agency.abbr, official.address.as_deref())?;
    let record = AccountRecord {
        address: plan.dir().address_of(&local),
        kind: AccountKind::Personal,
        account: AccountId(0),
        display_name: display_name.clone(),
        agency: agency.abbr.clone(),
        position,
        department,
        disabled: false,
        person_id: person_id.clone(),
        phone,
        role: Role::Official,
        deleted: None,
        aliases: Vec::new(),
    };
    plan.issue(&local, &record, None)?;
    index_name(plan, &agency.abbr, &display_name, &local, true)?;
    if let Some(id) = &person_id {
        plan.put(T::PersonIds, id.as_bytes(), &local.to_string())?;
    }
    plan.audit("create_official", &record.address, display_name);
    Ok((local, collision))
}

/// The address for a person in an agency: the operator's pick among the ranked
/// alternatives, or the first free one; a collision report when it is not the Art. 3
/// address.
pub(crate) fn choose_address(
    plan: &Plan<'_>,
    name: &str,
    agency: &str,
    picked: Option<&str>,
) -> Result<(LocalPart, Option<Collision>)> {
    let dir = plan.dir();
    let mut candidates = naming::alternatives(name, agency)?;
    let wanted = candidates
        .next()
        .ok_or_else(|| DirectoryError::Invalid(format!("no address can be derived from {name:?}")))?;
    let free = |c: &naming::Candidate| -> Result<bool> {
        Ok(!plan.is_taken(&c.local)? && c.local.as_str() != POSTMASTER)
    };
    let chosen = match picked {
        Some(picked) => {
            let local = dir
                .local_part_of(picked)
                .or_else(|| picked.parse().ok())
                .ok_or_else(|| DirectoryError::Invalid(format!("{picked:?} is not an address of ours")))?;
            let candidate = std::iter::once(wanted.clone())
                .chain(naming::alternatives(name, agency)?.skip(1))
                .take(MAX_CHOSEN_RANK)
                .find(|c| c.local == local)
                .ok_or_else(|| {
                    DirectoryError::Invalid(format!(
                        "{picked} is not one of the addresses proposed for {name} in {agency}"
                    ))
                })?;
            if !free(&candidate)? {
                return Err(DirectoryError::Exists(format!(
                    "address {} has been issued before",
                    dir.address_of(&local)
                )));
            }
            candidate
        }
        None => {
            let mut chosen = wanted.clone();
            while !free(&chosen)? {
                chosen = candidates.next().ok_or_else(|| {
                    DirectoryError::Exists(format!("every address derivable from {name:?} is taken"))
                })?;
            }
            chosen
        }
    };
    if chosen.local == wanted.local {
        return Ok((chosen.local, None));
    }
    let mut alternatives = vec![dir.address_of(&chosen.local)];
    for candidate in naming::alternatives(name, agency)? {
        if alternatives.len() >= PROPOSED_ALTERNATIVES {
            break;
        }
        let address = dir.address_of(&candidate.local);
        if free(&candidate)? && !alternatives.contains(&address) {
            alternatives.push(address);
        }
    }
    let wanted = dir.address_of(&wanted.local);
    let chosen_address = dir.address_of(&chosen.local);
    Ok((
        chosen.local,
        Some(Collision {
            explanation: format!(
                "{wanted} đã được cấp, đề xuất {chosen_address} ({}) / \
                 {wanted} is taken, proposing {chosen_address} ({})",
                chosen.explanation.vi, chosen.explanation.en
            ),
            wanted,
            chosen: chosen_address,
            alternatives,
        }),
    ))
}

/// The agency as planned, or `NotFound`; `Invalid` when dissolved.
pub(crate) fn plan_live_agency(plan: &Plan<'_>, abbr: &str) -> Result<crate::AgencyRecord> {
    let full = naming::agency_abbreviation(abbr)?;
    let agency = plan
        .agency(full.as_str())?
        .ok_or_else(|| DirectoryError::NotFound(format!("agency {abbr}")))?;
    if agency.dissolved.is_some() {
        return Err(DirectoryError::Invalid(format!(
            "agency {} is dissolved",
            agency.abbr
        )));
    }
    Ok(agency)
}

/// Gives a personal mailbox a new address (in `agency`, derived from `name`),
/// keeping the old one as an alias: the storage account, password and mail stay.
/// Moved to another agency, the official loses, in the same plan, every delegation
/// they held: grants are made to the agency's own staff only (Art. 16.1).
pub(crate) fn relocate(
    plan: &mut Plan<'_>,
    old_local: &LocalPart,
    mut record: AccountRecord,
    agency: &str,
    picked: Option<&str>,
) -> Result<(LocalPart, Option<Collision>)> {
    let (new_local, collision) = choose_address(plan, &record.display_name, agency, picked)?;
    let old_address = record.address.clone();
    if record.agency != agency {
        crate::delegation::plan_withdraw_grants_of(plan, record.account)?;
    }
    index_name(plan, &record.agency, &record.display_name, old_local, false)?;
    index_name(plan, agency, &record.display_name, &new_local, true)?;
    record.address = plan.dir().address_of(&new_local);
    record.agency = agency.to_owned();
    record.aliases.push(old_address.clone());
    // Every earlier alias now points at the new address.
    for alias in &record.aliases {
        if let Some(alias_local) = plan.dir().local_part_of(alias) {
            plan.put(
                T::Aliases,
                alias_local.as_str().as_bytes(),
                &new_local.to_string(),
            )?;
        }
    }
    plan.remove(T::Accounts, old_local.as_str().as_bytes());
    plan.put_account(&new_local, &record)?;
    plan.put_raw(
        T::AccountIds,
        &record.account.0.to_be_bytes(),
        new_local.as_str().as_bytes(),
    );
    plan.put(
        T::Issued,
        new_local.as_str().as_bytes(),
        &crate::record::Issued {
            account: record.account,
            issued_at: plan.now,
        },
    )?;
    if let Some(id) = &record.person_id {
        plan.put(T::PersonIds, id.as_bytes(), &new_local.to_string())?;
    }
    plan.audit("readdress", &record.address, format!("formerly {old_address}"));
    Ok((new_local, collision))
}
