//! A bounded walk over a DER encoding before it is decoded into CMS types.
//!
//! The `der` crate sorts every SET OF it decodes with an insertion sort whose
//! comparisons re-encode the elements, so a small signature made of thousands of tiny
//! SET members would cost quadratic time. The walk bounds what decoding may meet:
//!
//! 1. every length is definite (DER, X.690 §10.1) and lies within its parent;
//! 2. constructed values nest at most [`MAX_DEPTH`] deep;
//! 3. a constructed value holds at most [`MAX_CHILDREN`] elements (a certificate's
//!    largest, its extensions, holds a dozen).
//!
//! Primitive values (an encapsulated message's OCTET STRING) are skipped whole, so the
//! walk costs one step per element, not per byte.

use crate::Reason;

/// Deeper than any certificate or CMS structure (a name inside an extension inside a
/// certificate inside a SignedData is about ten).
const MAX_DEPTH: usize = 24;
/// Elements of one SEQUENCE or SET.
const MAX_CHILDREN: usize = 64;

/// Checks that `encoding` is exactly one DER element within the bounds above.
pub(crate) fn check(encoding: &[u8]) -> Result<(), Reason> {
    let (header, length) = element(encoding)?;
    if header + length != encoding.len() {
        return Err(Reason::Malformed);
    }
    walk(encoding, 0)
}

/// Walks the elements laid one after another in `values`.
fn walk(mut values: &[u8], depth: usize) -> Result<(), Reason> {
    if depth > MAX_DEPTH {
        return Err(Reason::Malformed);
    }
    let mut children = 0;
    while !values.is_empty() {
        children += 1;
        if children > MAX_CHILDREN {
            return Err(Reason::TooLarge);
        }
        let (header, length) = element(values)?;
        let end = header.checked_add(length).ok_or(Reason::Malformed)?;
        let value = values.get(header..end).ok_or(Reason::Malformed)?;
        if values.first().is_some_and(|tag| tag & 0x20 != 0) {
            walk(value, depth + 1)?;
        }
        values = values.get(end..).ok_or(Reason::Malformed)?;
    }
    Ok(())
}

/// The header length and the value length of the element starting `encoding`
/// (X.690 §8.1.2, §8.1.3); the value is not checked to be there.
fn element(encoding: &[u8]) -> Result<(usize, usize), Reason> {
    let tag = *encoding.first().ok_or(Reason::Malformed)?;
    let mut at = 1;
    if tag & 0x1f == 0x1f {
        // High tag number: base-128 digits, the last without its top bit; CMS and
        // X.509 use none longer than a few.
        loop {
            let digit = *encoding.get(at).ok_or(Reason::Malformed)?;
            at += 1;
            if digit & 0x80 == 0 {
                break;
            }
            if at > 4 {
                return Err(Reason::Malformed);
            }
        }
    }
    let first = *encoding.get(at).ok_or(Reason::Malformed)?;
    at += 1;
    let length = match first {
        0..=0x7f => usize::from(first),
        // 0x80 is BER's indefinite length, which DER forbids.
        0x81..=0x84 => {
            let count = usize::from(first & 0x7f);
            let bytes = encoding.get(at..at + count).ok_or(Reason::Malformed)?;
            at += count;
            bytes
                .iter()
                .fold(0usize, |length, &byte| (length << 8) | usize::from(byte))
        }
        _ => return Err(Reason::Malformed),
    };
    Ok((at, length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_nesting_passes() {
        // SEQUENCE { INTEGER 1, SET { OCTET STRING "ab" } }
        let der = [0x30, 0x09, 0x02, 0x01, 0x01, 0x31, 0x04, 0x04, 0x02, b'a', b'b'];
        assert_eq!(check(&der), Ok(()));
        // Long-form length.
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 0x80]);
        assert_eq!(check(&long), Ok(()));
    }

    #[test]
    fn broken_lengths_are_malformed() {
        for der in [
            &[][..],
            &[0x30],
            &[0x30, 0x80, 0x00, 0x00],       // indefinite
            &[0x30, 0x05, 0x02, 0x01, 0x01], // value shorter than its length
            &[0x30, 0x03, 0x02, 0x05, 0x01], // child runs past its parent
            &[0x04, 0x01, 0x00, 0x00],       // trailing bytes
            &[0x04, 0x85, 1, 0, 0, 0, 0],    // five length bytes
            &[0x1f, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00],
        ] {
            assert_eq!(check(der), Err(Reason::Malformed), "{der:02x?}");
        }
    }

    #[test]
    fn wide_and_deep_structures_are_bounded() {
        let mut wide = vec![0x31, 0x81, 2 * (MAX_CHILDREN as u8 + 1)];
        for _ in 0..=MAX_CHILDREN {
            wide.extend([0x05, 0x00]);
        }
        assert_eq!(check(&wide), Err(Reason::TooLarge));
        let mut deep = vec![0x05, 0x00];
        for _ in 0..=MAX_DEPTH + 1 {
            let mut outer = vec![0x30, deep.len() as u8];
            outer.extend(deep);
            deep = outer;
        }
        assert_eq!(check(&deep), Err(Reason::Malformed));
    }
}
