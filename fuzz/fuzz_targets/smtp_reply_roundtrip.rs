//! SMTP reply round trip, client side: any lines another server sends are read by
//! the relay's reply parser without a panic; a reply it finishes has a 2xx–5xx code,
//! at most `MAX_LINES` lines and no control character but TAB in them, and written
//! back as congvu's server side writes replies, it reads back as the same reply,
//! finishing on its last line and not before (when its lines still fit `MAX_LINE`:
//! invalid UTF-8 is read as U+FFFD, three bytes for one).
#![no_main]

use congvu_protocol::smtp::Reply;
use congvu_protocol::smtp::reply_parser::{MAX_LINE, MAX_LINES, ReplyParser, ServerReply};
use libfuzzer_sys::fuzz_target;

fn read(wire: &[u8]) -> Vec<Result<Option<ServerReply>, String>> {
    let mut parser = ReplyParser::default();
    wire.split_inclusive(|&b| b == b'\n')
        .map(|line| parser.push(line).map_err(|e| e.to_string()))
        .collect()
}

fuzz_target!(|wire: &[u8]| {
    for read in read(wire) {
        let Ok(Some(reply)) = read else { continue };
        assert!((200..600).contains(&reply.code), "{reply:?}");
        assert!(!reply.lines.is_empty() && reply.lines.len() <= MAX_LINES, "{reply:?}");
        assert!(
            reply.lines.iter().all(|l| !l.chars().any(|c| c.is_control() && c != '\t')),
            "{reply:?}"
        );
        if reply.lines.iter().any(|l| l.len() + 6 > MAX_LINE) {
            continue;
        }
        let mut again = Vec::new();
        Reply::plain(reply.code, reply.lines.join("\n")).write_to(&mut again);
        let results = self::read(&again);
        let (last, before) = results.split_last().expect("at least one line");
        assert!(before.iter().all(|r| matches!(r, Ok(None))), "{reply:?} {before:?}");
        assert_eq!(last, &Ok(Some(reply)));
    }
});
