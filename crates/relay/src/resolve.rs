//! Name resolution for outbound delivery, behind [`Resolver`] so tests never ask
//! real DNS: [`DnsResolver`] uses hickory-resolver with the system's configuration,
//! [`StaticResolver`] answers from a table.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::dnssec::Proof;
use hickory_resolver::proto::rr::RData;

use crate::dane::{Tlsa, TlsaAnswer};

/// A failed lookup: permanent ones bounce, temporary ones are retried.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The domain does not exist (NXDOMAIN).
    #[error("domain {0} does not exist")]
    NoSuchDomain(String),
    /// The name exists but has no records of the type asked.
    #[error("no {1} records for {0}")]
    NoRecords(String, &'static str),
    #[error("DNS lookup for {0} failed: {1}")]
    Temporary(String, String),
}

/// One MX record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mx {
    pub preference: u16,
    /// Without the trailing dot; empty for the null MX `.` (RFC 7505).
    pub exchange: String,
}

pub type Lookup<'a, T> = Pin<Box<dyn Future<Output = Result<T, LookupError>> + Send + 'a>>;

pub trait Resolver: Send + Sync + 'static {
    fn mx<'a>(&'a self, domain: &'a str) -> Lookup<'a, Vec<Mx>>;
    fn ips<'a>(&'a self, host: &'a str) -> Lookup<'a, Vec<IpAddr>>;
    /// TXT records, each record's strings joined (RFC 7208 §3.3 style).
    fn txt<'a>(&'a self, name: &'a str) -> Lookup<'a, Vec<String>>;
    /// TLSA records and whether DNSSEC authenticated them (DANE, RFC 7672).
    fn tlsa<'a>(&'a self, name: &'a str) -> Lookup<'a, TlsaAnswer>;
}

/// The hosts to try for a domain, best first (RFC 5321 §5.1): MX exchanges by
/// ascending preference (ties shuffled, to spread load), or the domain itself when it
/// has no MX (implicit MX). `Err(NullMx)`-style refusal is [`Destination::NullMx`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Hosts(Vec<String>),
    /// RFC 7505 §3: the domain accepts no mail; fail permanently (5.1.10).
    NullMx,
}

pub async fn destination(resolver: &dyn Resolver, domain: &str) -> Result<Destination, LookupError> {
    let mut records = match resolver.mx(domain).await {
        Ok(records) => records,
        // RFC 5321 §5.1: no MX → the domain is its own implicit MX.
        Err(LookupError::NoRecords(..)) => return Ok(Destination::Hosts(vec![domain.to_owned()])),
        Err(other) => return Err(other),
    };
    if records.len() == 1 && records.first().is_some_and(|mx| mx.exchange.is_empty()) {
        return Ok(Destination::NullMx);
    }
    records.retain(|mx| !mx.exchange.is_empty());
    if records.is_empty() {
        return Ok(Destination::Hosts(vec![domain.to_owned()]));
    }
    // Random order among equal preferences (RFC 5321 §5.1), then a stable sort.
    use rand::seq::SliceRandom;
    records.shuffle(&mut rand::rng());
    records.sort_by_key(|mx| mx.preference);
    Ok(Destination::Hosts(
        records.into_iter().map(|mx| mx.exchange).collect(),
    ))
}

/// hickory-resolver with `/etc/resolv.conf`.
///
/// For DANE, TLSA lookups go through a second resolver that validates DNSSEC
/// itself (hickory's `validate` option, from the root trust anchor): a record is
/// authenticated only when hickory proves it `Secure`. The upstream resolver must
/// pass DNSSEC records through (DO bit); one that strips them makes every answer
/// unauthenticated, and DANE then never applies (logged per host).
pub struct DnsResolver {
    inner: TokioResolver,
    /// `Some` when DANE is enabled.
    validating: Option<TokioResolver>,
}

impl DnsResolver {
    /// `dnssec`: also build the validating resolver for TLSA lookups.
    pub fn from_system(dnssec: bool) -> Result<DnsResolver, String> {
        let builder = TokioResolver::builder_tokio().map_err(|e| e.to_string())?;
        let validating = if dnssec {
            let mut builder = TokioResolver::builder_tokio().map_err(|e| e.to_string())?;
            builder.options_mut().validate = true;
            Some(builder.build().map_err(|e| e.to_string())?)
        } else {
            None
        };
        Ok(DnsResolver {
            inner: builder.build().map_err(|e| e.to_string())?,
            validating,
        })
    }
}

fn lookup_error(name: &str, kind: &'static str, error: hickory_resolver::net::NetError) -> LookupError {
    if error.is_nx_domain() {
        LookupError::NoSuchDomain(name.to_owned())
    } else if error.is_no_records_found() {
        LookupError::NoRecords(name.to_owned(), kind)
    } else {
        LookupError::Temporary(name.to_owned(), error.to_string())
    }
}

/// Absolute form, so the resolver's search list is never appended.
fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

impl Resolver for DnsResolver {
    fn mx<'a>(&'a self, domain: &'a str) -> Lookup<'a, Vec<Mx>> {
        Box::pin(async move {
            let lookup = self
                .inner
                .mx_lookup(fqdn(domain))
                .await
                .map_err(|e| lookup_error(domain, "MX", e))?;
            Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::MX(mx) => Some(Mx {
                        preference: mx.preference,
                        exchange: mx.exchange.to_ascii().trim_end_matches('.').to_owned(),
                    }),
                    _ => None,
                })
                .collect())
        })
    }

    fn ips<'a>(&'a self, host: &'a str) -> Lookup<'a, Vec<IpAddr>> {
        Box::pin(async move {
            let lookup = self
                .inner
                .lookup_ip(fqdn(host))
                .await
                .map_err(|e| lookup_error(host, "A/AAAA", e))?;
            Ok(lookup.iter().collect())
        })
    }

    fn txt<'a>(&'a self, name: &'a str) -> Lookup<'a, Vec<String>> {
        Box::pin(async move {
            let lookup = self
                .inner
                .txt_lookup(fqdn(name))
                .await
                .map_err(|e| lookup_error(name, "TXT", e))?;
            Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|part| String::from_utf8_lossy(part))
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect())
        })
    }

    fn tlsa<'a>(&'a self, name: &'a str) -> Lookup<'a, TlsaAnswer> {
        Box::pin(async move {
            let resolver = self.validating.as_ref().unwrap_or(&self.inner);
            let lookup = resolver
                .tlsa_lookup(fqdn(name))
                .await
                .map_err(|e| lookup_error(name, "TLSA", e))?;
            let mut authenticated = self.validating.is_some();
            let mut records = Vec::new();
            for record in lookup.answers() {
                if let RData::TLSA(tlsa) = &record.data {
                    authenticated &= record.proof == Proof::Secure;
                    records.push(Tlsa {
                        usage: tlsa.cert_usage.into(),
                        selector: tlsa.selector.into(),
                        matching: tlsa.matching.into(),
                        data: tlsa.cert_data.clone(),
                    });
                }
            }
            Ok(TlsaAnswer {
                authenticated: authenticated && !records.is_empty(),
                records,
            })
        })
    }
}

/// Answers from tables; names it does not know do not exist. For tests and for
/// closed networks without DNS.
#[derive(Clone, Debug, Default)]
pub struct StaticResolver {
    pub mx: HashMap<String, Vec<Mx>>,
    pub hosts: HashMap<String, Vec<IpAddr>>,
    pub txt: HashMap<String, Vec<String>>,
    /// TLSA answers as a validating resolver would give them.
    pub tlsa: HashMap<String, TlsaAnswer>,
}

impl StaticResolver {
    fn known(&self, name: &str) -> bool {
        self.mx.contains_key(name)
            || self.hosts.contains_key(name)
            || self.txt.contains_key(name)
            || self.tlsa.contains_key(name)
    }

    fn answer<T: Clone>(
        &self,
        table: &HashMap<String, T>,
        name: &str,
        kind: &'static str,
    ) -> Result<T, LookupError> {
        let name = name.to_ascii_lowercase();
        match table.get(&name) {
            Some(answer) => Ok(answer.clone()),
            None if self.known(&name) => Err(LookupError::NoRecords(name, kind)),
            None => Err(LookupError::NoSuchDomain(name)),
        }
    }
}

impl Resolver for StaticResolver {
    fn mx<'a>(&'a self, domain: &'a str) -> Lookup<'a, Vec<Mx>> {
        Box::pin(std::future::ready(self.answer(&self.mx, domain, "MX")))
    }

    fn ips<'a>(&'a self, host: &'a str) -> Lookup<'a, Vec<IpAddr>> {
        Box::pin(std::future::ready(self.answer(&self.hosts, host, "A/AAAA")))
    }

    fn txt<'a>(&'a self, name: &'a str) -> Lookup<'a, Vec<String>> {
        Box::pin(std::future::ready(self.answer(&self.txt, name, "TXT")))
    }

    fn tlsa<'a>(&'a self, name: &'a str) -> Lookup<'a, TlsaAnswer> {
        Box::pin(std::future::ready(self.answer(&self.tlsa, name, "TLSA")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mx(preference: u16, exchange: &str) -> Mx {
        Mx {
            preference,
            exchange: exchange.into(),
        }
    }

    #[tokio::test]
    async fn mx_order_implicit_mx_and_null_mx() {
        let mut resolver = StaticResolver::default();
        resolver
            .mx
            .insert("a.vn".into(), vec![mx(20, "backup.a.vn"), mx(10, "mx.a.vn")]);
        resolver.mx.insert("null.vn".into(), vec![mx(0, "")]);
        resolver
            .hosts
            .insert("plain.vn".into(), vec!["127.0.0.1".parse().unwrap()]);
        let table = [
            (
                "a.vn",
                Ok(Destination::Hosts(vec!["mx.a.vn".into(), "backup.a.vn".into()])),
            ),
            ("null.vn", Ok(Destination::NullMx)),
            ("plain.vn", Ok(Destination::Hosts(vec!["plain.vn".into()]))),
            ("nowhere.vn", Err(LookupError::NoSuchDomain("nowhere.vn".into()))),
        ];
        for (domain, expected) in table {
            assert_eq!(destination(&resolver, domain).await, expected, "{domain}");
        }
    }
}
