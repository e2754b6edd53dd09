//! Helpers shared by the crate's unit tests.

use chrono::NaiveDate;

/// A date the test knows to exist.
pub(crate) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid test date")
}
