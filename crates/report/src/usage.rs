//! Usage statistics per agency (Art. 15.4) and the yearly report (Art. 12.6).
//!
//! Two kinds of input: facts the directory and the store have already counted per
//! agency ([`AgencyFacts`]: mailboxes, storage, requests), and the durable mail events
//! ([`MailEvent`]) the report counts itself, for any past period. Check compliance comes
//! from a [`CheckReport`] of the same period.
//!
//! Definitions:
//! - **Active mailbox**: an account with at least one [`MailEventKind::Login`] in the
//!   period.
//! - **Origin** of a received message ([`Origin`]): `internal` (submitted on this
//!   server), `agency_relay` (from an agency's own server over the provincial WAN),
//!   `internet` (from the MX, anyone else).
//! - **Destination** of a sent message ([`Destination`]): `internal` (a mailbox of the
//!   sender's own agency), `other_agency` (another agency of the province, here or behind
//!   its relay), `internet` (anywhere else).
//! - A **late filing** is a Form 01/02/03 request filed more than 10 days after its
//!   effective date (Art. 15.3); the directory counts it.
//!
//! Invariants:
//! 1. Linear in events: each event is looked up once (agency by hash, month by binary
//!    search over the period's months).
//! 2. Totals are the sum of the rows shown: a subtree's totals are its own rows'.
//! 3. Events of agencies not in the input are counted as unattributed, never dropped
//!    silently; events outside the period are ignored.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, Period};
use crate::checks::CheckReport;
use crate::figures::Percent;

/// Where a received message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Internal,
    AgencyRelay,
    Internet,
}

/// Where a sent message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    Internal,
    OtherAgency,
    Internet,
}

/// What happened (the store records one event per fact).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MailEventKind {
    /// A message delivered to `account`'s mailbox (one event per recipient mailbox).
    Delivered { origin: Origin },
    /// A message `account` sent: one event per destination class its recipients fall
    /// in (a message to a colleague and to the Internet is one `internal` and one
    /// `internet`).
    Submitted { destination: Destination },
    /// A message to or from `account` refused, by the policy rule's code (e.g.
    /// `attachment_format`) or the SMTP reply code (`550`).
    Refused { rule: String },
    /// A delivery failure report returned to `account`.
    Bounced,
    /// A session opened: a successful login (IMAP, submission, webmail).
    Login,
}

/// One durable mail event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailEvent {
    /// When, Unix seconds.
    pub at: i64,
    /// The code of the agency `account` belongs to.
    pub agency: String,
    /// The mailbox concerned, e.g. `tuanna.sttt`.
    pub account: String,
    #[serde(flatten)]
    pub kind: MailEventKind,
}

/// Form 01/02/03 requests filed in the period, and the late ones among them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requests {
    pub form01: u64,
    pub form02: u64,
    pub form03: u64,
    /// Filed more than 10 days after the effective date (Art. 15.3).
    pub late: u64,
}

/// What the directory and the store have counted for one agency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyFacts {
    /// The agency's code, its mailbox's local part (`sttt`, `pvhtt.yendinh`).
    pub agency: String,
    /// Its full name, e.g. "Sở Thông tin và Truyền thông".
    pub name: String,
    /// The parent agency's code, if any (the agency tree).
    pub parent: Option<String>,
    pub agency_mailboxes: u64,
    pub personal_mailboxes: u64,
    /// Bytes stored in the agency's mailboxes, now.
    pub used_bytes: u64,
    /// The sum of their quotas.
    pub quota_bytes: u64,
    pub requests: Requests,
}

/// Received messages by origin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByOrigin {
    pub internal: u64,
    pub agency_relay: u64,
    pub internet: u64,
}

impl ByOrigin {
    /// The counter of one origin.
    fn of(&mut self, origin: Origin) -> &mut u64 {
        match origin {
            Origin::Internal => &mut self.internal,
            Origin::AgencyRelay => &mut self.agency_relay,
            Origin::Internet => &mut self.internet,
        }
    }
}

/// Sent messages by destination class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByDestination {
    pub internal: u64,
    pub other_agency: u64,
    pub internet: u64,
}

impl ByDestination {
    /// The counter of one destination class.
    fn of(&mut self, destination: Destination) -> &mut u64 {
        match destination {
            Destination::Internal => &mut self.internal,
            Destination::OtherAgency => &mut self.other_agency,
            Destination::Internet => &mut self.internet,
        }
    }
}

/// The figures of one agency, or the sum of several.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageFigures {
    pub agency_mailboxes: u64,
    pub personal_mailboxes: u64,
    pub active_mailboxes: u64,
    pub received: ByOrigin,
    pub sent: ByDestination,
    pub bounced: u64,
    pub used_bytes: u64,
    pub quota_bytes: u64,
    /// Refusals by rule or reply code.
    pub refusals: BTreeMap<String, u64>,
    pub requests: Requests,
    /// Check windows met and due in the period.
    pub checks_met: u64,
    pub checks_total: u64,
    /// `checks_met / checks_total`, one decimal.
    pub compliance: Option<Percent>,
}

impl UsageFigures {
    pub fn received_total(&self) -> u64 {
        self.received.internal + self.received.agency_relay + self.received.internet
    }

    pub fn sent_total(&self) -> u64 {
        self.sent.internal + self.sent.other_agency + self.sent.internet
    }

    pub fn refusals_total(&self) -> u64 {
        self.refusals.values().sum()
    }

    /// Adds another agency's figures (the totals of invariant 2).
    fn add(&mut self, other: &Self) {
        self.agency_mailboxes += other.agency_mailboxes;
        self.personal_mailboxes += other.personal_mailboxes;
        self.active_mailboxes += other.active_mailboxes;
        self.received.internal += other.received.internal;
        self.received.agency_relay += other.received.agency_relay;
        self.received.internet += other.received.internet;
        self.sent.internal += other.sent.internal;
        self.sent.other_agency += other.sent.other_agency;
        self.sent.internet += other.sent.internet;
        self.bounced += other.bounced;
        self.used_bytes += other.used_bytes;
        self.quota_bytes += other.quota_bytes;
        for (rule, count) in &other.refusals {
            *self.refusals.entry(rule.clone()).or_default() += count;
        }
        self.requests.form01 += other.requests.form01;
        self.requests.form02 += other.requests.form02;
        self.requests.form03 += other.requests.form03;
        self.requests.late += other.requests.late;
        self.checks_met += other.checks_met;
        self.checks_total += other.checks_total;
        self.compliance = Percent::of(self.checks_met, self.checks_total);
    }
}

/// One agency's row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    pub agency: String,
    pub name: String,
    pub parent: Option<String>,
    #[serde(flatten)]
    pub figures: UsageFigures,
}

/// Messages received and sent in one month of the period (all rows together).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthFigures {
    pub year: i32,
    pub month: u32,
    pub received: u64,
    pub sent: u64,
}

/// Which agencies a report covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every agency given: the province.
    Province,
    /// One agency.
    Agency(String),
    /// One agency and every agency below it in the tree (`--subtree`).
    Subtree(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("không có cơ quan {0:?} / no agency {0:?}")]
    UnknownAgency(String),
    #[error("báo cáo kiểm tra phải cùng kỳ / the checks report must cover the same period")]
    ChecksPeriod,
    #[error("năm không hợp lệ / invalid year {0}")]
    Year(i32),
}

/// The usage report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageReport {
    pub period: Period,
    /// The calendar year for the Art. 12.6 report, `None` for an on-request report.
    pub year: Option<i32>,
    /// Rows in input order.
    pub rows: Vec<UsageRow>,
    /// The sum of the rows.
    pub total: UsageFigures,
    pub months: Vec<MonthFigures>,
    /// Events in the period of agencies not in the input (Province scope only: a
    /// narrower scope leaves the others out on purpose).
    pub unattributed_events: u64,
}

/// The agencies a scope selects, in input order; the tree walk stops at cycles.
fn select<'a>(agencies: &'a [AgencyFacts], scope: &Scope) -> Result<Vec<&'a AgencyFacts>, UsageError> {
    let root = match scope {
        Scope::Province => return Ok(agencies.iter().collect()),
        Scope::Agency(code) | Scope::Subtree(code) => code,
    };
    if !agencies.iter().any(|facts| &facts.agency == root) {
        return Err(UsageError::UnknownAgency(root.clone()));
    }
    let mut chosen: HashSet<&str> = HashSet::from([root.as_str()]);
    if matches!(scope, Scope::Subtree(_)) {
        let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
        for facts in agencies {
            if let Some(parent) = &facts.parent {
                children.entry(parent).or_default().push(&facts.agency);
            }
        }
        let mut queue = VecDeque::from([root.as_str()]);
        while let Some(code) = queue.pop_front() {
            for child in children.get(code).into_iter().flatten() {
                if chosen.insert(child) {
                    queue.push_back(child);
                }
            }
        }
    }
    Ok(agencies
        .iter()
        .filter(|facts| chosen.contains(facts.agency.as_str()))
        .collect())
}

/// The instants where the period's months start, and where the period ends.
fn month_starts(calendar: &Calendar, period: &Period) -> Vec<(NaiveDate, i64)> {
    let mut starts = vec![(period.from(), calendar.midnight(period.from()))];
    for date in period
        .dates()
        .filter(|date| date.day() == 1 && *date != period.from())
    {
        starts.push((date, calendar.midnight(date)));
    }
    let end = period.to() + chrono::Days::new(1);
    starts.push((end, calendar.midnight(end)));
    starts
}

/// Computes the report over `scope`; `checks` must cover the same period.
pub fn usage(
    calendar: &Calendar,
    period: &Period,
    scope: &Scope,
    agencies: &[AgencyFacts],
    events: &[MailEvent],
    checks: &CheckReport,
) -> Result<UsageReport, UsageError> {
    if checks.period != *period {
        return Err(UsageError::ChecksPeriod);
    }
    let selected = select(agencies, scope)?;
    let index: HashMap<&str, usize> = selected
        .iter()
        .enumerate()
        .map(|(position, facts)| (facts.agency.as_str(), position))
        .collect();
    let mut figures: Vec<UsageFigures> = selected
        .iter()
        .map(|facts| UsageFigures {
            agency_mailboxes: facts.agency_mailboxes,
            personal_mailboxes: facts.personal_mailboxes,
            used_bytes: facts.used_bytes,
            quota_bytes: facts.quota_bytes,
            requests: facts.requests,
            ..UsageFigures::default()
        })
        .collect();
    let starts = month_starts(calendar, period);
    let (begin, end) = (
        starts.first().map_or(0, |start| start.1),
        starts.last().map_or(0, |start| start.1),
    );
    let mut months: Vec<MonthFigures> = starts
        .iter()
        .take(starts.len().saturating_sub(1))
        .map(|(date, _)| MonthFigures {
            year: date.year(),
            month: date.month(),
            received: 0,
            sent: 0,
        })
        .collect();
    let mut logged_in: HashSet<(usize, &str)> = HashSet::new();
    let mut unattributed_events = 0;
    for event in events.iter().filter(|event| (begin..end).contains(&event.at)) {
        let Some(&position) = index.get(event.agency.as_str()) else {
            unattributed_events += u64::from(*scope == Scope::Province);
            continue;
        };
        let Some(row) = figures.get_mut(position) else {
            continue;
        };
        let month = starts
            .partition_point(|start| start.1 <= event.at)
            .saturating_sub(1);
        let (count, monthly): (&mut u64, fn(&mut MonthFigures) -> &mut u64) = match &event.kind {
            MailEventKind::Delivered { origin } => (row.received.of(*origin), |month| &mut month.received),
            MailEventKind::Submitted { destination } => (row.sent.of(*destination), |month| &mut month.sent),
            MailEventKind::Refused { rule } => {
                *row.refusals.entry(rule.clone()).or_default() += 1;
                continue;
            }
            MailEventKind::Bounced => {
                row.bounced += 1;
                continue;
            }
            MailEventKind::Login => {
                if logged_in.insert((position, event.account.as_str())) {
                    row.active_mailboxes += 1;
                }
                continue;
            }
        };
        *count += 1;
        if let Some(month) = months.get_mut(month) {
            *monthly(month) += 1;
        }
    }
    for agency in &checks.agencies {
        if let Some(row) = index
            .get(agency.agency.as_str())
            .and_then(|&position| figures.get_mut(position))
        {
            row.checks_met = u64::from(agency.met);
            row.checks_total = u64::from(agency.total);
            row.compliance = agency.compliance;
        }
    }
    let mut total = UsageFigures::default();
    for row in &figures {
        total.add(row);
    }
    Ok(UsageReport {
        period: *period,
        year: None,
        rows: selected
            .iter()
            .zip(figures)
            .map(|(facts, figures)| UsageRow {
                agency: facts.agency.clone(),
                name: facts.name.clone(),
                parent: facts.parent.clone(),
                figures,
            })
            .collect(),
        total,
        months,
        unattributed_events,
    })
}

/// The Art. 12.6 report: the province's year, one row per agency; `checks` must cover
/// that year.
pub fn year(
    calendar: &Calendar,
    year: i32,
    agencies: &[AgencyFacts],
    events: &[MailEvent],
    checks: &CheckReport,
) -> Result<UsageReport, UsageError> {
    let period = Period::year(year).ok_or(UsageError::Year(year))?;
    let mut report = usage(calendar, &period, &Scope::Province, agencies, events, checks)?;
    report.year = Some(year);
    Ok(report)
}
