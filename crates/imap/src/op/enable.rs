//! ENABLE (RFC 5161). CONDSTORE and QRESYNC (RFC 7162 §3.2.3: QRESYNC implies
//! CONDSTORE) can be enabled; the ENABLED response lists only what this command
//! newly turned on (RFC 5161 §3.2), and unknown names are ignored.

use crate::session::{Reply, Session};

impl Session {
    pub(crate) fn op_enable(&mut self, names: &[String]) -> Reply {
        let mut newly = Vec::new();
        for name in names {
            if name.eq_ignore_ascii_case("CONDSTORE") {
                if !self.enabled.condstore {
                    self.enabled.condstore = true;
                    newly.push("CONDSTORE");
                }
            } else if name.eq_ignore_ascii_case("QRESYNC") && !self.enabled.qresync {
                self.enabled.qresync = true;
                // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE; it need not be listed.
                self.enabled.condstore = true;
                newly.push("QRESYNC");
            }
        }
        let mut line = String::from("* ENABLED");
        for name in newly {
            line.push(' ');
            line.push_str(name);
        }
        line.push_str("\r\n");
        self.conn.output.extend_from_slice(line.as_bytes());
        Reply::ok("ENABLE completed")
    }
}
