//! # congvu — the official e-mail server of a Vietnamese province
//!
//! One binary: `congvu serve` runs every listener; every other command is an operator
//! tool that talks to the running server's admin API (or, with the server stopped,
//! runs the same API in-process on the data directory). See `docs/architecture.md`
//! for the message path and the crates' jobs.
//!
//! ## Wiring (`serve`)
//! `config` is read once; `data_dir` locks the data directory and opens the store
//! (`congvu-store`) and the directory (`congvu-directory`) on it; `tls` loads or makes
//! the certificate. Then, all bound before any is served:
//! - SMTP MX, submission and submissions (`congvu-smtp`) with the policy, sender
//!   checks, S/MIME and antivirus of the configuration, and IMAP/IMAPS
//!   (`congvu-imap`), each behind the shared accept loop (`congvu-listener`);
//! - the queue worker (`relay`, `congvu-relay`), woken by whatever queues mail;
//! - one `AdminState` for the admin API and `/metrics` on the admin listener and for
//!   the web console on the HTTPS listener beside autoconfig (`http`);
//! - the housekeeping (`retention`: purges, event pruning, filing reminders) and the
//!   daily backup (`backup`).
//!
//! SIGTERM stops the listeners (sessions end at their next command boundary), gives
//! the queue worker its grace, and flushes the store.
//!
//! No module imports `cli` or `serve`; `config`, `data_dir`, `tls`, `backup` and
//! `size` import no module above them.

mod archive;
mod backup;
mod cli;
mod config;
mod data_dir;
mod filing_reminder;
mod http;
mod log_writer;
mod relay;
mod report;
mod retention;
mod serve;
mod size;
mod tls;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, LogFormat};

#[derive(Parser)]
#[command(
    name = "congvu",
    version,
    about = "Official e-mail server (hệ thống thư điện tử công vụ)"
)]
struct Cli {
    /// Configuration file; without it the built-in default (config/congvu.toml) is used.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: SMTP, submission, IMAP, the admin API and the HTTPS listener.
    Serve,
    /// Check a configuration file and print every error in it.
    CheckConfig,
    #[command(flatten)]
    Operator(cli::Command),
}

fn load_config(path: Option<&PathBuf>) -> Result<Config, config::ConfigErrors> {
    match path {
        Some(path) => Config::load(path),
        None => Ok(Config::embedded()),
    }
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log.format {
        LogFormat::Json => builder
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
        // Client text never starts a new line of the log (`log_writer`).
        LogFormat::Text => builder.with_writer(log_writer::EscapingStderr).init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(cli.config.as_ref()) {
        Ok(config) => config,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(2);
        }
    };
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Serve => {
            init_logging(&config);
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => {
                    eprintln!("error: cannot start the async runtime: {error}");
                    return ExitCode::FAILURE;
                }
            };
            runtime.block_on(serve::run(config)).map_err(Into::into)
        }
        Command::CheckConfig => {
            println!("configuration OK");
            Ok(())
        }
        Command::Operator(command) => cli::run(&config, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
