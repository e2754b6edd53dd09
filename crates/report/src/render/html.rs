//! A printable A4 page in Vietnamese (`lang="vi"`), self-contained: no script, no
//! external resource (fonts, styles, images), charts drawn as inline SVG whose
//! coordinates are whole numbers. Every text is escaped; English titles are printed
//! small under the Vietnamese ones.

use super::{BarChart, Cell, Document, Table};

/// The text with `& < > " '` escaped: safe in element content and in quoted attribute
/// values of HTML and XML. The binary's HTML (autoconfig, forms) uses it too.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: 'Times New Roman', 'Liberation Serif', serif; font-size: 11pt; color: #000; }
.motto { text-align: center; font-weight: bold; margin: 0; }
h1 { font-size: 15pt; text-align: center; margin: 10pt 0 2pt; }
h2 { font-size: 12pt; margin: 14pt 0 4pt; }
.en { display: block; font-size: 8pt; font-weight: normal; color: #555; }
p.period { text-align: center; margin: 2pt 0 8pt; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
th, td { border: 0.5pt solid #444; padding: 1.5pt 3pt; }
th { background: #eee; }
td.n { text-align: right; }
tr.total td { font-weight: bold; border-top: 1.2pt solid #000; }
figure { margin: 6pt 0; page-break-inside: avoid; }
svg text { font-family: 'Times New Roman', 'Liberation Serif', serif; font-size: 10px; }
";

pub fn render(document: &Document) -> String {
    let orientation = if document.landscape { " landscape" } else { "" };
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n@page {{ size: A4{orientation}; margin: 15mm 12mm; }}{STYLE}</style>\n</head>\n<body>\n",
        escape(&document.title)
    );
    out.push_str(
        "<p class=\"motto\">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM<br>Độc lập – Tự do – Hạnh phúc</p>\n",
    );
    out.push_str(&format!(
        "<h1>{}<span class=\"en\">{}</span></h1>\n<p class=\"period\">{}</p>\n",
        escape(&document.title),
        escape(&document.title_en),
        escape(&document.subtitle)
    ));
    if !document.notes.is_empty() {
        out.push_str("<ul>\n");
        for note in &document.notes {
            out.push_str(&format!("<li>{}</li>\n", escape(note)));
        }
        out.push_str("</ul>\n");
    }
    for chart in &document.charts {
        push_chart(&mut out, chart);
    }
    for table in &document.tables {
        push_table(&mut out, table);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn push_heading(out: &mut String, title: &str, title_en: &str) {
    out.push_str(&format!(
        "<h2>{}<span class=\"en\">{}</span></h2>\n",
        escape(title),
        escape(title_en)
    ));
}

fn push_table(out: &mut String, table: &Table) {
    push_heading(out, &table.title, &table.title_en);
    out.push_str("<table>\n<thead><tr>");
    for column in &table.columns {
        out.push_str(&format!(
            "<th>{}<span class=\"en\">{}</span></th>",
            escape(&column.heading),
            escape(&column.heading_en)
        ));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str(if row.total { "<tr class=\"total\">" } else { "<tr>" });
        for cell in &row.cells {
            let class = if cell.is_numeric() { " class=\"n\"" } else { "" };
            out.push_str(&format!("<td{class}>{}</td>", escape(&cell.human())));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Chart geometry, pixels.
const WIDTH: u64 = 680;
const LABEL_WIDTH: u64 = 150;
const BAR_SPACE: u64 = 440;
const BAR_HEIGHT: u64 = 12;
const LEGEND_HEIGHT: u64 = 22;

/// The length a cell's value gives a bar: percentages against 100 %, the rest
/// against the chart's largest value.
fn magnitude(cell: &Cell) -> u64 {
    match cell {
        Cell::Count(count) => *count,
        Cell::Percent(percent) => percent.map_or(0, |percent| u64::from(percent.tenths())),
        Cell::Megabytes(bytes) => crate::figures::megabyte_tenths(*bytes),
        Cell::Hours(tenths) => *tenths,
        Cell::Met(met) => u64::from(*met),
        Cell::Text(_) | Cell::Date(_) | Cell::Time(_) => 0,
    }
}

fn push_chart(out: &mut String, chart: &BarChart) {
    push_heading(out, &chart.title, &chart.title_en);
    let values = || chart.categories.iter().flat_map(|(_, values)| values);
    let scale = if values().any(|cell| matches!(cell, Cell::Percent(_))) {
        1000
    } else {
        values().map(magnitude).max().unwrap_or(0).max(1)
    };
    let series = chart.series.len() as u64;
    let group_height = series * (BAR_HEIGHT + 2) + 8;
    let height = LEGEND_HEIGHT + chart.categories.len() as u64 * group_height + 4;
    out.push_str(&format!(
        "<figure><svg width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\">\n"
    ));
    for (index, (name, colour)) in chart.series.iter().enumerate() {
        let x = LABEL_WIDTH + index as u64 * 160;
        out.push_str(&format!(
            "<rect x=\"{x}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{}\" y=\"14\">{}</text>\n",
            x + 16,
            escape(name)
        ));
    }
    for (group, (label, cells)) in chart.categories.iter().enumerate() {
        let top = LEGEND_HEIGHT + group as u64 * group_height;
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            LABEL_WIDTH - 6,
            top + BAR_HEIGHT,
            escape(label)
        ));
        for (index, (cell, (_, colour))) in cells.iter().zip(&chart.series).enumerate() {
            let y = top + index as u64 * (BAR_HEIGHT + 2);
            let length = u64::try_from(
                u128::from(magnitude(cell).min(scale)) * u128::from(BAR_SPACE) / u128::from(scale),
            )
            .unwrap_or(BAR_SPACE);
            out.push_str(&format!(
                "<rect x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{length}\" height=\"{BAR_HEIGHT}\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
                LABEL_WIDTH + length + 4,
                y + BAR_HEIGHT - 2,
                escape(&cell.human())
            ));
        }
    }
    out.push_str("</svg></figure>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
