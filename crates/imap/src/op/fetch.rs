//! FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2).
//!
//! `\Seen` is set (outside EXAMINE) for every message whose body is fetched without
//! PEEK, durably and before the first response, and those messages get FLAGS in
//! their response even when not asked. Messages are read one at a time and the
//! output is flushed as it grows, so a large FETCH streams instead of piling up.
//!
//! A message another session expunged, not yet announced here (RFC 3501 §7.4.1
//! forbids EXPUNGE during FETCH), may have lost its body already. It gets no FETCH
//! response when its content is asked for; the others are answered, and the command
//! completes `OK [EXPUNGEISSUED]` (RFC 2180 §4.1, RFC 5530 §3), as Dovecot and Cyrus
//! do: a `NO` for the whole command would make clients give up on messages that are
//! there. Items that need no content (UID, FLAGS, …) come from the snapshot.
//!
//! CONDSTORE (RFC 7162 §3.1.4): `MODSEQ` and `(CHANGEDSINCE n)` enable it; with it
//! on, every response that carries flags carries MODSEQ too. `(VANISHED)` on UID
//! FETCH with QRESYNC on first lists the UIDs in the set expunged since `n`.

use congvu_directory::Rights;
use congvu_store::{FlagOp, FlagStore, Flags, MessageMeta, StoreError};

use crate::codec::datetime::DateTime;
use crate::codec::fetch::{FetchAttr, Partial, Section, SectionText};
use crate::codec::response::{Code, write_flags, write_literal, write_literal8, write_nstring};
use crate::codec::sequence::{Ranges, SequenceSet};
use crate::message::Message;
use crate::session::{Entry, OpResult, Reply, Session, State, store_failure};

/// Writes one message's FETCH response.
fn write_response(
    out: &mut Vec<u8>,
    seq: usize,
    entry: &Entry,
    attrs: &[FetchAttr],
    raw: Option<&[u8]>,
    add_flags: bool,
) {
    let meta = &entry.meta;
    let message = raw.map(Message::parse);
    out.extend_from_slice(format!("* {seq} FETCH (").as_bytes());
    for (i, attr) in attrs.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_item(out, attr, entry, message.as_ref(), raw.unwrap_or_default());
    }
    if add_flags {
        out.extend_from_slice(b" FLAGS ");
        write_flags(out, meta.flags, &meta.keywords, entry.recent);
    }
    out.extend_from_slice(b")\r\n");
}

fn write_item(out: &mut Vec<u8>, attr: &FetchAttr, entry: &Entry, message: Option<&Message<'_>>, raw: &[u8]) {
    let meta = &entry.meta;
    match attr {
        FetchAttr::Uid => out.extend_from_slice(format!("UID {}", meta.uid).as_bytes()),
        FetchAttr::ModSeq => out.extend_from_slice(format!("MODSEQ ({})", meta.modseq).as_bytes()),
        FetchAttr::Flags => {
            out.extend_from_slice(b"FLAGS ");
            write_flags(out, meta.flags, &meta.keywords, entry.recent);
        }
        FetchAttr::InternalDate => {
            let date = DateTime {
                unix: meta.internal_date,
                offset_secs: meta.internal_date_offset,
            };
            out.extend_from_slice(format!("INTERNALDATE {}", date.to_imap()).as_bytes());
        }
        FetchAttr::Rfc822Size => out.extend_from_slice(format!("RFC822.SIZE {}", meta.size).as_bytes()),
        FetchAttr::Envelope => {
            out.extend_from_slice(b"ENVELOPE ");
            if let Some(message) = message {
                message.write_envelope(out);
            }
        }
        FetchAttr::Body | FetchAttr::BodyStructure => {
            let extended = *attr == FetchAttr::BodyStructure;
            out.extend_from_slice(if extended { b"BODYSTRUCTURE " } else { b"BODY " });
            if let Some(message) = message {
                message.write_structure(out, extended);
            }
        }
        FetchAttr::Rfc822 => {
            out.extend_from_slice(b"RFC822 ");
            write_literal(out, raw);
        }
        FetchAttr::Rfc822Header | FetchAttr::Rfc822Text => {
            // RFC 3501 §6.4.5: BODY.PEEK[HEADER] and BODY[TEXT] under older names.
            let (name, text) = if *attr == FetchAttr::Rfc822Header {
                ("RFC822.HEADER ", SectionText::Header)
            } else {
                ("RFC822.TEXT ", SectionText::Text)
            };
            out.extend_from_slice(name.as_bytes());
            let section = Section {
                part: Vec::new(),
                text: Some(text),
            };
            let bytes = message.and_then(|m| m.section(&section));
            write_nstring(out, bytes.as_deref());
        }
        FetchAttr::Section { section, partial, .. } => {
            out.extend_from_slice(format!("BODY[{section}]").as_bytes());
            let bytes = message.and_then(|m| m.section(section));
            write_section_data(out, bytes.as_deref(), *partial, write_literal);
        }
        FetchAttr::Binary { part, partial, .. } => {
            out.extend_from_slice(format!("BINARY[{}]", dotted(part)).as_bytes());
            // An unknown encoding was refused before anything was written.
            let bytes = message.and_then(|m| m.binary(part).ok().flatten());
            write_section_data(out, bytes.as_deref(), *partial, write_literal8);
        }
        FetchAttr::BinarySize(part) => {
            let size = message
                .and_then(|m| m.binary(part).ok().flatten())
                .map_or(0, |bytes| bytes.len());
            out.extend_from_slice(format!("BINARY.SIZE[{}] {size}", dotted(part)).as_bytes());
        }
    }
}

/// `1.2.3`.
fn dotted(part: &[u32]) -> String {
    part.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
}

/// ` NIL`, ` {n}…`, or `<origin> {n}…` for a partial fetch.
fn write_section_data(
    out: &mut Vec<u8>,
    bytes: Option<&[u8]>,
    partial: Option<Partial>,
    literal: fn(&mut Vec<u8>, &[u8]),
) {
    match (bytes, partial) {
        (None, _) => out.extend_from_slice(b" NIL"),
        (Some(bytes), None) => {
            out.push(b' ');
            literal(out, bytes);
        }
        (Some(bytes), Some(partial)) => {
            // RFC 3501 §6.4.5: the response names only the origin; a start beyond
            // the end gives an empty string.
            let start = (partial.start as usize).min(bytes.len());
            let end = start.saturating_add(partial.length as usize).min(bytes.len());
            out.extend_from_slice(format!("<{}> ", partial.start).as_bytes());
            literal(out, &bytes[start..end]);
        }
    }
}

fn unknown_cte_reply() -> Reply {
    Reply::no(
        Some(Code::UnknownCte),
        "Cannot decode that part's content transfer encoding",
    )
}

/// RFC 3516 §4.3: a BINARY item on a part whose encoding cannot be undone fails
/// the whole FETCH.
fn unknown_cte(attrs: &[FetchAttr], raw: &[u8]) -> bool {
    let parts = attrs.iter().filter_map(|attr| match attr {
        FetchAttr::Binary { part, .. } | FetchAttr::BinarySize(part) => Some(part),
        _ => None,
    });
    let mut parts = parts.peekable();
    if parts.peek().is_none() {
        return false;
    }
    let message = Message::parse(raw);
    parts.any(|part| message.binary(part).is_err())
}

impl Session {
    pub(crate) async fn op_fetch(
        &mut self,
        uid: bool,
        set: SequenceSet,
        mut attrs: Vec<FetchAttr>,
        changed_since: Option<u64>,
        vanished: bool,
    ) -> OpResult {
        // RFC 7162 §3.2.6: VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC on.
        if vanished && !(uid && changed_since.is_some() && self.enabled.qresync) {
            return Ok(Reply::bad(
                "VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC",
            ));
        }
        if changed_since.is_some() || attrs.contains(&FetchAttr::ModSeq) {
            self.enabled.condstore = true;
        }
        let condstore = self.enabled.condstore;
        let Some(selected) = self.selected() else {
            return Ok(Reply::bad("No mailbox selected"));
        };
        let Ok(mut indices) = selected.resolve(&set, uid) else {
            return Ok(Reply::bad("Invalid message sequence number"));
        };
        // RFC 3501 §6.4.8: UID FETCH always answers with the UID.
        if uid && !attrs.contains(&FetchAttr::Uid) {
            attrs.insert(0, FetchAttr::Uid);
        }
        // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ; with CONDSTORE on, flags
        // always come with their modseq.
        let carries_flags = attrs.contains(&FetchAttr::Flags) || attrs.iter().any(FetchAttr::sets_seen);
        if !attrs.contains(&FetchAttr::ModSeq) && (changed_since.is_some() || (condstore && carries_flags)) {
            attrs.push(FetchAttr::ModSeq);
        }
        if let Some(since) = changed_since {
            indices.retain(|i| selected.messages.get(*i).is_some_and(|e| e.meta.modseq > since));
        }
        let mailbox = selected.id;
        if let (true, Some(since)) = (vanished, changed_since) {
            // `*` in a UID set is the largest UID in use, but an expunged message may
            // have had a larger one; the client asking `1:*` means all of them.
            let wanted = set.resolve(u32::MAX);
            let gone = match self
                .blocking(move |store| store.vanished_since(mailbox, since))
                .await
            {
                Ok(gone) => gone,
                Err(err) => return Ok(store_failure(&err)),
            };
            // One still in this session's snapshot is announced by the next
            // VANISHED, when its sequence number goes.
            let snapshot = self.selected();
            let gone = gone
                .into_iter()
                .filter(|u| wanted.contains(u.get()) && snapshot.is_none_or(|s| s.index_of(*u).is_none()))
                .map(|u| u.get());
            let gone = Ranges::from_sorted(gone).to_string();
            if !gone.is_empty() {
                let line = format!("* VANISHED (EARLIER) {gone}\r\n");
                self.conn.output.extend_from_slice(line.as_bytes());
            }
        }
        let Some(selected) = self.selected() else {
            return Ok(Reply::bad("No mailbox selected"));
        };
        // RFC 4314 §4: \Seen is set only with the `s` right.
        let keeps_seen = !selected.read_only && selected.rights.contains(Rights::SEEN);
        let unseen: Vec<_> = if keeps_seen && attrs.iter().any(FetchAttr::sets_seen) {
            indices
                .iter()
                .filter_map(|i| selected.messages.get(*i))
                .filter(|e| !e.meta.flags.contains(Flags::SEEN))
                .map(|e| e.meta.uid)
                .collect()
        } else {
            Vec::new()
        };
        // A FETCH refused for an unknown transfer encoding (below) must not have
        // set \Seen first: messages about to be marked are checked beforehand.
        let binary_sets_seen = attrs
            .iter()
            .any(|a| matches!(a, FetchAttr::Binary { peek: false, .. }));
        if binary_sets_seen && !unseen.is_empty() {
            let blobs: Vec<_> = indices
                .iter()
                .filter_map(|i| selected.messages.get(*i))
                .filter(|e| unseen.contains(&e.meta.uid))
                .map(|e| e.meta.blob)
                .collect();
            let wanted = attrs.clone();
            let refused = self
                .blocking(move |store| {
                    for blob in &blobs {
                        match store.read_blob(blob) {
                            Ok(raw) if unknown_cte(&wanted, &raw) => return Ok(true),
                            Ok(_) | Err(StoreError::NotFound(_)) => {}
                            Err(err) => return Err(err),
                        }
                    }
                    Ok(false)
                })
                .await;
            match refused {
                Ok(false) => {}
                Ok(true) => return Ok(unknown_cte_reply()),
                Err(err) => return Ok(store_failure(&err)),
            }
        }
        let mut seen_now: Vec<MessageMeta> = Vec::new();
        if !unseen.is_empty() {
            let stored = self
                .blocking(move |store| {
                    store.store_flags(
                        mailbox,
                        &FlagStore {
                            uids: &unseen,
                            op: FlagOp::Add,
                            flags: Flags::SEEN,
                            keywords: &[],
                            unchanged_since: None,
                        },
                    )
                })
                .await;
            match stored {
                Ok(outcome) => seen_now = outcome.changed,
                Err(err) => return Ok(store_failure(&err)),
            }
            if let State::Selected(_, selected) = &mut self.state {
                selected.apply_changes(&seen_now, &mut self.conn.output);
            }
        }
        let asks_flags = attrs.contains(&FetchAttr::Flags);
        let needs_content = attrs.iter().any(FetchAttr::needs_content);
        let mut expunged_elsewhere = false;
        for index in indices {
            let Some(entry) = self.selected().and_then(|s| s.messages.get(index)).cloned() else {
                continue;
            };
            let raw = if needs_content {
                let blob = entry.meta.blob;
                match self.blocking(move |store| store.read_blob(&blob)).await {
                    Ok(raw) => Some(raw),
                    // Expunged by another session and not yet announced here: no
                    // response for it (RFC 2180 §4.1), the rest is answered.
                    Err(StoreError::NotFound(_)) => {
                        expunged_elsewhere = true;
                        continue;
                    }
                    Err(err) => return Ok(store_failure(&err)),
                }
            } else {
                None
            };
            if raw.as_deref().is_some_and(|raw| unknown_cte(&attrs, raw)) {
                return Ok(unknown_cte_reply());
            }
            let add_flags = !asks_flags && seen_now.iter().any(|m| m.uid == entry.meta.uid);
            write_response(
                &mut self.conn.output,
                index + 1,
                &entry,
                &attrs,
                raw.as_deref(),
                add_flags,
            );
            self.conn.flush_if_large().await?;
        }
        if expunged_elsewhere {
            // RFC 5530 §3: EXPUNGEISSUED tells the client to NOOP for the EXPUNGE.
            return Ok(Reply::ok_code(
                Code::ExpungeIssued,
                "FETCH completed; some messages were expunged by another session",
            ));
        }
        Ok(Reply::ok("FETCH completed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use congvu_store::{BlobId, Uid};

    const RAW: &[u8] = b"From: a@b\r\nSubject: hi\r\n\r\nhello world\r\n";

    fn entry() -> Entry {
        Entry {
            meta: MessageMeta {
                uid: Uid::new(7).unwrap(),
                blob: BlobId::of(RAW),
                size: RAW.len() as u64,
                internal_date: 837_596_665,
                internal_date_offset: -25_200,
                flags: Flags::SEEN,
                keywords: vec!["$Forwarded".into()],
                modseq: 3,
            },
            recent: false,
        }
    }

    fn fetch(attrs: &[FetchAttr], add_flags: bool) -> String {
        let mut out = Vec::new();
        write_response(&mut out, 2, &entry(), attrs, Some(RAW), add_flags);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn simple_items() {
        assert_eq!(
            fetch(
                &[
                    FetchAttr::Uid,
                    FetchAttr::Flags,
                    FetchAttr::InternalDate,
                    FetchAttr::Rfc822Size
                ],
                false
            ),
            "* 2 FETCH (UID 7 FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 39)\r\n"
        );
    }

    #[test]
    fn body_items() {
        let section = |text, partial| FetchAttr::Section {
            peek: true,
            section: Section { part: vec![], text },
            partial,
        };
        assert_eq!(
            fetch(&[section(Some(SectionText::Text), None)], true),
            "* 2 FETCH (BODY[TEXT] {13}\r\nhello world\r\n FLAGS (\\Seen $Forwarded))\r\n"
        );
        assert_eq!(
            fetch(&[section(None, Some(Partial { start: 11, length: 9 }))], false),
            "* 2 FETCH (BODY[]<11> {9}\r\nSubject: )\r\n"
        );
        assert_eq!(
            fetch(
                &[section(
                    None,
                    Some(Partial {
                        start: 1000,
                        length: 9
                    })
                )],
                false
            ),
            "* 2 FETCH (BODY[]<1000> {0}\r\n)\r\n"
        );
        assert_eq!(
            fetch(
                &[FetchAttr::Section {
                    peek: false,
                    section: Section {
                        part: vec![2],
                        text: None
                    },
                    partial: None
                }],
                false
            ),
            "* 2 FETCH (BODY[2] NIL)\r\n"
        );
        assert_eq!(
            fetch(&[FetchAttr::Rfc822Header], false),
            "* 2 FETCH (RFC822.HEADER {26}\r\nFrom: a@b\r\nSubject: hi\r\n\r\n)\r\n"
        );
        assert!(fetch(&[FetchAttr::Rfc822], false).starts_with("* 2 FETCH (RFC822 {39}\r\nFrom: a@b"));
        assert!(
            fetch(&[FetchAttr::Envelope], false)
                .starts_with("* 2 FETCH (ENVELOPE (NIL \"hi\" ((NIL NIL \"a\" \"b\"))")
        );
        assert!(
            fetch(&[FetchAttr::BodyStructure], false)
                .starts_with("* 2 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\"")
        );
    }

    #[test]
    fn binary_items_use_literal8_only_for_nul() {
        let raw: &[u8] = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n\
aGk=\r\n--b\r\nContent-Transfer-Encoding: x-gzip64\r\n\r\nxx\r\n--b--\r\n";
        let binary = |part: Vec<u32>| FetchAttr::Binary {
            peek: true,
            part,
            partial: None,
        };
        let mut out = Vec::new();
        let attrs = [
            binary(vec![1]),
            binary(vec![2]),
            FetchAttr::BinarySize(vec![2]),
            binary(vec![9]),
        ];
        write_response(&mut out, 1, &entry(), &attrs, Some(raw), false);
        assert_eq!(
            out,
            b"* 1 FETCH (BINARY[1] ~{3}\r\n\x00\x01\x02 BINARY[2] {2}\r\nhi BINARY.SIZE[2] 2 BINARY[9] NIL)\r\n"
        );
        assert!(unknown_cte(&[binary(vec![3])], raw));
        assert!(!unknown_cte(&attrs, raw));
        assert!(!unknown_cte(&[FetchAttr::Flags], b"not even a message"));
    }
}
