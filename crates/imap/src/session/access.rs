//! Access events for the Art. 10 check report: every login, and every selection of
//! an agency account's INBOX and the leaving of it, recorded durably with account,
//! time, client address, protocol and session.
//!
//! - A login and a selection are recorded before the command succeeds; one that
//!   cannot be recorded fails the command: an access the report cannot show must
//!   not happen. A login is also a mail event (`MailEventKind::Login`: the account
//!   is active in the usage report, Art. 15.4).
//! - A selection and its leaving bound a **check span** (the store pairs them by
//!   session): the leaving is recorded when the session selects or examines
//!   another mailbox (or fails to open the one it asked for), CLOSEs, UNSELECTs,
//!   or ends — LOGOUT, the client gone, autologout, shutdown, revoked access. IDLE
//!   stays in the selected state, so its span runs on. A leaving that cannot be
//!   recorded never fails the client's command: it is logged, and the store ends
//!   the span at its limit (`congvu_store::OPEN_SPAN_LIMIT`).
//! - A clerk's selection of `Shared/<agency>/INBOX` is recorded on the agency's
//!   account with the clerk's login: it counts for the agency.

use congvu_listener::SessionId;
use congvu_store::{AccessEvent, AccessKind, AccountId, EventRecord, MailEventKind};
use tracing::error;

use crate::codec::response::Code;

use super::{Reply, Session};

/// The agency INBOX a session has selected: whose, and by which login.
pub(crate) struct AgencyInbox {
    account: AccountId,
    login: String,
}

/// The number of a session in the access log: the listener's session id (random
/// per connection, 48 bits), so that the sessions of a server run that stopped
/// never pair with those of the next one, and the number is the `session` of the
/// session's log lines. 0 is kept for events recorded before sessions were
/// numbered.
pub(crate) fn access_session(id: SessionId) -> u64 {
    id.get().max(1)
}

impl Session {
    /// Records a login (also as a mail event) or a selection; `Err` with the
    /// command's reply when it could not be recorded.
    pub(crate) async fn record_access(
        &self,
        account: AccountId,
        login: &str,
        kind: AccessKind,
    ) -> Result<(), Reply> {
        let event = self.access_event(account, login, kind);
        let recorded = self
            .blocking(move |store| {
                if kind == AccessKind::Login {
                    let login = EventRecord {
                        at: event.at,
                        account,
                        kind: MailEventKind::Login,
                    };
                    store.record_login(&event, &login)
                } else {
                    store.record_access(&event)
                }
            })
            .await;
        match recorded {
            Ok(()) => Ok(()),
            Err(err) => {
                error!(error = %err, "access event not recorded");
                Err(Reply::no(
                    Some(Code::Unavailable),
                    "Temporarily unavailable; try again later",
                ))
            }
        }
    }

    /// Records the selection of an agency's INBOX (failing the command when it
    /// cannot) and remembers it for the leaving.
    pub(crate) async fn record_agency_inbox_selected(
        &mut self,
        account: AccountId,
        login: &str,
    ) -> Result<(), Reply> {
        self.record_access(account, login, AccessKind::AgencyInboxSelected)
            .await?;
        self.agency_inbox = Some(AgencyInbox {
            account,
            login: login.to_owned(),
        });
        Ok(())
    }

    /// Ends the check span of the agency INBOX this session had selected, if any.
    /// Never fails: an error is logged and the span ends at the store's limit.
    pub(crate) async fn leave_agency_inbox(&mut self) {
        let Some(AgencyInbox { account, login }) = self.agency_inbox.take() else {
            return;
        };
        let event = self.access_event(account, &login, AccessKind::AgencyInboxLeft);
        if let Err(err) = self.blocking(move |store| store.record_access(&event)).await {
            error!(error = %err, account = account.0, "leaving the agency INBOX not recorded; its check span ends at the limit");
        }
    }

    fn access_event(&self, account: AccountId, login: &str, kind: AccessKind) -> AccessEvent {
        AccessEvent {
            account,
            login: login.to_owned(),
            kind,
            at: chrono::Utc::now().timestamp(),
            client: self.peer.ip().to_string(),
            protocol: self.kind.as_str().to_owned(),
            session: self.access_session,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_numbers_are_the_log_lines_ids_and_never_zero() {
        for _ in 0..1000 {
            let id = SessionId::random();
            let number = access_session(id);
            assert!(number > 0);
            assert_eq!(format!("{number:012x}"), id.to_string());
        }
    }
}
