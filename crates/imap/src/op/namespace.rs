//! NAMESPACE (RFC 2342): one personal namespace, no prefix, `/` as separator.
//! (Shared namespaces arrive with delegation.)

use crate::session::{Reply, Session};

impl Session {
    pub(crate) fn op_namespace(&mut self) -> Reply {
        self.conn
            .output
            .extend_from_slice(b"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
        Reply::ok("NAMESPACE completed")
    }
}
