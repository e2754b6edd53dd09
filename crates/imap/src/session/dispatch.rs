//! Command dispatch: the state check of RFC 3501 §6, the call into the command's
//! module, the mailbox sync that follows, and the tagged completion.

use tracing::debug;

use crate::codec::sequence::{MessageSet, SequenceSet};
use crate::codec::{Command, CommandBody};
use crate::op::{SearchRequest, SortRequest, StoreRequest, ThreadRequest};

use super::{Disconnect, Reply, Session, State};

/// In which states a command is valid (RFC 3501 §6.1–6.4, RFC 5161 §3.1).
enum Valid {
    Any,
    NotAuthenticated,
    /// Authenticated or Selected.
    Authenticated,
    /// Authenticated, before any SELECT (ENABLE).
    AuthenticatedOnly,
    Selected,
}

fn valid_in(body: &CommandBody) -> Valid {
    use CommandBody::*;
    match body {
        Capability | Noop | Logout | Id(_) => Valid::Any,
        StartTls | Login { .. } | Authenticate { .. } => Valid::NotAuthenticated,
        Enable(_) => Valid::AuthenticatedOnly,
        Check
        | Close
        | Unselect
        | Expunge(_)
        | Search { .. }
        | Fetch { .. }
        | Store { .. }
        | Copy { .. }
        | Move { .. }
        | Sort { .. }
        | Thread { .. } => Valid::Selected,
        Namespace
        | Select { .. }
        | Create { .. }
        | Delete(_)
        | Rename { .. }
        | Subscribe(_)
        | Unsubscribe(_)
        | List { .. }
        | Status { .. }
        | Append { .. }
        | Idle
        | Compress(_)
        | GetQuotaRoot(_)
        | GetQuota(_)
        | SetAcl { .. }
        | DeleteAcl { .. }
        | GetAcl(_)
        | ListRights { .. }
        | MyRights(_) => Valid::Authenticated,
    }
}

impl Session {
    /// The numbers a message-set argument stands for; `$` is the saved search
    /// result as it is now (RFC 5182 §2.1).
    fn message_set(&self, set: MessageSet, uid: bool) -> SequenceSet {
        match set {
            MessageSet::Numbers(set) => set,
            MessageSet::Saved => self
                .selected()
                .map(|selected| selected.saved_set(uid))
                .unwrap_or_else(|| SequenceSet::from_sorted([])),
        }
    }

    fn state_error(&self, body: &CommandBody) -> Option<Reply> {
        let (authenticated, selected) = match self.state {
            State::NotAuthenticated | State::Logout => (false, false),
            State::Authenticated(_) => (true, false),
            State::Selected(..) => (true, true),
        };
        let error = match valid_in(body) {
            Valid::Any => None,
            Valid::NotAuthenticated => authenticated.then_some("Already authenticated"),
            Valid::Authenticated => (!authenticated).then_some("Not authenticated"),
            Valid::AuthenticatedOnly if !authenticated => Some("Not authenticated"),
            Valid::AuthenticatedOnly => selected.then_some("Not allowed while a mailbox is selected"),
            Valid::Selected => (!selected).then_some("No mailbox selected"),
        };
        error.map(Reply::bad)
    }

    pub(super) async fn execute(&mut self, command: Command) -> Result<(), Disconnect> {
        let Command { tag, body } = command;
        self.commands += 1;
        debug!(tag = tag.as_str(), command = body.name(), "command");
        if let Some(reply) = self.state_error(&body) {
            return self.finish(&tag, reply);
        }
        // The login's credentials and a delegated mailbox's grant are used only while
        // they last (`Session::recheck_access`).
        self.recheck_access()?;
        // RFC 3501 §7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH (their
        // UID forms may have them); RFC 5256 §3 adds SORT and THREAD, whose numbers
        // would shift under the client. Client quirk, "EXISTS while a UID FETCH
        // runs": new mail is announced (EXISTS) after any command, UID FETCH
        // included, and clients syncing by UID expect it there; only expunges wait.
        let allow_expunge = !matches!(
            body,
            CommandBody::Fetch { uid: false, .. }
                | CommandBody::Store { uid: false, .. }
                | CommandBody::Search { uid: false, .. }
                | CommandBody::Sort { uid: false, .. }
                | CommandBody::Thread { uid: false, .. }
        );
        use CommandBody::*;
        let reply = match body {
            Capability => self.op_capability(),
            // Both only give the sync below a chance to announce changes (RFC 3501
            // §6.1.2, §6.4.1).
            Noop => Reply::ok("NOOP completed"),
            Check => Reply::ok("CHECK completed"),
            Logout => return self.op_logout(&tag),
            StartTls => return self.op_starttls(&tag).await,
            Compress(mechanism) => return self.op_compress(&tag, &mechanism).await,
            Login { username, password } => self.op_login(username, password).await?,
            Authenticate {
                mechanism,
                initial_response,
            } => self.op_authenticate(&mechanism, initial_response).await?,
            Enable(names) => self.op_enable(&names),
            Id(fields) => self.op_id(&fields),
            Namespace => self.op_namespace(),
            Select {
                mailbox,
                read_only,
                params,
            } => self.op_select(mailbox, read_only, params).await,
            Create { mailbox, special_use } => self.op_create(mailbox, &special_use).await,
            Delete(mailbox) => self.op_delete(mailbox).await,
            Rename { from, to } => self.op_rename(from, to).await,
            Subscribe(mailbox) => self.op_subscribe(mailbox, true).await,
            Unsubscribe(mailbox) => self.op_subscribe(mailbox, false).await,
            List {
                reference,
                patterns,
                subscribed_only,
                options,
            } => self.op_list(&reference, &patterns, subscribed_only, &options),
            Status { mailbox, items } => self.op_status(mailbox, &items),
            Append {
                mailbox,
                flags,
                date,
                message,
            } => self.op_append(mailbox, flags, date, message).await,
            Close => self.op_close().await,
            Unselect => self.op_unselect().await,
            Expunge(uids) => {
                let uids = uids.map(|set| self.message_set(set, true));
                self.op_expunge(uids).await
            }
            Search {
                uid,
                ret,
                charset,
                key,
            } => {
                let request = SearchRequest {
                    uid,
                    ret,
                    charset,
                    key,
                };
                self.op_search(&tag, request).await
            }
            Fetch {
                uid,
                set,
                attrs,
                changed_since,
                vanished,
            } => {
                let set = self.message_set(set, uid);
                self.op_fetch(uid, set, attrs, changed_since, vanished).await?
            }
            Store {
                uid,
                set,
                op,
                silent,
                flags,
                unchanged_since,
            } => {
                let request = StoreRequest {
                    uid,
                    set: self.message_set(set, uid),
                    op,
                    silent,
                    flags,
                    unchanged_since,
                };
                self.op_store(request).await
            }
            Copy { uid, set, mailbox } => {
                let set = self.message_set(set, uid);
                self.op_copy(uid, set, mailbox).await
            }
            Move { uid, set, mailbox } => {
                let set = self.message_set(set, uid);
                self.op_move(uid, set, mailbox).await
            }
            Idle => self.op_idle().await?,
            Sort {
                uid,
                criteria,
                charset,
                key,
            } => {
                let request = SortRequest {
                    uid,
                    criteria,
                    charset,
                    key,
                };
                self.op_sort(request).await
            }
            Thread {
                uid,
                algorithm,
                charset,
                key,
            } => {
                let request = ThreadRequest {
                    uid,
                    algorithm,
                    charset,
                    key,
                };
                self.op_thread(request).await
            }
            GetQuotaRoot(mailbox) => self.op_getquotaroot(mailbox),
            GetQuota(root) => self.op_getquota(&root),
            SetAcl {
                mailbox,
                identifier,
                change,
            } => self.op_setacl(mailbox, identifier, change).await,
            DeleteAcl { mailbox, identifier } => self.op_deleteacl(mailbox, identifier).await,
            GetAcl(mailbox) => self.op_getacl(mailbox),
            ListRights { mailbox, identifier } => self.op_listrights(mailbox, &identifier),
            MyRights(mailbox) => self.op_myrights(mailbox),
        };
        self.sync_selected(allow_expunge);
        self.finish(&tag, reply)
    }
}
