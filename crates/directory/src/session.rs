//! API sessions: an official signs in with their own mailbox credentials and gets a
//! bearer token; every request then acts as a [`Principal`] with the account's current
//! role (a role change or a disabled account takes effect at the next request).
//!
//! `dir.sessions` keeps only the SHA-256 of each token (hex) with its account and
//! expiry, so a copy of the database gives no usable token.
//!
//! A password change, a disabled or a deleted account ends the account's sessions
//! (with its IMAP and SMTP sessions, see `revocation`): enabling the account again
//! does not bring them back.

use std::net::IpAddr;

use congvu_store::AccountId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::account::now;
use crate::error::Result;
use crate::record::Role;
use crate::trees::{T, decode, encode};
use crate::{Directory, Secret};

/// A bearer token as handed to the client; never logged.
pub type SessionToken = Secret<String>;

/// Who is calling the admin API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub address: String,
    pub account: AccountId,
    pub role: Role,
    /// The agency the account belongs to: the operator's scope.
    pub agency: String,
}

#[derive(Serialize, Deserialize)]
struct Session {
    account: AccountId,
    /// Unix seconds.
    expires: i64,
}

fn token_key(token: &str) -> Vec<u8> {
    hex::encode(Sha256::digest(token.as_bytes())).into_bytes()
}

impl Directory {
    /// Checks the credentials and opens a session; `None` when they are wrong (the
    /// caller must not say why). CPU-heavy and throttled like
    /// [`Directory::authenticate_from`].
    pub fn login(
        &self,
        client: IpAddr,
        login: &str,
        password: &Secret<String>,
    ) -> Result<Option<(SessionToken, Principal, i64)>> {
        let Some(record) = self.authenticate_from(client, login, password)? else {
            return Ok(None);
        };
        let token = hex::encode(rand::random::<[u8; 32]>());
        let expires = now().saturating_add(self.settings.session_seconds);
        self.trees.put_raw(
            T::Sessions,
            &token_key(&token),
            &encode(&Session {
                account: record.account,
                expires,
            })?,
        )?;
        self.flush()?;
        tracing::info!(address = %record.address, "admin session opened");
        let principal = Principal {
            address: record.address,
            account: record.account,
            role: record.role,
            agency: record.agency,
        };
        Ok(Some((Secret::new(token), principal, expires)))
    }

    /// The principal of a live session token, with the account's current role.
    pub fn principal(&self, token: &str) -> Result<Option<Principal>> {
        let key = token_key(token);
        let Some(session) = self.trees.get::<Session>(T::Sessions, &key)? else {
            return Ok(None);
        };
        if session.expires <= now() {
            self.trees.remove(T::Sessions, &key)?;
            return Ok(None);
        }
        Ok(self
            .account_by_id(session.account)?
            .filter(|r| !r.disabled)
            .map(|record| Principal {
                address: record.address,
                account: record.account,
                role: record.role,
                agency: record.agency,
            }))
    }

    /// Ends every session of `account`; how many there were.
    pub(crate) fn end_sessions_of(&self, account: AccountId) -> Result<usize> {
        let mut ended = 0;
        for (key, json) in self.trees.entries(T::Sessions)? {
            let session: Session = decode(T::Sessions, &key, &json)?;
            if session.account == account {
                self.trees.remove(T::Sessions, &key)?;
                ended += 1;
            }
        }
        if ended > 0 {
            self.flush()?;
        }
        Ok(ended)
    }

    /// Ends a session.
    pub fn logout(&self, token: &str) -> Result<()> {
        self.trees.remove(T::Sessions, &token_key(token))?;
        self.flush()
    }
}
