//! LIST and LSUB (RFC 3501 §6.3.8–6.3.9) with CHILDREN (RFC 3348) and SPECIAL-USE
//! (RFC 6154) attributes, LIST-EXTENDED (RFC 5258: several patterns, selection
//! SUBSCRIBED / SPECIAL-USE / RECURSIVEMATCH, return SUBSCRIBED) and LIST-STATUS
//! (RFC 5819).
//!
//! `*` matches any characters, `%` any but the separator. Levels that exist only as
//! parents of other mailboxes are listed as `\Noselect` so `%` can walk the tree.
//!
//! Subscriptions are by name and outlive their mailbox (RFC 3501 §6.3.6, the
//! store's `subscriptions`): LIST (SUBSCRIBED) lists such a name `\NonExistent`
//! (RFC 5258 §3.1), LSUB `\Noselect`. With RECURSIVEMATCH, CHILDINFO goes on a
//! listed name with a selected descendant; a name that is not selected itself is
//! listed only for a selected descendant the patterns do not list on their own
//! (RFC 5258 §3.5).
//!
//! The agency mailboxes delegated with `l` (RFC 4314) are listed with the user's
//! own, as `Shared/<agency>/…` (see `session::shared`), with `Shared` and
//! `Shared/<agency>` as `\Noselect` levels: `LIST "" "*"` shows them, as Outlook
//! needs, and `LIST "" "Shared/%"` walks them as Thunderbird does from NAMESPACE.
//! Their `\Subscribed` is the agency's; LIST-STATUS reports them only with `r`; they
//! carry no special-use attribute (a client must not take the agency's Sent for its
//! own).

use std::collections::HashSet;

use congvu_directory::Rights;
use congvu_store::{HIERARCHY_SEPARATOR, MailboxInfo};

use crate::codec::ListOptions;
use crate::codec::response::write_mailbox;
use crate::op::status::write_status;
use crate::session::{Reply, SHARED, Session, store_failure};

/// A LIST pattern against a name; `*` and `%` per RFC 3501 §6.3.8. Dynamic
/// programming over both strings: no backtracking blow-up on hostile patterns.
fn matches(pattern: &[char], name: &[char]) -> bool {
    let mut row = vec![false; name.len() + 1];
    row[0] = true;
    for &p in pattern {
        let mut next = vec![false; name.len() + 1];
        next[0] = row[0] && (p == '*' || p == '%');
        for j in 1..=name.len() {
            next[j] = match p {
                '*' => next[j - 1] || row[j],
                '%' => row[j] || (next[j - 1] && name[j - 1] != HIERARCHY_SEPARATOR),
                c => row[j - 1] && name[j - 1] == c,
            };
        }
        row = next;
    }
    row[name.len()]
}

/// The pattern LIST matches against: the reference prefixed, unless the pattern is
/// absolute; an `INBOX` level at the start matched case-insensitively (RFC 3501
/// §5.1).
fn full_pattern(reference: &str, pattern: &str) -> Vec<char> {
    let full = if pattern.starts_with(HIERARCHY_SEPARATOR) {
        pattern.to_string()
    } else {
        format!("{reference}{pattern}")
    };
    let mut chars: Vec<char> = full.chars().collect();
    let inbox_level = chars.len() >= 5
        && chars[..5]
            .iter()
            .collect::<String>()
            .eq_ignore_ascii_case("INBOX")
        && chars.get(5).is_none_or(|c| matches!(c, '/' | '*' | '%'));
    if inbox_level {
        chars.splice(..5, "INBOX".chars());
    }
    chars
}

/// Names to list, in store order, each preceded by its missing parent levels.
fn with_parents<'a>(
    mailboxes: impl Iterator<Item = &'a MailboxInfo>,
) -> Vec<(String, Option<&'a MailboxInfo>)> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut mailboxes: Vec<&MailboxInfo> = mailboxes.collect();
    mailboxes.sort_by(|a, b| (a.name != "INBOX", &a.name).cmp(&(b.name != "INBOX", &b.name)));
    let real: HashSet<&str> = mailboxes.iter().map(|m| m.name.as_str()).collect();
    let mut out = Vec::new();
    for mailbox in mailboxes {
        for (end, _) in mailbox.name.match_indices(HIERARCHY_SEPARATOR) {
            let parent = &mailbox.name[..end];
            if !real.contains(parent) && seen.insert(parent.to_string()) {
                out.push((parent.to_string(), None));
            }
        }
        if seen.insert(mailbox.name.clone()) {
            out.push((mailbox.name.clone(), Some(mailbox)));
        }
    }
    out
}

impl Session {
    pub(crate) fn op_list(
        &mut self,
        reference: &str,
        patterns: &[String],
        subscribed_only: bool,
        options: &ListOptions,
    ) -> Reply {
        let verb = if subscribed_only { "LSUB" } else { "LIST" };
        if patterns.len() == 1 && patterns[0].is_empty() && !subscribed_only {
            // RFC 3501 §6.3.8: an empty pattern asks for the hierarchy separator.
            self.conn
                .output
                .extend_from_slice(b"* LIST (\\Noselect) \"/\" \"\"\r\n");
            return Reply::ok("LIST completed");
        }
        let Some(account) = self.user().map(|u| u.account) else {
            return Reply::bad("Not authenticated");
        };
        let mut all = match self.ctx.store.list_mailboxes(account) {
            Ok(all) => all,
            Err(err) => return store_failure(&err),
        };
        match self.shared_mailboxes() {
            Ok(shared) => all.extend(shared),
            Err(reply) => return reply,
        }
        let patterns: Vec<Vec<char>> = patterns.iter().map(|p| full_pattern(reference, p)).collect();
        let subscribed = subscribed_only || options.select_subscribed;
        // RFC 3501 §6.3.6: the account's subscriptions, those whose mailbox is gone
        // included. Shared mailboxes carry the agency's on their record.
        let subscriptions: HashSet<String> = if subscribed || options.return_subscribed {
            match self.ctx.store.subscriptions(account) {
                Ok(names) => names.into_iter().collect(),
                Err(err) => return store_failure(&err),
            }
        } else {
            HashSet::new()
        };
        let is_subscribed = |name: &str, info: Option<&MailboxInfo>| {
            info.is_some_and(|m| m.subscribed) || subscriptions.contains(name)
        };
        // The selection criteria (RFC 5258 §3.1); a subscribed name with no mailbox
        // meets SUBSCRIBED (it is listed `\NonExistent`).
        let selected = |name: &str, info: Option<&MailboxInfo>| {
            (!subscribed || is_subscribed(name, info))
                && (!options.select_special_use || info.is_some_and(|m| m.special_use.is_some()))
        };
        let real: HashSet<&str> = all.iter().map(|m| m.name.as_str()).collect();
        // Subscribed names with no mailbox: candidates of a SUBSCRIBED selection.
        let mut gone: Vec<&str> = if subscribed {
            subscriptions
                .iter()
                .map(String::as_str)
                .filter(|name| !real.contains(name))
                .collect()
        } else {
            Vec::new()
        };
        gone.sort_unstable();
        let matching = |name: &str| {
            let chars: Vec<char> = name.chars().collect();
            patterns.iter().any(|p| matches(p, &chars))
        };
        // RFC 5258 §3.5: with RECURSIVEMATCH every mailbox is a candidate, and one
        // that is not selected itself is listed when a descendant is.
        let candidates: Vec<&MailboxInfo> = if options.recursive_match {
            all.iter().collect()
        } else {
            all.iter().filter(|m| selected(&m.name, Some(m))).collect()
        };
        let mut entries = with_parents(candidates.into_iter());
        let levels: HashSet<String> = entries.iter().map(|(name, _)| name.clone()).collect();
        entries.extend(
            gone.iter()
                .filter(|name| !levels.contains(**name))
                .map(|name| (name.to_string(), None)),
        );
        for (name, info) in entries {
            if !matching(&name) {
                continue;
            }
            let prefix = format!("{name}{HIERARCHY_SEPARATOR}");
            let is_gone = info.is_none() && gone.contains(&name.as_str());
            let itself = (info.is_some() || is_gone) && selected(&name, info);
            // RFC 5258 §3.5: CHILDINFO names a selected descendant; a name that is
            // not selected itself is listed only for a descendant the patterns do
            // not list on its own (with `*` they all are, and it is left out).
            let mut descendants = all
                .iter()
                .filter(|m| m.name.starts_with(&prefix) && selected(&m.name, Some(m)))
                .map(|m| m.name.as_str())
                .chain(
                    gone.iter()
                        .copied()
                        .filter(|n| n.starts_with(&prefix) && selected(n, None)),
                )
                .peekable();
            let child_info = options.recursive_match && descendants.peek().is_some();
            if options.recursive_match && !itself && !descendants.any(|n| !matching(n)) {
                continue;
            }
            // RFC 5258 §3.1: a selection without RECURSIVEMATCH lists only what it
            // selects, not the parent levels above it.
            let extended_selection = options.select_subscribed || options.select_special_use;
            if extended_selection && !options.recursive_match && !itself {
                continue;
            }
            let has_children = all.iter().any(|m| m.name.starts_with(&prefix));
            let mut attributes: Vec<&str> = Vec::new();
            if info.is_none() {
                // A name with no mailbox: a subscription whose mailbox is gone, or a
                // level listed by RECURSIVEMATCH for its CHILDINFO, is \NonExistent
                // (RFC 5258 §3.4, RFC 9051 §6.3.9); a `%`/`*` level above real
                // mailboxes is \Noselect (RFC 3501 §6.3.8).
                // LSUB (RFC 3501 §6.3.9) knows only \Noselect.
                attributes.push(if (options.recursive_match || is_gone) && !subscribed_only {
                    "\\NonExistent"
                } else {
                    "\\Noselect"
                });
            }
            attributes.push(if has_children {
                "\\HasChildren"
            } else {
                "\\HasNoChildren"
            });
            if options.return_subscribed && is_subscribed(&name, info) {
                attributes.push("\\Subscribed");
            }
            if let Some(special) = info.and_then(|i| i.special_use) {
                attributes.push(special.attribute());
            }
            let line = format!("* {verb} ({}) \"/\" ", attributes.join(" "));
            self.conn.output.extend_from_slice(line.as_bytes());
            write_mailbox(&mut self.conn.output, &name, self.enabled.names());
            if child_info {
                let what = if options.select_subscribed {
                    "SUBSCRIBED"
                } else {
                    "SPECIAL-USE"
                };
                let extended = format!(" (\"CHILDINFO\" (\"{what}\"))");
                self.conn.output.extend_from_slice(extended.as_bytes());
            }
            self.conn.output.extend_from_slice(b"\r\n");
            // RFC 5819 §2: STATUS follows the LIST of each selectable mailbox.
            let readable = || {
                !name.starts_with(SHARED)
                    || self.resolve(&name).is_ok_and(|t| t.rights.contains(Rights::READ))
            };
            if let (Some(items), Some(info)) = (&options.status, info)
                && readable()
            {
                match self.status_values(info, items) {
                    Ok(values) => write_status(&mut self.conn.output, &name, self.enabled.names(), &values),
                    Err(reply) => return reply,
                }
            }
        }
        Reply::ok(format!("{verb} completed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        let p: Vec<char> = full_pattern("", pattern);
        matches(&p, &name.chars().collect::<Vec<_>>())
    }

    #[test]
    fn wildcards() {
        let cases = [
            ("*", "INBOX", true),
            ("*", "a/b/c", true),
            ("%", "a", true),
            ("%", "a/b", false),
            ("a/%", "a/b", true),
            ("a/%", "a/b/c", false),
            ("a/*", "a/b/c", true),
            ("a*", "a", true),
            ("a*c", "abc", true),
            ("a%c", "a/c", false),
            ("inbox", "INBOX", true),
            ("Inbox/%", "INBOX/x", true),
            ("inboxes", "INBOX", false),
            ("Công*", "Công văn đến", true),
            ("", "", true),
            ("x", "", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(m(pattern, name), want, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn hostile_pattern_is_fast() {
        let pattern = "*a".repeat(200);
        let name = "a".repeat(300) + "b";
        assert!(!m(&pattern, &name));
    }

    #[test]
    fn references() {
        assert_eq!(
            full_pattern("Archive/", "%").iter().collect::<String>(),
            "Archive/%"
        );
        assert_eq!(full_pattern("Archive/", "/x").iter().collect::<String>(), "/x");
    }
}
