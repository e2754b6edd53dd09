//! Time per message of a clamd scan, for `docs/benchmarks.md`: a 10 KB and a 10 MB
//! MIME message (a base64 attachment of pseudo-random bytes, so clamd decodes it),
//! each scanned `RUNS` times through TCP and through a unix socket against the private
//! clamd of `test_clamd`; p50 and p99 printed.
//!
//! `cargo run -p congvu-antivirus --features test-clamd --example scan_times`

use std::time::{Duration, Instant};

use congvu_antivirus::test_clamd::{Listen, TestClamd};
use congvu_antivirus::{Decision, Scanner};

const RUNS: usize = 50;

/// A message of about `size` bytes: headers, a text part, a base64 attachment.
fn message(size: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let raw: Vec<u8> = (0..size * 3 / 4)
        .map(|_| {
            // xorshift64: incompressible filler without a dependency.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let mut message = b"From: a@thanhhoa.gov.vn\r\nTo: b@thanhhoa.gov.vn\r\n\
        Subject: =?UTF-8?B?QsOhbyBjw6Fv?=\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nXin chao\r\n--b\r\n\
        Content-Type: application/octet-stream; name=data.bin\r\n\
        Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for line in raw.chunks(57) {
        for group in line.chunks(3) {
            let bytes = [group[0], *group.get(1).unwrap_or(&0), *group.get(2).unwrap_or(&0)];
            let n = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
            for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
                let symbol = if i > group.len() {
                    b'='
                } else {
                    ALPHABET[(n >> shift & 63) as usize]
                };
                message.push(symbol);
            }
        }
        message.extend_from_slice(b"\r\n");
    }
    message.extend_from_slice(b"--b--\r\n");
    message
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("congvu-antivirus scan times ({profile} build of congvu, {RUNS} runs each)");
    println!("| transport | message | bytes | p50 | p99 |");
    println!("|---|---|---|---|---|");
    for listen in [Listen::Tcp, Listen::Unix] {
        let clamd = TestClamd::start(listen).expect("clamd installed");
        let scanner = Scanner::from_config(&clamd.config()).expect("configured");
        for (label, size) in [("10 KB", 10_000), ("10 MB", 10_000_000)] {
            let body = message(size);
            let prefix = b"Received: from client by mail.thanhhoa.gov.vn\r\n";
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let started = Instant::now();
                let decision = scanner.check(&[&[prefix, &body]]).await;
                times.push(started.elapsed());
                assert!(matches!(decision, Decision::Accept), "{decision:?}");
            }
            times.sort();
            println!(
                "| {listen:?} | {label} | {} | {:.1} ms | {:.1} ms |",
                body.len() + prefix.len(),
                percentile(&times, 50).as_secs_f64() * 1000.0,
                percentile(&times, 99).as_secs_f64() * 1000.0,
            );
        }
    }
}
