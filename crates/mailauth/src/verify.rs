//! The evaluation of one message: SPF, DKIM, ARC and DMARC with mail-auth, the
//! `Authentication-Results:` field, and the decision.
//!
//! ## Decisions (in this order)
//! 1. **Our own domain** (`refuse_local_spoof`): when the RFC5322.From domain or the
//!    MAIL FROM domain is a local domain, something must vouch for it — an SPF pass
//!    for a MAIL FROM (or, for the null sender, HELO) domain aligned with it, or a
//!    passing DKIM signature of an aligned domain. Our officials send through
//!    submission and the agencies' servers are `trusted_networks`, so a stranger
//!    claiming our domain is a forgery: `550 5.7.1`.
//!
//!    Every From address counts (several addresses, several From fields), with its
//!    domain normalised first (`crate::from`: CFWS around `@`, a trailing dot,
//!    `[name]` literals, case, IDNA A-labels), and the same normalised addresses are
//!    what DMARC evaluates. A From entry with no usable address (an RFC 2047 encoded
//!    word standing for the address, comments splitting it) that names one of our
//!    domains once decoded is a claim of that domain, under the same rule.
//! 2. **No usable From address** and none of our domains named: RFC 7489 §6.6.1
//!    leaves such a message to the receiver ("MAY reject"); it is delivered, tagged
//!    `dmarc=permerror (no usable From address)` and logged, since refusing would
//!    bounce broken-but-harmless automated mail, and DMARC could not be applied.
//! 3. **Our domain in a display name** (`"chutich@thanhhoa.gov.vn" <x@evil.vn>`):
//!    delivered, tagged (a comment on the `dmarc` result) and logged. Not refused:
//!    mailing lists that rewrite From for DMARC write the original address into the
//!    display name ("'a@b.vn' via List"), and DMARC is aligned on the real address.
//! 4. **DMARC** (RFC 7489 §6.6; mail-auth 0.13.3 follows DMARCbis' tree walk): a failure under `p=reject` is refused
//!    (`550 5.7.1`) when `dmarc_reject` is on; under `p=quarantine` (or `p=reject`
//!    with `dmarc_reject` off) the message is delivered and the header says
//!    `dmarc=fail … policy.dmarc=quarantine|reject` for filters and readers.
//! 5. **DNS trouble**: a temporary DNS error that keeps a refusal of 1 or 4 from being
//!    decided gets `451 4.4.3`, so that the sender retries (RFC 7208 §8.6 for SPF;
//!    for DMARC the handling of a temporary error is the receiver's choice). A
//!    temporary error that could not change the outcome only shows as `temperror`
//!    in the header.
//!
//! SPF alone never refuses: a failing SPF with no DMARC policy is reported and
//! delivered (RFC 7489 §10.1: reject on SPF before DMARC breaks forwarding); ARC is
//! read and reported, and overrides nothing. The RFC 8601 field goes on every
//! checked message.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use congvu_policy::{Bilingual, Cidr};
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimOutput, DkimResult, DmarcOutput, DmarcResult,
    MessageAuthenticator, Parameters, SpfOutput, SpfResult,
};

use crate::Metrics;
use crate::config::InboundAuthConfig;
use crate::from::{FromFields, normalise_domain};

/// Retries of one DNS query before it is a temporary error.
const DNS_ATTEMPTS: usize = 2;
/// The budget of one whole check, in DNS timeouts.
const BUDGET_IN_TIMEOUTS: u32 = 6;

#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    #[error("cannot read the system's DNS configuration ({0}); set [inbound_auth] dns_servers")]
    SystemDns(String),
    #[error("cannot build the DNS resolver: {0}")]
    Resolver(String),
}

/// What the SMTP session knows about one message arriving on the MX port.
pub struct Input<'a> {
    /// The message as received (trace fields prepended are harmless).
    pub message: &'a [u8],
    pub peer: IpAddr,
    /// The EHLO/HELO argument.
    pub helo: &'a str,
    /// The MAIL FROM address, empty for the null reverse-path.
    pub mail_from: &'a str,
    /// Whether a domain is one of ours.
    pub is_local_domain: &'a (dyn Fn(&str) -> bool + Sync),
}

/// What to do with the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept,
    /// DMARC failed under a policy that is not enforced by refusal: delivered,
    /// tagged by the header.
    Quarantine,
    Refuse(Refusal),
    /// A temporary DNS failure kept a refusal from being decided.
    Defer,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// DMARC failed and the domain asks for rejection.
    Dmarc { domain: String },
    /// A local domain claimed without anything vouching for it.
    LocalSpoof { domain: String },
}

impl Refusal {
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::Dmarc { .. } => "dmarc_reject",
            Refusal::LocalSpoof { .. } => "local_spoof",
        }
    }

    /// The reply text for `550 5.7.1`, Vietnamese first.
    pub fn text(&self) -> Bilingual {
        match self {
            Refusal::Dmarc { domain } => Bilingual::new(
                format!(
                    "Thư không qua được kiểm tra DMARC của tên miền {domain}, \
                     chủ tên miền yêu cầu từ chối thư này"
                ),
                format!("message failed the DMARC check of {domain}, whose owner asks for rejection"),
            ),
            Refusal::LocalSpoof { domain } => Bilingual::new(
                format!(
                    "Thư mạo danh tên miền {domain} của hệ thống: thư của tên miền này \
                     phải được gửi qua máy chủ thư công vụ"
                ),
                format!(
                    "forged sender in our domain {domain}: its mail must be sent through \
                     the province's mail server"
                ),
            ),
        }
    }
}

/// Something odd in RFC5322.From that did not refuse the message: it is logged and
/// tagged in the `Authentication-Results:` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FromNote {
    /// No From field yields a usable address (RFC 7489 §6.6.1).
    NoAddress,
    /// One of our domains is in the display name of an address elsewhere.
    LocalDomainInName { domain: String },
}

impl FromNote {
    pub fn as_str(&self) -> &'static str {
        match self {
            FromNote::NoAddress => "no_from_address",
            FromNote::LocalDomainInName { .. } => "local_domain_in_display_name",
        }
    }

    /// The RFC 8601 comment (ASCII: the domain is in A-labels).
    fn comment(&self) -> String {
        match self {
            FromNote::NoAddress => "(no usable From address)".to_owned(),
            FromNote::LocalDomainInName { domain } => format!("(From display name names {domain})"),
        }
    }
}

/// The reply text for `451 4.4.3`, Vietnamese first.
pub fn defer_text() -> Bilingual {
    Bilingual::new(
        "Tạm thời không kiểm tra được người gửi (lỗi DNS), vui lòng gửi lại sau",
        "sender authentication temporarily failed (DNS error), try again later",
    )
}

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `Authentication-Results: …\r\n`, to prepend.
    pub header: String,
    pub decision: Decision,
    /// Each method's result keyword (RFC 8601 §2.7): `pass`, `fail`, `none`, …
    pub spf: &'static str,
    /// `pass` when any signature passes, else the first signature's result.
    pub dkim: &'static str,
    pub arc: &'static str,
    pub dmarc: &'static str,
    /// The DMARC policy that applied (`none` without a record).
    pub dmarc_policy: &'static str,
    /// The RFC5322.From domain, empty when there is none.
    pub from_domain: String,
    pub from_note: Option<FromNote>,
}

/// Checks messages; one per server, shared by every MX session.
pub struct Verifier {
    authenticator: MessageAuthenticator,
    authserv_id: String,
    /// Our host name, for SPF's `%{r}` macro.
    hostname: String,
    dmarc_reject: bool,
    refuse_local_spoof: bool,
    trusted: Vec<Cidr>,
    budget: Duration,
    metrics: Arc<Metrics>,
}

impl Verifier {
    /// A verifier asking `config.dns_servers` only, or the system's resolvers when
    /// none is given.
    pub fn new(config: &InboundAuthConfig, hostname: &str) -> Result<Verifier, VerifierError> {
        let (resolver_config, mut options) = if config.dns_servers.is_empty() {
            hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| VerifierError::SystemDns(e.to_string()))?
        } else {
            let servers = config
                .dns_servers
                .iter()
                .map(|server| {
                    let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                        .into_iter()
                        .map(|mut connection| {
                            connection.port = server.0.port();
                            connection
                        })
                        .collect();
                    NameServerConfig::new(server.0.ip(), true, connections)
                })
                .collect();
            (
                ResolverConfig::from_name_servers(servers),
                ResolverOpts::default(),
            )
        };
        options.timeout = config.dns_timeout();
        options.attempts = DNS_ATTEMPTS;
        // Authentication records come from the DNS, never from /etc/hosts.
        options.use_hosts_file = ResolveHosts::Never;
        let authenticator = MessageAuthenticator::new(resolver_config, options)
            .map_err(|e| VerifierError::Resolver(e.to_string()))?;
        Ok(Verifier {
            authenticator,
            authserv_id: config.authserv_id_or(hostname).to_owned(),
            hostname: hostname.to_owned(),
            dmarc_reject: config.dmarc_reject,
            refuse_local_spoof: config.refuse_local_spoof,
            trusted: config.trusted_networks.clone(),
            budget: config.dns_timeout() * BUDGET_IN_TIMEOUTS,
            metrics: Arc::default(),
        })
    }

    pub fn authserv_id(&self) -> &str {
        &self.authserv_id
    }

    /// Mail from these peers is not checked.
    pub fn is_trusted(&self, peer: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(peer))
    }

    /// The decisions counted so far.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Checks one message within the time budget; past it, the message is deferred.
    /// The decision is counted in [`Verifier::metrics`].
    pub async fn check(&self, input: &Input<'_>) -> Outcome {
        let outcome = self.check_in_time(input).await;
        self.metrics.record(&outcome.decision);
        outcome
    }

    async fn check_in_time(&self, input: &Input<'_>) -> Outcome {
        match tokio::time::timeout(self.budget, self.evaluate(input)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome {
                header: format!(
                    "Authentication-Results: {};\r\n\tnone (sender authentication timed out)\r\n",
                    self.authserv_id
                ),
                decision: Decision::Defer,
                spf: "temperror",
                dkim: "temperror",
                arc: "temperror",
                dmarc: "temperror",
                dmarc_policy: "none",
                from_domain: String::new(),
                from_note: None,
            },
        }
    }

    async fn evaluate(&self, input: &Input<'_>) -> Outcome {
        let Some(mut message) = AuthenticatedMessage::parse(input.message) else {
            // No header section to speak of: nothing to authenticate (RFC 8601 §2.2).
            return Outcome {
                header: format!("Authentication-Results: {}; none\r\n", self.authserv_id),
                decision: Decision::Accept,
                spf: "none",
                dkim: "none",
                arc: "none",
                dmarc: "none",
                dmarc_policy: "none",
                from_domain: String::new(),
                from_note: None,
            };
        };
        let from = FromFields::read(message.headers.iter().copied(), input.is_local_domain);
        // DMARC evaluates the normalised addresses, not mail-auth's raw reading.
        message.from.clone_from(&from.addresses);
        let from_note = if from.addresses.is_empty() {
            Some(FromNote::NoAddress)
        } else {
            from.local_in_name
                .clone()
                .map(|domain| FromNote::LocalDomainInName { domain })
        };
        let mail_from_domain = domain_of(input.mail_from);
        // RFC 7208 §2.4: the null reverse-path is checked as postmaster@<HELO>.
        let spf_domain = mail_from_domain.as_deref().unwrap_or(input.helo);
        let spf = if input.mail_from.is_empty() {
            let params = SpfParameters::verify_ehlo(input.peer, input.helo, &self.hostname);
            self.authenticator.verify_spf(Parameters::new(params)).await
        } else {
            let params =
                SpfParameters::verify_mail_from(input.peer, input.helo, &self.hostname, input.mail_from);
            self.authenticator.verify_spf(Parameters::new(params)).await
        };
        let dkim = self.authenticator.verify_dkim(Parameters::new(&message)).await;
        let arc = self.authenticator.verify_arc(Parameters::new(&message)).await;
        let dmarc = self
            .authenticator
            .verify_dmarc(Parameters::new(DmarcParameters::new(
                &message, &dkim, spf_domain, &spf,
            )))
            .await;

        let from_domains: Vec<&str> = from
            .addresses
            .iter()
            .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d))
            .collect();
        // Named by an entry without an address: a claim like an address's domain.
        let claimed: Vec<&str> = from_domains
            .iter()
            .copied()
            .chain(from.mentioned_local.iter().map(String::as_str))
            .collect();
        let decision = self.decide(
            input,
            &claimed,
            mail_from_domain.as_deref(),
            spf_domain,
            &spf,
            &dkim,
            &dmarc,
        );
        Outcome {
            header: self.header(input, &message, &spf, &dkim, &arc, &dmarc, from_note.as_ref()),
            decision,
            spf: spf_keyword(spf.result()),
            dkim: dkim
                .iter()
                .map(|o| dkim_keyword(o.result()))
                .find(|k| *k == "pass")
                .or_else(|| dkim.first().map(|o| dkim_keyword(o.result())))
                .unwrap_or("none"),
            arc: dkim_keyword(arc.result()),
            dmarc: if from_note == Some(FromNote::NoAddress) {
                "permerror"
            } else {
                dmarc_keyword(&dmarc.result())
            },
            dmarc_policy: policy_keyword(&dmarc),
            from_domain: from_domains.first().copied().unwrap_or("").to_owned(),
            from_note,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        input: &Input<'_>,
        from_domains: &[&str],
        mail_from_domain: Option<&str>,
        spf_domain: &str,
        spf: &SpfOutput,
        dkim: &[DkimOutput<'_>],
        dmarc: &DmarcOutput,
    ) -> Decision {
        if self.refuse_local_spoof {
            let vouched = |domain: &str| {
                (spf.result() == SpfResult::Pass && aligned(spf_domain, domain))
                    || dkim.iter().any(|o| {
                        o.result() == &DkimResult::Pass
                            && o.signature().is_some_and(|s| aligned(&s.d, domain))
                    })
            };
            let temporary = spf.result() == SpfResult::TempError
                || dkim
                    .iter()
                    .any(|o| matches!(o.result(), DkimResult::TempError(_)));
            let claimed = from_domains
                .iter()
                .copied()
                .chain(mail_from_domain)
                .find(|d| (input.is_local_domain)(d) && !vouched(d));
            if let Some(domain) = claimed {
                return if temporary {
                    Decision::Defer
                } else {
                    Decision::Refuse(Refusal::LocalSpoof {
                        domain: domain.to_ascii_lowercase(),
                    })
                };
            }
        }
        match dmarc.result() {
            DmarcResult::Fail(_) => match dmarc.policy() {
                Policy::Reject if self.dmarc_reject => Decision::Refuse(Refusal::Dmarc {
                    domain: dmarc.domain().to_owned(),
                }),
                Policy::Reject | Policy::Quarantine => Decision::Quarantine,
                Policy::None | Policy::Unspecified => Decision::Accept,
            },
            // No record read (the lookup failed) or a reject policy: the verdict
            // could have been a refusal.
            DmarcResult::TempError(_)
                if self.dmarc_reject
                    && (dmarc.dmarc_record().is_none() || dmarc.policy() == Policy::Reject) =>
            {
                Decision::Defer
            }
            _ => Decision::Accept,
        }
    }

    /// `Authentication-Results:` (RFC 8601) with spf, dkim, arc and dmarc, each
    /// present even when `none`; a [`FromNote`] is a comment ending the dmarc result.
    #[allow(clippy::too_many_arguments)]
    fn header(
        &self,
        input: &Input<'_>,
        message: &AuthenticatedMessage<'_>,
        spf: &SpfOutput,
        dkim: &[DkimOutput<'_>],
        arc: &mail_auth::ArcOutput<'_>,
        dmarc: &DmarcOutput,
        from_note: Option<&FromNote>,
    ) -> String {
        let spf = if input.mail_from.is_empty() {
            AuthenticationResults::new(&self.authserv_id).with_spf_ehlo_result(spf, input.peer, input.helo)
        } else {
            AuthenticationResults::new(&self.authserv_id).with_spf_mailfrom_result(
                spf,
                input.peer,
                input.mail_from,
                input.helo,
            )
        };
        let mut header = format!("Authentication-Results: {spf}");
        if dkim.is_empty() {
            header.push_str(";\r\n\tdkim=none");
        } else {
            let from = message.from.first().map_or("", String::as_str);
            header += &AuthenticationResults::new("")
                .with_dkim_results(dkim, from)
                .to_string();
        }
        header += &AuthenticationResults::new("")
            .with_arc_result(arc, input.peer)
            .to_string();
        if from_note == Some(&FromNote::NoAddress) {
            header.push_str(";\r\n\tdmarc=permerror");
        } else if dmarc.domain().is_empty() {
            header.push_str(";\r\n\tdmarc=none");
        } else {
            header += &AuthenticationResults::new("")
                .with_dmarc_result(dmarc)
                .to_string();
        }
        if let Some(note) = from_note {
            header.push(' ');
            header.push_str(&note.comment());
        }
        header.push_str("\r\n");
        header
    }
}

/// The normalised domain of an envelope address (the SMTP parser validated its syntax).
fn domain_of(address: &str) -> Option<String> {
    address.rsplit_once('@').and_then(|(_, d)| normalise_domain(d))
}

/// Relaxed alignment for our own domains: equal, or one a subdomain of the other
/// (RFC 7489 §3.1 uses the organizational domain; ours are never public suffixes).
fn aligned(a: &str, b: &str) -> bool {
    let a = a.trim_end_matches('.').to_ascii_lowercase();
    let b = b.trim_end_matches('.').to_ascii_lowercase();
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}"))
}

fn spf_keyword(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

fn dkim_keyword(result: &DkimResult) -> &'static str {
    match result {
        DkimResult::Pass => "pass",
        DkimResult::Neutral(_) => "neutral",
        DkimResult::Fail(_) => "fail",
        DkimResult::PermError(_) => "permerror",
        DkimResult::TempError(_) => "temperror",
        DkimResult::None => "none",
    }
}

fn dmarc_keyword(result: &DmarcResult) -> &'static str {
    match result {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}

fn policy_keyword(dmarc: &DmarcOutput) -> &'static str {
    match dmarc.policy() {
        Policy::Reject => "reject",
        Policy::Quarantine => "quarantine",
        Policy::None | Policy::Unspecified => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DnsServer;
    use crate::test_dns::{Responder, TestKey, Zone};

    const LOCAL: &str = "thanhhoa.gov.vn";

    fn is_local(domain: &str) -> bool {
        domain.eq_ignore_ascii_case(LOCAL)
    }

    fn verifier(dns: std::net::SocketAddr, tweak: impl FnOnce(&mut InboundAuthConfig)) -> Verifier {
        let mut config = InboundAuthConfig {
            dns_servers: vec![DnsServer(dns)],
            dns_timeout_secs: 1,
            ..InboundAuthConfig::default()
        };
        tweak(&mut config);
        Verifier::new(&config, "mx.test").unwrap()
    }

    fn message(from: &str) -> Vec<u8> {
        format!("From: <{from}>\r\nTo: <a@{LOCAL}>\r\nSubject: test\r\n\r\nbody\r\n").into_bytes()
    }

    async fn check(verifier: &Verifier, mail_from: &str, message: &[u8]) -> Outcome {
        verifier
            .check(&Input {
                message,
                peer: "127.0.0.1".parse().unwrap(),
                helo: "mail.sender.vn",
                mail_from,
                is_local_domain: &is_local,
            })
            .await
    }

    #[tokio::test]
    async fn spf_results_without_dmarc_never_refuse() {
        let dns = Responder::start(
            Zone::new()
                .txt("pass.vn", "v=spf1 ip4:127.0.0.0/8 -all")
                .txt("fail.vn", "v=spf1 ip4:192.0.2.1 -all")
                .txt("soft.vn", "v=spf1 ~all")
                .txt("broken.vn", "v=spf1 include:nowhere.vn -all"),
        )
        .unwrap();
        let verifier = verifier(dns.addr(), |_| {});
        for (domain, expected) in [
            ("pass.vn", "pass"),
            ("fail.vn", "fail"),
            ("soft.vn", "softfail"),
            ("none.vn", "none"),
            ("broken.vn", "permerror"),
        ] {
            let outcome = check(
                &verifier,
                &format!("x@{domain}"),
                &message(&format!("x@{domain}")),
            )
            .await;
            assert_eq!(outcome.spf, expected, "{domain}");
            assert_eq!(outcome.decision, Decision::Accept, "{domain}");
            assert!(
                outcome
                    .header
                    .starts_with("Authentication-Results: mx.test;\r\n\tspf=")
                    && outcome.header.contains(&format!("smtp.mailfrom=x@{domain}"))
                    && outcome.header.contains("dkim=none")
                    && outcome.header.contains("arc=none")
                    && outcome.header.contains("dmarc=none")
                    && outcome.header.ends_with("\r\n"),
                "{}",
                outcome.header
            );
        }
        // The null reverse-path: HELO is the identity (RFC 7208 §2.4).
        let outcome = check(&verifier, "", &message("x@pass.vn")).await;
        assert_eq!(outcome.spf, "none");
        assert!(
            outcome.header.contains("smtp.helo=mail.sender.vn"),
            "{}",
            outcome.header
        );
    }

    #[tokio::test]
    async fn dkim_pass_makes_dmarc_pass_and_a_broken_signature_fails() {
        let key = TestKey::new("signed.vn");
        let dns =
            Responder::start(key.publish(Zone::new().txt("_dmarc.signed.vn", "v=DMARC1; p=reject"))).unwrap();
        let verifier = verifier(dns.addr(), |_| {});
        let signed = key.sign(&message("x@signed.vn"));
        let outcome = check(&verifier, "bounce@elsewhere.vn", &signed).await;
        assert_eq!(
            (outcome.dkim, outcome.dmarc, outcome.decision.clone()),
            ("pass", "pass", Decision::Accept)
        );
        assert!(
            outcome
                .header
                .contains("dkim=pass header.d=signed.vn header.s=sel")
                && outcome
                    .header
                    .contains("dmarc=pass header.from=signed.vn policy.dmarc=reject"),
            "{}",
            outcome.header
        );
        assert_eq!(outcome.from_domain, "signed.vn");

        let mut tampered = signed.clone();
        let at = tampered.len() - 3;
        tampered[at] = b'X';
        let outcome = check(&verifier, "bounce@elsewhere.vn", &tampered).await;
        // mail-auth reports a body hash mismatch as `neutral`.
        assert_eq!(outcome.dkim, "neutral");
        assert_eq!(
            outcome.decision,
            Decision::Refuse(Refusal::Dmarc {
                domain: "signed.vn".into()
            })
        );
    }

    #[tokio::test]
    async fn dmarc_policies_reject_quarantine_and_the_switch() {
        let dns = Responder::start(
            Zone::new()
                .txt("strict.vn", "v=spf1 -all")
                .txt("_dmarc.strict.vn", "v=DMARC1; p=reject")
                .txt("_dmarc.careful.vn", "v=DMARC1; p=quarantine")
                .txt("_dmarc.relaxed.vn", "v=DMARC1; p=none")
                .txt("sender.vn", "v=spf1 ip4:127.0.0.1 -all"),
        )
        .unwrap();
        let honoured = verifier(dns.addr(), |_| {});
        let ignored = verifier(dns.addr(), |c| c.dmarc_reject = false);
        let strict = message("ceo@strict.vn");
        // SPF passes for the MAIL FROM domain, which is not aligned with From.
        let outcome = check(&honoured, "x@sender.vn", &strict).await;
        assert_eq!(
            (outcome.spf, outcome.dmarc, outcome.dmarc_policy),
            ("pass", "fail", "reject")
        );
        let refusal = Refusal::Dmarc {
            domain: "strict.vn".into(),
        };
        assert_eq!(outcome.decision, Decision::Refuse(refusal.clone()));
        assert!(
            refusal
                .text()
                .to_string()
                .starts_with("Thư không qua được kiểm tra DMARC")
        );
        assert_eq!(
            check(&ignored, "x@sender.vn", &strict).await.decision,
            Decision::Quarantine
        );
        // SPF fails for the aligned MAIL FROM: still a DMARC failure.
        let outcome = check(&honoured, "ceo@strict.vn", &strict).await;
        assert_eq!(
            (outcome.spf, outcome.decision.clone()),
            ("fail", Decision::Refuse(refusal))
        );
        let outcome = check(&honoured, "x@sender.vn", &message("a@careful.vn")).await;
        assert_eq!(outcome.decision, Decision::Quarantine);
        assert!(
            outcome
                .header
                .contains("dmarc=fail (policy not aligned) header.from=careful.vn policy.dmarc=quarantine"),
            "{}",
            outcome.header
        );
        let outcome = check(&honoured, "x@sender.vn", &message("a@relaxed.vn")).await;
        assert_eq!((outcome.dmarc, outcome.decision), ("fail", Decision::Accept));
        assert_eq!(
            honoured.metrics().snapshot(),
            crate::MetricsSnapshot {
                accepted: 1,
                quarantined: 1,
                refused_dmarc: 2,
                ..Default::default()
            }
        );
    }

    #[tokio::test]
    async fn our_domain_needs_a_voucher() {
        let key = TestKey::new(LOCAL);
        let dns = Responder::start(
            key.publish(
                Zone::new()
                    .txt(LOCAL, "v=spf1 ip4:192.0.2.25 -all")
                    .txt("evil.vn", "v=spf1 ip4:127.0.0.1 -all"),
            ),
        )
        .unwrap();
        let verifier = verifier(dns.addr(), |_| {});
        let spoof = Decision::Refuse(Refusal::LocalSpoof { domain: LOCAL.into() });
        let forged = message(&format!("chutich@{LOCAL}"));
        // From is ours, the envelope is a stranger's with a passing SPF.
        assert_eq!(check(&verifier, "x@evil.vn", &forged).await.decision, spoof);
        // MAIL FROM is ours and SPF does not pass; the null sender with our From.
        assert_eq!(
            check(&verifier, &format!("x@{LOCAL}"), &message("a@evil.vn"))
                .await
                .decision,
            spoof
        );
        assert_eq!(check(&verifier, "", &forged).await.decision, spoof);
        // Signed by us (a forwarded copy of our own mail): accepted.
        let outcome = check(&verifier, "x@evil.vn", &key.sign(&forged)).await;
        assert_eq!((outcome.dkim, outcome.decision), ("pass", Decision::Accept));
        // The switch off: reported, delivered.
        let off = super::tests::verifier(dns.addr(), |c| c.refuse_local_spoof = false);
        assert_eq!(check(&off, "x@evil.vn", &forged).await.decision, Decision::Accept);
        assert!(
            spoof_text().starts_with("Thư mạo danh tên miền thanhhoa.gov.vn"),
            "{}",
            spoof_text()
        );
    }

    /// The review's rows: our domain in From written so that a plain reading of the
    /// text after `@` misses it; all refused now, under `_dmarc` p=reject.
    #[tokio::test]
    async fn our_domain_in_unusual_from_syntax_is_refused() {
        let dns = Responder::start(
            Zone::new()
                .txt(LOCAL, "v=spf1 ip4:192.0.2.25 -all")
                .txt(&format!("_dmarc.{LOCAL}"), "v=DMARC1; p=reject")
                .txt("evil.vn", "v=spf1 ip4:127.0.0.1 -all"),
        )
        .unwrap();
        let verifier = verifier(dns.addr(), |_| {});
        let spoof = Decision::Refuse(Refusal::LocalSpoof { domain: LOCAL.into() });
        for from in [
            "<chutich@thanhhoa.gov.vn>",
            "chutich @ thanhhoa.gov.vn",
            "chutich@ thanhhoa.gov.vn",
            "<chutich@thanhhoa.gov.vn.>",
            "<chutich@[thanhhoa.gov.vn]>",
            "<chutich@THANHHOA.gov.vn>",
            "=?utf-8?q?chutich=40thanhhoa.gov.vn?=",
            "chutich(a)@(b)thanhhoa.gov.vn",
            "x@evil.vn, chutich@thanhhoa.gov.vn.",
        ] {
            let message = format!("From: {from}\r\nTo: <a@{LOCAL}>\r\nSubject: t\r\n\r\nbody\r\n");
            let outcome = check(&verifier, "x@evil.vn", message.as_bytes()).await;
            assert_eq!(outcome.decision, spoof, "{from}: {}", outcome.header);
        }
        // A second From field of ours behind a stranger's.
        let two = format!("From: x@evil.vn\r\nFrom: chutich@{LOCAL}.\r\n\r\nbody\r\n");
        assert_eq!(
            check(&verifier, "x@evil.vn", two.as_bytes()).await.decision,
            spoof
        );
        // With the local-spoof rule off, DMARC sees the normalised domain.
        let off = super::tests::verifier(dns.addr(), |c| c.refuse_local_spoof = false);
        for from in ["chutich @ thanhhoa.gov.vn", "<chutich@[THANHHOA.gov.vn.]>"] {
            let message = format!("From: {from}\r\n\r\nbody\r\n");
            let outcome = check(&off, "x@evil.vn", message.as_bytes()).await;
            assert_eq!(
                outcome.decision,
                Decision::Refuse(Refusal::Dmarc { domain: LOCAL.into() }),
                "{from}: {}",
                outcome.header
            );
            assert_eq!(outcome.from_domain, LOCAL);
        }
    }

    #[tokio::test]
    async fn odd_from_fields_that_do_not_claim_our_domain_are_tagged() {
        let dns = Responder::start(Zone::new().txt("evil.vn", "v=spf1 ip4:127.0.0.1 -all")).unwrap();
        let verifier = verifier(dns.addr(), |_| {});
        for message in [
            "To: <a@thanhhoa.gov.vn>\r\n\r\nno From at all\r\n".to_owned(),
            "From: =?utf-8?q?x=40evil.vn?=\r\n\r\nbody\r\n".to_owned(),
            "From: undisclosed\r\n\r\nbody\r\n".to_owned(),
        ] {
            let outcome = check(&verifier, "x@evil.vn", message.as_bytes()).await;
            assert_eq!(
                (outcome.decision, outcome.dmarc, outcome.from_note.clone()),
                (Decision::Accept, "permerror", Some(FromNote::NoAddress)),
                "{message}"
            );
            assert!(
                outcome
                    .header
                    .ends_with("\tdmarc=permerror (no usable From address)\r\n"),
                "{}",
                outcome.header
            );
        }
        let named = format!("From: \"chutich@{LOCAL}\" <x@evil.vn>\r\n\r\nbody\r\n");
        let outcome = check(&verifier, "x@evil.vn", named.as_bytes()).await;
        assert_eq!(outcome.decision, Decision::Accept);
        assert_eq!(
            outcome.from_note,
            Some(FromNote::LocalDomainInName { domain: LOCAL.into() })
        );
        assert_eq!(
            outcome.from_note.as_ref().map(FromNote::as_str),
            Some("local_domain_in_display_name")
        );
        assert!(
            outcome
                .header
                .ends_with(&format!("(From display name names {LOCAL})\r\n")),
            "{}",
            outcome.header
        );
        // An ordinary From: no note.
        let outcome = check(&verifier, "x@evil.vn", &message("x@evil.vn")).await;
        assert_eq!((outcome.decision, outcome.from_note), (Decision::Accept, None));
    }

    fn spoof_text() -> String {
        Refusal::LocalSpoof { domain: LOCAL.into() }.text().to_string()
    }

    #[tokio::test]
    async fn dns_failure_defers_what_could_be_refused() {
        // A socket that never answers: every query times out.
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let verifier = verifier(silent.local_addr().unwrap(), |_| {});
        let outcome = check(&verifier, "x@sender.vn", &message("a@somewhere.vn")).await;
        assert_eq!(outcome.decision, Decision::Defer);
        assert!(defer_text().to_string().contains("DNS"));
    }

    #[test]
    fn trusted_networks_and_authserv_id() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let verifier = verifier(silent.local_addr().unwrap(), |c| {
            c.trusted_networks.push("10.20.0.0/16".parse().unwrap());
            c.authserv_id = "auth.thanhhoa.gov.vn".into();
        });
        for (ip, trusted) in [
            ("127.0.0.1", true),
            ("::1", true),
            ("10.20.3.4", true),
            ("203.0.113.5", false),
        ] {
            assert_eq!(verifier.is_trusted(ip.parse().unwrap()), trusted, "{ip}");
        }
        assert_eq!(verifier.authserv_id(), "auth.thanhhoa.gov.vn");
    }

    #[test]
    fn alignment_of_our_domains() {
        assert!(aligned("thanhhoa.gov.vn", "THANHHOA.gov.vn."));
        assert!(aligned("sttt.thanhhoa.gov.vn", "thanhhoa.gov.vn"));
        assert!(!aligned("evilthanhhoa.gov.vn", "thanhhoa.gov.vn"));
    }
}
