//! AUTHENTICATE PLAIN (RFC 3501 §6.2.2, RFC 4616), with the initial response on the
//! command line (RFC 4959 SASL-IR) or after an empty `+` challenge.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use congvu_directory::Secret;

use crate::codec::response::Code;
use crate::session::{OpResult, Reply, Session};

/// `message = [authzid] NUL authcid NUL passwd` (RFC 4616 §2).
fn parse_plain(message: &[u8]) -> Option<(String, String, Secret<String>)> {
    let mut parts = message.split(|b| *b == 0);
    let authzid = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let authcid = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let password = String::from_utf8(parts.next()?.to_vec()).ok()?;
    if parts.next().is_some() || authcid.is_empty() {
        return None;
    }
    Some((authzid, authcid, Secret::new(password)))
}

impl Session {
    pub(crate) async fn op_authenticate(
        &mut self,
        mechanism: &str,
        initial: Option<Secret<Vec<u8>>>,
    ) -> OpResult {
        if mechanism != "PLAIN" {
            return Ok(Reply::no(None, "Unsupported authentication mechanism"));
        }
        if !self.privacy_ok() {
            return Ok(Reply::no(
                Some(Code::PrivacyRequired),
                "Use STARTTLS before AUTHENTICATE",
            ));
        }
        let response = match initial {
            Some(response) => response,
            None => {
                self.conn.output.extend_from_slice(b"+ \r\n");
                Secret::new(self.read_line().await?)
            }
        };
        let response = response.expose().as_slice();
        if response == b"*" {
            return Ok(Reply::bad("Authentication cancelled"));
        }
        // SASL-IR: "=" is an empty initial response.
        let decoded = if response == b"=" {
            Ok(Vec::new())
        } else {
            STANDARD.decode(response)
        };
        let Ok(decoded) = decoded.map(Secret::new) else {
            return Ok(Reply::bad("Invalid base64 in authentication response"));
        };
        let Some((authzid, authcid, password)) = parse_plain(decoded.expose()) else {
            return Ok(Reply::bad("Invalid PLAIN authentication message"));
        };
        // No acting as another user: a delegated agency mailbox is reached under
        // `Shared/` with the clerk's own identity, so every access stays attributable
        // to the person (Art. 10, 16.1).
        if !authzid.is_empty() && authzid != authcid {
            return Ok(self.authentication_failed(&authcid).await);
        }
        self.check_credentials(authcid, password).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_messages() {
        let (z, c, p) = parse_plain(b"\0user\0pass").unwrap();
        assert_eq!(
            (z.as_str(), c.as_str(), p.expose().as_str()),
            ("", "user", "pass")
        );
        let (z, ..) = parse_plain(b"user\0user\0pass").unwrap();
        assert_eq!(z, "user");
        for bad in [
            &b""[..],
            b"user",
            b"\0user",
            b"\0\0pass",
            b"a\0b\0c\0d",
            b"\0\xff\0p",
        ] {
            assert!(parse_plain(bad).is_none(), "{bad:?}");
        }
    }
}
