//! STARTTLS (RFC 3501 §6.2.1): only on the plain-text port, only once. The tagged
//! OK goes out in the clear, then the handshake; input pipelined before it is
//! discarded by [`crate::session::Connection::start_tls`].

use tracing::info;

use crate::codec::Tag;
use crate::server::ListenerKind;
use crate::session::{Disconnect, Reply, Session};

impl Session {
    pub(crate) async fn op_starttls(&mut self, tag: &Tag) -> Result<(), Disconnect> {
        if self.kind != ListenerKind::Imap || self.conn.is_tls() {
            return self.finish(tag, Reply::bad("TLS is already active"));
        }
        self.finish(tag, Reply::ok("Begin TLS negotiation now"))?;
        self.conn.flush().await?;
        let timeout = self.ctx.config.tls_handshake_timeout();
        if let Err(err) = self.conn.start_tls(&self.tls, timeout).await {
            info!(error = %err, "STARTTLS handshake failed");
            return Err(Disconnect("tls handshake failed"));
        }
        Ok(())
    }
}
