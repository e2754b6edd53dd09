//! SEARCH and UID SEARCH (RFC 3501 §6.4.4). Criteria that only need the index
//! (flags, sizes, dates, sets) never read a message; the others read each
//! candidate's body once, on the blocking pool.
//!
//! `RETURN (…)` answers with one ESEARCH response (RFC 4731), tagged with the
//! command's tag as a quoted string — "New Outlook" matches on the quotes. A MODSEQ
//! criterion enables CONDSTORE and adds the highest modseq of the matches
//! (RFC 7162 §3.1.5) to either form.

use chrono::NaiveDate;
use congvu_store::{MailStore, StoreError};

use crate::codec::datetime::DateTime;
use crate::codec::response::{Code, write_string};
use crate::codec::search::SearchKey;
use crate::codec::sequence::Ranges;
use crate::codec::{SearchReturn, Tag};
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

fn has_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::And(keys) => keys.iter().any(has_modseq),
        SearchKey::Or(a, b) => has_modseq(a) || has_modseq(b),
        SearchKey::Not(k) => has_modseq(k),
        SearchKey::ModSeq(_) => true,
        _ => false,
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
            SearchKey::ModSeq(n) => meta.modseq >= *n,
        }
    }
}

/// One match: its sequence number or UID, and its modseq.
struct Found {
    number: u32,
    modseq: u64,
}

/// Runs the search over a snapshot; returns the matching sequence numbers or UIDs.
fn run(
    store: &dyn MailStore,
    entries: &[Entry],
    key: &SearchKey,
    uid: bool,
) -> congvu_store::Result<Vec<Found>> {
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
            found.push(Found {
                number: if uid { entry.meta.uid.get() } else { candidate.seq },
                modseq: entry.meta.modseq,
            });
        }
    }
    Ok(found)
}

/// `* SEARCH 2 5 [(MODSEQ m)]` (RFC 3501 §7.2.5, RFC 7162 §3.1.5).
fn search_response(found: &[Found], modseq: Option<u64>) -> String {
    let mut line = String::from("* SEARCH");
    for f in found {
        line.push(' ');
        line.push_str(&f.number.to_string());
    }
    if let Some(modseq) = modseq {
        line.push_str(&format!(" (MODSEQ {modseq})"));
    }
    line.push_str("\r\n");
    line
}

/// `* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [ALL set] [COUNT n] [MODSEQ m]`
/// (RFC 4731 §3.1). MIN, MAX and ALL are left out when nothing matched.
fn esearch_response(
    tag: &Tag,
    uid: bool,
    ret: &[SearchReturn],
    found: &[Found],
    modseq: Option<u64>,
) -> String {
    let mut line = String::from("* ESEARCH (TAG ");
    let mut quoted = Vec::new();
    write_string(&mut quoted, tag.as_str().as_bytes());
    line.push_str(&String::from_utf8_lossy(&quoted));
    line.push(')');
    if uid {
        line.push_str(" UID");
    }
    // RFC 4731 §3.1: an empty RETURN () means ALL.
    let all_only = [SearchReturn::All];
    let ret = if ret.is_empty() { &all_only[..] } else { ret };
    let numbers = || found.iter().map(|f| f.number);
    if ret.contains(&SearchReturn::Min)
        && let Some(min) = numbers().min()
    {
        line.push_str(&format!(" MIN {min}"));
    }
    if ret.contains(&SearchReturn::Max)
        && let Some(max) = numbers().max()
    {
        line.push_str(&format!(" MAX {max}"));
    }
    if ret.contains(&SearchReturn::All) && !found.is_empty() {
        let mut sorted: Vec<u32> = numbers().collect();
        sorted.sort_unstable();
        line.push_str(&format!(" ALL {}", Ranges::from_sorted(sorted)));
    }
    if ret.contains(&SearchReturn::Count) {
        line.push_str(&format!(" COUNT {}", found.len()));
    }
    if let Some(modseq) = modseq {
        line.push_str(&format!(" MODSEQ {modseq}"));
    }
    line.push_str("\r\n");
    line
}

/// The search as the client asked it.
pub(crate) struct SearchRequest {
    pub uid: bool,
    pub ret: Option<Vec<SearchReturn>>,
    pub charset: Option<String>,
    pub key: SearchKey,
}

impl Session {
    pub(crate) async fn op_search(&mut self, tag: &Tag, request: SearchRequest) -> Reply {
        let SearchRequest {
            uid,
            ret,
            charset,
            mut key,
        } = request;
        if charset.is_some_and(|c| !CHARSETS.iter().any(|known| known.eq_ignore_ascii_case(&c))) {
            return Reply::no(Some(Code::BadCharset), "Unsupported charset");
        }
        let with_modseq = has_modseq(&key);
        if with_modseq {
            self.enabled.condstore = true;
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
        let modseq = if with_modseq {
            found.iter().map(|f| f.modseq).max()
        } else {
            None
        };
        let line = match ret {
            Some(ret) => esearch_response(tag, uid, &ret, &found, modseq),
            None => search_response(&found, modseq),
        };
        self.conn.output.extend_from_slice(line.as_bytes());
        Reply::ok("SEARCH completed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(numbers: &[u32]) -> Vec<Found> {
        numbers
            .iter()
            .map(|n| Found {
                number: *n,
                modseq: u64::from(*n) * 10,
            })
            .collect()
    }

    #[test]
    fn esearch_forms() {
        use SearchReturn::*;
        let tag = Tag("A282".into());
        // (uid, RETURN options, matches, MODSEQ, response)
        type Case<'a> = (bool, &'a [SearchReturn], &'a [u32], Option<u64>, &'a str);
        let cases: &[Case<'_>] = &[
            // RFC 4731 §4 examples.
            (
                false,
                &[Min, Count],
                &[2, 10, 11],
                None,
                "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n",
            ),
            (
                false,
                &[All],
                &[2, 10, 11],
                None,
                "* ESEARCH (TAG \"A282\") ALL 2,10:11\r\n",
            ),
            (
                false,
                &[],
                &[1, 2, 3, 5],
                None,
                "* ESEARCH (TAG \"A282\") ALL 1:3,5\r\n",
            ),
            (true, &[Min, Max], &[], None, "* ESEARCH (TAG \"A282\") UID\r\n"),
            (
                true,
                &[Count],
                &[],
                None,
                "* ESEARCH (TAG \"A282\") UID COUNT 0\r\n",
            ),
            (
                true,
                &[Max],
                &[4, 9],
                Some(90),
                "* ESEARCH (TAG \"A282\") UID MAX 9 MODSEQ 90\r\n",
            ),
        ];
        for (uid, ret, numbers, modseq, want) in cases {
            assert_eq!(esearch_response(&tag, *uid, ret, &found(numbers), *modseq), *want);
        }
        assert_eq!(
            search_response(&found(&[2, 5, 6]), Some(917162500)),
            "* SEARCH 2 5 6 (MODSEQ 917162500)\r\n"
        );
        assert_eq!(search_response(&[], None), "* SEARCH\r\n");
    }
}
