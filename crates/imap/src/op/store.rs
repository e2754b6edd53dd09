//! STORE and UID STORE (RFC 3501 §6.4.6). Without .SILENT every message named gets
//! an untagged FETCH with its flags after the change (UID included, as UID STORE
//! requires and plain STORE allows).
//!
//! `(UNCHANGEDSINCE n)` (RFC 7162 §3.1.3) enables CONDSTORE: messages changed after
//! `n` are left alone and listed in `OK [MODIFIED set]` (UIDs for UID STORE,
//! sequence numbers otherwise). With CONDSTORE on, a changed message gets its FETCH
//! (with MODSEQ) even under .SILENT, so the client learns the new modseq.
//!
//! RFC 4314 §4: `\Seen` needs `s`, `\Deleted` needs `t`, other flags `w`. A
//! `+FLAGS`/`-FLAGS` naming some flags the rights allow drops the others silently
//! (§4: a tagged NO to STORE is handled badly by deployed clients); one allowing none
//! is `NO [NOPERM]`. `FLAGS` replaces every flag, so it needs all three rights.

use congvu_directory::Rights;
use congvu_store::{FlagOp, FlagStore, Flags};

use crate::codec::FlagSet;
use crate::codec::response::Code;
use crate::codec::sequence::{Ranges, SequenceSet};
use crate::session::{Reply, Session, State, store_failure};

use super::append::permitted_flags;

/// What the client asked STORE to do.
pub(crate) struct StoreRequest {
    pub uid: bool,
    pub set: SequenceSet,
    pub op: FlagOp,
    pub silent: bool,
    pub flags: FlagSet,
    pub unchanged_since: Option<u64>,
}

impl Session {
    pub(crate) async fn op_store(&mut self, request: StoreRequest) -> Reply {
        let StoreRequest {
            uid,
            set,
            op,
            silent,
            flags,
            unchanged_since,
        } = request;
        if unchanged_since.is_some() {
            self.enabled.condstore = true;
        }
        let condstore = self.enabled.condstore;
        let Some(selected) = self.selected() else {
            return Reply::bad("No mailbox selected");
        };
        if selected.read_only {
            return Reply::no(Some(Code::Cannot), "Mailbox is read-only");
        }
        let all_flags = Rights::SEEN.union(Rights::WRITE).union(Rights::DELETE_MESSAGES);
        if op == FlagOp::Replace && !selected.rights.contains(all_flags) {
            return Reply::no(
                Some(Code::NoPerm),
                "FLAGS replaces every flag, which these rights do not allow; use +FLAGS or -FLAGS",
            );
        }
        let asked = flags.system != Flags::empty() || !flags.keywords.is_empty();
        let flags = permitted_flags(flags, selected.rights);
        if asked && flags.system == Flags::empty() && flags.keywords.is_empty() {
            return Reply::no(Some(Code::NoPerm), "Changing these flags is not permitted");
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
                        unchanged_since,
                    },
                )
            })
            .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(err) => return store_failure(&err),
        };
        let State::Selected(_, selected) = &mut self.state else {
            return Reply::ok("STORE completed");
        };
        selected.apply_changes(&outcome.changed, &mut self.conn.output);
        let mut modified = Vec::new();
        for index in indices {
            let Some(entry) = selected.messages.get(index) else {
                continue;
            };
            let uid_of = entry.meta.uid;
            if outcome.failed.binary_search(&uid_of).is_ok() {
                modified.push(if uid { uid_of.get() } else { index as u32 + 1 });
                continue;
            }
            let changed = outcome.changed.binary_search_by_key(&uid_of, |m| m.uid).is_ok();
            if !silent || (condstore && changed) {
                selected.write_flags_fetch(index, condstore, &mut self.conn.output);
            }
        }
        if modified.is_empty() {
            return Reply::ok("STORE completed");
        }
        modified.sort_unstable();
        Reply::ok_code(
            Code::Modified(Ranges::from_sorted(modified).to_string()),
            "Conditional STORE failed",
        )
    }
}
