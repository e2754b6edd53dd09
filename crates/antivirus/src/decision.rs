//! What happens to a scanned message, and the SMTP replies it leads to (Vietnamese
//! first, then English).
//!
//! - infected: `554 5.7.1` with the signature name (RFC 3463 §3.8: X.7.1 delivery not
//!   authorized, message refused); nothing is stored;
//! - not scanned, `on_error = "tempfail"`: `451 4.7.1`, the sender retries later
//!   (RFC 5321 §4.2.5);
//! - not scanned, `on_error = "accept"`: accepted, counted as skipped.

use congvu_policy::Bilingual;

use crate::config::OnError;
use crate::reply::SignatureName;
use crate::scanner::{Error, ScanVerdict};

/// The action for a scanned message; the errors are there to be logged.
#[derive(Debug)]
pub enum Decision {
    Accept,
    /// The scan failed and `on_error = "accept"`.
    AcceptUnscanned(Error),
    Refuse {
        signature: SignatureName,
    },
    /// The scan failed and `on_error = "tempfail"`.
    Defer(Error),
}

/// The parts of the SMTP reply for a message not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyParts {
    pub code: u16,
    /// `class.subject.detail` (RFC 3463).
    pub enhanced: (u8, u16, u16),
    pub text: Bilingual,
}

impl OnError {
    pub fn decide(self, verdict: ScanVerdict) -> Decision {
        match (verdict, self) {
            (ScanVerdict::Clean, _) => Decision::Accept,
            (ScanVerdict::Infected { signature }, _) => Decision::Refuse { signature },
            (ScanVerdict::Failed(error), OnError::Tempfail) => Decision::Defer(error),
            (ScanVerdict::Failed(error), OnError::Accept) => Decision::AcceptUnscanned(error),
        }
    }
}

impl Decision {
    /// The reply refusing or deferring the message; `None` when it is accepted.
    pub fn reply(&self) -> Option<ReplyParts> {
        match self {
            Decision::Accept | Decision::AcceptUnscanned(_) => None,
            Decision::Refuse { signature } => Some(ReplyParts {
                code: 554,
                enhanced: (5, 7, 1),
                text: infected_text(signature),
            }),
            Decision::Defer(_) => Some(ReplyParts {
                code: 451,
                enhanced: (4, 7, 1),
                text: defer_text(),
            }),
        }
    }
}

/// The text of `554 5.7.1` for an infected message.
pub fn infected_text(signature: &SignatureName) -> Bilingual {
    Bilingual::new(
        format!("Thư chứa mã độc ({signature}); thư không được nhận"),
        format!("The message contains malware ({signature}) and was not accepted"),
    )
}

/// The text of `451 4.7.1` when the message could not be scanned.
pub fn defer_text() -> Bilingual {
    Bilingual::new(
        "Tạm thời không quét được mã độc trong thư, vui lòng gửi lại sau",
        "virus scanning temporarily failed, try again later",
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::reply::{ScanReply, parse_scan_reply};

    fn eicar_name() -> SignatureName {
        match parse_scan_reply(b"stream: Eicar-Test-Signature FOUND\0") {
            Ok(ScanReply::Infected(signature)) => signature,
            other => panic!("{other:?}"),
        }
    }

    fn failed() -> ScanVerdict {
        ScanVerdict::Failed(Error::Timeout(Duration::from_secs(30)))
    }

    #[test]
    fn on_error_decides_only_failures() {
        for on_error in [OnError::Tempfail, OnError::Accept] {
            assert!(matches!(on_error.decide(ScanVerdict::Clean), Decision::Accept));
            let infected = ScanVerdict::Infected {
                signature: eicar_name(),
            };
            assert!(matches!(on_error.decide(infected), Decision::Refuse { .. }));
        }
        assert!(matches!(OnError::Tempfail.decide(failed()), Decision::Defer(_)));
        assert!(matches!(
            OnError::Accept.decide(failed()),
            Decision::AcceptUnscanned(_)
        ));
    }

    #[test]
    fn replies() {
        let refused = Decision::Refuse {
            signature: eicar_name(),
        }
        .reply()
        .unwrap();
        assert_eq!((refused.code, refused.enhanced), (554, (5, 7, 1)));
        assert_eq!(
            refused.text.to_string(),
            "Thư chứa mã độc (Eicar-Test-Signature); thư không được nhận / \
             The message contains malware (Eicar-Test-Signature) and was not accepted"
        );
        let deferred = OnError::Tempfail.decide(failed()).reply().unwrap();
        assert_eq!((deferred.code, deferred.enhanced), (451, (4, 7, 1)));
        assert!(deferred.text.vi.starts_with("Tạm thời"));
        assert!(deferred.text.en.ends_with("try again later"));
        assert_eq!(OnError::Accept.decide(failed()).reply(), None);
        assert_eq!(Decision::Accept.reply(), None);
    }
}
