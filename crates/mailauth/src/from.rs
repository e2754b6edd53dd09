//! The RFC5322.From field(s) of a message, read for the domains they claim
//! (I/O-free).
//!
//! Addresses are split by mail-parser, which is lenient; each address is then
//! normalised here, so that syntax a mail client shows as our domain is compared as
//! our domain: CFWS around the local part, `@` and the domain is dropped (RFC 5322
//! §3.4.1, obs-domain §4.4), one trailing dot is removed, a domain literal holding a
//! name rather than an IP address (`[thanhhoa.gov.vn]`) is read as that name, and
//! the domain is lowercased and converted to A-labels (IDNA, RFC 5890).
//!
//! An entry that yields no usable address (`=?utf-8?q?a=40b.vn?=`, `a(x)@(y)b.vn`) is
//! still searched, after RFC 2047 decoding, for names of our domains: see
//! [`FromFields::mentioned_local`].

use mail_parser::parsers::MessageStream;
use mail_parser::{Addr, Address, HeaderValue};

/// What the From fields of one message say.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FromFields {
    /// Every usable address, `local@domain` with the domain normalised.
    pub addresses: Vec<String>,
    /// Local domains named by an entry without a usable address.
    pub mentioned_local: Vec<String>,
    /// A local domain named in the display name (or comment, or group name) of an
    /// entry whose own address is usable.
    pub local_in_name: Option<String>,
}

impl FromFields {
    /// Reads every `From:` field among `headers` (name, raw value).
    pub fn read<'x>(
        headers: impl IntoIterator<Item = (&'x [u8], &'x [u8])>,
        is_local_domain: &dyn Fn(&str) -> bool,
    ) -> FromFields {
        let mut fields = FromFields::default();
        for (name, value) in headers {
            if !name.trim_ascii().eq_ignore_ascii_case(b"From") {
                continue;
            }
            let entries: Vec<&Addr<'_>>;
            let parsed = MessageStream::new(value).parse_address();
            let mut group_names = Vec::new();
            match &parsed {
                HeaderValue::Address(Address::List(list)) => entries = list.iter().collect(),
                HeaderValue::Address(Address::Group(groups)) => {
                    entries = groups.iter().flat_map(|g| g.addresses.iter()).collect();
                    group_names.extend(groups.iter().filter_map(|g| g.name.as_deref()));
                }
                _ => entries = Vec::new(),
            }
            if entries.is_empty() {
                // Nothing mail-parser calls an address: the whole decoded value.
                if let HeaderValue::Text(text) = MessageStream::new(value).parse_unstructured() {
                    fields.mention(&text, is_local_domain);
                }
                continue;
            }
            for entry in entries {
                let name = entry.name.as_deref().unwrap_or("");
                match entry.address.as_deref().and_then(normalise_address) {
                    Some(address) => {
                        if fields.local_in_name.is_none() {
                            fields.local_in_name = local_mentions(name, is_local_domain).into_iter().next();
                        }
                        fields.addresses.push(address);
                    }
                    None => {
                        let address = entry.address.as_deref().unwrap_or("");
                        fields.mention(&format!("{name} {address}"), is_local_domain);
                    }
                }
            }
            for name in group_names {
                if fields.local_in_name.is_none() {
                    fields.local_in_name = local_mentions(name, is_local_domain).into_iter().next();
                }
            }
        }
        fields
    }

    fn mention(&mut self, text: &str, is_local_domain: &dyn Fn(&str) -> bool) {
        for domain in local_mentions(text, is_local_domain) {
            if !self.mentioned_local.contains(&domain) {
                self.mentioned_local.push(domain);
            }
        }
    }
}

/// `local@domain` with the domain normalised; `None` without a usable domain. The
/// local part only loses its surrounding CFWS (mail-parser may leave it empty for a
/// quoted local part; the domain is what is checked).
fn normalise_address(address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@')?;
    let local = without_cfws(local);
    let domain = normalise_domain(domain)?;
    Some(format!("{}@{domain}", local.trim()))
}

/// A domain as it is compared: CFWS removed, one trailing dot removed, a name inside
/// `[ ]` unwrapped, lowercase A-labels. `None` when nothing usable is left. IP
/// literals are kept as `[…]`, lowercased.
pub(crate) fn normalise_domain(domain: &str) -> Option<String> {
    let domain = without_cfws(domain);
    let domain = domain.strip_suffix('.').unwrap_or(&domain);
    if let Some(inner) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let ip = inner
            .strip_prefix("IPv6:")
            .or_else(|| inner.strip_prefix("ipv6:"))
            .unwrap_or(inner);
        if ip.parse::<std::net::IpAddr>().is_ok() {
            return Some(format!("[{}]", inner.to_ascii_lowercase()));
        }
        return normalise_domain(inner);
    }
    let ascii = idna::domain_to_ascii(domain).ok()?;
    let valid = !ascii.is_empty()
        && ascii
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    valid.then_some(ascii)
}

/// `text` without comments (nested, with quoted pairs) and white space.
fn without_cfws(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut escaped = false;
    for c in text.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if depth > 0 => escaped = true,
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth > 0 || c.is_whitespace() => {}
            _ => out.push(c),
        }
    }
    out
}

/// The local domains named in free text: each run of domain characters, and each of
/// its parent domains, normalised and asked about.
fn local_mentions(text: &str, is_local_domain: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    let runs = text.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'));
    for run in runs.filter(|r| r.contains('.')) {
        let Some(domain) = normalise_domain(run.trim_matches('.')) else {
            continue;
        };
        let mut candidate = domain.as_str();
        loop {
            if is_local_domain(candidate) {
                if !found.iter().any(|f| f == candidate) {
                    found.push(candidate.to_owned());
                }
                break;
            }
            match candidate.split_once('.') {
                Some((_, parent)) if parent.contains('.') => candidate = parent,
                _ => break,
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_local(domain: &str) -> bool {
        domain == "thanhhoa.gov.vn"
    }

    fn read(value: &str) -> FromFields {
        let value = format!(" {value}\r\n");
        FromFields::read([(&b"From"[..], value.as_bytes())], &is_local)
    }

    #[test]
    fn addresses_are_normalised() {
        for value in [
            "<chutich@thanhhoa.gov.vn>",
            "chutich @ thanhhoa.gov.vn",
            "chutich@ thanhhoa.gov.vn",
            "<chutich@thanhhoa.gov.vn.>",
            "<chutich@[thanhhoa.gov.vn]>",
            "<chutich@THANHHOA.Gov.VN>",
            "<chutich @ thanhhoa . gov . vn>",
            "Chủ tịch <chutich@thanhhoa.gov.vn (ours)>",
        ] {
            assert_eq!(read(value).addresses, ["chutich@thanhhoa.gov.vn"], "{value}");
        }
        assert_eq!(read("a@thanhhoá.vn").addresses, ["a@xn--thanhho-nwa.vn"]);
        assert_eq!(read("a@[192.0.2.1]").addresses, ["a@[192.0.2.1]"]);
        assert_eq!(read("G: a@b.vn, c@D.vn;").addresses, ["a@b.vn", "c@d.vn"]);
    }

    #[test]
    fn entries_without_an_address_are_searched_for_our_domains() {
        for value in [
            "=?utf-8?q?chutich=40thanhhoa.gov.vn?=",
            "chutich(c)@(d)thanhhoa.gov.vn(e)",
            "=?utf-8?b?Y2h1dGljaEBUSEFOSEhPQS5nb3Yudm4u?=",
            "a@sttt.thanhhoa.gov.vn..",
        ] {
            let fields = read(value);
            assert_eq!(fields.mentioned_local, ["thanhhoa.gov.vn"], "{value}: {fields:?}");
        }
        let fields = read("=?utf-8?q?a=40elsewhere.vn?=");
        assert_eq!(fields, FromFields::default());
        assert_eq!(read(""), FromFields::default());
    }

    #[test]
    fn our_domain_in_a_display_name() {
        let fields = read("\"chutich@thanhhoa.gov.vn\" <x@evil.vn>");
        assert_eq!(fields.addresses, ["x@evil.vn"]);
        assert_eq!(fields.local_in_name.as_deref(), Some("thanhhoa.gov.vn"));
        assert!(fields.mentioned_local.is_empty());
        assert_eq!(read("Chủ tịch <x@evil.vn>").local_in_name, None);
    }
}
