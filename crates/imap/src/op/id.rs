//! ID (RFC 2971): the client's name and version go to the debug log, congvu's go
//! back.

use tracing::debug;

use crate::session::{Reply, Session};

impl Session {
    pub(crate) fn op_id(&mut self, fields: &[(String, Option<String>)]) -> Reply {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_deref())
        };
        debug!(
            client_name = field("name"),
            client_version = field("version"),
            "client ID"
        );
        let line = format!(
            "* ID (\"name\" \"congvu\" \"version\" \"{}\")\r\n",
            env!("CARGO_PKG_VERSION")
        );
        self.conn.output.extend_from_slice(line.as_bytes());
        Reply::ok("ID completed")
    }
}
