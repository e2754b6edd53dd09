//! Mailbox names as stored, by every backend: UTF-8, `/`-separated, `INBOX` in upper
//! case.

use crate::{HIERARCHY_SEPARATOR, StoreError};

pub const INBOX: &str = "INBOX";

/// Longest name accepted, in bytes: ample for deep Vietnamese folder names, and a
/// bound on key sizes.
const MAX_NAME_BYTES: usize = 1024;

/// The stored spelling of a name given by a client: `INBOX` in any case is INBOX
/// (RFC 3501 §5.1); every other name is exact.
pub fn canonical(name: &str) -> &str {
    if name.eq_ignore_ascii_case(INBOX) {
        INBOX
    } else {
        name
    }
}

/// Checks a name for a new mailbox (CREATE, RENAME target) and returns its stored
/// spelling. Refused: empty names or components (`a//b`, `/a`, `a/`), control
/// characters, names over [`MAX_NAME_BYTES`].
pub fn validate(name: &str) -> Result<&str, StoreError> {
    let problem = if name.len() > MAX_NAME_BYTES {
        Some("is too long")
    } else if name.split(HIERARCHY_SEPARATOR).any(str::is_empty) {
        Some("has an empty hierarchy level")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(StoreError::Invalid(format!("mailbox name {problem}"))),
        None => Ok(canonical(name)),
    }
}

/// True when `name` is `root` or below it (`root/…`).
pub fn is_inferior(name: &str, root: &str) -> bool {
    name.strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(HIERARCHY_SEPARATOR))
}

/// The name `name` takes when `from` is renamed to `to`: for `from` itself and its
/// inferiors `from/…`; `None` for other names.
pub fn renamed(name: &str, from: &str, to: &str) -> Option<String> {
    is_inferior(name, from).then(|| format!("{to}{}", &name[from.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_table() {
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        let cases: &[(&str, Option<&str>)] = &[
            ("Công văn đến", Some("Công văn đến")),
            ("inbox", Some("INBOX")),
            ("InBoX", Some("INBOX")),
            ("inbox/Lưu", Some("inbox/Lưu")),
            ("a/b/c", Some("a/b/c")),
            ("", None),
            ("/a", None),
            ("a/", None),
            ("a//b", None),
            ("a\0b", None),
            ("a\r\nb", None),
            (&long, None),
        ];
        for (name, expected) in cases {
            assert_eq!(validate(name).ok(), *expected, "{name:?}");
        }
    }

    #[test]
    fn renamed_table() {
        let cases = [
            ("a", "a", "b", Some("b")),
            ("a/x", "a", "b", Some("b/x")),
            ("a/x/y", "a", "b/c", Some("b/c/x/y")),
            ("ab", "a", "b", None),
            ("b", "a", "c", None),
        ];
        for (name, from, to, expected) in cases {
            assert_eq!(renamed(name, from, to).as_deref(), expected, "{name} {from} {to}");
        }
    }
}
