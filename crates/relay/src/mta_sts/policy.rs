//! MTA-STS records and policies (RFC 8461), parsed without I/O.

use std::time::Duration;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::mta_sts::MtaSts;

/// RFC 8461 §3.2: `max_age` is at most 31557600 seconds (about a year).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;
/// RFC 8461 §3.3: a policy body larger than 64 KiB is refused.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;

/// The `_mta-sts.<domain>` TXT record (RFC 8461 §3.1): only its `id` matters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsRecord {
    pub id: String,
}

/// RFC 8461 §3.1: of the TXT strings, those starting with `v=STSv1` count; exactly
/// one must remain and be well formed (`v=STSv1; id=<1-32 alphanumerics>`), else
/// the domain has no policy. The tag-value syntax is read by mail-auth's parser (the
/// one its DKIM, DMARC and TLS-RPT records go through); the choice of the record and
/// the `id` syntax, which it does not check, stay here.
pub fn parse_record(txts: &[String]) -> Option<StsRecord> {
    let mut candidates = txts.iter().filter(|t| t.starts_with("v=STSv1"));
    let (record, None) = (candidates.next()?, candidates.next()) else {
        return None;
    };
    let id = MtaSts::parse(record.as_bytes()).ok()?.id;
    let valid = (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then_some(StsRecord { id })
}

/// RFC 8461 §5: what the sender does with the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Only matching MX hosts, only over TLS with a valid certificate.
    Enforce,
    /// Deliver as without a policy; failures are only reported (here: logged).
    Testing,
    /// The domain withdrew its policy.
    None,
}

/// A fetched policy (RFC 8461 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// `mail.example.com` or `*.example.com` (one leftmost label), lower case.
    pub mx: Vec<String>,
    pub max_age: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy is larger than 64 KiB")]
    TooLarge,
    #[error("the policy is not UTF-8")]
    NotUtf8,
    #[error("the policy has no `{0}` field")]
    Missing(&'static str),
    #[error("invalid `{0}` in the policy: {1:?}")]
    Invalid(&'static str, String),
}

impl Policy {
    /// RFC 8461 §3.2: `key: value` lines ending in LF or CRLF; `version: STSv1`,
    /// `mode`, `max_age` once (the first counts), `mx` once or more (not needed with
    /// `mode: none`); unknown keys ignored.
    pub fn parse(body: &[u8]) -> Result<Policy, PolicyError> {
        if body.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge);
        }
        let text = std::str::from_utf8(body).map_err(|_| PolicyError::NotUtf8)?;
        let (mut version, mut mode, mut max_age) = (None, None, None);
        let mut mx = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim_matches([' ', '\t']);
            match key.trim_matches([' ', '\t']) {
                "version" => version = version.or(Some(value)),
                "mode" => mode = mode.or(Some(value)),
                "max_age" => max_age = max_age.or(Some(value)),
                "mx" => mx.push(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        match version {
            Some("STSv1") => {}
            Some(other) => return Err(PolicyError::Invalid("version", other.into())),
            None => return Err(PolicyError::Missing("version")),
        }
        let mode = match mode.ok_or(PolicyError::Missing("mode"))? {
            "enforce" => Mode::Enforce,
            "testing" => Mode::Testing,
            "none" => Mode::None,
            other => return Err(PolicyError::Invalid("mode", other.into())),
        };
        let max_age_text = max_age.ok_or(PolicyError::Missing("max_age"))?;
        // RFC 8461 §3.2: 1*10DIGIT; larger than the limit is capped.
        if max_age_text.is_empty()
            || max_age_text.len() > 10
            || !max_age_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PolicyError::Invalid("max_age", max_age_text.into()));
        }
        let seconds: u64 = max_age_text
            .parse()
            .map_err(|_| PolicyError::Invalid("max_age", max_age_text.into()))?;
        if let Some(bad) = mx.iter().find(|pattern| !valid_pattern(pattern)) {
            return Err(PolicyError::Invalid("mx", bad.clone()));
        }
        if mx.is_empty() && mode != Mode::None {
            return Err(PolicyError::Missing("mx"));
        }
        Ok(Policy {
            mode,
            mx,
            max_age: Duration::from_secs(seconds.min(MAX_AGE_LIMIT)),
        })
    }

    /// RFC 8461 §4.1: whether an MX host is covered by one of the `mx` patterns.
    pub fn allows(&self, host: &str) -> bool {
        self.mx.iter().any(|pattern| mx_matches(pattern, host))
    }
}

fn valid_pattern(pattern: &str) -> bool {
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// RFC 8461 §4.1: exact (case-insensitive), or `*.` matching exactly one leftmost
/// label (`*.example.com` covers `mx.example.com`, not `a.b.example.com` nor
/// `example.com`).
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(suffix)),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8461 §3.1: `sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]`,
    /// `sts-id = %s"id=" 1*32(ALPHA / DIGIT)`; "If multiple TXT records for
    /// `_mta-sts` are returned by the resolver, records that do not begin with
    /// `v=STSv1;` are discarded. If the number of resulting records is not one, or if
    /// the resulting record is syntactically invalid, senders MUST assume the
    /// recipient domain does not have an available MTA-STS Policy."
    #[test]
    fn txt_records() {
        let one = |t: &str| vec![t.to_owned()];
        let table = [
            (one("v=STSv1x; id=1"), None),
            (one("v=STSv1; id=abc; extension=value; "), Some("abc")),
            (one("v=STSv1; id=20160831085700Z;"), Some("20160831085700Z")),
            (one("v=STSv1;id=abc"), Some("abc")),
            (one("v=STSv1; id=abc; ext=1"), Some("abc")),
            (
                vec!["google-site-verification=x".into(), "v=STSv1; id=7".into()],
                Some("7"),
            ),
            (vec!["v=STSv1; id=1".into(), "v=STSv1; id=2".into()], None),
            (one("v=STSv1;"), None),
            (one("v=STSv1; id="), None),
            (one("v=STSv1; id=has-dash"), None),
            (one(&format!("v=STSv1; id={}", "a".repeat(33))), None),
            (one("v=STSv2; id=1"), None),
            (one("id=1; v=STSv1"), None),
            (vec![], None),
        ];
        for (txts, expected) in table {
            assert_eq!(
                parse_record(&txts).map(|r| r.id),
                expected.map(str::to_owned),
                "{txts:?}"
            );
        }
    }

    #[test]
    fn policies() {
        let policy = Policy::parse(
            b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.net\r\nmax_age: 604800\r\n",
        )
        .unwrap();
        assert_eq!(policy.mode, Mode::Enforce);
        assert_eq!(policy.mx, ["mail.example.com", "*.example.net"]);
        assert_eq!(policy.max_age, Duration::from_secs(604_800));
        let lf = Policy::parse(b"version: STSv1\nmode: testing\nmx: a.vn\nmax_age: 99999999999\nfoo: bar\n");
        assert_eq!(lf, Err(PolicyError::Invalid("max_age", "99999999999".into())));
        let capped = Policy::parse(b"version:STSv1\nmode:testing\nmx:a.vn\nmax_age:9999999999").unwrap();
        assert_eq!(capped.max_age, Duration::from_secs(MAX_AGE_LIMIT));
        assert_eq!(capped.mode, Mode::Testing);
        let none = Policy::parse(b"version: STSv1\nmode: none\nmax_age: 86400\n").unwrap();
        assert_eq!(none.mode, Mode::None);
        let errors = [
            (
                &b"mode: enforce\nmx: a.vn\nmax_age: 1\n"[..],
                PolicyError::Missing("version"),
            ),
            (
                b"version: STSv2\nmode: enforce\nmx: a.vn\nmax_age: 1\n",
                PolicyError::Invalid("version", "STSv2".into()),
            ),
            (
                b"version: STSv1\nmode: strict\nmx: a.vn\nmax_age: 1\n",
                PolicyError::Invalid("mode", "strict".into()),
            ),
            (
                b"version: STSv1\nmode: enforce\nmax_age: 1\n",
                PolicyError::Missing("mx"),
            ),
            (
                b"version: STSv1\nmode: enforce\nmx: a.vn\n",
                PolicyError::Missing("max_age"),
            ),
            (
                b"version: STSv1\nmode: enforce\nmx: a.vn\nmax_age: -1\n",
                PolicyError::Invalid("max_age", "-1".into()),
            ),
            (
                b"version: STSv1\nmode: enforce\nmx: a..vn\nmax_age: 1\n",
                PolicyError::Invalid("mx", "a..vn".into()),
            ),
            (
                b"version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n",
                PolicyError::Invalid("mx", "*".into()),
            ),
            (b"\xff\xfe", PolicyError::NotUtf8),
        ];
        for (body, expected) in errors {
            assert_eq!(
                Policy::parse(body),
                Err(expected),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            Policy::parse(&vec![b' '; MAX_POLICY_BYTES + 1]),
            Err(PolicyError::TooLarge)
        );
    }

    #[test]
    fn mx_patterns() {
        let table = [
            ("mail.example.com", "mail.example.com", true),
            ("mail.example.com", "MAIL.Example.COM.", true),
            ("mail.example.com", "mail2.example.com", false),
            ("*.example.com", "mx1.example.com", true),
            ("*.example.com", "a.b.example.com", false),
            ("*.example.com", "example.com", false),
            ("*.example.com", ".example.com", false),
            ("*.example.com", "mx1.example.com.evil.vn", false),
        ];
        for (pattern, host, expected) in table {
            assert_eq!(mx_matches(pattern, host), expected, "{pattern} vs {host}");
        }
    }
}
