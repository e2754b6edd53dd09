//! The holidays file (`config/holidays.toml`) as an operator, or a hostile edit, could
//! write it: never a panic; at most 31 days per entry; the calendar built on it agrees
//! with every listed date, and the check windows of the listed stretch are 4 per
//! working day.
#![no_main]

use congvu_report::{AgencySpans, Calendar, CheckSpan, ComplianceSettings, Holidays, Period, check_windows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(holidays) = Holidays::parse(text) else {
        return;
    };
    // An entry takes at least `[[holiday]]`, a name and a date: more than 20 bytes.
    let days: Vec<_> = holidays
        .iter()
        .map(|(date, day)| (*date, day.is_working()))
        .collect();
    assert!(
        days.len() <= 31 * (text.len() / 20 + 1),
        "{} days from {} bytes",
        days.len(),
        text.len()
    );
    let Ok(calendar) = Calendar::new(&ComplianceSettings::default(), holidays) else {
        panic!("the default settings are valid");
    };
    for (date, working) in &days {
        assert_eq!(calendar.is_working_day(*date), *working, "{date}");
    }
    let (Some((first, _)), Some((last, _))) = (days.first(), days.last()) else {
        return;
    };
    let Ok(period) = Period::new(*first, *last).or_else(|_| Period::new(*first, *first)) else {
        return;
    };
    let working_days = calendar.working_days(&period).count() as u32;
    let span = calendar.midnight(*first);
    let report = check_windows(
        &calendar,
        &period,
        &[AgencySpans {
            agency: "fuzz".into(),
            spans: vec![CheckSpan {
                from: span,
                until: span + 86_400,
            }],
        }],
    );
    let agency = &report.agencies[0];
    assert_eq!(agency.total, 4 * working_days);
    assert!(agency.met <= agency.total);
});
