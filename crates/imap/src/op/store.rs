//! STORE and UID STORE (RFC 3501 §6.4.6). Without .SILENT every message named gets
//! an untagged FETCH with its flags after the change (UID included, as UID STORE
//! requires and plain STORE allows).

use congvu_store::{FlagOp, FlagStore};

use crate::codec::FlagSet;
use crate::codec::response::Code;
use crate::codec::sequence::SequenceSet;
use crate::session::{Reply, Session, State, store_failure};

impl Session {
    pub(crate) async fn op_store(
        &mut self,
        uid: bool,
        set: SequenceSet,
        op: FlagOp,
        silent: bool,
        flags: FlagSet,
    ) -> Reply {
        let Some(selected) = self.selected() else {
            return Reply::bad("No mailbox selected");
        };
        if selected.read_only {
            return Reply::no(Some(Code::Cannot), "Mailbox is read-only");
        }
        let Ok(indices) = selected.resolve(&set, uid) else {
            return Reply::bad("Invalid message sequence number");
        };
        let (id, uids) = (selected.id, selected.uids(&indices));
        let outcome = self
            .blocking(move |store| {
                store.store_flags(
                    id,
                    &FlagStore {
                        uids: &uids,
                        op,
                        flags: flags.system,
                        keywords: &flags.keywords,
                        unchanged_since: None,
                    },
                )
            })
            .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(err) => return store_failure(&err),
        };
        if let State::Selected(_, selected) = &mut self.state {
            selected.apply_changes(&outcome.changed, &mut self.conn.output);
            if !silent {
                for index in indices {
                    selected.write_flags_fetch(index, &mut self.conn.output);
                }
            }
        }
        Reply::ok("STORE completed")
    }
}
