//! Validated address newtypes for the mailboxes congvu issues.
//!
//! These are deliberately narrower than RFC 5321: they describe addresses *we* hand out
//! (Art. 3: lower-case ASCII, no diacritics), not every address the Internet may send
//! us. A value of these types is lower-case and valid by construction, so code holding
//! one never re-checks or re-lowercases it. Parsing is ASCII-case-insensitive because
//! mail users type `TuanNA.STTT@ThanhHoa.gov.vn` and expect it to work.

use std::fmt;
use std::str::FromStr;

/// Why a string is not one of our addresses (or one of its parts).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the local part is empty")]
    EmptyLocalPart,
    #[error("the local part is longer than {} characters", LocalPart::MAX_LEN)]
    LocalPartTooLong,
    #[error("character {0:?} is not allowed in a local part (only a-z, 0-9, '.', '_', '-')")]
    LocalPartChar(char),
    #[error("a local part may not start or end with '.' nor contain \"..\"")]
    LocalPartDots,
    #[error("the domain is empty")]
    EmptyDomain,
    #[error("the domain is longer than {} characters", Domain::MAX_LEN)]
    DomainTooLong,
    #[error("invalid domain label {0:?} (1-63 of a-z, 0-9, '-', not starting or ending with '-')")]
    DomainLabel(String),
    #[error("an address needs exactly one '@' between local part and domain")]
    MissingAt,
    #[error("the address is longer than {} characters", Address::MAX_LEN)]
    AddressTooLong,
}

/// A domain name: lower-case ASCII letter-digit-hyphen labels separated by dots
/// (RFC 1035 §2.3.1, RFC 5321 §4.1.2 `Domain`). No trailing root dot, no address
/// literals, no IDN U-labels (an IDN is given in its `xn--` A-label form).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Domain(String);

impl Domain {
    /// RFC 1035 §2.3.4: 255 octets on the wire, i.e. 253 characters written out.
    pub const MAX_LEN: usize = 253;
    /// RFC 1035 §2.3.4.
    pub const MAX_LABEL_LEN: usize = 63;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Domain {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Domain, AddressError> {
        if s.is_empty() {
            return Err(AddressError::EmptyDomain);
        }
        if s.len() > Domain::MAX_LEN {
            return Err(AddressError::DomainTooLong);
        }
        let lower = s.to_ascii_lowercase();
        for label in lower.split('.') {
            let ldh = label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if label.is_empty()
                || label.len() > Domain::MAX_LABEL_LEN
                || !ldh
                || label.starts_with('-')
                || label.ends_with('-')
            {
                return Err(AddressError::DomainLabel(label.to_owned()));
            }
        }
        Ok(Domain(lower))
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The part before the `@` of an address congvu issues: the dot-atom subset
/// `[a-z0-9._-]` (RFC 5322 §3.2.3 `dot-atom-text` restricted to what Art. 3 produces),
/// no leading, trailing or doubled dot, at most 64 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalPart(String);

impl LocalPart {
    /// RFC 5321 §4.5.3.1.1.
    pub const MAX_LEN: usize = 64;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for LocalPart {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<LocalPart, AddressError> {
        if s.is_empty() {
            return Err(AddressError::EmptyLocalPart);
        }
        if s.chars().count() > LocalPart::MAX_LEN {
            return Err(AddressError::LocalPartTooLong);
        }
        let lower = s.to_ascii_lowercase();
        if let Some(bad) = lower
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
        {
            return Err(AddressError::LocalPartChar(bad));
        }
        if lower.starts_with('.') || lower.ends_with('.') || lower.contains("..") {
            return Err(AddressError::LocalPartDots);
        }
        Ok(LocalPart(lower))
    }
}

impl fmt::Display for LocalPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `local@domain`, both parts validated and lower-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    local: LocalPart,
    domain: Domain,
}

impl Address {
    /// RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets.
    pub const MAX_LEN: usize = 254;

    pub fn new(local: LocalPart, domain: Domain) -> Result<Address, AddressError> {
        if local.0.len() + 1 + domain.0.len() > Address::MAX_LEN {
            return Err(AddressError::AddressTooLong);
        }
        Ok(Address { local, domain })
    }

    pub fn local(&self) -> &LocalPart {
        &self.local
    }

    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl FromStr for Address {
    type Err = AddressError;

    /// Splits at the last `@`, so an `@` inside the local part is reported as a bad
    /// local-part character rather than as a bad domain.
    fn from_str(s: &str) -> Result<Address, AddressError> {
        let (local, domain) = s.rsplit_once('@').ok_or(AddressError::MissingAt)?;
        Address::new(local.parse()?, domain.parse()?)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        let long_label = "a".repeat(64);
        let too_long = ["a"; 127].join(".") + ".bb"; // 256 characters
        let cases: &[(&str, Result<&str, AddressError>)] = &[
            ("thanhhoa.gov.vn", Ok("thanhhoa.gov.vn")),
            ("ThanhHoa.GOV.vn", Ok("thanhhoa.gov.vn")),
            ("localhost", Ok("localhost")),
            ("xn--thanhha-6ya.vn", Ok("xn--thanhha-6ya.vn")),
            ("a-b.c1", Ok("a-b.c1")),
            ("", Err(AddressError::EmptyDomain)),
            ("thanhhoa.gov.vn.", Err(AddressError::DomainLabel(String::new()))),
            (".vn", Err(AddressError::DomainLabel(String::new()))),
            ("a..vn", Err(AddressError::DomainLabel(String::new()))),
            ("-a.vn", Err(AddressError::DomainLabel("-a".into()))),
            ("a-.vn", Err(AddressError::DomainLabel("a-".into()))),
            ("a_b.vn", Err(AddressError::DomainLabel("a_b".into()))),
            ("thanhhóa.vn", Err(AddressError::DomainLabel("thanhhóa".into()))),
            ("[127.0.0.1]", Err(AddressError::DomainLabel("[127".into()))),
            (&long_label, Err(AddressError::DomainLabel(long_label.clone()))),
            (&too_long, Err(AddressError::DomainTooLong)),
        ];
        for (input, want) in cases {
            let got = input.parse::<Domain>();
            assert_eq!(
                got.as_ref().map(Domain::as_str).map_err(Clone::clone),
                want.clone(),
                "{input:?}"
            );
        }
    }

    #[test]
    fn local_parts() {
        let max = "a".repeat(64);
        let over = "a".repeat(65);
        let cases: &[(&str, Result<&str, AddressError>)] = &[
            ("tuanna.sttt", Ok("tuanna.sttt")),
            ("TuanNA.STTT", Ok("tuanna.sttt")),
            ("pvhtt.yendinh", Ok("pvhtt.yendinh")),
            ("a_b-c9", Ok("a_b-c9")),
            (&max, Ok(&max)),
            ("", Err(AddressError::EmptyLocalPart)),
            (&over, Err(AddressError::LocalPartTooLong)),
            (".a", Err(AddressError::LocalPartDots)),
            ("a.", Err(AddressError::LocalPartDots)),
            ("a..b", Err(AddressError::LocalPartDots)),
            ("a+tag", Err(AddressError::LocalPartChar('+'))),
            ("a b", Err(AddressError::LocalPartChar(' '))),
            ("tuấn", Err(AddressError::LocalPartChar('ấ'))),
            ("\"a\"", Err(AddressError::LocalPartChar('"'))),
        ];
        for (input, want) in cases {
            let got = input.parse::<LocalPart>();
            assert_eq!(
                got.as_ref().map(LocalPart::as_str).map_err(Clone::clone),
                want.clone(),
                "{input:?}"
            );
        }
    }

    #[test]
    fn addresses() {
        let long = format!("{}@{}", "a".repeat(64), [&*"b".repeat(63); 3].join(".") + ".cc"); // 64+1+194
        let cases: &[(&str, Result<&str, AddressError>)] = &[
            ("tuanna.sttt@thanhhoa.gov.vn", Ok("tuanna.sttt@thanhhoa.gov.vn")),
            ("TuanNA.Sttt@ThanhHoa.Gov.VN", Ok("tuanna.sttt@thanhhoa.gov.vn")),
            ("tuanna.sttt", Err(AddressError::MissingAt)),
            ("@thanhhoa.gov.vn", Err(AddressError::EmptyLocalPart)),
            ("tuanna@", Err(AddressError::EmptyDomain)),
            ("a@b@thanhhoa.gov.vn", Err(AddressError::LocalPartChar('@'))),
            (&long, Err(AddressError::AddressTooLong)),
        ];
        for (input, want) in cases {
            let got = input.parse::<Address>().map(|a| a.to_string());
            assert_eq!(got.as_deref().map_err(Clone::clone), want.clone(), "{input:?}");
        }
        let a: Address = "TuanNA.STTT@thanhhoa.gov.vn".parse().unwrap();
        assert_eq!(a.local().as_str(), "tuanna.sttt");
        assert_eq!(a.domain().as_str(), "thanhhoa.gov.vn");
    }
}
