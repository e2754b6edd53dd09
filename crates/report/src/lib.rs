//! # congvu-report — the supervision reports of the regulation (issue 14)
//!
//! Pure computation: plain input structs in, reports out, rendered as a terminal table,
//! CSV, JSON or a printable HTML page. No store, no directory, no clock, no I/O except
//! parsing text it is given (the holidays file). The binary reads the store (mail
//! events, access spans) and the directory (agencies) and feeds them here.
//!
//! - [`calendar`]: the `[compliance]` settings, working days, windows, working hours.
//! - [`holidays`]: the holidays file (`config/holidays.toml`).
//! - [`checks`]: check windows met or missed (Art. 10), compliance per agency.
//! - [`acks`]: acknowledgements pending beyond N working hours (Art. 16.2.a).
//! - [`usage`]: usage per agency (Art. 15.4), the yearly report (Art. 12.6).
//! - [`render`]: table, CSV, JSON and printable HTML.
//! - [`figures`]: percentages, counts and sizes as the reports print them.
//!
//! ```
//! use chrono::NaiveDate;
//! use congvu_report::{AgencySpans, Calendar, CheckSpan, ComplianceSettings, Format, Holidays, Period};
//!
//! // The binary reads `[compliance]` from its config and the holidays file from disk.
//! let settings: ComplianceSettings = toml::from_str(r#"timezone = "Asia/Ho_Chi_Minh""#)?;
//! let holidays = Holidays::parse("[[holiday]]\ndate = \"2026-01-01\"\nname = \"Tết Dương lịch\"")?;
//! let calendar = Calendar::new(&settings, holidays)?;
//! let week = Period::new(
//!     NaiveDate::from_ymd_opt(2025, 12, 29).ok_or("date")?,
//!     NaiveDate::from_ymd_opt(2026, 1, 4).ok_or("date")?,
//! )?;
//! // One IDLE session on Monday 29 December, 07:00–12:00 local time.
//! let idle = CheckSpan { from: 1_766_966_400, until: 1_766_984_400 };
//! let spans = [AgencySpans { agency: "sttt".into(), spans: vec![idle] }];
//! let report = congvu_report::check_windows(&calendar, &week, &spans);
//! // 4 working days (New Year's Day is off) × 4 windows; the session met 08:00, 11:30
//! // and 14:00 (it was open after 11:30).
//! assert_eq!((report.agencies[0].met, report.agencies[0].total), (3, 16));
//! let csv = congvu_report::render(&report, Format::Csv)?;
//! assert!(csv.starts_with('\u{feff}'));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod acks;
pub mod calendar;
pub mod checks;
pub mod figures;
pub mod holidays;
pub mod render;
#[cfg(test)]
mod test_support;
pub mod usage;

pub use acks::{AckReport, Acknowledgement, AgencyAcks, OverdueItem, PendingItem, overdue_acknowledgements};
pub use calendar::{Calendar, CalendarError, ClockTime, ComplianceSettings, Period, TimeRange, Zone};
pub use checks::{AgencyChecks, AgencySpans, CheckReport, CheckSpan, DayChecks, check_windows};
pub use figures::Percent;
pub use holidays::{DayKind, DayOverride, Holidays, HolidaysError};
pub use render::{Format, RenderError, Reportable, render};
pub use usage::{
    AgencyFacts, ByDestination, ByOrigin, Destination, MailEvent, MailEventKind, MonthFigures, Origin,
    Requests, Scope, UsageError, UsageFigures, UsageReport, UsageRow, usage, year,
};
