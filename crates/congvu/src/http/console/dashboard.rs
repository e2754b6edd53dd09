//! The Provincial Office's dashboard: mail per day and refusals by rule over 14 days
//! (the store's mail events), queue depth and age, the store's size and the data
//! disk's free space, the last backup. Charts are inline SVG drawn from the figures
//! here, with presentation attributes only (no `style`, no script: the CSP holds), a
//! `<title>` per bar, and the figures as a table beside each.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use congvu_directory::Role;
use congvu_store::MailEventKind;

use super::frame::{Frame, render};
use super::session::Viewer;
use super::{api_failure, local_time, require};
use crate::http::admin::{AdminState, ApiError};
use crate::size::ByteSize;

const DAYS: i64 = 14;
const WIDTH: u32 = 700;
const HEIGHT: u32 = 220;
/// Room for the axis label on the left and the tick labels at the bottom.
const LEFT: u32 = 36;
const BASE: u32 = HEIGHT - 20;
const RECEIVED: &str = "#0b5cad";
const SENT: &str = "#d9822b";
const REFUSED: &str = "#b3261e";

pub struct Bar {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    fill: &'static str,
    label: String,
    value: u64,
}

/// One bar before scaling: its label, its value, its colour.
type Series = (String, u64, &'static str);
/// The bars under one tick label.
type Group = (String, Vec<Series>);

pub struct Chart {
    id: &'static str,
    title: (&'static str, &'static str),
    width: u32,
    height: u32,
    left: u32,
    base: u32,
    max: u64,
    bars: Vec<Bar>,
    /// (x, text) under the bars.
    ticks: Vec<(u32, String)>,
}

/// A bar chart of `groups` (a tick label and its bars: label, value, colour), scaled
/// to the largest value.
fn chart(id: &'static str, title: (&'static str, &'static str), groups: &[Group]) -> Chart {
    let max = groups
        .iter()
        .flat_map(|(_, bars)| bars.iter().map(|(_, value, _)| *value))
        .max()
        .unwrap_or(0)
        .max(1);
    let slots = u32::try_from(groups.len()).unwrap_or(1).max(1);
    let slot = (WIDTH - LEFT) / slots;
    let mut bars = Vec::new();
    let mut ticks = Vec::new();
    for (index, (tick, series)) in groups.iter().enumerate() {
        let start = LEFT + slot * u32::try_from(index).unwrap_or(0);
        let count = u32::try_from(series.len()).unwrap_or(1).max(1);
        let width = (slot.saturating_sub(4) / count).max(1);
        ticks.push((start, tick.clone()));
        for (n, (label, value, fill)) in series.iter().enumerate() {
            let height = u32::try_from(u64::from(BASE - 16) * value / max).unwrap_or(0);
            bars.push(Bar {
                x: start + width * u32::try_from(n).unwrap_or(0),
                y: BASE - height,
                width: width.saturating_sub(1).max(1),
                height,
                fill,
                label: label.clone(),
                value: *value,
            });
        }
    }
    Chart {
        id,
        title,
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        base: BASE,
        max,
        bars,
        ticks,
    }
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    volume: Chart,
    refusals: Chart,
    queue_messages: usize,
    queue_oldest: String,
    accounts: u64,
    store_mail: String,
    store_metadata: String,
    disk_free: String,
    last_backup: String,
}

/// What the page shows, read on the blocking pool.
struct Figures {
    received: BTreeMap<String, u64>,
    sent: BTreeMap<String, u64>,
    refused: BTreeMap<String, u64>,
    queue: (usize, Option<i64>),
    size: congvu_store::StoreSize,
    disk_free: Option<u64>,
}

fn figures(state: &AdminState, now: i64) -> Result<Figures, ApiError> {
    let from = now - DAYS * 86_400;
    let day = |at: i64| local_time(at).get(5..10).unwrap_or("").to_owned();
    let mut received = BTreeMap::new();
    let mut sent = BTreeMap::new();
    for n in 0..DAYS {
        received.insert(day(from + (n + 1) * 86_400), 0);
        sent.insert(day(from + (n + 1) * 86_400), 0);
    }
    let mut refused = BTreeMap::new();
    for event in state.store.events(from, now + 1)? {
        match event.kind {
            MailEventKind::Delivered { .. } => *received.entry(day(event.at)).or_insert(0) += 1,
            MailEventKind::Submitted { .. } => *sent.entry(day(event.at)).or_insert(0) += 1,
            MailEventKind::Refused { rule } => *refused.entry(rule).or_insert(0) += 1,
            MailEventKind::Bounced | MailEventKind::Login => {}
        }
    }
    let queue = state.store.queue()?;
    let disk_free = rustix::fs::statvfs(&state.data_dir)
        .ok()
        .map(|disk| disk.f_bavail.saturating_mul(disk.f_frsize));
    Ok(Figures {
        received,
        sent,
        refused,
        queue: (queue.len(), queue.iter().map(|e| e.queued_at).min()),
        size: state.store.size()?,
        disk_free,
    })
}

/// `GET /console/dashboard`.
pub async fn page(State(state): State<Arc<AdminState>>, viewer: Viewer) -> Response {
    if let Err(refused) = require(&viewer, Role::Administrator) {
        return refused.into_response();
    }
    let now = congvu_directory::unix_now();
    let shared = state.clone();
    let figures = match tokio::task::spawn_blocking(move || figures(&shared, now)).await {
        Ok(Ok(figures)) => figures,
        Ok(Err(error)) => return api_failure(viewer.lang, &error),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let lang = viewer.lang;
    let days: Vec<Group> = figures
        .received
        .iter()
        .map(|(day, received)| {
            let sent = figures.sent.get(day).copied().unwrap_or(0);
            let bars = vec![
                (
                    format!("{day} {}", lang.t("nhận", "received")),
                    *received,
                    RECEIVED,
                ),
                (format!("{day} {}", lang.t("gửi", "sent")), sent, SENT),
            ];
            // Under the bar the day of the month; the whole date is in each bar's title.
            (day.get(3..).unwrap_or(day).to_owned(), bars)
        })
        .collect();
    let rules: Vec<Group> = figures
        .refused
        .iter()
        .map(|(rule, count)| (rule.clone(), vec![(rule.clone(), *count, REFUSED)]))
        .collect();
    let backup = state.backups.status();
    let page = DashboardPage {
        frame: viewer.frame("/console/dashboard", ("Tổng quan", "Dashboard")),
        volume: chart(
            "volume-chart",
            ("Thư nhận và gửi mỗi ngày", "Mail received and sent per day"),
            &days,
        ),
        refusals: chart(
            "refusal-chart",
            ("Thư bị từ chối theo quy tắc", "Refusals by rule"),
            &rules,
        ),
        queue_messages: figures.queue.0,
        queue_oldest: figures.queue.1.map_or_else(|| "—".to_owned(), local_time),
        accounts: figures.size.accounts,
        store_mail: ByteSize(figures.size.mailbox_bytes).to_string(),
        store_metadata: ByteSize(figures.size.metadata_bytes).to_string(),
        disk_free: figures
            .disk_free
            .map_or_else(|| "—".to_owned(), |free| ByteSize(free).to_string()),
        last_backup: backup.last_success.map_or_else(
            || lang.t("chưa có", "none yet").to_owned(),
            |b| local_time(b.finished_at),
        ),
    };
    render(StatusCode::OK, &page)
}
