//! The `--accounts FILE.csv` of `congvu import imap`: any text, never a panic; a
//! row it accepts has a source user, a password file and a target address.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(rows) = congvu_migrate::parse_accounts(text, std::path::Path::new("/srv/migration")) {
        for row in rows {
            assert!(!row.source_user.is_empty() && !row.target_address.is_empty(), "{row:?}");
            assert!(row.password_file.is_absolute(), "{row:?}");
        }
    }
});
