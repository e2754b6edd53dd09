//! CREATE (RFC 3501 §6.3.3) with CREATE-SPECIAL-USE (RFC 6154 §3), and the name
//! rules shared with RENAME. A mailbox carries at most one special use in the
//! store, so asking for two (or an unknown one) is `NO [USEATTR]`.
//!
//! Under `Shared/<agency>/` a folder is created in the agency's store and needs the
//! `k` right (RFC 4314 §4); personal names under `Shared` are reserved for the
//! shared namespace.

use congvu_directory::Rights;
use congvu_store::{AccountId, HIERARCHY_SEPARATOR, MailStore, SpecialUse, StoreError};

use crate::codec::MailboxName;
use crate::codec::response::Code;
use crate::session::{Reply, Session, Target, is_reserved, store_failure};

/// Longest mailbox name accepted, in bytes of UTF-8.
const MAX_NAME_BYTES: usize = 512;

/// A name a mailbox may be given: a trailing separator is dropped (RFC 3501 §6.3.3:
/// it only declares intent to create children); no empty levels, no control
/// characters.
pub(crate) fn new_mailbox_name(name: &MailboxName) -> Result<String, Reply> {
    let name = name.as_str();
    // Client quirk, "Thunderbird's extra separator": Thunderbird creates a subfolder
    // as `CREATE "Công văn/"`; the folder is `Công văn`, not a name ending in `/`.
    let name = name.strip_suffix(HIERARCHY_SEPARATOR).unwrap_or(name);
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && !name.chars().any(char::is_control)
        && name.split(HIERARCHY_SEPARATOR).all(|level| !level.is_empty());
    if valid {
        Ok(name.to_string())
    } else {
        Err(Reply::no(Some(Code::Cannot), "Invalid mailbox name"))
    }
}

/// Where a new mailbox called `name` (already checked by [`new_mailbox_name`]) goes,
/// when the session may create it there: `k` on a shared account, and never a
/// personal name in the shared namespace.
pub(crate) fn creation_target(session: &Session, name: &str) -> Result<Target, Reply> {
    let reserved = || {
        Reply::no(
            Some(Code::Cannot),
            "Names under Shared are the shared namespace (RFC 2342)",
        )
    };
    let target = session.resolve(name).map_err(|reply| {
        if is_reserved(name) && reply.code == Some(Code::NonExistent) {
            reserved()
        } else {
            reply
        }
    })?;
    if session.user().is_some_and(|u| u.account == target.account()) {
        return if is_reserved(name) {
            Err(reserved())
        } else {
            Ok(target)
        };
    }
    target.require(
        Rights::CREATE,
        "Creating folders in this mailbox is not permitted",
    )?;
    Ok(target)
}

/// Creates the missing superior levels of `name` (RFC 3501 §6.3.3 SHOULD).
pub(crate) fn create_parents(
    store: &dyn MailStore,
    account: AccountId,
    name: &str,
) -> congvu_store::Result<()> {
    for (end, _) in name.match_indices(HIERARCHY_SEPARATOR) {
        let parent = &name[..end];
        if store.mailbox_by_name(account, parent)?.is_none() {
            match store.create_mailbox(account, parent, None) {
                Ok(_) | Err(StoreError::Exists(_)) => {}
                Err(err) => return Err(err),
            }
        }
    }
    Ok(())
}

impl Session {
    pub(crate) async fn op_create(&mut self, mailbox: MailboxName, special_use: &[String]) -> Reply {
        let name = match new_mailbox_name(&mailbox) {
            Ok(name) => name,
            Err(reply) => return reply,
        };
        let special_use = match special_use {
            [] => None,
            [one] => match SpecialUse::from_attribute(one) {
                Some(special) => Some(special),
                None => return Reply::no(Some(Code::UseAttr), "Unsupported special-use attribute"),
            },
            _ => return Reply::no(Some(Code::UseAttr), "Only one special-use attribute per mailbox"),
        };
        let target = match creation_target(self, &name) {
            Ok(target) => target,
            Err(reply) => return reply,
        };
        let (account, name) = (target.account(), target.name);
        let created = self
            .blocking(move |store| {
                create_parents(store, account, &name)?;
                store.create_mailbox(account, &name, special_use)
            })
            .await;
        match created {
            Ok(_) => Reply::ok("CREATE completed"),
            Err(err) => store_failure(&err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let ok = |n: &str| new_mailbox_name(&MailboxName(n.into())).ok();
        assert_eq!(ok("Công văn đến").as_deref(), Some("Công văn đến"));
        assert_eq!(ok("a/b/").as_deref(), Some("a/b"));
        for bad in ["", "/", "/a", "a//b", "a\tb", "a/\u{7}"] {
            assert_eq!(ok(bad), None, "{bad:?}");
        }
        assert_eq!(ok(&"x".repeat(513)), None);
    }
}
