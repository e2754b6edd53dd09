//! The operator CLI: every command but `serve` and `check-config`, each a client of
//! the running server's admin API (`client`), or of the same API in-process when the
//! server is stopped. One file per command group.

mod account;
mod ack;
mod backup;
mod client;
mod db;
mod directory;
mod dkim;
mod migrate;
mod progress_bar;
mod queue;
mod report;
mod request;
mod store;

pub use client::CliError;

use std::path::PathBuf;

use clap::Subcommand;

use crate::config::Config;

#[derive(Subcommand)]
pub enum Command {
    /// Agencies (cơ quan) and their agency mailbox.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Personal mailboxes of officials.
    #[command(subcommand)]
    Account(AccountCommand),
    /// The directory (Danh bạ): import, export, search, aliases, roles, purge.
    #[command(subcommand)]
    Directory(directory::DirectoryCommand),
    /// Requests on forms Mẫu 01/02/03: file, submit, approve, reject, print.
    #[command(subcommand)]
    Request(request::RequestCommand),
    /// The outbound queue (mail waiting for other servers).
    #[command(subcommand)]
    Queue(QueueCommand),
    /// DKIM signing keys.
    #[command(subcommand)]
    Dkim(DkimCommand),
    /// Check the store's consistency (blob references and files, UIDs and MODSEQs,
    /// quota usage, directory accounts against storage); exits 1 when anything does
    /// not hold.
    Check {
        /// First fix what can be fixed without losing mail (totals, usage, UIDNEXT,
        /// reference counts, orphan files, empty orphan storage accounts).
        #[arg(long)]
        repair: bool,
    },
    /// The PostgreSQL database (`[store] backend = "postgres"`): `db migrate` applies
    /// the schema migrations it lacks (docs/scale-out.md).
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Move the store between backends: `store migrate --from sled:DATA_DIR --to
    /// postgres:URL` (server stopped; docs/scale-out.md).
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Online backups: create, verify, list, restore (docs/operations.md).
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Bring mail in from an agency's old server (Art. 2.7): folders mapped, flags
    /// and dates kept, no policy, quota applied; running it again copies nothing
    /// twice.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write a mailbox out with its flags (mbox or Maildir).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Supervision reports: check windows, acknowledgements, usage, the yearly report
    /// (table, CSV, JSON or printable HTML).
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Acknowledge receipt of a message to an agency mailbox (Art. 16.2.a): records
    /// who and when, and sends the acknowledgement (RFC 8098 MDN) to its sender.
    Ack {
        /// The agency mailbox, e.g. sttt@thanhhoa.gov.vn.
        agency: String,
        /// The message's Message-ID (angle brackets optional).
        message_id: String,
    },
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// A Dovecot/Courier Maildir++ tree (flags from file names, dates from the files).
    Maildir {
        path: PathBuf,
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        #[arg(long)]
        ignore_quota: bool,
    },
    /// One mbox file (into --folder, INBOX by default), or a directory of .mbox files
    /// as `export` and the purge archives write them.
    Mbox {
        path: PathBuf,
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        #[arg(long)]
        folder: Option<String>,
        #[arg(long)]
        ignore_quota: bool,
    },
    /// Every folder of a live IMAP server: one account (--user, --password-file,
    /// --to), or a whole agency (--accounts FILE.csv: source user, password file,
    /// target address).
    Imap {
        #[arg(long)]
        host: String,
        #[arg(long)]
        port: u16,
        /// TLS from the first byte (usually port 993).
        #[arg(long, conflicts_with = "starttls", required_unless_present = "starttls")]
        tls: bool,
        /// STARTTLS before login (usually port 143).
        #[arg(long)]
        starttls: bool,
        /// PEM trust roots for the server's certificate (default: the system's).
        #[arg(long)]
        ca_file: Option<PathBuf>,
        #[arg(long, required_unless_present = "accounts", requires_all = ["password_file", "to"])]
        user: Option<String>,
        #[arg(long)]
        password_file: Option<PathBuf>,
        #[arg(long, value_name = "ADDRESS")]
        to: Option<String>,
        #[arg(long, value_name = "FILE.csv", conflicts_with_all = ["user", "password_file", "to"])]
        accounts: Option<PathBuf>,
        #[arg(long)]
        ignore_quota: bool,
    },
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Every folder of ADDRESS with its flags into PATH.
    Mailbox {
        address: String,
        #[arg(long, default_value = "mbox", value_parser = ["mbox", "maildir"])]
        format: String,
        #[arg(long, value_name = "PATH")]
        to: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Snapshot everything into DIR (default `[backup] dir`) while the server runs;
    /// only bodies not yet there are copied.
    Create { dir: Option<PathBuf> },
    /// Re-hash every body and check every snapshot of DIR.
    Verify { dir: Option<PathBuf> },
    /// The snapshots in DIR.
    List { dir: Option<PathBuf> },
    /// Restore a snapshot (the newest by default) into a new, empty data directory.
    Restore {
        dir: PathBuf,
        #[arg(long, value_name = "NEW_DATA_DIR")]
        data_dir: PathBuf,
        #[arg(long)]
        snapshot: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum QueueCommand {
    /// List queued messages.
    List,
    /// Show one queued message.
    Show { id: String },
    /// Attempt delivery at the next scan instead of waiting for the backoff.
    Retry { id: String },
    /// Drop a message from the queue (the sender gets no report).
    Delete { id: String },
}

#[derive(Subcommand)]
pub enum DkimCommand {
    /// Generate an RSA-2048 key into data_dir/dkim and print the TXT record to publish.
    Generate {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        selector: String,
    },
}

#[derive(Subcommand)]
pub enum AgencyCommand {
    /// Create an agency and its single agency mailbox; prints the address.
    Add {
        /// Abbreviation (Art. 3), e.g. `sttt`; a sub-agency gives its own (`pvhtt`).
        abbr: String,
        /// Full name, e.g. "Sở Thông tin và Truyền thông".
        #[arg(long)]
        name: String,
        /// The parent agency's abbreviation for a sub-agency (`yendinh`).
        #[arg(long)]
        parent: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an official's mailbox; derives and prints the address.
    Add {
        /// The agency's full abbreviation: ABBR or ABBR.PARENT.
        #[arg(long)]
        agency: String,
        /// Full name, family name first: "Nguyễn Anh Tuấn".
        #[arg(long)]
        name: String,
        #[arg(long)]
        position: Option<String>,
        #[arg(long)]
        department: Option<String>,
    },
    /// Set a mailbox password, read from standard input.
    Passwd {
        address: String,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a mailbox quota: 1MB, 250MB, 2GB.
    Quota { address: String, size: String },
    /// List mailboxes with quota and usage.
    List {
        #[arg(long)]
        agency: Option<String>,
    },
}

/// Runs one operator command.
pub fn run(config: &Config, command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Directory(command) => directory::directory(config, command).map_err(Into::into),
        Command::Request(command) => request::request(config, command).map_err(Into::into),
        Command::Agency(AgencyCommand::Add { abbr, name, parent }) => {
            account::agency_add(config, &abbr, &name, parent.as_deref()).map_err(Into::into)
        }
        Command::Account(command) => match command {
            AccountCommand::Add {
                agency,
                name,
                position,
                department,
            } => account::account_add(config, &agency, &name, position.as_deref(), department.as_deref()),
            AccountCommand::Passwd {
                address,
                password_stdin,
            } => account::account_passwd(config, &address, password_stdin),
            AccountCommand::Quota { address, size } => account::account_quota(config, &address, &size),
            AccountCommand::List { agency } => account::account_list(config, agency.as_deref()),
        }
        .map_err(Into::into),
        Command::Queue(command) => match command {
            QueueCommand::List => queue::list(config),
            QueueCommand::Show { id } => queue::show(config, &id),
            QueueCommand::Retry { id } => queue::retry(config, &id),
            QueueCommand::Delete { id } => queue::delete(config, &id),
        }
        .map_err(Into::into),
        Command::Dkim(DkimCommand::Generate { domain, selector }) => {
            dkim::dkim_generate(config, &domain, &selector).map_err(Into::into)
        }
        Command::Db(command) => db::db(config, command).map_err(Into::into),
        Command::Store(command) => store::store(config, command).map_err(Into::into),
        Command::Check { repair } => backup::check(config, repair).map_err(Into::into),
        Command::Import(command) => match command {
            ImportCommand::Maildir {
                path,
                to,
                ignore_quota,
            } => migrate::import_maildir(config, &path, &to, ignore_quota),
            ImportCommand::Mbox {
                path,
                to,
                folder,
                ignore_quota,
            } => migrate::import_mbox(config, &path, &to, folder.as_deref(), ignore_quota),
            ImportCommand::Imap {
                host,
                port,
                tls: _,
                starttls,
                ca_file,
                user,
                password_file,
                to,
                accounts,
                ignore_quota,
            } => {
                let server = migrate::ImapServer {
                    host: &host,
                    port,
                    starttls,
                    ca_file: ca_file.as_deref(),
                };
                match (accounts, user, password_file, to) {
                    (Some(accounts), ..) => {
                        migrate::import_imap_accounts(config, &server, &accounts, ignore_quota)
                    }
                    (None, Some(user), Some(password_file), Some(to)) => {
                        migrate::import_imap(config, &server, &user, &password_file, &to, ignore_quota)
                    }
                    _ => Err(CliError::Usage(
                        "give --user, --password-file and --to, or --accounts FILE.csv".to_owned(),
                    )),
                }
            }
        }
        .map_err(Into::into),
        Command::Report(command) => report::report(config, command).map_err(Into::into),
        Command::Ack { agency, message_id } => ack::ack(config, &agency, &message_id).map_err(Into::into),
        Command::Export(ExportCommand::Mailbox { address, format, to }) => {
            migrate::export(config, &address, &format, &to).map_err(Into::into)
        }
        Command::Backup(command) => match command {
            BackupCommand::Create { dir } => backup::create(config, dir.as_deref()),
            BackupCommand::Verify { dir } => backup::verify(config, dir.as_deref()),
            BackupCommand::List { dir } => backup::list(config, dir.as_deref()),
            BackupCommand::Restore {
                dir,
                data_dir,
                snapshot,
            } => backup::restore(config, &dir, &data_dir, snapshot.as_deref()),
        }
        .map_err(Into::into),
    }
}
