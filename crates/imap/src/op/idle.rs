//! IDLE (RFC 2177). The session subscribes to the changes of the account that owns
//! the selected mailbox (its own, or a delegated agency's) before its last sync, so
//! nothing committed in between is missed, and no other account's mail wakes it; a
//! change to the selected mailbox (or a lagged subscription, which may hide one)
//! triggers a sync that may announce EXISTS, EXPUNGE and FLAGS at once. With no
//! mailbox selected there is nothing to announce, and no subscription. `DONE` ends it; whatever the client pipelined
//! after `DONE` stays in the input buffer and is executed next. A revoked login (a
//! password change, a disabled or deleted account) ends it with `BYE` at once.

use std::future::pending;

use congvu_store::{Change, Subscription};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::codec::response::Status;
use crate::server::shutdown_signalled;
use crate::session::{Disconnect, OpResult, Reply, Session, credentials_revoked};

async fn next_change(changes: &mut Option<Subscription>) -> Result<Change, RecvError> {
    match changes {
        Some(changes) => changes.recv().await,
        None => pending().await,
    }
}

impl Session {
    pub(crate) async fn op_idle(&mut self) -> OpResult {
        let mut changes = self.selected().map(|s| self.ctx.store.subscribe(s.owner));
        self.sync_selected(true);
        self.conn.output.extend_from_slice(b"+ idling\r\n");
        // Announcements do not reset the autologout timer; only the client can.
        let deadline = Instant::now() + self.idle_timeout();
        loop {
            // Client quirk, "pipelining after DONE": clients send `DONE` and their
            // next command in one packet. Only the DONE line is taken here; the rest
            // stays in the input buffer and the command loop runs it next.
            if let Some(line) = self.take_line()? {
                return Ok(if line.eq_ignore_ascii_case(b"DONE") {
                    Reply::ok("IDLE terminated")
                } else {
                    Reply::bad("Expected DONE")
                });
            }
            self.conn.flush().await?;
            // An idle session keeps no output buffer (measured per session in
            // docs/benchmarks.md).
            self.conn.output.shrink_to_fit();
            let mailbox = self.selected().map(|s| s.id);
            tokio::select! {
                read = self.conn.read_more() => {
                    if read? == 0 {
                        return Err(Disconnect("client closed connection"));
                    }
                }
                change = next_change(&mut changes) => match change {
                    Ok(change) if Some(change.mailbox) == mailbox => {
                        self.recheck_access()?;
                        self.sync_selected(true);
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => self.sync_selected(true),
                    // The store is going away; keep waiting for DONE or shutdown.
                    Err(RecvError::Closed) => changes = None,
                },
                () = credentials_revoked(&mut self.credentials) => self.recheck_access()?,
                () = shutdown_signalled(&mut self.shutdown) => {
                    self.untagged(Status::Bye, None, "Server shutting down");
                    return Err(Disconnect("shutdown"));
                }
                () = tokio::time::sleep_until(deadline) => {
                    self.untagged(Status::Bye, None, "Autologout: idle for too long");
                    return Err(Disconnect("idle timeout"));
                }
            }
        }
    }
}
