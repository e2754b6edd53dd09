//! The modseq index (`store.modseq`, laid out in `tx`): built once for a store
//! from before it, written again by the repair. The transactions keep it current
//! (`Tx::add_message`, `Tx::update_message`, `Tx::remove_message`); the check
//! compares it with the message records (`check`, invariant 6).

use super::SledStore;
use super::tx::{MODSEQ_INDEX_BUILT, decode, decode_u64, modseq_key};
use crate::{MailboxId, MessageMeta, Result};

impl SledStore {
    /// Builds the modseq index of a store from before it (a one-time migration,
    /// marked in `store.meta`); a new store is only marked. Runs while no
    /// transaction does, so no message changes under the scan.
    pub(super) fn build_modseq_index(&self) -> Result<()> {
        if self.trees.meta.contains_key(MODSEQ_INDEX_BUILT)? {
            return Ok(());
        }
        let indexed = self.trees.quiesced(|| self.rebuild_modseq_index())?;
        self.trees.meta.insert(MODSEQ_INDEX_BUILT, &[1u8])?;
        self.db.flush()?;
        if indexed > 0 {
            tracing::info!(messages = indexed, "modseq index built");
        }
        Ok(())
    }

    /// Writes the modseq index again from the message records (run quiesced);
    /// returns how many messages it indexes.
    pub(super) fn rebuild_modseq_index(&self) -> Result<usize> {
        self.trees.modseqs.clear()?;
        let mut indexed = 0;
        for entry in self.trees.messages.iter() {
            let (key, value) = entry?;
            let meta: MessageMeta = decode(&value, "message record")?;
            let mailbox = MailboxId(decode_u64(key.get(..8).unwrap_or_default(), "message key")?);
            self.trees
                .modseqs
                .insert(modseq_key(mailbox, meta.modseq), &meta.uid.get().to_be_bytes())?;
            indexed += 1;
        }
        Ok(indexed)
    }
}
