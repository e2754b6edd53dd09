//! `PolicyConfig`: the `[policy]` section. Defaults are the regulation's values, so an
//! empty section enforces Decision 3380 as written; unknown keys are refused so that a
//! typo never silently keeps a default.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::Deserialize;

use crate::formats::Format;
use crate::verdict::Rule;

/// What a rule does when a message breaks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The rule is not checked.
    Off,
    /// The message is accepted and the finding named in `X-Congvu-Policy`.
    Tag,
    /// The message is refused with the rule's reply.
    Reject,
}

/// What the legacy-encoding rule does (Art. 6.2: "should be converted").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LegacyAction {
    Off,
    Tag,
    /// Re-encode subject and text parts as Unicode NFC and say so in a header.
    Convert,
    Reject,
}

/// Where a message comes from: decides which rules bind (see [`PolicyConfig::action`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// An official, authenticated on the submission ports.
    Submission,
    /// Another agency's server, from a configured relay network.
    AgencyRelay,
    /// Anyone else on port 25.
    Internet,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Submission => "submission",
            Origin::AgencyRelay => "agency-relay",
            Origin::Internet => "internet",
        }
    }
}

/// An IP network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a
/// single host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid network {0:?}: expected an address or address/prefix such as 10.0.0.0/8")]
pub struct CidrError(String);

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let bad = || CidrError(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let network: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cidr, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentCapRule {
    pub action: Action,
    /// Total decoded bytes of all attachments of one message (Art. 9.2: 10 MB).
    pub max_bytes: u64,
}

impl Default for AttachmentCapRule {
    fn default() -> Self {
        AttachmentCapRule {
            action: Action::Reject,
            max_bytes: 10 * 1024 * 1024,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FormatsRule {
    pub action: Action,
    /// Formats of the documents sent, by name: Art. 6.1's txt doc odt ods odp rtf pdf,
    /// and from the Ministry's e-government standards docx xlsx pptx xls ppt png jpeg
    /// gif tiff, and zip (its entries checked as documents). See docs/policy.md.
    pub allowed: Vec<Format>,
    /// How deep containers inside containers (zips, documents) are opened; deeper is
    /// refused as dangerous content.
    pub max_zip_depth: u32,
    /// Archive entries and decoded files (TNEF, uuencode, BinHex, yEnc) opened per
    /// message, all attachments and levels together.
    pub max_zip_entries: u32,
    /// Bytes decoded or inflated to inspect one message, all attachments and levels
    /// together; a zip entry is charged its declared size (zip bombs).
    pub max_zip_bytes: u64,
}

impl Default for FormatsRule {
    fn default() -> Self {
        FormatsRule {
            action: Action::Reject,
            allowed: vec![
                Format::Txt,
                Format::Doc,
                Format::Odt,
                Format::Ods,
                Format::Odp,
                Format::Rtf,
                Format::Pdf,
                Format::Docx,
                Format::Xlsx,
                Format::Pptx,
                Format::Xls,
                Format::Ppt,
                Format::Png,
                Format::Jpeg,
                Format::Gif,
                Format::Tiff,
                Format::Zip,
            ],
            max_zip_depth: 3,
            max_zip_entries: 1000,
            max_zip_bytes: 100 * 1024 * 1024,
        }
    }
}

/// How much MIME structure one message may have. Past any limit the message is refused
/// under the dangerous-content rule (it binds every origin): what is not walked could
/// hide code.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsRule {
    /// Leaf parts of the message, forwarded messages' included.
    pub max_parts: u32,
    /// Multiparts nested inside one another within one message.
    pub max_multipart_depth: u32,
    /// Forwarded messages (message/rfc822) nested inside one another.
    pub max_forward_depth: u32,
}

impl Default for LimitsRule {
    fn default() -> Self {
        LimitsRule {
            max_parts: 1000,
            max_multipart_depth: 32,
            max_forward_depth: 4,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActionOnly {
    pub action: Action,
}

impl Default for ActionOnly {
    fn default() -> Self {
        ActionOnly {
            action: Action::Reject,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LegacyRule {
    pub action: LegacyAction,
}

impl Default for LegacyRule {
    fn default() -> Self {
        LegacyRule {
            action: LegacyAction::Convert,
        }
    }
}

/// The `[policy]` section.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Networks of other agencies' mail servers: their mail on port 25 is
    /// [`Origin::AgencyRelay`] rather than [`Origin::Internet`].
    pub agency_relays: Vec<Cidr>,
    /// The strongest action the official-conduct rules take on agency-relayed mail.
    pub agency_relay_mode: Action,
    /// The strongest action the official-conduct rules take on Internet mail: the
    /// regulation binds officials, not the citizens writing to them.
    pub internet_mode: Action,
    pub attachment_cap: AttachmentCapRule,
    pub formats: FormatsRule,
    pub dangerous_content: ActionOnly,
    pub subject: ActionOnly,
    pub legacy_encoding: LegacyRule,
    pub classified: ActionOnly,
    /// Encrypted S/MIME (pkcs7-mime enveloped data): nothing in it can be checked.
    pub encrypted: ActionOnly,
    pub limits: LimitsRule,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            agency_relays: Vec::new(),
            agency_relay_mode: Action::Reject,
            internet_mode: Action::Tag,
            attachment_cap: AttachmentCapRule::default(),
            formats: FormatsRule::default(),
            dangerous_content: ActionOnly::default(),
            subject: ActionOnly::default(),
            legacy_encoding: LegacyRule::default(),
            classified: ActionOnly::default(),
            encrypted: ActionOnly::default(),
            limits: LimitsRule::default(),
        }
    }
}

impl PolicyConfig {
    /// The origin of mail from `peer` on port 25.
    pub fn relay_origin(&self, peer: IpAddr) -> Origin {
        if self.agency_relays.iter().any(|net| net.contains(peer)) {
            Origin::AgencyRelay
        } else {
            Origin::Internet
        }
    }

    /// What `rule` does for mail from `origin`. Dangerous content binds everyone; the
    /// official-conduct rules are softened to the origin's mode.
    pub fn action(&self, rule: Rule, origin: Origin) -> Action {
        let configured = match rule {
            Rule::AttachmentCap => self.attachment_cap.action,
            Rule::Formats => self.formats.action,
            Rule::DangerousContent => return self.dangerous_content.action,
            Rule::Subject => self.subject.action,
            Rule::Classified => self.classified.action,
            Rule::Encrypted => self.encrypted.action,
            Rule::LegacyEncoding => match self.legacy_encoding.action {
                LegacyAction::Off => Action::Off,
                LegacyAction::Tag => Action::Tag,
                LegacyAction::Convert | LegacyAction::Reject => Action::Reject,
            },
        };
        match origin {
            Origin::Submission => configured,
            Origin::AgencyRelay => configured.min(self.agency_relay_mode),
            Origin::Internet => configured.min(self.internet_mode),
        }
    }

    /// The legacy-encoding action for `origin`: conversion rewrites the message, so it
    /// happens only where the rule binds fully; elsewhere it is a tag at most (what was
    /// received from outside is never altered, Art. 8.2).
    pub fn legacy_action(&self, origin: Origin) -> LegacyAction {
        match self.action(Rule::LegacyEncoding, origin) {
            Action::Off => LegacyAction::Off,
            Action::Tag => LegacyAction::Tag,
            Action::Reject => self.legacy_encoding.action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_table() {
        let cases = [
            ("10.0.0.0/8", "10.1.2.3", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("192.168.1.7", "192.168.1.7", true),
            ("192.168.1.7", "192.168.1.8", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("2001:db8::/32", "2001:db8::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("10.0.0.0/8", "::ffff:10.0.0.1", true),
            ("10.0.0.0/8", "2001:db8::1", false),
        ];
        for (net, ip, expected) in cases {
            let cidr: Cidr = net.parse().unwrap();
            assert_eq!(cidr.contains(ip.parse().unwrap()), expected, "{net} {ip}");
        }
        for bad in ["10.0.0.0/33", "10.0.0/8", "x", "::/129", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn origin_softens_conduct_rules_but_not_danger() {
        let config = PolicyConfig::default();
        assert_eq!(config.action(Rule::Subject, Origin::Submission), Action::Reject);
        assert_eq!(config.action(Rule::Subject, Origin::AgencyRelay), Action::Reject);
        assert_eq!(config.action(Rule::Subject, Origin::Internet), Action::Tag);
        assert_eq!(
            config.action(Rule::DangerousContent, Origin::Internet),
            Action::Reject
        );
        assert_eq!(config.legacy_action(Origin::Submission), LegacyAction::Convert);
        assert_eq!(config.legacy_action(Origin::Internet), LegacyAction::Tag);
    }

    /// The section documented in docs/policy.md and the embedded configuration's are
    /// the default, and typos are refused.
    #[test]
    fn documented_section_is_the_default_and_typos_fail() {
        let doc = include_str!("../../../docs/policy.md");
        let block = doc
            .split("```toml\n[policy]\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("docs/policy.md holds the [policy] section");
        let documented: toml::Table = format!("[policy]\n{block}").parse().unwrap();
        let section: PolicyConfig = documented["policy"].clone().try_into().unwrap();
        assert_eq!(section, PolicyConfig::default());
        // The embedded default configuration enforces exactly the defaults too.
        let example: toml::Table = include_str!("../../../config/congvu.toml").parse().unwrap();
        let embedded: PolicyConfig = example["policy"].clone().try_into().unwrap();
        assert_eq!(embedded, PolicyConfig::default());
        let custom: PolicyConfig = toml::from_str(
            "agency_relays = [\"10.0.0.0/8\"]\n[formats]\nallowed = [\"pdf\", \"docx\", \"zip\"]\n\
             [legacy_encoding]\naction = \"reject\"",
        )
        .unwrap();
        assert_eq!(
            custom.relay_origin("10.9.8.7".parse().unwrap()),
            Origin::AgencyRelay
        );
        assert_eq!(custom.formats.allowed, [Format::Pdf, Format::Docx, Format::Zip]);
        assert_eq!(custom.legacy_action(Origin::Submission), LegacyAction::Reject);
        for typo in [
            "internet_mod = \"tag\"",
            "[subject]\naction = \"refuse\"",
            "agency_relays = [\"10/8\"]",
        ] {
            assert!(toml::from_str::<PolicyConfig>(typo).is_err(), "{typo}");
        }
    }
}
