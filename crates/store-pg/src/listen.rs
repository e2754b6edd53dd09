//! Other nodes' changes into this process's `ChangeHub` (invariant 5 of the crate):
//! one connection of its own LISTENs on `congvu_change`; each notification becomes
//! the `Change` an IDLE session waits for. On `congvu_revoke` come the accounts
//! whose credentials a node revoked (`directory`), for this node's directory. When
//! the connection breaks (a restart or failover of PostgreSQL) it is made again after
//! a second; changes sent meanwhile are lost, so once it listens again every
//! subscriber is told to resynchronise from the store (`ChangeHub::resync_all`: an
//! IDLE session syncs its mailbox, a webmail page reloads its list).
//! The first LISTEN is awaited by `PgStore::connect` (`listening`): a store handed
//! out before it would miss the notifications of its own first writes.

use std::sync::Arc;
use std::time::Duration;

use congvu_store::{AccountId, ChangeHub};
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio_postgres::AsyncMessage;

use crate::{CHANNEL, REVOKE_CHANNEL};

pub(crate) async fn forward_changes(
    config: tokio_postgres::Config,
    hub: Arc<ChangeHub>,
    revocations: broadcast::Sender<AccountId>,
    listening: tokio::sync::oneshot::Sender<()>,
) {
    let mut listening = Some(listening);
    loop {
        match config.connect(tokio_postgres::NoTls).await {
            Ok((client, mut connection)) => {
                let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                let statement = format!("LISTEN {CHANNEL}; LISTEN {REVOKE_CHANNEL}");
                let listen = client.batch_execute(&statement);
                // The LISTEN is answered through the connection: drive both.
                let mut listen = std::pin::pin!(listen);
                let mut listen_done = false;
                loop {
                    tokio::select! {
                        done = &mut listen, if !listen_done => {
                            if let Err(error) = done {
                                tracing::warn!(%error, "LISTEN failed");
                                break;
                            }
                            listen_done = true;
                            match listening.take() {
                                Some(first) => {
                                    // The receiver may have given up waiting: nothing to tell.
                                    let _ = first.send(());
                                }
                                None => hub.resync_all(),
                            }
                        }
                        message = messages.next() => match message {
                            Some(Ok(AsyncMessage::Notification(note))) if note.channel() == REVOKE_CHANNEL => {
                                if let Ok(account) = note.payload().parse() {
                                    // No receiver yet (no directory wired): nothing to end.
                                    let _ = revocations.send(AccountId(account));
                                }
                            }
                            Some(Ok(AsyncMessage::Notification(note))) => {
                                match note.payload().parse() {
                                    Ok(change) => hub.send(change),
                                    Err(error) => tracing::warn!(%error, "change notifications: unreadable payload"),
                                }
                            }
                            Some(Ok(_)) => {}
                            Some(Err(error)) => {
                                tracing::warn!(%error, "change notifications: connection lost");
                                break;
                            }
                            None => break,
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "change notifications: cannot connect"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
