//! The whole policy pipeline: arbitrary bytes as a message, for every origin, with the
//! default rules and with archives and OOXML allowed (so zips are walked) — a verdict
//! must come out, never a panic, and a conversion must still parse.
#![no_main]

use congvu_policy::formats::Format;
use congvu_policy::{LegacyAction, MessageInput, Origin, PolicyConfig, evaluate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    let default = PolicyConfig::default();
    let mut open = PolicyConfig::default();
    open.formats.allowed.extend([Format::Zip, Format::Docx, Format::Xlsx, Format::Pptx]);
    open.legacy_encoding.action = LegacyAction::Convert;
    for config in [&default, &open] {
        for origin in [Origin::Submission, Origin::AgencyRelay, Origin::Internet] {
            let evaluation = evaluate(&MessageInput { raw, origin }, config);
            let _ = evaluation.headers();
            if let Some(converted) = &evaluation.converted {
                // The rewritten message goes through the pipeline again unharmed.
                let _ = evaluate(&MessageInput { raw: &converted.message, origin }, config);
            }
        }
    }
});
