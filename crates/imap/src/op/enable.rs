//! ENABLE (RFC 5161). No extension that needs enabling is implemented yet
//! (CONDSTORE, QRESYNC and UTF8=ACCEPT come later), so none is ever enabled: the
//! ENABLED response lists nothing, which RFC 5161 §3.2 allows.

use crate::session::{Reply, Session};

impl Session {
    pub(crate) fn op_enable(&mut self) -> Reply {
        self.conn.output.extend_from_slice(b"* ENABLED\r\n");
        Reply::ok("ENABLE completed")
    }
}
