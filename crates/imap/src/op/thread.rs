//! THREAD and UID THREAD (RFC 5256 §3, §4): THREAD=ORDEREDSUBJECT and
//! THREAD=REFERENCES.
//!
//! The algorithms work on [`Item`]s (what each matching message's header says)
//! and build a forest of containers in an arena; nothing here does I/O. Trees are
//! walked with explicit stacks, never recursion: a reply chain as long as the
//! mailbox must not exhaust the stack.

use std::collections::HashMap;

use crate::codec::search::SearchKey;
use crate::codec::sort::ThreadAlgorithm;
use crate::message::Message;
use crate::session::{Reply, Session, store_failure};

use super::search::{check_charset, scan};

/// The thread request as the client asked it.
pub(crate) struct ThreadRequest {
    pub uid: bool,
    pub algorithm: ThreadAlgorithm,
    pub charset: String,
    pub key: SearchKey,
}

/// One matching message as the algorithms see it.
#[derive(Clone, Debug, Default)]
struct Item {
    /// The number answered: sequence number or UID.
    number: u32,
    seq: u32,
    /// RFC 5256 §2.2 sent date: Date: in UTC, else INTERNALDATE.
    sent: i64,
    /// The base subject (RFC 5256 §2.1), case-mapped for comparison.
    subject: String,
    reply_or_forward: bool,
    message_id: Option<String>,
    references: Vec<String>,
}

impl Item {
    /// Sent date, ties broken by mailbox order (RFC 5256 §2.2).
    fn date_key(&self) -> (i64, u32) {
        (self.sent, self.seq)
    }
}

/// A message, or a dummy standing for a message that is referenced but absent.
#[derive(Clone, Debug, Default)]
struct Container {
    item: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// The threads: containers in an arena and the top-level ones, in order.
struct Forest<'a> {
    items: &'a [Item],
    arena: Vec<Container>,
    roots: Vec<usize>,
}

impl<'a> Forest<'a> {
    fn new(items: &'a [Item]) -> Forest<'a> {
        Forest {
            items,
            arena: Vec::with_capacity(items.len()),
            roots: Vec::new(),
        }
    }

    fn add(&mut self, item: Option<usize>) -> usize {
        self.arena.push(Container {
            item,
            ..Container::default()
        });
        self.arena.len() - 1
    }

    fn is_dummy(&self, c: usize) -> bool {
        self.arena[c].item.is_none()
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.arena[child].parent = Some(parent);
        self.arena[parent].children.push(child);
    }

    fn unlink(&mut self, child: usize) {
        if let Some(parent) = self.arena[child].parent.take() {
            self.arena[parent].children.retain(|c| *c != child);
        }
    }

    /// Whether `a` is `b` or one of its ancestors: making `a` a child of `b`
    /// would close a loop.
    fn is_ancestor_or_self(&self, a: usize, b: usize) -> bool {
        // A childless container is nobody's ancestor: this keeps a mailbox-long
        // reply chain, linked in order, linear.
        if self.arena[a].children.is_empty() {
            return a == b;
        }
        let mut at = Some(b);
        while let Some(c) = at {
            if c == a {
                return true;
            }
            at = self.arena[c].parent;
        }
        false
    }

    /// The date a container sorts by; a dummy's is its first child's (RFC 5256
    /// §4 steps 4 and 6), so its children must be sorted first.
    fn date_key(&self, c: usize) -> (i64, u32) {
        let mut c = c;
        loop {
            match self.arena[c].item {
                Some(item) => return self.items[item].date_key(),
                None => match self.arena[c].children.first() {
                    Some(first) => c = *first,
                    None => return (i64::MIN, 0),
                },
            }
        }
    }

    /// Every container under `roots`, children before their parent.
    fn post_order(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.arena.len());
        let mut stack: Vec<(usize, bool)> = self.roots.iter().rev().map(|c| (*c, false)).collect();
        while let Some((c, expanded)) = stack.pop() {
            if expanded {
                out.push(c);
            } else {
                stack.push((c, true));
                stack.extend(self.arena[c].children.iter().rev().map(|k| (*k, false)));
            }
        }
        out
    }

    /// Sorts every set of siblings, the top level included, by sent date, the
    /// deepest first (RFC 5256 §4 step 6).
    fn sort_by_date(&mut self) {
        for c in self.post_order() {
            let mut children = std::mem::take(&mut self.arena[c].children);
            children.sort_by_key(|k| self.date_key(*k));
            self.arena[c].children = children;
        }
        let mut roots = std::mem::take(&mut self.roots);
        roots.sort_by_key(|c| self.date_key(*c));
        self.roots = roots;
    }

    /// The base subject of a top-level container: its message's, or a dummy's
    /// first child's (RFC 5256 §4 step 5.B.i).
    fn thread_subject(&self, c: usize) -> &'a str {
        let c = if self.is_dummy(c) {
            self.arena[c].children.first().copied().unwrap_or(c)
        } else {
            c
        };
        self.arena[c]
            .item
            .map_or("", |item| self.items[item].subject.as_str())
    }

    fn is_reply(&self, c: usize) -> bool {
        self.arena[c]
            .item
            .is_some_and(|item| self.items[item].reply_or_forward)
    }

    /// The threads as the THREAD response writes them (RFC 5256 §4):
    /// `(2)(3 6 (4 23)(44 7 96))`.
    fn write(&self, out: &mut String) {
        enum Work {
            Thread(usize),
            Close,
        }
        let mut stack: Vec<Work> = self.roots.iter().rev().map(|c| Work::Thread(*c)).collect();
        while let Some(work) = stack.pop() {
            let Work::Thread(c) = work else {
                out.push(')');
                continue;
            };
            out.push('(');
            let mut at = c;
            let mut first = true;
            loop {
                if let Some(item) = self.arena[at].item {
                    if !first {
                        out.push(' ');
                    }
                    out.push_str(&self.items[item].number.to_string());
                    first = false;
                }
                match self.arena[at].children.as_slice() {
                    [] => {
                        stack.push(Work::Close);
                        break;
                    }
                    [only] => at = *only,
                    children => {
                        if !first {
                            out.push(' ');
                        }
                        stack.push(Work::Close);
                        stack.extend(children.iter().rev().map(|k| Work::Thread(*k)));
                        break;
                    }
                }
            }
        }
    }
}

/// RFC 5256 §4 ORDEREDSUBJECT: messages with the same base subject form a thread,
/// its first message (by sent date) the parent of all the others; threads are in
/// order of their first message.
fn ordered_subject(items: &[Item]) -> Forest<'_> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|a, b| {
        let (a, b) = (&items[*a], &items[*b]);
        a.subject.cmp(&b.subject).then(a.date_key().cmp(&b.date_key()))
    });
    let mut forest = Forest::new(items);
    for group in order.chunk_by(|a, b| items[*a].subject == items[*b].subject) {
        let parent = forest.add(Some(group[0]));
        forest.roots.push(parent);
        for member in &group[1..] {
            let child = forest.add(Some(*member));
            forest.link(parent, child);
        }
    }
    let mut roots = std::mem::take(&mut forest.roots);
    roots.sort_by_key(|c| forest.date_key(*c));
    forest.roots = roots;
    forest
}

/// RFC 5256 §4 REFERENCES (after Jamie Zawinski's algorithm), steps 1–6.
fn references(items: &[Item]) -> Forest<'_> {
    let mut forest = Forest::new(items);
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    // Step 1: link parents and children.
    for (i, item) in items.iter().enumerate() {
        // A message without a (valid) Message-ID, or whose id an earlier message
        // already used, gets a container of its own that nothing can reference.
        let own = match item.message_id.as_deref() {
            Some(id) => match by_id.get(id) {
                Some(&c) if forest.is_dummy(c) => {
                    forest.arena[c].item = Some(i);
                    c
                }
                Some(_) => forest.add(Some(i)),
                None => {
                    let c = forest.add(Some(i));
                    by_id.insert(id, c);
                    c
                }
            },
            None => forest.add(Some(i)),
        };
        // Step 1.A: each reference the parent of the next, unless the child has a
        // parent already (References may be truncated) or it would close a loop.
        let mut previous: Option<usize> = None;
        for id in &item.references {
            let c = match by_id.get(id.as_str()) {
                Some(&c) => c,
                None => {
                    let c = forest.add(None);
                    by_id.insert(id, c);
                    c
                }
            };
            if let Some(parent) = previous
                && forest.arena[c].parent.is_none()
                && !forest.is_ancestor_or_self(c, parent)
            {
                forest.link(parent, c);
            }
            previous = Some(c);
        }
        // Step 1.B: the last reference is this message's parent, overriding a link
        // made in step 1.A, unless it would close a loop.
        forest.unlink(own);
        if let Some(parent) = previous
            && !forest.is_ancestor_or_self(own, parent)
        {
            forest.link(parent, own);
        }
    }
    // Steps 2–3: the root set; the id table is not needed any more.
    drop(by_id);
    forest.roots = (0..forest.arena.len())
        .filter(|c| forest.arena[*c].parent.is_none())
        .collect();
    prune(&mut forest);
    // Step 4: the top level by sent date (a dummy by its first child's).
    forest.sort_by_date();
    merge_subjects(&mut forest);
    // Step 6.
    forest.sort_by_date();
    forest
}

/// RFC 5256 §4 step 3: dummies without children go; dummies with children are
/// replaced by them, except at the top level when there is more than one.
fn prune(forest: &mut Forest<'_>) {
    let spliced = |forest: &mut Forest<'_>, list: Vec<usize>, top: bool| -> Vec<usize> {
        let mut out = Vec::with_capacity(list.len());
        for c in list {
            let children = &forest.arena[c].children;
            if !forest.is_dummy(c) || (top && children.len() > 1) {
                out.push(c);
            } else {
                let children = std::mem::take(&mut forest.arena[c].children);
                let parent = forest.arena[c].parent.take();
                for k in &children {
                    forest.arena[*k].parent = parent;
                }
                out.extend(children);
            }
        }
        out
    };
    // Children before parents: a promoted child has been pruned already.
    for c in forest.post_order() {
        let children = std::mem::take(&mut forest.arena[c].children);
        forest.arena[c].children = spliced(forest, children, false);
    }
    let roots = std::mem::take(&mut forest.roots);
    forest.roots = spliced(forest, roots, true);
}

/// RFC 5256 §4 step 5: top-level threads with the same base subject are merged.
fn merge_subjects(forest: &mut Forest<'_>) {
    // 5.B: one container per subject, dummies and non-replies preferred.
    let mut table: HashMap<&str, usize> = HashMap::new();
    for &c in &forest.roots {
        let subject = forest.thread_subject(c);
        if subject.is_empty() {
            continue;
        }
        match table.get(subject) {
            None => {
                table.insert(subject, c);
            }
            Some(&t) => {
                if !forest.is_dummy(t) && (forest.is_dummy(c) || (forest.is_reply(t) && !forest.is_reply(c)))
                {
                    table.insert(subject, c);
                }
            }
        }
    }
    // 5.C: merge each thread into its subject's container.
    let mut deleted = vec![false; forest.arena.len()];
    for c in forest.roots.clone() {
        // Already merged under another container.
        if forest.arena[c].parent.is_some() {
            continue;
        }
        let subject = forest.thread_subject(c);
        let Some(&t) = table.get(subject) else {
            continue;
        };
        if t == c {
            continue;
        }
        match (forest.is_dummy(t), forest.is_dummy(c)) {
            (true, true) => {
                for k in std::mem::take(&mut forest.arena[c].children) {
                    forest.link(t, k);
                }
                deleted[c] = true;
            }
            (true, false) => forest.link(t, c),
            _ if forest.is_reply(c) && !forest.is_reply(t) => forest.link(t, c),
            _ => {
                let dummy = forest.add(None);
                deleted.push(false);
                if let Some(slot) = forest.roots.iter_mut().find(|r| **r == t) {
                    *slot = dummy;
                }
                forest.link(dummy, t);
                forest.link(dummy, c);
                table.insert(subject, dummy);
            }
        }
    }
    let arena = &forest.arena;
    forest
        .roots
        .retain(|c| arena[*c].parent.is_none() && !deleted[*c]);
}

impl Session {
    pub(crate) async fn op_thread(&mut self, request: ThreadRequest) -> Reply {
        let ThreadRequest {
            uid,
            algorithm,
            charset,
            mut key,
        } = request;
        if let Some(reply) = check_charset(self.enabled, Some(&charset), true) {
            return reply;
        }
        let entries = match self.search_snapshot(&mut key) {
            Ok(entries) => entries,
            Err(reply) => return reply,
        };
        let headers = self.ctx.headers.clone();
        let items = self
            .blocking(move |store| {
                scan(store, &headers, &entries, &key, true, |seq, entry, message| {
                    let meta = &entry.meta;
                    let summary = message.map(Message::summary).unwrap_or_default();
                    Item {
                        number: if uid { meta.uid.get() } else { seq },
                        seq,
                        sent: summary.sent.unwrap_or(meta.internal_date),
                        subject: summary.subject.text.to_ascii_uppercase(),
                        reply_or_forward: summary.subject.reply_or_forward,
                        message_id: summary.message_id,
                        references: summary.references,
                    }
                })
            })
            .await;
        let items = match items {
            Ok(items) => items,
            Err(err) => return store_failure(&err),
        };
        let forest = match algorithm {
            ThreadAlgorithm::OrderedSubject => ordered_subject(&items),
            ThreadAlgorithm::References => references(&items),
        };
        let mut line = String::from("* THREAD ");
        forest.write(&mut line);
        // An empty result is `* THREAD` (RFC 5256 §4 thread-data is optional).
        let line = line.trim_end();
        self.conn.output.extend_from_slice(line.as_bytes());
        self.conn.output.extend_from_slice(b"\r\n");
        Reply::ok("THREAD completed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message: number (= sequence number), sent date, subject as written,
    /// Message-ID and references.
    fn item(n: u32, sent: i64, subject: &str, id: Option<&str>, refs: &[&str]) -> Item {
        let header = format!("Subject: {subject}\r\n\r\n");
        let base = crate::message::Summary::parse(header.as_bytes()).subject;
        Item {
            number: n,
            seq: n,
            sent,
            subject: base.text.to_ascii_uppercase(),
            reply_or_forward: base.reply_or_forward,
            message_id: id.map(str::to_owned),
            references: refs.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    fn thread(algorithm: ThreadAlgorithm, items: &[Item]) -> String {
        let forest = match algorithm {
            ThreadAlgorithm::OrderedSubject => ordered_subject(items),
            ThreadAlgorithm::References => references(items),
        };
        let mut out = String::new();
        forest.write(&mut out);
        out
    }

    use ThreadAlgorithm::{OrderedSubject, References as Refs};

    #[test]
    fn writer_matches_the_rfc_example() {
        // RFC 5256 §4: `* THREAD (2)(3 6 (4 23)(44 7 96))`.
        let numbers = [2, 3, 6, 4, 23, 44, 7, 96];
        let items: Vec<Item> = numbers
            .iter()
            .map(|n| Item {
                number: *n,
                ..Item::default()
            })
            .collect();
        let mut forest = Forest::new(&items);
        let c: Vec<usize> = (0..items.len()).map(|i| forest.add(Some(i))).collect();
        forest.roots = vec![c[0], c[1]];
        forest.link(c[1], c[2]);
        forest.link(c[2], c[3]);
        forest.link(c[3], c[4]);
        forest.link(c[2], c[5]);
        forest.link(c[5], c[6]);
        forest.link(c[6], c[7]);
        let mut out = String::new();
        forest.write(&mut out);
        assert_eq!(out, "(2)(3 6 (4 23)(44 7 96))");
        // A dummy at the top: `((3)(5))`.
        let mut forest = Forest::new(&items);
        let a = forest.add(Some(1));
        let b = forest.add(Some(5));
        let dummy = forest.add(None);
        forest.link(dummy, a);
        forest.link(dummy, b);
        forest.roots = vec![dummy];
        let mut out = String::new();
        forest.write(&mut out);
        assert_eq!(out, "((3)(44))");
    }

    #[test]
    fn ordered_subject_groups_by_base_subject_then_date() {
        let items = [
            item(1, 50, "Hello", None, &[]),
            item(2, 10, "Re: hello", None, &[]),
            item(3, 20, "Other", None, &[]),
            item(4, 5, "Fwd: HELLO", None, &[]),
            item(5, 30, "Re: other", None, &[]),
            item(6, 40, "Third", None, &[]),
        ];
        // HELLO: 4 (5), 2 (10), 1 (50); OTHER: 3 (20), 5 (30); THIRD: 6.
        assert_eq!(thread(OrderedSubject, &items), "(4 (2)(1))(3 5)(6)");
        assert_eq!(thread(OrderedSubject, &[]), "");
    }

    #[test]
    fn references_chains_and_branches() {
        let items = [
            item(1, 10, "Plan", Some("a@x"), &[]),
            item(2, 20, "Re: Plan", Some("b@x"), &["a@x"]),
            item(3, 30, "Re: Plan", Some("c@x"), &["a@x", "b@x"]),
            item(4, 25, "Re: Plan", Some("d@x"), &["a@x"]),
            item(5, 5, "Unrelated", Some("e@x"), &[]),
        ];
        // 2 and 4 both answer 1; 3 answers 2. Siblings by date: 2 (20) then 4 (25).
        assert_eq!(thread(Refs, &items), "(5)(1 (2 3)(4))");
    }

    #[test]
    fn references_missing_parents_become_dummies() {
        // Two answers to a message not in the mailbox: a dummy holds them.
        let items = [
            item(1, 20, "Re: Lost", Some("b@x"), &["gone@x"]),
            item(2, 10, "Re: Lost", Some("c@x"), &["gone@x"]),
        ];
        assert_eq!(thread(Refs, &items), "((2)(1))");
        // One answer: the dummy is replaced by it.
        let items = [item(1, 20, "Re: Lost", Some("b@x"), &["gone@x"])];
        assert_eq!(thread(Refs, &items), "(1)");
        // A dummy in the middle of a chain is spliced out.
        let items = [
            item(1, 10, "Root", Some("a@x"), &[]),
            item(2, 20, "Re: Root", Some("c@x"), &["a@x", "gone@x"]),
        ];
        assert_eq!(thread(Refs, &items), "(1 2)");
    }

    #[test]
    fn references_merge_by_subject() {
        // No headers linking them: a reply joins the original (5.C)…
        let items = [
            item(1, 10, "Báo cáo", Some("a@x"), &[]),
            item(2, 20, "Re: Báo cáo", Some("b@x"), &[]),
        ];
        assert_eq!(thread(Refs, &items), "(1 2)");
        // …and two originals meet under a dummy.
        let items = [
            item(1, 10, "Báo cáo", Some("a@x"), &[]),
            item(2, 20, "Báo cáo", Some("b@x"), &[]),
            item(3, 30, "Khác", Some("c@x"), &[]),
        ];
        assert_eq!(thread(Refs, &items), "((1)(2))(3)");
        // Empty subjects are never merged.
        let items = [
            item(1, 10, "", Some("a@x"), &[]),
            item(2, 20, "", Some("b@x"), &[]),
        ];
        assert_eq!(thread(Refs, &items), "(1)(2)");
        // Vietnamese prefixes are not markers: separate threads.
        let items = [
            item(1, 10, "Báo cáo", Some("a@x"), &[]),
            item(2, 20, "Trả lời: Báo cáo", Some("b@x"), &[]),
        ];
        assert_eq!(thread(Refs, &items), "(1)(2)");
    }

    #[test]
    fn references_duplicates_loops_and_truncation() {
        // A duplicate Message-ID: the second message is on its own; the reply
        // goes to the first.
        let items = [
            item(1, 10, "A", Some("a@x"), &[]),
            item(2, 20, "B", Some("a@x"), &[]),
            item(3, 30, "C", Some("c@x"), &["a@x"]),
        ];
        assert_eq!(thread(Refs, &items), "(1 3)(2)");
        // References that contradict each other never make a loop: 1 is first put
        // under 2; 2 naming 1 as its parent would close one and is not linked. A
        // message referencing itself stays alone.
        let items = [
            item(1, 10, "A", Some("a@x"), &["b@x"]),
            item(2, 20, "B", Some("b@x"), &["a@x"]),
            item(3, 30, "C", Some("c@x"), &["c@x"]),
        ];
        assert_eq!(thread(Refs, &items), "(2 1)(3)");
        // Step 1.B wins over 1.A: 3's truncated References put c under a; c's own
        // In-Reply-To (its last reference) moves it under b.
        let items = [
            item(1, 10, "A", Some("a@x"), &[]),
            item(2, 20, "B", Some("b@x"), &[]),
            item(3, 40, "D", Some("d@x"), &["a@x", "c@x"]),
            item(4, 30, "C", Some("c@x"), &["b@x"]),
        ];
        assert_eq!(thread(Refs, &items), "(1)(2 4 3)");
    }

    /// Random headers from a small pool of ids (duplicates, loops, self-references,
    /// missing parents, shared subjects): both algorithms must place every message
    /// exactly once, in well-formed output.
    #[test]
    fn random_mailboxes_thread_every_message_once() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        let subjects = ["A", "Re: A", "B", "Fwd: B", "[x] A", "", "C (fwd)"];
        for round in 0..300 {
            let count = 1 + next(40);
            let items: Vec<Item> = (0..count)
                .map(|i| {
                    let id = (next(4) > 0).then(|| format!("{}@x", next(count + 3)));
                    let refs: Vec<String> = (0..next(4)).map(|_| format!("{}@x", next(count + 3))).collect();
                    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
                    let subject = subjects[next(subjects.len())];
                    item(i as u32 + 1, next(5) as i64, subject, id.as_deref(), &refs)
                })
                .collect();
            for algorithm in [OrderedSubject, Refs] {
                let out = thread(algorithm, &items);
                let mut depth = 0i32;
                for c in out.chars() {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    assert!(depth >= 0, "round {round}: {out}");
                }
                assert_eq!(depth, 0, "round {round}: {out}");
                let mut numbers: Vec<u32> = out
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|n| !n.is_empty())
                    .map(|n| n.parse().unwrap())
                    .collect();
                numbers.sort_unstable();
                let want: Vec<u32> = (1..=count as u32).collect();
                assert_eq!(numbers, want, "round {round} {algorithm:?}: {out}");
                assert!(!out.contains("()"), "round {round}: {out}");
            }
        }
    }

    #[test]
    fn a_chain_as_long_as_the_mailbox_does_not_exhaust_the_stack() {
        let ids: Vec<String> = (0..100_000).map(|n| format!("{n}@x")).collect();
        let items: Vec<Item> = (0..100_000u32)
            .map(|n| {
                let refs: Vec<&str> = n
                    .checked_sub(1)
                    .map(|p| ids[p as usize].as_str())
                    .into_iter()
                    .collect();
                item(n + 1, i64::from(n), "Chain", Some(&ids[n as usize]), &refs)
            })
            .collect();
        let out = thread(Refs, &items);
        assert!(out.starts_with("(1 2 3 ") && out.ends_with(" 100000)"));
    }
}
