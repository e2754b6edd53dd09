//! Verdicts: what the policy decided, with a stable reason code, the SMTP reply that
//! carries it (RFC 5321 §4.2 code, RFC 3463 enhanced code) and a bilingual text that
//! tells the official what to fix.

use std::fmt;

use crate::text::Bilingual;

/// The rules of Art. 6–9 that this crate checks, named as in the `X-Congvu-Policy`
/// header and in the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Art. 9.2: total decoded attachment size.
    AttachmentCap,
    /// Art. 6.1: allowed attachment formats, by content.
    Formats,
    /// Executables and scripts, whatever their name, from anyone.
    DangerousContent,
    /// Art. 7: the subject is present and in Vietnamese.
    Subject,
    /// Art. 6.2: Unicode (TCVN 6909:2001), not TCVN3/VNI/VIQR.
    LegacyEncoding,
    /// Art. 8.1: no classified documents.
    Classified,
    /// Encrypted S/MIME: content that no rule can read (Art. 8.1 cannot be checked).
    Encrypted,
}

impl Rule {
    pub const ALL: [Rule; 7] = [
        Rule::AttachmentCap,
        Rule::Formats,
        Rule::DangerousContent,
        Rule::Subject,
        Rule::LegacyEncoding,
        Rule::Classified,
        Rule::Encrypted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::AttachmentCap => "attachment-cap",
            Rule::Formats => "formats",
            Rule::DangerousContent => "dangerous-content",
            Rule::Subject => "subject",
            Rule::LegacyEncoding => "legacy-encoding",
            Rule::Classified => "classified",
            Rule::Encrypted => "encrypted",
        }
    }
}

/// Stable reason codes: logged, counted in metrics and documented in `docs/policy.md`.
/// Never rename one; add new ones at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    AttachmentTooLarge,
    FormatNotAllowed,
    FormatMismatch,
    DangerousContent,
    ArchiveTooComplex,
    SubjectEmpty,
    SubjectNotVietnamese,
    LegacyEncoding,
    Classified,
    Malformed,
    /// Structure past a limit: parts, nesting, decoding budget.
    MessageTooComplex,
    EncryptedContent,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 12] = [
        ReasonCode::AttachmentTooLarge,
        ReasonCode::FormatNotAllowed,
        ReasonCode::FormatMismatch,
        ReasonCode::DangerousContent,
        ReasonCode::ArchiveTooComplex,
        ReasonCode::SubjectEmpty,
        ReasonCode::SubjectNotVietnamese,
        ReasonCode::LegacyEncoding,
        ReasonCode::Classified,
        ReasonCode::Malformed,
        ReasonCode::MessageTooComplex,
        ReasonCode::EncryptedContent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::AttachmentTooLarge => "attachment_too_large",
            ReasonCode::FormatNotAllowed => "format_not_allowed",
            ReasonCode::FormatMismatch => "format_mismatch",
            ReasonCode::DangerousContent => "dangerous_content",
            ReasonCode::ArchiveTooComplex => "archive_too_complex",
            ReasonCode::SubjectEmpty => "subject_empty",
            ReasonCode::SubjectNotVietnamese => "subject_not_vietnamese",
            ReasonCode::LegacyEncoding => "legacy_encoding",
            ReasonCode::Classified => "classified_document",
            ReasonCode::Malformed => "malformed_message",
            ReasonCode::MessageTooComplex => "message_too_complex",
            ReasonCode::EncryptedContent => "encrypted_content",
        }
    }

    /// The reply code and RFC 3463 enhanced code of a refusal for this reason.
    pub fn smtp(self) -> (u16, (u8, u16, u16)) {
        match self {
            // RFC 3463 X.3.4: message too big for system (the regulation's cap).
            ReasonCode::AttachmentTooLarge => (552, (5, 3, 4)),
            // X.6.0: other or undefined media error — the content cannot be used as is.
            ReasonCode::LegacyEncoding | ReasonCode::Malformed => (550, (5, 6, 0)),
            // X.7.1: delivery not authorized, message refused (by policy).
            _ => (550, (5, 7, 1)),
        }
    }

    /// The index of this code in [`ReasonCode::ALL`] (metrics tables).
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule that the message breaks, with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub reason: ReasonCode,
    pub text: Bilingual,
}

impl Finding {
    pub fn new(rule: Rule, reason: ReasonCode, vi: impl Into<String>, en: impl Into<String>) -> Finding {
        Finding {
            rule,
            reason,
            text: Bilingual::new(vi, en),
        }
    }

    /// The SMTP reply code, enhanced code and one-line text (Vietnamese, then English).
    pub fn reply(&self) -> (u16, (u8, u16, u16), String) {
        let (code, enhanced) = self.reason.smtp();
        (code, enhanced, self.text.reply_line())
    }
}

/// Accept (possibly with tags), or refuse for the first rule broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Refuse(Finding),
}

impl Verdict {
    pub fn is_accept(&self) -> bool {
        matches!(self, Verdict::Accept)
    }
}
