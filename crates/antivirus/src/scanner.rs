//! The clamd client: `INSTREAM` and `PING` over TCP or a unix socket (clamd(8)), one
//! connection per stream.
//!
//! Invariants:
//! 1. The message is never copied: each stream is written from the caller's slices,
//!    in chunks of at most [`CHUNK_BYTES`], each behind its 4-byte big-endian length.
//! 2. A zero-length chunk is sent only as the end of a stream (clamd(8): it ends the
//!    stream), so empty slices are never written as chunks.
//! 3. Scanning one message, every stream included, ends within the configured
//!    timeout; a stream over `max_stream_bytes` is not sent.
//! 4. A message is infected when any of its streams is; a stream that could not be
//!    scanned does not hide an infected one scanned after it.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::config::{AntivirusConfig, ClamdAddress, OnError};
use crate::decision::Decision;
use crate::metrics::Metrics;
use crate::reply::{
    MAX_REPLY_BYTES, ScanReply, SignatureName, UnexpectedReply, parse_pong, parse_scan_reply,
};

/// One byte stream to scan, given as the slices it is made of in memory (for a
/// message, its added header lines then the received bytes), without joining them.
pub type Stream<'a> = &'a [&'a [u8]];

/// Largest chunk written behind one length (invariant 1).
pub const CHUNK_BYTES: usize = 256 * 1024;

// clamd(8): the `z` prefix means NUL-terminated commands and answers.
const INSTREAM: &[u8] = b"zINSTREAM\0";
const PING: &[u8] = b"zPING\0";
const END_OF_STREAM: [u8; 4] = 0u32.to_be_bytes();

/// Why a stream could not be scanned. The texts are safe for a log line (what came
/// from clamd is made printable, see [`crate::reply`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to clamd at {address}: {source}")]
    Connect {
        address: ClamdAddress,
        #[source]
        source: io::Error,
    },
    #[error("connection to clamd broken: {0}")]
    Io(#[source] io::Error),
    #[error("clamd did not answer within {0:?}")]
    Timeout(Duration),
    #[error("a stream of {bytes} bytes is over [antivirus] max_stream_bytes ({limit})")]
    TooLarge { bytes: u64, limit: u64 },
    #[error(
        "clamd refused a stream over its StreamMaxLength: set it to at least [antivirus] max_stream_bytes"
    )]
    SizeLimitExceeded,
    #[error("clamd could not scan: {0}")]
    Clamd(String),
    #[error(transparent)]
    Unexpected(#[from] UnexpectedReply),
}

/// The result of scanning one message.
#[derive(Debug)]
pub enum ScanVerdict {
    Clean,
    Infected { signature: SignatureName },
    Failed(Error),
}

/// Scans messages with one clamd; shared by every session.
#[derive(Debug)]
pub struct Scanner {
    address: ClamdAddress,
    on_error: OnError,
    timeout: Duration,
    max_stream_bytes: u64,
    metrics: Arc<Metrics>,
}

/// What is sent on one connection.
enum Request<'a> {
    Ping,
    Instream(Stream<'a>),
}

impl Scanner {
    /// The scanner the configuration asks for; `None` without a `clamd` address
    /// (scanning is off).
    pub fn from_config(config: &AntivirusConfig) -> Option<Scanner> {
        let address = config.clamd.clone()?;
        Some(Scanner {
            address,
            on_error: config.on_error,
            timeout: config.timeout(),
            max_stream_bytes: config.max_stream_bytes,
            metrics: Arc::default(),
        })
    }

    pub fn address(&self) -> &ClamdAddress {
        &self.address
    }

    /// The counters of [`Scanner::check`], for the metrics endpoint.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Whether clamd answers `PING` within the timeout (a start-up check).
    pub async fn ping(&self) -> Result<(), Error> {
        let reply = tokio::time::timeout(self.timeout, self.exchange(Request::Ping))
            .await
            .map_err(|_| Error::Timeout(self.timeout))??;
        Ok(parse_pong(&reply)?)
    }

    /// Scans a message and decides by `on_error`, counting the outcome in
    /// [`Scanner::metrics`]: the whole raw message as the first stream (clamd reads its
    /// MIME structure itself), then each file the policy walk decoded that clamd would
    /// not find in it (TNEF contents, uuencoded bodies).
    pub async fn check(&self, streams: &[Stream<'_>]) -> Decision {
        let decision = self.on_error.decide(self.scan(streams).await);
        self.metrics.record(&decision);
        decision
    }

    /// Scans each stream (invariants 3 and 4); counts nothing.
    pub async fn scan(&self, streams: &[Stream<'_>]) -> ScanVerdict {
        tokio::time::timeout(self.timeout, self.scan_each(streams))
            .await
            .unwrap_or(ScanVerdict::Failed(Error::Timeout(self.timeout)))
    }

    async fn scan_each(&self, streams: &[Stream<'_>]) -> ScanVerdict {
        let mut first_failure = None;
        for stream in streams {
            match self.scan_one(stream).await {
                Ok(None) => {}
                Ok(Some(signature)) => return ScanVerdict::Infected { signature },
                Err(error) => {
                    first_failure.get_or_insert(error);
                }
            }
        }
        first_failure.map_or(ScanVerdict::Clean, ScanVerdict::Failed)
    }

    /// The signature found in one stream, if any.
    async fn scan_one(&self, stream: Stream<'_>) -> Result<Option<SignatureName>, Error> {
        let bytes: u64 = stream.iter().map(|part| part.len() as u64).sum();
        if bytes == 0 {
            return Ok(None);
        }
        if bytes > self.max_stream_bytes {
            return Err(Error::TooLarge {
                bytes,
                limit: self.max_stream_bytes,
            });
        }
        match parse_scan_reply(&self.exchange(Request::Instream(stream)).await?)? {
            ScanReply::Clean => Ok(None),
            ScanReply::Infected(signature) => Ok(Some(signature)),
            ScanReply::SizeLimitExceeded => Err(Error::SizeLimitExceeded),
            ScanReply::Error(text) => Err(Error::Clamd(text)),
        }
    }

    /// Sends one request on a new connection and returns clamd's answer.
    async fn exchange(&self, request: Request<'_>) -> Result<Vec<u8>, Error> {
        let connect_error = |source| Error::Connect {
            address: self.address.clone(),
            source,
        };
        match &self.address {
            ClamdAddress::Tcp(address) => {
                let socket = TcpStream::connect(address).await.map_err(connect_error)?;
                // The 4-byte lengths must leave at once, not wait for an ACK (Nagle).
                socket.set_nodelay(true).map_err(Error::Io)?;
                request.send(socket).await
            }
            ClamdAddress::Unix(path) => {
                let socket = UnixStream::connect(path).await.map_err(connect_error)?;
                request.send(socket).await
            }
        }
    }
}

impl Request<'_> {
    async fn send<S: AsyncRead + AsyncWrite + Unpin>(self, mut socket: S) -> Result<Vec<u8>, Error> {
        let written = match self {
            Request::Ping => socket.write_all(PING).await,
            Request::Instream(stream) => write_instream(&mut socket, stream).await,
        };
        let reply = read_reply(&mut socket).await;
        match (written, reply) {
            (Ok(()), reply) => reply.map_err(Error::Io),
            // clamd answers and closes while a stream passing its StreamMaxLength is
            // still being sent: its answer tells why better than the broken pipe.
            (Err(_), Ok(reply)) if !reply.is_empty() => Ok(reply),
            (Err(error), _) => Err(Error::Io(error)),
        }
    }
}

/// `zINSTREAM\0`, the chunks, the zero-length end (invariants 1 and 2).
async fn write_instream<S: AsyncWrite + Unpin>(socket: &mut S, stream: Stream<'_>) -> io::Result<()> {
    socket.write_all(INSTREAM).await?;
    for chunk in stream.iter().flat_map(|part| part.chunks(CHUNK_BYTES)) {
        let length = u32::try_from(chunk.len()).map_err(io::Error::other)?;
        socket.write_all(&length.to_be_bytes()).await?;
        socket.write_all(chunk).await?;
    }
    socket.write_all(&END_OF_STREAM).await?;
    socket.flush().await
}

/// clamd's answer up to its NUL (or the end of the connection), at most
/// [`MAX_REPLY_BYTES`].
async fn read_reply<S: AsyncRead + Unpin>(socket: &mut S) -> io::Result<Vec<u8>> {
    let mut reply = Vec::new();
    let mut buffer = [0u8; 256];
    while reply.len() < MAX_REPLY_BYTES {
        let read = socket.read(&mut buffer).await?;
        let Some(received) = buffer.get(..read).filter(|received| !received.is_empty()) else {
            break;
        };
        if let Some(end) = received.iter().position(|&b| b == 0) {
            reply.extend_from_slice(received.get(..end).unwrap_or(received));
            break;
        }
        reply.extend_from_slice(received);
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a client writes for a stream, read back as clamd reads it.
    fn chunks_of(written: &[u8]) -> Vec<Vec<u8>> {
        let mut rest = written.strip_prefix(INSTREAM).expect("the command first");
        let mut chunks = Vec::new();
        loop {
            let (length, after) = rest.split_at(4);
            let length = u32::from_be_bytes(length.try_into().unwrap()) as usize;
            if length == 0 {
                assert!(after.is_empty(), "nothing after the end of the stream");
                return chunks;
            }
            chunks.push(after[..length].to_vec());
            rest = &after[length..];
        }
    }

    #[tokio::test]
    async fn slices_become_chunks_without_empty_ones() {
        let big = vec![b'x'; CHUNK_BYTES + 10];
        let stream: &[&[u8]] = &[b"Received: a\r\n", b"", &big, b"end"];
        let mut written = Vec::new();
        write_instream(&mut written, stream).await.unwrap();
        let chunks = chunks_of(&written);
        let lengths: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(lengths, [13, CHUNK_BYTES, 10, 3]);
        assert_eq!(chunks.concat(), stream.concat());
    }

    #[tokio::test]
    async fn reply_stops_at_nul_or_bound() {
        let mut answer: &[u8] = b"stream: OK\0trailing";
        assert_eq!(read_reply(&mut answer).await.unwrap(), b"stream: OK");
        let mut closed: &[u8] = b"PONG";
        assert_eq!(read_reply(&mut closed).await.unwrap(), b"PONG");
        let endless = vec![b'a'; 10 * MAX_REPLY_BYTES];
        let read = read_reply(&mut endless.as_slice()).await.unwrap();
        assert!(read.len() < MAX_REPLY_BYTES + 256, "bounded: {}", read.len());
    }
}
