//! Figures as reports show them: percentages to one decimal, counts and sizes in the
//! machine form (CSV, JSON) and the Vietnamese form (table, HTML: `1.234.567`, `91,7`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A percentage to one decimal, kept in tenths (0–1000) so that every renderer prints
/// the same digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent {
    tenths: u32,
}

impl Percent {
    /// `part / whole`, rounded half up to a tenth of a percent; `None` for an empty
    /// whole. A part larger than the whole counts as the whole.
    pub fn of(part: u64, whole: u64) -> Option<Self> {
        if whole == 0 {
            return None;
        }
        let (part, whole) = (u128::from(part.min(whole)), u128::from(whole));
        let tenths = (part * 2000 + whole) / (2 * whole);
        Some(Self {
            tenths: u32::try_from(tenths).unwrap_or(1000),
        })
    }

    /// Tenths of a percent, 0–1000.
    pub fn tenths(self) -> u32 {
        self.tenths
    }

    /// The Vietnamese form: a decimal comma, `91,7`.
    pub fn vi(self) -> String {
        vi_tenths(u64::from(self.tenths))
    }
}

/// The machine form: a decimal point, `91.7`.
impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tenths / 10, self.tenths % 10)
    }
}

/// JSON carries the number, `91.7`.
impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(f64::from(self.tenths) / 10.0)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        if (0.0..=100.0).contains(&value) {
            // In range by the check above: the cast cannot truncate.
            Ok(Self {
                tenths: (value * 10.0).round() as u32,
            })
        } else {
            Err(serde::de::Error::custom("a percentage is 0–100"))
        }
    }
}

/// A count in the Vietnamese form: dots between thousands, `1.234.567`.
pub fn vi_count(count: u64) -> String {
    let digits = count.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    grouped
}

/// Bytes as tenths of a mebibyte, rounded half up: storage against quota reads in MB
/// (Art. 9), to one decimal.
pub fn megabyte_tenths(bytes: u64) -> u64 {
    let tenths = (u128::from(bytes) * 20 + 1_048_576) / (2 * 1_048_576);
    u64::try_from(tenths).unwrap_or(u64::MAX)
}

/// Tenths in the Vietnamese form, `1.536,0`.
pub fn vi_tenths(tenths: u64) -> String {
    format!("{},{}", vi_count(tenths / 10), tenths % 10)
}

/// Tenths in the machine form, `1536.0`.
pub fn tenths(tenths: u64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up() {
        assert_eq!(Percent::of(33, 36).unwrap().to_string(), "91.7");
        assert_eq!(Percent::of(1, 3).unwrap().vi(), "33,3");
        assert_eq!(Percent::of(2, 3).unwrap().to_string(), "66.7");
        assert_eq!(Percent::of(1, 2000).unwrap().to_string(), "0.1");
        assert_eq!(Percent::of(1, 2001).unwrap().to_string(), "0.0");
        assert_eq!(Percent::of(5, 4).unwrap().to_string(), "100.0");
        assert_eq!(Percent::of(u64::MAX, u64::MAX).unwrap().tenths(), 1000);
        assert_eq!(Percent::of(0, 0), None);
        let json = serde_json::to_string(&Percent::of(33, 36)).unwrap();
        assert_eq!(json, "91.7");
        assert_eq!(
            serde_json::from_str::<Percent>(&json).unwrap(),
            Percent::of(33, 36).unwrap()
        );
        assert!(serde_json::from_str::<Percent>("100.5").is_err());
    }

    #[test]
    fn vietnamese_numbers() {
        assert_eq!(vi_count(0), "0");
        assert_eq!(vi_count(999), "999");
        assert_eq!(vi_count(1000), "1.000");
        assert_eq!(vi_count(1_234_567), "1.234.567");
        assert_eq!(vi_tenths(megabyte_tenths(1_610_612_736)), "1.536,0");
        assert_eq!(tenths(megabyte_tenths(1_610_612_736)), "1536.0");
        assert_eq!(megabyte_tenths(52_429), 1);
        assert_eq!(megabyte_tenths(52_428), 0);
        assert_eq!(megabyte_tenths(u64::MAX), 175_921_860_444_160);
    }
}
