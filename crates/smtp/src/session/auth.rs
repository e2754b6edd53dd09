//! AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN (what Outlook uses), offered on
//! the submission listeners only and only over TLS.
//!
//! Failed attempts are slowed down and limited per connection: after
//! [`FREE_FAILURES`] each further failure waits a little longer before its 535, and
//! the `max_auth_failures`th closes the connection. Across connections the directory
//! counts failures per client address (`Directory::authenticate_from`); a throttled
//! client gets `421 4.7.0` without its password being checked.

use std::sync::Arc;
use std::time::Duration;

use congvu_directory::{DirectoryError, Secret};
use tracing::{debug, error, info};

use super::{Action, Session, State};
use crate::parse::Mechanism;
use crate::parse::sasl::{self, Credentials, CredentialsError, SaslResponse};
use crate::reply::Reply;

const FREE_FAILURES: u32 = 3;
const MAX_FAILURE_DELAY: Duration = Duration::from_secs(5);

/// The challenge just sent; the next line answers it.
#[derive(Debug)]
pub(crate) enum SaslStep {
    /// `334 ` sent: waiting for the PLAIN message.
    PlainMessage,
    /// `334 VXNlcm5hbWU6` ("Username:") sent.
    LoginUser,
    /// `334 UGFzc3dvcmQ6` ("Password:") sent.
    LoginPassword { login: String },
}

impl Session {
    pub(super) async fn auth(&mut self, mechanism: Mechanism, initial: Option<Secret<Vec<u8>>>) -> Action {
        if !self.kind.is_submission() {
            // Not advertised on MX: mail servers do not authenticate to it.
            return Action::Reply(Reply::NOT_IMPLEMENTED);
        }
        if self.tls.is_none() {
            return Action::Reply(Reply::ENCRYPTION_REQUIRED);
        }
        if self.helo.is_none() {
            return Action::Reply(Reply::HELO_FIRST);
        }
        // RFC 4954 §4: no second AUTH, and none inside a transaction.
        if self.auth.is_some() {
            return Action::Reply(Reply::ALREADY_AUTHENTICATED);
        }
        if !matches!(self.state, State::Greeted) {
            return Action::Reply(Reply::AUTH_IN_TRANSACTION);
        }
        match (mechanism, initial) {
            (Mechanism::Plain, Some(message)) => self.verify_plain(message.expose()).await,
            (Mechanism::Plain, None) => self.challenge(SaslStep::PlainMessage),
            (Mechanism::Login, Some(user)) => self.login_user(user.expose()),
            (Mechanism::Login, None) => self.challenge(SaslStep::LoginUser),
        }
    }

    /// A line received while an exchange is open.
    pub(super) async fn auth_response(&mut self, line: &[u8]) -> Action {
        let step = match std::mem::replace(&mut self.state, State::Greeted) {
            State::Auth(step) => step,
            other => {
                self.state = other;
                return Action::Reply(Reply::BAD_SEQUENCE);
            }
        };
        let data = match sasl::parse_response(line) {
            Ok(SaslResponse::Data(data)) => data,
            Ok(SaslResponse::Cancel) => return Action::Reply(Reply::AUTH_CANCELLED),
            Err(e) => return Action::Reply(e.reply()),
        };
        match step {
            SaslStep::PlainMessage => self.verify_plain(data.expose()).await,
            SaslStep::LoginUser => self.login_user(data.expose()),
            SaslStep::LoginPassword { login } => match sasl::login_field(data.expose()) {
                Ok(password) => {
                    self.verify(Credentials {
                        login,
                        password: Secret::new(password),
                    })
                    .await
                }
                Err(_) => Action::Reply(Reply::BAD_SASL_MESSAGE),
            },
        }
    }

    fn challenge(&mut self, step: SaslStep) -> Action {
        // RFC 4954 §4: "334" SP [base64 challenge]; PLAIN's challenge is empty.
        let challenge = match step {
            SaslStep::PlainMessage => String::new(),
            SaslStep::LoginUser => sasl::encode_base64(b"Username:"),
            SaslStep::LoginPassword { .. } => sasl::encode_base64(b"Password:"),
        };
        self.state = State::Auth(step);
        Action::Reply(Reply::plain(334, challenge))
    }

    fn login_user(&mut self, user: &[u8]) -> Action {
        match sasl::login_field(user) {
            Ok(login) => self.challenge(SaslStep::LoginPassword { login }),
            Err(_) => Action::Reply(Reply::BAD_SASL_MESSAGE),
        }
    }

    async fn verify_plain(&mut self, message: &[u8]) -> Action {
        match sasl::parse_plain(message) {
            Ok(credentials) => self.verify(credentials).await,
            Err(CredentialsError::Malformed) => Action::Reply(Reply::BAD_SASL_MESSAGE),
            Err(CredentialsError::AuthzidNotPermitted) => {
                debug!("AUTH PLAIN with a foreign authorization identity");
                Action::Reply(Reply::AUTH_INVALID)
            }
        }
    }

    /// Checks the password off the async threads (Argon2 is CPU-heavy).
    async fn verify(&mut self, credentials: Credentials) -> Action {
        let directory = Arc::clone(&self.ctx.directory);
        let login = credentials.login.clone();
        let client = self.peer.ip();
        let checked = tokio::task::spawn_blocking(move || {
            directory.authenticate_from(client, &credentials.login, &credentials.password)
        })
        .await;
        match checked {
            Ok(Ok(Some(record))) => {
                info!(login = %login, account = record.account.0, "authenticated");
                self.auth = Some(record);
                Action::Reply(Reply::AUTH_OK)
            }
            Ok(Ok(None)) => self.auth_failed(&login).await,
            Ok(Err(DirectoryError::Throttled { .. })) => Action::Close(Reply::AUTH_THROTTLED),
            Ok(Err(e)) => {
                error!(error = %e, "directory failed during AUTH");
                Action::Reply(Reply::AUTH_TEMP_FAILURE)
            }
            Err(e) => {
                error!(error = %e, "authentication task failed");
                Action::Reply(Reply::AUTH_TEMP_FAILURE)
            }
        }
    }

    async fn auth_failed(&mut self, login: &str) -> Action {
        self.auth_failures += 1;
        info!(login = %login, failures = self.auth_failures, "authentication failed");
        if self.auth_failures >= self.ctx.config.max_auth_failures {
            return Action::Close(Reply::TOO_MANY_AUTH_FAILURES);
        }
        if let Some(extra) = self.auth_failures.checked_sub(FREE_FAILURES).filter(|n| *n > 0) {
            tokio::time::sleep(Duration::from_secs(u64::from(extra)).min(MAX_FAILURE_DELAY)).await;
        }
        Action::Reply(Reply::AUTH_INVALID)
    }
}
