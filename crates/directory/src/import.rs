//! Bulk onboarding from CSV: agencies and officials for a whole province.
//!
//! [`parse`] is I/O-free (bytes in, typed rows out, every error with its line number)
//! so it can be fuzzed. [`Directory::import`] plans the rows — a dry run shows every
//! derived address and collision and writes nothing — and with `apply` commits them.
//!
//! Re-running a file is a no-op: an agency that exists with the same name, an official
//! whose person id already has a mailbox in that agency, or (without a person id) the
//! k-th row of a name in an agency when the agency already has k officials of that
//! name, is reported as `exists` and skipped. A file may list namesakes: the file is
//! the operator's confirmation that they are different people. A range of rows can be
//! applied at a time (the CLI does this to show progress); occurrences are still
//! counted over the whole file, so applying in ranges gives the same result.
//!
//! Format (UTF-8, optional BOM as Excel writes it, RFC 4180 quoting, header row):
//! `kind,agency,parent,name,person_id,position,department,phone,address` — columns in
//! any order; `kind`, `agency` and `name` are required. `kind` is `agency` (then
//! `agency` is its own abbreviation and `parent` the parent's full one) or `official`
//! (then `agency` is the full abbreviation; `address` picks a proposed alternative).

use std::collections::HashMap;

use congvu_policy::naming;
use serde::{Deserialize, Serialize};

use crate::account::{live_namesakes, mailbox_of_person, plan_official};
use crate::agency::plan_agency;
use crate::error::{DirectoryError, Result};
use crate::plan::Plan;
use crate::record::NewOfficial;
use crate::{Directory, text};

/// The columns, in the order export writes them.
pub const COLUMNS: [&str; 9] = [
    "kind",
    "agency",
    "parent",
    "name",
    "person_id",
    "position",
    "department",
    "phone",
    "address",
];
const REQUIRED: [&str; 3] = ["kind", "agency", "name"];
/// A file larger than this is not a province's directory.
pub const MAX_BYTES: usize = 64 << 20;
/// Rows committed per transaction when applying: sled holds a transaction's writes in
/// memory several times over, so small chunks keep a province import under 200 MB
/// (measured on the 20,000-official province: 500 rows peaked at 208 MB, 200 at 189 MB).
const CHUNK_ROWS: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowKind {
    Agency {
        abbr: String,
        parent: Option<String>,
        name: String,
    },
    Official {
        agency: String,
        official: NewOfficial,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// 1-based line of the file where the row starts.
    pub line: usize,
    pub kind: RowKind,
}

/// What happened (or, in a dry run, would happen) to one row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowOutcome {
    pub line: usize,
    pub status: Status,
    pub address: String,
    /// The collision explanation when the derived address was taken.
    pub collision: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NewAgency,
    NewOfficial,
    /// Already in the directory: skipped (re-running a file is a no-op).
    Exists,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub applied: bool,
    pub rows: usize,
    pub new_agencies: usize,
    pub new_officials: usize,
    pub existing: usize,
    pub collisions: usize,
    pub outcomes: Vec<RowOutcome>,
}

fn row_error(line: usize, message: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Invalid(format!("line {line}: {message}"))
}

/// Splits CSV text into records of fields, each with the line it starts on.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, '"') => return Err(row_error(line, "a quote inside an unquoted field")),
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') | (false, '\r') => {
                fields.push(std::mem::take(&mut field));
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    records.push((start, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(row_error(start, "a quoted field is not closed"));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

/// Parses an import file; the first bad row fails the whole file, naming its line.
pub fn parse(bytes: &[u8]) -> Result<Vec<Row>> {
    if bytes.len() > MAX_BYTES {
        return Err(DirectoryError::Invalid(format!(
            "the file is larger than {MAX_BYTES} bytes"
        )));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes
            .iter()
            .take(e.valid_up_to())
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        row_error(line, "not UTF-8 (save the file as \"CSV UTF-8\")")
    })?;
    let mut records = records(text)?.into_iter();
    let (_, header) = records
        .next()
        .ok_or_else(|| DirectoryError::Invalid("the file is empty".into()))?;
    let header: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    for name in &header {
        if !COLUMNS.contains(&name.as_str()) {
            return Err(row_error(
                1,
                format!("unknown column {name:?} (known: {})", COLUMNS.join(", ")),
            ));
        }
    }
    for name in REQUIRED {
        if !header.iter().any(|h| h == name) {
            return Err(row_error(1, format!("the column {name:?} is missing")));
        }
    }
    let mut rows = Vec::new();
    for (line, fields) in records {
        if fields.len() != header.len() {
            return Err(row_error(
                line,
                format!("{} fields, the header has {}", fields.len(), header.len()),
            ));
        }
        let get = |name: &str| -> Option<String> {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| fields.get(i))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required = |name: &str| get(name).ok_or_else(|| row_error(line, format!("{name} is empty")));
        let kind = match required("kind")?.to_ascii_lowercase().as_str() {
            "agency" => RowKind::Agency {
                abbr: required("agency")?,
                parent: get("parent"),
                name: text::required("name", &required("name")?).map_err(|e| row_error(line, e))?,
            },
            "official" => RowKind::Official {
                agency: required("agency")?,
                official: NewOfficial {
                    name: text::required("name", &required("name")?).map_err(|e| row_error(line, e))?,
                    person_id: get("person_id"),
                    position: get("position"),
                    department: get("department"),
                    phone: get("phone"),
                    confirm_namesake: true,
                    address: get("address"),
                },
            },
            other => {
                return Err(row_error(
                    line,
                    format!("kind {other:?} is neither agency nor official"),
                ));
            }
        };
        rows.push(Row { line, kind });
    }
    Ok(rows)
}

impl Directory {
    /// Plans `rows` — all of them for a dry run; with `apply`, those in `range` (all by
    /// default) — so every error is found before anything is written; with `apply`,
    /// then commits them in chunks, calling `progress(done, total)` after each.
    pub fn import(
        &self,
        rows: &[Row],
        apply: bool,
        range: Option<std::ops::Range<usize>>,
        actor: &str,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport> {
        let range = range.unwrap_or(0..rows.len());
        if range.start > range.end || range.end > rows.len() {
            return Err(DirectoryError::Invalid(format!(
                "row range {range:?} is outside the file's {} rows",
                rows.len()
            )));
        }
        let occurrences = occurrences(rows);
        let _write = self.write_lock()?;
        let now = crate::account::now();
        let fresh = || ImportReport {
            rows: range.len(),
            ..ImportReport::default()
        };
        let mut report = fresh();
        if !apply || range.len() == rows.len() {
            // A dry run over the whole file: any error stops here, before any write.
            let mut dry = Plan::new(self, actor, now);
            for (i, row) in rows.iter().enumerate() {
                report.count(plan_row(&mut dry, row, occurrences[i])?);
            }
            if !apply {
                return Ok(report);
            }
            report = fresh();
        }
        // Each chunk is planned whole before its commit, so a failing row leaves its
        // chunk unwritten; a range is applied after the caller has seen the whole
        // file's dry run, and re-running it is a no-op.
        let mut done = 0;
        for start in range.clone().step_by(CHUNK_ROWS) {
            let end = (start + CHUNK_ROWS).min(range.end);
            let mut plan = Plan::new(self, actor, now);
            for i in start..end {
                report.count(plan_row(&mut plan, &rows[i], occurrences[i])?);
            }
            plan.commit()?;
            done += end - start;
            progress(done, range.len());
        }
        report.applied = true;
        tracing::info!(
            rows = report.rows,
            agencies = report.new_agencies,
            officials = report.new_officials,
            existing = report.existing,
            "directory import applied"
        );
        Ok(report)
    }
}

impl ImportReport {
    fn count(&mut self, outcome: RowOutcome) {
        match outcome.status {
            Status::Exists => self.existing += 1,
            Status::NewAgency => self.new_agencies += 1,
            Status::NewOfficial => self.new_officials += 1,
        }
        if outcome.collision.is_some() {
            self.collisions += 1;
        }
        self.outcomes.push(outcome);
    }
}

/// For each row, its 1-based occurrence among the rows of the same name in the same
/// agency (officials only; 0 for agencies).
fn occurrences(rows: &[Row]) -> Vec<usize> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    rows.iter()
        .map(|row| match &row.kind {
            RowKind::Official { agency, official } => {
                let key = (
                    agency.to_ascii_lowercase(),
                    naming::fold_vietnamese(&official.name),
                );
                let n = seen.entry(key).or_default();
                *n += 1;
                *n
            }
            RowKind::Agency { .. } => 0,
        })
        .collect()
}

fn plan_row(plan: &mut Plan<'_>, row: &Row, occurrence: usize) -> Result<RowOutcome> {
    let line = row.line;
    let outcome = |status: Status, address: String, collision: Option<String>| RowOutcome {
        line,
        status,
        address,
        collision,
    };
    match &row.kind {
        RowKind::Agency { abbr, parent, name } => {
            let full = naming::agency_local_part(abbr, parent.as_deref()).map_err(|e| row_error(line, e))?;
            if let Some(existing) = plan.agency(full.as_str())? {
                let name = text::required("name", name)?;
                if existing.name != name {
                    return Err(row_error(
                        line,
                        format!("agency {full} exists as {:?}, not {name:?}", existing.name),
                    ));
                }
                return Ok(outcome(Status::Exists, existing.address, None));
            }
            let full = plan_agency(plan, abbr, name, parent.as_deref()).map_err(|e| row_error(line, e))?;
            let address = plan
                .dir()
                .address_of(&full.parse().map_err(|_| row_error(line, "abbreviation"))?);
            Ok(outcome(Status::NewAgency, address, None))
        }
        RowKind::Official { agency, official } => {
            let abbr = naming::agency_abbreviation(agency).map_err(|e| row_error(line, e))?;
            if let Some(id) = &official.person_id
                && let Some(existing) = mailbox_of_person(plan, &id.trim().to_ascii_uppercase())?
            {
                if existing.agency != abbr.as_str() {
                    return Err(row_error(
                        line,
                        format!(
                            "person {id} already has the mailbox {} in {}: file a Mẫu 02 move instead",
                            existing.address, existing.agency
                        ),
                    ));
                }
                return Ok(outcome(Status::Exists, existing.address, None));
            }
            if official.person_id.is_none() {
                let namesakes = live_namesakes(plan, abbr.as_str(), &official.name)?;
                if let Some(existing) = namesakes.get(occurrence.saturating_sub(1)) {
                    return Ok(outcome(Status::Exists, existing.address.clone(), None));
                }
            }
            let (local, collision) =
                plan_official(plan, abbr.as_str(), official).map_err(|e| row_error(line, e))?;
            Ok(outcome(
                Status::NewOfficial,
                plan.dir().address_of(&local),
                collision.map(|c| c.explanation),
            ))
        }
    }
}
