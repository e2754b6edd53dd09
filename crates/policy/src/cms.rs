//! What an `application/pkcs7-mime` body is (RFC 8551 §3.2, RFC 5652): encrypted
//! (enveloped or authenticated-enveloped data), which no rule can read, or opaque signed
//! data, whose signed content is a MIME entity that is checked like the rest of the
//! message.
//!
//! The content type is read from the DER/BER itself, not from the `smime-type`
//! parameter, which a sender chooses. A small BER reader (X.690 §8.1: definite and
//! indefinite lengths, constructed OCTET STRINGs as Outlook writes them) walks
//! `ContentInfo → SignedData → encapContentInfo → eContent`; the signature itself is not
//! verified here (that is the S/MIME stage's work). Invariants: nesting of
//! indefinite-length values is bounded (16 levels), every length is checked against
//! the bytes left, and the content found is never larger than the input.

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_ENVELOPED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
const OID_AUTH_ENVELOPED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17];
/// BER values nested inside one another this deep at most.
const MAX_DEPTH: u32 = 16;

/// What a pkcs7-mime body holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Pkcs7 {
    /// Signed data with its encapsulated content (a MIME entity).
    Signed(Vec<u8>),
    /// Enveloped or authenticated-enveloped data: encrypted.
    Encrypted,
    /// Not readable as CMS, or another content type (compressed, detached signed):
    /// nothing in it can be checked.
    Opaque,
}

/// One BER value: its tag, its content bytes (for indefinite lengths: up to the
/// end-of-contents octets), and the bytes after it.
struct Value<'a> {
    tag: u8,
    content: &'a [u8],
    rest: &'a [u8],
}

fn value(data: &[u8], depth: u32) -> Option<Value<'_>> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (&tag, after_tag) = data.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags do not occur in CMS
    }
    let (&first, after_len) = after_tag.split_first()?;
    if first == 0x80 {
        // Indefinite: children up to 00 00.
        let mut rest = after_len;
        loop {
            if rest.starts_with(&[0, 0]) {
                let used = after_len.len() - rest.len();
                return Some(Value {
                    tag,
                    content: &after_len[..used],
                    rest: rest.get(2..)?,
                });
            }
            rest = value(rest, depth + 1)?.rest;
        }
    }
    let (len, body) = if first & 0x80 == 0 {
        (usize::from(first), after_len)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return None;
        }
        let bytes = after_len.get(..n)?;
        let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, after_len.get(n..)?)
    };
    Some(Value {
        tag,
        content: body.get(..len)?,
        rest: body.get(len..)?,
    })
}

/// The values inside a constructed value, in order.
fn children(content: &[u8], depth: u32) -> Option<Vec<Value<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let child = value(rest, depth + 1)?;
        rest = child.rest;
        out.push(child);
    }
    Some(out)
}

/// An OCTET STRING's bytes: primitive (tag 0x04), or constructed (0x24) from pieces.
fn octets(v: &Value<'_>, depth: u32, out: &mut Vec<u8>) -> Option<()> {
    match v.tag {
        0x04 => out.extend_from_slice(v.content),
        0x24 => {
            for piece in children(v.content, depth)? {
                octets(&piece, depth + 1, out)?;
            }
        }
        _ => return None,
    }
    Some(())
}

/// Reads a pkcs7-mime body (transfer encoding already removed).
pub fn read(der: &[u8]) -> Pkcs7 {
    signed_content(der).unwrap_or_else(|| {
        // Not signed data: encrypted when the content type says so.
        let content_type = value(der, 0)
            .filter(|ci| ci.tag == 0x30)
            .and_then(|ci| value(ci.content, 1))
            .filter(|oid| oid.tag == 0x06)
            .map(|oid| oid.content);
        match content_type {
            Some(OID_ENVELOPED_DATA | OID_AUTH_ENVELOPED_DATA) => Pkcs7::Encrypted,
            _ => Pkcs7::Opaque,
        }
    })
}

fn signed_content(der: &[u8]) -> Option<Pkcs7> {
    // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
    let content_info = value(der, 0).filter(|v| v.tag == 0x30)?;
    let fields = children(content_info.content, 1)?;
    let [oid, explicit, ..] = fields.as_slice() else {
        return None;
    };
    if oid.tag != 0x06 || oid.content != OID_SIGNED_DATA || explicit.tag != 0xa0 {
        return None;
    }
    // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, … }
    let signed_data = value(explicit.content, 2).filter(|v| v.tag == 0x30)?;
    let fields = children(signed_data.content, 3)?;
    let encap = fields.get(2).filter(|v| v.tag == 0x30)?;
    // EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
    let encap_fields = children(encap.content, 4)?;
    let Some(explicit) = encap_fields.get(1).filter(|v| v.tag == 0xa0) else {
        // Detached: the content is elsewhere (multipart/signed), nothing here to read.
        return Some(Pkcs7::Opaque);
    };
    let string = value(explicit.content, 5)?;
    let mut content = Vec::new();
    octets(&string, 6, &mut content)?;
    Some(Pkcs7::Signed(content))
}

#[cfg(test)]
pub(crate) mod samples {
    //! CMS structures laid out by hand, definite and indefinite.

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = (len as u32).to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            out.push(0x80 | (4 - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
        out.extend_from_slice(content);
        out
    }

    fn indefinite(tag: u8, children: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![tag, 0x80];
        for c in children {
            out.extend_from_slice(c);
        }
        out.extend_from_slice(&[0, 0]);
        out
    }

    /// Opaque signed data around `content`; `ber`: indefinite lengths and the content
    /// in 100-byte pieces of a constructed OCTET STRING, as Outlook writes it.
    pub fn signed(content: &[u8], ber: bool) -> Vec<u8> {
        let data_oid = tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]);
        let string = if ber {
            let pieces: Vec<Vec<u8>> = content.chunks(100).map(|c| tlv(0x04, c)).collect();
            indefinite(0x24, &pieces)
        } else {
            tlv(0x04, content)
        };
        let encap = [data_oid, tlv(0xa0, &string)].concat();
        let fields = [
            tlv(0x02, &[1]),
            tlv(
                0x31,
                &tlv(
                    0x30,
                    &tlv(0x06, &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]),
                ),
            ),
            tlv(0x30, &encap),
            tlv(0x31, &[]),
        ];
        let signed_data = if ber {
            indefinite(0x30, &fields)
        } else {
            tlv(0x30, &fields.concat())
        };
        let info = [tlv(0x06, super::OID_SIGNED_DATA), tlv(0xa0, &signed_data)].concat();
        tlv(0x30, &info)
    }

    pub fn enveloped() -> Vec<u8> {
        let info = [
            tlv(0x06, super::OID_ENVELOPED_DATA),
            tlv(0xa0, &tlv(0x30, &[2, 1, 0])),
        ]
        .concat();
        tlv(0x30, &info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_enveloped_and_damaged() {
        let entity = b"Content-Type: text/plain\r\n\r\nKinh gui\r\n".repeat(20);
        for ber in [false, true] {
            assert_eq!(
                read(&samples::signed(&entity, ber)),
                Pkcs7::Signed(entity.clone())
            );
        }
        assert_eq!(read(&samples::enveloped()), Pkcs7::Encrypted);
        assert_eq!(read(b"not der"), Pkcs7::Opaque);
        let signed = samples::signed(&entity, true);
        for cut in 0..signed.len() {
            assert_ne!(read(&signed[..cut]), Pkcs7::Encrypted);
        }
        // Deep indefinite nesting stops at the bound.
        let deep = [[0x30u8, 0x80]; 100].concat();
        assert_eq!(read(&deep), Pkcs7::Opaque);
    }
}
