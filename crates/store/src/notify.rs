//! Change notifications for IDLE and NOTIFY-style consumers, scoped per account, and
//! [`Changes`], what changed in one mailbox since a modseq
//! (`MailStore::changed_since`).
//!
//! ## Invariants
//! 1. A change is sent only to the subscribers of the account that owns the mailbox
//!    it happened in: an IDLE session wakes for its own account's mail, never for
//!    every account's.
//! 2. The hub holds a channel for an account only while that account has a
//!    [`Subscription`]: the first subscriber creates it, the last one to go removes
//!    it (its `Drop` checks under the hub's lock, which `subscribe` also holds), so
//!    the map never grows with the accounts that were once watched.
//! 3. A subscriber that falls more than [`CHANGE_CAPACITY`] changes behind sees
//!    `RecvError::Lagged` and must resynchronise from the store; it never sees a
//!    change out of order.
//! 4. [`ChangeHub::resync_all`] makes every subscriber see `Lagged`, as if it had
//!    fallen behind: a backend that may have lost changes (PostgreSQL's LISTEN
//!    connection broke and was made again) tells every reader to resynchronise.
//! 5. A change's text form (`Display`, `FromStr`: `account mailbox kind modseq`,
//!    what one PostgreSQL node tells the others) reads back to the same change, and
//!    nothing else reads as one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use crate::{AccountId, MailboxId, MailboxInfo, MessageMeta, Uid};

/// Changes buffered per account for slow subscribers before they see `Lagged`.
pub const CHANGE_CAPACITY: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Messages were appended/delivered.
    New,
    /// Flags changed.
    Flags,
    /// Messages were expunged.
    Expunge,
    /// A mailbox was created, deleted, renamed or (un)subscribed.
    MailboxList,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub account: AccountId,
    pub mailbox: MailboxId,
    pub kind: ChangeKind,
    /// HIGHESTMODSEQ of the mailbox after the change.
    pub modseq: u64,
}

impl ChangeKind {
    fn word(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Flags => "flags",
            ChangeKind::Expunge => "expunge",
            ChangeKind::MailboxList => "list",
        }
    }
}

/// `account mailbox kind modseq` (invariant 4).
impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Change {
            account,
            mailbox,
            kind,
            modseq,
        } = self;
        write!(f, "{} {} {} {modseq}", account.0, mailbox.0, kind.word())
    }
}

/// Text that is not a change's `Display` form.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a change: {0:?}")]
pub struct NotAChange(pub String);

impl std::str::FromStr for Change {
    type Err = NotAChange;

    fn from_str(text: &str) -> Result<Change, NotAChange> {
        let invalid = || NotAChange(text.chars().take(80).collect());
        // Only the digits `Display` writes: `u64::from_str` would take a `+` and
        // leading zeros too, and a change would have more than one spelling.
        let number = |field: Option<&str>| {
            field
                .filter(|f| f.bytes().all(|b| b.is_ascii_digit()))
                .filter(|f| *f == "0" || !f.starts_with('0'))
                .and_then(|f| f.parse::<u64>().ok())
                .ok_or_else(invalid)
        };
        let mut fields = text.split(' ');
        let account = AccountId(number(fields.next())?);
        let mailbox = MailboxId(number(fields.next())?);
        let kind = match fields.next() {
            Some("new") => ChangeKind::New,
            Some("flags") => ChangeKind::Flags,
            Some("expunge") => ChangeKind::Expunge,
            Some("list") => ChangeKind::MailboxList,
            _ => return Err(invalid()),
        };
        let modseq = number(fields.next())?;
        if fields.next().is_some() {
            return Err(invalid());
        }
        Ok(Change {
            account,
            mailbox,
            kind,
            modseq,
        })
    }
}

/// What changed in a mailbox after a modseq, up to the mailbox's HIGHESTMODSEQ as
/// read at the start (`mailbox.highestmodseq`). Writes that commit while it is read
/// may or may not show; a caller that goes on from `mailbox.highestmodseq` sees
/// them next time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changes {
    /// The mailbox record: HIGHESTMODSEQ, UIDNEXT, message count.
    pub mailbox: MailboxInfo,
    /// Messages appended or whose flags changed after the modseq, ascending by UID,
    /// as they are now.
    pub changed: Vec<MessageMeta>,
    /// UIDs expunged after the modseq, ascending.
    pub expunged: Vec<Uid>,
}

/// What a channel carries: a change, or word that changes may have been lost.
#[derive(Clone, Copy, Debug)]
enum Notice {
    Change(Change),
    /// Invariant 4: read as `Lagged`.
    Resync,
}

/// The per-account channels. Shared (`Arc`) with every [`Subscription`], whose
/// `Drop` removes the channel it leaves without receivers. Every backend has one;
/// a backend shared by several processes feeds it the changes the others made.
#[derive(Default)]
pub struct ChangeHub {
    senders: Mutex<HashMap<AccountId, broadcast::Sender<Notice>>>,
}

impl ChangeHub {
    fn senders(&self) -> MutexGuard<'_, HashMap<AccountId, broadcast::Sender<Notice>>> {
        self.senders.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every change committed from now on in the account's mailboxes.
    pub fn subscribe(self: &Arc<Self>, account: AccountId) -> Subscription {
        let receiver = self
            .senders()
            .entry(account)
            .or_insert_with(|| broadcast::channel(CHANGE_CAPACITY).0)
            .subscribe();
        Subscription {
            receiver: Some(receiver),
            account,
            hub: Arc::clone(self),
        }
    }

    /// Tells the account's subscribers, if it has any.
    pub fn send(&self, change: Change) {
        if let Some(sender) = self.senders().get(&change.account) {
            // No receiver left (one being dropped right now) is not an error.
            let _ = sender.send(Notice::Change(change));
        }
    }

    /// Tells every subscriber of every account to resynchronise (invariant 4).
    pub fn resync_all(&self) {
        for sender in self.senders().values() {
            let _ = sender.send(Notice::Resync);
        }
    }

    /// How many accounts have a channel (for the tests of invariant 2).
    #[cfg(test)]
    pub(crate) fn accounts(&self) -> usize {
        self.senders().len()
    }
}

/// A subscription to one account's changes (`MailStore::subscribe`).
pub struct Subscription {
    /// `Some` until `Drop`, which must drop it before it counts the receivers left.
    receiver: Option<broadcast::Receiver<Notice>>,
    account: AccountId,
    hub: Arc<ChangeHub>,
}

impl Subscription {
    /// The next change; `Lagged` when changes were lost to a slow reader or may
    /// have been lost by the backend (invariant 4): then resynchronise from the
    /// store. `Closed` when the store is gone.
    pub async fn recv(&mut self) -> Result<Change, RecvError> {
        match &mut self.receiver {
            Some(receiver) => match receiver.recv().await? {
                Notice::Change(change) => Ok(change),
                Notice::Resync => Err(RecvError::Lagged(0)),
            },
            None => Err(RecvError::Closed),
        }
    }

    /// The next change if one is waiting.
    pub fn try_recv(&mut self) -> Result<Change, TryRecvError> {
        match &mut self.receiver {
            Some(receiver) => match receiver.try_recv()? {
                Notice::Change(change) => Ok(change),
                Notice::Resync => Err(TryRecvError::Lagged(0)),
            },
            None => Err(TryRecvError::Closed),
        }
    }

    pub fn account(&self) -> AccountId {
        self.account
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut senders = self.hub.senders();
        // Dropped under the lock, so no `subscribe` can add a receiver between the
        // drop and the count.
        drop(self.receiver.take());
        if senders
            .get(&self.account)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            senders.remove(&self.account);
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_back_from_its_text() {
        let change = Change {
            account: AccountId(7),
            mailbox: MailboxId(42),
            kind: ChangeKind::Flags,
            modseq: 9,
        };
        assert_eq!(change.to_string(), "7 42 flags 9");
        assert_eq!(change.to_string().parse(), Ok(change));
        for bad in [
            "",
            "7 42 flags",
            "7 42 what 9",
            "7 42 new 9 extra",
            "x 42 new 9",
            "+7 42 new 9",
            "07 42 new 9",
            "7  42 new 9",
            "7 42 new 18446744073709551616",
        ] {
            assert!(bad.parse::<Change>().is_err(), "{bad}");
        }
    }

    fn change(account: u64, modseq: u64) -> Change {
        Change {
            account: AccountId(account),
            mailbox: MailboxId(account * 10),
            kind: ChangeKind::New,
            modseq,
        }
    }

    /// Invariant 1: account B's subscriber never sees account A's changes.
    #[test]
    fn changes_reach_only_their_account() {
        let hub = Arc::new(ChangeHub::default());
        let mut a = hub.subscribe(AccountId(1));
        let mut b = hub.subscribe(AccountId(2));
        hub.send(change(1, 2));
        assert_eq!(a.try_recv().unwrap(), change(1, 2));
        assert!(matches!(b.try_recv(), Err(TryRecvError::Empty)));
        hub.send(change(2, 5));
        assert_eq!(b.try_recv().unwrap(), change(2, 5));
        assert!(matches!(a.try_recv(), Err(TryRecvError::Empty)));
        // Nobody watches account 3: nothing is kept for it.
        hub.send(change(3, 2));
        assert_eq!(hub.accounts(), 2);
    }

    /// Invariant 4: every subscriber of every account sees `Lagged`, then changes
    /// again as before.
    #[test]
    fn resync_all_reads_as_lagged_everywhere() {
        let hub = Arc::new(ChangeHub::default());
        let mut a = hub.subscribe(AccountId(1));
        let mut b = hub.subscribe(AccountId(2));
        hub.resync_all();
        assert!(matches!(a.try_recv(), Err(TryRecvError::Lagged(_))));
        assert!(matches!(b.try_recv(), Err(TryRecvError::Lagged(_))));
        assert!(matches!(a.try_recv(), Err(TryRecvError::Empty)));
        hub.send(change(1, 3));
        assert_eq!(a.try_recv().unwrap(), change(1, 3));
        let mut waiting = hub.subscribe(AccountId(2));
        hub.resync_all();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert!(matches!(
            runtime.block_on(waiting.recv()),
            Err(RecvError::Lagged(_))
        ));
    }

    /// Invariant 2: the channel goes with the last subscriber, not before.
    #[test]
    fn the_map_empties_when_the_last_subscriber_goes() {
        let hub = Arc::new(ChangeHub::default());
        let first = hub.subscribe(AccountId(1));
        let mut second = hub.subscribe(AccountId(1));
        let other = hub.subscribe(AccountId(2));
        assert_eq!(hub.accounts(), 2);
        drop(first);
        assert_eq!(hub.accounts(), 2);
        hub.send(change(1, 3));
        assert_eq!(second.try_recv().unwrap(), change(1, 3));
        drop(second);
        assert_eq!(hub.accounts(), 1);
        drop(other);
        assert_eq!(hub.accounts(), 0);
        // A new subscriber gets a fresh channel.
        let mut again = hub.subscribe(AccountId(1));
        hub.send(change(1, 4));
        assert_eq!(again.try_recv().unwrap(), change(1, 4));
    }

    /// Invariant 3: a reader that fell behind learns it, then reads on in order.
    #[test]
    fn a_lagged_subscriber_is_told() {
        let hub = Arc::new(ChangeHub::default());
        let mut slow = hub.subscribe(AccountId(1));
        let total = CHANGE_CAPACITY as u64 + 5;
        for modseq in 0..total {
            hub.send(change(1, modseq));
        }
        assert!(matches!(slow.try_recv(), Err(TryRecvError::Lagged(5))));
        assert_eq!(slow.try_recv().unwrap(), change(1, 5));
    }
}
