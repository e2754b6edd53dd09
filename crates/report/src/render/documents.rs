//! Each report as a [`Document`]: Vietnamese titles and headings first, English beside
//! them; the main table first (the one CSV carries).

use crate::acks::AckReport;
use crate::calendar::Period;
use crate::checks::CheckReport;
use crate::figures::Percent;
use crate::usage::{UsageFigures, UsageReport};

use super::{BarChart, Cell, Column, Document, Row, Table};

/// A report that can be printed.
pub trait Reportable {
    fn document(&self) -> Document;
}

const BLUE: &str = "#2b6cb0";
const GREEN: &str = "#2f855a";

fn period_text(period: &Period) -> String {
    format!(
        "Từ ngày {} đến ngày {}",
        period.from().format("%d/%m/%Y"),
        period.to().format("%d/%m/%Y")
    )
}

fn row(cells: Vec<Cell>) -> Row {
    Row { cells, total: false }
}

fn total_row(cells: Vec<Cell>) -> Row {
    Row { cells, total: true }
}

fn compliance_chart<'a>(rows: impl Iterator<Item = (&'a str, Option<Percent>)>) -> BarChart {
    BarChart {
        title: "Tỷ lệ kiểm tra hộp thư đúng mốc giờ theo cơ quan (%)".to_owned(),
        title_en: "Check-window compliance per agency (%)".to_owned(),
        series: vec![("Tỷ lệ đạt".to_owned(), BLUE)],
        categories: rows
            .map(|(agency, compliance)| (agency.to_owned(), vec![Cell::Percent(compliance)]))
            .collect(),
    }
}

impl Reportable for CheckReport {
    fn document(&self) -> Document {
        let mut columns = vec![Column::new("Cơ quan", "Agency"), Column::new("Ngày", "Date")];
        columns.extend(
            self.windows
                .iter()
                .map(|time| Column::new(format!("Trước {time}"), format!("By {time}"))),
        );
        columns.push(Column::new("Số mốc đạt", "Windows met"));
        columns.push(Column::new("Tỷ lệ (%)", "Compliance (%)"));
        let mut rows = Vec::new();
        for agency in &self.agencies {
            let mut per_window = vec![0u64; self.windows.len()];
            for day in &agency.days {
                let met = day.met.iter().filter(|met| **met).count() as u64;
                let mut cells = vec![Cell::Text(agency.agency.clone()), Cell::Date(day.date)];
                for (count, met) in per_window.iter_mut().zip(&day.met) {
                    *count += u64::from(*met);
                    cells.push(Cell::Met(*met));
                }
                cells.push(Cell::Count(met));
                cells.push(Cell::Percent(Percent::of(met, day.met.len() as u64)));
                rows.push(row(cells));
            }
            let mut cells = vec![Cell::Text(agency.agency.clone()), Cell::Text("Cộng".to_owned())];
            cells.extend(per_window.into_iter().map(Cell::Count));
            cells.push(Cell::Count(u64::from(agency.met)));
            cells.push(Cell::Percent(agency.compliance));
            rows.push(total_row(cells));
        }
        let summary = Table {
            title: "Tổng hợp theo cơ quan".to_owned(),
            title_en: "Summary per agency".to_owned(),
            columns: vec![
                Column::new("Cơ quan", "Agency"),
                Column::new("Số mốc đạt", "Windows met"),
                Column::new("Tổng số mốc", "Windows due"),
                Column::new("Tỷ lệ (%)", "Compliance (%)"),
            ],
            rows: self
                .agencies
                .iter()
                .map(|agency| {
                    row(vec![
                        Cell::Text(agency.agency.clone()),
                        Cell::Count(u64::from(agency.met)),
                        Cell::Count(u64::from(agency.total)),
                        Cell::Percent(agency.compliance),
                    ])
                })
                .collect(),
        };
        let mut notes = vec![
            "Mỗi mốc giờ đạt khi hộp thư cơ quan được mở sau mốc trước đó và không muộn hơn mốc này \
             (mốc đầu ngày tính từ mốc cuối của ngày làm việc trước)."
                .to_owned(),
        ];
        if self.provisional {
            notes.push(
                "Lịch nghỉ trong kỳ có ngày dự kiến, chưa có thông báo chính thức của Bộ Nội vụ.".to_owned(),
            );
        }
        Document {
            title: "Báo cáo kiểm tra hộp thư điện tử cơ quan".to_owned(),
            title_en: "Agency mailbox checks (Decision 3380, Art. 10)".to_owned(),
            subtitle: period_text(&self.period),
            notes,
            landscape: false,
            charts: vec![compliance_chart(
                self.agencies
                    .iter()
                    .map(|agency| (agency.agency.as_str(), agency.compliance)),
            )],
            tables: vec![
                Table {
                    title: "Chi tiết theo ngày làm việc".to_owned(),
                    title_en: "Per working day".to_owned(),
                    columns,
                    rows,
                },
                summary,
            ],
        }
    }
}

impl Reportable for AckReport {
    fn document(&self) -> Document {
        let mut rows = Vec::new();
        let mut summary = Vec::new();
        for agency in &self.agencies {
            for item in &agency.overdue {
                rows.push(row(vec![
                    Cell::Text(agency.agency.clone()),
                    Cell::Text(item.message_id.clone()),
                    Cell::Time(item.received_local),
                    Cell::Hours(item.working_hours_tenths().unsigned_abs()),
                ]));
            }
            summary.push(row(vec![
                Cell::Text(agency.agency.clone()),
                Cell::Count(agency.overdue.len() as u64),
            ]));
        }
        Document {
            title: "Thư chưa được xác nhận đã tiếp nhận".to_owned(),
            title_en: "Acknowledgements of receipt pending (Decision 3380, Art. 16.2.a)".to_owned(),
            subtitle: format!(
                "Quá {} giờ làm việc, tính đến {}",
                self.threshold_hours,
                Cell::Time(self.now_local).human()
            ),
            notes: Vec::new(),
            landscape: false,
            charts: Vec::new(),
            tables: vec![
                Table {
                    title: "Danh sách thư chờ xác nhận".to_owned(),
                    title_en: "Messages pending".to_owned(),
                    columns: vec![
                        Column::new("Cơ quan", "Agency"),
                        Column::new("Mã thư (Message-ID)", "Message-ID"),
                        Column::new("Nhận lúc", "Received"),
                        Column::new("Số giờ làm việc đã chờ", "Working hours pending"),
                    ],
                    rows,
                },
                Table {
                    title: "Số thư chờ theo cơ quan".to_owned(),
                    title_en: "Pending per agency".to_owned(),
                    columns: vec![
                        Column::new("Cơ quan", "Agency"),
                        Column::new("Số thư", "Messages"),
                    ],
                    rows: summary,
                },
            ],
        }
    }
}

/// The usage columns after the agency's code and name, with the rules refused.
fn usage_columns(rules: &[&String]) -> Vec<Column> {
    let mut columns = vec![
        Column::new("Mã cơ quan", "Agency"),
        Column::new("Tên cơ quan", "Name"),
        Column::new("Hộp thư cơ quan", "Agency mailboxes"),
        Column::new("Hộp thư cá nhân", "Personal mailboxes"),
        Column::new("Hộp thư hoạt động", "Active mailboxes"),
        Column::new("Thư nhận nội bộ", "Received, internal"),
        Column::new("Thư nhận qua máy chủ cơ quan", "Received, agency relay"),
        Column::new("Thư nhận từ Internet", "Received, Internet"),
        Column::new("Thư gửi trong cơ quan", "Sent, own agency"),
        Column::new("Thư gửi cơ quan khác", "Sent, other agencies"),
        Column::new("Thư gửi ra Internet", "Sent, Internet"),
        Column::new("Thư báo lỗi", "Bounced"),
        Column::new("Dung lượng đã dùng (MB)", "Storage used (MB)"),
        Column::new("Hạn mức (MB)", "Quota (MB)"),
    ];
    columns.extend(
        rules
            .iter()
            .map(|rule| Column::new(format!("Bị từ chối: {rule}"), format!("Refused: {rule}"))),
    );
    columns.extend([
        Column::new("Mẫu 01", "Form 01"),
        Column::new("Mẫu 02", "Form 02"),
        Column::new("Mẫu 03", "Form 03"),
        Column::new("Nộp muộn", "Filed late"),
        Column::new("Mốc kiểm tra đạt", "Check windows met"),
        Column::new("Tổng số mốc", "Check windows due"),
        Column::new("Tỷ lệ kiểm tra (%)", "Check compliance (%)"),
    ]);
    columns
}

fn usage_cells(code: &str, name: &str, figures: &UsageFigures, rules: &[&String]) -> Vec<Cell> {
    let mut cells = vec![
        Cell::Text(code.to_owned()),
        Cell::Text(name.to_owned()),
        Cell::Count(figures.agency_mailboxes),
        Cell::Count(figures.personal_mailboxes),
        Cell::Count(figures.active_mailboxes),
        Cell::Count(figures.received.internal),
        Cell::Count(figures.received.agency_relay),
        Cell::Count(figures.received.internet),
        Cell::Count(figures.sent.internal),
        Cell::Count(figures.sent.other_agency),
        Cell::Count(figures.sent.internet),
        Cell::Count(figures.bounced),
        Cell::Megabytes(figures.used_bytes),
        Cell::Megabytes(figures.quota_bytes),
    ];
    cells.extend(
        rules
            .iter()
            .map(|rule| Cell::Count(figures.refusals.get(*rule).copied().unwrap_or(0))),
    );
    cells.extend([
        Cell::Count(figures.requests.form01),
        Cell::Count(figures.requests.form02),
        Cell::Count(figures.requests.form03),
        Cell::Count(figures.requests.late),
        Cell::Count(figures.checks_met),
        Cell::Count(figures.checks_total),
        Cell::Percent(figures.compliance),
    ]);
    cells
}

impl Reportable for UsageReport {
    fn document(&self) -> Document {
        let rules: Vec<&String> = self.total.refusals.keys().collect();
        let mut rows: Vec<Row> = self
            .rows
            .iter()
            .map(|usage| row(usage_cells(&usage.agency, &usage.name, &usage.figures, &rules)))
            .collect();
        rows.push(total_row(usage_cells("", "Tổng cộng", &self.total, &rules)));
        let mut months: Vec<Row> = self
            .months
            .iter()
            .map(|month| {
                row(vec![
                    Cell::Text(format!("{:02}/{}", month.month, month.year)),
                    Cell::Count(month.received),
                    Cell::Count(month.sent),
                ])
            })
            .collect();
        months.push(total_row(vec![
            Cell::Text("Tổng cộng".to_owned()),
            Cell::Count(self.months.iter().map(|month| month.received).sum()),
            Cell::Count(self.months.iter().map(|month| month.sent).sum()),
        ]));
        let month_chart = BarChart {
            title: "Số thư nhận và gửi theo tháng".to_owned(),
            title_en: "Messages received and sent per month".to_owned(),
            series: vec![("Thư nhận".to_owned(), BLUE), ("Thư gửi".to_owned(), GREEN)],
            categories: self
                .months
                .iter()
                .map(|month| {
                    (
                        format!("{:02}/{}", month.month, month.year),
                        vec![Cell::Count(month.received), Cell::Count(month.sent)],
                    )
                })
                .collect(),
        };
        let (title, title_en) = match self.year {
            Some(year) => (
                format!("Báo cáo tình hình sử dụng hệ thống thư điện tử công vụ năm {year}"),
                format!("Official e-mail usage in {year} (Decision 3380, Art. 12.6)"),
            ),
            None => (
                "Thống kê tình hình sử dụng thư điện tử công vụ".to_owned(),
                "Official e-mail usage per agency (Decision 3380, Art. 15.4)".to_owned(),
            ),
        };
        let mut notes = Vec::new();
        if self.unattributed_events > 0 {
            notes.push(format!(
                "{} sự kiện thư không thuộc cơ quan nào trong danh sách (không tính vào bảng).",
                crate::figures::vi_count(self.unattributed_events)
            ));
        }
        Document {
            title,
            title_en,
            subtitle: period_text(&self.period),
            notes,
            landscape: true,
            charts: vec![
                compliance_chart(
                    self.rows
                        .iter()
                        .map(|usage| (usage.agency.as_str(), usage.figures.compliance)),
                ),
                month_chart,
            ],
            tables: vec![
                Table {
                    title: "Số liệu theo cơ quan".to_owned(),
                    title_en: "Per agency".to_owned(),
                    columns: usage_columns(&rules),
                    rows,
                },
                Table {
                    title: "Số thư theo tháng".to_owned(),
                    title_en: "Messages per month".to_owned(),
                    columns: vec![
                        Column::new("Tháng", "Month"),
                        Column::new("Thư nhận", "Received"),
                        Column::new("Thư gửi", "Sent"),
                    ],
                    rows: months,
                },
            ],
        }
    }
}
