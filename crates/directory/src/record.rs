//! The directory's records, stored as JSON in the `dir.*` trees.

use congvu_store::{AccountId, AccountKind};
use serde::{Deserialize, Serialize};

/// A directory entry that owns a mailbox: an agency's or an official's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// Full lower-case address, e.g. `tuanna.sttt@thanhhoa.gov.vn`.
    pub address: String,
    pub kind: AccountKind,
    pub account: AccountId,
    /// The official's full name, or the agency's name.
    pub display_name: String,
    /// Full agency abbreviation (`sttt`, `pvhtt.yendinh`).
    pub agency: String,
    pub position: Option<String>,
    pub department: Option<String>,
    pub disabled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyRecord {
    /// Full abbreviation: `sttt`, or `pvhtt.yendinh` for a sub-agency.
    pub abbr: String,
    pub name: String,
    pub parent: Option<String>,
    /// The agency mailbox's address.
    pub address: String,
    pub account: AccountId,
}

/// What `add_person` did when the derived address was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collision {
    pub wanted: String,
    pub chosen: String,
    /// Human explanation, Vietnamese first, then English.
    pub explanation: String,
}

/// Default quotas by account kind (Art. 9.1: 500 MB agency, 100 MB personal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultQuotas {
    pub agency_bytes: u64,
    pub personal_bytes: u64,
}

impl Default for DefaultQuotas {
    /// Art. 9.1, with MB read as 2^20 bytes.
    fn default() -> DefaultQuotas {
        DefaultQuotas {
            agency_bytes: 500 << 20,
            personal_bytes: 100 << 20,
        }
    }
}

/// The tombstone kept for every address ever issued (`dir.issued`), so that an address
/// is never handed to a second owner, even after its mailbox is gone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Issued {
    pub account: AccountId,
    /// Unix seconds.
    pub issued_at: i64,
}
