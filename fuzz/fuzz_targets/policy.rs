//! The whole policy pipeline: arbitrary bytes as a message, for every origin, with the
//! default rules (zips, OOXML and ODF opened; TNEF, pkcs7-mime and uuencode/BinHex/yEnc
//! bodies decoded) and with a tiny inspection budget and tiny limits (so the budget
//! paths run) — a verdict must come out, never a panic; files extracted stay within the
//! budget; a conversion must still parse. The same bytes as
//! a base64 or quoted-printable body: the size counted while keeping a few bytes is the
//! length of the full decoding, and the bytes kept are its start (the attachment cap
//! relies on it).
#![no_main]

use congvu_policy::transfer::{TransferEncoding, decode};
use congvu_policy::{LegacyAction, MessageInput, Origin, PolicyConfig, evaluate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    for encoding in [TransferEncoding::Base64, TransferEncoding::QuotedPrintable] {
        let whole = decode(encoding, raw, usize::MAX);
        if let Some(whole) = &whole {
            assert_eq!(whole.size, whole.head.len() as u64);
        }
        for keep in [0, 1, 3, 1024] {
            let head = decode(encoding, raw, keep);
            assert_eq!(head.is_some(), whole.is_some());
            if let (Some(head), Some(whole)) = (head, &whole) {
                assert_eq!(head.size, whole.size);
                assert_eq!(head.head, whole.head[..keep.min(whole.head.len())]);
            }
        }
    }
    let default = PolicyConfig::default();
    let mut tight = PolicyConfig::default();
    tight.formats.max_zip_bytes = 4096;
    tight.formats.max_zip_entries = 4;
    tight.limits.max_parts = 8;
    tight.limits.max_multipart_depth = 3;
    tight.limits.max_forward_depth = 1;
    tight.legacy_encoding.action = LegacyAction::Convert;
    for config in [&default, &tight] {
        for origin in [Origin::Submission, Origin::AgencyRelay, Origin::Internet] {
            let evaluation = evaluate(&MessageInput { raw, origin }, config);
            let _ = evaluation.headers();
            let extracted: u64 = evaluation.extracted.iter().map(|f| f.data.len() as u64).sum();
            assert!(extracted <= config.formats.max_zip_bytes);
            assert!(evaluation.extracted.len() as u64 <= u64::from(config.formats.max_zip_entries));
            if let Some(converted) = &evaluation.converted {
                // The rewritten message goes through the pipeline again unharmed.
                let _ = evaluate(
                    &MessageInput {
                        raw: &converted.message,
                        origin,
                    },
                    config,
                );
            }
        }
    }
});
