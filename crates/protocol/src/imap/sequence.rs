//! Sequence sets (RFC 3501 §9 `sequence-set`): `1:4,7,9:*`.
//!
//! The same syntax names message sequence numbers or UIDs; `*` is the largest number
//! in use, resolved only when the set is applied to a mailbox snapshot.

use super::lexer::{Cursor, Lex, Syntax};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqNumber {
    Value(u32),
    /// `*`: the largest number in use.
    Largest,
}

impl SeqNumber {
    fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqNumber::Value(n) => n,
            SeqNumber::Largest => largest,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceSet(pub Vec<(SeqNumber, SeqNumber)>);

impl SequenceSet {
    pub(crate) fn parse(c: &mut Cursor<'_>) -> Lex<SequenceSet> {
        let mut ranges = Vec::new();
        loop {
            let first = seq_number(c)?;
            let last = if c.try_byte(b':') { seq_number(c)? } else { first };
            ranges.push((first, last));
            if !c.try_byte(b',') {
                return Ok(SequenceSet(ranges));
            }
        }
    }

    /// The set as sorted, merged, inclusive ranges, with `*` standing for `largest`.
    /// `a:b` and `b:a` are the same range (RFC 3501 §9 `seq-range`).
    pub fn resolve(&self, largest: u32) -> Ranges {
        let mut ranges: Vec<(u32, u32)> = self
            .0
            .iter()
            .map(|(a, b)| {
                let (a, b) = (a.resolve(largest), b.resolve(largest));
                (a.min(b), a.max(b))
            })
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        Ranges(merged)
    }

    /// The largest explicit number in the set (`*` excluded).
    pub fn max_value(&self) -> u32 {
        self.0
            .iter()
            .flat_map(|(a, b)| [*a, *b])
            .filter_map(|n| match n {
                SeqNumber::Value(v) => Some(v),
                SeqNumber::Largest => None,
            })
            .max()
            .unwrap_or(0)
    }
}

impl SequenceSet {
    /// The set of exactly these numbers (sorted ascending); empty names nothing.
    pub fn from_sorted(values: impl IntoIterator<Item = u32>) -> SequenceSet {
        let Ranges(ranges) = Ranges::from_sorted(values);
        SequenceSet(
            ranges
                .into_iter()
                .map(|(lo, hi)| (SeqNumber::Value(lo), SeqNumber::Value(hi)))
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The set as a client writes it: `1:4,7,9:*`. An empty set writes nothing, which
/// is not a sequence set; the parser never makes one.
impl std::fmt::Display for SequenceSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let number = |f: &mut std::fmt::Formatter<'_>, n: SeqNumber| match n {
            SeqNumber::Value(v) => write!(f, "{v}"),
            SeqNumber::Largest => f.write_str("*"),
        };
        for (i, (first, last)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            number(f, *first)?;
            if first != last {
                f.write_str(":")?;
                number(f, *last)?;
            }
        }
        Ok(())
    }
}

/// The message-set argument of FETCH, STORE, COPY, MOVE and UID EXPUNGE: a
/// sequence set, or `$`, the result the last `SEARCH RETURN (SAVE)` kept
/// (RFC 5182 §2.1), which the session turns into numbers when the command runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageSet {
    Numbers(SequenceSet),
    Saved,
}

impl std::fmt::Display for MessageSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageSet::Numbers(set) => set.fmt(f),
            MessageSet::Saved => f.write_str("$"),
        }
    }
}

impl MessageSet {
    pub(crate) fn parse(c: &mut Cursor<'_>) -> Lex<MessageSet> {
        if c.try_byte(b'$') {
            Ok(MessageSet::Saved)
        } else {
            SequenceSet::parse(c).map(MessageSet::Numbers)
        }
    }
}

fn seq_number(c: &mut Cursor<'_>) -> Lex<SeqNumber> {
    if c.try_byte(b'*') {
        Ok(SeqNumber::Largest)
    } else {
        c.nz_number()
            .map(SeqNumber::Value)
            .map_err(|_| Syntax("Invalid sequence set"))
    }
}

/// Sorted, disjoint, inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranges(Vec<(u32, u32)>);

impl Ranges {
    pub fn contains(&self, n: u32) -> bool {
        let i = self.0.partition_point(|(_, hi)| *hi < n);
        self.0.get(i).is_some_and(|(lo, _)| *lo <= n)
    }

    /// Writes the ranges in sequence-set syntax (`1:3,7`), for COPYUID.
    pub fn from_sorted(values: impl IntoIterator<Item = u32>) -> Ranges {
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for v in values {
            match merged.last_mut() {
                Some(last) if v == last.1.saturating_add(1) => last.1 = v,
                _ => merged.push((v, v)),
            }
        }
        Ranges(merged)
    }
}

impl std::fmt::Display for Ranges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (lo, hi)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}:{hi}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Lex<SequenceSet> {
        SequenceSet::parse(&mut Cursor::new(s.as_bytes()))
    }

    #[test]
    fn saved_result_and_explicit_sets() {
        let parse_set = |s: &str| MessageSet::parse(&mut Cursor::new(s.as_bytes()));
        assert_eq!(parse_set("$"), Ok(MessageSet::Saved));
        assert!(matches!(parse_set("1:*"), Ok(MessageSet::Numbers(_))));
        let set = SequenceSet::from_sorted([2, 3, 4, 9]);
        let ranges = set.resolve(100);
        assert!(ranges.contains(2) && ranges.contains(4) && ranges.contains(9));
        assert!(!ranges.contains(5) && !ranges.contains(100));
        assert_eq!(set.max_value(), 9);
        assert!(SequenceSet::from_sorted([]).is_empty());
    }

    #[test]
    fn parse_and_resolve() {
        let cases: &[(&str, u32, &[u32], &[u32])] = &[
            ("1", 10, &[1], &[2]),
            ("1:3", 10, &[1, 2, 3], &[4]),
            ("3:1", 10, &[1, 2, 3], &[4]),
            ("1:*", 10, &[1, 5, 10], &[11]),
            ("*", 10, &[10], &[9]),
            ("*:4", 10, &[4, 10], &[3]),
            ("2,4:5,9:*", 10, &[2, 4, 5, 9, 10], &[1, 3, 6, 8]),
            ("1:*", 0, &[0, 1], &[2]),
            ("15:*", 10, &[10, 11, 15], &[9, 16]),
        ];
        for (input, largest, inside, outside) in cases {
            let ranges = parse(input).unwrap().resolve(*largest);
            for n in *inside {
                assert!(ranges.contains(*n), "{input} should contain {n}");
            }
            for n in *outside {
                assert!(!ranges.contains(*n), "{input} should not contain {n}");
            }
        }
    }

    #[test]
    fn invalid_sets() {
        for input in ["0", "1:0", "a", ":1", "", "4294967296"] {
            assert!(parse(input).is_err(), "{input}");
        }
        // A trailing comma leaves the parser expecting another number.
        assert!(parse("1,").is_err());
    }

    #[test]
    fn display_compacts() {
        assert_eq!(Ranges::from_sorted([1, 2, 3, 5, 7, 8]).to_string(), "1:3,5,7:8");
        assert_eq!(Ranges::from_sorted([]).to_string(), "");
    }
}
