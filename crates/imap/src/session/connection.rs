//! The byte stream under a session: plain TCP or TLS (switched in place by
//! STARTTLS), optionally deflated inside that (COMPRESS, RFC 4978), an input buffer
//! the framer reads from, an output buffer responses are written to, and byte
//! counters (bytes on the wire) for the session log line.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::codec::deflate::Deflate;

/// Bytes asked of the socket per read while a command is arriving.
const READ_CHUNK: usize = 16 * 1024;

/// Buffer for the first read of a command: most commands fit, and a session
/// waiting between commands (IDLE above all) holds only this much.
const FIRST_READ: usize = 1024;

/// Output is sent once this much is buffered, so a large FETCH streams.
pub(crate) const FLUSH_THRESHOLD: usize = 64 * 1024;

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while STARTTLS swaps the stream, or after a failed handshake.
    Closed,
}

pub(crate) struct Connection {
    stream: Stream,
    /// Set by COMPRESS DEFLATE; boxed so idle sessions without it stay small.
    compression: Option<Box<Deflate>>,
    pub input: Vec<u8>,
    pub output: Vec<u8>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl Connection {
    pub fn plain(stream: TcpStream) -> Connection {
        Connection {
            stream: Stream::Plain(stream),
            compression: None,
            input: Vec::new(),
            output: Vec::new(),
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// Implicit TLS: the handshake comes first.
    pub async fn tls(stream: TcpStream, acceptor: &TlsAcceptor, timeout: Duration) -> io::Result<Connection> {
        let mut conn = Connection::plain(stream);
        conn.start_tls(acceptor, timeout).await?;
        Ok(conn)
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Reads what the peer has sent into `input`; 0 at end of stream.
    pub async fn read_more(&mut self) -> io::Result<usize> {
        if self.input.is_empty() {
            // Drops what an earlier long command grew the buffer to.
            self.input = Vec::with_capacity(FIRST_READ);
        } else if self.compression.is_none() {
            self.input.reserve(READ_CHUNK);
        }
        if self.compression.is_some() {
            return self.read_compressed().await;
        }
        let n = self.read_raw_into_input().await?;
        self.bytes_in += n as u64;
        Ok(n)
    }

    async fn read_raw_into_input(&mut self) -> io::Result<usize> {
        Ok(match &mut self.stream {
            Stream::Plain(s) => s.read_buf(&mut self.input).await?,
            Stream::Tls(s) => s.read_buf(&mut self.input).await?,
            Stream::Closed => 0,
        })
    }

    /// [`Connection::read_more`] under COMPRESS: inflates what has arrived, at most
    /// a read's worth at a time. Nothing is awaited between taking bytes off the
    /// socket and inflating them, so a read cancelled by the idle timer loses
    /// nothing.
    async fn read_compressed(&mut self) -> io::Result<usize> {
        loop {
            let Some(z) = self.compression.as_mut() else {
                return Ok(0);
            };
            if !z.has_pending() {
                let mut wire = Vec::with_capacity(READ_CHUNK);
                let n = match &mut self.stream {
                    Stream::Plain(s) => s.read_buf(&mut wire).await?,
                    Stream::Tls(s) => s.read_buf(&mut wire).await?,
                    Stream::Closed => 0,
                };
                if n == 0 {
                    return Ok(0);
                }
                self.bytes_in += n as u64;
                z.push_input(&wire);
            }
            let produced = z.inflate_into(&mut self.input, READ_CHUNK)?;
            if produced > 0 {
                return Ok(produced);
            }
        }
    }

    /// Starts COMPRESS DEFLATE (RFC 4978 §3): from here on both directions are
    /// deflated. Input already buffered came after the command, so it is
    /// compressed data too. Call after the tagged OK has been flushed.
    pub fn start_compression(&mut self) -> io::Result<()> {
        let mut z = Deflate::new();
        z.push_input(&std::mem::take(&mut self.input));
        // One read's worth now; the rest is inflated as the session asks for input.
        z.inflate_into(&mut self.input, READ_CHUNK)?;
        self.compression = Some(z);
        Ok(())
    }

    pub fn is_compressed(&self) -> bool {
        self.compression.is_some()
    }

    /// Sends everything in `output`. Under COMPRESS each flush ends with a deflate
    /// flush, so the client can act on every response sent so far.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let deflated = match &mut self.compression {
            Some(z) => {
                let mut wire = Vec::with_capacity(self.output.len() / 2 + 64);
                z.deflate_flush(&self.output, &mut wire)?;
                Some(wire)
            }
            None => None,
        };
        let wire = deflated.as_deref().unwrap_or(&self.output);
        match &mut self.stream {
            Stream::Plain(s) => {
                s.write_all(wire).await?;
                s.flush().await?;
            }
            Stream::Tls(s) => {
                s.write_all(wire).await?;
                s.flush().await?;
            }
            Stream::Closed => return Err(io::ErrorKind::NotConnected.into()),
        }
        self.bytes_out += wire.len() as u64;
        self.output.clear();
        // A FETCH may have grown the buffer far past what the next replies need.
        if self.output.capacity() > FLUSH_THRESHOLD {
            self.output.shrink_to(FLUSH_THRESHOLD);
        }
        Ok(())
    }

    /// Flushes only when enough output has accumulated.
    pub async fn flush_if_large(&mut self) -> io::Result<()> {
        if self.output.len() >= FLUSH_THRESHOLD {
            self.flush().await?;
        }
        Ok(())
    }

    /// Switches to TLS. Input received before the handshake is discarded: it was
    /// sent in the clear and must not be taken as protected (RFC 3501 §6.2.1,
    /// RFC 7817 §3 / the STARTTLS command-injection attack).
    /// The TLS handshake, at most `timeout` long (`[imap] tls_handshake_timeout_secs`).
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor, timeout: Duration) -> io::Result<()> {
        self.input.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            return Err(io::Error::other("TLS is already active"));
        };
        let tls = tokio::time::timeout(timeout, acceptor.accept(tcp))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
        self.stream = Stream::Tls(Box::new(tls));
        Ok(())
    }

    /// Flushes and closes the write side (TLS close_notify included).
    pub async fn close(&mut self) {
        let _ = self.flush().await;
        match &mut self.stream {
            Stream::Plain(s) => {
                let _ = s.shutdown().await;
            }
            Stream::Tls(s) => {
                let _ = s.shutdown().await;
            }
            Stream::Closed => {}
        }
    }

    /// Removes the first `n` bytes of input and returns them.
    pub fn take_input(&mut self, n: usize) -> Vec<u8> {
        if n >= self.input.len() {
            std::mem::take(&mut self.input)
        } else {
            let rest = self.input.split_off(n);
            std::mem::replace(&mut self.input, rest)
        }
    }
}
