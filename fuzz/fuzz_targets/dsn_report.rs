//! Delivery status notifications (RFC 3464) built from whatever a sender and a remote
//! server chose (envelope id, ORCPT, recipient, reply text, the original message):
//! never a panic; the report's header section is well-formed fields (folded lines
//! only), every line of its `message/delivery-status` part is one of the RFC's fields
//! (no value can add a field or a line: dsn.rs invariant 1), the returned content is
//! there byte for byte, and the multipart is closed.
#![no_main]

use congvu_relay::dsn::{self, Action, RecipientStatus, Report, Returned};
use congvu_store::OriginalRecipient;
use libfuzzer_sys::fuzz_target;

const FIELDS: [&str; 9] = [
    "Original-Envelope-Id: ",
    "Reporting-MTA: ",
    "Arrival-Date: ",
    "Original-Recipient: ",
    "Final-Recipient: ",
    "Action: ",
    "Status: ",
    "Diagnostic-Code: ",
    "Last-Attempt-Date: ",
];

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

fuzz_target!(|data: &[u8]| {
    let [choice, rest @ ..] = data else { return };
    let mut pieces = rest.splitn(6, |&b| b == 0);
    let mut text = || String::from_utf8_lossy(pieces.next().unwrap_or_default()).into_owned();
    let (sender, envid, recipient, diagnostic, orcpt) = (text(), text(), text(), text(), text());
    let original = pieces.next().unwrap_or_default();
    // The reverse path comes from the SMTP parser: never empty here (no report about a
    // report), never a line break.
    if sender.is_empty() || sender.contains(['\r', '\n']) {
        return;
    }
    let action = [Action::Failed, Action::Delayed, Action::Delivered, Action::Relayed][usize::from(choice % 4)];
    let returned = [Returned::Headers, Returned::Full, Returned::HeadersOfTooLarge][usize::from(choice / 4 % 3)];
    let recipients = [RecipientStatus {
        recipient,
        diagnostic,
        original: (choice & 0x80 != 0).then(|| OriginalRecipient {
            addr_type: "rfc822".into(),
            address: orcpt,
        }),
    }];
    let built = dsn::build(&Report {
        hostname: "mx.a.vn",
        sender: &sender,
        envid: (choice & 0x40 != 0).then_some(envid.as_str()),
        arrived_at: 1_700_000_000,
        action,
        recipients: &recipients,
        original,
        returned,
        now: 1_700_000_100,
    });

    let header_end = find(&built, b"\r\n\r\n").expect("a header section");
    for line in built[..header_end].split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let folded = line.starts_with(b" ") || line.starts_with(b"\t");
        let field = line.iter().position(|&b| b == b':').is_some_and(|colon| colon > 0);
        assert!(folded || field, "not a header line: {:?}", String::from_utf8_lossy(line));
    }

    let status_head = b"Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
    let start = find(&built, status_head).expect("a delivery-status part") + status_head.len();
    let length = find(&built[start..], b"\r\n--=_congvu_dsn_").expect("a delimiter after it");
    for line in built[start..start + length].split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned();
        assert!(
            line.is_empty() || FIELDS.iter().any(|name| line.starts_with(name)),
            "a line no report field starts: {line:?}"
        );
    }

    let content = match returned {
        Returned::Full => original,
        Returned::Headers | Returned::HeadersOfTooLarge => dsn::header_section(original),
    };
    if !content.is_empty() {
        assert!(find(&built, content).is_some(), "the returned content, byte for byte");
    }
    assert!(built.ends_with(b"--\r\n"), "the multipart is closed");
});
