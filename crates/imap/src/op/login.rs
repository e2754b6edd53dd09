//! LOGIN (RFC 3501 §6.2.3), and the credential check shared with AUTHENTICATE.
//!
//! Passwords travel only under TLS: on the STARTTLS port before STARTTLS the answer
//! is `NO [PRIVACYREQUIRED]` (RFC 5530) and the capability list says LOGINDISABLED.
//! Failures are answered alike whatever the cause (unknown user, wrong password,
//! disabled account), get slower as they repeat, and end the connection at the
//! configured limit.
//!
//! A successful login is refused with `NO [LIMIT]` when the account already has
//! its configured number of sessions, and is recorded as an access event (Art. 10)
//! before it succeeds. The session keeps the directory's watch over the credentials
//! it logged in with: changing the password, or disabling or deleting the account,
//! ends it (`Session::recheck_access`).

use std::time::Duration;

use congvu_directory::{DirectoryError, Secret};
use congvu_store::AccessKind;
use tracing::{error, info};

use crate::codec::response::{Code, Status};
use crate::session::{OpResult, Reply, Session, State};

impl Session {
    pub(crate) async fn op_login(&mut self, username: String, password: Secret<String>) -> OpResult {
        if !self.privacy_ok() {
            return Ok(Reply::no(
                Some(Code::PrivacyRequired),
                "Use STARTTLS before LOGIN",
            ));
        }
        self.check_credentials(username, password).await
    }

    /// Checks a login and password against the directory (Argon2: on the password
    /// check threads, see `limits::PasswordPool`) and moves to the Authenticated
    /// state on success.
    pub(crate) async fn check_credentials(&mut self, login: String, password: Secret<String>) -> OpResult {
        let directory = self.ctx.directory.clone();
        let checked_login = login.clone();
        let client = self.peer.ip();
        let span = tracing::Span::current();
        let result = self
            .ctx
            .connections
            .password_checks
            .run(move || span.in_scope(|| directory.authenticate_watched(client, &checked_login, &password)))
            .await;
        match result {
            Some(Ok(Some((record, credentials)))) => {
                let limit = self.ctx.config.max_connections_per_user;
                let Some(slot) = self.ctx.connections.per_user.acquire(record.account, limit) else {
                    info!(user = %record.address, limit, "per-user connection limit reached");
                    // RFC 5530 LIMIT; the connection stays, not authenticated.
                    return Ok(Reply::no(
                        Some(Code::Limit),
                        "Too many connections for this account",
                    ));
                };
                if let Err(reply) = self
                    .record_access(record.account, &record.address, AccessKind::Login)
                    .await
                {
                    return Ok(reply);
                }
                self.user_slot = Some(slot);
                self.credentials = Some(credentials);
                tracing::Span::current().record("user", record.address.as_str());
                info!(user = %record.address, "authenticated");
                self.login = Some(record.address.clone());
                self.state = State::Authenticated(record);
                Ok(Reply::ok_code(Code::Capability(self.capabilities()), "Logged in"))
            }
            Some(Ok(None)) => Ok(self.authentication_failed(&login).await),
            // Failures from this address across connections (the directory counts
            // them); RFC 5530 UNAVAILABLE: try again later, nothing was checked.
            Some(Err(DirectoryError::Throttled { .. })) => Ok(Reply::no(
                Some(Code::Unavailable),
                "Too many failed logins from your address, try again later",
            )),
            Some(Err(err)) => {
                error!(error = %err, "directory failure during authentication");
                Ok(Reply::no(
                    Some(Code::Unavailable),
                    "Authentication is temporarily unavailable",
                ))
            }
            None => {
                error!("password check pool is gone");
                Ok(Reply::no(
                    Some(Code::Unavailable),
                    "Authentication is temporarily unavailable",
                ))
            }
        }
    }

    /// Counts a failure; from the second on, waits 1, 2, 4, 8 s before answering.
    pub(crate) async fn authentication_failed(&mut self, login: &str) -> Reply {
        self.auth_failures += 1;
        info!(login, failures = self.auth_failures, "authentication failed");
        if self.auth_failures > 1 {
            let delay = 1u64 << (self.auth_failures - 2).min(3);
            tokio::time::sleep(Duration::from_secs(delay)).await;
        }
        if self.auth_failures >= self.ctx.config.auth_failure_limit {
            self.untagged(Status::Bye, None, "Too many authentication failures");
            self.closing = Some("too many authentication failures");
        }
        Reply::no(Some(Code::AuthenticationFailed), "Authentication failed")
    }
}
