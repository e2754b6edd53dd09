//! The DSN parameters of a transaction (RFC 3461: RET and ENVID of MAIL, NOTIFY and
//! ORCPT of each RCPT), from the parser's types into the store's request (RET and
//! NOTIFY are the protocol crate's types in both), so that the queue entry carries
//! them to the relay and its reports: `DsnRequest::from(&envelope)`.
//!
//! `DsnRequest::from` lists the remote recipients: the queue entry names them, and a
//! recipient without NOTIFY or ORCPT is left out (the store reads that as "neither
//! given"). [`local_request`] lists the local ones, for the success report of a
//! local delivery (RFC 3461 §6.2.2, `Action: delivered`).

use congvu_store::{DsnRequest, OriginalRecipient, RecipientDsn};

use super::Envelope;
use crate::parse::{Orcpt, RcptParams};

impl From<&Envelope> for DsnRequest {
    fn from(envelope: &Envelope) -> DsnRequest {
        request(envelope, envelope.remote.iter().zip(&envelope.remote_dsn))
    }
}

/// The DSN parameters of the local recipients, by the address they were given as.
pub(super) fn local_request(envelope: &Envelope) -> DsnRequest {
    request(envelope, envelope.local.iter().map(|r| (&r.address, &r.dsn)))
}

fn request<'a>(
    envelope: &Envelope,
    recipients: impl Iterator<Item = (&'a String, &'a RcptParams)>,
) -> DsnRequest {
    DsnRequest {
        ret: envelope.params.ret,
        envid: envelope.params.envid.clone(),
        recipients: recipients
            .filter(|(_, params)| **params != RcptParams::default())
            .map(|(address, params)| RecipientDsn {
                address: address.clone(),
                notify: params.notify,
                orcpt: params.orcpt.as_ref().map(original_recipient),
            })
            .collect(),
    }
}

fn original_recipient(orcpt: &Orcpt) -> OriginalRecipient {
    OriginalRecipient {
        addr_type: orcpt.addr_type.clone(),
        address: orcpt.value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{DsnRet, MailParams, Notify, ReversePath};

    fn envelope(params: MailParams, remote: &[(&str, RcptParams)]) -> Envelope {
        Envelope {
            id: "t.0".to_owned(),
            from: ReversePath::Null,
            params,
            local: Vec::new(),
            remote: remote.iter().map(|(a, _)| (*a).to_owned()).collect(),
            remote_dsn: remote.iter().map(|(_, p)| p.clone()).collect(),
            accepted: remote.len(),
            attempted: remote.len(),
            started: std::time::Instant::now(),
            sent_as_agency: None,
        }
    }

    #[test]
    fn no_parameter_gives_the_empty_request() {
        let plain = envelope(MailParams::default(), &[("a@example.net", RcptParams::default())]);
        assert_eq!(DsnRequest::from(&plain), DsnRequest::default());
    }

    #[test]
    fn every_parameter_reaches_the_request() {
        let params = MailParams {
            ret: Some(DsnRet::Headers),
            envid: Some("QQ+1".to_owned()),
            ..MailParams::default()
        };
        let never = RcptParams {
            notify: Some(Notify::NEVER),
            orcpt: None,
        };
        let traced = RcptParams {
            notify: Some(Notify {
                success: true,
                failure: true,
                delay: false,
            }),
            orcpt: Some(Orcpt {
                addr_type: "rfc822".to_owned(),
                value: "a+b@c".to_owned(),
            }),
        };
        let with_dsn = envelope(
            params,
            &[
                ("plain@example.net", RcptParams::default()),
                ("never@example.net", never),
                ("traced@example.net", traced),
            ],
        );
        let request = DsnRequest::from(&with_dsn);
        assert_eq!(request.ret, Some(congvu_store::DsnRet::Headers));
        assert_eq!(request.envid.as_deref(), Some("QQ+1"));
        assert_eq!(request.recipients.len(), 2);
        assert!(request.recipient("plain@example.net").is_none());
        assert_eq!(request.notify("plain@example.net"), congvu_store::Notify::DEFAULT);
        assert_eq!(request.notify("never@example.net"), congvu_store::Notify::NEVER);
        assert!(request.notify("traced@example.net").success);
        assert!(!request.notify("traced@example.net").delay);
        assert_eq!(
            request.orcpt("traced@example.net"),
            Some(&OriginalRecipient {
                addr_type: "rfc822".to_owned(),
                address: "a+b@c".to_owned(),
            })
        );
    }
}
