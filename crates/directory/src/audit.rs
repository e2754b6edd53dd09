//! The append-only audit log (`dir.audit`): who changed what, when, under which
//! request. Entries are written in the same transaction as the change they describe
//! and keyed by a monotonic sequence number; nothing rewrites or removes them.

use serde::{Deserialize, Serialize};

use crate::Directory;
use crate::error::Result;
use crate::trees::{T, decode};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    /// The account address acting, or `admin` for the bootstrap token.
    pub actor: String,
    pub action: String,
    /// The address or request the action is about.
    pub subject: String,
    pub detail: String,
    pub request: Option<u64>,
}

impl Directory {
    /// Records an action done outside the directory's own writes — a password set, a
    /// quota changed, a queue entry retried or dropped — so that the audit log names
    /// every administrative act, whichever door (CLI, API, console) it came through.
    pub fn record_audit(&self, actor: &str, action: &str, subject: &str, detail: &str) -> Result<()> {
        let mut plan = crate::plan::Plan::new(self, actor, crate::account::now());
        plan.audit(action, subject, detail);
        plan.commit()
    }

    /// The newest `limit` entries (oldest first), optionally only those of one request
    /// or about one subject.
    pub fn audit_log(
        &self,
        request: Option<u64>,
        subject: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        let mut entries = Vec::new();
        for (key, json) in self.trees.entries(T::Audit)?.iter().rev() {
            let entry: AuditEntry = decode(T::Audit, key, json)?;
            if request.is_some_and(|r| entry.request != Some(r))
                || subject.is_some_and(|s| entry.subject != s)
            {
                continue;
            }
            entries.push(entry);
            if entries.len() >= limit {
                break;
            }
        }
        entries.reverse();
        Ok(entries)
    }
}
