//! Passwords: Argon2id hashes (RFC 9106) and the login check.
//!
//! `Argon2::default()` is Argon2id v1.3 with m = 19 MiB, t = 2, p = 1, the OWASP
//! recommendation. Hashes are PHC strings carrying their own parameters, so raising
//! the parameters later still verifies older hashes.

use std::net::IpAddr;
use std::time::Instant;

use argon2::password_hash::{self, Salt, SaltString};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use rand::Rng;

use crate::error::{DirectoryError, Result};
use crate::record::AccountRecord;
use crate::trees::T;
use crate::{Directory, Secret};

/// Shorter passwords are refused by `set_password`.
const MIN_PASSWORD_CHARS: usize = 8;
/// Longer passwords are refused: no client needs more, and it bounds the work a
/// request can cause.
const MAX_PASSWORD_BYTES: usize = 1024;

impl Directory {
    /// Sets (or replaces) the password of the account at `address`.
    pub fn set_password(&self, address: &str, password: &Secret<String>) -> Result<()> {
        let password = password.expose();
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(DirectoryError::Invalid(format!(
                "a password needs at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(DirectoryError::Invalid(format!(
                "a password may have at most {MAX_PASSWORD_BYTES} bytes"
            )));
        }
        let record = self.existing_account(address)?;
        let phc = hash(password)?;
        self.trees
            .put_raw(T::Passwords, &record.account.0.to_be_bytes(), phc.as_bytes())?;
        self.flush()?;
        tracing::info!(address = %record.address, "password set");
        Ok(())
    }

    /// Checks a login (full address, or local part in the primary domain) and
    /// password from a client at `client`. `Ok(None)` for unknown user, wrong password
    /// or disabled account — callers must not tell these apart to the client.
    /// [`DirectoryError::Throttled`] while the client has failed too often lately
    /// (counted across connections and protocols, see `throttle`): no password is
    /// checked then. CPU-heavy (Argon2): call from `spawn_blocking` in async code.
    pub fn authenticate_from(
        &self,
        client: IpAddr,
        login: &str,
        password: &Secret<String>,
    ) -> Result<Option<AccountRecord>> {
        let limits = &self.settings.login_throttle;
        // Counted against the account the login names, so that its aliases, the
        // bare local part and each local domain share one budget; unknown logins by
        // their text (the per-address count bounds those).
        let counted = match self.login_account(login)? {
            Some(record) => format!("account:{}", record.account.0),
            None => login.to_lowercase(),
        };
        if let Err(retry_after) = self.throttle.attempt(limits, client, &counted, Instant::now()) {
            tracing::info!(%client, login, retry_after_secs = retry_after.as_secs(), "login throttled");
            return Err(DirectoryError::Throttled { retry_after });
        }
        let record = self.authenticate(login, password)?;
        if record.is_some() {
            self.throttle.succeeded(client, &counted);
        }
        Ok(record)
    }

    /// The password check itself, without throttling.
    pub(crate) fn authenticate(
        &self,
        login: &str,
        password: &Secret<String>,
    ) -> Result<Option<AccountRecord>> {
        let record = self.login_account(login)?.filter(|r| !r.disabled);
        let phc = match &record {
            Some(r) => self.trees.get_raw(T::Passwords, &r.account.0.to_be_bytes())?,
            None => None,
        };
        let phc = phc
            .map(|p| {
                String::from_utf8(p).map_err(|_| DirectoryError::Db("password hash is not UTF-8".into()))
            })
            .transpose()?;
        let password = password.expose();
        match (record, phc) {
            (Some(record), Some(phc)) => {
                if verify(&phc, password)? {
                    return Ok(Some(record));
                }
                tracing::debug!(login, reason = "wrong password", "authentication failed");
            }
            (record, _) => {
                // Same work as a real check; the result is meaningless.
                verify(&self.dummy_hash, password)?;
                let reason = if record.is_some() {
                    "no usable password"
                } else {
                    "unknown or disabled account"
                };
                tracing::debug!(login, reason, "authentication failed");
            }
        }
        Ok(None)
    }

    /// The account a login names: `tuanna.sttt@thanhhoa.gov.vn` or `tuanna.sttt`.
    fn login_account(&self, login: &str) -> Result<Option<AccountRecord>> {
        if login.contains('@') {
            self.lookup(login)
        } else {
            match login.parse() {
                Ok(local) => self.resolve(&local),
                Err(_) => Ok(None),
            }
        }
    }
}

/// A hash to verify when the login names no usable account, so that unknown users,
/// disabled accounts and accounts without a password take as long to refuse as a
/// wrong password does (the client must not learn which accounts exist). Made at
/// open with the current parameters, from a random password nobody keeps.
pub(crate) fn dummy_hash() -> Result<String> {
    let password: u128 = rand::rng().random();
    hash(&format!("{password:032x}"))
}

fn hash(password: &str) -> Result<String> {
    // ThreadRng is a CSPRNG seeded from the OS; a salt needs to be unique, not secret.
    let salt: [u8; Salt::RECOMMENDED_LENGTH] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt).map_err(hash_fault)?;
    let phc = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(hash_fault)?;
    Ok(phc.to_string())
}

/// True when `password` matches; `Err` only for an unreadable stored hash.
fn verify(phc: &str, password: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(hash_fault)?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::Password) => Ok(false),
        Err(e) => Err(hash_fault(e)),
    }
}

fn hash_fault(e: password_hash::Error) -> DirectoryError {
    DirectoryError::Db(format!("password hash: {e}"))
}
