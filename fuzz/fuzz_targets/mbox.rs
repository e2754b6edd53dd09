//! The mbox reader of `congvu import mbox` (and of re-imported purge archives): any
//! bytes as a file, never a panic, every message handed over with CRLF line ends;
//! and a message the writer wrote (CRLF, ending with a line end, without the flag
//! fields the reader takes back) is read back byte for byte with its flags.
#![no_main]

use congvu_migrate::mbox::{Envelope, write_message};
use congvu_migrate::{MboxSource, MessageSink, SourceMessage, Source};
use congvu_store::Flags;
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Collect(Vec<SourceMessage>);

impl MessageSink for Collect {
    fn sized(&mut self, _: u64, _: u64) {}
    fn message(&mut self, message: SourceMessage) -> congvu_migrate::Result<()> {
        self.0.push(message);
        Ok(())
    }
}

fn read(bytes: &[u8]) -> Vec<SourceMessage> {
    let dir = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    let path = dir.path().join("in.mbox");
    std::fs::write(&path, bytes).unwrap();
    let mut source = MboxSource::file(&path, "INBOX").unwrap();
    let folders = source.folders().unwrap();
    let mut collect = Collect::default();
    source.read(&folders[0], &mut collect).unwrap();
    collect.0
}

fn canonical(message: &[u8]) -> bool {
    let lines_ok = message.iter().enumerate().all(|(i, b)| match b {
        b'\n' => i > 0 && message[i - 1] == b'\r',
        b'\r' => message.get(i + 1) == Some(&b'\n'),
        _ => true,
    });
    let lower = message.to_ascii_lowercase();
    let has_flag_field = [&b"status:"[..], b"x-keywords:"]
        .iter()
        .any(|field| lower.windows(field.len()).any(|w| w == *field));
    !message.is_empty() && message.ends_with(b"\r\n") && lines_ok && !has_flag_field
}

fuzz_target!(|data: &[u8]| {
    for message in read(data) {
        let bare_lf = message.bytes.iter().enumerate().any(|(i, b)| *b == b'\n' && (i == 0 || message.bytes[i - 1] != b'\r'));
        assert!(!bare_lf, "a message left with a bare LF");
    }

    if canonical(data) {
        let flags = Flags(data[0] & 0x1f);
        let mut file = Vec::new();
        write_message(
            &mut file,
            Envelope {
                internal_date: 1_700_000_000,
                flags,
                keywords: &["$Forwarded".to_owned()],
            },
            data,
        )
        .unwrap();
        let back = read(&file);
        assert_eq!(back.len(), 1, "one message written, {} read", back.len());
        assert_eq!(back[0].bytes, data);
        assert_eq!(back[0].flags, flags);
        assert_eq!(back[0].keywords, ["$Forwarded"]);
    }
});
