//! Aliases (`dir.aliases`: alias local part → the mailbox's own local part, JSON).
//!
//! Renames and moves leave the old address as an alias so mail keeps arriving;
//! administrators may add more. An alias is an issued address like any other: it is
//! tombstoned in `dir.issued` and never handed to anyone else, even once removed.

use crate::Directory;
use crate::account::{POSTMASTER, now, plan_existing};
use crate::error::{DirectoryError, Result};
use crate::plan::Plan;
use crate::record::{AccountRecord, Issued};
use crate::trees::T;

impl Directory {
    /// Makes `alias` (an address in a local domain, never issued before) deliver to the
    /// mailbox at `target`.
    pub fn add_alias(&self, alias: &str, target: &str, actor: &str) -> Result<AccountRecord> {
        let _write = self.write_lock()?;
        let mut plan = Plan::new(self, actor, now());
        let local = self.local_part_of(alias).ok_or_else(|| {
            DirectoryError::Invalid(format!("{alias:?} is not an address in a local domain"))
        })?;
        if local.as_str() == POSTMASTER {
            return Err(DirectoryError::Invalid(
                "postmaster is configured, not aliased ([domain] postmaster)".into(),
            ));
        }
        if plan.is_taken(&local)? {
            return Err(DirectoryError::Exists(format!(
                "address {} has been issued before",
                self.address_of(&local)
            )));
        }
        let (own, mut record) = plan_existing(&plan, target)?;
        let address = self.address_of(&local);
        plan.put(T::Aliases, local.as_str().as_bytes(), &own.to_string())?;
        plan.put(
            T::Issued,
            local.as_str().as_bytes(),
            &Issued {
                account: record.account,
                issued_at: plan.now,
            },
        )?;
        record.aliases.push(address.clone());
        plan.put_account(&own, &record)?;
        plan.audit("add_alias", &record.address, address);
        plan.commit()?;
        tracing::info!(address = %record.address, "alias added");
        Ok(record)
    }

    /// Stops `alias` delivering; the address stays issued (never reused).
    pub fn remove_alias(&self, alias: &str, actor: &str) -> Result<AccountRecord> {
        let _write = self.write_lock()?;
        let mut plan = Plan::new(self, actor, now());
        let local = self
            .local_part_of(alias)
            .ok_or_else(|| DirectoryError::NotFound(format!("alias {alias}")))?;
        let Some(target) = plan.get::<String>(T::Aliases, local.as_str().as_bytes())? else {
            return Err(DirectoryError::NotFound(format!("alias {alias}")));
        };
        let (own, mut record) = plan_existing(&plan, &format!("{target}@{}", self.primary))?;
        let address = self.address_of(&local);
        record.aliases.retain(|a| *a != address);
        plan.remove(T::Aliases, local.as_str().as_bytes());
        plan.put_account(&own, &record)?;
        plan.audit("remove_alias", &record.address, address);
        plan.commit()?;
        Ok(record)
    }
}
