//! A synthetic fortnight, 1–14 January 2026, on the shipped holidays file: New Year's
//! Day (Thursday 1) and the swapped Friday 2 are days off, Saturday 10 is a make-up
//! working day. Working days: 5–9, 10, 12–14 January = 9 days, 36 windows.
//!
//! Three agencies:
//! - `sttt`: the keeper logs in at 07:45, 11:00, 13:45 and 16:00 every working day,
//!   except Tuesday 6 (an IDLE session 10:00–13:50 replaces 11:00 and 13:45: it meets
//!   both the 11:30 and the 14:00 windows) and Thursday 8 (no afternoon: 14:00 and 16:30
//!   missed). 34 of 36 = 94.4 %.
//! - `yendinh`: its clerk `vanthu.yendinh` checks through the shared namespace (the
//!   caller maps those spans to the agency) with a login at 07:30 and a session
//!   10:30–11:10, mornings only; not on Saturday 10; on Monday 12 the 08:00 window is
//!   met by a login on Sunday 11 at 20:00 (the window opens at Saturday's 16:30).
//!   8 days × 2 = 16 of 36 = 44.4 %.
//! - `pvhtt.yendinh` (under `yendinh`): one login on the holiday Friday 2 at 09:00,
//!   which meets Monday 5's 08:00 window (it opens at 31 December 16:30). 1 of 36 = 2.8 %.
//!
//! Every figure below is computed by hand from these inputs.

use chrono::NaiveDate;
use congvu_report::{
    AckReport, Acknowledgement, AgencyFacts, AgencySpans, Calendar, CheckReport, CheckSpan,
    ComplianceSettings, Destination, Format, Holidays, MailEvent, MailEventKind, Origin, PendingItem,
    Percent, Period, Requests, Scope, UsageError, UsageReport, check_windows, overdue_acknowledgements,
    render, usage, year,
};

const MIB: u64 = 1_048_576;

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, day).expect("a January date")
}

fn calendar() -> Calendar {
    let holidays = Holidays::parse(include_str!("../../../config/holidays.toml")).expect("the shipped file");
    Calendar::new(&ComplianceSettings::default(), holidays).expect("the default settings")
}

/// Local time `hh:mm` on January `day`, 2026, in Unix seconds.
fn at(calendar: &Calendar, day: u32, hour: i64, minute: i64) -> i64 {
    calendar.midnight(date(day)) + hour * 3600 + minute * 60
}

fn login(calendar: &Calendar, day: u32, hour: i64, minute: i64) -> CheckSpan {
    let moment = at(calendar, day, hour, minute);
    CheckSpan {
        from: moment,
        until: moment,
    }
}

fn session(calendar: &Calendar, day: u32, from: (i64, i64), until: (i64, i64)) -> CheckSpan {
    CheckSpan {
        from: at(calendar, day, from.0, from.1),
        until: at(calendar, day, until.0, until.1),
    }
}

const WORKING_DAYS: [u32; 9] = [5, 6, 7, 8, 9, 10, 12, 13, 14];

fn spans(calendar: &Calendar) -> Vec<AgencySpans> {
    let mut keeper = Vec::new();
    for day in WORKING_DAYS {
        keeper.push(login(calendar, day, 7, 45));
        match day {
            6 => {
                keeper.push(session(calendar, day, (10, 0), (13, 50)));
                keeper.push(login(calendar, day, 16, 0));
            }
            8 => keeper.push(login(calendar, day, 11, 0)),
            _ => {
                keeper.push(login(calendar, day, 11, 0));
                keeper.push(login(calendar, day, 13, 45));
                keeper.push(login(calendar, day, 16, 0));
            }
        }
    }
    // The clerk's spans, already mapped to the agency by the caller.
    let mut clerk = vec![login(calendar, 11, 20, 0)];
    for day in WORKING_DAYS.into_iter().filter(|day| *day != 10) {
        if day != 12 {
            clerk.push(login(calendar, day, 7, 30));
        }
        clerk.push(session(calendar, day, (10, 30), (11, 10)));
    }
    // In reverse order: the report sorts.
    clerk.reverse();
    vec![
        AgencySpans {
            agency: "sttt".into(),
            spans: keeper,
        },
        AgencySpans {
            agency: "yendinh".into(),
            spans: clerk,
        },
        AgencySpans {
            agency: "pvhtt.yendinh".into(),
            spans: vec![login(calendar, 2, 9, 0)],
        },
    ]
}

fn fortnight() -> Period {
    Period::new(date(1), date(14)).expect("a fortnight")
}

fn checks(calendar: &Calendar) -> CheckReport {
    check_windows(calendar, &fortnight(), &spans(calendar))
}

#[test]
fn check_windows_of_the_fortnight() {
    let calendar = calendar();
    let report = checks(&calendar);
    assert!(!report.provisional);
    let days: Vec<NaiveDate> = report.agencies[0].days.iter().map(|day| day.date).collect();
    assert_eq!(days, WORKING_DAYS.map(date).to_vec());
    let met = |agency: usize, day: u32| {
        report.agencies[agency]
            .days
            .iter()
            .find(|checks| checks.date == date(day))
            .map(|checks| checks.met.clone())
            .expect("a working day")
    };
    const ALL: [bool; 4] = [true; 4];
    const MORNING: [bool; 4] = [true, true, false, false];
    const NONE: [bool; 4] = [false; 4];
    for day in WORKING_DAYS {
        assert_eq!(met(0, day), if day == 8 { MORNING } else { ALL }, "sttt {day}");
        assert_eq!(
            met(1, day),
            if day == 10 { NONE } else { MORNING },
            "yendinh {day}"
        );
        let first = if day == 5 {
            [true, false, false, false]
        } else {
            NONE
        };
        assert_eq!(met(2, day), first, "pvhtt.yendinh {day}");
    }
    let scores: Vec<(&str, u32, u32, Option<Percent>)> = report
        .agencies
        .iter()
        .map(|agency| {
            (
                agency.agency.as_str(),
                agency.met,
                agency.total,
                agency.compliance,
            )
        })
        .collect();
    assert_eq!(
        scores,
        vec![
            ("sttt", 34, 36, Percent::of(944, 1000)),
            ("yendinh", 16, 36, Percent::of(444, 1000)),
            ("pvhtt.yendinh", 1, 36, Percent::of(28, 1000)),
        ]
    );
}

/// A later period whose days are provisional says so.
#[test]
fn provisional_days_are_flagged() {
    let calendar = calendar();
    let period = Period::new(
        NaiveDate::from_ymd_opt(2027, 2, 1).expect("date"),
        NaiveDate::from_ymd_opt(2027, 2, 14).expect("date"),
    )
    .expect("period");
    let report = check_windows(&calendar, &period, &[]);
    assert!(report.provisional);
    // 1–4 and 12 February: 5 working days; 5 and 8–11 are Tết.
    assert_eq!(calendar.working_days(&period).count(), 5);
}

fn facts() -> Vec<AgencyFacts> {
    vec![
        AgencyFacts {
            agency: "sttt".into(),
            name: "Sở Thông tin và Truyền thông".into(),
            parent: None,
            agency_mailboxes: 1,
            personal_mailboxes: 12,
            used_bytes: 1536 * MIB,
            quota_bytes: 1700 * MIB,
            requests: Requests {
                form01: 1,
                form02: 2,
                form03: 0,
                late: 1,
            },
        },
        AgencyFacts {
            agency: "yendinh".into(),
            name: "UBND huyện Yên Định".into(),
            parent: None,
            agency_mailboxes: 1,
            personal_mailboxes: 30,
            used_bytes: 500 * MIB,
            quota_bytes: 3500 * MIB,
            requests: Requests {
                form01: 0,
                form02: 1,
                form03: 1,
                late: 0,
            },
        },
        AgencyFacts {
            agency: "pvhtt.yendinh".into(),
            name: "Phòng Văn hóa và Thông tin huyện Yên Định".into(),
            parent: Some("yendinh".into()),
            agency_mailboxes: 1,
            personal_mailboxes: 5,
            used_bytes: 50 * MIB,
            quota_bytes: 1000 * MIB,
            requests: Requests::default(),
        },
    ]
}

fn events(calendar: &Calendar) -> Vec<MailEvent> {
    let event = |day, agency: &str, account: &str, kind| MailEvent {
        at: at(calendar, day, 9, 0),
        agency: agency.into(),
        account: account.into(),
        kind,
    };
    let delivered = |origin| MailEventKind::Delivered { origin };
    let submitted = |destination| MailEventKind::Submitted { destination };
    let refused = |rule: &str| MailEventKind::Refused { rule: rule.into() };
    let mut events = vec![
        event(5, "sttt", "sttt", MailEventKind::Login),
        event(6, "sttt", "sttt", MailEventKind::Login),
        event(6, "sttt", "tuanna.sttt", MailEventKind::Login),
        event(7, "sttt", "tuanna.sttt", MailEventKind::Login),
        event(5, "yendinh", "vanthu.yendinh", MailEventKind::Login),
        event(13, "yendinh", "vanthu.yendinh", MailEventKind::Login),
        event(5, "sttt", "sttt", MailEventKind::Bounced),
        event(12, "sttt", "sttt", refused("attachment_format")),
        event(13, "sttt", "tuanna.sttt", refused("attachment_format")),
        event(13, "sttt", "sttt", refused("classified")),
        event(9, "yendinh", "yendinh", refused("550")),
        event(8, "yendinh", "yendinh", delivered(Origin::Internet)),
        event(
            8,
            "yendinh",
            "vanthu.yendinh",
            submitted(Destination::OtherAgency),
        ),
        event(
            9,
            "yendinh",
            "vanthu.yendinh",
            submitted(Destination::OtherAgency),
        ),
        event(1, "sttt", "sttt", submitted(Destination::Internal)),
        event(7, "sttt", "tuanna.sttt", submitted(Destination::Internal)),
        event(7, "sttt", "sttt", submitted(Destination::OtherAgency)),
        event(7, "sttt", "sttt", submitted(Destination::Internet)),
        // Outside the period (15 January): ignored.
        event(15, "sttt", "sttt", delivered(Origin::Internet)),
        // An agency not in the directory: unattributed.
        event(9, "ghost", "x.ghost", delivered(Origin::Internet)),
    ];
    for (origin, count) in [
        (Origin::Internal, 3),
        (Origin::AgencyRelay, 2),
        (Origin::Internet, 4),
    ] {
        for _ in 0..count {
            events.push(event(14, "sttt", "sttt", delivered(origin)));
        }
    }
    events
}

fn fortnight_usage(scope: &Scope) -> UsageReport {
    let calendar = calendar();
    usage(
        &calendar,
        &fortnight(),
        scope,
        &facts(),
        &events(&calendar),
        &checks(&calendar),
    )
    .expect("known agencies")
}

#[test]
fn usage_of_the_fortnight() {
    let report = fortnight_usage(&Scope::Province);
    assert_eq!(report.unattributed_events, 1);
    let sttt = &report.rows[0].figures;
    assert_eq!(
        (
            sttt.agency_mailboxes,
            sttt.personal_mailboxes,
            sttt.active_mailboxes
        ),
        (1, 12, 2)
    );
    assert_eq!(
        (
            sttt.received.internal,
            sttt.received.agency_relay,
            sttt.received.internet
        ),
        (3, 2, 4)
    );
    assert_eq!(
        (sttt.sent.internal, sttt.sent.other_agency, sttt.sent.internet),
        (2, 1, 1)
    );
    assert_eq!(sttt.bounced, 1);
    assert_eq!(
        sttt.refusals
            .iter()
            .map(|(rule, count)| (rule.as_str(), *count))
            .collect::<Vec<_>>(),
        vec![("attachment_format", 2), ("classified", 1)]
    );
    assert_eq!(
        (sttt.checks_met, sttt.checks_total, sttt.compliance),
        (34, 36, Percent::of(944, 1000))
    );
    let yendinh = &report.rows[1].figures;
    assert_eq!(yendinh.active_mailboxes, 1);
    assert_eq!(yendinh.received_total(), 1);
    assert_eq!(yendinh.sent.other_agency, 2);
    assert_eq!(yendinh.refusals_total(), 1);
    let pvhtt = &report.rows[2].figures;
    assert_eq!(
        (pvhtt.active_mailboxes, pvhtt.received_total(), pvhtt.sent_total()),
        (0, 0, 0)
    );

    let total = &report.total;
    assert_eq!(
        (
            total.agency_mailboxes,
            total.personal_mailboxes,
            total.active_mailboxes
        ),
        (3, 47, 3)
    );
    assert_eq!(
        (
            total.received.internal,
            total.received.agency_relay,
            total.received.internet
        ),
        (3, 2, 5)
    );
    assert_eq!(
        (total.sent.internal, total.sent.other_agency, total.sent.internet),
        (2, 3, 1)
    );
    assert_eq!((total.used_bytes, total.quota_bytes), (2086 * MIB, 6200 * MIB));
    assert_eq!(total.refusals_total(), 4);
    assert_eq!(
        (
            total.requests.form01,
            total.requests.form02,
            total.requests.form03,
            total.requests.late
        ),
        (1, 3, 1, 1)
    );
    // 34 + 16 + 1 = 51 of 108 = 47.2 %.
    assert_eq!(
        (total.checks_met, total.checks_total, total.compliance),
        (51, 108, Percent::of(472, 1000))
    );
    assert_eq!(report.months.len(), 1);
    assert_eq!((report.months[0].received, report.months[0].sent), (10, 6));
}

#[test]
fn subtree_and_single_agency() {
    let subtree = fortnight_usage(&Scope::Subtree("yendinh".into()));
    let codes: Vec<&str> = subtree.rows.iter().map(|row| row.agency.as_str()).collect();
    assert_eq!(codes, vec!["yendinh", "pvhtt.yendinh"]);
    assert_eq!(subtree.unattributed_events, 0);
    // 16 + 1 of 72 = 23.6 %.
    assert_eq!(
        (
            subtree.total.checks_met,
            subtree.total.checks_total,
            subtree.total.compliance
        ),
        (17, 72, Percent::of(236, 1000))
    );
    assert_eq!(
        (subtree.total.personal_mailboxes, subtree.total.quota_bytes),
        (35, 4500 * MIB)
    );
    assert_eq!((subtree.months[0].received, subtree.months[0].sent), (1, 2));
    let one = fortnight_usage(&Scope::Agency("yendinh".into()));
    assert_eq!(one.rows.len(), 1);
    assert_eq!(one.total.personal_mailboxes, 30);
    let calendar = calendar();
    assert!(
        usage(
            &calendar,
            &fortnight(),
            &Scope::Subtree("nope".into()),
            &facts(),
            &[],
            &checks(&calendar)
        )
        .is_err()
    );
}

#[test]
fn a_cycle_in_the_agency_tree_ends() {
    let calendar = calendar();
    let mut facts = facts();
    facts[1].parent = Some("pvhtt.yendinh".into());
    let report = usage(
        &calendar,
        &fortnight(),
        &Scope::Subtree("yendinh".into()),
        &facts,
        &[],
        &checks(&calendar),
    )
    .expect("known");
    assert_eq!(report.rows.len(), 2);
}

fn acks(calendar: &Calendar) -> AckReport {
    let item = |agency: &str, id: &str, received_at, acknowledged| PendingItem {
        agency: agency.into(),
        message_id: id.into(),
        received_at,
        acknowledged,
    };
    let items = vec![
        item("sttt", "<m1@yendinh>", at(calendar, 9, 16, 0), None),
        item("sttt", "<m2@yendinh>", at(calendar, 13, 15, 0), None),
        item("yendinh", "<m3@sttt>", at(calendar, 1, 9, 0), None),
        item(
            "yendinh",
            "<m4@sttt>",
            at(calendar, 5, 9, 0),
            Some(Acknowledgement {
                by: "vanthu.yendinh".into(),
                at: at(calendar, 12, 8, 0),
            }),
        ),
    ];
    overdue_acknowledgements(calendar, &items, at(calendar, 14, 10, 0), 8)
}

#[test]
fn acknowledgements_of_the_fortnight() {
    let calendar = calendar();
    let report = acks(&calendar);
    let listed: Vec<(&str, &str, i64)> = report
        .agencies
        .iter()
        .flat_map(|agency| {
            agency.overdue.iter().map(move |item| {
                (
                    agency.agency.as_str(),
                    item.message_id.as_str(),
                    item.working_hours_tenths(),
                )
            })
        })
        .collect();
    // m1: Friday 16:00–17:00 1 h + Saturday 10 (make-up) 7.5 + Monday 7.5 + Tuesday 7.5
    // + Wednesday 07:30–10:00 2.5 = 26 h. m2: 2 + 2.5 = 4.5 h, not overdue. m3: the
    // holidays 1–2 count nothing: 5 × 7.5 + 7.5 + 2 × 7.5 + 2.5 = 62.5 h. m4: acknowledged.
    assert_eq!(
        listed,
        vec![("sttt", "<m1@yendinh>", 260), ("yendinh", "<m3@sttt>", 625)]
    );
}

/// A minimal RFC 4180 reader for the round trip.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(character) = chars.next() {
        match (quoted, character) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, other) => field.push(other),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CRLF line ends");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, other) => field.push(other),
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record ends in CRLF"
    );
    records
}

#[test]
fn checks_csv_parses_back() {
    let calendar = calendar();
    let csv = render(&checks(&calendar), Format::Csv).expect("csv");
    let body = csv.strip_prefix('\u{feff}').expect("a BOM for Excel");
    let records = parse_csv(body);
    assert_eq!(
        records[0],
        vec![
            "Cơ quan",
            "Ngày",
            "Trước 08:00",
            "Trước 11:30",
            "Trước 14:00",
            "Trước 16:30",
            "Số mốc đạt",
            "Tỷ lệ (%)"
        ]
    );
    // 3 agencies × (9 days + a total row) + the heading.
    assert_eq!(records.len(), 31);
    assert_eq!(
        records[4],
        vec!["sttt", "2026-01-08", "1", "1", "0", "0", "2", "50.0"]
    );
    assert_eq!(
        records[10],
        vec!["sttt", "Cộng", "9", "9", "8", "8", "34", "94.4"]
    );
    assert_eq!(
        records[20],
        vec!["yendinh", "Cộng", "8", "8", "0", "0", "16", "44.4"]
    );
    assert_eq!(
        records[30],
        vec!["pvhtt.yendinh", "Cộng", "1", "0", "0", "0", "1", "2.8"]
    );
}

#[test]
fn usage_csv_parses_back_with_every_rule() {
    let csv = render(&fortnight_usage(&Scope::Province), Format::Csv).expect("csv");
    let records = parse_csv(csv.strip_prefix('\u{feff}').expect("BOM"));
    assert_eq!(records.len(), 5);
    let heading = &records[0];
    assert_eq!(heading.len(), 24);
    assert_eq!(
        heading[14..17],
        [
            "Bị từ chối: 550",
            "Bị từ chối: attachment_format",
            "Bị từ chối: classified"
        ]
    );
    assert_eq!(
        records[1],
        vec![
            "sttt",
            "Sở Thông tin và Truyền thông",
            "1",
            "12",
            "2",
            "3",
            "2",
            "4",
            "2",
            "1",
            "1",
            "1",
            "1536.0",
            "1700.0",
            "0",
            "2",
            "1",
            "1",
            "2",
            "0",
            "1",
            "34",
            "36",
            "94.4"
        ]
    );
    let row = |fields: &str| fields.split('|').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        records[2],
        row("yendinh|UBND huyện Yên Định|1|30|1|0|0|1|0|2|0|0|500.0|3500.0|1|0|0|0|1|1|0|16|36|44.4")
    );
    assert_eq!(
        records[3],
        row(
            "pvhtt.yendinh|Phòng Văn hóa và Thông tin huyện Yên Định|1|5|0|0|0|0|0|0|0|0|50.0|1000.0|0|0|0|0|0|0|0|1|36|2.8"
        )
    );
    assert_eq!(
        records[4],
        vec![
            "",
            "Tổng cộng",
            "3",
            "47",
            "3",
            "3",
            "2",
            "5",
            "2",
            "3",
            "1",
            "1",
            "2086.0",
            "6200.0",
            "1",
            "2",
            "1",
            "1",
            "3",
            "1",
            "1",
            "51",
            "108",
            "47.2"
        ]
    );
}

#[test]
fn json_is_the_report() {
    let report = fortnight_usage(&Scope::Province);
    let json = render(&report, Format::Json).expect("json");
    let back: UsageReport = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, report);
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["total"]["compliance"], serde_json::json!(47.2));
    assert_eq!(value["rows"][0]["received"]["agency_relay"], serde_json::json!(2));
}

#[test]
fn table_aligns_columns() {
    let calendar = calendar();
    let text = render(&checks(&calendar), Format::Table).expect("table");
    assert!(
        text.starts_with(
            "Báo cáo kiểm tra hộp thư điện tử cơ quan\nTừ ngày 01/01/2026 đến ngày 14/01/2026\n"
        )
    );
    assert!(text.contains("sttt           08/01/2026            ✓            ✓            ✗            ✗           2       50,0"), "{text}");
    let text = render(&acks(&calendar), Format::Table).expect("table");
    assert!(
        text.contains("Quá 8 giờ làm việc, tính đến 14/01/2026 10:00"),
        "{text}"
    );
    assert!(
        text.contains("sttt     <m1@yendinh>         09/01/2026 16:00                    26,0\n"),
        "{text}"
    );
    assert!(
        text.contains("yendinh  <m3@sttt>            01/01/2026 09:00                    62,5\n"),
        "{text}"
    );
}

/// The cells of each `<tr>` of the HTML, tags removed.
fn html_rows(html: &str) -> Vec<Vec<String>> {
    html.split("<tr")
        .skip(1)
        .map(|row| {
            let row = row.split("</tr>").next().unwrap_or("");
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let content = cell.split_once('>').map_or("", |(_, rest)| rest);
                    content.split("</td>").next().unwrap_or("").to_owned()
                })
                .collect()
        })
        .filter(|cells: &Vec<String>| !cells.is_empty())
        .collect()
}

/// Every number in an SVG coordinate or size attribute is a whole, non-negative number.
fn assert_svg_numbers(html: &str) -> usize {
    let mut seen = 0;
    for svg in html.split("<svg").skip(1) {
        let svg = svg.split("</svg>").next().unwrap_or("");
        for attribute in [" x=\"", " y=\"", " width=\"", " height=\"", " viewBox=\""] {
            for value in svg.split(attribute).skip(1) {
                let value = value.split('"').next().unwrap_or("");
                for number in value.split(' ') {
                    assert!(number.parse::<u32>().is_ok(), "{attribute}{value}");
                    seen += 1;
                }
            }
        }
    }
    seen
}

fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"vi\">"));
    assert!(html.contains("@page { size: A4"));
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("http"), "no URL of any kind");
    assert!(!html.contains(" src=") && !html.contains(" href=") && !html.contains("url("));
}

#[test]
fn year_html_is_printable_and_matches_the_input() {
    let calendar = calendar();
    let year_checks = check_windows(&calendar, &Period::year(2026).expect("2026"), &spans(&calendar));
    // 2026: 261 weekdays − 13 weekday holidays + 2 make-up Saturdays = 250 working days.
    assert_eq!(year_checks.agencies[0].total, 1000);
    assert!(matches!(
        year(&calendar, 2026, &facts(), &events(&calendar), &checks(&calendar)),
        Err(UsageError::ChecksPeriod)
    ));
    let report = year(&calendar, 2026, &facts(), &events(&calendar), &year_checks).expect("2026");
    let html = render(&report, Format::Html).expect("html");
    assert_self_contained(&html);
    assert!(html.contains("Báo cáo tình hình sử dụng hệ thống thư điện tử công vụ năm 2026"));
    assert!(html.contains("Từ ngày 01/01/2026 đến ngày 31/12/2026"));
    assert!(html.contains("1 sự kiện thư không thuộc cơ quan nào"));
    // Two charts: 3 agencies × 1 bar, 12 months × 2 bars, each bar a rect and a legend
    // square per series.
    assert_eq!(html.matches("<svg").count(), 2);
    assert_eq!(html.matches("<rect").count(), 1 + 3 + 2 + 24);
    assert!(assert_svg_numbers(&html) > 100);
    // The year holds the delivery of 15 January too: January has 11 received (the whole
    // 440 px) and 6 sent (440 × 6 / 11 = 240 px).
    assert!(
        html.contains("width=\"440\" height=\"12\" fill=\"#2b6cb0\"/><text x=\"594\" y=\"32\">11</text>")
    );
    assert!(html.contains("width=\"240\" height=\"12\" fill=\"#2f855a\"/><text x=\"394\" y=\"46\">6</text>"));
    // 34 of 1000 = 3.4 %: 440 × 34 / 1000 = 14 px.
    assert!(
        html.contains("width=\"14\" height=\"12\" fill=\"#2b6cb0\"/><text x=\"168\" y=\"32\">3,4</text>")
    );
    let rows = html_rows(&html);
    let expected_sttt = [
        "sttt",
        "Sở Thông tin và Truyền thông",
        "1",
        "12",
        "2",
        "3",
        "2",
        "5",
        "2",
        "1",
        "1",
        "1",
        "1.536,0",
        "1.700,0",
        "0",
        "2",
        "1",
        "1",
        "2",
        "0",
        "1",
        "34",
        "1.000",
        "3,4",
    ];
    assert_eq!(rows[0], expected_sttt);
    let expected_total = [
        "",
        "Tổng cộng",
        "3",
        "47",
        "3",
        "3",
        "2",
        "6",
        "2",
        "3",
        "1",
        "1",
        "2.086,0",
        "6.200,0",
        "1",
        "2",
        "1",
        "1",
        "3",
        "1",
        "1",
        "51",
        "3.000",
        "1,7",
    ];
    assert_eq!(rows[3], expected_total);
    // The months table: January, then eleven empty months, then the total.
    assert_eq!(rows[4], ["01/2026", "11", "6"]);
    assert_eq!(rows[5], ["02/2026", "0", "0"]);
    assert_eq!(rows[16], ["Tổng cộng", "11", "6"]);
    assert_eq!(rows.len(), 17);
}

#[test]
fn html_escapes_what_it_is_given() {
    let calendar = calendar();
    let mut facts = facts();
    facts[0].name = "<script>alert(1)</script> & \"Sở\"".into();
    let report = usage(
        &calendar,
        &fortnight(),
        &Scope::Province,
        &facts,
        &[],
        &checks(&calendar),
    )
    .expect("usage");
    let html = render(&report, Format::Html).expect("html");
    assert_self_contained(&html);
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Sở&quot;"));
    let checks_html = render(&checks(&calendar), Format::Html).expect("html");
    assert_self_contained(&checks_html);
    let rows = html_rows(&checks_html);
    assert_eq!(rows[3], ["sttt", "08/01/2026", "✓", "✓", "✗", "✗", "2", "50,0"]);
    assert_eq!(rows[9], ["sttt", "Cộng", "9", "9", "8", "8", "34", "94,4"]);
    assert_eq!(rows[30], ["sttt", "34", "36", "94,4"]);
}
