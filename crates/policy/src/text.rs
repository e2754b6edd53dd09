//! Texts shown to people: Vietnamese first, because the readers are Vietnamese
//! officials, then English for foreign correspondents and operators.

use std::fmt;

/// A short text in Vietnamese and English; displayed as `vi / en`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bilingual {
    pub vi: String,
    pub en: String,
}

impl Bilingual {
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Bilingual {
        Bilingual {
            vi: vi.into(),
            en: en.into(),
        }
    }

    /// `vi / en` as the text of a protocol reply: one line, no CR or LF
    /// (RFC 5321 §4.2), whatever the parts hold.
    pub fn reply_line(&self) -> String {
        self.to_string().replace(['\r', '\n'], " ")
    }
}

impl fmt::Display for Bilingual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.vi, self.en)
    }
}
