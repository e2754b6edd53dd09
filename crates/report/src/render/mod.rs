//! Rendering: every report becomes a [`Document`] (titles, tables of typed cells,
//! charts), which the text renderers print: a terminal [`table`], RFC 4180 [`csv`] and
//! a printable A4 [`html`] page in Vietnamese. JSON is the report itself (serde).
//!
//! Invariants:
//! 1. A cell keeps its value, not its text: each renderer prints it in its own form
//!    (Vietnamese `1.234,5` for people, `1234.5` for machines), so the figures agree.
//! 2. The first table of a document is its main one: CSV carries that table alone.

mod csv;
mod documents;
mod html;
mod table;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::figures::{self, Percent};

pub use documents::Reportable;
pub use html::escape;

/// An output format (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Html,
}

impl std::str::FromStr for Format {
    type Err = RenderError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "table" => Ok(Self::Table),
            "csv" => Ok(Self::Csv),
            "json" => Ok(Self::Json),
            "html" => Ok(Self::Html),
            other => Err(RenderError::Format(other.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("định dạng không hỗ trợ / unsupported format {0:?} (table, csv, json, html)")]
    Format(String),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Renders a report in `format`.
pub fn render<R: Reportable + Serialize>(report: &R, format: Format) -> Result<String, RenderError> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(report)?,
        Format::Table => table::render(&report.document()),
        Format::Csv => csv::render(&report.document()),
        Format::Html => html::render(&report.document()),
    })
}

/// A report ready to print.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Vietnamese title, with full diacritics.
    pub title: String,
    /// The same in English, printed smaller.
    pub title_en: String,
    /// The period or the moment the report covers, in Vietnamese.
    pub subtitle: String,
    /// Remarks printed under the subtitle (e.g. provisional holidays).
    pub notes: Vec<String>,
    /// Whether the HTML page is landscape (wide tables).
    pub landscape: bool,
    pub charts: Vec<BarChart>,
    pub tables: Vec<Table>,
}

/// A column heading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub heading: String,
    pub heading_en: String,
}

impl Column {
    pub fn new(heading: impl Into<String>, heading_en: impl Into<String>) -> Self {
        Self {
            heading: heading.into(),
            heading_en: heading_en.into(),
        }
    }
}

/// A value in a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Count(u64),
    /// A percentage; `None` prints as a dash (nothing to measure).
    Percent(Option<Percent>),
    /// A size in bytes, printed in MB to one decimal.
    Megabytes(u64),
    /// Tenths of an hour.
    Hours(u64),
    Met(bool),
    Date(NaiveDate),
    Time(Option<NaiveDateTime>),
}

impl Cell {
    /// The form people read (table, HTML).
    pub fn human(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Count(count) => figures::vi_count(*count),
            Self::Percent(Some(percent)) => percent.vi(),
            Self::Percent(None) | Self::Time(None) => "—".to_owned(),
            Self::Megabytes(bytes) => figures::vi_tenths(figures::megabyte_tenths(*bytes)),
            Self::Hours(tenths) => figures::vi_tenths(*tenths),
            Self::Met(true) => "✓".to_owned(),
            Self::Met(false) => "✗".to_owned(),
            Self::Date(date) => date.format("%d/%m/%Y").to_string(),
            Self::Time(Some(time)) => time.format("%d/%m/%Y %H:%M").to_string(),
        }
    }

    /// The form programs read (CSV): plain digits, a decimal point, ISO dates, 1/0.
    pub fn machine(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Count(count) => count.to_string(),
            Self::Percent(Some(percent)) => percent.to_string(),
            Self::Percent(None) | Self::Time(None) => String::new(),
            Self::Megabytes(bytes) => figures::tenths(figures::megabyte_tenths(*bytes)),
            Self::Hours(tenths) => figures::tenths(*tenths),
            Self::Met(met) => u8::from(*met).to_string(),
            Self::Date(date) => date.format("%Y-%m-%d").to_string(),
            Self::Time(Some(time)) => time.format("%Y-%m-%d %H:%M").to_string(),
        }
    }

    /// Numbers align right.
    pub fn is_numeric(&self) -> bool {
        !matches!(self, Self::Text(_) | Self::Date(_) | Self::Time(_))
    }
}

/// A row; a total row is set apart (bold, a rule above).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub total: bool,
}

/// A titled table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub title: String,
    pub title_en: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// A horizontal bar chart: one group of bars per category, one bar per series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarChart {
    pub title: String,
    pub title_en: String,
    /// Names of the series (the legend), with their colours (`#rrggbb`).
    pub series: Vec<(String, &'static str)>,
    /// Category label and one value per series.
    pub categories: Vec<(String, Vec<Cell>)>,
}
