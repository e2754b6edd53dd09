//! SEARCH and UID SEARCH (RFC 3501 §6.4.4). Criteria that only need the index
//! (flags, sizes, dates, sets) never read a message; the others read each
//! candidate's body once, on the blocking pool.

use chrono::NaiveDate;
use congvu_store::{MailStore, StoreError};

use crate::codec::datetime::DateTime;
use crate::codec::response::Code;
use crate::codec::search::SearchKey;
use crate::message::{Message, Searchable, normalize};
use crate::session::{Entry, Reply, Session, store_failure};

/// Charsets a search string may be given in (RFC 3501 §6.4.4: US-ASCII required;
/// UTF-8 is its superset and what clients send).
const CHARSETS: [&str; 2] = ["UTF-8", "US-ASCII"];

/// Brings every text argument to the form [`Searchable`] compares in.
fn normalize_key(key: &mut SearchKey) {
    match key {
        SearchKey::And(keys) => keys.iter_mut().for_each(normalize_key),
        SearchKey::Or(a, b) => {
            normalize_key(a);
            normalize_key(b);
        }
        SearchKey::Not(k) => normalize_key(k),
        SearchKey::Header(_, text) | SearchKey::Body(text) | SearchKey::Text(text) => *text = normalize(text),
        _ => {}
    }
}

fn needs_content(key: &SearchKey) -> bool {
    match key {
        SearchKey::And(keys) => keys.iter().any(needs_content),
        SearchKey::Or(a, b) => needs_content(a) || needs_content(b),
        SearchKey::Not(k) => needs_content(k),
        SearchKey::Header(..)
        | SearchKey::Body(_)
        | SearchKey::Text(_)
        | SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_) => true,
        _ => false,
    }
}

/// One message under test.
struct Candidate<'a> {
    seq: u32,
    entry: &'a Entry,
    exists: u32,
    max_uid: u32,
    content: Option<&'a Searchable<'a>>,
}

impl Candidate<'_> {
    fn internal_date(&self) -> Option<NaiveDate> {
        DateTime {
            unix: self.entry.meta.internal_date,
            offset_secs: self.entry.meta.internal_date_offset,
        }
        .local_date()
    }

    /// The Date: header's date; INTERNALDATE when there is none.
    fn sent_date(&self) -> Option<NaiveDate> {
        self.content
            .and_then(Searchable::sent_date)
            .or_else(|| self.internal_date())
    }

    fn matches(&self, key: &SearchKey) -> bool {
        let meta = &self.entry.meta;
        match key {
            SearchKey::All => true,
            SearchKey::And(keys) => keys.iter().all(|k| self.matches(k)),
            SearchKey::Or(a, b) => self.matches(a) || self.matches(b),
            SearchKey::Not(k) => !self.matches(k),
            SearchKey::Sequence(set) => set.resolve(self.exists).contains(self.seq),
            SearchKey::Uid(set) => set.resolve(self.max_uid).contains(meta.uid.get()),
            SearchKey::Flag(flag, set) => meta.flags.contains(*flag) == *set,
            SearchKey::Keyword(keyword, set) => {
                meta.keywords.iter().any(|k| k.eq_ignore_ascii_case(keyword)) == *set
            }
            SearchKey::Recent => self.entry.recent,
            SearchKey::New => self.entry.recent && !meta.flags.contains(congvu_store::Flags::SEEN),
            SearchKey::Old => !self.entry.recent,
            SearchKey::Larger(n) => meta.size > u64::from(*n),
            SearchKey::Smaller(n) => meta.size < u64::from(*n),
            SearchKey::Before(d) => self.internal_date().is_some_and(|date| date < *d),
            SearchKey::On(d) => self.internal_date().is_some_and(|date| date == *d),
            SearchKey::Since(d) => self.internal_date().is_some_and(|date| date >= *d),
            SearchKey::SentBefore(d) => self.sent_date().is_some_and(|date| date < *d),
            SearchKey::SentOn(d) => self.sent_date().is_some_and(|date| date == *d),
            SearchKey::SentSince(d) => self.sent_date().is_some_and(|date| date >= *d),
            SearchKey::Header(name, text) => self.content.is_some_and(|c| c.header_contains(name, text)),
            SearchKey::Body(text) => self.content.is_some_and(|c| c.body_contains(text)),
            SearchKey::Text(text) => self.content.is_some_and(|c| c.text_contains(text)),
        }
    }
}

/// Runs the search over a snapshot; returns the matching sequence numbers or UIDs.
fn run(
    store: &dyn MailStore,
    entries: &[Entry],
    key: &SearchKey,
    uid: bool,
) -> congvu_store::Result<Vec<u32>> {
    let exists = entries.len() as u32;
    let max_uid = entries.last().map_or(0, |e| e.meta.uid.get());
    let read = needs_content(key);
    let mut found = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let raw = if read {
            match store.read_blob(&entry.meta.blob) {
                Ok(raw) => Some(raw),
                // Expunged meanwhile: it matches nothing.
                Err(StoreError::NotFound(_)) => continue,
                Err(err) => return Err(err),
            }
        } else {
            None
        };
        let message = raw.as_deref().map(Message::parse);
        let searchable = message.as_ref().map(Message::searchable);
        let candidate = Candidate {
            seq: i as u32 + 1,
            entry,
            exists,
            max_uid,
            content: searchable.as_ref(),
        };
        if candidate.matches(key) {
            found.push(if uid { entry.meta.uid.get() } else { candidate.seq });
        }
    }
    Ok(found)
}

impl Session {
    pub(crate) async fn op_search(
        &mut self,
        uid: bool,
        charset: Option<String>,
        mut key: SearchKey,
    ) -> Reply {
        if charset.is_some_and(|c| !CHARSETS.iter().any(|known| known.eq_ignore_ascii_case(&c))) {
            return Reply::no(Some(Code::BadCharset), "Unsupported charset");
        }
        let Some(selected) = self.selected() else {
            return Reply::bad("No mailbox selected");
        };
        normalize_key(&mut key);
        let entries = selected.messages.clone();
        let found = match self.blocking(move |store| run(store, &entries, &key, uid)).await {
            Ok(found) => found,
            Err(err) => return store_failure(&err),
        };
        let mut line = String::from("* SEARCH");
        for n in found {
            line.push(' ');
            line.push_str(&n.to_string());
        }
        line.push_str("\r\n");
        self.conn.output.extend_from_slice(line.as_bytes());
        Reply::ok("SEARCH completed")
    }
}
