//! The webmail's reading of a stored message (`congvu_webmail::read`) and its
//! sanitiser on whatever bytes arrive: never a panic; every listed attachment and
//! forwarded message is found again by its path; the sanitised HTML holds no
//! script, frame or style element.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn check(reading: &congvu_webmail::Reading, raw: &[u8]) {
    for attachment in &reading.attachments {
        assert!(
            congvu_webmail::attachment(raw, &attachment.path).is_some(),
            "listed attachment {:?} not found",
            attachment.path
        );
    }
    if let Some(html) = &reading.html {
        let lower = html.html.to_ascii_lowercase();
        for banned in ["<script", "<iframe", "<style", "<object", "<embed", "<form", "<meta", "<base"] {
            assert!(!lower.contains(banned), "{banned} survived: {}", html.html);
        }
    }
    for (_, inner) in &reading.forwarded {
        check(inner, raw);
    }
}

fuzz_target!(|raw: &[u8]| {
    for remote in [false, true] {
        let reading = congvu_webmail::read(raw, remote, &|path| format!("/part/{path:?}"));
        check(&reading, raw);
    }
});
