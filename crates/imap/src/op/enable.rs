//! ENABLE (RFC 5161). CONDSTORE, QRESYNC (RFC 7162 §3.2.3: QRESYNC implies
//! CONDSTORE), UTF8=ACCEPT (RFC 6855 §3) and IMAP4rev2 (RFC 9051 §6.3.1) can be
//! enabled; the ENABLED response
//! lists only what this command newly turned on (RFC 5161 §3.2), and unknown names
//! are ignored.

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
            } else if name.eq_ignore_ascii_case("QRESYNC") {
                if !self.enabled.qresync {
                    self.enabled.qresync = true;
                    // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE; it need not be listed.
                    self.enabled.condstore = true;
                    newly.push("QRESYNC");
                }
            } else if name.eq_ignore_ascii_case("UTF8=ACCEPT") {
                if !self.enabled.utf8 {
                    // RFC 6855 §3: from now on mailbox names are UTF-8 both ways.
                    self.enabled.utf8 = true;
                    newly.push("UTF8=ACCEPT");
                }
            } else if name.eq_ignore_ascii_case("IMAP4rev2") && !self.enabled.rev2 {
                // RFC 9051 Appendix E; its mailbox names are UTF-8 (RFC 9051 §5.1).
                self.enabled.rev2 = true;
                self.enabled.utf8 = true;
                newly.push("IMAP4rev2");
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
