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
//!
//! Agents that stream their output (`openssl cms -stream`, NSS) write BER: indefinite
//! lengths, the encapsulated content as a constructed OCTET STRING of pieces. The
//! `der` crate reads DER only, so such an encoding is first re-encoded by
//! [`definite`] (X.690 §10.1, §10.2: definite minimal lengths, one primitive OCTET
//! STRING), within the same depth and width bounds. The signature never covers these
//! outer layers (signed attributes are DER by RFC 5652 §5.3), so re-encoding them
//! changes nothing that is verified.

use std::borrow::Cow;

use crate::Reason;

/// Deeper than any certificate or CMS structure (a name inside an extension inside a
/// certificate inside a SignedData is about ten).
const MAX_DEPTH: usize = 24;
/// Elements of one SEQUENCE or SET.
const MAX_CHILDREN: usize = 64;

/// `encoding` as one DER element within the bounds above: as it is when it is DER
/// already, re-encoded when it is not (BER with indefinite lengths, or non-minimal
/// lengths).
pub(crate) fn to_der(encoding: &[u8]) -> Result<Cow<'_, [u8]>, Reason> {
    match check(encoding) {
        Err(Reason::Malformed) => {
            let mut der = Vec::with_capacity(encoding.len());
            if definite(encoding, 0, &mut der)? != encoding.len() {
                return Err(Reason::Malformed);
            }
            check(&der)?;
            Ok(Cow::Owned(der))
        }
        checked => checked.map(|()| Cow::Borrowed(encoding)),
    }
}

/// Checks that `encoding` is exactly one DER element within the bounds above.
fn check(encoding: &[u8]) -> Result<(), Reason> {
    let (header, length) = element(encoding)?;
    if header + length != encoding.len() {
        return Err(Reason::Malformed);
    }
    walk(encoding, 0)
}

/// Writes the element starting `ber` to `out` with definite minimal lengths, a
/// constructed OCTET STRING joined into a primitive one; returns the bytes of `ber`
/// it took.
fn definite(ber: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<usize, Reason> {
    if depth > MAX_DEPTH {
        return Err(Reason::Malformed);
    }
    let (tag_length, length) = ber_header(ber)?;
    let tag = ber.get(..tag_length).ok_or(Reason::Malformed)?;
    let value_start = tag_length + header_length_bytes(ber, tag_length)?;
    let constructed = tag.first().is_some_and(|t| t & 0x20 != 0);
    if !constructed {
        let length = length.ok_or(Reason::Malformed)?;
        let value = ber
            .get(value_start..value_start + length)
            .ok_or(Reason::Malformed)?;
        out.extend_from_slice(tag);
        push_length(out, value.len());
        out.extend_from_slice(value);
        return Ok(value_start + length);
    }
    let mut children = Vec::new();
    let mut at = value_start;
    let mut count = 0;
    let end = loop {
        match length {
            Some(length) if at == value_start + length => break at,
            Some(length) if at > value_start + length => return Err(Reason::Malformed),
            None if ber.get(at..at + 2) == Some(&[0, 0]) => break at + 2,
            _ => {}
        }
        count += 1;
        if count > MAX_CHILDREN {
            return Err(Reason::TooLarge);
        }
        at += definite(ber.get(at..).ok_or(Reason::Malformed)?, depth + 1, &mut children)?;
    };
    if tag == [0x24] {
        // Constructed OCTET STRING: its pieces' values, in order, as one primitive.
        let mut joined = Vec::with_capacity(children.len());
        let mut rest = children.as_slice();
        while !rest.is_empty() {
            let (header, length) = element(rest)?;
            if rest.first() != Some(&0x04) {
                return Err(Reason::Malformed);
            }
            joined.extend_from_slice(rest.get(header..header + length).ok_or(Reason::Malformed)?);
            rest = rest.get(header + length..).ok_or(Reason::Malformed)?;
        }
        out.push(0x04);
        push_length(out, joined.len());
        out.extend_from_slice(&joined);
    } else {
        out.extend_from_slice(tag);
        push_length(out, children.len());
        out.extend_from_slice(&children);
    }
    Ok(end)
}

/// The tag length and the value length (`None`: indefinite) of a BER element.
fn ber_header(ber: &[u8]) -> Result<(usize, Option<usize>), Reason> {
    let tag_length = tag_length(ber)?;
    match ber.get(tag_length) {
        Some(0x80) => Ok((tag_length, None)),
        _ => element(ber).map(|(_, length)| (tag_length, Some(length))),
    }
}

/// Bytes of the length field after a tag of `tag_length` bytes.
fn header_length_bytes(ber: &[u8], tag_length: usize) -> Result<usize, Reason> {
    match *ber.get(tag_length).ok_or(Reason::Malformed)? {
        first @ 0x81..=0x84 => Ok(1 + usize::from(first & 0x7f)),
        _ => Ok(1),
    }
}

/// A DER length (X.690 §10.1: the fewest bytes).
fn push_length(out: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        out.push(length as u8);
        return;
    }
    let bytes = length.to_be_bytes();
    let significant = &bytes[bytes.iter().take_while(|&&b| b == 0).count()..];
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
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

/// The length of the tag starting `encoding` (X.690 §8.1.2).
fn tag_length(encoding: &[u8]) -> Result<usize, Reason> {
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
    Ok(at)
}

/// The header length and the value length of the element starting `encoding`
/// (X.690 §8.1.2, §8.1.3); the value is not checked to be there.
fn element(encoding: &[u8]) -> Result<(usize, usize), Reason> {
    let mut at = tag_length(encoding)?;
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
    fn ber_indefinite_lengths_become_der() {
        // SEQUENCE (indefinite) { [0] (indefinite) { OCTET STRING (constructed,
        // indefinite) { "ab", "c" } }, INTEGER 1 }
        let ber = [
            0x30, 0x80, 0xa0, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x00,
            0x00, 0x02, 0x01, 0x01, 0x00, 0x00,
        ];
        let der = [
            0x30, 0x0a, 0xa0, 0x05, 0x04, 0x03, b'a', b'b', b'c', 0x02, 0x01, 0x01,
        ];
        assert_eq!(to_der(&ber).as_deref(), Ok(&der[..]));
        // DER stays borrowed; unterminated or trailing BER is malformed.
        assert!(matches!(to_der(&der), Ok(Cow::Borrowed(_))));
        assert_eq!(to_der(&ber[..ber.len() - 2]), Err(Reason::Malformed));
        let mut trailing = ber.to_vec();
        trailing.push(0);
        assert_eq!(to_der(&trailing), Err(Reason::Malformed));
        // A primitive with an indefinite length does not exist.
        assert_eq!(
            to_der(&[0x30, 0x80, 0x04, 0x80, 0x00, 0x00, 0x00, 0x00]),
            Err(Reason::Malformed)
        );
        // Long DER lengths are written in the fewest bytes.
        let mut long = vec![0x30, 0x80, 0x04, 0x82, 0x00, 0x90];
        long.extend([7u8; 0x90]);
        long.extend([0, 0]);
        let der = to_der(&long).expect("der");
        assert_eq!(&der[..6], &[0x30, 0x81, 0x93, 0x04, 0x81, 0x90]);
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
