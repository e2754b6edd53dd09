//! The change log (`store.changes`, laid out in `tx`): built once for a store from
//! before it, written again by the repair. The transactions write it
//! (`Trees::transact` adds one record per mailbox they wrote messages in); the
//! check compares it with the message records (`check`, invariant 6).

use std::collections::HashMap;

use super::SledStore;
use super::tx::{CHANGE_LOG_BUILT, OLD_MODSEQ_TREE, decode, decode_u64, encode_uid_ranges, modseq_key};
use crate::{MailboxId, MailboxInfo, MessageMeta, Result};

impl SledStore {
    /// Gives a store from before the change log one record per mailbox (a one-time
    /// migration, marked in `store.meta`), and drops the per-message modseq index
    /// an earlier version kept. A new store is only marked. Runs while no
    /// transaction does, so no message changes under the scan.
    pub(super) fn build_change_log(&self) -> Result<()> {
        if self.trees.meta.contains_key(CHANGE_LOG_BUILT)? {
            return Ok(());
        }
        let logged = self.trees.quiesced(|| self.rebuild_change_log())?;
        self.db.drop_tree(OLD_MODSEQ_TREE)?;
        self.trees.meta.insert(CHANGE_LOG_BUILT, &[1u8])?;
        self.db.flush()?;
        if logged > 0 {
            tracing::info!(messages = logged, "change log built");
        }
        Ok(())
    }

    /// Writes the change log again from the message records (run quiesced): one
    /// record per mailbox, under its HIGHESTMODSEQ, naming every message, so a
    /// `changed_since` from any older modseq finds each message whose record is
    /// newer. Returns how many messages it names.
    pub(super) fn rebuild_change_log(&self) -> Result<usize> {
        self.trees.changes.clear()?;
        let mut uids: HashMap<MailboxId, Vec<u32>> = HashMap::new();
        for entry in self.trees.messages.iter() {
            let (key, value) = entry?;
            let meta: MessageMeta = decode(&value, "message record")?;
            let mailbox = MailboxId(decode_u64(key.get(..8).unwrap_or_default(), "message key")?);
            uids.entry(mailbox).or_default().push(meta.uid.get());
        }
        let mut logged = 0;
        for entry in self.trees.mailboxes.iter() {
            let info: MailboxInfo = decode(&entry?.1, "mailbox record")?;
            if let Some(mut uids) = uids.remove(&info.id) {
                uids.sort_unstable();
                logged += uids.len();
                self.trees
                    .changes
                    .insert(modseq_key(info.id, info.highestmodseq), encode_uid_ranges(&uids))?;
            }
        }
        Ok(logged)
    }
}
