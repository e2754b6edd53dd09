//! Delivery status notification parameters (RFC 3461 §4): `RET` and `ENVID` on MAIL,
//! `NOTIFY` and `ORCPT` on RCPT, and the xtext encoding their values use (§4).
//!
//! Invariants:
//! 1. A decoded `ENVID` or `ORCPT` address holds only printable US-ASCII (SP to `~`):
//!    RFC 3461 §4.2 and §4.4 require it, and the values are copied into the header
//!    fields of a report (`Original-Envelope-Id:`, `Original-Recipient:`), where a
//!    decoded CR or LF would add header lines of the sender's choosing.
//! 2. The length limits apply to the values as sent, xtext-encoded: `ENVID` ≤ 100
//!    characters (§4.4), `ORCPT` ≤ 500 (§4.2), so the decoded values are no longer.
//! 3. No value here depends on the store: the session converts them when it queues.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ParseError;

/// RFC 3461 §4.4: the longest `ENVID` value.
const MAX_ENVID: usize = 100;
/// RFC 3461 §4.2: the longest `ORCPT` value.
const MAX_ORCPT: usize = 500;

/// `RET=`: what a failure report returns of the message (RFC 3461 §4.3). The store
/// keeps it in queue entries as it is (serde).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DsnRet {
    /// `FULL`: the whole message.
    Full,
    /// `HDRS`: its header only.
    Headers,
}

/// `NOTIFY=` (RFC 3461 §4.1): the events the sender wants a report of. All three
/// false is `NEVER`. The store keeps it in queue entries as it is (serde).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notify {
    pub success: bool,
    pub failure: bool,
    pub delay: bool,
}

impl Notify {
    /// `NOTIFY=NEVER`: no report, whatever happens.
    pub const NEVER: Notify = Notify {
        success: false,
        failure: false,
        delay: false,
    };
    /// What a recipient without `NOTIFY` gets (RFC 3461 §4.1): failure and delay.
    pub const DEFAULT: Notify = Notify {
        success: false,
        failure: true,
        delay: true,
    };

    pub fn is_never(self) -> bool {
        self == Notify::NEVER
    }
}

/// The `NOTIFY=` value: `NEVER`, or the events in RFC 3461 §4.1's order,
/// comma-separated.
impl fmt::Display for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            return f.write_str("NEVER");
        }
        let events = [
            (self.success, "SUCCESS"),
            (self.failure, "FAILURE"),
            (self.delay, "DELAY"),
        ];
        let mut separator = "";
        for (_, name) in events.iter().filter(|(wanted, _)| *wanted) {
            write!(f, "{separator}{name}")?;
            separator = ",";
        }
        Ok(())
    }
}

/// `ORCPT=addr-type;xtext` (RFC 3461 §4.2): the recipient as the original sender
/// wrote it, before any forwarding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Orcpt {
    /// The address type as sent (an atom, e.g. `rfc822`); compared case-insensitively.
    pub addr_type: String,
    /// The address, xtext-decoded (printable US-ASCII).
    pub value: String,
}

/// `RET=FULL` or `RET=HDRS`, in any case.
pub(super) fn ret(value: &[u8]) -> Result<DsnRet, ParseError> {
    if value.eq_ignore_ascii_case(b"FULL") {
        Ok(DsnRet::Full)
    } else if value.eq_ignore_ascii_case(b"HDRS") {
        Ok(DsnRet::Headers)
    } else {
        Err(ParseError::Syntax("bad RET value"))
    }
}

/// `ENVID=xtext`, decoded.
pub(super) fn envid(value: &[u8]) -> Result<String, ParseError> {
    if value.len() > MAX_ENVID {
        return Err(ParseError::Syntax("ENVID too long"));
    }
    printable_xtext(value).ok_or(ParseError::Syntax("bad ENVID value"))
}

/// `NOTIFY=NEVER` or `NOTIFY=` a comma-separated list of `SUCCESS`, `FAILURE`,
/// `DELAY`, in any case; `NEVER` only alone.
pub(super) fn notify(value: &[u8]) -> Result<Notify, ParseError> {
    if value.eq_ignore_ascii_case(b"NEVER") {
        return Ok(Notify::NEVER);
    }
    let mut notify = Notify::NEVER;
    for element in value.split(|&b| b == b',') {
        if element.eq_ignore_ascii_case(b"SUCCESS") {
            notify.success = true;
        } else if element.eq_ignore_ascii_case(b"FAILURE") {
            notify.failure = true;
        } else if element.eq_ignore_ascii_case(b"DELAY") {
            notify.delay = true;
        } else {
            return Err(ParseError::Syntax("bad NOTIFY value"));
        }
    }
    Ok(notify)
}

/// `ORCPT=addr-type;xtext`, where `addr-type` is an RFC 5322 atom.
pub(super) fn orcpt(value: &[u8]) -> Result<Orcpt, ParseError> {
    const BAD: ParseError = ParseError::Syntax("bad ORCPT value");
    if value.len() > MAX_ORCPT {
        return Err(ParseError::Syntax("ORCPT too long"));
    }
    let separator = value.iter().position(|&b| b == b';').ok_or(BAD)?;
    let (addr_type, address) = (&value[..separator], &value[separator + 1..]);
    if addr_type.is_empty() || !addr_type.iter().all(|&b| is_atext(b)) || address.is_empty() {
        return Err(BAD);
    }
    Ok(Orcpt {
        addr_type: String::from_utf8_lossy(addr_type).into_owned(),
        value: printable_xtext(address).ok_or(BAD)?,
    })
}

/// RFC 5322 §3.2.3 `atext`: what an ORCPT address type is made of.
pub fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// Encodes RFC 3461 §4 xtext, what [`printable_xtext`] decodes: `!` to `~` as
/// themselves except `+` and `=`, every other octet as `+` and two upper-case hex
/// digits, so no value can end a parameter or a command line.
pub fn encode_xtext(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for octet in value.bytes() {
        if matches!(octet, b'!'..=b'~') && octet != b'+' && octet != b'=' {
            encoded.push(char::from(octet));
        } else {
            encoded.push('+');
            encoded.push(upper_hex_digit(octet >> 4));
            encoded.push(upper_hex_digit(octet & 0x0f));
        }
    }
    encoded
}

fn upper_hex_digit(nibble: u8) -> char {
    char::from(
        b"0123456789ABCDEF"
            .get(usize::from(nibble))
            .copied()
            .unwrap_or(b'0'),
    )
}

/// Decodes RFC 3461 §4 xtext: `xchar` is `!` to `~` except `+` and `=`; `+` is
/// followed by two hex digits. RFC 3461 asks for upper-case digits; lower case is
/// accepted too, since it decodes to the same octet without ambiguity. `None` when
/// the syntax is wrong or the decoded octets are not printable US-ASCII
/// (invariant 1).
fn printable_xtext(value: &[u8]) -> Option<String> {
    let mut decoded = String::with_capacity(value.len());
    let mut bytes = value.iter();
    while let Some(&b) = bytes.next() {
        let octet = match b {
            b'+' => {
                let high = hex_digit(*bytes.next()?)?;
                let low = hex_digit(*bytes.next()?)?;
                high << 4 | low
            }
            b'=' => return None,
            b'!'..=b'~' => b,
            _ => return None,
        };
        if !(b' '..=b'~').contains(&octet) {
            return None;
        }
        decoded.push(char::from(octet));
    }
    Some(decoded)
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xtext_encoding_is_read_back() {
        assert_eq!(encode_xtext("a+b=c d~\u{1}ệ"), "a+2Bb+3Dc+20d~+01+E1+BB+87");
        let printable: String = (b' '..=b'~').map(char::from).collect();
        assert_eq!(
            printable_xtext(encode_xtext(&printable).as_bytes()),
            Some(printable)
        );
    }

    #[test]
    fn notify_values_are_written_in_rfc_order() {
        let notify = |success, failure, delay| {
            Notify {
                success,
                failure,
                delay,
            }
            .to_string()
        };
        assert_eq!(notify(false, false, false), "NEVER");
        assert_eq!(notify(true, false, true), "SUCCESS,DELAY");
        assert_eq!(notify(true, true, true), "SUCCESS,FAILURE,DELAY");
        assert_eq!(notify(false, true, false), "FAILURE");
    }

    #[test]
    fn xtext_decoding() {
        let cases: [(&[u8], Option<&str>); 12] = [
            (b"a+2Bb@c", Some("a+b@c")),
            (b"a+2bb@c", Some("a+b@c")),
            (b"QQ+20id+3D1", Some("QQ id=1")),
            (b"", Some("")),
            (b"!~", Some("!~")),
            (b"a+2", None),
            (b"a+", None),
            (b"a+G0", None),
            (b"a=b", None),
            (b"a b", None),
            // Decoded CR/LF or 8-bit: refused (invariant 1).
            (b"x+0D+0AFrom:+20y", None),
            (b"+C3+A9", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                printable_xtext(input).as_deref(),
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn notify_values() {
        assert_eq!(notify(b"NEVER"), Ok(Notify::NEVER));
        assert!(notify(b"never").unwrap().is_never());
        assert_eq!(
            notify(b"SUCCESS,failure"),
            Ok(Notify {
                success: true,
                failure: true,
                delay: false
            })
        );
        assert_eq!(
            notify(b"DELAY"),
            Ok(Notify {
                success: false,
                failure: false,
                delay: true
            })
        );
        for bad in [
            &b"NEVER,SUCCESS"[..],
            b"SUCCESS,",
            b",DELAY",
            b"SUCCESS,,DELAY",
            b"ALWAYS",
            b"",
        ] {
            assert_eq!(
                notify(bad),
                Err(ParseError::Syntax("bad NOTIFY value")),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn ret_and_envid() {
        assert_eq!(ret(b"full"), Ok(DsnRet::Full));
        assert_eq!(ret(b"HDRS"), Ok(DsnRet::Headers));
        assert_eq!(ret(b"HEADERS"), Err(ParseError::Syntax("bad RET value")));
        assert_eq!(envid(b"QQ314159+2B1").as_deref(), Ok("QQ314159+1"));
        assert_eq!(envid(&[b'x'; 100]).map(|e| e.len()), Ok(100));
        assert_eq!(envid(&[b'x'; 101]), Err(ParseError::Syntax("ENVID too long")));
        assert_eq!(envid(b"a+0Ab"), Err(ParseError::Syntax("bad ENVID value")));
    }

    #[test]
    fn orcpt_values() {
        assert_eq!(
            orcpt(b"rfc822;a+2Bb@c"),
            Ok(Orcpt {
                addr_type: "rfc822".to_owned(),
                value: "a+b@c".to_owned()
            })
        );
        assert_eq!(orcpt(b"RFC822;x@y;z").map(|o| o.value), Ok("x@y;z".to_owned()));
        let long = [b"rfc822;".as_slice(), &[b'a'; 493]].concat();
        assert!(orcpt(&long).is_ok());
        let longer = [long.as_slice(), b"a"].concat();
        assert_eq!(orcpt(&longer), Err(ParseError::Syntax("ORCPT too long")));
        for bad in [
            &b"a@b"[..],
            b";a@b",
            b"rfc822;",
            b"rfc(822);a@b",
            b"rfc822;a+0D+0Ab",
            b"rfc822;a+4",
        ] {
            assert_eq!(
                orcpt(bad),
                Err(ParseError::Syntax("bad ORCPT value")),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
