//! Starting the outbound queue worker (`congvu-relay`) for `congvu serve`.

use std::sync::Arc;

use congvu_relay::dkim::Dkim;
use congvu_relay::{DeliveryMetrics, DnsResolver, QueueWaker, Relay, RelaySettings};
use congvu_store::MailStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;

/// Why the worker could not start.
#[derive(Debug, thiserror::Error)]
#[error("outbound relay: {0}")]
pub struct StartError(String);

/// Loads DKIM keys, prepares routes and the system resolver, and spawns the worker,
/// woken through `waker` by whatever queues mail; it stops when `stop` turns true.
/// Returns its task and the delivery attempts it counts (for `/metrics`).
pub fn start(
    config: &Config,
    store: Arc<dyn MailStore>,
    waker: QueueWaker,
    stop: watch::Receiver<bool>,
) -> Result<(JoinHandle<()>, Arc<DeliveryMetrics>), StartError> {
    let dkim = Dkim::load(&config.server.data_dir, &config.dkim).map_err(|e| StartError(e.to_string()))?;
    let resolver =
        DnsResolver::from_system(config.queue.dane).map_err(|e| StartError(format!("DNS resolver: {e}")))?;
    let settings = RelaySettings {
        hostname: config.server.hostname.clone(),
        queue: config.queue.clone(),
        routes: config.routes.clone(),
        dkim,
    };
    let relay = Relay::new(settings, store, Arc::new(resolver))
        .map_err(|e| StartError(e.to_string()))?
        .with_waker(waker);
    let metrics = relay.metrics();
    Ok((tokio::spawn(Arc::new(relay).run(stop)), metrics))
}
