//! Check windows (Art. 10, 16.2.a): was each agency mailbox checked before each deadline
//! of each working day?
//!
//! A **check** is a span of time during which the agency INBOX was selected or idled in
//! (IMAP, webmail), by the keeper or by a clerk through the shared namespace: the caller
//! maps each span to its agency; a login alone is a zero-length span. Window *i* of a
//! working day is the interval (previous deadline, deadline *i*] (see
//! [`crate::calendar`]); it is **met** when a span intersects it, so one long IDLE
//! session meets every window it crosses.
//!
//! Invariants:
//! 1. Sort and sweep: the spans of an agency are sorted once and walked once against the
//!    period's windows, which are in time order: O(S log S + W) per agency.
//! 2. Compliance = met windows / all windows of the period's working days, rounded half
//!    up to a tenth of a percent; a period with no working day has none.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, ClockTime, Period};
use crate::figures::Percent;

/// Time during which an agency's INBOX was open, Unix seconds, `from` ≤ `until`
/// (a reversed span is read as the zero-length span at `from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSpan {
    pub from: i64,
    pub until: i64,
}

/// The input for one agency: its code (the agency mailbox's local part, e.g. `sttt`)
/// and its check spans, in any order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencySpans {
    pub agency: String,
    pub spans: Vec<CheckSpan>,
}

/// One working day of one agency: `met[i]` for deadline `windows[i]` of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayChecks {
    pub date: NaiveDate,
    pub met: Vec<bool>,
}

/// One agency's days and its score over the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyChecks {
    pub agency: String,
    pub days: Vec<DayChecks>,
    /// Windows met in the period.
    pub met: u32,
    /// Windows of the period's working days.
    pub total: u32,
    /// `met / total`, one decimal; `None` when the period has no working day.
    pub compliance: Option<Percent>,
}

/// The checks report: one entry per input agency, in input order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub period: Period,
    /// The deadlines, local time.
    pub windows: Vec<ClockTime>,
    /// Some working day of the period depends on a provisional entry of the holidays
    /// file (not yet announced).
    pub provisional: bool,
    pub agencies: Vec<AgencyChecks>,
}

/// One window of the period: (opens, closes] in Unix seconds.
struct Window {
    day: usize,
    opens: i64,
    closes: i64,
}

/// Computes the report.
pub fn check_windows(calendar: &Calendar, period: &Period, agencies: &[AgencySpans]) -> CheckReport {
    let days: Vec<NaiveDate> = calendar.working_days(period).collect();
    let mut windows = Vec::with_capacity(days.len() * calendar.windows().len());
    for (day, date) in days.iter().enumerate() {
        let mut opens = calendar.window_opening(*date);
        for closes in calendar.deadlines(*date) {
            windows.push(Window { day, opens, closes });
            opens = closes;
        }
    }
    let provisional = calendar
        .holidays()
        .between(period.from(), period.to())
        .any(|(_, entry)| entry.provisional);
    CheckReport {
        period: *period,
        windows: calendar.windows().to_vec(),
        provisional,
        agencies: agencies
            .iter()
            .map(|input| agency_checks(input, &days, &windows))
            .collect(),
    }
}

/// The sweep of invariant 1: windows in time order, spans by start; `reach` is the
/// latest end of the spans started by the current window's close.
fn agency_checks(input: &AgencySpans, days: &[NaiveDate], windows: &[Window]) -> AgencyChecks {
    let mut spans: Vec<(i64, i64)> = input
        .spans
        .iter()
        .map(|span| (span.from, span.until.max(span.from)))
        .collect();
    spans.sort_unstable();
    let mut day_checks: Vec<DayChecks> = days
        .iter()
        .map(|date| DayChecks {
            date: *date,
            met: Vec::new(),
        })
        .collect();
    let mut next = spans.iter().peekable();
    let mut reach = i64::MIN;
    let mut met = 0u32;
    for window in windows {
        while let Some((_, until)) = next.next_if(|(from, _)| *from <= window.closes) {
            reach = reach.max(*until);
        }
        let window_met = reach > window.opens;
        met += u32::from(window_met);
        if let Some(day) = day_checks.get_mut(window.day) {
            day.met.push(window_met);
        }
    }
    let total = u32::try_from(windows.len()).unwrap_or(u32::MAX);
    AgencyChecks {
        agency: input.agency.clone(),
        days: day_checks,
        met,
        total,
        compliance: Percent::of(u64::from(met), u64::from(total)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::ComplianceSettings;
    use crate::holidays::Holidays;
    use crate::test_support::date;

    fn calendar() -> Calendar {
        Calendar::new(&ComplianceSettings::default(), Holidays::default()).unwrap()
    }

    /// Local time `hh:mm` of `date` in Unix seconds.
    fn at(calendar: &Calendar, date: NaiveDate, hour: i64, minute: i64) -> i64 {
        calendar.midnight(date) + hour * 3600 + minute * 60
    }

    #[test]
    fn boundaries_are_open_before_and_closed_after() {
        let calendar = calendar();
        let tuesday = date(2026, 1, 6);
        let period = Period::new(tuesday, tuesday).unwrap();
        let login = |hour, minute| {
            let moment = at(&calendar, tuesday, hour, minute);
            CheckSpan {
                from: moment,
                until: moment,
            }
        };
        // A login exactly at 08:00 is the 08:00 window's; at 11:30 the 11:30 one's; at
        // 16:30:01 it is already tomorrow's.
        let spans = vec![login(8, 0), login(11, 30)];
        let report = check_windows(
            &calendar,
            &period,
            &[AgencySpans {
                agency: "sttt".into(),
                spans,
            }],
        );
        let agency = &report.agencies[0];
        assert_eq!(agency.days[0].met, vec![true, true, false, false]);
        assert_eq!((agency.met, agency.total), (2, 4));
        assert_eq!(agency.compliance.unwrap().to_string(), "50.0");
        let late = at(&calendar, tuesday, 16, 30) + 1;
        let report = check_windows(
            &calendar,
            &period,
            &[AgencySpans {
                agency: "sttt".into(),
                spans: vec![CheckSpan {
                    from: late,
                    until: late + 3600,
                }],
            }],
        );
        assert_eq!(report.agencies[0].met, 0);
    }

    #[test]
    fn a_span_meets_every_window_it_crosses_and_a_reversed_one_is_a_login() {
        let calendar = calendar();
        let tuesday = date(2026, 1, 6);
        let period = Period::new(tuesday, tuesday).unwrap();
        // 07:00 → 11:00 meets 08:00 and 11:30 (not 14:00: it ended before 11:30); a reversed span at 15:00 meets 16:30.
        let spans = vec![
            CheckSpan {
                from: at(&calendar, tuesday, 15, 0),
                until: at(&calendar, tuesday, 9, 0),
            },
            CheckSpan {
                from: at(&calendar, tuesday, 7, 0),
                until: at(&calendar, tuesday, 11, 0),
            },
        ];
        let report = check_windows(
            &calendar,
            &period,
            &[AgencySpans {
                agency: "sttt".into(),
                spans,
            }],
        );
        assert_eq!(report.agencies[0].days[0].met, vec![true, true, false, true]);
        assert_eq!(report.agencies[0].compliance.unwrap().to_string(), "75.0");
    }

    #[test]
    fn no_working_day_no_percentage() {
        let calendar = calendar();
        let sunday = date(2026, 1, 4);
        let report = check_windows(
            &calendar,
            &Period::new(sunday, sunday).unwrap(),
            &[AgencySpans {
                agency: "sttt".into(),
                spans: vec![],
            }],
        );
        assert_eq!(report.agencies[0].total, 0);
        assert_eq!(report.agencies[0].compliance, None);
        assert!(report.agencies[0].days.is_empty());
    }
}
