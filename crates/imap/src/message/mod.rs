//! Views of a stored message for FETCH and SEARCH, computed from its raw bytes:
//! ENVELOPE, BODY/BODYSTRUCTURE, `BODY[section]` and decoded text.
//!
//! The MIME tree is parsed here rather than taken from `mail-parser`, because IMAP
//! needs the exact byte ranges of every part as stored (sizes, line counts, section
//! contents) and the header text as written; `mail-parser` is used where decoding is
//! wanted (SEARCH text, Date: headers).

mod address;
mod binary;
pub(crate) mod header;
mod mime;
mod render;
mod section;
mod subject;
mod summary;
pub(crate) mod text;

use std::borrow::Cow;

use crate::codec::fetch::Section;

pub(crate) use binary::UnknownCte;
pub(crate) use summary::{Summary, unicode_casemap};
pub(crate) use text::{Searchable, normalize};

/// A raw message with its MIME structure.
pub(crate) struct Message<'a> {
    raw: &'a [u8],
    root: mime::Entity,
}

impl<'a> Message<'a> {
    pub fn parse(raw: &'a [u8]) -> Message<'a> {
        Message {
            raw,
            root: mime::Entity::parse(raw),
        }
    }

    pub fn write_envelope(&self, out: &mut Vec<u8>) {
        render::write_envelope(out, self.root.header_bytes(self.raw));
    }

    /// BODYSTRUCTURE when `extended`, BODY otherwise.
    pub fn write_structure(&self, out: &mut Vec<u8>, extended: bool) {
        render::write_structure(out, self.raw, &self.root, extended);
    }

    pub fn section(&self, section: &Section) -> Option<Cow<'a, [u8]>> {
        section::extract(self.raw, &self.root, section)
    }

    pub fn searchable(&self) -> Searchable<'a> {
        Searchable::new(self.raw, self.root.header_bytes(self.raw))
    }

    /// The message's header block.
    pub fn header(&self) -> &'a [u8] {
        self.root.header_bytes(self.raw)
    }

    /// `BINARY[part]`: the part's content, transfer encoding undone (RFC 3516).
    pub fn binary(&self, part: &[u32]) -> Result<Option<Cow<'a, [u8]>>, UnknownCte> {
        binary::decoded(self.raw, &self.root, part)
    }

    /// The header fields SORT and THREAD use.
    pub fn summary(&self) -> Summary {
        Summary::parse(self.root.header_bytes(self.raw))
    }
}

/// What FETCH writes of one raw message: ENVELOPE, BODY and BODYSTRUCTURE as
/// written on the wire, and the bytes of each section asked for (`None`: NIL).
/// Public for the `imap_render` fuzz target only.
#[doc(hidden)]
pub struct Rendering<'a> {
    pub envelope: Vec<u8>,
    pub body: Vec<u8>,
    pub body_structure: Vec<u8>,
    pub sections: Vec<Option<Cow<'a, [u8]>>>,
}

/// Renders `raw` as FETCH does (see [`Rendering`]).
#[doc(hidden)]
pub fn render<'a>(raw: &'a [u8], sections: &[Section]) -> Rendering<'a> {
    let message = Message::parse(raw);
    let mut rendering = Rendering {
        envelope: Vec::new(),
        body: Vec::new(),
        body_structure: Vec::new(),
        sections: sections.iter().map(|section| message.section(section)).collect(),
    };
    message.write_envelope(&mut rendering.envelope);
    message.write_structure(&mut rendering.body, false);
    message.write_structure(&mut rendering.body_structure, true);
    rendering
}

#[cfg(test)]
mod robustness {
    use super::*;
    use crate::codec::fetch::SectionText;

    const PIECES: &[&[u8]] = &[
        b"Content-Type: multipart/mixed; boundary=b\r\n",
        b"Content-Type: message/rfc822\r\n",
        b"Content-Type: multipart/digest; boundary=\"b\"\r\n",
        b"Content-Type: text/plain\r\n",
        b"From: \"a\" <b@c>, (x) d@e; g: h@i;\r\n",
        b"Subject: =?UTF-8?B?w6k=?=\r\n",
        b"\r\n",
        b"\n",
        b"--b\r\n",
        b"--b--\r\n",
        b" folded\r\n",
        b"body text\r\n",
        b"\xff\xfe",
        b"Content-Disposition: a; b=\"",
        b"Date: Tue, 5 Mar 2024 09:30:00 +0700\r\n",
        b"(((",
        b"<<@",
        b"Content-Transfer-Encoding: base64\r\n",
    ];

    #[test]
    fn random_messages_never_panic() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let sections = [
            Section {
                part: vec![],
                text: None,
            },
            Section {
                part: vec![1],
                text: Some(SectionText::Mime),
            },
            Section {
                part: vec![1, 1],
                text: Some(SectionText::Header),
            },
            Section {
                part: vec![2, 1, 1],
                text: Some(SectionText::Text),
            },
        ];
        for _ in 0..5_000 {
            let mut raw = Vec::new();
            for _ in 0..next() % 40 {
                raw.extend_from_slice(PIECES[(next() as usize) % PIECES.len()]);
            }
            let message = Message::parse(&raw);
            let mut out = Vec::new();
            message.write_envelope(&mut out);
            message.write_structure(&mut out, true);
            for section in &sections {
                let _ = message.section(section);
            }
            let searchable = message.searchable();
            let _ = searchable.text_contains("x") || searchable.header_contains("From", "a");
            let _ = searchable.sent_date();
        }
    }
}
