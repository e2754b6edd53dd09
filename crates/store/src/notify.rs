//! Change notifications for IDLE and NOTIFY-style consumers.

use crate::{AccountId, MailboxId};

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
