//! `congvu report …`: the supervision reports of issue 14, read from the admin API
//! (`/api/v1/reports/…`, see `admin/report.rs`) and written to standard output or a
//! file as the server rendered them.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::client::{Call, CliError, execute_text, segment};
use crate::config::Config;

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Check windows met or missed per agency and working day, and each agency's
    /// compliance (Art. 10).
    Checks {
        #[command(flatten)]
        days: Days,
        /// One agency (its abbreviation, e.g. `sttt`); all by default.
        #[arg(long)]
        agency: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Messages to agency mailboxes pending acknowledgement of receipt beyond N
    /// working hours, per agency (Art. 16.2.a).
    Acknowledgements {
        /// The threshold in working hours (default: [compliance] ack_working_hours).
        #[arg(long)]
        hours: Option<u32>,
        #[arg(long)]
        agency: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Usage statistics per agency over a period (Art. 15.4).
    Usage {
        #[command(flatten)]
        days: Days,
        #[arg(long)]
        agency: Option<String>,
        /// With --agency: the agency and every agency below it.
        #[arg(long, requires = "agency")]
        subtree: bool,
        #[command(flatten)]
        output: Output,
    },
    /// The yearly report of the province (Art. 12.6): print the HTML to A4.
    Year {
        year: i32,
        #[command(flatten)]
        output: Output,
    },
}

/// The days a report covers.
#[derive(Args)]
pub struct Days {
    /// First day, YYYY-MM-DD or `today` (local date of [compliance] timezone).
    #[arg(long)]
    from: String,
    /// Last day, included.
    #[arg(long)]
    to: String,
}

impl Days {
    /// The query parameters `from` and `to`.
    fn query(&self, config: &Config) -> Result<Vec<String>, CliError> {
        Ok(vec![
            format!("from={}", date(config, &self.from)?),
            format!("to={}", date(config, &self.to)?),
        ])
    }
}

/// Where and how a report is written.
#[derive(Args)]
pub struct Output {
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "json", "html"])]
    format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// A command-line date: `today` in the calendar's zone, or `YYYY-MM-DD`.
fn date(config: &Config, text: &str) -> Result<NaiveDate, CliError> {
    if text == "today" {
        return config
            .calendar
            .local_date(congvu_directory::unix_now())
            .ok_or_else(|| CliError::Usage("the clock is out of range".to_owned()));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        CliError::Usage(format!(
            "ngày không hợp lệ / invalid date {text:?}: YYYY-MM-DD or today"
        ))
    })
}

fn write(body: &[u8], output: Option<&Path>) -> Result<(), CliError> {
    match output {
        Some(path) => std::fs::write(path, body)
            .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display()))),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(body)
                .and_then(|()| stdout.flush())
                .map_err(|e| CliError::Usage(format!("cannot write the report: {e}")))
        }
    }
}

pub fn report(config: &Config, command: ReportCommand) -> Result<(), CliError> {
    let (route, mut query, output) = match command {
        ReportCommand::Checks { days, agency, output } => {
            let mut query = days.query(config)?;
            query.extend(agency.map(|agency| format!("agency={}", segment(&agency))));
            ("checks".to_owned(), query, output)
        }
        ReportCommand::Acknowledgements {
            hours,
            agency,
            output,
        } => {
            let mut query: Vec<String> = hours.map(|hours| format!("hours={hours}")).into_iter().collect();
            query.extend(agency.map(|agency| format!("agency={}", segment(&agency))));
            ("acknowledgements".to_owned(), query, output)
        }
        ReportCommand::Usage {
            days,
            agency,
            subtree,
            output,
        } => {
            let mut query = days.query(config)?;
            if let Some(agency) = agency {
                query.push(format!("agency={}", segment(&agency)));
                query.push(format!("subtree={subtree}"));
            }
            ("usage".to_owned(), query, output)
        }
        ReportCommand::Year { year, output } => (format!("year/{year}"), Vec::new(), output),
    };
    query.push(format!("format={}", output.format));
    let body = execute_text(
        config,
        Call::get(format!("/api/v1/reports/{route}?{}", query.join("&"))),
    )?;
    write(&body, output.output.as_deref())
}
