//! Sender authentication (SPF, DKIM, ARC, DMARC) at the end of DATA on the MX port,
//! with `congvu-mailauth`: the decision rules are documented in
//! `congvu_mailauth::verify`.
//!
//! Checked: mail on the MX listener from a peer outside `[inbound_auth]
//! trusted_networks`. Not checked: submission (our own officials, authenticated by
//! AUTH), trusted peers, and everything when `[inbound_auth] enabled = false`.
//!
//! Every message, on every listener, from trusted peers too and with the check
//! disabled (the authserv-id is then `SmtpContext::authserv_id`), loses any
//! `Authentication-Results:` claiming our authserv-id (RFC 8601 §5: only we speak in
//! our name, a trusted relay may pass on an Internet sender's forgery, and an
//! official's client could forge an S/MIME result); a checked message gets ours
//! above `Received:` (below `Return-Path:`).
//! Replies: `550 5.7.1` for a forged local domain or a DMARC `p=reject` failure,
//! `451 4.4.3` when a DNS failure kept that decision from being made (RFC 7208 §8.6);
//! texts are Vietnamese, then English. DMARC `p=quarantine` is delivered to the
//! recipients' Junk mailbox, with the header (`dmarc=fail … policy.dmarc=quarantine`)
//! saying why.

use congvu_mailauth::{Decision, FromNote, Input, Outcome, defer_text, without_own_results};
use tracing::{debug, info};

use super::message::Message;
use super::{Envelope, Session};
use crate::parse::ReversePath;
use crate::reply::Reply;
use crate::server::ListenerKind;

impl Session {
    /// Removes forgeries in our name, then checks the sender (MX, untrusted peers):
    /// `Ok` adds our `Authentication-Results:` and, for DMARC `p=quarantine`, asks
    /// for the Junk folder; `Err` is the reply refusing or deferring the message.
    pub(super) async fn authenticate_sender(
        &self,
        envelope: &Envelope,
        message: &mut Message,
    ) -> Result<(), Reply> {
        let verifier = self.ctx.inbound_auth.as_ref();
        let authserv_id = verifier.map_or(self.ctx.authserv_id.as_str(), |v| v.authserv_id());
        let peer = self.peer.ip().to_canonical();
        let checked = self.kind == ListenerKind::Mx
            && self.auth.is_none()
            && verifier.is_some_and(|v| !v.is_trusted(peer));
        let outcome = match verifier.filter(|_| checked) {
            Some(verifier) => {
                let mail_from = match &envelope.from {
                    ReversePath::Null => String::new(),
                    ReversePath::Mailbox(mailbox) => mailbox.to_string(),
                };
                let directory = &self.ctx.directory;
                let is_local_domain = |domain: &str| directory.is_local_domain(domain);
                let body = message.body();
                let outcome = verifier
                    .check(&Input {
                        message: &body,
                        peer,
                        helo: self.helo.as_ref().map_or("", |g| g.name.as_str()),
                        mail_from: &mail_from,
                        is_local_domain: &is_local_domain,
                    })
                    .await;
                self.log_authentication(envelope, &outcome);
                match &outcome.decision {
                    Decision::Refuse(refusal) => {
                        return Err(Reply::new(550, (5, 7, 1), refusal.text().to_string()));
                    }
                    Decision::Defer => return Err(Reply::new(451, (4, 4, 3), defer_text().to_string())),
                    Decision::Accept | Decision::Quarantine => {}
                }
                Some(outcome)
            }
            None => None,
        };
        // Checked on the message as received; the forgeries go afterwards, on every
        // port: only we speak in our name, on MX as on submission (an official's
        // client could forge an S/MIME result too).
        if let Some((kept, removed)) = without_own_results(&message.body(), authserv_id) {
            debug!(id = %envelope.id, removed, "removed Authentication-Results claiming our authserv-id");
            message.transform(kept);
        }
        if let Some(outcome) = outcome {
            message.quarantine = outcome.decision == Decision::Quarantine;
            message.add_headers(outcome.header.as_bytes());
        }
        Ok(())
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
