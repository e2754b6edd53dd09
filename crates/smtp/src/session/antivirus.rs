//! Virus scanning (Art. 17.6) at the end of DATA on every port, with ClamAV's daemon
//! through `congvu-antivirus`: the received message (clamd reads its MIME structure
//! itself), then each file the policy walk decoded that clamd would not find in it
//! (TNEF contents, uuencoded, BinHex and yEnc bodies).
//!
//! Replies: infected → `554 5.7.1` naming the signature, nothing stored; clamd
//! unreachable, too slow or answering an error → `451 4.7.1` with `[antivirus]
//! on_error = "tempfail"` (the default), or accepted and counted as unscanned with
//! `"accept"`. Texts are Vietnamese, then English. Runs last: it is the slowest
//! check, and mail another check refuses need not be scanned.

use congvu_antivirus::{Decision, Stream};
use congvu_policy::mime::ExtractedFile;
use tracing::{info, warn};

use super::message::Message;
use super::{Envelope, Session};
use crate::reply::Reply;

impl Session {
    /// `Err`: the reply refusing or deferring the message. Nothing to do when no
    /// clamd is configured.
    pub(super) async fn scan_for_malware(
        &self,
        envelope: &Envelope,
        message: &Message,
        extracted: &[ExtractedFile],
    ) -> Result<(), Reply> {
        let Some(scanner) = self.ctx.antivirus.as_ref() else {
            return Ok(());
        };
        let body = message.body();
        let whole: [&[u8]; 1] = [&body];
        let files: Vec<[&[u8]; 1]> = extracted.iter().map(|f| [f.data.as_slice()]).collect();
        let mut streams: Vec<Stream<'_>> = Vec::with_capacity(1 + files.len());
        streams.push(&whole);
        streams.extend(files.iter().map(|f| f.as_slice()));
        let decision = scanner.check(&streams).await;
        match &decision {
            Decision::Accept => {}
            Decision::Refuse { signature } => info!(
                session = %self.id,
                id = %envelope.id,
                signature = signature.as_str(),
                "malware found, message refused"
            ),
            Decision::Defer(error) => warn!(id = %envelope.id, %error, "virus scan failed, message deferred"),
            Decision::AcceptUnscanned(error) => {
                warn!(id = %envelope.id, %error, "virus scan failed, message accepted unscanned")
            }
        }
        match decision.reply() {
            None => Ok(()),
            Some(parts) => Err(Reply::new(parts.code, parts.enhanced, parts.text.reply_line())),
        }
    }
}
