//! The policy's own decoders on arbitrary bytes: TNEF streams, uuencode/BinHex/yEnc
//! blocks in text, CMS (pkcs7-mime) structures, file-name normalisation and the
//! reader's view of text. None may panic; every output stays within the budget given
//! (entries and bytes), and normalising a name or a text twice changes nothing more.
#![no_main]

use congvu_policy::cms;
use congvu_policy::embedded;
use congvu_policy::formats::{Budget, file_name};
use congvu_policy::reading::as_read;
use congvu_policy::tnef;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let budget = || Budget {
        entries: 16,
        bytes: 1 << 20,
    };
    let mut left = budget();
    if let Ok(files) = tnef::files(data, &mut left) {
        let bytes: usize = files.iter().map(|f| f.data.len()).sum();
        assert!(files.len() <= 16 && bytes <= 1 << 20);
        assert_eq!((16 - left.entries) as usize, files.len());
    }
    let mut left = budget();
    if let Ok(files) = embedded::files(data, &mut left) {
        let bytes: usize = files.iter().map(|f| f.data.len()).sum();
        assert!(files.len() <= 16 && bytes <= 1 << 20);
    }
    if let cms::Pkcs7::Signed(content) = cms::read(data) {
        assert!(content.len() <= data.len());
    }
    let text = String::from_utf8_lossy(data);
    let name = file_name(&text);
    assert_eq!(file_name(&name), name);
    let read = as_read(&text);
    assert_eq!(as_read(&read), read);
});
