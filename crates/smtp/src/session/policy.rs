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
//! `X-Congvu-Converted` after a legacy-encoding conversion) above `Received:`,
//! below a `Return-Path:` if there is one.

use std::sync::Arc;

use congvu_policy::mime::ExtractedFile;
use congvu_policy::{Evaluation, MessageInput, Origin, Verdict, evaluate};
use tracing::{error, info};

use super::message::Message;
use super::{Envelope, Session};
use crate::reply::Reply;
use crate::server::ListenerKind;

impl Session {
    pub(super) fn origin(&self) -> Origin {
        match self.kind {
            ListenerKind::Mx => self.ctx.policy.relay_origin(self.peer.ip()),
            ListenerKind::Submission | ListenerKind::Submissions => Origin::Submission,
        }
    }

    /// Evaluates the received message; `Ok` adds the policy's header lines (and
    /// applies an announced legacy-encoding conversion) and gives the files the walk
    /// decoded for the antivirus, `Err` is the reply refusing it with the verdict's
    /// reason code (none when the evaluation itself failed).
    pub(super) async fn apply_policy(
        &self,
        envelope: &Envelope,
        message: &mut Message,
    ) -> Result<Vec<ExtractedFile>, (Reply, Option<&'static str>)> {
        let ctx = Arc::clone(&self.ctx);
        let origin = self.origin();
        let body = message.body();
        let task =
            tokio::task::spawn_blocking(move || evaluate(&MessageInput { raw: &body, origin }, &ctx.policy));
        let evaluation = match task.await {
            Ok(evaluation) => evaluation,
            Err(e) => {
                error!(id = %envelope.id, error = %e, "policy evaluation failed");
                return Err((Reply::LOCAL_ERROR, None));
            }
        };
        self.ctx.policy_metrics.record(&evaluation);
        self.log_verdict(envelope, &evaluation);
        if let Verdict::Refuse(finding) = &evaluation.verdict {
            let (code, enhanced, text) = finding.reply();
            return Err((Reply::new(code, enhanced, text), Some(finding.reason.as_str())));
        }
        message.add_headers(evaluation.headers().as_bytes());
        if let Some(converted) = evaluation.converted {
            message.transform(converted.message);
        }
        Ok(evaluation.extracted)
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
