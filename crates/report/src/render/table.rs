//! Plain text for the terminal: each table's columns aligned (numbers right, text
//! left), widths counted in characters (Vietnamese in NFC is one character a letter),
//! total rows under a rule.

use super::{Cell, Document, Table};

pub fn render(document: &Document) -> String {
    let mut out = format!("{}\n{}\n", document.title, document.subtitle);
    for note in &document.notes {
        out.push_str(&format!("* {note}\n"));
    }
    for table in &document.tables {
        out.push('\n');
        push_table(&mut out, table);
    }
    out
}

fn push_table(out: &mut String, table: &Table) {
    out.push_str(&table.title);
    out.push('\n');
    let headings: Vec<String> = table
        .columns
        .iter()
        .map(|column| column.heading.clone())
        .collect();
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| row.cells.iter().map(Cell::human).collect())
        .collect();
    let mut widths: Vec<usize> = headings.iter().map(|heading| heading.chars().count()).collect();
    for row in &rows {
        for (width, text) in widths.iter_mut().zip(row) {
            *width = (*width).max(text.chars().count());
        }
    }
    let rule: String = widths
        .iter()
        .map(|width| "─".repeat(*width))
        .collect::<Vec<_>>()
        .join("  ");
    push_line(out, &headings, &widths, |_| false);
    out.push_str(&rule);
    out.push('\n');
    for (row, texts) in table.rows.iter().zip(&rows) {
        if row.total {
            out.push_str(&rule);
            out.push('\n');
        }
        push_line(out, texts, &widths, |index| {
            row.cells.get(index).is_some_and(Cell::is_numeric)
        });
    }
}

fn push_line(out: &mut String, texts: &[String], widths: &[usize], right: impl Fn(usize) -> bool) {
    let line: Vec<String> = texts
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(index, (text, width))| {
            if right(index) {
                format!("{text:>width$}")
            } else {
                format!("{text:<width$}")
            }
        })
        .collect();
    out.push_str(line.join("  ").trim_end());
    out.push('\n');
}
