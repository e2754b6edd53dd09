//! SASL data of AUTH (RFC 4954): the client's continuation lines, the PLAIN message
//! (RFC 4616) and the LOGIN fields. Everything that may hold a password is a
//! [`Secret`], whose `Debug` is redacted.

use crate::Secret;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::ParseError;

/// Standard alphabet; padding optional because some clients omit it.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub fn decode_base64(input: &[u8]) -> Result<Vec<u8>, ParseError> {
    BASE64.decode(input).map_err(|_| ParseError::Base64)
}

/// The base64 form of a server challenge (`334 <challenge>`).
pub fn encode_base64(input: &[u8]) -> String {
    BASE64.encode(input)
}

/// A client line during an AUTH exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum SaslResponse {
    /// RFC 4954 §4: `*` cancels the exchange.
    Cancel,
    Data(Secret<Vec<u8>>),
}

/// Parses one continuation line (CRLF removed). Trailing white space is tolerated.
pub fn parse_response(line: &[u8]) -> Result<SaslResponse, ParseError> {
    let line = line.trim_ascii_end();
    if line == b"*" {
        return Ok(SaslResponse::Cancel);
    }
    decode_base64(line).map(|data| SaslResponse::Data(Secret::new(data)))
}

/// A login name and password taken from the client.
#[derive(Debug, PartialEq, Eq)]
pub struct Credentials {
    pub login: String,
    pub password: Secret<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("malformed SASL message")]
    Malformed,
    /// RFC 4616 §2: acting as another identity is not offered.
    #[error("authorization identity differs from authentication identity")]
    AuthzidNotPermitted,
}

/// RFC 4616 §2: `message = [authzid] NUL authcid NUL passwd`, all UTF-8.
pub fn parse_plain(message: &[u8]) -> Result<Credentials, CredentialsError> {
    let mut parts = message.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CredentialsError::Malformed);
    };
    let authzid = utf8(authzid)?;
    let login = utf8(authcid)?;
    if login.is_empty() {
        return Err(CredentialsError::Malformed);
    }
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(&login) {
        return Err(CredentialsError::AuthzidNotPermitted);
    }
    Ok(Credentials {
        login,
        password: Secret::new(utf8(password)?),
    })
}

/// One field of AUTH LOGIN (user name or password), UTF-8.
pub fn login_field(field: &[u8]) -> Result<String, CredentialsError> {
    utf8(field)
}

fn utf8(bytes: &[u8]) -> Result<String, CredentialsError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| CredentialsError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        assert_eq!(parse_response(b"*"), Ok(SaslResponse::Cancel));
        assert_eq!(parse_response(b"* "), Ok(SaslResponse::Cancel));
        assert_eq!(
            parse_response(b"dXNlcg=="),
            Ok(SaslResponse::Data(Secret::new(b"user".to_vec())))
        );
        assert_eq!(
            parse_response(b"dXNlcg"),
            Ok(SaslResponse::Data(Secret::new(b"user".to_vec())))
        );
        assert_eq!(
            parse_response(b""),
            Ok(SaslResponse::Data(Secret::new(Vec::new())))
        );
        assert_eq!(parse_response(b"**"), Err(ParseError::Base64));
        assert_eq!(parse_response(b"\xff\x00"), Err(ParseError::Base64));
        assert_eq!(encode_base64(b"Username:"), "VXNlcm5hbWU6");
    }

    #[test]
    fn plain_messages() {
        let ok = |message: &[u8], login: &str, password: &str| {
            assert_eq!(
                parse_plain(message),
                Ok(Credentials {
                    login: login.into(),
                    password: Secret::new(password.into())
                })
            );
        };
        ok(
            b"\0tuanna.sttt@x.vn\0m\xe1\xba\xadt kh\xe1\xba\xa9u",
            "tuanna.sttt@x.vn",
            "mật khẩu",
        );
        ok(b"a@x.vn\0a@x.vn\0pw", "a@x.vn", "pw");
        ok(b"A@X.vn\0a@x.vn\0pw", "a@x.vn", "pw");
        ok(b"\0a\0", "a", "");
        let errors: [(&[u8], CredentialsError); 6] = [
            (b"b@x.vn\0a@x.vn\0pw", CredentialsError::AuthzidNotPermitted),
            (b"\0a@x.vn", CredentialsError::Malformed),
            (b"\0\0pw", CredentialsError::Malformed),
            (b"\0a\0p\0w", CredentialsError::Malformed),
            (b"\0a\xff\0pw", CredentialsError::Malformed),
            (b"", CredentialsError::Malformed),
        ];
        for (message, error) in errors {
            assert_eq!(parse_plain(message), Err(error), "{message:?}");
        }
    }
}
