//! SEARCH and UID SEARCH (RFC 3501 §6.4.4). Criteria that only need the index
//! (flags, sizes, dates, sets) never read a message; the others read each
//! candidate's body once, on the blocking pool.
//!
//! `RETURN (…)` answers with one ESEARCH response (RFC 4731), tagged with the
//! command's tag as a quoted string — "New Outlook" matches on the quotes. A MODSEQ
//! criterion enables CONDSTORE and adds the highest modseq of the matches
//! (RFC 7162 §3.1.5) to either form.

use chrono::NaiveDate;
use std::sync::Arc;

use congvu_store::{MailStore, StoreError};

use crate::codec::datetime::DateTime;
use crate::codec::response::{Code, write_string};
use crate::codec::search::SearchKey;
use crate::codec::sequence::{Ranges, SequenceSet};
use crate::codec::{SearchReturn, Tag};
use crate::header_cache::{HeaderCache, cached_block, is_cached};
use crate::message::{Message, Searchable, normalize};
use crate::session::{Enabled, Entry, Reply, Session, State, store_failure};

/// Charsets a search string may be given in (RFC 3501 §6.4.4: US-ASCII required;
/// UTF-8 is its superset and what clients send).
const CHARSETS: [&str; 2] = ["UTF-8", "US-ASCII"];

/// Whether search strings may be given in `charset` (SEARCH, SORT, THREAD).
pub(super) fn known_charset(charset: &str) -> bool {
    CHARSETS.iter().any(|known| known.eq_ignore_ascii_case(charset))
}

/// RFC 6855 §3 (and erratum 4029): once UTF8=ACCEPT is on, strings are UTF-8, so a
/// CHARSET on SEARCH, or a SORT/THREAD charset other than UTF-8, conflicts: BAD.
/// IMAP4rev2 takes CHARSET UTF-8 and US-ASCII as before (RFC 9051 §6.4.4).
pub(super) fn charset_conflict(enabled: Enabled, charset: Option<&str>, mandatory: bool) -> Option<Reply> {
    if !enabled.utf8 || enabled.rev2 {
        return None;
    }
    match charset {
        Some(c) if mandatory && c.eq_ignore_ascii_case("UTF-8") => None,
        Some(_) => Some(Reply::bad("Charset conflicts with ENABLE UTF8=ACCEPT")),
        None => None,
    }
}

/// The charset check SEARCH, SORT and THREAD share: BAD on a conflict with
/// UTF8=ACCEPT, `NO [BADCHARSET]` (RFC 3501 §6.4.4) for one we cannot search in.
pub(super) fn check_charset(enabled: Enabled, charset: Option<&str>, mandatory: bool) -> Option<Reply> {
    charset_conflict(enabled, charset, mandatory).or_else(|| {
        charset
            .is_some_and(|c| !known_charset(c))
            .then(|| Reply::no(Some(Code::BadCharset), "Unsupported charset"))
    })
}

impl Session {
    /// The selected mailbox's messages as SEARCH, SORT and THREAD scan them, with
    /// `key` made ready for them by [`normalize_key`]; BAD without a selected mailbox.
    pub(super) fn search_snapshot(&self, key: &mut SearchKey) -> Result<Vec<Entry>, Reply> {
        let Some(selected) = self.selected() else {
            return Err(Reply::bad("No mailbox selected"));
        };
        normalize_key(key, &selected.saved_set(true));
        Ok(selected.messages.clone())
    }
}

/// Brings every text argument to the form [`Searchable`] compares in, and puts the
/// saved result's UIDs (`saved`) where the criteria say `$` (RFC 5182 §2.1).
pub(super) fn normalize_key(key: &mut SearchKey, saved: &SequenceSet) {
    match key {
        SearchKey::And(keys) => keys.iter_mut().for_each(|k| normalize_key(k, saved)),
        SearchKey::Or(a, b) => {
            normalize_key(a, saved);
            normalize_key(b, saved);
        }
        SearchKey::Not(k) => normalize_key(k, saved),
        SearchKey::Header(_, text)
        | SearchKey::Address(_, text)
        | SearchKey::Body(text)
        | SearchKey::Text(text) => *text = normalize(text),
        SearchKey::Saved => *key = SearchKey::Uid(saved.clone()),
        _ => {}
    }
}

pub(super) fn has_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::And(keys) => keys.iter().any(has_modseq),
        SearchKey::Or(a, b) => has_modseq(a) || has_modseq(b),
        SearchKey::Not(k) => has_modseq(k),
        SearchKey::ModSeq(_) => true,
        _ => false,
    }
}

/// Does `key` need more of a message than the cached header fields
/// (`header_cache::CACHED_FIELDS`)?
fn needs_whole_message(key: &SearchKey) -> bool {
    match key {
        SearchKey::And(keys) => keys.iter().any(needs_whole_message),
        SearchKey::Or(a, b) => needs_whole_message(a) || needs_whole_message(b),
        SearchKey::Not(k) => needs_whole_message(k),
        SearchKey::Header(name, _) => !is_cached(name),
        SearchKey::Body(_) | SearchKey::Text(_) => true,
        _ => false,
    }
}

fn needs_content(key: &SearchKey) -> bool {
    match key {
        SearchKey::And(keys) => keys.iter().any(needs_content),
        SearchKey::Or(a, b) => needs_content(a) || needs_content(b),
        SearchKey::Not(k) => needs_content(k),
        SearchKey::Header(..)
        | SearchKey::Address(..)
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
            SearchKey::Address(field, text) => self
                .content
                .is_some_and(|c| c.address_contains(field.header_name(), text)),
            SearchKey::Body(text) => self.content.is_some_and(|c| c.body_contains(text)),
            SearchKey::Text(text) => self.content.is_some_and(|c| c.text_contains(text)),
            SearchKey::ModSeq(n) => meta.modseq >= *n,
            // `normalize_key` has put the saved UIDs in its place.
            SearchKey::Saved => false,
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
    headers: &HeaderCache,
    entries: &[Entry],
    key: &SearchKey,
    uid: bool,
) -> congvu_store::Result<Vec<Found>> {
    scan(store, headers, entries, key, false, |seq, entry, _| Found {
        number: if uid { entry.meta.uid.get() } else { seq },
        modseq: entry.meta.modseq,
    })
}

/// Calls `keep` with the sequence number, entry and (when read) parsed message of
/// every message in the snapshot that matches `key`, in mailbox order. Messages are
/// read when the key needs them, or for every message when `read_all` (SORT and
/// THREAD reading headers). When only the cached header fields are needed, the
/// message handed over is those fields alone, from `headers` when they are there
/// (`header_cache`), and no file is read for it.
pub(super) fn scan<T>(
    store: &dyn MailStore,
    headers: &HeaderCache,
    entries: &[Entry],
    key: &SearchKey,
    read_all: bool,
    mut keep: impl FnMut(u32, &Entry, Option<&Message<'_>>) -> T,
) -> congvu_store::Result<Vec<T>> {
    let exists = entries.len() as u32;
    let max_uid = entries.last().map_or(0, |e| e.meta.uid.get());
    let read = read_all || needs_content(key);
    let whole = needs_whole_message(key);
    let mut found = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let bytes: Option<Arc<[u8]>> = if !read {
            None
        } else {
            let cached = headers.get(&entry.meta.blob);
            match cached {
                Some(block) if !whole => Some(block),
                _ => {
                    let raw = match store.read_blob(&entry.meta.blob) {
                        Ok(raw) => raw,
                        // Expunged meanwhile: it matches nothing.
                        Err(StoreError::NotFound(_)) => continue,
                        Err(err) => return Err(err),
                    };
                    // The fields are cut out once per body, not per search.
                    let block = cached.unwrap_or_else(|| {
                        let block = cached_block(Message::parse(&raw).header());
                        headers.insert(entry.meta.blob, block.clone());
                        block
                    });
                    Some(if whole { Arc::from(raw) } else { block })
                }
            }
        };
        let message = bytes.as_deref().map(Message::parse);
        let searchable = message.as_ref().map(Message::searchable);
        let candidate = Candidate {
            seq: i as u32 + 1,
            entry,
            exists,
            max_uid,
            content: searchable.as_ref(),
        };
        if candidate.matches(key) {
            found.push(keep(candidate.seq, entry, message.as_ref()));
        }
    }
    Ok(found)
}

/// What `SEARCH RETURN (SAVE …)` keeps (RFC 5182 §2.4): with MIN and/or MAX as the
/// only other options just those messages, otherwise every match. `ret` is the
/// option list without SAVE; the numbers come in the order of `found` (ascending).
fn saved_numbers(ret: &[SearchReturn], found: &[Found]) -> Vec<u32> {
    let extremes_only = !ret.is_empty()
        && ret
            .iter()
            .all(|r| matches!(r, SearchReturn::Min | SearchReturn::Max));
    if !extremes_only {
        return found.iter().map(|f| f.number).collect();
    }
    let min = found.first().filter(|_| ret.contains(&SearchReturn::Min));
    let max = found.last().filter(|_| ret.contains(&SearchReturn::Max));
    let mut kept: Vec<u32> = min.into_iter().chain(max).map(|f| f.number).collect();
    kept.dedup();
    kept
}

/// The MODSEQ a SEARCH with a MODSEQ criterion reports (RFC 7162 §3.1.5): the
/// highest mod-sequence of the messages returned. With RETURN (MIN and/or MAX)
/// and neither ALL nor COUNT, only those one or two messages are returned, so
/// only their mod-sequences count (RFC 4731 §3.2). `ret` is the RETURN list, SAVE
/// included or not; `found` is in ascending order.
fn reported_modseq(ret: Option<&[SearchReturn]>, found: &[Found]) -> Option<u64> {
    let extremes_only = ret.is_some_and(|ret| {
        ret.iter()
            .any(|r| matches!(r, SearchReturn::Min | SearchReturn::Max))
            && !ret
                .iter()
                .any(|r| matches!(r, SearchReturn::All | SearchReturn::Count))
    });
    if !extremes_only {
        return found.iter().map(|f| f.modseq).max();
    }
    let ret = ret.unwrap_or_default();
    let min = found.first().filter(|_| ret.contains(&SearchReturn::Min));
    let max = found.last().filter(|_| ret.contains(&SearchReturn::Max));
    min.into_iter().chain(max).map(|f| f.modseq).max()
}

/// `* SEARCH 2 5 [(MODSEQ m)]` (RFC 3501 §7.2.5, RFC 7162 §3.1.5), and SORT's
/// `* SORT 2 3 1 [(MODSEQ m)]` (RFC 5256 §4) of the same shape.
pub(super) fn numbers_response(
    name: &str,
    numbers: impl IntoIterator<Item = u32>,
    modseq: Option<u64>,
) -> String {
    let mut line = format!("* {name}");
    for number in numbers {
        line.push(' ');
        line.push_str(&number.to_string());
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
    /// Keeps a search result for `$` (RFC 5182 §2.1): UIDs, ascending.
    fn save_result(&mut self, uids: Vec<u32>) {
        if let State::Selected(_, selected) = &mut self.state {
            selected.saved = uids;
        }
    }

    pub(crate) async fn op_search(&mut self, tag: &Tag, request: SearchRequest) -> Reply {
        let SearchRequest {
            uid,
            ret,
            charset,
            mut key,
        } = request;
        let save = ret.as_ref().is_some_and(|ret| ret.contains(&SearchReturn::Save));
        if let Some(reply) = check_charset(self.enabled, charset.as_deref(), false) {
            // RFC 5182 §2.1: a failed SEARCH (SAVE) leaves an empty result.
            if save {
                self.save_result(Vec::new());
            }
            return reply;
        }
        let with_modseq = has_modseq(&key);
        if with_modseq {
            self.enabled.condstore = true;
        }
        let entries = match self.search_snapshot(&mut key) {
            Ok(entries) => entries,
            Err(reply) => return reply,
        };
        let headers = self.ctx.headers.clone();
        let found = match self
            .blocking(move |store| run(store, &headers, &entries, &key, uid))
            .await
        {
            Ok(found) => found,
            Err(err) => {
                if save {
                    self.save_result(Vec::new());
                }
                return store_failure(&err);
            }
        };
        let modseq = if with_modseq {
            reported_modseq(ret.as_deref(), &found)
        } else {
            None
        };
        let line = match ret {
            Some(mut ret) if save => {
                ret.retain(|r| *r != SearchReturn::Save);
                let kept = saved_numbers(&ret, &found);
                let uids = match self.selected() {
                    Some(selected) if !uid => kept
                        .into_iter()
                        .filter_map(|seq| selected.messages.get(seq.checked_sub(1)? as usize))
                        .map(|e| e.meta.uid.get())
                        .collect(),
                    _ => kept,
                };
                self.save_result(uids);
                // RFC 5182 §2.4: SAVE alone is answered by nothing but the OK.
                if ret.is_empty() {
                    String::new()
                } else {
                    esearch_response(tag, uid, &ret, &found, modseq)
                }
            }
            Some(ret) => esearch_response(tag, uid, &ret, &found, modseq),
            // RFC 9051 §6.4.4: IMAP4rev2 answers every SEARCH with ESEARCH.
            None if self.enabled.rev2 => esearch_response(tag, uid, &[], &found, modseq),
            None => numbers_response("SEARCH", found.iter().map(|f| f.number), modseq),
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
            numbers_response("SEARCH", [2, 5, 6], Some(917162500)),
            "* SEARCH 2 5 6 (MODSEQ 917162500)\r\n"
        );
        assert_eq!(numbers_response("SEARCH", [], None), "* SEARCH\r\n");
    }

    /// RFC 7162 §3.1.5 and RFC 4731 §3.2: the MODSEQ of an ESEARCH with MIN or MAX
    /// alone is that of the message(s) returned, not of every match.
    #[test]
    fn modseq_of_returned_messages() {
        use SearchReturn::*;
        let with = |numbers: &[(u32, u64)]| -> Vec<Found> {
            numbers
                .iter()
                .map(|&(number, modseq)| Found { number, modseq })
                .collect()
        };
        // Messages 1..4 changed in the order 1, 3, 2, 4 (imaptest's esearch-condstore).
        let matches = with(&[(1, 11), (2, 13), (3, 12)]);
        assert_eq!(reported_modseq(Some(&[Min]), &matches), Some(11));
        assert_eq!(reported_modseq(Some(&[Max]), &matches), Some(12));
        assert_eq!(
            reported_modseq(Some(&[Min, Max]), &with(&[(2, 13), (3, 12)])),
            Some(13)
        );
        assert_eq!(reported_modseq(Some(&[Min, Save]), &matches), Some(11));
        assert_eq!(reported_modseq(Some(&[Min, Count]), &matches), Some(13));
        assert_eq!(reported_modseq(Some(&[Max, All]), &matches), Some(13));
        assert_eq!(reported_modseq(Some(&[]), &matches), Some(13));
        assert_eq!(reported_modseq(None, &matches), Some(13));
        assert_eq!(reported_modseq(Some(&[Min]), &[]), None);
    }

    /// RFC 5182 §2.4: SAVE with only MIN/MAX keeps those; with anything else, all.
    #[test]
    fn what_save_keeps() {
        use SearchReturn::*;
        let matches = found(&[3, 7, 9]);
        assert_eq!(saved_numbers(&[], &matches), [3, 7, 9]);
        assert_eq!(saved_numbers(&[Min], &matches), [3]);
        assert_eq!(saved_numbers(&[Max], &matches), [9]);
        assert_eq!(saved_numbers(&[Min, Max], &matches), [3, 9]);
        assert_eq!(saved_numbers(&[Min, Count], &matches), [3, 7, 9]);
        assert_eq!(saved_numbers(&[All], &matches), [3, 7, 9]);
        assert_eq!(saved_numbers(&[Min, Max], &found(&[5])), [5]);
        assert!(saved_numbers(&[Min], &[]).is_empty());
    }

    #[test]
    fn charset_labels_after_utf8_accept() {
        let rev1 = Enabled::default();
        let utf8 = Enabled {
            utf8: true,
            ..Enabled::default()
        };
        let rev2 = Enabled {
            utf8: true,
            rev2: true,
            ..Enabled::default()
        };
        assert!(charset_conflict(rev1, Some("UTF-8"), false).is_none());
        assert!(charset_conflict(utf8, None, false).is_none());
        assert!(charset_conflict(utf8, Some("UTF-8"), false).is_some());
        assert!(charset_conflict(utf8, Some("utf-8"), true).is_none());
        assert!(charset_conflict(utf8, Some("US-ASCII"), true).is_some());
        assert!(charset_conflict(rev2, Some("UTF-8"), false).is_none());
        assert!(charset_conflict(rev2, Some("US-ASCII"), true).is_none());
    }

    #[test]
    fn saved_result_replaces_dollar() {
        let saved = SequenceSet::from_sorted([4, 6]);
        let mut key = SearchKey::And(vec![SearchKey::Not(Box::new(SearchKey::Saved)), SearchKey::All]);
        normalize_key(&mut key, &saved);
        assert_eq!(
            key,
            SearchKey::And(vec![
                SearchKey::Not(Box::new(SearchKey::Uid(saved))),
                SearchKey::All
            ])
        );
    }
}
