//! The originator fields (RFC 5322 §3.6.2) of a submitted message: every address in
//! every `From:` and `Sender:` field must be one the authenticated official may send
//! as — their own address or alias, or an agency address delegated to them with
//! send-as (Art. 16.1) — exactly the rule MAIL FROM is held to (`mail.rs`,
//! RFC 6409 §6.1 lets the MSA check both).
//!
//! Why: the relay DKIM-signs by the `From:` domain and our SPF covers the relay, so
//! a forged `From: chutich@…` would pass DMARC everywhere. Checked at the end of DATA
//! on the submission listeners, before policy and storage; MX mail is sender
//! authentication's business (`sender_auth.rs`).
//!
//! Decisions where RFC 5322 is stricter than practice:
//! - No `From:` field at all is let through (as Postfix does): it claims nobody's
//!   identity, the relay does not sign it, and receivers' DMARC has nothing to pass.
//!   An official's mail client always writes one.
//! - A `From:` or `Sender:` field without an address mail-parser can read (empty,
//!   a bare name, garbage) is refused `550 5.6.0`: what we cannot read we cannot
//!   vouch for, and another parser might read the chairman's address in it.
//! - `Resent-From:` is not checked: nothing signs or aligns on it.
//! - An address of one of our domains written inside a display name must be one the
//!   official may send as too (`"chutich@…" <me@…>` is refused): clients show the
//!   name, not the address. Foreign addresses in names are left alone.
//!
//! Only the header block is parsed, and only these two fields (mail-parser's address
//! parser); the policy walker keeps `From:` raw, so there is no parse to share.

use std::sync::LazyLock;

use congvu_directory::AccountRecord;
use mail_parser::{HeaderName, MessageParser};
use tracing::{error, info};

use super::message::Message;
use super::{Envelope, Session};
use crate::reply::Reply;

/// Parses `From:` and `Sender:` as address lists, every other field raw.
static ORIGINATORS: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .header_address(HeaderName::From)
        .header_address(HeaderName::Sender)
});

/// What a message's originator fields say.
#[derive(Debug, PartialEq, Eq)]
enum Originators {
    /// No `From:` field.
    NoFrom,
    /// A `From:` or `Sender:` field without a readable address: the field's name.
    Unreadable(&'static str),
    /// Every address of every `From:` and `Sender:` field, with the field's name,
    /// and the addresses written inside their display names.
    Addresses {
        addresses: Vec<(&'static str, String)>,
        named: Vec<String>,
    },
}

/// Address-like words of a display name (`"chutich@thanhhoa.gov.vn" <me@…>`):
/// what a reader takes for the sender when the client shows only the name.
fn addresses_in_name(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| c.is_whitespace() || "<>\"'(),;:[]".contains(c))
        .map(|word| word.trim_end_matches('.'))
        .filter(|word| {
            word.split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        })
        .map(str::to_lowercase)
}

fn originators(message: &[u8]) -> Originators {
    let Some(parsed) = ORIGINATORS.parse_headers(message) else {
        return Originators::NoFrom;
    };
    let mut addresses = Vec::new();
    let mut named = Vec::new();
    let mut from_seen = false;
    for header in parsed.headers() {
        let field = match header.name {
            HeaderName::From => "From",
            HeaderName::Sender => "Sender",
            _ => continue,
        };
        from_seen |= field == "From";
        let Some(list) = header.value.as_address() else {
            return Originators::Unreadable(field);
        };
        let before = addresses.len();
        for addr in list.iter() {
            match addr.address() {
                Some(address) if !address.is_empty() => addresses.push((field, address.to_owned())),
                _ => return Originators::Unreadable(field),
            }
            if let Some(name) = addr.name() {
                named.extend(addresses_in_name(name));
            }
        }
        if addresses.len() == before {
            return Originators::Unreadable(field);
        }
    }
    if from_seen {
        Originators::Addresses { addresses, named }
    } else {
        Originators::NoFrom
    }
}

impl Session {
    /// `Err`: the reply refusing the message. Only for an authenticated session on
    /// a submission listener; anything else passes.
    pub(super) async fn check_originators(
        &self,
        envelope: &Envelope,
        message: &Message,
    ) -> Result<(), Reply> {
        let Some(account) = self.auth.as_ref().filter(|_| self.kind.is_submission()) else {
            return Ok(());
        };
        // The header block may be as large as the message: off the runtime.
        let body = message.body();
        let task = tokio::task::spawn_blocking(move || originators(&body));
        let found = match task.await {
            Ok(done) => done,
            Err(e) => {
                error!(id = %envelope.id, error = %e, "reading the From header failed");
                return Err(Reply::LOCAL_ERROR);
            }
        };
        let addresses = match found {
            Originators::NoFrom => return Ok(()),
            Originators::Unreadable(field) => {
                info!(
                    session = %self.id,
                    id = %envelope.id,
                    user = %account.address,
                    field,
                    "originator field without a readable address refused"
                );
                return Err(Reply::ORIGINATOR_UNREADABLE);
            }
            Originators::Addresses { addresses, named } => {
                self.check_display_names(envelope, account, &named)?;
                addresses
            }
        };
        let directory = &self.ctx.directory;
        for (field, address) in &addresses {
            match directory.may_submit_as(account, address) {
                Ok(true) => {
                    if !directory.may_send_as(account, address) {
                        info!(user = %account.address, field, header_address = %address, "header names a delegated agency");
                    }
                }
                Ok(false) => {
                    info!(
                        session = %self.id,
                        id = %envelope.id,
                        user = %account.address,
                        field,
                        header_address = %address,
                        "originator header not the user's to send as"
                    );
                    return Err(Reply::ORIGINATOR_NOT_OWNED);
                }
                Err(err) => {
                    error!(id = %envelope.id, error = %err, "directory failure checking the From header");
                    return Err(Reply::LOCAL_ERROR);
                }
            }
        }
        Ok(())
    }

    /// A display name may not show another address of ours than the official's
    /// own ones: the chairman's address in the name of a junior's mail is the
    /// impersonation the From rule exists to stop, whatever the real address.
    /// Foreign addresses in names (a mailing list's style) are left alone.
    fn check_display_names(
        &self,
        envelope: &Envelope,
        account: &AccountRecord,
        named: &[String],
    ) -> Result<(), Reply> {
        let directory = &self.ctx.directory;
        for address in named {
            let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
            if !directory.is_local_domain(domain) {
                continue;
            }
            match directory.may_submit_as(account, address) {
                Ok(true) => {}
                Ok(false) => {
                    info!(
                        session = %self.id,
                        id = %envelope.id,
                        user = %account.address,
                        named_address = %address,
                        "display name holds another official's address"
                    );
                    return Err(Reply::ORIGINATOR_NAME_NOT_OWNED);
                }
                Err(err) => {
                    error!(id = %envelope.id, error = %err, "directory failure checking the From display name");
                    return Err(Reply::LOCAL_ERROR);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Originators, originators};

    fn addresses(list: &[(&'static str, &str)]) -> Originators {
        Originators::Addresses {
            addresses: list.iter().map(|(f, a)| (*f, (*a).to_owned())).collect(),
            named: Vec::new(),
        }
    }

    #[test]
    fn every_from_and_sender_address_is_found() {
        let cases: [(&[u8], Originators); 12] = [
            (b"Subject: x\r\n\r\nFrom: a@b.vn\r\n", Originators::NoFrom),
            (b"", Originators::NoFrom),
            (b"Sender: s@b.vn\r\n\r\nx", Originators::NoFrom),
            (
                b"Received: x\r\nFROM: \"A\" <A@B.vn>\r\n\r\nx",
                addresses(&[("From", "A@B.vn")]),
            ),
            (
                b"From: a@b.vn, \"Ch\xe1\xbb\xa7 t\xe1\xbb\x8bch (ChuTich@B.vn.)\" <c@b.vn>\r\nSender: s@b.vn\r\n\r\n",
                Originators::Addresses {
                    addresses: vec![("From", "a@b.vn".into()), ("From", "c@b.vn".into()), ("Sender", "s@b.vn".into())],
                    named: vec!["chutich@b.vn".into()],
                },
            ),
            (
                b"From: a@b.vn\r\nFrom: c@b.vn\r\n\r\n",
                addresses(&[("From", "a@b.vn"), ("From", "c@b.vn")]),
            ),
            (
                b"From: Board: a@b.vn, c@b.vn;\r\n\r\n",
                addresses(&[("From", "a@b.vn"), ("From", "c@b.vn")]),
            ),
            (b"From:\r\n\r\n", Originators::Unreadable("From")),
            (
                b"From: a@b.vn\r\nSender: Nobody\r\n\r\n",
                Originators::Unreadable("Sender"),
            ),
            (b"From: Board:;\r\n\r\n", Originators::Unreadable("From")),
            // RFC 5322 §4.5.3: obsolete space before the colon is still From.
            (
                b"From: a@b.vn\r\nfrom : c@b.vn\r\n\r\n",
                addresses(&[("From", "a@b.vn"), ("From", "c@b.vn")]),
            ),
            // Garbage reads as one malformed address, which no account may send as.
            (
                b"From: <a@b.vn> c@b.vn\r\n\r\n",
                addresses(&[("From", "a@b.vnc@b.vn")]),
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(
                originators(message),
                expected,
                "{}",
                String::from_utf8_lossy(message)
            );
        }
    }
}
