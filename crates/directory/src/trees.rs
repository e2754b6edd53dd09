//! The `dir.*` sled trees (layout in the crate doc) and their JSON records. Every key a
//! write transaction touches is a point key: sled transactions cannot range-scan.

use congvu_policy::LocalPart;
use congvu_store::AccountId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, Transactional};

use crate::error::{DirectoryError, Result};
use crate::record::{AccountRecord, AgencyRecord, Issued};

pub(crate) struct Trees {
    agencies: sled::Tree,
    accounts: sled::Tree,
    account_ids: sled::Tree,
    issued: sled::Tree,
    passwords: sled::Tree,
}

impl Trees {
    pub fn open(db: &sled::Db) -> Result<Trees> {
        Ok(Trees {
            agencies: db.open_tree("dir.agencies")?,
            accounts: db.open_tree("dir.accounts")?,
            account_ids: db.open_tree("dir.account_ids")?,
            issued: db.open_tree("dir.issued")?,
            passwords: db.open_tree("dir.passwords")?,
        })
    }

    pub fn agency(&self, abbr: &LocalPart) -> Result<Option<AgencyRecord>> {
        get(&self.agencies, abbr.as_str().as_bytes())
    }

    /// Every agency, ordered by full abbreviation.
    pub fn agencies(&self) -> Result<Vec<AgencyRecord>> {
        all(&self.agencies)
    }

    pub fn account(&self, local: &LocalPart) -> Result<Option<AccountRecord>> {
        get(&self.accounts, local.as_str().as_bytes())
    }

    /// Every account, in key (local part) order.
    pub fn accounts(&self) -> Result<Vec<AccountRecord>> {
        all(&self.accounts)
    }

    pub fn account_by_id(&self, id: AccountId) -> Result<Option<AccountRecord>> {
        let Some(local) = self.account_ids.get(id.0.to_be_bytes())? else {
            return Ok(None);
        };
        match get(&self.accounts, &local)? {
            Some(record) => Ok(Some(record)),
            None => Err(corrupt(
                "dir.account_ids",
                &id.0.to_string(),
                "points to no account",
            )),
        }
    }

    /// True when `local` was ever issued, to an agency or a person, live or not.
    pub fn is_issued(&self, local: &LocalPart) -> Result<bool> {
        Ok(self.issued.contains_key(local.as_str().as_bytes())?)
    }

    /// Records a new account — and, for an agency mailbox, its agency — in one
    /// transaction, so a crash leaves either all of it or none. Fails with `Exists` if
    /// the address or the agency appeared meanwhile.
    pub fn issue(
        &self,
        local: &LocalPart,
        record: &AccountRecord,
        agency: Option<&AgencyRecord>,
    ) -> Result<()> {
        let key = local.as_str().as_bytes();
        let id_key = record.account.0.to_be_bytes();
        let record_json = encode(record)?;
        let issued_json = encode(&Issued {
            account: record.account,
            issued_at: chrono::Utc::now().timestamp(),
        })?;
        let agency_json = agency
            .map(|a| encode(a).map(|json| (a.abbr.as_bytes(), json)))
            .transpose()?;
        (&self.agencies, &self.accounts, &self.account_ids, &self.issued).transaction(
            |(agencies, accounts, account_ids, issued)| {
                if issued.get(key)?.is_some() {
                    return Err(ConflictableTransactionError::Abort(DirectoryError::Exists(
                        format!("address {} has been issued before", record.address),
                    )));
                }
                if let Some((abbr, json)) = &agency_json {
                    if agencies.get(abbr)?.is_some() {
                        return Err(ConflictableTransactionError::Abort(DirectoryError::Exists(
                            format!("agency {}", String::from_utf8_lossy(abbr)),
                        )));
                    }
                    agencies.insert(*abbr, json.as_slice())?;
                }
                accounts.insert(key, record_json.as_slice())?;
                account_ids.insert(&id_key, key)?;
                issued.insert(key, issued_json.as_slice())?;
                Ok(())
            },
        )?;
        Ok(())
    }

    pub fn password(&self, id: AccountId) -> Result<Option<String>> {
        match self.passwords.get(id.0.to_be_bytes())? {
            None => Ok(None),
            Some(phc) => String::from_utf8(phc.to_vec())
                .map(Some)
                .map_err(|_| corrupt("dir.passwords", &id.0.to_string(), "not UTF-8")),
        }
    }

    pub fn set_password(&self, id: AccountId, phc: &str) -> Result<()> {
        self.passwords.insert(id.0.to_be_bytes(), phc.as_bytes())?;
        Ok(())
    }
}

fn get<T: DeserializeOwned>(tree: &sled::Tree, key: &[u8]) -> Result<Option<T>> {
    tree.get(key)?.map(|json| decode(tree, key, &json)).transpose()
}

fn all<T: DeserializeOwned>(tree: &sled::Tree) -> Result<Vec<T>> {
    tree.iter()
        .map(|entry| {
            let (key, json) = entry?;
            decode(tree, &key, &json)
        })
        .collect()
}

fn decode<T: DeserializeOwned>(tree: &sled::Tree, key: &[u8], json: &[u8]) -> Result<T> {
    serde_json::from_slice(json).map_err(|e| {
        corrupt(
            &String::from_utf8_lossy(&tree.name()),
            &String::from_utf8_lossy(key),
            &e.to_string(),
        )
    })
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| DirectoryError::Db(format!("cannot encode record: {e}")))
}

fn corrupt(tree: &str, key: &str, why: &str) -> DirectoryError {
    DirectoryError::Db(format!("corrupt record in {tree} at {key}: {why}"))
}
