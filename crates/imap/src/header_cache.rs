//! The header fields SEARCH, SORT and THREAD read, kept per message body (issue 13).
//!
//! SEARCH SUBJECT/FROM/…, SORT and THREAD look at a few header fields of every
//! message of the mailbox; reading each message's file for them made SEARCH SUBJECT
//! over 20,000 messages cost 126 ms against Dovecot's 33 ms with its cache file.
//! This cache keeps, per body, just those fields ([`CACHED_FIELDS`]) as a small
//! header block that [`crate::message::Message::parse`] reads like any message.
//!
//! Invariants:
//! 1. Bodies are immutable and named by their SHA-256, so an entry is never stale:
//!    nothing is ever invalidated, and one entry serves every mailbox holding the
//!    body (a message delivered to many officials is cached once).
//! 2. The cache holds at most its budget of bytes (`[imap] header_cache_mb`,
//!    entries counted with their overhead); when full, the oldest entries go first.
//! 3. A search that needs anything else (BODY, TEXT, HEADER of another field) reads
//!    the message, as before.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use congvu_store::BlobId;

use crate::message::header::fields;

/// The fields kept: what SEARCH's address, subject and date keys, SORT (RFC 5256,
/// RFC 5957) and THREAD (RFC 5256 §4) read. Lower case.
pub(crate) const CACHED_FIELDS: [&str; 11] = [
    "date",
    "subject",
    "from",
    "to",
    "cc",
    "bcc",
    "sender",
    "reply-to",
    "message-id",
    "in-reply-to",
    "references",
];

/// Bytes an entry costs besides its block (key, map and queue slots, Arc header).
const ENTRY_OVERHEAD: usize = 96;

pub(crate) struct HeaderCache {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    blocks: HashMap<BlobId, Arc<[u8]>>,
    /// Insertion order, for eviction.
    order: VecDeque<BlobId>,
    bytes: usize,
}

impl HeaderCache {
    /// A cache of at most `budget` bytes (0: nothing is kept).
    pub fn new(budget: usize) -> HeaderCache {
        HeaderCache {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn get(&self, blob: &BlobId) -> Option<Arc<[u8]>> {
        self.lock().blocks.get(blob).cloned()
    }

    /// Keeps `block` for `blob`, evicting the oldest entries to stay in budget.
    pub fn insert(&self, blob: BlobId, block: Arc<[u8]>) {
        let cost = block.len() + ENTRY_OVERHEAD;
        if cost > self.budget {
            return;
        }
        let mut inner = self.lock();
        if inner.blocks.contains_key(&blob) {
            return;
        }
        while inner.bytes + cost > self.budget {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.blocks.remove(&oldest) {
                inner.bytes -= gone.len() + ENTRY_OVERHEAD;
            }
        }
        inner.bytes += cost;
        inner.order.push_back(blob);
        inner.blocks.insert(blob, block);
    }

    /// Bytes held.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Holds only data whose every update completes under the lock.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The [`CACHED_FIELDS`] of `header` (a message's header block) as a header block of
/// their own, each field as it was written (folding kept), ended by the empty line.
pub(crate) fn cached_block(header: &[u8]) -> Arc<[u8]> {
    let mut block = Vec::new();
    for field in fields(header) {
        let name = field.name.to_ascii_lowercase();
        if CACHED_FIELDS.iter().any(|f| f.as_bytes() == name.as_slice()) {
            block.extend_from_slice(field.raw);
        }
    }
    block.extend_from_slice(b"\r\n");
    block.into()
}

/// Is `name` one of the [`CACHED_FIELDS`]?
pub(crate) fn is_cached(name: &str) -> bool {
    CACHED_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_keeps_the_searched_fields_as_written() {
        let header = b"Received: from x\r\nSubject: =?UTF-8?Q?C=C3=B4ng?=\r\n v\xc4\x83n\r\nFROM: a@b.vn\r\nX-Other: y\r\n\r\n";
        let block = cached_block(header);
        assert_eq!(
            &block[..],
            b"Subject: =?UTF-8?Q?C=C3=B4ng?=\r\n v\xc4\x83n\r\nFROM: a@b.vn\r\n\r\n"
        );
        assert!(is_cached("SUBJECT") && is_cached("references") && !is_cached("x-other"));
    }

    #[test]
    fn the_budget_holds_and_the_oldest_go_first() {
        let cache = HeaderCache::new(3 * (10 + ENTRY_OVERHEAD));
        let ids: Vec<BlobId> = (0..5u8).map(|n| BlobId::of(&[n])).collect();
        for id in &ids {
            cache.insert(*id, Arc::from(&b"0123456789"[..]));
            assert!(cache.bytes() <= 3 * (10 + ENTRY_OVERHEAD));
        }
        assert!(cache.get(&ids[0]).is_none() && cache.get(&ids[1]).is_none());
        assert!(ids[2..].iter().all(|id| cache.get(id).is_some()));
        // Larger than the whole budget: not kept at all.
        cache.insert(BlobId::of(b"big"), Arc::from(vec![0u8; 1000]));
        assert!(cache.get(&BlobId::of(b"big")).is_none());
        assert!(HeaderCache::new(0).get(&ids[0]).is_none());
    }
}
