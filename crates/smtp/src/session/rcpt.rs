//! RCPT TO (RFC 5321 §4.1.1.3): adds a recipient to the open transaction.
//!
//! Local recipients must exist, be enabled and have room; remote recipients are
//! accepted only from an authenticated submitter (no open relay). The DSN
//! parameters (RFC 3461: NOTIFY, ORCPT) are kept with the recipient they came with.

use congvu_directory::AccountRecord;
use congvu_store::AccountKind;
use tracing::{debug, error, warn};

use super::{Action, Envelope, LocalRecipient, Session, State};
use crate::parse::{ForwardPath, RcptParams};
use crate::reply::Reply;

impl Session {
    pub(super) fn rcpt(&mut self, to: ForwardPath, params: RcptParams) -> Action {
        let mut envelope = match std::mem::replace(&mut self.state, State::Greeted) {
            State::Mail(envelope) => envelope,
            // RFC 3030 §3: the recipients are fixed once the data has started; the
            // transaction is aborted (see `bdat.rs`).
            State::Chunking(..) => {
                self.state = self.idle_state();
                return Action::Reply(Reply::BAD_SEQUENCE);
            }
            other => {
                self.state = other;
                return Action::Reply(Reply::NEED_MAIL);
            }
        };
        let reply = self.add_recipient(&mut envelope, &to, params);
        if !reply.is_positive() {
            debug!(to = ?to, code = reply.code, "RCPT refused");
        }
        self.state = State::Mail(envelope);
        Action::Reply(reply)
    }

    fn add_recipient(&self, envelope: &mut Envelope, to: &ForwardPath, dsn: RcptParams) -> Reply {
        envelope.attempted += 1;
        // Parameters are ESMTP extensions, negotiated by EHLO only.
        if dsn != RcptParams::default() && !self.helo.as_ref().is_some_and(|g| g.extended) {
            return Reply::UNKNOWN_PARAMETER;
        }
        // RFC 5321 §4.5.3.1.10: 452 for too many recipients, the client sends the
        // rest in another transaction.
        if envelope.accepted >= self.ctx.config.max_recipients {
            return Reply::TOO_MANY_RECIPIENTS;
        }
        let address = match to {
            ForwardPath::Postmaster => match self.postmaster() {
                Some(address) => address,
                None => return Reply::NO_SUCH_USER,
            },
            ForwardPath::Mailbox(mailbox) => {
                if !mailbox.is_ascii() && !envelope.params.smtputf8 {
                    return Reply::NON_ASCII_WITHOUT_SMTPUTF8;
                }
                if !self.ctx.directory.is_local_domain(mailbox.domain()) {
                    if self.auth.is_none() {
                        return Reply::RELAY_DENIED;
                    }
                    let address = mailbox.to_string();
                    if !envelope.remote.iter().any(|r| r.eq_ignore_ascii_case(&address)) {
                        envelope.remote.push(address);
                        envelope.remote_dsn.push(dsn);
                    }
                    envelope.accepted += 1;
                    return Reply::RECIPIENT_OK;
                }
                mailbox.to_string()
            }
        };
        let record = match self.local_account(&address, envelope.params.size) {
            Ok(record) => record,
            Err(reply) => return reply,
        };
        if !envelope.local.iter().any(|r| r.account == record.account) {
            envelope.local.push(LocalRecipient {
                address,
                account: record.account,
                agency: record.agency,
                agency_mailbox: record.kind == AccountKind::Agency,
                dsn,
            });
        }
        envelope.accepted += 1;
        Reply::RECIPIENT_OK
    }

    /// The directory record of the account that receives mail for a local address,
    /// if it may.
    fn local_account(&self, address: &str, declared_size: Option<u64>) -> Result<AccountRecord, Reply> {
        let record = match self.ctx.directory.lookup(address) {
            Ok(Some(record)) => record,
            Ok(None) => return Err(Reply::NO_SUCH_USER),
            Err(e) => {
                warn!(error = %e, "directory lookup failed");
                return Err(Reply::LOCAL_ERROR);
            }
        };
        // 5.2.1 rather than 5.1.1: the sender learns that the address is right but
        // its owner cannot receive (an official who has left keeps the address).
        if record.disabled {
            return Err(Reply::MAILBOX_DISABLED);
        }
        match self.ctx.store.account(record.account) {
            // RFC 3463 X.2.2, temporary: the owner may make room, the sender retries.
            // Without a declared SIZE, a full mailbox has no room for even one byte.
            Ok(Some(storage))
                if storage.used_bytes.saturating_add(declared_size.unwrap_or(1)) > storage.quota_bytes =>
            {
                Err(Reply::MAILBOX_FULL_TEMP)
            }
            Ok(Some(_)) => Ok(record),
            Ok(None) => {
                error!(
                    account = record.account.0,
                    "directory names an account the store lacks"
                );
                Err(Reply::LOCAL_ERROR)
            }
            Err(e) => {
                warn!(error = %e, "store account lookup failed");
                Err(Reply::LOCAL_ERROR)
            }
        }
    }

    /// RFC 5321 §4.1.1.3: `<Postmaster>` without a domain must be accepted. It is
    /// routed to `postmaster@` the closest local domain above the server's hostname
    /// (`mail.thanhhoa.gov.vn` → `postmaster@thanhhoa.gov.vn`).
    pub(super) fn postmaster(&self) -> Option<String> {
        let mut domain = self.ctx.config.hostname.as_str();
        loop {
            if self.ctx.directory.is_local_domain(domain) {
                return Some(format!("postmaster@{domain}"));
            }
            domain = domain.split_once('.')?.1;
        }
    }
}
