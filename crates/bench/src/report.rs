//! `report`: the yearly report (Art. 12.6, issue 14) of a generated province —
//! `--agencies` agencies (a tree: one in twenty at the top, the others below them),
//! `--mailboxes` mailboxes (one agency mailbox each, the rest personal), `--events`
//! mail events spread over the year and `--checks` check spans per agency — made in a
//! store of its own through the directory and store APIs (events in batches). Then the
//! `congvu` binary (`--congvu`, built in the same profile) computes the report on that
//! data directory, offline, as `congvu report year` does for an operator: reading the
//! directory and the store, computing, rendering. Printed: the time of each format, a
//! one-day report's time (the fixed cost: process start and opening the store), and
//! the bytes the events take on disk (sled's size before and after recording them).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use congvu_directory::{DefaultQuotas, Directory};
use congvu_store::{
    AccessEvent, AccessKind, AccountId, Destination, EventRecord, MailEventKind, MailStore, Origin, SledStore,
};

use crate::Error;

/// Events recorded per `record_events` call.
const EVENT_BATCH: usize = 10_000;
/// Agencies per top-level agency in the generated tree.
const TREE_FANOUT: usize = 20;
/// Threads recording check spans (the store's group commit takes them together).
const SPAN_WRITERS: usize = 8;
/// 2026-01-01T00:00:00+07:00.
const YEAR_START: i64 = 1_767_200_400;
const YEAR: i32 = 2026;
const SECONDS_PER_YEAR: i64 = 365 * 86_400;

/// What to generate, and the binary that computes the report.
#[derive(clap::Args)]
pub struct Generated {
    /// The `congvu` binary that computes it (build it in the same profile).
    #[arg(long, default_value = "target/release/congvu")]
    pub congvu: PathBuf,
    #[arg(long, default_value_t = 1_000)]
    pub agencies: usize,
    #[arg(long, default_value_t = 20_000)]
    pub mailboxes: usize,
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    /// Check spans per agency (an hour each, spread over the year).
    #[arg(long, default_value_t = 10)]
    pub checks: usize,
    /// Where the generated data directory is made (removed after).
    #[arg(long, default_value = "target/bench-report")]
    pub work: PathBuf,
}

/// The `index`-th official's name: distinct within an agency for the first thousand.
fn official_name(index: usize) -> String {
    const FAMILY: [&str; 10] = [
        "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ",
    ];
    const MIDDLE: [&str; 10] = [
        "Văn", "Thị", "Anh", "Minh", "Đức", "Thu", "Hữu", "Ngọc", "Quang", "Thanh",
    ];
    const GIVEN: [&str; 10] = [
        "An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khoa", "Lan", "Nam", "Tuấn",
    ];
    format!(
        "{} {} {}",
        FAMILY[index % 10],
        MIDDLE[(index / 10) % 10],
        GIVEN[(index / 100) % 10]
    )
}

/// The `n`-th of `total` mail events: spread evenly over the year, over every
/// mailbox, in a plausible mix of kinds (deliveries 45 %, submissions 35 %, logins
/// 15 %, refusals 3 %, bounces 2 %).
fn event(n: usize, total: usize, accounts: &[AccountId]) -> EventRecord {
    let at = YEAR_START
        + i64::try_from(n).unwrap_or(0) * (SECONDS_PER_YEAR / i64::try_from(total.max(1)).unwrap_or(1));
    let account = accounts[n.wrapping_mul(7919) % accounts.len()];
    let kind = match n % 100 {
        0..=19 => MailEventKind::Delivered {
            origin: Origin::Internal,
        },
        20..=34 => MailEventKind::Delivered {
            origin: Origin::Internet,
        },
        35..=44 => MailEventKind::Delivered {
            origin: Origin::AgencyRelay,
        },
        45..=59 => MailEventKind::Submitted {
            destination: Destination::Internal,
        },
        60..=74 => MailEventKind::Submitted {
            destination: Destination::OtherAgency,
        },
        75..=79 => MailEventKind::Submitted {
            destination: Destination::Internet,
        },
        80..=94 => MailEventKind::Login,
        95..=96 => MailEventKind::Refused {
            rule: "attachment_format".to_owned(),
        },
        97 => MailEventKind::Refused {
            rule: "550".to_owned(),
        },
        _ => MailEventKind::Bounced,
    };
    EventRecord { at, account, kind }
}

/// Runs `congvu --config CONFIG report …ARGS --output FILE`; returns the seconds it took
/// and the output's size.
fn time_report(congvu: &Path, config: &Path, args: &[&str], output: &Path) -> Result<(f64, u64), Error> {
    let started = Instant::now();
    let status = Command::new(congvu)
        .arg("--config")
        .arg(config)
        .arg("report")
        .args(args)
        .arg("--output")
        .arg(output)
        .status()?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("congvu report {args:?} failed: {status}").into());
    }
    Ok((seconds, std::fs::metadata(output)?.len()))
}

pub fn run(generated: Generated) -> Result<(), Error> {
    if generated.agencies == 0 || generated.mailboxes < generated.agencies {
        return Err("--mailboxes must be at least --agencies (one agency mailbox each)".into());
    }
    std::fs::create_dir_all(&generated.work)?;
    let work = tempfile::tempdir_in(&generated.work)?;
    let data_dir = work.path().join("data");
    let store = Arc::new(SledStore::open(&data_dir)?);
    let directory = Directory::open(
        store.db(),
        store.clone(),
        "thanhhoa.gov.vn",
        DefaultQuotas::default(),
    )?;

    let started = Instant::now();
    let mut agencies = Vec::with_capacity(generated.agencies);
    for index in 0..generated.agencies {
        let parent = (index % TREE_FANOUT != 0).then(|| agencies_top(index));
        let record = directory.add_agency(
            &format!("cq{index:04}"),
            &format!("Cơ quan số {index}"),
            parent.as_deref(),
        )?;
        agencies.push(record);
    }
    let mut accounts: Vec<AccountId> = agencies.iter().map(|agency| agency.account).collect();
    for index in 0..generated.mailboxes - generated.agencies {
        let agency = &agencies[index % agencies.len()];
        let (record, _) =
            directory.add_person(&agency.abbr, &official_name(index / agencies.len()), None, None)?;
        accounts.push(record.account);
    }
    println!(
        "directory: {} agencies, {} mailboxes in {:.1} s",
        agencies.len(),
        accounts.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let spans: Vec<(AccountId, i64)> = agencies
        .iter()
        .enumerate()
        .flat_map(|(index, agency)| {
            (0..generated.checks).map(move |check| {
                // Working hours of a spread of days: 08:00–09:00 local on day `day`.
                let day = i64::try_from((index + check * 37) % 365).unwrap_or(0);
                (agency.account, YEAR_START + day * 86_400 + 8 * 3600)
            })
        })
        .collect();
    std::thread::scope(|scope| -> Result<(), Error> {
        let chunk = spans.len().div_ceil(SPAN_WRITERS).max(1);
        let writers: Vec<_> = spans
            .chunks(chunk)
            .enumerate()
            .map(|(writer, part)| {
                let store = &store;
                scope.spawn(move || -> Result<(), congvu_store::StoreError> {
                    for (n, (account, at)) in part.iter().enumerate() {
                        let session = u64::try_from(writer * chunk + n + 1).unwrap_or(u64::MAX);
                        for (kind, when) in [
                            (AccessKind::AgencyInboxSelected, *at),
                            (AccessKind::AgencyInboxLeft, at + 3600),
                        ] {
                            store.record_access(&AccessEvent {
                                account: *account,
                                login: "bench".to_owned(),
                                kind,
                                at: when,
                                client: "127.0.0.1".to_owned(),
                                protocol: "imaps".to_owned(),
                                session,
                            })?;
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for writer in writers {
            writer.join().map_err(|_| "a span writer panicked")??;
        }
        Ok(())
    })?;
    println!(
        "check spans: {} ({} access events) in {:.1} s",
        spans.len(),
        spans.len() * 2,
        started.elapsed().as_secs_f64()
    );

    store.db().flush()?;
    let before = store.db().size_on_disk()?;
    let started = Instant::now();
    let mut batch = Vec::with_capacity(EVENT_BATCH);
    for n in 0..generated.events {
        batch.push(event(n, generated.events, &accounts));
        if batch.len() == EVENT_BATCH {
            store.record_events(&batch)?;
            batch.clear();
        }
    }
    store.record_events(&batch)?;
    store.db().flush()?;
    let after = store.db().size_on_disk()?;
    println!(
        "events: {} recorded in {:.1} s; sled size {:.1} MB → {:.1} MB: {:.1} MB for the events, {:.0} bytes each",
        generated.events,
        started.elapsed().as_secs_f64(),
        before as f64 / 1e6,
        after as f64 / 1e6,
        after.saturating_sub(before) as f64 / 1e6,
        after.saturating_sub(before) as f64 / generated.events.max(1) as f64
    );
    drop(directory);
    drop(store);

    let config = work.path().join("congvu.toml");
    let holidays = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/holidays.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nhostname = \"mail.thanhhoa.gov.vn\"\ndata_dir = \"{}\"\n[domain]\nprimary = \"thanhhoa.gov.vn\"\n[compliance]\nholidays_file = \"{}\"\n",
            data_dir.display(),
            holidays.display()
        ),
    )?;
    let year = YEAR.to_string();
    let (seconds, _) = time_report(
        &generated.congvu,
        &config,
        &[
            "checks",
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-05",
            "--agency",
            "cq0000",
            "--format",
            "json",
        ],
        &work.path().join("one-day.json"),
    )?;
    println!("fixed cost (one agency, one day): {seconds:.2} s");
    for format in ["html", "csv", "json"] {
        let (seconds, bytes) = time_report(
            &generated.congvu,
            &config,
            &["year", &year, "--format", format],
            &work.path().join(format!("year.{format}")),
        )?;
        println!(
            "report year {year} --format {format}: {seconds:.2} s, {:.1} KB",
            bytes as f64 / 1e3
        );
    }
    Ok(())
}

/// The top-level agency the `index`-th agency belongs under.
fn agencies_top(index: usize) -> String {
    format!("cq{:04}", index - index % TREE_FANOUT)
}
