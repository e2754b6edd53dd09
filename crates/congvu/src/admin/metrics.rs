//! `GET /api/v1/metrics`: counters since start — policy verdicts per reason code
//! (refused and tagged), accepted and converted messages.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use congvu_policy::MetricsSnapshot;

use super::AdminState;

#[derive(serde::Serialize)]
pub struct Metrics {
    pub policy: MetricsSnapshot,
}

pub async fn get_metrics(State(state): State<Arc<AdminState>>) -> Json<Metrics> {
    Json(Metrics {
        policy: state.policy_metrics.snapshot(),
    })
}
