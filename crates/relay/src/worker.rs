//! The queue worker: reads the store's queue when woken or when the earliest retry is
//! due, delivers due entries, and records each recipient's fate.
//!
//! ```text
//!   read ─► due entries not in flight ─► a batch of its own ─► group recipients by next hop
//!     ▲                                                         ─► per hop: ≤ connections_per_host
//!     │                                                            connections (shared by all
//!     │                                                            batches), each carrying
//!     │                                                            several messages in turn
//!     │                                                                      │ per entry, as soon as
//!     │                                                                      ▼ all its hops answered
//!     │                                  2xx: done (NOTIFY=SUCCESS, hop without DSN: relayed report)
//!     │                                  5xx: bounce (if NOTIFY allows) · 4xx: keep, retry after backoff
//!     │                                  none left: remove (only now: after every remote 250)
//!     └── on the first of: a wake (QueueWaker: mail queued, operator's retry), a batch
//!         finished (its reports may be due), the earliest next attempt, the sweep
//!         (scan_interval_secs), shutdown
//! ```
//! Crash safety: an entry leaves the store only after the last of its recipients was
//! accepted or bounced; the store write that records progress follows the remote
//! reply, so a crash in between delivers again (at least once), never loses.
//!
//! Invariants:
//! 1. No entry is in two batches at once (the in-flight marks), so concurrent
//!    batches never deliver a message twice; no entry is in two processes' batches
//!    at once either: a batch holds only entries the store let this process claim
//!    (`MailStore::claim_queue`, a lease of `[queue] claim_lease_secs` on
//!    PostgreSQL).
//!    A process that dies after a remote 250 and before recording it leaves the
//!    entry to be delivered again when the lease ends: the at-least-once window.
//! 2. At most `connections_per_host` connections per hop and `max_connections` in
//!    all, whatever the number of batches; at most [`MAX_IN_FLIGHT`] entries' bodies
//!    in memory.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use congvu_store::{
    AccountId, Delivery, DeliveryFolder, DeliveryOutcome, DsnRequest, EventRecord, MailEventKind, MailStore,
    Notify, Outbound, QueueEntry, QueueId, QueueUpdate,
};
use tokio::sync::{Semaphore, mpsc, watch};
use tracing::Instrument;

use crate::client::{Connection, Envelope, SessionError, SessionParams, data, local_reply};
use crate::config::{QueueConfig, Route, TlsMode};
use crate::dane::{self, Requirement};
use crate::dkim::Dkim;
use crate::dsn::{self, Action, RecipientStatus, Report, Returned};
use crate::metrics::{AttemptResult, DeliveryMetrics};
use crate::mta_sts::{HttpsFetcher, Mode, PolicyFetcher, Sts};
use crate::resolve::{Destination, LookupError, Resolver, destination};
use crate::route::{self, NextHop};
use crate::waker::QueueWaker;
use congvu_protocol::smtp::reply_parser::ServerReply;

/// Entries in delivery at once, in all batches: their bodies are held in memory.
const MAX_IN_FLIGHT: usize = 2000;

/// Entries one read of the queue claims: several nodes on one database each take
/// a share of a long queue, claim after claim, rather than the first taking it all.
const CLAIM_BATCH: usize = 100;

/// The fate of one recipient in one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx from a next hop that took the DSN parameters: reports are its job now.
    Delivered,
    /// 2xx from a next hop without DSN (the reply): a recipient that asked
    /// `NOTIFY=SUCCESS` earns its sender a `relayed` report (RFC 3461 §6.2.2).
    Relayed(String),
    /// 4xx or no answer: try again later.
    Deferred(String),
    /// 5xx: bounce.
    Failed(String),
}

impl Outcome {
    fn from_reply(reply: &ServerReply, dsn_passed_on: bool) -> Outcome {
        if reply.is_positive() && dsn_passed_on {
            Outcome::Delivered
        } else if reply.is_positive() {
            Outcome::Relayed(reply.summary())
        } else if reply.is_permanent() {
            Outcome::Failed(reply.summary())
        } else {
            Outcome::Deferred(reply.summary())
        }
    }
}

/// Everything the worker needs that the configuration decides.
pub struct RelaySettings {
    /// Our name in EHLO and in reports.
    pub hostname: String,
    pub queue: QueueConfig,
    pub routes: Vec<Route>,
    pub dkim: Dkim,
}

/// A route's TLS client configuration and credentials, prepared at start-up.
struct PreparedRoute {
    route: Route,
    tls: Arc<rustls::ClientConfig>,
    auth: Option<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("route #{index}: {message}")]
    Route { index: usize, message: String },
    #[error(
        "[queue] mta_sts_ca_file: {0} (install ca-certificates, name another file, or set mta_sts = false)"
    )]
    MtaSts(String),
}

/// MTA-STS: the policies, and the TLS configuration that verifies MX hosts under an
/// `enforce` policy.
#[derive(Clone)]
struct StsContext {
    policies: Arc<Sts>,
    verifying: Arc<rustls::ClientConfig>,
}

pub struct Relay {
    store: Arc<dyn MailStore>,
    resolver: Arc<dyn Resolver>,
    settings: RelaySettings,
    routes: Arc<Vec<PreparedRoute>>,
    opportunistic: Arc<rustls::ClientConfig>,
    connections: Arc<Semaphore>,
    hop_limits: Arc<HopLimits>,
    sts: Option<StsContext>,
    waker: QueueWaker,
    /// Entries some batch is delivering: no other batch takes them.
    in_flight: Mutex<HashSet<QueueId>>,
    metrics: Arc<DeliveryMetrics>,
}

/// What one read of the queue found.
struct Due {
    /// Entries due now that no batch holds, marked in flight.
    batch: Vec<QueueEntry>,
    /// The earliest `next_attempt` (Unix seconds) of the entries not yet due.
    next_due: Option<i64>,
    /// More entries were due than one claim takes: read again at once.
    more: bool,
}

/// The entries of a batch, marked in flight until it is dropped (finished,
/// or cut off at shutdown).
struct InFlight<'a> {
    marks: &'a Mutex<HashSet<QueueId>>,
    ids: HashSet<QueueId>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
        for id in &self.ids {
            marks.remove(id);
        }
    }
}

/// `connections_per_host` for every hop, across the batches delivering at once.
struct HopLimits {
    per_hop: usize,
    hops: Mutex<HashMap<NextHop, Arc<Semaphore>>>,
}

impl HopLimits {
    fn of(&self, hop: &NextHop) -> Arc<Semaphore> {
        let mut hops = self.hops.lock().unwrap_or_else(PoisonError::into_inner);
        // A hop no batch delivers to any more is forgotten: the map holds the hops
        // in flight, not every domain ever written to.
        hops.retain(|_, limit| Arc::strong_count(limit) > 1);
        hops.entry(hop.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_hop)))
            .clone()
    }
}

/// One host to try, and whether an MTA-STS `enforce` policy covers it.
struct Target {
    host: String,
    port: u16,
    sts_enforced: bool,
}

/// A message ready for the wire: CRLF lines, DKIM signature prepended.
struct Prepared {
    entry: QueueEntry,
    message: Vec<u8>,
}

/// One message's recipients at one hop.
struct Job {
    index: usize,
    recipients: Vec<String>,
}

impl Relay {
    pub fn new(
        settings: RelaySettings,
        store: Arc<dyn MailStore>,
        resolver: Arc<dyn Resolver>,
    ) -> Result<Relay, RelayError> {
        let opportunistic = crate::client::tls::unauthenticated();
        let mut routes = Vec::with_capacity(settings.routes.len());
        for (index, route) in settings.routes.iter().enumerate() {
            let fail = |message: String| RelayError::Route { index, message };
            if route::split_host_port(&route.next_hop).is_none() {
                return Err(fail(format!("next_hop {:?} is not host:port", route.next_hop)));
            }
            let tls = match &route.ca_file {
                Some(path) => crate::client::tls::verifying(path).map_err(fail)?,
                None => opportunistic.clone(),
            };
            let auth = match (&route.auth_user, &route.auth_password_file) {
                (Some(user), Some(file)) => {
                    let text = std::fs::read_to_string(file)
                        .map_err(|e| fail(format!("auth_password_file {}: {e}", file.display())))?;
                    let password = text.lines().next().unwrap_or("").to_owned();
                    Some((user.clone(), password))
                }
                (None, None) => None,
                _ => return Err(fail("auth_user and auth_password_file go together".into())),
            };
            if auth.is_some() && route.tls == TlsMode::None {
                return Err(fail("AUTH needs TLS; set tls = \"required\"".into()));
            }
            routes.push(PreparedRoute {
                route: route.clone(),
                tls,
                auth,
            });
        }
        let connections = Arc::new(Semaphore::new(settings.queue.max_connections.max(1)));
        let hop_limits = Arc::new(HopLimits {
            per_hop: settings.queue.connections_per_host.max(1),
            hops: Mutex::new(HashMap::new()),
        });
        // A process that does not deliver needs no roots (and must start without them).
        let sts = if settings.queue.mta_sts && settings.queue.enabled {
            let roots = crate::client::tls::load_roots(&settings.queue.mta_sts_ca_file)
                .map_err(RelayError::MtaSts)?;
            let verifying = crate::client::tls::verifying_roots(roots);
            let fetcher = HttpsFetcher::new(
                resolver.clone(),
                verifying.clone(),
                443,
                settings.queue.connect_timeout(),
            );
            Some(StsContext {
                policies: Arc::new(Sts::new(resolver.clone(), Arc::new(fetcher))),
                verifying,
            })
        } else {
            None
        };
        Ok(Relay {
            store,
            resolver,
            settings,
            routes: Arc::new(routes),
            opportunistic,
            connections,
            hop_limits,
            sts,
            waker: QueueWaker::new(),
            in_flight: Mutex::new(HashSet::new()),
            metrics: Arc::default(),
        })
    }

    /// The handle that wakes this worker: the binary gives the same one to every
    /// place that queues mail, so a queued message leaves at once (without one, new
    /// mail waits for the sweep, `scan_interval_secs`).
    pub fn with_waker(mut self, waker: QueueWaker) -> Relay {
        self.waker = waker;
        self
    }

    /// The attempts this worker counted (see `metrics`).
    pub fn metrics(&self) -> Arc<DeliveryMetrics> {
        Arc::clone(&self.metrics)
    }

    /// Replaces where MTA-STS policies come from (tests serve them on 127.0.0.1
    /// with their own CA); no effect with MTA-STS off.
    pub fn with_policy_fetcher(mut self, fetcher: Arc<dyn PolicyFetcher>) -> Relay {
        if let Some(sts) = &mut self.sts {
            sts.policies = Arc::new(Sts::new(self.resolver.clone(), fetcher));
        }
        self
    }

    /// Delivers until `stop` turns true; deliveries in flight then get the grace
    /// period to finish, and are cut off after it (they are retried after restart).
    ///
    /// It does not poll: it reads the queue when woken ([`Relay::with_waker`]), when
    /// the earliest retry is due, when a batch finishes, and every
    /// `scan_interval_secs` at most. What is due goes out as a batch of its own, so
    /// a message queued while a slow destination holds an earlier batch leaves at
    /// once; no entry is in two batches.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        if !self.settings.queue.enabled {
            tracing::info!("outbound queue delivery disabled by [queue] enabled = false");
            return;
        }
        tracing::info!(routes = self.routes.len(), "outbound queue worker started");
        let mut batches = tokio::task::JoinSet::new();
        let mut skip = HashSet::new();
        loop {
            let due = self.due(&skip).await;
            if !due.batch.is_empty() {
                let this = self.clone();
                batches.spawn(async move { this.deliver_batch(due.batch).await });
            }
            if due.more {
                continue;
            }
            let sweep = self.settings.queue.scan_interval();
            let wait = due.next_due.map_or(sweep, |at| until(at).min(sweep));
            tokio::select! {
                () = self.waker.woken() => skip.clear(),
                // Reports the batch queued may be due at once: look again. What it
                // attempted waits for its retry time, or, when recording the attempt
                // failed, for the next wake or the sweep: never a tight delivery loop.
                Some(finished) = batches.join_next() => skip = finished.unwrap_or_default(),
                () = tokio::time::sleep(wait) => skip.clear(),
                () = stopped(&mut stop) => {
                    let drained = async { while batches.join_next().await.is_some() {} };
                    if tokio::time::timeout(self.settings.queue.shutdown_grace(), drained).await.is_err() {
                        tracing::warn!("outbound deliveries cut off at shutdown; they are retried after restart");
                    }
                    return;
                }
            }
        }
    }

    /// One pass over the due entries, delivered before it returns; returns how many
    /// were attempted.
    pub async fn scan(&self) -> usize {
        let due = self.due(&HashSet::new()).await;
        self.deliver_batch(due.batch).await.len()
    }

    /// Reads the queue once: the entries that are due (except those in flight or in
    /// `skip`, and no more than the room left under [`MAX_IN_FLIGHT`]), now marked
    /// in flight, and when the next one will be.
    async fn due(&self, skip: &HashSet<QueueId>) -> Due {
        let store = self.store.clone();
        let now = now();
        let entries = match tokio::task::spawn_blocking(move || store.queue()).await {
            Ok(Ok(entries)) => entries,
            Ok(Err(error)) => {
                tracing::error!(error = %error, "cannot read the outbound queue");
                Vec::new()
            }
            Err(error) => {
                tracing::error!(error = %error, "queue scan task failed");
                Vec::new()
            }
        };
        let next_due = entries
            .iter()
            .map(|e| e.next_attempt)
            .filter(|&at| at > now)
            .min();
        let (candidates, more) = {
            let in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
            let room = MAX_IN_FLIGHT.saturating_sub(in_flight.len()).min(CLAIM_BATCH);
            let mut eligible: Vec<QueueId> = entries
                .iter()
                .filter(|e| e.next_attempt <= now && !skip.contains(&e.id) && !in_flight.contains(&e.id))
                .map(|e| e.id)
                .collect();
            let more = eligible.len() > room;
            eligible.truncate(room);
            (eligible, more)
        };
        let store = self.store.clone();
        let lease = i64::try_from(self.settings.queue.claim_lease_secs).unwrap_or(i64::MAX / 2);
        let claimed = if candidates.is_empty() {
            Ok(Ok(Vec::new()))
        } else {
            tokio::task::spawn_blocking(move || store.claim_queue(&candidates, now, now + lease)).await
        };
        let claimed = match claimed {
            Ok(Ok(claimed)) => claimed,
            Ok(Err(error)) => {
                tracing::error!(error = %error, "cannot claim queue entries");
                Vec::new()
            }
            Err(error) => {
                tracing::error!(error = %error, "queue claim task failed");
                Vec::new()
            }
        };
        let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        let batch: Vec<QueueEntry> = claimed.into_iter().filter(|e| in_flight.insert(e.id)).collect();
        let more = more && !batch.is_empty();
        Due {
            batch,
            next_due,
            more,
        }
    }

    /// Delivers a batch that [`Relay::due`] marked in flight; returns the entries
    /// attempted (those whose body could be read).
    async fn deliver_batch(&self, batch: Vec<QueueEntry>) -> HashSet<QueueId> {
        let _marked = InFlight {
            marks: &self.in_flight,
            ids: batch.iter().map(|e| e.id).collect(),
        };
        if batch.is_empty() {
            return HashSet::new();
        }
        let prepared = self.prepare(batch).await;
        let attempted = prepared.iter().map(|p| p.entry.id).collect();
        self.deliver(Arc::new(prepared)).await;
        attempted
    }

    /// Reads each body, normalises its line endings and signs it.
    async fn prepare(&self, due: Vec<QueueEntry>) -> Vec<Prepared> {
        let mut prepared = Vec::with_capacity(due.len());
        for entry in due {
            let store = self.store.clone();
            let blob = entry.blob;
            let body = match tokio::task::spawn_blocking(move || store.read_blob(&blob)).await {
                Ok(Ok(body)) => body,
                Ok(Err(error)) => {
                    tracing::error!(queue_id = entry.id.0, error = %error, "cannot read a queued message");
                    continue;
                }
                Err(error) => {
                    tracing::error!(queue_id = entry.id.0, error = %error, "blob read task failed");
                    continue;
                }
            };
            let normalized = data::normalize_crlf(&body);
            let message = match self.settings.dkim.signature(&normalized) {
                Some(signature) => [signature.as_bytes(), &normalized].concat(),
                None => normalized,
            };
            prepared.push(Prepared { entry, message });
        }
        prepared
    }

    /// Delivers every prepared entry; each is finalised as soon as all its hops
    /// answered.
    async fn deliver(&self, prepared: Arc<Vec<Prepared>>) {
        let mut hops: HashMap<NextHop, Vec<Job>> = HashMap::new();
        let mut pending: Vec<usize> = vec![0; prepared.len()];
        let mut outcomes: Vec<Vec<(String, Outcome)>> = vec![Vec::new(); prepared.len()];
        for (index, item) in prepared.iter().enumerate() {
            let mut by_hop: HashMap<NextHop, Vec<String>> = HashMap::new();
            for recipient in &item.entry.recipients {
                match route::domain_of(recipient) {
                    Some(domain) => by_hop
                        .entry(route::next_hop(&self.settings.routes, domain))
                        .or_default()
                        .push(recipient.clone()),
                    None => outcomes[index].push((
                        recipient.clone(),
                        Outcome::Failed("553 5.1.3 recipient has no domain".into()),
                    )),
                }
            }
            pending[index] = by_hop.len();
            for (hop, recipients) in by_hop {
                hops.entry(hop).or_default().push(Job { index, recipients });
            }
        }

        let (results, mut incoming) = mpsc::unbounded_channel::<(usize, Vec<(String, Outcome)>)>();
        let mut tasks = tokio::task::JoinSet::new();
        for (hop, jobs) in hops {
            let span = tracing::info_span!("relay", hop = %hop);
            let results = results.clone();
            let prepared = prepared.clone();
            let this = self.hop_context(&hop);
            tasks
                .spawn(async move { this.deliver_hop(hop, jobs, &prepared, results).await }.instrument(span));
        }
        drop(results);
        // Entries with no hop at all (every recipient malformed) finish at once.
        let mut finalising = tokio::task::JoinSet::new();
        for index in (0..prepared.len()).filter(|&i| pending[i] == 0) {
            finalising.spawn(self.finish_context().finish(
                prepared.clone(),
                index,
                std::mem::take(&mut outcomes[index]),
            ));
        }
        while let Some((index, results)) = incoming.recv().await {
            outcomes[index].extend(results);
            pending[index] = pending[index].saturating_sub(1);
            if pending[index] == 0 {
                let done = std::mem::take(&mut outcomes[index]);
                finalising.spawn(self.finish_context().finish(prepared.clone(), index, done));
            }
        }
        while tasks.join_next().await.is_some() {}
        while finalising.join_next().await.is_some() {}
    }

    fn hop_context(&self, hop: &NextHop) -> HopContext {
        HopContext {
            hop_limit: self.hop_limits.of(hop),
            resolver: self.resolver.clone(),
            routes: self.routes.clone(),
            opportunistic: self.opportunistic.clone(),
            hostname: self.settings.hostname.clone(),
            queue: self.settings.queue.clone(),
            connections: self.connections.clone(),
            sts: self.sts.clone(),
        }
    }

    fn finish_context(&self) -> FinishContext {
        FinishContext {
            store: self.store.clone(),
            hostname: self.settings.hostname.clone(),
            queue: self.settings.queue.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// What a hop's delivery task owns (tasks are `'static`).
struct HopContext {
    resolver: Arc<dyn Resolver>,
    routes: Arc<Vec<PreparedRoute>>,
    opportunistic: Arc<rustls::ClientConfig>,
    hostname: String,
    queue: QueueConfig,
    connections: Arc<Semaphore>,
    /// This hop's share of `connections_per_host`, shared with other batches.
    hop_limit: Arc<Semaphore>,
    sts: Option<StsContext>,
}

type Results = mpsc::UnboundedSender<(usize, Vec<(String, Outcome)>)>;

impl HopContext {
    async fn deliver_hop(
        self,
        hop: NextHop,
        jobs: Vec<Job>,
        prepared: &Arc<Vec<Prepared>>,
        results: Results,
    ) {
        let hosts = match self.hosts(&hop).await {
            Ok(hosts) => hosts,
            Err(outcome) => {
                tracing::info!(outcome = ?outcome, "no host to deliver to");
                for job in jobs {
                    let all = job.recipients.into_iter().map(|r| (r, outcome.clone())).collect();
                    let _ = results.send((job.index, all));
                }
                return;
            }
        };
        // Split the hop's messages over up to `connections_per_host` connections.
        let lane_count = self.queue.connections_per_host.max(1).min(jobs.len());
        let mut chunks: Vec<Vec<Job>> = (0..lane_count).map(|_| Vec::new()).collect();
        for (i, job) in jobs.into_iter().enumerate() {
            chunks[i % lane_count].push(job);
        }
        let this = Arc::new(self);
        let hosts = Arc::new(hosts);
        let mut lanes = tokio::task::JoinSet::new();
        for chunk in chunks {
            let (this, hosts, prepared, results) =
                (this.clone(), hosts.clone(), prepared.clone(), results.clone());
            let hop = hop.clone();
            lanes.spawn(
                async move { this.lane(&hop, &hosts, chunk, &prepared, &results).await }.in_current_span(),
            );
        }
        while lanes.join_next().await.is_some() {}
    }

    /// The hosts of a hop, best first, with port, or the outcome for every recipient.
    async fn hosts(&self, hop: &NextHop) -> Result<Vec<Target>, Outcome> {
        match hop {
            NextHop::Route(index) => {
                let prepared = self
                    .routes
                    .get(*index)
                    .ok_or_else(|| Outcome::Deferred("route configuration changed".into()))?;
                let (host, port) = route::split_host_port(&prepared.route.next_hop)
                    .ok_or_else(|| Outcome::Deferred("route next_hop is not host:port".into()))?;
                Ok(vec![Target {
                    host: host.to_owned(),
                    port,
                    sts_enforced: false,
                }])
            }
            NextHop::Mx(domain) => match destination(self.resolver.as_ref(), domain).await {
                Ok(Destination::Hosts(hosts)) => self.apply_sts(domain, hosts).await,
                // RFC 7505 §4.1: a null MX domain accepts no mail.
                Ok(Destination::NullMx) => Err(Outcome::Failed(format!(
                    "556 5.1.10 {domain} does not accept mail (null MX)"
                ))),
                Err(LookupError::NoSuchDomain(name)) => {
                    Err(Outcome::Failed(format!("550 5.1.2 domain {name} does not exist")))
                }
                Err(other) => Err(Outcome::Deferred(format!("451 4.4.3 {other}"))),
            },
        }
    }

    /// RFC 8461 §5: under an `enforce` policy only the MX hosts its `mx` patterns
    /// cover are tried, each with verified TLS; none covered → deferred. A `testing`
    /// policy changes nothing but is logged.
    async fn apply_sts(&self, domain: &str, hosts: Vec<String>) -> Result<Vec<Target>, Outcome> {
        let port = self.queue.mx_port;
        let policy = match &self.sts {
            Some(sts) => sts.policies.policy(domain).await,
            None => None,
        };
        let target = |host: String, sts_enforced| Target {
            host,
            port,
            sts_enforced,
        };
        let Some(policy) = policy else {
            return Ok(hosts.into_iter().map(|h| target(h, false)).collect());
        };
        if policy.mode == Mode::Testing {
            for host in hosts.iter().filter(|h| !policy.allows(h)) {
                tracing::warn!(
                    domain,
                    host,
                    "MX host not in the MTA-STS policy (testing mode: delivered anyway)"
                );
            }
            return Ok(hosts.into_iter().map(|h| target(h, false)).collect());
        }
        let (allowed, refused): (Vec<String>, Vec<String>) =
            hosts.into_iter().partition(|h| policy.allows(h));
        for host in &refused {
            tracing::warn!(domain, host, "MX host not in the MTA-STS policy: not used");
        }
        if allowed.is_empty() {
            return Err(Outcome::Deferred(format!(
                "451 4.7.5 no MX host of {domain} matches its MTA-STS policy ({})",
                policy.mx.join(", ")
            )));
        }
        Ok(allowed.into_iter().map(|h| target(h, true)).collect())
    }

    /// The TLS a host demands beyond the hop's own mode: DANE when its TLSA records
    /// are authenticated (RFC 7672; it takes precedence over MTA-STS, RFC 8461 §2),
    /// else verified TLS under MTA-STS `enforce`. `Err`: the host must not be used.
    async fn host_security(
        &self,
        hop: &NextHop,
        target: &Target,
    ) -> Result<Option<(TlsMode, Arc<rustls::ClientConfig>)>, String> {
        if self.queue.dane && matches!(hop, NextHop::Mx(_)) {
            let name = dane::owner_name(&target.host, target.port);
            match self.resolver.tlsa(&name).await {
                Ok(answer) => match Requirement::of(&answer) {
                    Some(Requirement::Authenticate(records)) => {
                        tracing::debug!(host = %target.host, records = records.len(), "DANE: certificate must match TLSA");
                        return Ok(Some((TlsMode::Required, dane::client_config(records))));
                    }
                    Some(Requirement::EncryptOnly) => {
                        tracing::info!(host = %target.host, "DANE: no usable TLSA record; TLS required, unauthenticated");
                        return Ok(Some((TlsMode::Required, self.opportunistic.clone())));
                    }
                    None if !answer.records.is_empty() => {
                        tracing::info!(host = %target.host, "DANE not applied: TLSA records not DNSSEC-authenticated");
                    }
                    None => {}
                },
                Err(LookupError::NoRecords(..) | LookupError::NoSuchDomain(_)) => {}
                // RFC 7672 §2.2: a TLSA lookup that fails (SERVFAIL, bogus) makes the host unusable.
                Err(error) => return Err(format!("DANE: {error}")),
            }
        }
        match &self.sts {
            Some(sts) if target.sts_enforced => Ok(Some((TlsMode::Required, sts.verifying.clone()))),
            _ => Ok(None),
        }
    }

    fn params<'a>(
        &'a self,
        hop: &NextHop,
        server_name: &'a str,
        security: Option<(TlsMode, Arc<rustls::ClientConfig>)>,
    ) -> SessionParams<'a> {
        let route = match hop {
            NextHop::Route(index) => self.routes.get(*index),
            NextHop::Mx(_) => None,
        };
        let (tls, tls_config) = security.unwrap_or_else(|| {
            (
                route.map_or(TlsMode::Opportunistic, |r| r.route.tls),
                route.map_or_else(|| self.opportunistic.clone(), |r| r.tls.clone()),
            )
        });
        SessionParams {
            hostname: &self.hostname,
            tls,
            tls_config,
            server_name,
            auth: route.and_then(|r| r.auth.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))),
            connect_timeout: self.queue.connect_timeout(),
            reply_timeout: self.queue.reply_timeout(),
        }
    }

    /// Tries each host's addresses in order until one accepts a session.
    async fn connect(&self, hop: &NextHop, hosts: &[Target]) -> Result<Connection, String> {
        let mut last_error = String::from("no address");
        for target in hosts {
            let (host, port) = (&target.host, &target.port);
            let security = match self.host_security(hop, target).await {
                Ok(security) => security,
                Err(error) => {
                    tracing::info!(host = %host, error = %error, "host skipped");
                    last_error = format!("{host}: {error}");
                    continue;
                }
            };
            let addresses = match host.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => match self.resolver.ips(host).await {
                    Ok(ips) => ips,
                    Err(error) => {
                        last_error = error.to_string();
                        continue;
                    }
                },
            };
            for ip in addresses {
                let addr = SocketAddr::new(ip, *port);
                match Connection::open(addr, &self.params(hop, host, security.clone())).await {
                    Ok(conn) => {
                        tracing::debug!(peer = %addr, tls = conn.encrypted, "connected");
                        return Ok(conn);
                    }
                    Err(error) => {
                        tracing::info!(peer = %addr, error = %error, "cannot open a session");
                        last_error = format!("{addr}: {error}");
                    }
                }
            }
        }
        Err(last_error)
    }

    /// One connection carrying `jobs` in turn; reconnects after a broken one.
    async fn lane(
        &self,
        hop: &NextHop,
        hosts: &[Target],
        jobs: Vec<Job>,
        prepared: &[Prepared],
        results: &Results,
    ) {
        // The hop's permit first, then the global one, in every lane: no lane holds
        // one while waiting for the other in the opposite order.
        let Ok(_hop_permit) = self.hop_limit.acquire().await else {
            return;
        };
        let Ok(_permit) = self.connections.acquire().await else {
            return;
        };
        let mut conn: Option<Connection> = None;
        let mut jobs = jobs.into_iter();
        while let Some(job) = jobs.next() {
            let Some(item) = prepared.get(job.index) else {
                continue;
            };
            if conn.is_none() {
                match self.connect(hop, hosts).await {
                    Ok(opened) => conn = Some(opened),
                    Err(error) => {
                        // The hop is unreachable now: every message left waits.
                        let outcome = Outcome::Deferred(format!("451 4.4.1 {error}"));
                        for job in std::iter::once(job).chain(jobs) {
                            let all = job.recipients.into_iter().map(|r| (r, outcome.clone())).collect();
                            let _ = results.send((job.index, all));
                        }
                        return;
                    }
                }
            }
            let Some(session) = conn.as_mut() else { continue };
            let envelope = Envelope {
                sender: &item.entry.sender,
                recipients: &job.recipients,
                dsn: &item.entry.dsn,
            };
            let outcomes: Vec<(String, Outcome)> = match session.send(&envelope, &item.message).await {
                Ok(replies) => {
                    let dsn_passed_on = session.passes_dsn_on();
                    job.recipients
                        .iter()
                        .zip(&replies)
                        .map(|(r, reply)| (r.clone(), Outcome::from_reply(reply, dsn_passed_on)))
                        .collect()
                }
                Err(error) => {
                    conn = None;
                    let outcome = deferred(&error);
                    job.recipients
                        .iter()
                        .map(|r| (r.clone(), outcome.clone()))
                        .collect()
                }
            };
            for (recipient, outcome) in &outcomes {
                tracing::info!(queue_id = item.entry.id.0, recipient, outcome = ?outcome, "delivery attempt");
            }
            let _ = results.send((job.index, outcomes));
        }
        if let Some(session) = conn {
            session.quit().await;
        }
    }
}

fn deferred(error: &SessionError) -> Outcome {
    Outcome::Deferred(local_reply(451, &format!("4.4.2 {error}")).summary())
}

/// What finalising an entry needs.
struct FinishContext {
    store: Arc<dyn MailStore>,
    hostname: String,
    queue: QueueConfig,
    metrics: Arc<DeliveryMetrics>,
}

impl FinishContext {
    /// Records the attempt: removes the entry when nobody is left to retry, else
    /// schedules the retry; bounces and delay notices go to the sender.
    async fn finish(self, prepared: Arc<Vec<Prepared>>, index: usize, outcomes: Vec<(String, Outcome)>) {
        let Some(item) = prepared.get(index) else { return };
        let entry = &item.entry;
        let now = now();
        let age = now.saturating_sub(entry.queued_at);
        let expired = age >= i64::try_from(self.queue.give_up_after_secs).unwrap_or(i64::MAX);
        let dsn = &entry.dsn;
        let mut failed = Vec::new();
        let mut deferred = Vec::new();
        let mut relayed = Vec::new();
        for (recipient, outcome) in outcomes {
            self.metrics.attempt(match &outcome {
                Outcome::Delivered | Outcome::Relayed(_) => AttemptResult::Delivered,
                Outcome::Failed(_) => AttemptResult::Failed,
                Outcome::Deferred(_) if expired => AttemptResult::Expired,
                Outcome::Deferred(_) => AttemptResult::Deferred,
            });
            match outcome {
                Outcome::Delivered => {}
                Outcome::Relayed(diagnostic) => relayed.push(RecipientStatus::of(dsn, recipient, diagnostic)),
                Outcome::Failed(diagnostic) => failed.push(RecipientStatus::of(dsn, recipient, diagnostic)),
                Outcome::Deferred(diagnostic) if expired => failed.push(RecipientStatus::of(
                    dsn,
                    recipient,
                    format!("{diagnostic} (gave up after {age} s in the queue)"),
                )),
                Outcome::Deferred(diagnostic) => {
                    deferred.push(RecipientStatus::of(dsn, recipient, diagnostic))
                }
            }
        }
        // RFC 3461 §4.1: each recipient's NOTIFY decides which reports mention it.
        let failed = wanting(dsn, failed, |n| n.failure);
        let relayed = wanting(dsn, relayed, |n| n.success);
        // RFC 3464 §2 / RFC 5321 §4.5.5: never report on a null-sender message.
        let reports = !entry.sender.is_empty();
        let store = self.store.clone();
        let hostname = self.hostname.clone();
        let queue = self.queue.clone();
        let prepared = prepared.clone();
        let result = tokio::task::spawn_blocking(move || {
            let Some(item) = prepared.get(index) else {
                return Ok(());
            };
            let entry = &item.entry;
            let report = |action: Action, recipients: &[RecipientStatus]| {
                if !reports || recipients.is_empty() {
                    return;
                }
                let returned = Returned::choose(
                    entry.dsn.ret,
                    action,
                    item.message.len(),
                    queue.dsn_return_full_max_bytes,
                );
                let built = dsn::build(&Report {
                    hostname: &hostname,
                    sender: &entry.sender,
                    envid: entry.dsn.envid.as_deref(),
                    arrived_at: entry.queued_at,
                    action,
                    recipients,
                    original: &item.message,
                    returned,
                    now,
                });
                match send_report(store.as_ref(), entry.submitted_by, &entry.sender, &built) {
                    Ok(()) => {
                        tracing::info!(queue_id = entry.id.0, action = ?action, "delivery report sent to the sender");
                        if let (Action::Failed, Some(account)) = (action, entry.submitted_by) {
                            record_bounce(store.as_ref(), account, now, entry.id);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(queue_id = entry.id.0, error = %error, "cannot deliver a delivery report")
                    }
                }
            };
            report(Action::Failed, &failed);
            report(Action::Relayed, &relayed);
            if deferred.is_empty() {
                return match store.queue_remove(entry.id) {
                    Err(congvu_store::StoreError::NotFound(_)) => Ok(()),
                    other => other,
                };
            }
            let delay_due = age >= i64::try_from(queue.delay_notice_after_secs).unwrap_or(i64::MAX);
            let notify = reports && delay_due && !entry.delay_notified;
            if notify {
                report(Action::Delayed, &wanting(&entry.dsn, deferred.clone(), |n| n.delay));
            }
            let attempts = entry.attempts.saturating_add(1);
            let wait = i64::try_from(queue.backoff(attempts).as_secs()).unwrap_or(i64::MAX);
            let recipients: Vec<String> = deferred.iter().map(|d| d.recipient.clone()).collect();
            let last_error = deferred.first().map(|d| d.diagnostic.as_str());
            let update = QueueUpdate {
                next_attempt: now.saturating_add(wait),
                attempts,
                last_error,
                recipients: &recipients,
                delay_notified: entry.delay_notified || notify,
            };
            match store.queue_update(entry.id, &update) {
                // Deleted by an operator during the attempt: nothing to keep.
                Err(congvu_store::StoreError::NotFound(_)) => Ok(()),
                other => other,
            }
        })
        .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(queue_id = entry.id.0, error = %error, "cannot record a delivery attempt; it will be repeated")
            }
            Err(error) => tracing::error!(queue_id = entry.id.0, error = %error, "finalising task failed"),
        }
    }
}

/// The mail event of a failure report returned to the local account that submitted
/// the message (issue 14, usage statistics). The report is already in its INBOX, so
/// an event that cannot be written is logged, not a reason to repeat the attempt.
fn record_bounce(store: &dyn MailStore, account: AccountId, now: i64, id: QueueId) {
    let event = EventRecord {
        at: now,
        account,
        kind: MailEventKind::Bounced,
    };
    if let Err(error) = store.record_events(&[event]) {
        tracing::error!(queue_id = id.0, account = account.0, %error, "the bounce event was not recorded");
    }
}

/// The recipients whose `NOTIFY` asks for the event `wanted` picks.
fn wanting(
    dsn: &DsnRequest,
    statuses: Vec<RecipientStatus>,
    wanted: fn(Notify) -> bool,
) -> Vec<RecipientStatus> {
    statuses
        .into_iter()
        .filter(|status| wanted(dsn.notify(&status.recipient)))
        .collect()
}

/// Hands a delivery report (from [`dsn`]) to the original `sender`: into the INBOX
/// of the account that submitted the message (`submitted_by`), or, for a message
/// that came in from elsewhere, queued to the sender with the null reverse path
/// (RFC 5321 §4.5.5). Writes to the store: call it from blocking code.
pub fn send_report(
    store: &dyn MailStore,
    submitted_by: Option<AccountId>,
    sender: &str,
    report: &[u8],
) -> congvu_store::Result<()> {
    match submitted_by {
        Some(account) => deliver_local(store, account, report),
        None => store
            .enqueue(&Outbound {
                bytes: &[report],
                sender: "",
                recipients: &[sender.to_owned()],
                submitted_by: None,
                dsn: &DsnRequest::default(),
            })
            .map(drop),
    }
}

fn deliver_local(store: &dyn MailStore, account: AccountId, report: &[u8]) -> congvu_store::Result<()> {
    let outcomes = store.deliver(&Delivery {
        bytes: &[report],
        internal_date: now(),
        internal_date_offset: 0,
        targets: &[account],
        folder: DeliveryFolder::Inbox,
    })?;
    match outcomes.first() {
        Some(DeliveryOutcome::OverQuota { .. }) => Err(congvu_store::StoreError::Invalid(
            "the sender's mailbox is over quota".into(),
        )),
        _ => Ok(()),
    }
}

/// Sets an entry due now (operator's `queue retry`).
pub fn retry_now(store: &dyn MailStore, id: QueueId) -> congvu_store::Result<QueueEntry> {
    let entry = store
        .queue_entry(id)?
        .ok_or_else(|| congvu_store::StoreError::NotFound(format!("queue entry {}", id.0)))?;
    store.queue_update(
        id,
        &QueueUpdate {
            next_attempt: now(),
            attempts: entry.attempts,
            last_error: entry.last_error.as_deref(),
            recipients: &entry.recipients,
            delay_notified: entry.delay_notified,
        },
    )?;
    Ok(entry)
}

/// Resolves once shutdown is signalled (or the sender is gone). The watch guard is
/// dropped inside, so the future stays `Send`.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The time from now until the Unix second `at` has begun (zero when it has), so a
/// pass woken then finds the entry due.
fn until(at: i64) -> std::time::Duration {
    let at_millis = at.saturating_mul(1000);
    let left = at_millis.saturating_sub(chrono::Utc::now().timestamp_millis());
    std::time::Duration::from_millis(u64::try_from(left).unwrap_or(0))
}
