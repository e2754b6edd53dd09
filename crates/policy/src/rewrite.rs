//! Re-encodes a message after a legacy-encoding conversion: the Subject header and the
//! converted text parts become UTF-8, every other byte is kept as received.
//!
//! The message is spliced, not rebuilt: the parts' `Content-Type` and
//! `Content-Transfer-Encoding` fields and bodies are replaced in place at the offsets
//! the walk found ([`crate::mime::TextPart`]), so MIME structure, other headers and
//! attachments are untouched.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::legacy::Legacy;
use crate::mime::Walked;

/// What to rewrite: the converted subject and `(index in Walked::texts, converted text)`.
pub struct Rewrite {
    pub encoding: Legacy,
    pub subject: Option<String>,
    pub parts: Vec<(usize, String)>,
}

/// RFC 2047 §4.1 B-encoded words of at most 45 input bytes (72 characters each),
/// split on character boundaries and folded onto continuation lines.
pub fn encode_header_value(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
    }
    words.join("\r\n ")
}

/// Base64 body in 76-character lines (RFC 2045 §6.8), without a final line break.
pub(crate) fn base64_lines(data: &[u8]) -> String {
    let encoded = STANDARD.encode(data);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    lines.join("\r\n")
}

pub fn rewrite(raw: &[u8], walked: &Walked<'_>, subject: Option<&str>, parts: &[(usize, String)]) -> Vec<u8> {
    // (start, end, replacement), applied in order; ranges never overlap because each
    // is a distinct header or body of the walked message.
    let mut splices: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    if let Some(subject) = subject
        && let Some(field) = &walked.subject_field
    {
        let value = format!("Subject: {}\r\n", encode_header_value(subject));
        splices.push((field.start, field.end, value.into_bytes()));
    }
    for (index, text) in parts {
        let Some(part) = walked.texts.get(*index) else {
            continue;
        };
        for field in &part.encoding_fields {
            splices.push((field.start, field.end, Vec::new()));
        }
        let subtype = if part.html { "html" } else { "plain" };
        let headers =
            format!("Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n");
        splices.push((part.header_start, part.header_start, headers.into_bytes()));
        let (start, end) = (part.body.start, part.body.end);
        let original = raw.get(start..end).unwrap_or_default();
        let trailing = original.len()
            - original
                .iter()
                .rev()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        let mut body = base64_lines(text.as_bytes()).into_bytes();
        body.extend_from_slice(original.get(trailing..).unwrap_or_default());
        splices.push((start, end, body));
    }
    splices.sort_by_key(|(start, end, _)| (*start, *end));
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 3);
    let mut at = 0;
    for (start, end, replacement) in splices {
        if start < at || end > raw.len() {
            continue; // offsets that do not fit the message: leave that span alone
        }
        out.extend_from_slice(raw.get(at..start).unwrap_or_default());
        out.extend_from_slice(&replacement);
        at = end;
    }
    out.extend_from_slice(raw.get(at..).unwrap_or_default());
    out
}
