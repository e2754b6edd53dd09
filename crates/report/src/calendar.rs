//! The working calendar: the `[compliance]` settings, local time, working days and
//! working hours.
//!
//! Definitions (docs/reports.md says the same for operators):
//! - **Working day**: a day whose weekday is in `working_days`, unless the holidays file
//!   lists it as a holiday; plus every make-up working day the file lists (a Saturday
//!   worked to bridge a holiday).
//! - **Deadlines** (Art. 10): `windows` are local clock times. Window *i* of a working day
//!   is the half-open interval (previous deadline, deadline *i*]; the first window of a
//!   day opens at the previous working day's last deadline, so a check after Friday's
//!   16:30, on the weekend or early on Monday counts for Monday's 08:00.
//! - **Working hours** (for acknowledgements pending "beyond N working hours"):
//!   `working_hours` ranges of local time on working days, by default 07:30–11:30 and
//!   13:30–17:00 (the state agencies' usual office hours).
//!
//! Invariants:
//! 1. Nothing reads the system clock: instants are Unix seconds given by the caller.
//! 2. Windows are strictly increasing, working-hour ranges are increasing and do not
//!    overlap; [`Calendar::new`] refuses anything else.
//! 3. Every search over days is bounded ([`MAX_PERIOD_DAYS`], [`MAX_GAP_DAYS`]).

use std::fmt;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::holidays::Holidays;

/// The longest period a report covers: three years (the Art. 12.6 report is one).
/// Bounds every per-day allocation.
pub const MAX_PERIOD_DAYS: i64 = 1096;

/// How far back [`Calendar::window_opening`] looks for the previous working day; the
/// longest run of days off in Vietnam (Tết with its weekends) is nine days.
pub const MAX_GAP_DAYS: i64 = 31;

const SECONDS_PER_DAY: i64 = 86_400;

/// Errors of the settings, the holidays file and the period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("giờ không hợp lệ / invalid clock time {0:?} (HH:MM, 00:00–23:59)")]
    ClockTime(String),
    #[error("khoảng giờ không hợp lệ / invalid time range {0:?} (HH:MM-HH:MM, start before end)")]
    TimeRange(String),
    #[error(
        "múi giờ không được hỗ trợ / unsupported time zone {0:?}: use Asia/Ho_Chi_Minh, UTC or a fixed offset such as UTC+07:00"
    )]
    Zone(String),
    #[error("ngày trong tuần không hợp lệ / invalid weekday {0:?} (mon, tue, wed, thu, fri, sat, sun)")]
    Weekday(String),
    #[error(
        "[compliance] windows: cần ít nhất một mốc, tăng dần / at least one deadline, strictly increasing"
    )]
    Windows,
    #[error(
        "[compliance] working_hours: các khoảng phải tăng dần, không chồng nhau / ranges must be increasing and must not overlap"
    )]
    WorkingHours,
    #[error(
        "khoảng thời gian không hợp lệ / invalid period {from} – {to} (from ≤ to, at most {MAX_PERIOD_DAYS} days)"
    )]
    Period { from: NaiveDate, to: NaiveDate },
}

/// Config values written as text: serde reads them through `FromStr` and writes them
/// through `Display`.
macro_rules! text_form {
    ($type:ty) => {
        impl TryFrom<String> for $type {
            type Error = CalendarError;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }

        impl From<$type> for String {
            fn from(value: $type) -> Self {
                value.to_string()
            }
        }
    };
}

/// A local clock time, minutes after midnight (00:00–23:59), written `HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(u16);

impl ClockTime {
    /// `hour`:`minute`, if it is a time of day.
    pub fn new(hour: u16, minute: u16) -> Option<Self> {
        (hour < 24 && minute < 60).then_some(Self(hour * 60 + minute))
    }

    /// Seconds after local midnight.
    pub fn seconds(self) -> i64 {
        i64::from(self.0) * 60
    }
}

impl std::str::FromStr for ClockTime {
    type Err = CalendarError;

    /// Exactly `HH:MM` with two digits each: a config typo must not become a time.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || CalendarError::ClockTime(text.to_owned());
        let (hour, minute) = text.split_once(':').ok_or_else(error)?;
        let two_digits = |part: &str| {
            (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u16>().ok())
                .flatten()
        };
        match (two_digits(hour), two_digits(minute)) {
            (Some(hour), Some(minute)) => Self::new(hour, minute).ok_or_else(error),
            _ => Err(error()),
        }
    }
}

text_form!(ClockTime);

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// A range of local time within one day, `HH:MM-HH:MM`, start before end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeRange {
    pub start: ClockTime,
    pub end: ClockTime,
}

impl std::str::FromStr for TimeRange {
    type Err = CalendarError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || CalendarError::TimeRange(text.to_owned());
        let (start, end) = text.split_once('-').ok_or_else(error)?;
        let start: ClockTime = start.trim().parse().map_err(|_| error())?;
        let end: ClockTime = end.trim().parse().map_err(|_| error())?;
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(error())
        }
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

text_form!(TimeRange);

/// The local time zone: a fixed offset from UTC, named.
///
/// Vietnam has kept UTC+07:00 without daylight saving since 13 June 1975, so the
/// regulation's zone is exactly a fixed offset for every period a report can cover. The
/// full IANA database (the `chrono-tz` crate, not in the tree) would add its generated
/// tables to the build for that one offset; names it would accept that are not a fixed
/// offset here are refused with an error instead of being guessed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone {
    name: String,
    offset_seconds: i32,
}

impl Zone {
    /// The regulation's zone: Asia/Ho_Chi_Minh, UTC+07:00.
    pub fn vietnam() -> Self {
        Self {
            name: "Asia/Ho_Chi_Minh".to_owned(),
            offset_seconds: 7 * 3600,
        }
    }

    /// Seconds east of UTC.
    pub fn offset_seconds(&self) -> i32 {
        self.offset_seconds
    }

    /// `UTC+HH:MM` / `UTC-HH:MM`, at most 14 hours.
    fn parse_offset(text: &str) -> Option<i32> {
        let rest = text.strip_prefix("UTC")?;
        let sign = match rest.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let time: ClockTime = rest.get(1..)?.parse().ok()?;
        let seconds = i32::try_from(time.seconds()).ok()?;
        (seconds <= 14 * 3600).then_some(sign * seconds)
    }
}

impl std::str::FromStr for Zone {
    type Err = CalendarError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let offset_seconds = match text {
            // Asia/Saigon is the IANA database's older name for the same zone.
            "Asia/Ho_Chi_Minh" | "Asia/Saigon" => 7 * 3600,
            "UTC" | "Etc/UTC" => 0,
            other => Self::parse_offset(other).ok_or_else(|| CalendarError::Zone(text.to_owned()))?,
        };
        Ok(Self {
            name: text.to_owned(),
            offset_seconds,
        })
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

text_form!(Zone);

/// A weekday as the config writes it: `mon` … `sun`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkingWeekday(Weekday);

const WEEKDAY_NAMES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

impl TryFrom<String> for WorkingWeekday {
    type Error = CalendarError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        WEEKDAY_NAMES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, day)| Self(*day))
            .ok_or(CalendarError::Weekday(text))
    }
}

impl From<WorkingWeekday> for String {
    fn from(day: WorkingWeekday) -> Self {
        WEEKDAY_NAMES
            .iter()
            .find(|(_, weekday)| *weekday == day.0)
            .map_or_else(String::new, |(name, _)| (*name).to_owned())
    }
}

/// The `[compliance]` section. Every key has the regulation's value as its default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComplianceSettings {
    /// Check deadlines, local time (Art. 10): `["08:00", "11:30", "14:00", "16:30"]`.
    pub windows: Vec<ClockTime>,
    /// `"Asia/Ho_Chi_Minh"`; also `UTC` or a fixed `UTC+HH:MM` (see [`Zone`]).
    pub timezone: Zone,
    /// `["mon", "tue", "wed", "thu", "fri"]`.
    pub working_days: Vec<WorkingWeekday>,
    /// Holidays and make-up working days (format: `config/holidays.toml`). Unset: the
    /// weekday rule alone. The binary reads the file; [`Holidays::parse`] reads its text.
    pub holidays_file: Option<PathBuf>,
    /// An acknowledgement is overdue after this many working hours: 8.
    pub ack_working_hours: u32,
    /// Office hours of a working day, local time: `["07:30-11:30", "13:30-17:00"]`.
    pub working_hours: Vec<TimeRange>,
}

impl Default for ComplianceSettings {
    fn default() -> Self {
        let time = |h, m| ClockTime::new(h, m).unwrap_or(ClockTime(0));
        Self {
            windows: vec![time(8, 0), time(11, 30), time(14, 0), time(16, 30)],
            timezone: Zone::vietnam(),
            working_days: [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ]
            .into_iter()
            .map(WorkingWeekday)
            .collect(),
            holidays_file: None,
            ack_working_hours: 8,
            working_hours: vec![
                TimeRange {
                    start: time(7, 30),
                    end: time(11, 30),
                },
                TimeRange {
                    start: time(13, 30),
                    end: time(17, 0),
                },
            ],
        }
    }
}

/// An inclusive range of local dates, at most [`MAX_PERIOD_DAYS`] long (also when read
/// back from JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PeriodFields")]
pub struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

/// A period as written, before [`Period::new`] checks it.
#[derive(Deserialize)]
struct PeriodFields {
    from: NaiveDate,
    to: NaiveDate,
}

impl TryFrom<PeriodFields> for Period {
    type Error = CalendarError;
    fn try_from(fields: PeriodFields) -> Result<Self, Self::Error> {
        Self::new(fields.from, fields.to)
    }
}

impl Period {
    /// `from` ≤ `to`, both included.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, CalendarError> {
        let days = (to - from).num_days();
        if (0..MAX_PERIOD_DAYS).contains(&days) {
            Ok(Self { from, to })
        } else {
            Err(CalendarError::Period { from, to })
        }
    }

    /// The calendar year `year`.
    pub fn year(year: i32) -> Option<Self> {
        let from = NaiveDate::from_ymd_opt(year, 1, 1)?;
        let to = NaiveDate::from_ymd_opt(year, 12, 31)?;
        Self::new(from, to).ok()
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// Every date of the period, in order.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        self.from.iter_days().take_while({
            let to = self.to;
            move |day| *day <= to
        })
    }
}

/// Answers which days are working days and where windows and working hours lie.
#[derive(Clone, Debug)]
pub struct Calendar {
    windows: Vec<ClockTime>,
    offset_seconds: i64,
    working_weekdays: [bool; 7],
    working_hours: Vec<TimeRange>,
    holidays: Holidays,
}

impl Calendar {
    /// Checks the settings (invariant 2) and joins them with the parsed holidays file.
    pub fn new(settings: &ComplianceSettings, holidays: Holidays) -> Result<Self, CalendarError> {
        if settings.windows.is_empty() || settings.windows.windows(2).any(|w| w[0] >= w[1]) {
            return Err(CalendarError::Windows);
        }
        if settings
            .working_hours
            .windows(2)
            .any(|pair| pair[0].end > pair[1].start)
        {
            return Err(CalendarError::WorkingHours);
        }
        let mut working_weekdays = [false; 7];
        for day in &settings.working_days {
            if let Some(slot) = working_weekdays.get_mut(day.0.num_days_from_monday() as usize) {
                *slot = true;
            }
        }
        Ok(Self {
            windows: settings.windows.clone(),
            offset_seconds: i64::from(settings.timezone.offset_seconds()),
            working_weekdays,
            working_hours: settings.working_hours.clone(),
            holidays,
        })
    }

    /// The deadlines of a working day, local time.
    pub fn windows(&self) -> &[ClockTime] {
        &self.windows
    }

    /// The holidays file this calendar uses.
    pub fn holidays(&self) -> &Holidays {
        &self.holidays
    }

    /// The weekday rule, minus holidays, plus make-up working days.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.holidays.override_for(date) {
            Some(entry) => entry.is_working(),
            None => self
                .working_weekdays
                .get(date.weekday().num_days_from_monday() as usize)
                .copied()
                .unwrap_or(false),
        }
    }

    /// The working days of a period, in order.
    pub fn working_days<'a>(&'a self, period: &Period) -> impl Iterator<Item = NaiveDate> + 'a {
        period.dates().filter(|day| self.is_working_day(*day))
    }

    /// The local date and time of an instant; `None` beyond chrono's range.
    pub fn local_time(&self, at: i64) -> Option<chrono::NaiveDateTime> {
        let local = at.checked_add(self.offset_seconds)?;
        chrono::DateTime::from_timestamp(local, 0).map(|moment| moment.naive_utc())
    }

    /// The local date an instant falls on; `None` beyond chrono's range.
    pub fn local_date(&self, at: i64) -> Option<NaiveDate> {
        self.local_time(at).map(|moment| moment.date())
    }

    /// The instant of local midnight starting `date`.
    pub fn midnight(&self, date: NaiveDate) -> i64 {
        date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp() - self.offset_seconds
    }

    /// The deadlines of `date` as Unix seconds (whether or not it is a working day).
    pub fn deadlines(&self, date: NaiveDate) -> impl Iterator<Item = i64> + '_ {
        let midnight = self.midnight(date);
        self.windows.iter().map(move |time| midnight + time.seconds())
    }

    /// Where the first window of `date` opens: the last deadline of the previous working
    /// day, looked for at most [`MAX_GAP_DAYS`] back; local midnight of `date` when
    /// there is none that close.
    pub fn window_opening(&self, date: NaiveDate) -> i64 {
        let last = self.windows.last().map_or(0, |time| time.seconds());
        (1..=MAX_GAP_DAYS)
            .filter_map(|back| date.checked_sub_days(chrono::Days::new(back.unsigned_abs())))
            .find(|day| self.is_working_day(*day))
            .map_or_else(|| self.midnight(date), |day| self.midnight(day) + last)
    }

    /// Seconds of working hours a working day holds.
    fn seconds_per_working_day(&self) -> i64 {
        self.working_hours
            .iter()
            .map(|range| range.end.seconds() - range.start.seconds())
            .sum()
    }

    /// Seconds of working hours of `date` before the local time `seconds_into_day`.
    fn working_seconds_before(&self, date: NaiveDate, seconds_into_day: i64) -> i64 {
        if !self.is_working_day(date) {
            return 0;
        }
        self.working_hours
            .iter()
            .map(|range| {
                seconds_into_day.clamp(range.start.seconds(), range.end.seconds()) - range.start.seconds()
            })
            .sum()
    }

    /// A running count of working seconds from the start of `first` onwards, so that
    /// many intervals ending at or before the last day can each be measured in constant
    /// time (acknowledgement ages): linear in days, once.
    pub fn working_time_from(&self, first: NaiveDate, last: NaiveDate) -> WorkingTime<'_> {
        let per_day = self.seconds_per_working_day();
        let days = (last - first).num_days().clamp(0, MAX_PERIOD_DAYS * 10);
        let mut before_day = Vec::with_capacity(usize::try_from(days + 1).unwrap_or(0));
        let mut running = 0;
        for day in first.iter_days().take(before_day.capacity()) {
            before_day.push(running);
            if self.is_working_day(day) {
                running += per_day;
            }
        }
        WorkingTime {
            calendar: self,
            first,
            before_day,
        }
    }
}

/// Working seconds counted from a first day (see [`Calendar::working_time_from`]).
#[derive(Debug)]
pub struct WorkingTime<'a> {
    calendar: &'a Calendar,
    first: NaiveDate,
    /// Working seconds from the start of `first` to the start of each day.
    before_day: Vec<i64>,
}

impl WorkingTime<'_> {
    /// Working seconds from the start of `first` to the instant `at`; instants before
    /// `first` count as its start, after the last day as the last day's end.
    fn since_first(&self, at: i64) -> i64 {
        let Some(date) = self.calendar.local_date(at) else {
            return 0;
        };
        let Ok(index) = usize::try_from((date - self.first).num_days()) else {
            return 0;
        };
        match self.before_day.get(index) {
            Some(before) => {
                let into_day = at - self.calendar.midnight(date);
                before + self.calendar.working_seconds_before(date, into_day)
            }
            None => self.before_day.last().map_or(0, |before| {
                let last_day = self.first + chrono::Days::new((self.before_day.len() - 1) as u64);
                before + self.calendar.working_seconds_before(last_day, SECONDS_PER_DAY)
            }),
        }
    }

    /// Working seconds between two instants (0 when `until` is not after `from`).
    pub fn between(&self, from: i64, until: i64) -> i64 {
        (self.since_first(until) - self.since_first(from)).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::date;

    #[test]
    fn clock_times_are_strict() {
        assert_eq!("08:00".parse::<ClockTime>().unwrap().seconds(), 8 * 3600);
        assert_eq!("23:59".parse::<ClockTime>().unwrap().to_string(), "23:59");
        for bad in ["8:00", "24:00", "08:60", "08-00", "0800", "", "08:0a", "+8:00"] {
            assert!(bad.parse::<ClockTime>().is_err(), "{bad}");
        }
        assert!("11:30-07:30".parse::<TimeRange>().is_err());
        assert!("07:30-07:30".parse::<TimeRange>().is_err());
    }

    #[test]
    fn zones_are_fixed_offsets() {
        assert_eq!(
            "Asia/Ho_Chi_Minh".parse::<Zone>().unwrap().offset_seconds(),
            25_200
        );
        assert_eq!("Asia/Saigon".parse::<Zone>().unwrap().offset_seconds(), 25_200);
        assert_eq!("UTC-03:30".parse::<Zone>().unwrap().offset_seconds(), -12_600);
        for bad in ["Europe/Paris", "UTC+15:00", "UTC07:00", "+07:00", "UTC+"] {
            assert!(bad.parse::<Zone>().is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_are_the_regulation_and_unknown_keys_are_refused() {
        let parsed: ComplianceSettings = toml::from_str(
            r#"windows = ["08:00", "11:30", "14:00", "16:30"]
timezone = "Asia/Ho_Chi_Minh"
working_days = ["mon", "tue", "wed", "thu", "fri"]
ack_working_hours = 8
working_hours = ["07:30-11:30", "13:30-17:00"]"#,
        )
        .unwrap();
        assert_eq!(parsed, ComplianceSettings::default());
        assert!(toml::from_str::<ComplianceSettings>("window = []").is_err());
        assert!(toml::from_str::<ComplianceSettings>("working_days = [\"monday\"]").is_err());
        let unordered: ComplianceSettings = toml::from_str(r#"windows = ["11:30", "08:00"]"#).unwrap();
        assert_eq!(
            Calendar::new(&unordered, Holidays::default()).unwrap_err(),
            CalendarError::Windows
        );
        let overlapping: ComplianceSettings =
            toml::from_str(r#"working_hours = ["07:30-12:00", "11:30-17:00"]"#).unwrap();
        assert_eq!(
            Calendar::new(&overlapping, Holidays::default()).unwrap_err(),
            CalendarError::WorkingHours
        );
    }

    #[test]
    fn windows_are_local_instants_and_monday_opens_at_friday_last_deadline() {
        let calendar = Calendar::new(&ComplianceSettings::default(), Holidays::default()).unwrap();
        // 2026-01-05 is a Monday; 08:00 +07:00 = 01:00 UTC = 1_767_574_800.
        let deadlines: Vec<i64> = calendar.deadlines(date(2026, 1, 5)).collect();
        assert_eq!(
            deadlines,
            vec![1_767_574_800, 1_767_587_400, 1_767_596_400, 1_767_605_400]
        );
        // Friday 2026-01-02 16:30 +07:00 = 09:30 UTC.
        assert_eq!(calendar.window_opening(date(2026, 1, 5)), 1_767_346_200);
        assert_eq!(calendar.local_date(1_767_574_800), Some(date(2026, 1, 5)));
        // 23:59:59 UTC on the 4th is already the 5th in Vietnam.
        assert_eq!(calendar.local_date(1_767_571_199), Some(date(2026, 1, 5)));
        assert_eq!(calendar.local_date(i64::MAX), None);
    }

    #[test]
    fn working_time_counts_office_hours_of_working_days_only() {
        let calendar = Calendar::new(&ComplianceSettings::default(), Holidays::default()).unwrap();
        let monday = calendar.midnight(date(2026, 1, 5));
        let hours = |h: i64, m: i64| h * 3600 + m * 60;
        let time = calendar.working_time_from(date(2026, 1, 2), date(2026, 1, 12));
        // Monday 10:00 → 15:00: 10:00–11:30 and 13:30–15:00 = 3 h.
        assert_eq!(
            time.between(monday + hours(10, 0), monday + hours(15, 0)),
            3 * 3600
        );
        // Friday 16:00 → Monday 08:00: 1 h Friday, 30 min Monday, nothing at the weekend.
        let friday = calendar.midnight(date(2026, 1, 2));
        assert_eq!(
            time.between(friday + hours(16, 0), monday + hours(8, 0)),
            hours(1, 30)
        );
        // A whole working day is 7.5 h; backwards is 0.
        assert_eq!(time.between(monday, monday + 86_400), hours(7, 30));
        assert_eq!(time.between(monday + 86_400, monday), 0);
    }

    #[test]
    fn periods_are_bounded() {
        assert!(Period::new(date(2026, 1, 2), date(2026, 1, 1)).is_err());
        assert!(Period::new(date(2020, 1, 1), date(2026, 1, 1)).is_err());
        let year = Period::year(2026).unwrap();
        assert_eq!(year.dates().count(), 365);
        let json = serde_json::to_string(&year).unwrap();
        assert_eq!(json, r#"{"from":"2026-01-01","to":"2026-12-31"}"#);
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), year);
        assert!(serde_json::from_str::<Period>(r#"{"from":"2000-01-01","to":"2026-12-31"}"#).is_err());
    }
}
