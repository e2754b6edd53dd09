//! Submission from inside the server (the webmail): a [`Session`] of the submission
//! listener driven without a socket, so that a message sent from a browser takes
//! exactly the path of one sent by Thunderbird on port 587 — the recipients' checks
//! of RCPT, the `From:` rule, the regulation's policy, S/MIME, the antivirus, local
//! delivery, the queue, the agency's sent copy, the mail events and the
//! acknowledgements, with the same replies.
//!
//! The official is already signed in (the webmail's session), so the session starts
//! authenticated as them; the transport is the HTTPS connection the page came by,
//! which the `Received:` field says. The message goes in as one `BDAT n LAST`
//! chunk: no dot-stuffing, and the same canonical line endings as any chunk.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use congvu_directory::AccountRecord;

use super::{Action, Session, SessionId, TlsInfo};
use crate::SmtpContext;
use crate::reply::Reply;
use crate::server::ListenerKind;

/// What the webmail hands over: the signed-in official, where they are, and the
/// envelope and bytes of the message it built.
pub struct LocalSubmission {
    pub submitter: AccountRecord,
    pub client: IpAddr,
    /// `MAIL FROM`: the address in the message's `From:`.
    pub sender: String,
    pub recipients: Vec<String>,
    pub message: Vec<u8>,
}

/// A refused submission: the reply of the step that refused it, and the recipient
/// when that step was its RCPT.
#[derive(Debug)]
pub struct Refused {
    pub recipient: Option<String>,
    pub reply: Reply,
}

/// How the `Received:` field names the webmail's transport.
const WEBMAIL: TlsInfo = TlsInfo {
    version: "HTTPS",
    cipher: "webmail",
};

/// Submits `submission` as its official would on port 587; `Ok` with the `250`
/// reply's text once the message is durable (delivered and queued).
pub async fn submit(ctx: Arc<SmtpContext>, submission: LocalSubmission) -> Result<String, Refused> {
    let LocalSubmission {
        submitter,
        client,
        sender,
        recipients,
        message,
    } = submission;
    let mut session = Session::new(
        ctx,
        ListenerKind::Submission,
        SessionId::random(),
        SocketAddr::new(client, 0),
    );
    session.tls = Some(WEBMAIL);
    session.auth = Some(submitter);
    let step = |action: Action, recipient: Option<&str>| match action {
        Action::Reply(reply) if reply.code < 400 => Ok(reply),
        Action::Reply(reply) | Action::Close(reply) => Err(Refused {
            recipient: recipient.map(str::to_owned),
            reply,
        }),
        other => Err(Refused {
            recipient: None,
            reply: unexpected(&other),
        }),
    };
    step(session.handle_line(b"EHLO webmail").await, None)?;
    let utf8 = if sender.is_ascii() && recipients.iter().all(|r| r.is_ascii()) {
        ""
    } else {
        " SMTPUTF8"
    };
    // RFC 1870 §6: SIZE lets a message over the limit be refused before its data.
    let mail = format!("MAIL FROM:<{sender}> SIZE={}{utf8}", message.len());
    step(session.handle_line(mail.as_bytes()).await, None)?;
    for recipient in &recipients {
        let rcpt = format!("RCPT TO:<{recipient}>");
        step(session.handle_line(rcpt.as_bytes()).await, Some(recipient))?;
    }
    let bdat = format!("BDAT {} LAST", message.len());
    let mut chunk = match session.handle_line(bdat.as_bytes()).await {
        Action::ReadChunk(chunk) => chunk,
        other => {
            return Err(step(other, None)
                .err()
                .unwrap_or_else(|| refused(Reply::LOCAL_ERROR)));
        }
    };
    let (_, complete) = chunk.feed(&message);
    if !complete {
        return Err(refused(Reply::LOCAL_ERROR));
    }
    let reply = step(session.chunk_received(chunk).await, None)?;
    Ok(reply.text.into_owned())
}

fn refused(reply: Reply) -> Refused {
    Refused {
        recipient: None,
        reply,
    }
}

/// An action the submission path never asks for (TLS, DATA reading).
fn unexpected(action: &Action) -> Reply {
    tracing::error!(?action, "local submission: unexpected session action");
    Reply::LOCAL_ERROR
}
