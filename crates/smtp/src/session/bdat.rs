//! BDAT (RFC 3030, CHUNKING): the mail data in chunks of announced size, instead
//! of DATA's dot-terminated stream. The driver reads each chunk; this file decides
//! what happens to it and what the reply is.
//!
//! Invariants:
//! 1. **Every chunk's octets are read**, accepted or refused (RFC 3030 §2): a refused
//!    BDAT gets its reply only after its octets were consumed and dropped, so the
//!    next command is read where the client sent it. Only a BDAT whose size cannot
//!    be read loses the framing: `501 5.5.4` and the connection is closed (a 5xx,
//!    not a 421, so that the sender's server bounces instead of retrying the same
//!    broken command for days).
//! 2. **One line-ending rule**: the chunks of a transaction go through one
//!    [`CanonicalSink`], as DATA does, so a bare CR or LF is repaired the same way
//!    whether or not it lies on a chunk boundary; with no BINARYMIME offered this is
//!    right for every chunk.
//! 3. **Bounded memory**: the sink holds at most `max_message_bytes`; a chunk that
//!    alone is larger is refused (`552 5.3.4`, the transaction aborted) and dropped
//!    while read; a total that grows past the limit is refused after LAST (as DATA,
//!    RFC 1870 §6.3).
//! 4. **`250` after LAST means what it means after DATA**: the collected message goes
//!    to [`Session::data_received`], which runs every check and stores it.
//! 5. Out of sequence (RFC 3030 §3): BDAT without MAIL → `503`, without an accepted
//!    RCPT → `503` or `554`; DATA or RCPT after a BDAT of the transaction → `503`
//!    and the transaction is aborted (RFC 3030 leaves the state "indeterminate"; an
//!    abort frees the data at once). RSET and EHLO discard the collected chunks.
//!
//! A non-LAST chunk is answered `250 2.0.0`; the driver batches these replies with
//! the next ones when the client pipelines (RFC 3030 §4.2). Shutdown between two
//! chunks closes the session with `421` like any idle moment: nothing was
//! acknowledged, so the sender sends the whole message again.

use tracing::debug;

use super::{Action, Session, State};
use crate::parse::{CanonicalSink, ChunkReader};
use crate::reply::Reply;

/// One BDAT chunk on its way through the driver.
#[derive(Debug)]
pub(crate) struct Chunk {
    reader: ChunkReader,
    fate: Fate,
}

#[derive(Debug)]
enum Fate {
    /// Refused: the octets are dropped, then the reply is sent.
    Refused(Reply),
    /// Added to the transaction's data; LAST ends the transfer.
    Kept { sink: CanonicalSink, last: bool },
}

impl Chunk {
    fn refused(size: u64, reply: Reply) -> Chunk {
        Chunk {
            reader: ChunkReader::new(size),
            fate: Fate::Refused(reply),
        }
    }

    /// Takes what belongs to the chunk from `input`. Returns how many bytes were
    /// used and whether the chunk is complete; the rest of `input` is the next
    /// command's.
    pub(crate) fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let octets = self.reader.take(input);
        if let Fate::Kept { sink, .. } = &mut self.fate {
            sink.push(octets);
        }
        (octets.len(), self.reader.is_complete())
    }

    /// Octets of this chunk read so far.
    pub(crate) fn received(&self) -> u64 {
        self.reader.received()
    }
}

impl Session {
    /// `BDAT <size> [LAST]`: the driver reads the chunk next, whatever the verdict.
    pub(super) fn bdat(&mut self, size: u64, last: bool) -> Action {
        let limit = self.ctx.config.max_message_bytes;
        let (envelope, sink) = match std::mem::replace(&mut self.state, State::Greeted) {
            State::Chunking(envelope, sink) => (envelope, sink),
            other => {
                self.state = other;
                match self.envelope_for_data() {
                    Ok(envelope) => (envelope, CanonicalSink::with_output(limit, self.data_output())),
                    Err(reply) => return Action::ReadChunk(Chunk::refused(size, reply)),
                }
            }
        };
        // Invariant 3: a chunk that cannot fit is not collected at all.
        if size > limit {
            debug!(id = %envelope.id, size, "BDAT chunk over the size limit");
            self.state = self.idle_state();
            return Action::ReadChunk(Chunk::refused(size, Reply::MESSAGE_TOO_BIG));
        }
        self.state = State::Data(envelope);
        Action::ReadChunk(Chunk {
            reader: ChunkReader::new(size),
            fate: Fate::Kept { sink, last },
        })
    }

    /// A BDAT whose arguments are wrong. With a size, its octets are read and
    /// dropped and the transaction is aborted; without, the framing is lost
    /// (invariant 1).
    pub(super) fn bad_bdat(&mut self, size: Option<u64>) -> Action {
        debug!(?size, "bad BDAT command");
        // RFC 3030 §2: the client takes a failed BDAT as a failed transaction.
        if matches!(self.state, State::Mail(_) | State::Chunking(..)) {
            self.state = self.idle_state();
        }
        match size {
            Some(size) => Action::ReadChunk(Chunk::refused(size, Reply::SYNTAX_ERROR)),
            None => Action::Close(Reply::new(
                501,
                (5, 5, 4),
                "Lệnh BDAT không đọc được kích thước, đóng kết nối \
                 / BDAT chunk size unreadable, closing connection",
            )),
        }
    }

    /// DATA inside a BDAT transaction (RFC 3030 §3: 503).
    pub(super) fn data_after_bdat(&mut self) -> Action {
        self.state = self.idle_state();
        Action::Reply(Reply::BAD_SEQUENCE)
    }

    /// A chunk was read to its end: acknowledge it, refuse it, or — after LAST —
    /// deliver the message.
    pub(crate) async fn chunk_received(&mut self, chunk: Chunk) -> Action {
        let size = chunk.received();
        match chunk.fate {
            Fate::Refused(reply) => self.count_errors(Action::Reply(reply)),
            Fate::Kept { sink, last: true } => self.data_received(sink.finish()).await,
            Fate::Kept { sink, last: false } => {
                let idle = self.idle_state();
                match std::mem::replace(&mut self.state, idle) {
                    State::Data(envelope) => {
                        self.state = State::Chunking(envelope, sink);
                        Action::Reply(Reply::new(
                            250,
                            (2, 0, 0),
                            format!("Đã nhận {size} octet / {size} octets received"),
                        ))
                    }
                    other => {
                        self.state = other;
                        self.count_errors(Action::Reply(Reply::BAD_SEQUENCE))
                    }
                }
            }
        }
    }
}
