//! IMAP dates: `date` for SEARCH (RFC 3501 §9: `1-Feb-1994`) and `date-time` for
//! APPEND and INTERNALDATE (`" 1-Feb-1994 21:52:25 -0800"`).

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone, Timelike, Utc};

use super::lexer::{Cursor, Lex, Syntax};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A moment with the UTC offset it was given in, as the store keeps INTERNALDATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub unix: i64,
    pub offset_secs: i32,
}

impl DateTime {
    /// The calendar date in the moment's own offset (SEARCH BEFORE/ON/SINCE compare
    /// dates "disregarding time and timezone", RFC 3501 §6.4.4).
    pub fn local_date(self) -> Option<NaiveDate> {
        let offset = FixedOffset::east_opt(self.offset_secs)?;
        Some(offset.timestamp_opt(self.unix, 0).single()?.date_naive())
    }

    /// `date-time` with its quotes, e.g. `"17-Jul-1996 02:44:25 -0700"`.
    pub fn to_imap(self) -> String {
        let offset = FixedOffset::east_opt(self.offset_secs).unwrap_or(Utc.fix());
        let Some(t) = offset.timestamp_opt(self.unix, 0).single() else {
            return "\"01-Jan-1970 00:00:00 +0000\"".into();
        };
        let offset_secs = offset.local_minus_utc();
        let minutes = offset_secs.unsigned_abs() / 60;
        format!(
            "\"{:02}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}\"",
            t.day(),
            MONTHS[t.month0() as usize],
            t.year(),
            t.hour(),
            t.minute(),
            t.second(),
            if offset_secs < 0 { '-' } else { '+' },
            minutes / 60,
            minutes % 60
        )
    }
}

/// `date` as SEARCH takes it (RFC 3501 §9 `date-text`): `1-Feb-1994`.
pub(crate) fn format_date(date: NaiveDate) -> String {
    format!(
        "{}-{}-{}",
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

fn two_digits(c: &mut Cursor<'_>) -> Lex<u32> {
    let mut n = 0;
    for _ in 0..2 {
        match c.peek() {
            Some(d @ b'0'..=b'9') => {
                n = n * 10 + u32::from(d - b'0');
                c.try_byte(d);
            }
            _ => return Err(Syntax("Invalid date-time")),
        }
    }
    Ok(n)
}

fn month(c: &mut Cursor<'_>) -> Lex<u32> {
    for (i, name) in MONTHS.iter().enumerate() {
        if c.try_keyword(name) {
            return Ok(i as u32 + 1);
        }
    }
    Err(Syntax("Invalid month"))
}

/// `date-text` = date-day "-" date-month "-" date-year
fn date_text(c: &mut Cursor<'_>) -> Lex<NaiveDate> {
    let day = c.number()?;
    c.expect(b'-', "Invalid date")?;
    let month = month(c)?;
    c.expect(b'-', "Invalid date")?;
    let year = c.number()?;
    i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
        .ok_or(Syntax("Invalid date"))
}

/// `date` = date-text / DQUOTE date-text DQUOTE
pub(crate) fn parse_date(c: &mut Cursor<'_>) -> Lex<NaiveDate> {
    let quoted = c.try_byte(b'"');
    let date = date_text(c)?;
    if quoted {
        c.expect(b'"', "Invalid date")?;
    }
    Ok(date)
}

/// `date-time` = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone
/// DQUOTE. A single-digit day with or without its leading space is accepted.
pub(crate) fn parse_date_time(c: &mut Cursor<'_>) -> Lex<DateTime> {
    c.expect(b'"', "Expected a date-time")?;
    c.try_byte(b' ');
    let date = date_text(c)?;
    c.expect(b' ', "Invalid date-time")?;
    let h = two_digits(c)?;
    c.expect(b':', "Invalid date-time")?;
    let m = two_digits(c)?;
    c.expect(b':', "Invalid date-time")?;
    let s = two_digits(c)?;
    c.expect(b' ', "Invalid date-time")?;
    let sign = match c.peek() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(Syntax("Invalid time zone")),
    };
    c.try_byte(if sign == 1 { b'+' } else { b'-' });
    let (zh, zm) = (two_digits(c)?, two_digits(c)?);
    c.expect(b'"', "Invalid date-time")?;
    if zm >= 60 {
        return Err(Syntax("Invalid time zone"));
    }
    let offset_secs = sign * (zh * 3600 + zm * 60) as i32;
    let time = NaiveTime::from_hms_opt(h, m, s).ok_or(Syntax("Invalid time"))?;
    let offset = FixedOffset::east_opt(offset_secs).ok_or(Syntax("Invalid time zone"))?;
    let local = date.and_time(time);
    let unix = offset
        .from_local_datetime(&local)
        .single()
        .ok_or(Syntax("Invalid date-time"))?
        .timestamp();
    Ok(DateTime { unix, offset_secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times() {
        let cases = [
            ("\"17-Jul-1996 02:44:25 -0700\"", 837_596_665, -25_200),
            ("\" 1-Feb-1994 21:52:25 +0700\"", 760_114_345, 25_200),
            ("\"1-Feb-1994 21:52:25 +0700\"", 760_114_345, 25_200),
            ("\"01-Jan-1970 00:00:00 +0000\"", 0, 0),
        ];
        for (input, unix, offset_secs) in cases {
            let dt = parse_date_time(&mut Cursor::new(input.as_bytes())).unwrap();
            assert_eq!(dt, DateTime { unix, offset_secs }, "{input}");
        }
        let dt = DateTime {
            unix: 837_596_665,
            offset_secs: -25_200,
        };
        assert_eq!(dt.to_imap(), "\"17-Jul-1996 02:44:25 -0700\"");
        let dt = DateTime {
            unix: 760_114_345,
            offset_secs: 25_200,
        };
        assert_eq!(dt.to_imap(), "\"01-Feb-1994 21:52:25 +0700\"");
    }

    #[test]
    fn bad_date_times() {
        for input in [
            "\"32-Jan-1994 00:00:00 +0000\"",
            "\"1-Foo-1994 00:00:00 +0000\"",
            "\"1-Jan-1994 25:00:00 +0000\"",
            "\"1-Jan-1994 00:00:00 0000\"",
            "\"1-Jan-1994 00:00:00 +0099\"",
            "\"1-Jan-1994\"",
            "1-Jan-1994 00:00:00 +0000",
        ] {
            assert!(
                parse_date_time(&mut Cursor::new(input.as_bytes())).is_err(),
                "{input}"
            );
        }
    }

    #[test]
    fn dates() {
        let want = NaiveDate::from_ymd_opt(1994, 2, 1).unwrap();
        for input in ["1-Feb-1994", "01-Feb-1994", "\"1-Feb-1994\"", "1-feb-1994"] {
            assert_eq!(
                parse_date(&mut Cursor::new(input.as_bytes())),
                Ok(want),
                "{input}"
            );
        }
        assert!(parse_date(&mut Cursor::new(b"30-Feb-1994")).is_err());
    }
}
