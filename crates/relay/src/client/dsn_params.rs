//! The DSN parameters (RFC 3461 §4) passed on to a next hop that advertises `DSN`,
//! written without I/O: `RET` and `ENVID` on MAIL, `NOTIFY` and `ORCPT` on RCPT.
//!
//! Invariants:
//! 1. What is written is what the sender gave: a parameter the sender did not give
//!    is not invented here (the next hop applies its own defaults, as ours would).
//! 2. `ENVID` and the `ORCPT` address are stored decoded (see `congvu_store::DsnRequest`)
//!    and written xtext-encoded (§4): every octet outside `!`..`~`, and `+` and `=`,
//!    as `+HH` — so a stored value can never add a parameter or a command.
//! 3. A value longer than RFC 3461 allows once encoded (`ENVID` 100 characters,
//!    §4.4; `ORCPT` 500, §4.2) is left out rather than sent: the next hop would
//!    refuse the whole command for it.

use congvu_protocol::smtp::parse::{encode_xtext, is_atext};
use congvu_store::{DsnRequest, DsnRet};

/// RFC 3461 §4.4: the longest `ENVID` value.
const MAX_ENVID: usize = 100;
/// RFC 3461 §4.2: the longest `ORCPT` value.
const MAX_ORCPT: usize = 500;

/// The MAIL FROM parameters, each preceded by a space (empty when there are none).
pub fn mail_params(dsn: &DsnRequest) -> String {
    let mut params = String::new();
    match dsn.ret {
        Some(DsnRet::Full) => params.push_str(" RET=FULL"),
        Some(DsnRet::Headers) => params.push_str(" RET=HDRS"),
        None => {}
    }
    if let Some(envid) = dsn
        .envid
        .as_deref()
        .map(encode_xtext)
        .filter(|e| e.len() <= MAX_ENVID)
    {
        params.push_str(" ENVID=");
        params.push_str(&envid);
    }
    params
}

/// The RCPT TO parameters of `recipient`, each preceded by a space.
pub fn rcpt_params(dsn: &DsnRequest, recipient: &str) -> String {
    let mut params = String::new();
    let Some(given) = dsn.recipient(recipient) else {
        return params;
    };
    if let Some(notify) = given.notify {
        params.push_str(" NOTIFY=");
        params.push_str(&notify.to_string());
    }
    if let Some(orcpt) = &given.orcpt {
        let value = format!("{};{}", orcpt.addr_type, encode_xtext(&orcpt.address));
        let atom = !orcpt.addr_type.is_empty() && orcpt.addr_type.bytes().all(is_atext);
        if atom && value.len() <= MAX_ORCPT {
            params.push_str(" ORCPT=");
            params.push_str(&value);
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use congvu_store::{Notify, OriginalRecipient, RecipientDsn};

    #[test]
    fn xtext_encodes_plus_equals_space_and_controls() {
        let table = [
            ("QQ314159", "QQ314159"),
            ("a+b=c", "a+2Bb+3Dc"),
            ("two words", "two+20words"),
            ("line\r\nRCPT TO:<x>", "line+0D+0ARCPT+20TO:<x>"),
            ("é", "+C3+A9"),
            ("", ""),
        ];
        for (value, expected) in table {
            assert_eq!(encode_xtext(value), expected, "{value:?}");
        }
    }

    fn recipient(address: &str, notify: Option<Notify>, orcpt: Option<(&str, &str)>) -> RecipientDsn {
        RecipientDsn {
            address: address.into(),
            notify,
            orcpt: orcpt.map(|(addr_type, address)| OriginalRecipient {
                addr_type: addr_type.into(),
                address: address.into(),
            }),
        }
    }

    #[test]
    fn parameters_are_passed_as_given() {
        let dsn = DsnRequest {
            ret: Some(DsnRet::Headers),
            envid: Some("id 1+2".into()),
            recipients: vec![
                recipient(
                    "a@b.vn",
                    Some(Notify {
                        success: true,
                        failure: false,
                        delay: true,
                    }),
                    Some(("rfc822", "A@b.vn")),
                ),
                recipient("never@b.vn", Some(Notify::NEVER), None),
                recipient("orcpt@b.vn", None, Some(("rfc822", "x=y@b.vn"))),
                recipient("badtype@b.vn", None, Some(("rfc 822", "x@b.vn"))),
            ],
        };
        assert_eq!(mail_params(&dsn), " RET=HDRS ENVID=id+201+2B2");
        let table = [
            ("a@b.vn", " NOTIFY=SUCCESS,DELAY ORCPT=rfc822;A@b.vn"),
            ("never@b.vn", " NOTIFY=NEVER"),
            ("orcpt@b.vn", " ORCPT=rfc822;x+3Dy@b.vn"),
            ("badtype@b.vn", ""),
            ("nobody@b.vn", ""),
        ];
        for (address, expected) in table {
            assert_eq!(rcpt_params(&dsn, address), expected, "{address}");
        }
        assert_eq!(mail_params(&DsnRequest::default()), "");
    }

    #[test]
    fn overlong_values_are_left_out() {
        let long = "x".repeat(MAX_ENVID + 1);
        let dsn = DsnRequest {
            ret: Some(DsnRet::Full),
            envid: Some(long.clone()),
            recipients: vec![recipient(
                "a@b.vn",
                None,
                Some(("rfc822", &"y".repeat(MAX_ORCPT))),
            )],
        };
        assert_eq!(mail_params(&dsn), " RET=FULL");
        assert_eq!(rcpt_params(&dsn, "a@b.vn"), "");
        let fits = DsnRequest {
            envid: Some("+".repeat(MAX_ENVID / 3)),
            ..dsn
        };
        assert_eq!(mail_params(&fits).len(), " RET=FULL ENVID=".len() + 99);
    }
}
