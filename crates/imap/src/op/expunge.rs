//! EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1). The untagged EXPUNGE
//! responses come from the sync that follows every command. RFC 4314 §4: needs `e`.

use congvu_directory::Rights;

use crate::codec::response::Code;
use crate::codec::sequence::SequenceSet;
use crate::session::{Reply, Session, store_failure};

impl Session {
    pub(crate) async fn op_expunge(&mut self, uids: Option<SequenceSet>) -> Reply {
        let Some(selected) = self.selected() else {
            return Reply::bad("No mailbox selected");
        };
        if selected.read_only {
            return Reply::no(Some(Code::Cannot), "Mailbox is read-only");
        }
        if !selected.rights.contains(Rights::EXPUNGE) {
            return Reply::no(Some(Code::NoPerm), "Expunging this mailbox is not permitted");
        }
        let id = selected.id;
        // UID sets never fail to resolve: unknown UIDs are just not matched.
        let only = uids.map(|set| selected.uids(&selected.resolve(&set, true).unwrap_or_default()));
        if only.as_ref().is_some_and(Vec::is_empty) {
            return Reply::ok("UID EXPUNGE completed");
        }
        match self
            .blocking(move |store| store.expunge(id, only.as_deref()))
            .await
        {
            Ok(_) => Reply::ok("EXPUNGE completed"),
            Err(err) => store_failure(&err),
        }
    }
}
