//! COMPRESS (RFC 4978): `COMPRESS DEFLATE` turns on raw deflate in both directions
//! once the tagged OK is out. Works the same over TLS and over plain text (the
//! plain port only ever gets here after STARTTLS, since login needs TLS).
//! `[imap] compress = false` turns it off: not advertised, and the command is BAD.

use tracing::{debug, info};

use crate::codec::Tag;
use crate::codec::response::Code;
use crate::session::{Disconnect, Reply, Session};

impl Session {
    pub(crate) async fn op_compress(&mut self, tag: &Tag, mechanism: &str) -> Result<(), Disconnect> {
        if !self.ctx.config.compress {
            // `[imap] compress = false`: not advertised, so not a command here.
            return self.finish(tag, Reply::bad("COMPRESS is not offered by this server"));
        }
        if self.conn.is_compressed() {
            // RFC 4978 §3.
            return self.finish(
                tag,
                Reply::no(Some(Code::CompressionActive), "Compression is already on"),
            );
        }
        if !mechanism.eq_ignore_ascii_case("DEFLATE") {
            return self.finish(tag, Reply::bad("Unknown compression mechanism"));
        }
        self.finish(tag, Reply::ok("DEFLATE active"))?;
        // The OK goes out uncompressed; everything after it is deflated.
        self.conn.flush().await?;
        if let Err(err) = self.conn.start_compression() {
            info!(error = %err, "COMPRESS: undecodable data after the command");
            return Err(Disconnect("compression error"));
        }
        debug!("compression started");
        Ok(())
    }
}
