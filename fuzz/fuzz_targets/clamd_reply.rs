//! clamd's answers to `zINSTREAM` and `zPING` as a broken or hostile clamd could write
//! them: any bytes in, never a panic; what is kept of clamd's text (a signature name,
//! an error) is printable ASCII within its bound, so it can go into an SMTP reply or a
//! log line as it is.
#![no_main]

use congvu_antivirus::reply::{
    MAX_ERROR_CHARS, MAX_SIGNATURE_CHARS, ScanReply, UnexpectedReply, parse_pong, parse_scan_reply,
};
use libfuzzer_sys::fuzz_target;

fn printable(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fuzz_target!(|reply: &[u8]| {
    match parse_scan_reply(reply) {
        Ok(ScanReply::Infected(signature)) => {
            let name = signature.as_str();
            assert!(!name.is_empty() && name.len() <= MAX_SIGNATURE_CHARS, "{name:?}");
            assert!(printable(name), "{name:?}");
            assert!(reply.starts_with(b"stream: "), "a finding names the stream");
        }
        Ok(ScanReply::Error(text)) | Err(UnexpectedReply(text)) => {
            assert!(text.len() <= MAX_ERROR_CHARS && printable(&text), "{text:?}");
        }
        Ok(ScanReply::Clean) => assert!(reply.starts_with(b"stream: OK"), "only OK is clean"),
        Ok(ScanReply::SizeLimitExceeded) => {}
    }
    match parse_pong(reply) {
        Ok(()) => assert!(reply.starts_with(b"PONG") && reply.len() <= 5),
        Err(UnexpectedReply(text)) => {
            assert!(text.len() <= MAX_ERROR_CHARS && printable(&text), "{text:?}");
        }
    }
});
