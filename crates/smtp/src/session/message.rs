//! The message of one transaction as it will be stored: the bytes received (line
//! endings made canonical at the door, `parse::CanonicalSink`) and the header lines
//! the checks add above them.
//!
//! Every check at the end of DATA/BDAT — sender authentication, the originator
//! rule, the policy, S/MIME, the antivirus — is a function of (envelope, body) that
//! returns a verdict and the header lines it adds; none of them copies or rewrites
//! the body. The store then writes `Return-Path ‖ added ‖ Received ‖ body` as one
//! blob from those parts (`congvu_store::Delivery::bytes`), without joining them.
//!
//! Invariants:
//! 1. The body is shared (`Arc`), never copied, between the checks that run on the
//!    blocking pool.
//! 2. The body is replaced only by an announced transformation: the removal of
//!    `Authentication-Results:` forged in our name (RFC 8601 §5) and the regulation's
//!    legacy-encoding conversion (`X-Congvu-Converted:`). Both are counted in
//!    [`Message::copies`] for the log and the benchmark.
//! 3. Added header lines are CRLF-terminated, newest first (RFC 5321 §4.4 trace order).

use std::sync::Arc;

#[derive(Debug)]
pub(super) struct Message {
    body: Arc<Vec<u8>>,
    added: Vec<u8>,
    /// File into the recipients' Junk mailbox (DMARC `p=quarantine`).
    pub(super) quarantine: bool,
    /// Bodies made by a transformation (invariant 2).
    copies: u32,
}

impl Message {
    pub(super) fn new(body: Vec<u8>) -> Message {
        Message {
            body: Arc::new(body),
            added: Vec::new(),
            quarantine: false,
            copies: 0,
        }
    }

    /// The received bytes, to hand to a check on the blocking pool.
    pub(super) fn body(&self) -> Arc<Vec<u8>> {
        Arc::clone(&self.body)
    }

    /// Adds a check's header lines above the ones added so far.
    pub(super) fn add_headers(&mut self, lines: &[u8]) {
        self.added.splice(0..0, lines.iter().copied());
    }

    /// Replaces the body by an announced transformation of it (invariant 2).
    pub(super) fn transform(&mut self, body: Vec<u8>) {
        self.body = Arc::new(body);
        self.copies += 1;
    }

    pub(super) fn added(&self) -> &[u8] {
        &self.added
    }

    pub(super) fn copies(&self) -> u32 {
        self.copies
    }
}

#[cfg(test)]
mod tests {
    use super::Message;

    #[test]
    fn newest_headers_come_first_and_the_body_is_shared() {
        let mut message = Message::new(b"Subject: x\r\n\r\nbody\r\n".to_vec());
        let before = message.body();
        message.add_headers(b"A: 1\r\n");
        message.add_headers(b"B: 2\r\nC: 3\r\n");
        assert_eq!(message.added(), b"B: 2\r\nC: 3\r\nA: 1\r\n");
        assert!(std::sync::Arc::ptr_eq(&before, &message.body()));
        assert_eq!(message.copies(), 0);
        message.transform(b"Subject: y\r\n\r\n".to_vec());
        assert_eq!(message.copies(), 1);
        assert_eq!(message.body().as_slice(), b"Subject: y\r\n\r\n");
    }
}
