//! S/MIME signatures (Art. 11.3) verified at the end of DATA on every port, with
//! `congvu-smime`: the result is recorded in the stored message as an RFC 7281
//! `Authentication-Results:` field in our name (`smime=pass|fail|neutral|permerror`
//! and the signer), which the recipient's client and the webmail can show.
//!
//! Decisions:
//! - The result never refuses a message: a broken signature is the reader's warning,
//!   not a reason to lose official mail (the policy and the antivirus decide what is
//!   refused). Unsigned mail gets no field (`smime=none` on every message would be
//!   noise).
//! - The signed bytes are never touched: the field goes above `Received:`, outside
//!   the signed MIME entity, so a signature that verified here still verifies for
//!   the recipient (any forged field in our name was removed before, by
//!   `sender_auth.rs`).

use std::time::SystemTime;

use congvu_smime::SmimeResult;
use tracing::{error, info};

use super::message::Message;
use super::{Envelope, Session};

impl Session {
    /// Adds the S/MIME result of a signed message; nothing for an unsigned one or
    /// when verification is not configured.
    pub(super) async fn verify_smime(&self, envelope: &Envelope, message: &mut Message) {
        let Some(verifier) = self.ctx.smime.clone() else {
            return;
        };
        let body = message.body();
        let task = tokio::task::spawn_blocking(move || verifier.verify(&body, SystemTime::now()));
        let outcome = match task.await {
            Ok(outcome) => outcome,
            Err(e) => {
                error!(id = %envelope.id, error = %e, "S/MIME verification failed to run");
                return;
            }
        };
        if outcome.result == SmimeResult::None {
            return;
        }
        info!(
            session = %self.id,
            id = %envelope.id,
            smime = outcome.result.as_str(),
            reason = outcome.reason.as_str(),
            signer = outcome.signer.as_deref().unwrap_or(""),
            "s/mime signature"
        );
        let authserv_id = self
            .ctx
            .inbound_auth
            .as_ref()
            .map_or(self.ctx.authserv_id.as_str(), |v| v.authserv_id());
        message.add_headers(outcome.header(authserv_id).as_bytes());
    }
}
