//! # congvu-report — the supervision reports of the regulation (issue 14)
//!
//! Pure computation: plain input structs in, reports out, rendered as a terminal table,
//! CSV, JSON or a printable HTML page. No store, no directory, no clock, no I/O except
//! parsing text it is given (the holidays file). The binary reads the store (mail
//! events, access spans) and the directory (agencies) and feeds them here.
//!
//! - [`calendar`]: the `[compliance]` settings, working days, windows, working hours.
//! - [`holidays`]: the holidays file (`config/holidays.toml`).

pub mod calendar;
pub mod holidays;

pub use calendar::{Calendar, CalendarError, ClockTime, ComplianceSettings, Period, TimeRange, Zone};
pub use holidays::{DayKind, DayOverride, Holidays, HolidaysError};
