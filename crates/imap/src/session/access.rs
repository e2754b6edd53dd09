//! Access events for the Art. 10 check report: every login, and every selection of
//! an agency account's INBOX, recorded durably with account, time, client address
//! and protocol before the command succeeds. An event that cannot be recorded fails
//! the command: an access the report cannot show must not happen.

use congvu_store::{AccessEvent, AccessKind, AccountId};
use tracing::error;

use crate::codec::response::Code;

use super::{Reply, Session};

impl Session {
    pub(crate) async fn record_access(
        &self,
        account: AccountId,
        login: &str,
        kind: AccessKind,
    ) -> Result<(), Reply> {
        let event = AccessEvent {
            account,
            login: login.to_owned(),
            kind,
            at: chrono::Utc::now().timestamp(),
            client: self.peer.ip().to_string(),
            protocol: self.kind.as_str().to_owned(),
            // Numbered sessions come with the check spans (issue 14).
            session: 0,
        };
        match self.blocking(move |store| store.record_access(&event)).await {
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
}
