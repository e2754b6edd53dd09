//! NAMESPACE (RFC 2342): the personal namespace, no prefix, `/` as separator, and
//! the shared namespace `Shared/` where delegated agency mailboxes appear (see
//! `session::shared` for the choice of prefix). No other users' namespace: officials
//! never see each other's mailboxes.
//!
//! The shared namespace is announced to every session, with or without a grant, so a
//! client's folder tree does not change shape when a grant arrives (RFC 2342 §5: a
//! namespace may hold no mailbox the user can see).

use crate::session::{Reply, SHARED, Session};

impl Session {
    pub(crate) fn op_namespace(&mut self) -> Reply {
        let line = format!("* NAMESPACE ((\"\" \"/\")) NIL ((\"{SHARED}/\" \"/\"))\r\n");
        self.conn.output.extend_from_slice(line.as_bytes());
        Reply::ok("NAMESPACE completed")
    }
}
