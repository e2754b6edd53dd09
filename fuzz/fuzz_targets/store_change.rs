//! A change's text form (`congvu_store::Change`'s `Display` and `FromStr`), what
//! one PostgreSQL node sends the others on `congvu_change`: any text either reads
//! as a change or is refused, never a panic; a change read writes back to exactly
//! the text it was read from (one spelling per change), which reads back equal.
#![no_main]

use congvu_store::Change;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(change) = text.parse::<Change>() {
        let written = change.to_string();
        assert_eq!(written, text);
        assert_eq!(written.parse::<Change>(), Ok(change));
    }
});
