//! Passwords: Argon2id hashes (RFC 9106) and the login check.
//!
//! `Argon2::default()` is Argon2id v1.3 with m = 19 MiB, t = 2, p = 1, the OWASP
//! recommendation. Hashes are PHC strings carrying their own parameters, so raising
//! the parameters later still verifies older hashes. Hashing and checking run in
//! working memory lent by the directory's `scratch` pool, never allocated per
//! check; a stored hash asking for more than [`MAX_MEMORY_KIB`] is refused as
//! unreadable rather than allocated.
//!
//! A login is checked in this order: the throttle (a throttled client gets no
//! further), the account (unknown and disabled ones cost a dummy check), the
//! verified-credential cache (`credential_cache`), and only then Argon2.

use std::net::IpAddr;
use std::time::Instant;

use argon2::password_hash::{self, Output, ParamsString, Salt, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use rand::Rng;

use crate::account::now;
use crate::error::{DirectoryError, Result};
use crate::record::AccountRecord;
use crate::revocation::WatchStart;
use crate::scratch::Scratch;
use crate::throttle::{self, LoginCounts, LoginEnd};
use crate::trees::T;
use crate::{CredentialWatch, Directory, Secret};

/// Shorter passwords are refused by `set_password`.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longer passwords are refused: no client needs more, and it bounds the work a
/// request can cause.
const MAX_PASSWORD_BYTES: usize = 1024;
/// Argon2 memory a stored hash may ask for (KiB): 13 times the default, far above
/// any parameters this server writes, and a bound on what one check can allocate.
pub(crate) const MAX_MEMORY_KIB: u32 = 256 * 1024;

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
        let phc = hash(&self.scratch, password)?;
        self.trees
            .put_raw(T::Passwords, &record.account.0.to_be_bytes(), phc.as_bytes())?;
        self.flush()?;
        self.revoke(record.account);
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
        let since = self.revocations.epoch();
        self.throttled_check(client, login, password, since)
    }

    /// How the logins checked here ended since start.
    pub fn login_counts(&self) -> LoginCounts {
        self.logins.snapshot()
    }

    /// [`Directory::authenticate_from`], and a watch that tells the session it opens
    /// when these credentials stop being valid (password changed, account disabled
    /// or deleted: see `revocation`). A revocation that lands while the password is
    /// being checked is caught: the check is made again, once.
    pub fn authenticate_watched(
        &self,
        client: IpAddr,
        login: &str,
        password: &Secret<String>,
    ) -> Result<Option<(AccountRecord, CredentialWatch)>> {
        for _ in 0..2 {
            let start = WatchStart::new(&self.revocations);
            let Some(record) = self.throttled_check(client, login, password, start.since())? else {
                return Ok(None);
            };
            let watch = start.watch(&self.revocations, record.account);
            if !watch.is_revoked() {
                return Ok(Some((record, watch)));
            }
        }
        Ok(None)
    }

    /// The throttle, then the password check. `since`: the revocation epoch read
    /// before anything about the account was.
    fn throttled_check(
        &self,
        client: IpAddr,
        login: &str,
        password: &Secret<String>,
        since: u64,
    ) -> Result<Option<AccountRecord>> {
        let limits = &self.settings.login_throttle;
        let account = self.login_account(login)?;
        // Counted against the account the login names, so that its aliases, the
        // bare local part and each local domain share one budget; unknown logins by
        // their text (the per-address count bounds those).
        let counted = match &account {
            Some(record) => format!("account:{}", record.account.0),
            None => login.to_lowercase(),
        };
        // Before the cache: a throttled client must not test passwords against it.
        let shared = self.trees.storage().shared_failures();
        let keys = throttle::shared_keys(limits, client, &counted);
        let verdict = match shared {
            Some(shared) => shared.attempt(&keys, limits.window, now())?,
            None => self.throttle.attempt(limits, client, &counted, Instant::now()),
        };
        if let Err(retry_after) = verdict {
            tracing::info!(%client, login, retry_after_secs = retry_after.as_secs(), "login throttled");
            self.logins.count(LoginEnd::Throttled);
            return Err(DirectoryError::Throttled { retry_after });
        }
        let record = self.check_password(login, account, password, since)?;
        if record.is_some() {
            // A cache hit too: it proves the password as much as Argon2 did.
            match shared {
                Some(shared) => shared.succeeded(&keys[0].0, &keys[1].0)?,
                None => self.throttle.succeeded(client, &counted),
            }
            self.logins.count(LoginEnd::Succeeded);
        } else {
            self.logins.count(LoginEnd::Failed);
        }
        Ok(record)
    }

    /// The password check itself, without throttling.
    #[cfg(test)]
    pub(crate) fn authenticate(
        &self,
        login: &str,
        password: &Secret<String>,
    ) -> Result<Option<AccountRecord>> {
        let since = self.revocations.epoch();
        self.check_password(login, self.login_account(login)?, password, since)
    }

    /// Checks `password` for `account` (the one `login` names, if any): from the
    /// credential cache when it was verified lately, with Argon2 otherwise.
    fn check_password(
        &self,
        login: &str,
        account: Option<AccountRecord>,
        password: &Secret<String>,
        since: u64,
    ) -> Result<Option<AccountRecord>> {
        let record = account.filter(|r| !r.disabled);
        let password = password.expose();
        let phc = match &record {
            Some(r) => self.trees.get_raw(T::Passwords, &r.account.0.to_be_bytes())?,
            None => None,
        };
        let phc = phc
            .map(|p| {
                String::from_utf8(p).map_err(|_| DirectoryError::Db("password hash is not UTF-8".into()))
            })
            .transpose()?;
        if let (Some(record), Some(phc)) = (&record, &phc)
            && self
                .credentials
                .hit(record.account, phc, password, Instant::now())
        {
            tracing::debug!(login, "password verified from the credential cache");
            return Ok(Some(record.clone()));
        }
        match (record, phc) {
            (Some(record), Some(phc)) => {
                if verify(&self.scratch, &phc, password)? {
                    let account = record.account;
                    self.credentials
                        .remember(account, &phc, password, Instant::now(), || {
                            !self.revocations.revoked_since(account, since)
                        });
                    return Ok(Some(record));
                }
                tracing::debug!(login, reason = "wrong password", "authentication failed");
            }
            (record, _) => {
                // Same work as a real check; the result is meaningless.
                verify(&self.scratch, &self.dummy_hash, password)?;
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
pub(crate) fn dummy_hash(scratch: &Scratch) -> Result<String> {
    let password: u128 = rand::rng().random();
    hash(scratch, &format!("{password:032x}"))
}

/// An Argon2id v1.3 PHC string of `password` with the default parameters, computed
/// in memory lent by `scratch`.
fn hash(scratch: &Scratch, password: &str) -> Result<String> {
    // ThreadRng is a CSPRNG seeded from the OS; a salt needs to be unique, not secret.
    let salt_bytes: [u8; Salt::RECOMMENDED_LENGTH] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(hash_fault)?;
    let (algorithm, version, params) = (Algorithm::Argon2id, Version::V0x13, Params::default());
    let output = run(
        scratch,
        algorithm,
        version,
        &params,
        password,
        &salt_bytes,
        Params::DEFAULT_OUTPUT_LEN,
    )?;
    let phc = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params).map_err(hash_fault)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// True when `password` matches the PHC string; `Err` only for an unreadable stored
/// hash (or one asking for more than [`MAX_MEMORY_KIB`]).
fn verify(scratch: &Scratch, phc: &str, password: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(hash_fault)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(hash_fault)?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| hash_fault(e.into()))?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(hash_fault)?;
    if params.m_cost() > MAX_MEMORY_KIB {
        return Err(DirectoryError::Db(format!(
            "password hash asks for {} KiB of memory, more than {MAX_MEMORY_KIB}",
            params.m_cost()
        )));
    }
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(DirectoryError::Db("password hash without salt or output".into()));
    };
    let mut salt_buffer = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_buffer).map_err(hash_fault)?;
    let computed = run(
        scratch,
        algorithm,
        version,
        &params,
        password,
        salt,
        expected.len(),
    )?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

/// One Argon2 run into an output of `output_len` bytes.
fn run(
    scratch: &Scratch,
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &str,
    salt: &[u8],
    output_len: usize,
) -> Result<Output> {
    let argon2 = Argon2::new(algorithm, version, params.clone());
    scratch
        .with_blocks(params.block_count(), |blocks| {
            Output::init_with(output_len, |out| {
                argon2
                    .hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
                    .map_err(password_hash::Error::from)
            })
        })
        .map_err(hash_fault)
}

fn hash_fault(e: password_hash::Error) -> DirectoryError {
    DirectoryError::Db(format!("password hash: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        let scratch = Scratch::new(1);
        let ours = hash(&scratch, "mật khẩu đúng").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password("mật khẩu đúng".as_bytes(), &parsed)
                .is_ok()
        );
        // Hashes written before this code (by `hash_password`) still verify.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"mat khau cu", &salt)
            .unwrap()
            .to_string();
        assert!(verify(&scratch, &theirs, "mat khau cu").unwrap());
        assert!(!verify(&scratch, &theirs, "mat khau moi").unwrap());
        assert!(!verify(&scratch, &ours, "mật khẩu sai").unwrap());
        // Other parameters and Argon2i are read from the string.
        let light = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(64, 1, 2, Some(16)).unwrap(),
        )
        .hash_password(b"nhe", &salt)
        .unwrap()
        .to_string();
        assert!(verify(&scratch, &light, "nhe").unwrap());
    }

    #[test]
    fn a_hash_asking_for_too_much_memory_is_refused_unrun() {
        let scratch = Scratch::new(1);
        let greedy = "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(matches!(
            verify(&scratch, greedy, "x"),
            Err(DirectoryError::Db(_))
        ));
        assert!(verify(&scratch, "not a hash", "x").is_err());
    }
}
