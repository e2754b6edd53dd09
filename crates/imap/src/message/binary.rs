//! `BINARY[part]` content (RFC 3516 §4.2): a part's body with its content transfer
//! encoding undone, so a client downloading an attachment gets its bytes rather
//! than base64 a third larger.

use std::borrow::Cow;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;

use super::header;
use super::mime::{Children, Entity};

/// The part's Content-Transfer-Encoding is one this server cannot undo: the FETCH
/// fails with `NO [UNKNOWN-CTE]` (RFC 3516 §4.3).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UnknownCte;

/// The decoded content `part` names; `Ok(None)` when there is no such part
/// (answered as NIL, as `BODY[…]` does). An empty `part` is the whole message,
/// which has no transfer encoding of its own to undo. Multiparts and encapsulated
/// messages are returned as stored: only 7bit, 8bit and binary are valid on them
/// (RFC 2045 §6.4), and none of those changes the bytes.
pub(crate) fn decoded<'a>(
    raw: &'a [u8],
    root: &Entity,
    part: &[u32],
) -> Result<Option<Cow<'a, [u8]>>, UnknownCte> {
    if part.is_empty() {
        return Ok(Some(Cow::Borrowed(raw)));
    }
    let Some(entity) = root.find(part) else {
        return Ok(None);
    };
    let body = entity.body_bytes(raw);
    if !matches!(entity.children, Children::Leaf) {
        return Ok(Some(Cow::Borrowed(body)));
    }
    let encoding = header::field(entity.header_bytes(raw), "Content-Transfer-Encoding")
        .map(|value| header::unfold(value).to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some(b"7bit" | b"8bit" | b"binary") => Ok(Some(Cow::Borrowed(body))),
        // Damaged encodings decode as far as they can be: a client asked for the
        // bytes, and the stored form is still there under BODY[…].
        Some(b"base64") => Ok(Some(Cow::Owned(
            base64_decode(body).unwrap_or_else(|| lenient_base64(body)),
        ))),
        Some(b"quoted-printable") => Ok(Some(Cow::Owned(
            quoted_printable_decode(body).unwrap_or_else(|| body.to_vec()),
        ))),
        Some(_) => Err(UnknownCte),
    }
}

/// Base64 with everything outside the alphabet dropped and a ragged end cut off.
fn lenient_base64(body: &[u8]) -> Vec<u8> {
    let mut clean: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    clean.truncate(clean.len() / 4 * 4);
    base64_decode(&clean).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
C=C3=B4ng v=C4=83n=\r\n s=E1=BB=91 12\r\n\
--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: BASE64\r\n\r\n\
AAEC/w==\r\n\
--b\r\nContent-Type: application/x-thing\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n\
begin 644 x\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n\
--b--\r\n";

    fn get(part: &[u32]) -> Result<Option<Vec<u8>>, UnknownCte> {
        let root = Entity::parse(RAW);
        decoded(RAW, &root, part).map(|bytes| bytes.map(Cow::into_owned))
    }

    #[test]
    fn transfer_encodings_are_undone() {
        assert_eq!(get(&[1]), Ok(Some("Công văn số 12".as_bytes().to_vec())));
        assert_eq!(get(&[2]), Ok(Some(vec![0, 1, 2, 0xff])));
        assert_eq!(get(&[3]), Err(UnknownCte));
        assert_eq!(get(&[4]), Ok(Some(b"plain".to_vec())));
        assert_eq!(get(&[5]), Ok(None));
        assert_eq!(get(&[]), Ok(Some(RAW.to_vec())));
    }

    #[test]
    fn damaged_base64_decodes_what_it_can() {
        let raw = b"Content-Transfer-Encoding: base64\r\n\r\nQ8O0bmc*\r\n!!\r\nxx";
        let root = Entity::parse(raw);
        let bytes = decoded(raw, &root, &[1]).unwrap().unwrap();
        assert!(bytes.starts_with(b"C\xc3\xb4ng"), "{bytes:?}");
    }
}
