//! Long operations (backup, verification, import, export) run as jobs: the request
//! that starts one answers `202` with the job at once, and `GET /api/v1/jobs/{id}`
//! shows its progress and, once done, its result. The CLI polls that view to draw
//! its progress bar, over HTTP or in-process alike.
//!
//! The last [`KEPT`] jobs are remembered (in memory: a restart forgets them, and
//! backups keep their own record in the backup directory).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use congvu_store::{Progress, ProgressView};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AdminState, ApiError};

const KEPT: usize = 32;

#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    recent: Mutex<VecDeque<Arc<Job>>>,
}

struct Job {
    id: u64,
    kind: &'static str,
    started_at: i64,
    progress: Progress,
    outcome: Mutex<Option<Result<Value, String>>>,
}

/// A job as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobView {
    pub id: u64,
    pub kind: String,
    pub started_at: i64,
    pub done: bool,
    pub progress: ProgressView,
    pub result: Option<Value>,
    pub error: Option<String>,
}

impl Jobs {
    /// Starts `work` on the blocking pool and returns the job's first view.
    pub fn start<F>(&self, kind: &'static str, work: F) -> JobView
    where
        F: FnOnce(&Progress) -> Result<Value, String> + Send + 'static,
    {
        let job = Arc::new(Job {
            id: self.next.fetch_add(1, Ordering::Relaxed) + 1,
            kind,
            started_at: chrono::Utc::now().timestamp(),
            progress: Progress::default(),
            outcome: Mutex::new(None),
        });
        {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            if recent.len() == KEPT {
                recent.pop_front();
            }
            recent.push_back(job.clone());
        }
        let view = job.view();
        let worker = job.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = work(&worker.progress);
            *worker.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        });
        view
    }

    fn view(&self, id: u64) -> Option<JobView> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.iter().find(|job| job.id == id).map(|job| job.view())
    }
}

impl Job {
    fn view(&self) -> JobView {
        let outcome = self
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        JobView {
            id: self.id,
            kind: self.kind.to_owned(),
            started_at: self.started_at,
            done: outcome.is_some(),
            progress: self.progress.view(),
            error: outcome.as_ref().and_then(|o| o.as_ref().err().cloned()),
            result: outcome.and_then(Result::ok),
        }
    }
}

/// `GET /api/v1/jobs/{id}`.
pub async fn get_job(
    State(state): State<Arc<AdminState>>,
    Path(id): Path<u64>,
) -> Result<Json<JobView>, ApiError> {
    state
        .jobs
        .view(id)
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no job {id}")))
}
