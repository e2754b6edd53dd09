//! Acknowledgements of receipt (Art. 16.2.a, "trả lời đã tiếp nhận"): the messages to
//! agency mailboxes still pending beyond N working hours.
//!
//! A message is **pending** at `now` when it was received by then and not acknowledged
//! by then (an acknowledgement recorded after `now` does not count, so a past "now"
//! gives the report as it stood). Its **age** is the working time (see
//! [`crate::calendar`]: office hours of working days) from its receipt to `now`; it is
//! **overdue** when the age is beyond the threshold (`ack_working_hours`, 8).
//!
//! Invariants:
//! 1. Linear: the working time is counted once over the days from the oldest pending
//!    receipt (at most [`MAX_AGE_DAYS`] back) to `now`, then each age in constant time.
//! 2. Agencies in code order, their items oldest first.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// Ages are counted over at most ten years: an older receipt is as old as that.
pub const MAX_AGE_DAYS: u64 = 3660;

/// Who acknowledged, and when (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The account that acknowledged (the keeper or a clerk), e.g. `vanthu.sttt`.
    pub by: String,
    pub at: i64,
}

/// A message that asks for an acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingItem {
    /// The receiving agency's code.
    pub agency: String,
    /// The message's `Message-ID`.
    pub message_id: String,
    /// When it was delivered, Unix seconds.
    pub received_at: i64,
    pub acknowledged: Option<Acknowledgement>,
}

/// A message pending beyond the threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueItem {
    pub message_id: String,
    pub received_at: i64,
    /// `received_at` in local time.
    pub received_local: Option<NaiveDateTime>,
    /// Working seconds from receipt to `now`.
    pub working_seconds: i64,
}

impl OverdueItem {
    /// The age in working hours, tenths rounded half up (`95` = 9.5 h).
    pub fn working_hours_tenths(&self) -> i64 {
        (self.working_seconds + 180) / 360
    }
}

/// One agency's overdue messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyAcks {
    pub agency: String,
    pub overdue: Vec<OverdueItem>,
}

/// The acknowledgements report: agencies with at least one overdue message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckReport {
    pub now: i64,
    /// `now` in local time.
    pub now_local: Option<NaiveDateTime>,
    pub threshold_hours: u32,
    pub agencies: Vec<AgencyAcks>,
}

/// Computes the report.
pub fn overdue_acknowledgements(
    calendar: &Calendar,
    items: &[PendingItem],
    now: i64,
    threshold_hours: u32,
) -> AckReport {
    let pending: Vec<&PendingItem> = items
        .iter()
        .filter(|item| item.received_at <= now)
        .filter(|item| item.acknowledged.as_ref().is_none_or(|ack| ack.at > now))
        .collect();
    let mut agencies: BTreeMap<&str, Vec<OverdueItem>> = BTreeMap::new();
    let (Some(today), Some(oldest)) = (
        calendar.local_date(now),
        pending.iter().map(|item| item.received_at).min(),
    ) else {
        return AckReport {
            now,
            now_local: calendar.local_time(now),
            threshold_hours,
            agencies: Vec::new(),
        };
    };
    let earliest = today
        .checked_sub_days(chrono::Days::new(MAX_AGE_DAYS))
        .unwrap_or(today);
    let first = calendar
        .local_date(oldest)
        .map_or(earliest, |date| date.max(earliest));
    let working_time = calendar.working_time_from(first, today);
    let threshold = i64::from(threshold_hours) * 3600;
    for item in pending {
        let working_seconds = working_time.between(item.received_at, now);
        if working_seconds > threshold {
            agencies.entry(&item.agency).or_default().push(OverdueItem {
                message_id: item.message_id.clone(),
                received_at: item.received_at,
                received_local: calendar.local_time(item.received_at),
                working_seconds,
            });
        }
    }
    AckReport {
        now,
        now_local: calendar.local_time(now),
        threshold_hours,
        agencies: agencies
            .into_iter()
            .map(|(agency, mut overdue)| {
                overdue.sort_by(|a, b| (a.received_at, &a.message_id).cmp(&(b.received_at, &b.message_id)));
                AgencyAcks {
                    agency: agency.to_owned(),
                    overdue,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::ComplianceSettings;
    use crate::holidays::Holidays;
    use crate::test_support::date;

    #[test]
    fn beyond_eight_working_hours_over_a_weekend() {
        let calendar = Calendar::new(&ComplianceSettings::default(), Holidays::default()).unwrap();
        let friday = calendar.midnight(date(2026, 1, 9));
        let monday = calendar.midnight(date(2026, 1, 12));
        let hm = |h: i64, m: i64| h * 3600 + m * 60;
        let item = |agency: &str, id: &str, received_at, acknowledged| PendingItem {
            agency: agency.into(),
            message_id: id.into(),
            received_at,
            acknowledged,
        };
        let now = monday + hm(14, 0);
        let items = vec![
            // Friday 09:00: Friday 2.5 + 3.5 = 6 h, Monday 4 + 0.5 = 4.5 h → 10.5 h.
            item("sttt", "<a@x>", friday + hm(9, 0), None),
            // Friday 15:00: 2 h + 4.5 h = 6.5 h: not yet overdue.
            item("sttt", "<b@x>", friday + hm(15, 0), None),
            // Friday 08:00, acknowledged Monday 09:00: not pending.
            item(
                "sttt",
                "<c@x>",
                friday + hm(8, 0),
                Some(Acknowledgement {
                    by: "vanthu.sttt".into(),
                    at: monday + hm(9, 0),
                }),
            ),
            // Friday 07:00, acknowledged after now: still pending at now, 7.5 + 4.5 = 12 h.
            item(
                "yendinh",
                "<d@x>",
                friday + hm(7, 0),
                Some(Acknowledgement {
                    by: "yendinh".into(),
                    at: now + 60,
                }),
            ),
            // Received after now: not in the report.
            item("yendinh", "<e@x>", now + 1, None),
        ];
        let report = overdue_acknowledgements(&calendar, &items, now, 8);
        assert_eq!(report.agencies.len(), 2);
        assert_eq!(report.agencies[0].agency, "sttt");
        assert_eq!(report.agencies[0].overdue.len(), 1);
        assert_eq!(report.agencies[0].overdue[0].message_id, "<a@x>");
        assert_eq!(report.agencies[0].overdue[0].working_seconds, hm(10, 30));
        assert_eq!(report.agencies[0].overdue[0].working_hours_tenths(), 105);
        assert_eq!(report.agencies[1].agency, "yendinh");
        assert_eq!(report.agencies[1].overdue[0].working_seconds, hm(12, 0));
        // With a 12 h threshold, 12 h is not beyond it.
        let strict = overdue_acknowledgements(&calendar, &items, now, 12);
        assert!(strict.agencies.is_empty());
    }

    #[test]
    fn ancient_and_extreme_instants_do_not_panic() {
        let calendar = Calendar::new(&ComplianceSettings::default(), Holidays::default()).unwrap();
        let now = calendar.midnight(date(2026, 1, 12)) + 12 * 3600;
        let items = vec![
            PendingItem {
                agency: "sttt".into(),
                message_id: "<old@x>".into(),
                received_at: i64::MIN,
                acknowledged: None,
            },
            PendingItem {
                agency: "sttt".into(),
                message_id: "<zero@x>".into(),
                received_at: 0,
                acknowledged: None,
            },
        ];
        let report = overdue_acknowledgements(&calendar, &items, now, 8);
        let overdue = &report.agencies[0].overdue;
        assert_eq!(overdue.len(), 2);
        // Both are counted from ten years back at most: the same age.
        assert_eq!(overdue[0].working_seconds, overdue[1].working_seconds);
        assert!(
            overdue_acknowledgements(&calendar, &items, i64::MAX, 8)
                .agencies
                .is_empty()
        );
    }
}
