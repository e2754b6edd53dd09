//! The one RFC 5322 header splitter (`congvu_protocol::rfc5322`) over any bytes:
//! its invariants 1 and 2 hold, and nothing panics.
#![no_main]

use congvu_protocol::rfc5322;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|message: &[u8]| {
    let (fields_len, header_len) = (rfc5322::fields_len(message), rfc5322::header_len(message));
    // Invariant 1: the empty line is 0, 1 or 2 bytes, within the message.
    assert!(fields_len <= header_len && header_len <= message.len());
    assert!(header_len - fields_len <= 2);
    let (header, body) = rfc5322::split(message);
    assert_eq!((header.len(), header.len() + body.len()), (header_len, message.len()));
    // Invariant 2: the fields' raw bytes end to end are the header fields exactly.
    let joined: Vec<u8> = rfc5322::fields(message).flat_map(|field| field.raw.iter().copied()).collect();
    assert_eq!(joined, &message[..fields_len]);
    for field in rfc5322::fields(message) {
        assert!(field.name.is_empty() || field.name.iter().all(u8::is_ascii_graphic));
    }
});
