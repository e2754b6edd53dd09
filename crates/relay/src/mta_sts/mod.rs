//! MTA-STS (RFC 8461): a domain that publishes `_mta-sts.<domain>` TXT and a policy
//! at `https://mta-sts.<domain>/.well-known/mta-sts.txt` tells senders which MX hosts
//! are genuine and that they must be reached over TLS with a valid certificate.
//!
//! ```text
//!   TXT _mta-sts.<domain> ─┬─ id = cached id, cache fresh ──► cached policy
//!                          ├─ no (valid) record, cache fresh ──► cached policy (RFC 8461 §5.1)
//!                          ├─ new id / nothing cached ──► fetch ─┬─ ok ──► cache for max_age, use
//!                          │                                     └─ failed ──► cached policy, or none
//!                          └─ no record, nothing cached ──► no policy
//!   enforce: only MX hosts matching `mx`, TLS required, certificate valid for the
//!            host under the configured roots; otherwise the attempt is deferred (4xx).
//!   testing: delivered as without a policy; what enforce would refuse is logged.
//! ```
//! The cache is in memory: after a restart the first delivery to a domain fetches
//! its policy again (a network attacker present at exactly that moment could hide
//! it — the trust-on-first-use weakness RFC 8461 §10.2 describes, widened by the
//! restart).
//!
//! MTA-STS applies only to MX destinations: a `[[routes]]` entry has its own `tls`.

pub mod fetch;
pub mod policy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::resolve::Resolver;
pub use fetch::{HttpsFetcher, PolicyFetcher};
pub use policy::{Mode, Policy};

struct Cached {
    id: String,
    policy: Policy,
    expires: Instant,
}

/// Policies of recipient domains, with their cache.
pub struct Sts {
    resolver: Arc<dyn Resolver>,
    fetcher: Arc<dyn PolicyFetcher>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Sts {
    pub fn new(resolver: Arc<dyn Resolver>, fetcher: Arc<dyn PolicyFetcher>) -> Sts {
        Sts {
            resolver,
            fetcher,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The policy in force for `domain` (lower case), if any; `mode: none` counts
    /// as none.
    pub async fn policy(&self, domain: &str) -> Option<Policy> {
        let record = match self.resolver.txt(&format!("_mta-sts.{domain}")).await {
            Ok(txts) => policy::parse_record(&txts),
            Err(error) => {
                tracing::debug!(domain, error = %error, "no MTA-STS record");
                None
            }
        };
        let cached = self.cached(domain);
        let current = match (record, cached) {
            (Some(record), Some((id, policy))) if record.id == id => Some(policy),
            (None, cached) => cached.map(|(_, policy)| policy),
            (Some(record), cached) => match self.fetch(domain).await {
                Ok(policy) => {
                    tracing::info!(domain, id = %record.id, mode = ?policy.mode, max_age = policy.max_age.as_secs(), "MTA-STS policy fetched");
                    self.store(domain, record.id, policy.clone());
                    Some(policy)
                }
                Err(error) => {
                    tracing::warn!(domain, error = %error, cached = cached.is_some(), "cannot fetch the MTA-STS policy");
                    cached.map(|(_, policy)| policy)
                }
            },
        };
        current.filter(|policy| policy.mode != Mode::None)
    }

    async fn fetch(&self, domain: &str) -> Result<Policy, String> {
        let body = self.fetcher.fetch(domain).await?;
        Policy::parse(&body).map_err(|e| e.to_string())
    }

    /// The cached id and policy, unless expired (an expired one is dropped).
    fn cached(&self, domain: &str) -> Option<(String, Policy)> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        match cache.get(domain) {
            Some(entry) if entry.expires > Instant::now() => Some((entry.id.clone(), entry.policy.clone())),
            Some(_) => {
                cache.remove(domain);
                None
            }
            None => None,
        }
    }

    fn store(&self, domain: &str, id: String, policy: Policy) {
        let expires = Instant::now() + policy.max_age;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(domain.to_owned(), Cached { id, policy, expires });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::StaticResolver;

    /// Serves `body` (or fails when empty) and counts the fetches.
    struct Fixed(Mutex<Vec<u8>>, AtomicUsize);

    impl PolicyFetcher for Fixed {
        fn fetch<'a>(&'a self, _domain: &'a str) -> fetch::Fetch<'a> {
            self.1.fetch_add(1, Ordering::SeqCst);
            let body = self.0.lock().unwrap().clone();
            Box::pin(async move {
                if body.is_empty() {
                    Err("refused".into())
                } else {
                    Ok(body)
                }
            })
        }
    }

    #[tokio::test]
    async fn cache_follows_the_record_id_and_survives_fetch_failures() {
        let mut resolver = StaticResolver::default();
        let set_id = |resolver: &mut StaticResolver, id: &str| {
            resolver
                .txt
                .insert("_mta-sts.congty.vn".into(), vec![format!("v=STSv1; id={id}")]);
        };
        set_id(&mut resolver, "1");
        let enforce = b"version: STSv1\nmode: enforce\nmx: mx.congty.vn\nmax_age: 3600\n".to_vec();
        let fetcher = Arc::new(Fixed(Mutex::new(enforce), AtomicUsize::new(0)));
        let sts = Sts::new(Arc::new(resolver.clone()), fetcher.clone());
        let first = sts.policy("congty.vn").await.unwrap();
        assert_eq!(first.mode, Mode::Enforce);
        assert_eq!(sts.policy("congty.vn").await, Some(first.clone()));
        assert_eq!(fetcher.1.load(Ordering::SeqCst), 1, "same id: from the cache");
        assert_eq!(sts.policy("other.vn").await, None, "no record, no policy");

        // A new id whose fetch fails: the cached policy stays in force.
        set_id(&mut resolver, "2");
        *fetcher.0.lock().unwrap() = Vec::new();
        let sts2 = Sts {
            resolver: Arc::new(resolver.clone()),
            fetcher: fetcher.clone(),
            cache: Mutex::new(std::mem::take(&mut *sts.cache.lock().unwrap())),
        };
        assert_eq!(sts2.policy("congty.vn").await, Some(first.clone()));
        // The record withdrawn: the cache still holds until max_age (RFC 8461 §5.1).
        resolver.txt.clear();
        let sts3 = Sts {
            resolver: Arc::new(resolver.clone()),
            fetcher: fetcher.clone(),
            cache: Mutex::new(std::mem::take(&mut *sts2.cache.lock().unwrap())),
        };
        assert_eq!(sts3.policy("congty.vn").await, Some(first));
        // A new id with `mode: none`: no policy from now on.
        set_id(&mut resolver, "3");
        *fetcher.0.lock().unwrap() = b"version: STSv1\nmode: none\nmax_age: 3600\n".to_vec();
        let sts4 = Sts {
            resolver: Arc::new(resolver),
            fetcher,
            cache: Mutex::new(std::mem::take(&mut *sts3.cache.lock().unwrap())),
        };
        assert_eq!(sts4.policy("congty.vn").await, None);
    }
}
