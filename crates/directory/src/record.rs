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
    /// No login, no delivery (5.2.1). Set by deletion, or by an administrator.
    pub disabled: bool,
    /// The official's person id (CCCD number or personnel code): one mailbox per id.
    #[serde(default)]
    pub person_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub role: Role,
    /// Set by a Form 03 deletion: the content is kept until `purge_after`.
    #[serde(default)]
    pub deleted: Option<Deletion>,
    /// Earlier addresses of this mailbox, still delivering to it (renames, moves).
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// What an account may do in the admin API, besides using its own mailbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Own password, own mailbox.
    #[default]
    Official,
    /// Files requests (forms 01/02/03) for their own agency only.
    Operator,
    /// Agency head: delegates the agency mailbox (Art. 16.1); also an operator.
    Head,
    /// Provincial administrator (Văn phòng UBND tỉnh): approves and rejects, manages
    /// everything.
    Administrator,
}

/// Why and when a mailbox was deleted (Form 03).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    pub reason: String,
    /// Unix seconds.
    pub at: i64,
    /// Unix seconds after which [`crate::Directory::purge_expired`] removes it.
    pub purge_after: i64,
    pub request: Option<u64>,
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
    /// Set when the agency was dissolved (Form 03, by decision): the record stays for
    /// history, its mailbox follows the deletion rules.
    #[serde(default)]
    pub dissolved: Option<String>,
}

/// An official to create (Form 01 line, import row, or direct creation).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOfficial {
    /// Full name, family name first.
    pub name: String,
    #[serde(default)]
    pub person_id: Option<String>,
    #[serde(default)]
    pub position: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Without a person id, a namesake in the same agency is refused as a probable
    /// duplicate unless the operator confirms it is another person.
    #[serde(default)]
    pub confirm_namesake: bool,
    /// The address the operator picked among the proposed alternatives (Art. 3.3.b);
    /// absent: the first free one.
    #[serde(default)]
    pub address: Option<String>,
}

/// What `add_person` when the derived address was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collision {
    pub wanted: String,
    pub chosen: String,
    /// Human explanation, Vietnamese first, then English.
    pub explanation: String,
    /// Free addresses the operator may pick instead (ranked, `chosen` first); file
    /// the request again with `address` set to pick another.
    #[serde(default)]
    pub alternatives: Vec<String>,
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
