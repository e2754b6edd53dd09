//! Directory export (Danh bạ): CSV (the import format, so an export re-imports as a
//! no-op), vCard 4.0 (RFC 6350) and LDIF (RFC 2849). Pure functions of the records.

use base64::Engine;
use congvu_store::AccountKind;

use crate::import::COLUMNS;
use crate::record::{AccountRecord, AgencyRecord};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Vcard,
    Ldif,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "vcard" | "vcf" => Ok(Format::Vcard),
            "ldif" => Ok(Format::Ldif),
            other => Err(format!("unknown export format {other:?}: csv, vcard or ldif")),
        }
    }
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Vcard => "text/vcard; charset=utf-8",
            Format::Ldif => "text/x-ldif; charset=utf-8",
        }
    }
}

/// Renders live agencies and mailboxes; `domain` names the LDIF base.
pub fn render(format: Format, agencies: &[AgencyRecord], accounts: &[AccountRecord], domain: &str) -> String {
    let agencies: Vec<&AgencyRecord> = agencies.iter().filter(|a| a.dissolved.is_none()).collect();
    let accounts: Vec<&AccountRecord> = accounts.iter().filter(|a| a.deleted.is_none()).collect();
    match format {
        Format::Csv => csv(&agencies, &accounts),
        Format::Vcard => vcard(&agencies, &accounts),
        Format::Ldif => ldif(&agencies, &accounts, domain),
    }
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn csv(agencies: &[&AgencyRecord], accounts: &[&AccountRecord]) -> String {
    let mut out = COLUMNS.join(",") + "\r\n";
    let mut row = |fields: [&str; 9]| {
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    };
    // Parents before children, so the file re-imports in order.
    let mut ordered = agencies.to_vec();
    ordered.sort_by_key(|a| (a.abbr.matches('.').count(), a.abbr.clone()));
    for agency in ordered {
        let own = agency.abbr.split('.').next().unwrap_or(&agency.abbr);
        row([
            "agency",
            own,
            agency.parent.as_deref().unwrap_or(""),
            &agency.name,
            "",
            "",
            "",
            "",
            &agency.address,
        ]);
    }
    for a in accounts.iter().filter(|a| a.kind == AccountKind::Personal) {
        row([
            "official",
            &a.agency,
            "",
            &a.display_name,
            a.person_id.as_deref().unwrap_or(""),
            a.position.as_deref().unwrap_or(""),
            a.department.as_deref().unwrap_or(""),
            a.phone.as_deref().unwrap_or(""),
            &a.address,
        ]);
    }
    out
}

/// RFC 6350 §3.4 escaping of a text value.
fn vcard_text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

/// RFC 6350 §3.2: lines longer than 75 octets are folded (CRLF + space), never inside
/// a UTF-8 sequence.
fn fold_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

fn vcard(agencies: &[&AgencyRecord], accounts: &[&AccountRecord]) -> String {
    let org = |abbr: &str| {
        agencies
            .iter()
            .find(|a| a.abbr == abbr)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| abbr.to_owned())
    };
    let mut out = String::new();
    for a in accounts {
        out.push_str("BEGIN:VCARD\r\nVERSION:4.0\r\n");
        fold_line(&mut out, &format!("FN:{}", vcard_text(&a.display_name)));
        if a.kind == AccountKind::Personal {
            // Vietnamese order: family name first, given name last.
            let words: Vec<&str> = a.display_name.split(' ').collect();
            let (family, rest) = words.split_first().map(|(f, r)| (*f, r)).unwrap_or(("", &[]));
            let (given, middle) = rest
                .split_last()
                .map(|(g, m)| (*g, m.join(" ")))
                .unwrap_or(("", String::new()));
            fold_line(
                &mut out,
                &format!(
                    "N:{};{};{};;",
                    vcard_text(family),
                    vcard_text(given),
                    vcard_text(&middle)
                ),
            );
            fold_line(&mut out, "KIND:individual");
        } else {
            fold_line(&mut out, "KIND:org");
        }
        let mut org_line = format!("ORG:{}", vcard_text(&org(&a.agency)));
        if let Some(department) = &a.department {
            org_line.push(';');
            org_line.push_str(&vcard_text(department));
        }
        fold_line(&mut out, &org_line);
        if let Some(position) = &a.position {
            fold_line(&mut out, &format!("TITLE:{}", vcard_text(position)));
        }
        fold_line(&mut out, &format!("EMAIL;TYPE=work:{}", a.address));
        if let Some(phone) = &a.phone {
            fold_line(&mut out, &format!("TEL;TYPE=work:{}", vcard_text(phone)));
        }
        out.push_str("END:VCARD\r\n");
    }
    out
}

/// RFC 2849: a value that is not a SAFE-STRING is base64 (`attr:: …`).
fn ldif_attr(out: &mut String, name: &str, value: &str) {
    let safe = value
        .bytes()
        .all(|b| (0x01..=0x7f).contains(&b) && b != b'\n' && b != b'\r')
        && !value.starts_with([' ', ':', '<'])
        && !value.ends_with(' ');
    if safe {
        out.push_str(&format!("{name}: {value}\n"));
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
        out.push_str(&format!("{name}:: {encoded}\n"));
    }
}

fn ldif(agencies: &[&AgencyRecord], accounts: &[&AccountRecord], domain: &str) -> String {
    let base: Vec<String> = domain.split('.').map(|label| format!("dc={label}")).collect();
    let base = base.join(",");
    let mut out = String::from("version: 1\n\n");
    for agency in agencies {
        ldif_attr(&mut out, "dn", &format!("ou={},{base}", agency.abbr));
        out.push_str("objectClass: organizationalUnit\n");
        ldif_attr(&mut out, "ou", &agency.abbr);
        ldif_attr(&mut out, "description", &agency.name);
        ldif_attr(&mut out, "mail", &agency.address);
        out.push('\n');
    }
    for a in accounts.iter().filter(|a| a.kind == AccountKind::Personal) {
        ldif_attr(
            &mut out,
            "dn",
            &format!("mail={},ou={},{base}", a.address, a.agency),
        );
        out.push_str("objectClass: inetOrgPerson\n");
        ldif_attr(&mut out, "cn", &a.display_name);
        let family = a.display_name.split(' ').next().unwrap_or(&a.display_name);
        let given = a.display_name.rsplit(' ').next().unwrap_or(&a.display_name);
        ldif_attr(&mut out, "sn", family);
        ldif_attr(&mut out, "givenName", given);
        ldif_attr(&mut out, "mail", &a.address);
        ldif_attr(&mut out, "ou", &a.agency);
        if let Some(position) = &a.position {
            ldif_attr(&mut out, "title", position);
        }
        if let Some(phone) = &a.phone {
            ldif_attr(&mut out, "telephoneNumber", phone);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcard_folding_keeps_utf8_whole() {
        let mut out = String::new();
        let long = format!("FN:{}", "Nguyễn ".repeat(20));
        fold_line(&mut out, &long);
        for line in out.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        assert_eq!(out.replace("\r\n ", ""), format!("{long}\r\n"));
    }

    #[test]
    fn ldif_base64_for_non_ascii() {
        let cases = [
            ("mail", "a@b.vn", "mail: a@b.vn\n"),
            ("cn", "Tuấn", "cn:: VHXhuqVu\n"),
            ("cn", " lead", "cn:: IGxlYWQ=\n"),
            ("cn", ":x", "cn:: Ong=\n"),
        ];
        for (name, value, want) in cases {
            let mut out = String::new();
            ldif_attr(&mut out, name, value);
            assert_eq!(out, want, "{value:?}");
        }
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        let cases = [
            ("a", "a"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("", ""),
        ];
        for (value, want) in cases {
            assert_eq!(csv_field(value), want);
        }
    }
}
