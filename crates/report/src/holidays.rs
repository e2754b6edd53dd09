//! The holidays file: public holidays and make-up working days (`config/holidays.toml`).
//!
//! ```toml
//! [[holiday]]                 # a day off that the weekday rule would make a working day
//! date = "2026-01-01"         # one day, or a range: from = "2026-02-16", to = "2026-02-20"
//! name = "Tết Dương lịch"
//! provisional = true          # optional: not yet announced, computed from the law
//!
//! [[working_day]]             # a make-up working day (a Saturday worked to bridge a holiday)
//! date = "2026-01-10"
//! name = "Làm bù cho thứ Sáu 02/01/2026"
//! ```
//!
//! Invariants:
//! 1. A date is listed once: twice, or as both a holiday and a working day, is an error
//!    naming the date (a typo in a yearly notice must not pass silently).
//! 2. A range is at most [`MAX_RANGE_DAYS`] long, so the parsed set is bounded by the
//!    text's size.
//! 3. Unknown keys are refused; no input panics (fuzzed: `fuzz/fuzz_targets/report_holidays.rs`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The longest range one entry may cover (Tết with its weekends is nine days).
pub const MAX_RANGE_DAYS: i64 = 31;

/// Errors of the holidays file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HolidaysError {
    #[error("tệp ngày nghỉ không đọc được / holidays file unreadable: {0}")]
    Syntax(String),
    #[error("mục {name:?}: cần date, hoặc from và to / entry {name:?}: needs date, or from and to")]
    Dates { name: String },
    #[error(
        "mục {name:?}: khoảng ngày không hợp lệ / entry {name:?}: invalid range (from ≤ to, at most {MAX_RANGE_DAYS} days)"
    )]
    Range { name: String },
    #[error("ngày {0} được liệt kê hai lần / date {0} is listed twice")]
    Twice(NaiveDate),
}

/// Whether a listed date is a day off or a make-up working day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    Holiday,
    WorkingDay,
}

/// What the file says about one date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOverride {
    pub kind: DayKind,
    /// The entry's name, e.g. "Tết Nguyên đán".
    pub name: String,
    /// Computed from the law, not yet announced by the Ministry of Home Affairs.
    pub provisional: bool,
}

impl DayOverride {
    /// A make-up working day.
    pub fn is_working(&self) -> bool {
        self.kind == DayKind::WorkingDay
    }
}

/// The parsed file: one override per listed date.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holidays {
    days: BTreeMap<NaiveDate, DayOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    holiday: Vec<Entry>,
    #[serde(default)]
    working_day: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    date: Option<NaiveDate>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    #[serde(default)]
    provisional: bool,
}

impl Holidays {
    /// Parses the file's text (the caller reads the file).
    pub fn parse(text: &str) -> Result<Self, HolidaysError> {
        let file: File =
            toml::from_str(text).map_err(|error| HolidaysError::Syntax(error.message().to_owned()))?;
        let mut days = BTreeMap::new();
        let entries = file
            .holiday
            .into_iter()
            .map(|entry| (DayKind::Holiday, entry))
            .chain(
                file.working_day
                    .into_iter()
                    .map(|entry| (DayKind::WorkingDay, entry)),
            );
        for (kind, entry) in entries {
            let (from, to) = match (entry.date, entry.from, entry.to) {
                (Some(date), None, None) => (date, date),
                (None, Some(from), Some(to)) => (from, to),
                _ => return Err(HolidaysError::Dates { name: entry.name }),
            };
            if !(0..MAX_RANGE_DAYS).contains(&(to - from).num_days()) {
                return Err(HolidaysError::Range { name: entry.name });
            }
            for date in from.iter_days().take_while(|date| *date <= to) {
                let day = DayOverride {
                    kind,
                    name: entry.name.clone(),
                    provisional: entry.provisional,
                };
                if days.insert(date, day).is_some() {
                    return Err(HolidaysError::Twice(date));
                }
            }
        }
        Ok(Self { days })
    }

    /// What the file says about `date`, if anything.
    pub fn override_for(&self, date: NaiveDate) -> Option<&DayOverride> {
        self.days.get(&date)
    }

    /// Every listed date, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&NaiveDate, &DayOverride)> {
        self.days.iter()
    }

    /// The listed dates from `from` to `to` (both included), in order.
    pub fn between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Iterator<Item = (&NaiveDate, &DayOverride)> {
        self.days.range(from..=to.max(from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::date;

    #[test]
    fn days_and_ranges() {
        let holidays = Holidays::parse(
            r#"
[[holiday]]
date = "2026-01-01"
name = "Tết Dương lịch"
[[holiday]]
from = "2026-02-16"
to = "2026-02-20"
name = "Tết Nguyên đán"
[[working_day]]
date = "2026-01-10"
name = "Làm bù"
provisional = true
"#,
        )
        .unwrap();
        assert_eq!(holidays.between(date(2026, 1, 1), date(2026, 12, 31)).count(), 7);
        assert_eq!(
            holidays.override_for(date(2026, 2, 18)).unwrap().name,
            "Tết Nguyên đán"
        );
        let make_up = holidays.override_for(date(2026, 1, 10)).unwrap();
        assert!(make_up.is_working() && make_up.provisional);
        assert!(holidays.override_for(date(2026, 2, 21)).is_none());
    }

    #[test]
    fn mistakes_are_named() {
        let twice = "[[holiday]]\ndate = \"2026-01-01\"\nname = \"a\"\n[[working_day]]\ndate = \"2026-01-01\"\nname = \"b\"";
        assert_eq!(
            Holidays::parse(twice),
            Err(HolidaysError::Twice(date(2026, 1, 1)))
        );
        let long = "[[holiday]]\nfrom = \"2026-01-01\"\nto = \"2026-03-01\"\nname = \"x\"";
        assert!(matches!(Holidays::parse(long), Err(HolidaysError::Range { .. })));
        let backwards = "[[holiday]]\nfrom = \"2026-01-02\"\nto = \"2026-01-01\"\nname = \"x\"";
        assert!(matches!(
            Holidays::parse(backwards),
            Err(HolidaysError::Range { .. })
        ));
        let both =
            "[[holiday]]\ndate = \"2026-01-01\"\nfrom = \"2026-01-01\"\nto = \"2026-01-02\"\nname = \"x\"";
        assert!(matches!(Holidays::parse(both), Err(HolidaysError::Dates { .. })));
        assert!(matches!(
            Holidays::parse("[[holiday]]\ndate = \"2026-01-01\"\nname = \"x\"\nkind = \"y\""),
            Err(HolidaysError::Syntax(_))
        ));
        assert!(matches!(
            Holidays::parse("[[holiday]]\ndate = \"2026-02-30\"\nname = \"x\""),
            Err(HolidaysError::Syntax(_))
        ));
    }

    #[test]
    fn the_shipped_file_parses() {
        let text = include_str!("../../../config/holidays.toml");
        let holidays = Holidays::parse(text).unwrap();
        // Tết Bính Ngọ: Monday 16 to Friday 20 February 2026.
        assert!((16..=20).all(|day| holidays.override_for(date(2026, 2, day)).is_some()));
        // The make-up Saturdays of 2026.
        for make_up in [date(2026, 1, 10), date(2026, 8, 22)] {
            assert!(holidays.override_for(make_up).unwrap().is_working());
        }
        // 2027 is computed, not announced.
        assert!(
            holidays
                .between(date(2027, 1, 1), date(2027, 12, 31))
                .all(|(_, day)| day.provisional)
        );
        assert!(
            holidays
                .between(date(2026, 1, 1), date(2026, 12, 31))
                .all(|(_, day)| !day.provisional)
        );
    }
}
