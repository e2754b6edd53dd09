//! # congvu-policy — the regulation's rules as pure functions
//!
//! Decision 3380/2013/QĐ-UBND (Thanh Hóa) says what an official address looks like and,
//! later in this crate, what a message may carry and when. Every rule here is a pure
//! function of its input: no I/O, no clock, no database. The directory, SMTP and IMAP
//! crates ask this crate *what* the rule says and do the I/O themselves, so every rule can
//! be tested table-driven and fuzzed in isolation.
//!
//! Message verdicts (a later issue) will carry an SMTP reply code (RFC 5321 §4.2) and an
//! enhanced status code (RFC 3463) with a bilingual text — Vietnamese first, then English —
//! because the people reading bounces are Vietnamese officials and their foreign
//! correspondents.
//!
//! What is here now:
//! - [`address`]: validated newtypes for the addresses congvu issues ([`Domain`],
//!   [`LocalPart`], [`Address`]); parsed once at the boundary, lower-case ASCII from then on.
//! - [`naming`]: Art. 3 address derivation — Vietnamese folding, the personal
//!   `<given><family initial><middle initials>.<agency>` scheme, agency abbreviations, and
//!   the ranked alternatives offered when a derived address is already taken.
//! - [`text`]: [`Bilingual`], the Vietnamese-and-English text every explanation carries.

pub mod address;
pub mod naming;
pub mod text;

pub use address::{Address, AddressError, Domain, LocalPart};
pub use naming::{Alternatives, Candidate, NamingError};
pub use text::Bilingual;
