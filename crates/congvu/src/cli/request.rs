//! `congvu request …`: the forms 01/02/03 workflow from the command line — file,
//! submit, approve, reject, show, print, list. Each command is an admin API call
//! (see `client`), so the CLI and the API can never disagree.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{Value, json};

use congvu_directory::request::Request;

use super::client::{Call, CliError, execute, execute_text as text, print_json, segment};
use crate::config::Config;

#[derive(Subcommand)]
pub enum RequestCommand {
    /// File a request (Mẫu 01/02/03) from a JSON file ("-" for standard input).
    File {
        file: PathBuf,
        /// Submit it right away.
        #[arg(long)]
        submit: bool,
    },
    Submit {
        id: u64,
    },
    /// Approve and apply every line at once.
    Approve {
        id: u64,
    },
    Reject {
        id: u64,
        #[arg(long)]
        reason: String,
    },
    Show {
        id: u64,
    },
    /// The printable form (HTML) on standard output.
    Form {
        id: u64,
    },
    List {
        #[arg(long)]
        agency: Option<String>,
        /// draft, submitted, applied or rejected.
        #[arg(long)]
        state: Option<String>,
        /// Only requests filed late (Art. 15.3).
        #[arg(long)]
        late: bool,
    },
}

pub fn request(config: &Config, command: RequestCommand) -> Result<(), CliError> {
    let request: Request = match command {
        RequestCommand::File { file, submit } => {
            let mut text = String::new();
            let read = if file.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text)
            } else {
                std::fs::File::open(&file).and_then(|mut f| f.read_to_string(&mut text))
            };
            read.map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
            let body: Value = serde_json::from_str(&text)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let filed: Request = execute(config, Call::post("/api/v1/requests", body))?;
            if submit {
                execute(
                    config,
                    Call::post(format!("/api/v1/requests/{}/submit", filed.id), json!({})),
                )?
            } else {
                filed
            }
        }
        RequestCommand::Submit { id } => execute(
            config,
            Call::post(format!("/api/v1/requests/{id}/submit"), json!({})),
        )?,
        RequestCommand::Approve { id } => execute(
            config,
            Call::post(format!("/api/v1/requests/{id}/approve"), json!({})),
        )?,
        RequestCommand::Reject { id, reason } => execute(
            config,
            Call::post(format!("/api/v1/requests/{id}/reject"), json!({"reason": reason})),
        )?,
        RequestCommand::Show { id } => execute(config, Call::get(format!("/api/v1/requests/{id}")))?,
        RequestCommand::Form { id } => {
            let html = text(config, Call::get(format!("/api/v1/requests/{id}/form")))?;
            return std::io::stdout()
                .write_all(&html)
                .map_err(|e| CliError::Usage(format!("cannot write standard output: {e}")));
        }
        RequestCommand::List { agency, state, late } => {
            let mut query = vec![];
            if let Some(agency) = agency {
                query.push(format!("agency={}", segment(&agency)));
            }
            if let Some(state) = state {
                query.push(format!("state={}", segment(&state)));
            }
            if late {
                query.push("late=true".to_owned());
            }
            let requests: Vec<Request> =
                execute(config, Call::get(format!("/api/v1/requests?{}", query.join("&"))))?;
            for r in requests {
                println!(
                    "{}\tMẫu {}\t{}\t{:?}\teffective {}\tfiled {}{}",
                    r.id,
                    r.form.number(),
                    r.agency,
                    r.state,
                    r.effective_date,
                    r.filing_date.as_deref().unwrap_or("-"),
                    if r.late { "\tLATE" } else { "" }
                );
            }
            return Ok(());
        }
    };
    print_json(&request)
}
