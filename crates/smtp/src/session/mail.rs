//! MAIL FROM (RFC 5321 §4.1.1.2): opens a transaction.

use tracing::{debug, error, info};

use congvu_store::AccountId;

use super::{Action, Envelope, Session, State};
use crate::parse::{MailParams, ReversePath};
use crate::reply::Reply;

impl Session {
    pub(super) fn mail(&mut self, from: ReversePath, params: MailParams) -> Action {
        match self.check_mail(&from, &params) {
            Ok(sent_as_agency) => {
                let id = format!("{}.{}", self.id, self.transactions);
                self.transactions += 1;
                self.commands_without_mail = 0;
                self.state = State::Mail(Envelope {
                    id,
                    from,
                    params,
                    local: Vec::new(),
                    remote: Vec::new(),
                    remote_dsn: Vec::new(),
                    accepted: 0,
                    attempted: 0,
                    started: std::time::Instant::now(),
                    sent_as_agency,
                });
                Action::Reply(Reply::SENDER_OK)
            }
            Err(reply) => {
                debug!(from = %from, code = reply.code, "MAIL refused");
                Action::Reply(reply)
            }
        }
    }

    /// `Ok(Some(agency))` when a clerk sends as a delegated agency address.
    fn check_mail(&self, from: &ReversePath, params: &MailParams) -> Result<Option<AccountId>, Reply> {
        // RFC 5321 §4.1.4: a session with transactions starts with EHLO/HELO.
        let Some(greeting) = &self.helo else {
            return Err(Reply::HELO_FIRST);
        };
        if !matches!(self.state, State::Greeted) {
            return Err(Reply::NESTED_MAIL);
        }
        if self.kind.is_submission() {
            // RFC 3207 §4, RFC 6409 §4.3: submission needs TLS, then AUTH.
            if self.tls.is_none() {
                return Err(Reply::TLS_REQUIRED);
            }
            if self.auth.is_none() {
                return Err(Reply::AUTH_REQUIRED);
            }
        }
        // Parameters are ESMTP extensions, negotiated by EHLO only.
        if !greeting.extended && *params != MailParams::default() {
            return Err(Reply::UNKNOWN_PARAMETER);
        }
        // RFC 1870 §6.2: a declared size over the limit is refused at MAIL.
        if params
            .size
            .is_some_and(|size| size > self.ctx.config.max_message_bytes)
        {
            return Err(Reply::MESSAGE_TOO_BIG);
        }
        match (from, &self.auth) {
            (ReversePath::Mailbox(mailbox), _) if !mailbox.is_ascii() && !params.smtputf8 => {
                Err(Reply::NON_ASCII_WITHOUT_SMTPUTF8)
            }
            // Bounces come from servers, never from a person's mail client.
            (ReversePath::Null, Some(_)) => Err(Reply::NULL_SENDER_DENIED),
            // RFC 6409 §6.1: the submission server may check that the sender is
            // the authenticated user's own address — or, for a clerk, the agency
            // address delegated to them with sending (Art. 16.1).
            (ReversePath::Mailbox(mailbox), Some(account)) => {
                let sender = mailbox.to_string();
                match self.ctx.directory.may_submit_as(account, &sender) {
                    Ok(true) if self.ctx.directory.may_send_as(account, &sender) => Ok(None),
                    Ok(true) => {
                        // The Received header does not name the person: the log does.
                        info!(user = %account.address, from = %sender, "sending as a delegated agency");
                        match self.ctx.directory.lookup(&sender) {
                            Ok(agency) => Ok(agency.map(|record| record.account)),
                            Err(err) => {
                                error!(error = %err, "directory failure looking up the agency");
                                Err(Reply::LOCAL_ERROR)
                            }
                        }
                    }
                    Ok(false) => Err(Reply::SENDER_NOT_OWNED),
                    Err(err) => {
                        error!(error = %err, "directory failure checking the sender");
                        Err(Reply::LOCAL_ERROR)
                    }
                }
            }
            _ => Ok(None),
        }
    }
}
