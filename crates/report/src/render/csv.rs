//! CSV (RFC 4180) of a document's main table.
//!
//! UTF-8 with a byte-order mark: Excel reads a CSV without one in the machine's legacy
//! code page and garbles Vietnamese; with it, Excel and LibreOffice read UTF-8. Lines
//! end in CRLF (RFC 4180 §2.1); a field holding a comma, a quote, CR or LF is quoted
//! and its quotes doubled (§2.6–2.7). Headings are the Vietnamese ones; values are in
//! the machine form (`1234.5`, ISO dates, 1/0 for met windows).

use super::{Cell, Document};

/// The byte-order mark that tells Excel the file is UTF-8.
pub const BOM: char = '\u{feff}';

pub fn render(document: &Document) -> String {
    let mut out = String::new();
    out.push(BOM);
    if let Some(table) = document.tables.first() {
        push_record(
            &mut out,
            table.columns.iter().map(|column| column.heading.clone()),
        );
        for row in &table.rows {
            push_record(&mut out, row.cells.iter().map(Cell::machine));
        }
    }
    out
}

fn push_record(out: &mut String, fields: impl Iterator<Item = String>) {
    for (index, field) in fields.enumerate() {
        if index > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut out = String::new();
        push_record(
            &mut out,
            ["a", "b,c", "say \"hi\"", "two\r\nlines", "Sở Nội vụ"]
                .into_iter()
                .map(String::from),
        );
        assert_eq!(out, "a,\"b,c\",\"say \"\"hi\"\"\",\"two\r\nlines\",Sở Nội vụ\r\n");
    }
}
