//! Round trip of the webmail's composer: a message built by
//! `congvu_webmail::compose::build` from any subject, text and files reads back
//! (`congvu_webmail::read`) with every file, byte for byte, in order.
#![no_main]

use congvu_webmail::Mailbox;
use congvu_webmail::compose::{Draft, File, build};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // subject ‖ 0 ‖ text ‖ 0 ‖ file ‖ 0 ‖ file …
    let mut pieces = data.split(|b| *b == 0);
    let subject = String::from_utf8_lossy(pieces.next().unwrap_or_default()).into_owned();
    let text = String::from_utf8_lossy(pieces.next().unwrap_or_default()).into_owned();
    let files: Vec<File> = pieces
        .take(4)
        .enumerate()
        .map(|(i, bytes)| File {
            name: format!("Tệp số {i}.pdf"),
            content_type: "application/pdf".to_owned(),
            bytes: bytes.to_vec(),
        })
        .collect();
    let draft = Draft {
        from: Mailbox {
            name: "Nguyễn Văn Tuấn".to_owned(),
            address: "tuan@thanhhoa.gov.vn".to_owned(),
        },
        to: vec![Mailbox {
            name: String::new(),
            address: "hoa@thanhhoa.gov.vn".to_owned(),
        }],
        subject,
        text,
        message_id: "fuzz@thanhhoa.gov.vn".to_owned(),
        date: 1_796_259_600,
        files: files.clone(),
        ..Draft::default()
    };
    let raw = build(&draft);
    let reading = congvu_webmail::read(&raw, false, &|_| String::new());
    assert_eq!(reading.attachments.len(), files.len(), "{}", String::from_utf8_lossy(&raw));
    for (listed, file) in reading.attachments.iter().zip(&files) {
        let found = congvu_webmail::attachment(&raw, &listed.path).expect("listed attachment");
        assert_eq!(found.bytes, file.bytes);
        assert_eq!(found.name, file.name);
    }
});
