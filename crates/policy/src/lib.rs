//! # congvu-policy — the regulation's rules as pure functions
//!
//! Decision 3380/2013/QĐ-UBND (Thanh Hóa) says what an official address looks like and
//! what a message may carry and when. Every rule here is a pure
//! function of its input: no I/O, no clock, no database. The directory, SMTP and IMAP
//! crates ask this crate *what* the rule says and do the I/O themselves, so every rule can
//! be tested table-driven and fuzzed in isolation.
//!
//! ## Message policy (Art. 6–9)
//!
//! [`evaluate`] takes a whole message ([`MessageInput`]: raw bytes and [`Origin`]) and a
//! [`PolicyConfig`] and returns an [`Evaluation`]: a [`Verdict`] (accept, or refuse
//! with a [`Finding`] carrying a stable [`ReasonCode`], the SMTP reply code and RFC 3463
//! enhanced code, and a text in Vietnamese then English that tells the official what
//! to fix), the rules passed (for the `X-Congvu-Policy` header), the findings only
//! tagged, the message re-encoded when it was written in a legacy encoding, and the
//! files the walk decoded that an antivirus reading MIME would not see
//! ([`ExtractedFile`]: TNEF contents, uuencode/BinHex/yEnc blocks).
//!
//! ```text
//!  raw bytes ─► mime::walk (roles, one budget, limits) ─► dangerous ─► attachment cap
//!     ─► formats ─► encrypted ─► classified ─► subject ─► legacy encoding
//!  each rule: off (skipped) │ passed │ tag (finding, continue) │ reject (stop: Refuse)
//! ```
//!
//! Invariants:
//! 1. No input panics (the pipeline and the decoders are fuzzed, `fuzz/`).
//! 2. Every allocation is bounded by the input or a configured limit: one inspection
//!    budget per message ([`formats::Budget`]) for decoding and inflating, structure
//!    limits ([`LimitsRule`]).
//! 3. Documents (attachments, named parts, the files inside zips, TNEF, forwarded and
//!    signed content, encoded blocks in bodies) meet the allowed formats; the other parts
//!    of a mail ([`mime::Role`]) are checked for what they claim to be; every part is
//!    checked for code, from every origin, and what cannot be inspected (sealed
//!    archives, limits exceeded) is refused like code.
//! 4. The message is never changed except by an explicit legacy conversion, which is
//!    announced in a header, and never when it is signed (S/MIME).
//!
//! Quota (Art. 9.1) is not here: it needs the store, and SMTP/IMAP enforce it.
//!
//! Modules: [`verdict`] (rules, reason codes, findings), [`config`] (the `[policy]`
//! section, origins), [`mime`] (walking a message: roles, boundaries, header blocks by
//! mail-parser), [`transfer`] (base64 and quoted-printable: decoded sizes and heads),
//! [`formats`] (content sniffing, names as saved, zips, the budget), [`tnef`]
//! (`winmail.dat`), [`embedded`] (uuencode, BinHex, yEnc), [`cms`] (pkcs7-mime),
//! [`reading`] (text as a reader sees it), [`subject`] and [`syllable`] (Art. 7),
//! [`legacy`] (TCVN3/VNI/VIQR), [`classified`] (Art. 8.1 stamps), [`rewrite`]
//! (conversion splicing), [`metrics`].

pub mod address;
pub mod classified;
pub mod cms;
pub mod config;
pub mod embedded;
pub mod evaluate;
pub mod formats;
pub mod legacy;
pub mod metrics;
pub mod mime;
pub mod naming;
pub mod reading;
pub mod rewrite;
pub mod subject;
pub mod syllable;
pub mod text;
pub mod tnef;
pub mod transfer;
pub mod verdict;

#[cfg(test)]
mod structure_tests;
#[cfg(test)]
mod tests;

pub use address::{Address, AddressError, Domain, LocalPart};
pub use config::{Action, Cidr, LegacyAction, LimitsRule, Origin, PolicyConfig};
pub use evaluate::{Converted, Evaluation, MessageInput, evaluate};
pub use metrics::{Metrics, MetricsSnapshot};
pub use mime::ExtractedFile;
pub use naming::{Alternatives, Candidate, NamingError};
pub use text::Bilingual;
pub use verdict::{Finding, ReasonCode, Rule, Verdict};
