//! CAPABILITY (RFC 3501 §6.1.1).

use crate::session::{Reply, Session};

impl Session {
    pub(crate) fn op_capability(&mut self) -> Reply {
        let line = format!("* CAPABILITY {}\r\n", self.capabilities());
        self.conn.output.extend_from_slice(line.as_bytes());
        Reply::ok("CAPABILITY completed")
    }
}
