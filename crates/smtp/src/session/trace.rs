//! Trace header fields (RFC 5321 §4.4) prepended to every accepted message. The body
//! itself is never touched.

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Local};

use super::{Envelope, Session};
use crate::parse::ReversePath;

/// `Return-Path:` is added by the final delivery only (RFC 5321 §4.4), so it goes
/// on local copies, not on queued ones.
pub(super) fn return_path(from: &ReversePath) -> Vec<u8> {
    format!("Return-Path: {from}\r\n").into_bytes()
}

impl Session {
    /// `Received: from <helo> ([ip]) (using …) by <host> (congvu) with <proto> id
    /// <id> [for <rcpt>]; <date>`. The client's name is the HELO argument (validated
    /// at parse time, so it cannot break the header); reverse DNS is not looked up.
    /// `for` names the recipient only when there is one: with several it would
    /// disclose Bcc recipients to each other.
    pub(super) fn received(&self, envelope: &Envelope, now: &DateTime<Local>) -> Vec<u8> {
        let helo = self.helo.as_ref().map_or("unknown", |g| g.name.as_str());
        let mut header = format!("Received: from {helo} ({})\r\n", address_literal(self.peer));
        if let Some(tls) = self.tls {
            header += &format!("\t(using {} with cipher {})\r\n", tls.version, tls.cipher);
        }
        header += &format!(
            "\tby {} (congvu) with {} id {}",
            self.ctx.config.hostname,
            self.protocol(envelope),
            envelope.id
        );
        let single = match (envelope.local.as_slice(), envelope.remote.as_slice()) {
            ([only], []) => Some(only.address.as_str()),
            ([], [only]) => Some(only.as_str()),
            _ => None,
        };
        if let Some(recipient) = single {
            header += &format!("\r\n\tfor <{recipient}>");
        }
        header += &format!(";\r\n\t{}\r\n", now.to_rfc2822());
        header.into_bytes()
    }

    /// The `with` keyword: RFC 3848 (ESMTP, ESMTPS, ESMTPA, ESMTPSA) and RFC 6531
    /// §3.7.3 (UTF8SMTP…) for SMTPUTF8 transactions; plain `SMTP` after HELO.
    fn protocol(&self, envelope: &Envelope) -> String {
        if !self.helo.as_ref().is_some_and(|g| g.extended) {
            return "SMTP".to_owned();
        }
        let base = if envelope.params.smtputf8 {
            "UTF8SMTP"
        } else {
            "ESMTP"
        };
        let tls = if self.tls.is_some() { "S" } else { "" };
        let auth = if self.auth.is_some() { "A" } else { "" };
        format!("{base}{tls}{auth}")
    }
}

/// RFC 5321 §4.1.3 address literal of the peer.
fn address_literal(peer: SocketAddr) -> String {
    match peer.ip().to_canonical() {
        IpAddr::V4(ip) => format!("[{ip}]"),
        IpAddr::V6(ip) => format!("[IPv6:{ip}]"),
    }
}
