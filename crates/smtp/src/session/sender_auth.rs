//! Sender authentication (SPF, DKIM, ARC, DMARC) at the end of DATA on the MX port,
//! with `congvu-mailauth`: the decision rules are documented in
//! `congvu_mailauth::verify`.
//!
//! Checked: mail on the MX listener from a peer outside `[inbound_auth]
//! trusted_networks`. Not checked: submission (our own officials, authenticated by
//! AUTH), trusted peers, and everything when `[inbound_auth] enabled = false`.
//!
//! Every message on the MX listener, trusted peers' included and with the check
//! disabled too (the authserv-id is then `SmtpContext::authserv_id`), loses any
//! `Authentication-Results:` claiming our authserv-id (RFC 8601 §5: only we speak in
//! our name, and a trusted relay may pass on an Internet sender's forgery); a checked
//! message gets ours just above `Received:` (below `Return-Path:`).
//! Replies: `550 5.7.1` for a forged local domain or a DMARC `p=reject` failure,
//! `451 4.4.3` when a DNS failure kept that decision from being made (RFC 7208 §8.6);
//! texts are Vietnamese, then English. DMARC `p=quarantine` is delivered to the
//! INBOX; the header (`dmarc=fail … policy.dmarc=quarantine`) is the tag that mail
//! clients' filters can act on.

use congvu_mailauth::{Decision, FromNote, Input, Outcome, defer_text, without_own_results};
use tracing::{debug, info};

use super::policy::with_headers;
use super::{Envelope, Session};
use crate::parse::ReversePath;
use crate::reply::Reply;
use crate::server::ListenerKind;

impl Session {
    /// `Ok`: the message to go on with (our header added when it was checked);
    /// `Err`: the reply refusing or deferring it.
    pub(super) async fn authenticate_sender(
        &self,
        envelope: &Envelope,
        message: Vec<u8>,
    ) -> Result<Vec<u8>, Reply> {
        if self.kind != ListenerKind::Mx || self.auth.is_some() {
            return Ok(message);
        }
        let Some(verifier) = self.ctx.inbound_auth.as_ref() else {
            return Ok(without_forgeries(envelope, message, &self.ctx.authserv_id));
        };
        let peer = self.peer.ip().to_canonical();
        if verifier.is_trusted(peer) {
            return Ok(without_forgeries(envelope, message, verifier.authserv_id()));
        }
        let mail_from = match &envelope.from {
            ReversePath::Null => String::new(),
            ReversePath::Mailbox(mailbox) => mailbox.to_string(),
        };
        let directory = &self.ctx.directory;
        let is_local_domain = |domain: &str| directory.is_local_domain(domain);
        let outcome = verifier
            .check(&Input {
                message: &message,
                peer,
                helo: self.helo.as_ref().map_or("", |g| g.name.as_str()),
                mail_from: &mail_from,
                is_local_domain: &is_local_domain,
            })
            .await;
        self.log_authentication(envelope, &outcome);
        match &outcome.decision {
            Decision::Refuse(refusal) => return Err(Reply::new(550, (5, 7, 1), refusal.text().to_string())),
            Decision::Defer => return Err(Reply::new(451, (4, 4, 3), defer_text().to_string())),
            Decision::Accept | Decision::Quarantine => {}
        }
        // Checked on the message as received; the forgeries go afterwards.
        let message = without_forgeries(envelope, message, verifier.authserv_id());
        Ok(with_headers(&message, outcome.header.as_bytes()))
    }

    /// One line per checked message: each method's result and the decision, never
    /// the body.
    fn log_authentication(&self, envelope: &Envelope, outcome: &Outcome) {
        let (verdict, reason) = match &outcome.decision {
            Decision::Accept => ("accepted", ""),
            Decision::Quarantine => ("quarantined", "dmarc_quarantine"),
            Decision::Refuse(refusal) => ("refused", refusal.as_str()),
            Decision::Defer => ("deferred", "dns_temporary"),
        };
        info!(
            session = %self.id,
            id = %envelope.id,
            peer = %self.peer.ip(),
            from = %envelope.from,
            header_from = outcome.from_domain,
            from_note = outcome.from_note.as_ref().map_or("", FromNote::as_str),
            spf = outcome.spf,
            dkim = outcome.dkim,
            arc = outcome.arc,
            dmarc = outcome.dmarc,
            dmarc_policy = outcome.dmarc_policy,
            verdict,
            reason,
            "sender authentication"
        );
    }
}

/// `message` without the `Authentication-Results:` fields claiming `authserv_id`.
fn without_forgeries(envelope: &Envelope, message: Vec<u8>, authserv_id: &str) -> Vec<u8> {
    match without_own_results(&message, authserv_id) {
        Some((kept, removed)) => {
            debug!(id = %envelope.id, removed, "removed Authentication-Results claiming our authserv-id");
            kept
        }
        None => message,
    }
}
