//! The archive written before a mailbox is purged (Art. 6.3, 13; issue 12): every
//! folder as an mbox file with its flags (`Status:`, `X-Status:`, `X-Keywords:`),
//! under `[retention] archive_dir` (default `data_dir/archive`), in a directory named
//! `ADDRESS-YYYYMMDDTHHMMSSZ`, so a purge retried after a crash writes a new one
//! beside the first instead of over it. `congvu import mbox` reads it back.

use std::path::PathBuf;
use std::sync::Arc;

use congvu_directory::{AccountRecord, Archiver};
use congvu_migrate::Format;
use congvu_store::{MailStore, Progress};

use crate::config::Config;

pub struct MboxArchiver {
    store: Arc<dyn MailStore>,
    dir: PathBuf,
}

impl MboxArchiver {
    pub fn new(store: Arc<dyn MailStore>, config: &Config) -> MboxArchiver {
        MboxArchiver {
            store,
            dir: archive_dir(config),
        }
    }
}

/// `[retention] archive_dir`, or `data_dir/archive`.
pub fn archive_dir(config: &Config) -> PathBuf {
    config
        .retention
        .archive_dir
        .clone()
        .unwrap_or_else(|| config.server.data_dir.join("archive"))
}

impl Archiver for MboxArchiver {
    fn archive(&self, record: &AccountRecord) -> Result<String, String> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let to = self.dir.join(format!("{}-{stamp}", record.address));
        let report = congvu_migrate::export(
            self.store.as_ref(),
            record.account,
            Format::Mbox,
            &to,
            &Progress::default(),
        )
        .map_err(|e| e.to_string())?;
        let messages: u64 = report.folders.iter().map(|f| f.messages).sum();
        tracing::info!(address = %record.address, path = %to.display(), messages, "mailbox archived");
        Ok(to.display().to_string())
    }
}
