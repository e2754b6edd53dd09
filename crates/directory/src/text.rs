//! Free-text fields typed by operators (names, positions, departments): stored in NFC
//! with whitespace collapsed, so the same name typed on two keyboards (NFC from one,
//! NFD from another) is stored, sorted and later searched as one string.

use unicode_normalization::UnicodeNormalization;

use crate::error::{DirectoryError, Result};

/// Longer than any real agency name or job title; bounds what one request can store.
const MAX_CHARS: usize = 256;

/// A field that must be present.
pub(crate) fn required(field: &str, value: &str) -> Result<String> {
    optional(field, Some(value))?.ok_or_else(|| DirectoryError::Invalid(format!("{field} is empty")))
}

/// A field that may be absent; blank counts as absent.
pub(crate) fn optional(field: &str, value: Option<&str>) -> Result<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    // Tabs and newlines are only badly pasted spaces; other controls are never meant.
    if value.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(DirectoryError::Invalid(format!(
            "{field} contains control characters"
        )));
    }
    let clean = value
        .nfc()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if clean.chars().count() > MAX_CHARS {
        return Err(DirectoryError::Invalid(format!(
            "{field} is longer than {MAX_CHARS} characters"
        )));
    }
    Ok((!clean.is_empty()).then_some(clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        let nfd: String = "Nguyễn Anh Tuấn".nfd().collect();
        let cases: &[(Option<&str>, Option<&str>)] = &[
            (None, None),
            (Some(""), None),
            (Some(" \t\n "), None),
            (
                Some("  Sở Thông tin \t và  Truyền thông "),
                Some("Sở Thông tin và Truyền thông"),
            ),
            (Some(&nfd), Some("Nguyễn Anh Tuấn")),
        ];
        for (input, want) in cases {
            assert_eq!(optional("name", *input).unwrap().as_deref(), *want, "{input:?}");
        }
        assert!(matches!(required("name", " "), Err(DirectoryError::Invalid(_))));
        assert!(matches!(
            optional("name", Some("a\u{0}b")),
            Err(DirectoryError::Invalid(_))
        ));
        assert!(matches!(
            optional("name", Some(&"x".repeat(257))),
            Err(DirectoryError::Invalid(_))
        ));
        assert_eq!(required("name", &"x".repeat(256)).unwrap().len(), 256);
    }
}
