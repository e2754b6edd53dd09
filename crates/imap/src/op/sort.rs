//! SORT and UID SORT (RFC 5256 §3), with DISPLAYFROM and DISPLAYTO (RFC 5957).
//!
//! The matching messages are found as SEARCH finds them; their header is read
//! only when a criterion needs it (ARRIVAL and SIZE come from the index). Strings
//! compare with the i;unicode-casemap collation (RFC 5051), as Dovecot sorts: on
//! ASCII it is RFC 5256's default i;ascii-casemap, and Vietnamese names with their
//! diacritics sort among their base letters whatever their case or normal form.
//! Messages equal on every criterion keep mailbox order, which REVERSE does not
//! change.

use std::cmp::Ordering;

use crate::codec::search::SearchKey;
use crate::codec::sort::{SortCriterion, SortKey};
use crate::message::{Message, Summary, unicode_casemap};
use crate::session::{Entry, Reply, Session, store_failure};

use super::search::{check_charset, has_modseq, numbers_response, scan};

/// The sort as the client asked it.
pub(crate) struct SortRequest {
    pub uid: bool,
    pub criteria: Vec<SortKey>,
    pub charset: String,
    pub key: SearchKey,
}

/// One matching message and the values it sorts on, strings case-mapped.
#[derive(Clone, Debug, Default)]
struct Row {
    /// The number answered: sequence number or UID.
    number: u32,
    seq: u32,
    modseq: u64,
    arrival: i64,
    size: u64,
    /// RFC 5256 §2.2: the Date: header in UTC, else INTERNALDATE.
    sent: i64,
    subject: String,
    from: String,
    to: String,
    cc: String,
    display_from: String,
    display_to: String,
}

impl Row {
    fn new(number: u32, seq: u32, entry: &Entry, summary: Option<Summary>) -> Row {
        let meta = &entry.meta;
        let mut row = Row {
            number,
            seq,
            modseq: meta.modseq,
            arrival: meta.internal_date,
            size: meta.size,
            sent: meta.internal_date,
            ..Row::default()
        };
        if let Some(s) = summary {
            row.sent = s.sent.unwrap_or(meta.internal_date);
            row.subject = unicode_casemap(&s.subject.text);
            row.from = unicode_casemap(&s.from);
            row.to = unicode_casemap(&s.to);
            row.cc = unicode_casemap(&s.cc);
            row.display_from = unicode_casemap(&s.display_from);
            row.display_to = unicode_casemap(&s.display_to);
        }
        row
    }

    fn compare(&self, other: &Row, criteria: &[SortKey]) -> Ordering {
        use SortCriterion::*;
        criteria
            .iter()
            .map(|key| {
                let order = match key.criterion {
                    Arrival => self.arrival.cmp(&other.arrival),
                    Cc => self.cc.cmp(&other.cc),
                    Date => self.sent.cmp(&other.sent),
                    From => self.from.cmp(&other.from),
                    Size => self.size.cmp(&other.size),
                    Subject => self.subject.cmp(&other.subject),
                    To => self.to.cmp(&other.to),
                    DisplayFrom => self.display_from.cmp(&other.display_from),
                    DisplayTo => self.display_to.cmp(&other.display_to),
                };
                if key.reverse { order.reverse() } else { order }
            })
            .find(|order| order.is_ne())
            .unwrap_or(Ordering::Equal)
            // RFC 5256 §3: ties go by sequence number, whatever REVERSE says.
            .then(self.seq.cmp(&other.seq))
    }
}

fn needs_header(criteria: &[SortKey]) -> bool {
    criteria
        .iter()
        .any(|k| !matches!(k.criterion, SortCriterion::Arrival | SortCriterion::Size))
}

impl Session {
    pub(crate) async fn op_sort(&mut self, request: SortRequest) -> Reply {
        let SortRequest {
            uid,
            criteria,
            charset,
            mut key,
        } = request;
        if let Some(reply) = check_charset(self.enabled, Some(&charset), true) {
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
        let read = needs_header(&criteria);
        let headers = self.ctx.headers.clone();
        let rows = self
            .blocking(move |store| {
                scan(store, &headers, &entries, &key, read, |seq, entry, message| {
                    let number = if uid { entry.meta.uid.get() } else { seq };
                    Row::new(number, seq, entry, message.map(Message::summary))
                })
            })
            .await;
        let mut rows = match rows {
            Ok(rows) => rows,
            Err(err) => return store_failure(&err),
        };
        rows.sort_by(|a, b| a.compare(b, &criteria));
        let modseq = if with_modseq {
            rows.iter().map(|r| r.modseq).max()
        } else {
            None
        };
        self.conn
            .output
            .extend_from_slice(numbers_response("SORT", rows.iter().map(|r| r.number), modseq).as_bytes());
        Reply::ok("SORT completed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::sort::SortCriterion::*;

    fn row(seq: u32, arrival: i64, size: u64, sent: i64, subject: &str, from: &str) -> Row {
        Row {
            number: seq * 10,
            seq,
            arrival,
            size,
            sent,
            subject: subject.to_ascii_uppercase(),
            from: from.to_ascii_uppercase(),
            ..Row::default()
        }
    }

    fn sorted(rows: &[Row], criteria: &[(SortCriterion, bool)]) -> Vec<u32> {
        let criteria: Vec<SortKey> = criteria
            .iter()
            .map(|(criterion, reverse)| SortKey {
                criterion: *criterion,
                reverse: *reverse,
            })
            .collect();
        let mut rows = rows.to_vec();
        rows.sort_by(|a, b| a.compare(b, &criteria));
        rows.iter().map(|r| r.seq).collect()
    }

    #[test]
    fn criteria_reverse_and_ties() {
        let rows = [
            row(1, 300, 10, 5, "beta", "zed"),
            row(2, 100, 30, 5, "Alpha", "amy"),
            row(3, 200, 20, 1, "alpha", "Bob"),
            row(4, 200, 10, 9, "", "amy"),
        ];
        assert_eq!(sorted(&rows, &[(Arrival, false)]), [2, 3, 4, 1]);
        assert_eq!(sorted(&rows, &[(Arrival, true)]), [1, 3, 4, 2]);
        assert_eq!(sorted(&rows, &[(Size, false)]), [1, 4, 3, 2]);
        // Equal subjects (case-mapped) keep mailbox order, REVERSE or not.
        assert_eq!(sorted(&rows, &[(Subject, false)]), [4, 2, 3, 1]);
        assert_eq!(sorted(&rows, &[(Subject, true)]), [1, 2, 3, 4]);
        assert_eq!(sorted(&rows, &[(Date, false)]), [3, 1, 2, 4]);
        assert_eq!(sorted(&rows, &[(From, false), (Date, true)]), [4, 2, 3, 1]);
        assert_eq!(sorted(&rows, &[(Subject, false), (Size, true)]), [4, 2, 3, 1]);
        // Fields never set compare equal: mailbox order.
        assert_eq!(sorted(&rows, &[(Cc, false), (To, true)]), [1, 2, 3, 4]);
    }

    #[test]
    fn header_criteria_need_the_message() {
        let key = |criterion| SortKey {
            criterion,
            reverse: false,
        };
        assert!(!needs_header(&[key(Arrival), key(Size)]));
        assert!(needs_header(&[key(Size), key(DisplayFrom)]));
    }

    #[test]
    fn response_form() {
        let rows = [row(2, 0, 0, 0, "", ""), row(1, 0, 0, 0, "", "")];
        assert_eq!(
            numbers_response("SORT", rows.iter().map(|r| r.number), None),
            "* SORT 20 10\r\n"
        );
        assert_eq!(
            numbers_response("SORT", [rows[0].number], Some(7)),
            "* SORT 20 (MODSEQ 7)\r\n"
        );
        assert_eq!(numbers_response("SORT", [], None), "* SORT\r\n");
    }
}
