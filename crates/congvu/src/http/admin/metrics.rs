//! `GET /api/v1/metrics`: counters since start — policy verdicts per reason code
//! (refused and tagged), accepted and converted messages; sender authentication
//! decisions on the MX port; virus scans (clamd); the last backup.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use congvu_policy::MetricsSnapshot;

use super::AdminState;

#[derive(serde::Serialize)]
pub struct Metrics {
    pub policy: MetricsSnapshot,
    pub inbound_auth: congvu_mailauth::MetricsSnapshot,
    pub antivirus: congvu_antivirus::MetricsSnapshot,
    /// The last backup and the last successful one (Art. 12.3).
    pub backup: crate::backup::BackupStatus,
}

pub async fn get_metrics(State(state): State<Arc<AdminState>>) -> Json<Metrics> {
    Json(Metrics {
        policy: state.policy_metrics.snapshot(),
        inbound_auth: state.inbound_auth_metrics.snapshot(),
        antivirus: state.antivirus_metrics.snapshot(),
        backup: state.backups.status(),
    })
}
