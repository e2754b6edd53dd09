//! CLOSE (RFC 3501 §6.4.2): expunge silently (unless read-only), then leave the
//! mailbox. The state changes even when the expunge fails. Without the `e` right
//! (RFC 4314 §4) nothing is expunged and CLOSE still succeeds. Leaving an agency
//! INBOX ends its check span (`session::access`).

use congvu_directory::Rights;

use crate::session::{Reply, Session, store_failure};

impl Session {
    pub(crate) async fn op_close(&mut self) -> Reply {
        let Some(selected) = self.selected() else {
            return Reply::bad("No mailbox selected");
        };
        let (id, read_only) = (
            selected.id,
            selected.read_only || !selected.rights.contains(Rights::EXPUNGE),
        );
        self.leave_selected().await;
        if read_only {
            return Reply::ok("CLOSE completed");
        }
        match self.blocking(move |store| store.expunge(id, None)).await {
            Ok(_) => Reply::ok("CLOSE completed"),
            Err(err) => store_failure(&err),
        }
    }
}
