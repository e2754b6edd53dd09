//! The request workflow (Art. 4, forms Mẫu 01/02/03): agencies file, the Provincial
//! Office approves or rejects, approval carries out every line at once.
//!
//! ```text
//!  draft ──submit──▶ submitted ──approve──▶ applied   (every line, one transaction)
//!    │                   │
//!    │                   └──reject(reason)──▶ rejected
//!    └── (lines checked against the directory at submit and again at approve)
//! ```
//! Approval and application are one step: a request is never "approved but not
//! applied". When a line fails at approval nothing is applied, the request stays
//! submitted and the error names the line, so the Office can reject it with that
//! reason. Submission records the filing date (Asia/Ho_Chi_Minh); filed more than
//! `late_filing_days` after the decision took effect, it is flagged late (Art. 15.3).
//!
//! A draft records the decision's effective date when the clerk starts the form, so
//! the server knows a change is coming before it is filed: a draft still unsubmitted
//! `[directory] filing_reminder_days` after its effective date is due one reminder to the agency
//! mailbox ([`Directory::filing_reminders_due`], [`Directory::record_filing_reminder`]),
//! while there is still time to file on time.

use chrono::{FixedOffset, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

use crate::account::{plan_existing, plan_live_agency, plan_official, relocate};
use crate::agency::{plan_agency, plan_dissolve_agency, plan_rename_agency};
use crate::delete::plan_delete;
use crate::error::{DirectoryError, Result};
use crate::plan::Plan;
use crate::record::{AccountRecord, NewOfficial, Role};
use crate::trees::T;
use crate::{Directory, text};

/// Vietnam has kept UTC+7 without daylight saving since 1975.
const VIETNAM_OFFSET_SECONDS: i32 = 7 * 3600;
/// More lines than a whole province's onboarding needs go through `import`.
const MAX_LINES: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Form {
    /// Mẫu 01: new agency mailbox and/or officials.
    #[serde(rename = "01")]
    New,
    /// Mẫu 02: agency renamed, official changed or moved in, old address converted.
    #[serde(rename = "02")]
    Change,
    /// Mẫu 03: personal mailboxes deleted, agency dissolved.
    #[serde(rename = "03")]
    Delete,
}

impl Form {
    pub fn number(self) -> &'static str {
        match self {
            Form::New => "01",
            Form::Change => "02",
            Form::Delete => "03",
        }
    }
}

/// Why a personal mailbox is deleted (Mẫu 03).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionReason {
    Retired,
    Left,
    MovedOut,
}

impl DeletionReason {
    pub fn vietnamese(self) -> &'static str {
        match self {
            DeletionReason::Retired => "Nghỉ hưu",
            DeletionReason::Left => "Nghỉ việc",
            DeletionReason::MovedOut => "Chuyển công tác ra ngoài tỉnh / ngoài hệ thống",
        }
    }
}

/// One line of a form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    /// Mẫu 01: an agency (a sub-agency of the filing agency unless filed by an
    /// administrator) and its mailbox.
    NewAgency {
        abbr: String,
        name: String,
        #[serde(default)]
        parent: Option<String>,
    },
    /// Mẫu 01: an official of the filing agency.
    NewOfficial(NewOfficial),
    /// Mẫu 02: the filing agency (or a sub-agency) is renamed; addresses stay.
    RenameAgency { agency: String, name: String },
    /// Mẫu 02: an official's position, department or phone changes.
    ChangeOfficial {
        address: String,
        #[serde(default)]
        position: Option<String>,
        #[serde(default)]
        department: Option<String>,
        #[serde(default)]
        phone: Option<String>,
    },
    /// Mẫu 02, filed by the RECEIVING agency: the official gets an address there, the
    /// old one stays as an alias, mail and password stay.
    MoveOfficial {
        address: String,
        #[serde(default)]
        position: Option<String>,
        #[serde(default)]
        department: Option<String>,
        /// An alternative the operator picked when the derived address is taken.
        #[serde(default)]
        new_address: Option<String>,
    },
    /// Mẫu 02: a mailbox issued before the regulation gets its Art. 3 address; the
    /// old one stays as an alias.
    ConvertAddress {
        address: String,
        #[serde(default)]
        new_address: Option<String>,
    },
    /// Mẫu 03: a personal mailbox is deleted (kept for the retention period).
    DeleteOfficial { address: String, reason: DeletionReason },
    /// Mẫu 03: an agency dissolved by a competent decision.
    DissolveAgency { agency: String, decision: String },
}

impl Line {
    fn form(&self) -> Form {
        match self {
            Line::NewAgency { .. } | Line::NewOfficial(_) => Form::New,
            Line::RenameAgency { .. }
            | Line::ChangeOfficial { .. }
            | Line::MoveOfficial { .. }
            | Line::ConvertAddress { .. } => Form::Change,
            Line::DeleteOfficial { .. } | Line::DissolveAgency { .. } => Form::Delete,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Submitted,
    Applied,
    Rejected,
}

/// The person filing the form (its header).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub name: String,
    #[serde(default)]
    pub position: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// What an operator files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub form: Form,
    /// The filing agency's full abbreviation.
    pub agency: String,
    pub requester: Requester,
    /// The personnel decision's effective date, `YYYY-MM-DD`.
    pub effective_date: String,
    pub lines: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    pub form: Form,
    pub agency: String,
    pub agency_name: String,
    pub requester: Requester,
    pub effective_date: String,
    pub lines: Vec<Line>,
    pub state: State,
    pub filed_by: String,
    /// Unix seconds.
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    /// The filing date (local date of submission), `YYYY-MM-DD`.
    pub filing_date: Option<String>,
    /// Days from the effective date to the filing date.
    pub days_after_effect: Option<i64>,
    /// Art. 15.3: filed more than `late_filing_days` after the decision took effect.
    pub late: bool,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
    /// When the agency mailbox was reminded that this draft is not filed yet (unix
    /// seconds); at most one reminder per request.
    #[serde(default)]
    pub reminded_at: Option<i64>,
    /// One line of outcome per form line once applied (the address issued, …).
    pub results: Vec<String>,
}

/// Who is filing or deciding.
#[derive(Clone, Copy, Debug)]
pub struct Acting<'a> {
    pub actor: &'a str,
    pub administrator: bool,
}

fn local_date(unix: i64) -> Result<NaiveDate> {
    let offset = FixedOffset::east_opt(VIETNAM_OFFSET_SECONDS)
        .ok_or_else(|| DirectoryError::Db("UTC+7 offset".into()))?;
    offset
        .timestamp_opt(unix, 0)
        .single()
        .map(|t| t.date_naive())
        .ok_or_else(|| DirectoryError::Invalid(format!("time {unix} is out of range")))
}

fn parse_date(field: &str, value: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|e| DirectoryError::Invalid(format!("{field} {value:?} is not a YYYY-MM-DD date: {e}")))
}

impl Directory {
    /// Files a draft. Checks its shape (lines fit the form, the agency exists, a
    /// non-administrator creates sub-agencies of its own agency only); the lines are
    /// checked against the directory at submission. Scope (an operator files for their
    /// own agency only) is the caller's to check.
    pub fn file_request(&self, new: NewRequest, acting: Acting<'_>, now: i64) -> Result<Request> {
        let agency = self.existing_agency(&new.agency)?;
        if agency.dissolved.is_some() {
            return Err(DirectoryError::Invalid(format!(
                "agency {} is dissolved",
                agency.abbr
            )));
        }
        let requester = Requester {
            name: text::required("requester name", &new.requester.name)?,
            position: text::optional("requester position", new.requester.position.as_deref())?,
            phone: text::optional("requester phone", new.requester.phone.as_deref())?,
        };
        parse_date("effective_date", &new.effective_date)?;
        if new.lines.is_empty() || new.lines.len() > MAX_LINES {
            return Err(DirectoryError::Invalid(format!(
                "a request has 1 to {MAX_LINES} lines"
            )));
        }
        for (i, line) in new.lines.iter().enumerate() {
            if line.form() != new.form {
                return Err(DirectoryError::Invalid(format!(
                    "line {}: this change belongs on Mẫu {}, not Mẫu {}",
                    i + 1,
                    line.form().number(),
                    new.form.number()
                )));
            }
            if let Line::NewAgency { parent, .. } = line
                && !acting.administrator
                && parent.as_deref().map(|p| p.to_ascii_lowercase()) != Some(agency.abbr.clone())
            {
                return Err(DirectoryError::Invalid(format!(
                    "line {}: an agency operator creates sub-agencies of {} only",
                    i + 1,
                    agency.abbr
                )));
            }
        }
        let _write = self.write_lock()?;
        let id = match self.trees.last_key(T::Requests)? {
            Some(key) => <[u8; 8]>::try_from(key.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| crate::trees::corrupt("dir.requests", "last", "key is not a request id"))?
                .saturating_add(1),
            None => 1,
        };
        let request = Request {
            id,
            form: new.form,
            agency: agency.abbr,
            agency_name: agency.name,
            requester,
            effective_date: parse_date("effective_date", &new.effective_date)?.to_string(),
            lines: new.lines,
            state: State::Draft,
            filed_by: acting.actor.to_owned(),
            created_at: now,
            submitted_at: None,
            filing_date: None,
            days_after_effect: None,
            late: false,
            decided_by: None,
            decided_at: None,
            reason: None,
            reminded_at: None,
            results: Vec::new(),
        };
        let detail = format!("Mẫu {}", request.form.number());
        Plan::new(self, acting.actor, now).record_request(&request, "file_request", detail)?;
        tracing::info!(request = id, form = request.form.number(), agency = %request.agency, "request filed");
        Ok(request)
    }

    /// Draft → submitted. Every line is tried against the current directory (nothing
    /// is written): a line that cannot be applied refuses the submission, naming it.
    pub fn submit_request(&self, id: u64, acting: Acting<'_>, now: i64) -> Result<Request> {
        let _write = self.write_lock()?;
        let mut request = self.request_in_state(id, State::Draft, "submitted")?;
        let mut dry = Plan::new(self, acting.actor, now);
        plan_lines(&mut dry, &request)?;
        drop(dry);
        let filed = local_date(now)?;
        let effective = parse_date("effective_date", &request.effective_date)?;
        let days = (filed - effective).num_days();
        request.state = State::Submitted;
        request.submitted_at = Some(now);
        request.filing_date = Some(filed.to_string());
        request.days_after_effect = Some(days);
        request.late = days > i64::from(self.settings.late_filing_days);
        let detail = if request.late {
            format!("late: {days} days after effect")
        } else {
            String::new()
        };
        Plan::new(self, acting.actor, now).record_request(&request, "submit_request", detail)?;
        tracing::info!(request = id, late = request.late, "request submitted");
        Ok(request)
    }

    /// Submitted → applied: every line in one transaction, or none (the error names
    /// the failing line and the request stays submitted).
    pub fn approve_request(&self, id: u64, acting: Acting<'_>, now: i64) -> Result<Request> {
        let _write = self.write_lock()?;
        let mut request = self.request_in_state(id, State::Submitted, "approved")?;
        let mut plan = Plan::new(self, acting.actor, now);
        plan.request = Some(id);
        request.results = plan_lines(&mut plan, &request)?;
        request.state = State::Applied;
        request.decided_by = Some(acting.actor.to_owned());
        request.decided_at = Some(now);
        let detail = format!("{} line(s) applied", request.lines.len());
        plan.record_request(&request, "approve_request", detail)?;
        tracing::info!(
            request = id,
            lines = request.lines.len(),
            "request approved and applied"
        );
        Ok(request)
    }

    /// Submitted → rejected, with the reason given to the agency.
    pub fn reject_request(&self, id: u64, reason: &str, acting: Acting<'_>, now: i64) -> Result<Request> {
        let reason = text::required("reason", reason)?;
        let _write = self.write_lock()?;
        let mut request = self.request_in_state(id, State::Submitted, "rejected")?;
        request.state = State::Rejected;
        request.decided_by = Some(acting.actor.to_owned());
        request.decided_at = Some(now);
        request.reason = Some(reason.clone());
        Plan::new(self, acting.actor, now).record_request(&request, "reject_request", reason)?;
        tracing::info!(request = id, "request rejected");
        Ok(request)
    }

    /// Drafts whose decision took effect `after_days` or more days before `now`'s local
    /// date and that were never reminded, oldest first (none when `after_days` is 0).
    /// A dissolved agency has no mailbox to remind.
    pub fn filing_reminders_due(&self, after_days: u32, now: i64) -> Result<Vec<Request>> {
        if after_days == 0 {
            return Ok(Vec::new());
        }
        let today = local_date(now)?;
        let mut due = Vec::new();
        for request in self.trees.all::<Request>(T::Requests)? {
            if request.state != State::Draft || request.reminded_at.is_some() {
                continue;
            }
            let effective = parse_date("effective_date", &request.effective_date)?;
            if (today - effective).num_days() < i64::from(after_days) {
                continue;
            }
            if self
                .agency(&request.agency)?
                .is_some_and(|agency| agency.dissolved.is_none())
            {
                due.push(request);
            }
        }
        Ok(due)
    }

    /// Records that the agency mailbox was reminded of draft `id`, with its audit line.
    /// A request submitted or reminded meanwhile is a conflict: it is not reminded twice.
    pub fn record_filing_reminder(&self, id: u64, actor: &str, now: i64) -> Result<Request> {
        let _write = self.write_lock()?;
        let mut request = self.request_in_state(id, State::Draft, "reminded")?;
        if request.reminded_at.is_some() {
            return Err(DirectoryError::Conflict(format!(
                "request {id} was already reminded"
            )));
        }
        request.reminded_at = Some(now);
        let detail = format!("effective {}", request.effective_date);
        Plan::new(self, actor, now).record_request(&request, "filing_reminder", detail)?;
        tracing::info!(request = id, agency = %request.agency, "filing reminder recorded");
        Ok(request)
    }

    /// The Provincial Office picks, for line `line` (1-based) of submitted request
    /// `id`, a new official's address among the alternatives proposed on a collision
    /// (Art. 3.3.b). The pick is checked now as approval will check it (one of the
    /// ranked alternatives of the name, never issued), and recorded on the request with
    /// its audit line; approval then issues it.
    pub fn pick_address(
        &self,
        id: u64,
        line: usize,
        address: &str,
        acting: Acting<'_>,
        now: i64,
    ) -> Result<Request> {
        let _write = self.write_lock()?;
        let mut request = self.request_in_state(id, State::Submitted, "given an address")?;
        let agency = request.agency.clone();
        let Some(Line::NewOfficial(official)) = line.checked_sub(1).and_then(|i| request.lines.get_mut(i))
        else {
            return Err(DirectoryError::Invalid(format!(
                "line {line} of request {id} is not a new official's"
            )));
        };
        let plan = Plan::new(self, acting.actor, now);
        let name = text::required("name", &official.name)?;
        let (local, _) = crate::account::choose_address(&plan, &name, &agency, Some(address))
            .map_err(|e| at_line(line, e))?;
        drop(plan);
        let chosen = self.address_of(&local);
        official.address = Some(chosen.clone());
        Plan::new(self, acting.actor, now).record_request(
            &request,
            "pick_address",
            format!("line {line}: {chosen}"),
        )?;
        tracing::info!(request = id, line, address = %chosen, "address picked");
        Ok(request)
    }

    pub fn request(&self, id: u64) -> Result<Option<Request>> {
        self.trees.get(T::Requests, &id.to_be_bytes())
    }

    /// Requests, newest first, optionally of one agency (and its sub-agencies), one
    /// state, or only the late ones (the Art. 15.3 report).
    pub fn list_requests(
        &self,
        agency: Option<&str>,
        state: Option<State>,
        late_only: bool,
    ) -> Result<Vec<Request>> {
        let view = Plan::new(self, "", 0);
        let mut requests = Vec::new();
        for request in self.trees.all::<Request>(T::Requests)?.into_iter().rev() {
            if state.is_some_and(|s| s != request.state) || (late_only && !request.late) {
                continue;
            }
            if let Some(agency) = agency
                && !within(&view, &request.agency, agency)?
            {
                continue;
            }
            requests.push(request);
        }
        Ok(requests)
    }

    /// The request `id`, if it is in the one state a transition (`verb`) starts from.
    fn request_in_state(&self, id: u64, from: State, verb: &str) -> Result<Request> {
        let request = self
            .request(id)?
            .ok_or_else(|| DirectoryError::NotFound(format!("request {id}")))?;
        if request.state != from {
            let from = format!("{from:?}").to_lowercase();
            return Err(DirectoryError::Conflict(format!(
                "request {id} is {:?}: only a {from} request can be {verb}",
                request.state
            )));
        }
        Ok(request)
    }
}

impl Plan<'_> {
    /// Stores the request as it now stands with its audit line, and commits: every
    /// workflow step is one transaction.
    fn record_request(mut self, request: &Request, action: &str, detail: String) -> Result<()> {
        self.request = Some(request.id);
        self.put(T::Requests, &request.id.to_be_bytes(), request)?;
        self.audit(action, &format!("request {}", request.id), detail);
        self.commit()
    }
}

/// Plans every line; the first failure names its line.
fn plan_lines(plan: &mut Plan<'_>, request: &Request) -> Result<Vec<String>> {
    let mut results = Vec::with_capacity(request.lines.len());
    for (i, line) in request.lines.iter().enumerate() {
        let result = plan_line(plan, request, line).map_err(|e| at_line(i + 1, e))?;
        results.push(result);
    }
    Ok(results)
}

fn at_line(number: usize, error: DirectoryError) -> DirectoryError {
    let tag = |m: String| format!("line {number}: {m}");
    match error {
        DirectoryError::NotFound(m) => DirectoryError::NotFound(tag(m)),
        DirectoryError::Exists(m) => DirectoryError::Exists(tag(m)),
        DirectoryError::Invalid(m) => DirectoryError::Invalid(tag(m)),
        DirectoryError::Conflict(m) => DirectoryError::Conflict(tag(m)),
        other => other,
    }
}

/// The account at `address`, which must be a personal mailbox of `agency` or below.
fn official_of(
    plan: &Plan<'_>,
    address: &str,
    agency: &str,
) -> Result<(congvu_policy::LocalPart, AccountRecord)> {
    let (local, record) = plan_existing(plan, address)?;
    if record.kind != congvu_store::AccountKind::Personal {
        return Err(DirectoryError::Invalid(format!(
            "{} is not a personal mailbox",
            record.address
        )));
    }
    if !within(plan, &record.agency, agency)? {
        return Err(DirectoryError::Invalid(format!(
            "{} belongs to {}, not to the filing agency {agency}",
            record.address, record.agency
        )));
    }
    Ok((local, record))
}

/// The live agency `target` of a line filed by `filing`: it must be the filing
/// agency or one below it.
fn plan_agency_in_scope(plan: &Plan<'_>, target: &str, filing: &str) -> Result<crate::AgencyRecord> {
    let target = plan_live_agency(plan, target)?;
    if !within(plan, &target.abbr, filing)? {
        return Err(DirectoryError::Invalid(format!(
            "agency {} is not the filing agency {filing} nor below it",
            target.abbr
        )));
    }
    Ok(target)
}

fn within(plan: &Plan<'_>, agency: &str, ancestor: &str) -> Result<bool> {
    let mut current = Some(agency.to_owned());
    while let Some(abbr) = current {
        if abbr == ancestor {
            return Ok(true);
        }
        current = plan.agency(&abbr)?.and_then(|a| a.parent);
    }
    Ok(false)
}

fn plan_line(plan: &mut Plan<'_>, request: &Request, line: &Line) -> Result<String> {
    let agency = request.agency.as_str();
    match line {
        Line::NewAgency { abbr, name, parent } => {
            let full = plan_agency(plan, abbr, name, parent.as_deref())?;
            Ok(plan
                .dir()
                .address_of(&full.parse().map_err(|_| DirectoryError::Db(full.clone()))?))
        }
        Line::NewOfficial(official) => {
            let (local, collision) = plan_official(plan, agency, official)?;
            let address = plan.dir().address_of(&local);
            Ok(match collision {
                Some(c) => format!("{address} ({})", c.explanation),
                None => address,
            })
        }
        Line::RenameAgency { agency: target, name } => {
            let target = plan_agency_in_scope(plan, target, agency)?;
            plan_rename_agency(plan, &target.abbr, name)?;
            Ok(target.address)
        }
        Line::ChangeOfficial {
            address,
            position,
            department,
            phone,
        } => {
            let (local, mut record) = official_of(plan, address, agency)?;
            if let Some(position) = text::optional("position", position.as_deref())? {
                record.position = Some(position);
            }
            if let Some(department) = text::optional("department", department.as_deref())? {
                record.department = Some(department);
            }
            if let Some(phone) = text::optional("phone", phone.as_deref())? {
                record.phone = Some(phone);
            }
            plan.put_account(&local, &record)?;
            plan.audit("change_official", &record.address, "");
            Ok(record.address)
        }
        Line::MoveOfficial {
            address,
            position,
            department,
            new_address,
        } => {
            let (local, mut record) = plan_existing(plan, address)?;
            if record.kind != congvu_store::AccountKind::Personal || record.deleted.is_some() {
                return Err(DirectoryError::Invalid(format!(
                    "{} is not a live personal mailbox",
                    record.address
                )));
            }
            let target = plan_live_agency(plan, agency)?;
            if record.agency == target.abbr {
                return Err(DirectoryError::Invalid(format!(
                    "{} is already in {}",
                    record.address, target.abbr
                )));
            }
            record.position = text::optional("position", position.as_deref())?;
            record.department = text::optional("department", department.as_deref())?;
            // Authority does not travel: an operator elsewhere is an official here.
            record.role = Role::Official;
            let (new_local, _) = relocate(plan, &local, record, &target.abbr, new_address.as_deref())?;
            Ok(format!("{address} → {}", plan.dir().address_of(&new_local)))
        }
        Line::ConvertAddress { address, new_address } => {
            let (local, record) = official_of(plan, address, agency)?;
            let art3 = congvu_policy::naming::alternatives(&record.display_name, &record.agency)?
                .take(50)
                .any(|c| c.local == local);
            if art3 {
                return Err(DirectoryError::Invalid(format!(
                    "{} already follows Art. 3",
                    record.address
                )));
            }
            let target = record.agency.clone();
            let (new_local, _) = relocate(plan, &local, record, &target, new_address.as_deref())?;
            Ok(format!("{address} → {}", plan.dir().address_of(&new_local)))
        }
        Line::DeleteOfficial { address, reason } => {
            let (_, record) = official_of(plan, address, agency)?;
            plan_delete(plan, &record.address, reason.vietnamese(), false)?;
            Ok(record.address)
        }
        Line::DissolveAgency {
            agency: target,
            decision,
        } => {
            let target = plan_agency_in_scope(plan, target, agency)?;
            plan_dissolve_agency(plan, &target.abbr, decision)?;
            Ok(target.address)
        }
    }
}
