//! The supervision reports of issue 14, fed from the directory and the store: the one
//! place that gathers their inputs and hands them to `congvu_report` (the admin API's
//! `/api/v1/reports/…` calls it, the CLI and the bench reach it through the API).
//!
//! What comes from where:
//! - agencies with their parent, and the accounts of each (agency mailbox or personal,
//!   deleted or not): the directory;
//! - storage used and quota per account, now: the store's account records;
//! - Form 01/02/03 requests filed in the period (by their filing date) and the late
//!   ones (Art. 15.3): the directory's requests;
//! - check spans (Art. 10): [`MailStore::access_spans`] of each agency's own account.
//!   A clerk working through the shared namespace selects the agency's INBOX, so the
//!   span is already on the agency's account and counts for the agency;
//! - mail events (deliveries, submissions, refusals, bounces, logins) of the period:
//!   [`MailStore::events`], each attributed to the agency of its account;
//! - acknowledgement records (Art. 16.2.a): [`MailStore::acks`], attributed to the
//!   agency whose mailbox received the message.
//!
//! Invariants:
//! 1. One read of each source per report: agencies, accounts and requests once, the
//!    events of the period in one range scan, one span query per agency.
//! 2. An event of an account the directory no longer knows (a purged mailbox) keeps
//!    an empty agency, so the report counts it as unattributed instead of dropping it.
//! 3. Dissolved agencies keep their rows in the usage and yearly reports (their events
//!    happened) but have no check windows: there is no mailbox left to check.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};

use congvu_directory::request::Form;
use congvu_directory::{AccountRecord, AgencyRecord, Directory, DirectoryError};
use congvu_report::{
    AckReport, AgencyFacts, AgencySpans, Calendar, CheckReport, CheckSpan, MailEvent, PendingItem, Period,
    Requests, Scope, UsageError, UsageReport,
};
use congvu_store::{AccountId, AccountKind, MailStore, StoreError};

/// Everything a report is computed from: the two sources and the calendar.
pub struct Sources<'a> {
    pub directory: &'a Directory,
    pub store: &'a dyn MailStore,
    pub calendar: &'a Calendar,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Usage(#[from] UsageError),
}

/// The directory's view of the province, indexed for attribution.
struct Province {
    agencies: Vec<AgencyRecord>,
    /// Every account the directory knows, by storage id.
    accounts: HashMap<AccountId, AccountRecord>,
}

impl Province {
    fn read(directory: &Directory) -> Result<Province, ReportError> {
        let agencies = directory.list_agencies()?;
        let accounts = directory
            .list_accounts(None)?
            .into_iter()
            .map(|record| (record.account, record))
            .collect();
        Ok(Province { agencies, accounts })
    }

    /// The agency an account belongs to and the account's local part (`tuanna.sttt`);
    /// an unknown account has an empty agency (invariant 2).
    fn owner(&self, account: AccountId) -> (String, String) {
        match self.accounts.get(&account) {
            Some(record) => (
                record.agency.clone(),
                record
                    .address
                    .split_once('@')
                    .map_or(record.address.as_str(), |(local, _)| local)
                    .to_owned(),
            ),
            None => (String::new(), format!("#{}", account.0)),
        }
    }

    /// The agency named `abbr` (any case), or `UnknownAgency`.
    fn find(&self, abbr: &str) -> Result<&AgencyRecord, ReportError> {
        self.agencies
            .iter()
            .find(|agency| agency.abbr.eq_ignore_ascii_case(abbr))
            .ok_or_else(|| UsageError::UnknownAgency(abbr.to_owned()).into())
    }
}

/// The instants a period covers: local midnight of its first day to the last second
/// of its last day.
fn instants(calendar: &Calendar, period: &Period) -> (i64, i64) {
    let end = period
        .to()
        .checked_add_days(Days::new(1))
        .map_or(i64::MAX, |next| calendar.midnight(next).saturating_sub(1));
    (calendar.midnight(period.from()), end)
}

/// The check spans of the given agencies over the period's windows (the first window
/// opens at the previous working day's last deadline, before the period starts).
fn spans_of(
    sources: &Sources<'_>,
    period: &Period,
    agencies: &[&AgencyRecord],
) -> Result<Vec<AgencySpans>, ReportError> {
    let opening = sources.calendar.window_opening(period.from());
    let (_, end) = instants(sources.calendar, period);
    agencies
        .iter()
        .map(|agency| {
            let spans = sources
                .store
                .access_spans(agency.account, opening, end)?
                .into_iter()
                .map(|span| CheckSpan {
                    from: span.from,
                    until: span.until,
                })
                .collect();
            Ok(AgencySpans {
                agency: agency.abbr.clone(),
                spans,
            })
        })
        .collect()
}

/// The checks report (Art. 10) of every live agency, or of one.
pub fn checks(
    sources: &Sources<'_>,
    period: &Period,
    agency: Option<&str>,
) -> Result<CheckReport, ReportError> {
    let province = Province::read(sources.directory)?;
    let chosen: Vec<&AgencyRecord> = match agency {
        Some(abbr) => vec![province.find(abbr)?],
        None => province
            .agencies
            .iter()
            .filter(|agency| agency.dissolved.is_none())
            .collect(),
    };
    let spans = spans_of(sources, period, &chosen)?;
    Ok(congvu_report::check_windows(sources.calendar, period, &spans))
}

/// Messages pending acknowledgement beyond `threshold_hours` working hours at `now`
/// (Art. 16.2.a), of every agency or of one.
pub fn acknowledgements(
    sources: &Sources<'_>,
    now: i64,
    threshold_hours: u32,
    agency: Option<&str>,
) -> Result<AckReport, ReportError> {
    let province = Province::read(sources.directory)?;
    let only = agency.map(|abbr| province.find(abbr)).transpose()?;
    let items: Vec<PendingItem> = sources
        .store
        .acks(only.map(|agency| agency.account))?
        .into_iter()
        .map(|ack| PendingItem {
            agency: province.owner(ack.account).0,
            message_id: ack.message_id,
            received_at: ack.received_at,
            acknowledged: ack.acknowledged,
        })
        .collect();
    Ok(congvu_report::overdue_acknowledgements(
        sources.calendar,
        &items,
        now,
        threshold_hours,
    ))
}

/// The counted facts of every agency: mailboxes (deleted ones left out), storage now,
/// requests filed in the period.
fn facts(
    sources: &Sources<'_>,
    province: &Province,
    period: &Period,
) -> Result<Vec<AgencyFacts>, ReportError> {
    let mut by_agency: HashMap<&str, AgencyFacts> = province
        .agencies
        .iter()
        .map(|agency| {
            (
                agency.abbr.as_str(),
                AgencyFacts {
                    agency: agency.abbr.clone(),
                    name: agency.name.clone(),
                    parent: agency.parent.clone(),
                    agency_mailboxes: 0,
                    personal_mailboxes: 0,
                    used_bytes: 0,
                    quota_bytes: 0,
                    requests: Requests::default(),
                },
            )
        })
        .collect();
    for record in province
        .accounts
        .values()
        .filter(|record| record.deleted.is_none())
    {
        let Some(facts) = by_agency.get_mut(record.agency.as_str()) else {
            continue;
        };
        match record.kind {
            AccountKind::Agency => facts.agency_mailboxes += 1,
            AccountKind::Personal => facts.personal_mailboxes += 1,
        }
        if let Some(storage) = sources.store.account(record.account)? {
            facts.used_bytes += storage.used_bytes;
            facts.quota_bytes += storage.quota_bytes;
        }
    }
    for request in sources.directory.list_requests(None, None, false)? {
        let filed = request
            .filing_date
            .as_deref()
            .and_then(|date| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok());
        let Some(facts) = filed
            .filter(|date| (period.from()..=period.to()).contains(date))
            .and_then(|_| by_agency.get_mut(request.agency.as_str()))
        else {
            continue;
        };
        let counter = match request.form {
            Form::New => &mut facts.requests.form01,
            Form::Change => &mut facts.requests.form02,
            Form::Delete => &mut facts.requests.form03,
        };
        *counter += 1;
        facts.requests.late += u64::from(request.late);
    }
    // The directory's order (by abbreviation), so rows come out the same every time.
    Ok(province
        .agencies
        .iter()
        .filter_map(|agency| by_agency.remove(agency.abbr.as_str()))
        .collect())
}

/// The mail events of the period, attributed to agencies.
fn events(
    sources: &Sources<'_>,
    province: &Province,
    period: &Period,
) -> Result<Vec<MailEvent>, ReportError> {
    let (from, until) = instants(sources.calendar, period);
    Ok(sources
        .store
        .events(from, until)?
        .into_iter()
        .map(|event| {
            let (agency, account) = province.owner(event.account);
            MailEvent {
                at: event.at,
                agency,
                account,
                kind: event.kind,
            }
        })
        .collect())
}

/// The inputs of a usage report: every agency's facts, the period's events, and the
/// checks report of the live agencies.
fn usage_inputs(
    sources: &Sources<'_>,
    province: &Province,
    period: &Period,
) -> Result<(Vec<AgencyFacts>, Vec<MailEvent>, CheckReport), ReportError> {
    let live: Vec<&AgencyRecord> = province
        .agencies
        .iter()
        .filter(|agency| agency.dissolved.is_none())
        .collect();
    let checks = congvu_report::check_windows(sources.calendar, period, &spans_of(sources, period, &live)?);
    Ok((
        facts(sources, province, period)?,
        events(sources, province, period)?,
        checks,
    ))
}

/// Usage per agency (Art. 15.4) over `scope`.
pub fn usage(sources: &Sources<'_>, period: &Period, scope: &Scope) -> Result<UsageReport, ReportError> {
    let province = Province::read(sources.directory)?;
    // The directory's spelling of the abbreviation: the scope matches it exactly.
    let scope = match scope {
        Scope::Province => Scope::Province,
        Scope::Agency(abbr) => Scope::Agency(province.find(abbr)?.abbr.clone()),
        Scope::Subtree(abbr) => Scope::Subtree(province.find(abbr)?.abbr.clone()),
    };
    let (facts, events, checks) = usage_inputs(sources, &province, period)?;
    Ok(congvu_report::usage(
        sources.calendar,
        period,
        &scope,
        &facts,
        &events,
        &checks,
    )?)
}

/// The Art. 12.6 yearly report of the province.
pub fn year(sources: &Sources<'_>, year: i32) -> Result<UsageReport, ReportError> {
    let period = Period::year(year).ok_or(UsageError::Year(year))?;
    let province = Province::read(sources.directory)?;
    let (facts, events, checks) = usage_inputs(sources, &province, &period)?;
    Ok(congvu_report::year(
        sources.calendar,
        year,
        &facts,
        &events,
        &checks,
    )?)
}
