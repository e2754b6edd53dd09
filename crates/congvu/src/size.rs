//! Human sizes for quotas and limits: `1MB`, `250MB`, `2GB`, `512KiB`, `1048576`.
//!
//! `KB`/`MB`/`GB` are read as binary multiples (1 MB = 1,048,576 bytes), as operators of
//! mail systems usually mean them; the regulation's quotas are minimums ("at least
//! 500 MB", Art. 9.1), which the binary reading satisfies.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

#[derive(Debug, PartialEq, Eq)]
pub struct ByteSizeError(String);

impl fmt::Display for ByteSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid size {:?}: expected a number with an optional unit B, KB, MB, GB, TB \
             (e.g. 250MB)",
            self.0
        )
    }
}

impl std::error::Error for ByteSizeError {}

impl FromStr for ByteSize {
    type Err = ByteSizeError;
    fn from_str(text: &str) -> Result<ByteSize, ByteSizeError> {
        let error = || ByteSizeError(text.to_owned());
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len());
        let (digits, unit) = trimmed.split_at(split);
        let number: u64 = digits.parse().map_err(|_| error())?;
        let multiplier: u64 = match unit.trim().to_ascii_uppercase().as_str() {
            "" | "B" => 1,
            "K" | "KB" | "KIB" => 1 << 10,
            "M" | "MB" | "MIB" => 1 << 20,
            "G" | "GB" | "GIB" => 1 << 30,
            "T" | "TB" | "TIB" => 1 << 40,
            _ => return Err(error()),
        };
        number.checked_mul(multiplier).map(ByteSize).ok_or_else(error)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 4] = [(1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")];
        for (size, unit) in UNITS {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl serde::Serialize for ByteSize {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        let cases = [
            ("1MB", Some(1 << 20)),
            ("250MB", Some(250 << 20)),
            ("2GB", Some(2 << 30)),
            ("2 gb", Some(2 << 30)),
            ("512KiB", Some(512 << 10)),
            ("1048576", Some(1 << 20)),
            ("10B", Some(10)),
            ("", None),
            ("MB", None),
            ("1.5GB", None),
            ("-1MB", None),
            ("99999999999TB", None),
            ("5XB", None),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<ByteSize>().ok().map(|b| b.0), want, "{text}");
        }
    }

    #[test]
    fn displays_largest_exact_unit() {
        assert_eq!(ByteSize(500 << 20).to_string(), "500MB");
        assert_eq!(ByteSize(2 << 30).to_string(), "2GB");
        assert_eq!(ByteSize(1000).to_string(), "1000B");
    }
}
