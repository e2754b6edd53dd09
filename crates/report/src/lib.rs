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
