//! The regulation (Decision 3380, Art. 6–9) applied at the end of DATA: the message
//! is evaluated by `congvu-policy` before anything is stored.
//!
//! Origin: mail on the submission ports is [`Origin::Submission`] (authenticated
//! officials); on MX it is [`Origin::AgencyRelay`] from the configured agency relay
//! networks and [`Origin::Internet`] otherwise. The evaluation parses up to
//! `max_message_bytes` of MIME, so it runs on the blocking pool, never on the runtime.
//!
//! A refusal is the verdict's own reply (550 5.7.1, 552 5.3.4, 550 5.6.0) with its
//! bilingual text. An accepted message gets `X-Congvu-Policy` (and
//! `X-Congvu-Converted` after a legacy-encoding conversion) just above `Received:`,
//! below a `Return-Path:` if there is one.

use std::sync::Arc;

use congvu_policy::{Evaluation, MessageInput, Origin, Verdict, evaluate};
use tracing::{error, info};

use super::{Envelope, Session};
use crate::reply::Reply;
use crate::server::ListenerKind;

impl Session {
    fn origin(&self) -> Origin {
        match self.kind {
            ListenerKind::Mx => self.ctx.policy.relay_origin(self.peer.ip()),
            ListenerKind::Submission | ListenerKind::Submissions => Origin::Submission,
        }
    }

    /// Evaluates the message (trace prefix included); `Ok` is the message to store,
    /// with the policy headers and any conversion applied, `Err` the reply refusing it.
    pub(super) async fn apply_policy(&self, envelope: &Envelope, message: Vec<u8>) -> Result<Vec<u8>, Reply> {
        let ctx = Arc::clone(&self.ctx);
        let origin = self.origin();
        let task = tokio::task::spawn_blocking(move || {
            let evaluation = evaluate(
                &MessageInput {
                    raw: &message,
                    origin,
                },
                &ctx.policy,
            );
            (message, evaluation)
        });
        let (message, evaluation) = match task.await {
            Ok(done) => done,
            Err(e) => {
                error!(id = %envelope.id, error = %e, "policy evaluation failed");
                return Err(Reply::LOCAL_ERROR);
            }
        };
        self.ctx.policy_metrics.record(&evaluation);
        self.log_verdict(envelope, &evaluation);
        let Evaluation {
            verdict, converted, ..
        } = &evaluation;
        if let Verdict::Refuse(finding) = verdict {
            let (code, enhanced, text) = finding.reply();
            return Err(Reply::new(code, enhanced, text));
        }
        let body = converted
            .as_ref()
            .map_or(message.as_slice(), |c| c.message.as_slice());
        Ok(with_headers(body, evaluation.headers().as_bytes()))
    }

    /// One line per verdict: reason code and Message-ID, never the body.
    fn log_verdict(&self, envelope: &Envelope, evaluation: &Evaluation) {
        let tags: Vec<&str> = evaluation.findings.iter().map(|f| f.reason.as_str()).collect();
        let tags = tags.join(",");
        let message_id = evaluation.message_id.as_deref().unwrap_or("");
        match &evaluation.verdict {
            // A refusal is the sender's mistake, not a server fault: info, not warn.
            Verdict::Refuse(finding) => info!(
                session = %self.id,
                id = %envelope.id,
                message_id,
                origin = evaluation.origin.as_str(),
                verdict = "refused",
                reason = finding.reason.as_str(),
                "policy verdict"
            ),
            Verdict::Accept => info!(
                session = %self.id,
                id = %envelope.id,
                message_id,
                origin = evaluation.origin.as_str(),
                verdict = "accepted",
                tags,
                converted = evaluation.converted.is_some(),
                "policy verdict"
            ),
        }
    }
}

/// Inserts `headers` after a leading `Return-Path:` line (which must stay first,
/// RFC 5321 §4.4), otherwise at the top.
pub(super) fn with_headers(message: &[u8], headers: &[u8]) -> Vec<u8> {
    let split = if message.starts_with(b"Return-Path:") {
        message.windows(2).position(|w| w == b"\r\n").map_or(0, |p| p + 2)
    } else {
        0
    };
    let (before, after) = message.split_at(split);
    let mut out = Vec::with_capacity(message.len() + headers.len());
    out.extend_from_slice(before);
    out.extend_from_slice(headers);
    out.extend_from_slice(after);
    out
}

#[cfg(test)]
mod tests {
    use super::with_headers;

    #[test]
    fn headers_go_below_return_path() {
        let cases: [(&[u8], &[u8]); 3] = [
            (
                b"Return-Path: <a@b>\r\nReceived: x\r\n\r\nbody",
                b"Return-Path: <a@b>\r\nX: 1\r\nReceived: x\r\n\r\nbody",
            ),
            (b"Received: x\r\n\r\nbody", b"X: 1\r\nReceived: x\r\n\r\nbody"),
            (b"", b"X: 1\r\n"),
        ];
        for (message, expected) in cases {
            assert_eq!(with_headers(message, b"X: 1\r\n"), expected);
        }
    }
}
