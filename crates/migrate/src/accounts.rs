//! The `--accounts FILE.csv` of `congvu import imap`: a whole agency at once.
//!
//! One row per mailbox: source user, password file, target address (RFC 4180 CSV:
//! fields separated by `,`, optionally in double quotes, `""` for a quote inside,
//! quoted fields may hold commas and line breaks). A first row whose third field is
//! not an address is a header and is skipped; empty lines are skipped. A relative
//! password file is taken from the CSV file's directory. The target address is
//! checked only for an `@`: the caller resolves it to an account.

use std::path::{Path, PathBuf};

use crate::{MigrateError, Result, io_error};

/// One mailbox to import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRow {
    /// The row's line in the file (1-based), for messages.
    pub line: usize,
    pub source_user: String,
    pub password_file: PathBuf,
    pub target_address: String,
}

/// Reads and parses the file at `path`.
pub fn read_accounts(path: &Path) -> Result<Vec<AccountRow>> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    parse_accounts(&text, path.parent().unwrap_or(Path::new(".")))
}

/// Parses the CSV text; relative password files are taken from `base`.
pub fn parse_accounts(text: &str, base: &Path) -> Result<Vec<AccountRow>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    for (index, (line, fields)) in records(text)?.into_iter().enumerate() {
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        let [user, password_file, address] = <[String; 3]>::try_from(fields).map_err(|fields| {
            MigrateError::Invalid(format!(
                "line {line}: {} fields, expected 3 (source user, password file, target address)",
                fields.len()
            ))
        })?;
        if !address.contains('@') {
            if index == 0 {
                continue;
            }
            return Err(MigrateError::Invalid(format!(
                "line {line}: {address:?} is not an address"
            )));
        }
        if user.is_empty() || password_file.is_empty() {
            return Err(MigrateError::Invalid(format!(
                "line {line}: empty source user or password file"
            )));
        }
        rows.push(AccountRow {
            line,
            source_user: user,
            password_file: base.join(password_file),
            target_address: address,
        });
    }
    Ok(rows)
}

/// The records of the text with the line each starts on; unquoted fields trimmed.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    let finish_field = |field: &mut String, was_quoted: &mut bool, fields: &mut Vec<String>| {
        let value = if *was_quoted {
            field.clone()
        } else {
            field.trim().to_owned()
        };
        fields.push(value);
        field.clear();
        *was_quoted = false;
    };
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        }
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            ',' => finish_field(&mut field, &mut was_quoted, &mut fields),
            '\n' => {
                finish_field(&mut field, &mut was_quoted, &mut fields);
                records.push((record_line, std::mem::take(&mut fields)));
                record_line = line;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(MigrateError::Invalid(format!(
            "line {record_line}: a quoted field is not closed"
        )));
    }
    if !field.is_empty() || !fields.is_empty() {
        finish_field(&mut field, &mut was_quoted, &mut fields);
        records.push((record_line, fields));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_header_quotes_and_relative_files() {
        let text = "\u{feff}source user,password file,target address\r\n\
nguyenvana, pw/a.txt ,vana.sotc@thanhhoa.gov.vn\r\n\
\r\n\
\"tran, thi b\",\"/secrets/b \"\"quoted\"\".txt\",\"thib.sotc@thanhhoa.gov.vn\"\n\
c,c.txt,c@thanhhoa.gov.vn";
        let rows = parse_accounts(text, Path::new("/agency")).unwrap();
        assert_eq!(
            rows,
            [
                AccountRow {
                    line: 2,
                    source_user: "nguyenvana".into(),
                    password_file: "/agency/pw/a.txt".into(),
                    target_address: "vana.sotc@thanhhoa.gov.vn".into(),
                },
                AccountRow {
                    line: 4,
                    source_user: "tran, thi b".into(),
                    password_file: "/secrets/b \"quoted\".txt".into(),
                    target_address: "thib.sotc@thanhhoa.gov.vn".into(),
                },
                AccountRow {
                    line: 5,
                    source_user: "c".into(),
                    password_file: "/agency/c.txt".into(),
                    target_address: "c@thanhhoa.gov.vn".into(),
                },
            ]
        );
    }

    #[test]
    fn bad_rows_name_their_line() {
        let error = parse_accounts("a,b,c@x.vn\nd,e\n", Path::new("/")).unwrap_err();
        assert!(error.to_string().contains("line 2: 2 fields"), "{error}");
        let error = parse_accounts("a,b,c@x.vn\nd,e,not-an-address\n", Path::new("/")).unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
        let error = parse_accounts("a,\"b,c@x.vn\n", Path::new("/")).unwrap_err();
        assert!(error.to_string().contains("not closed"), "{error}");
        assert!(parse_accounts("", Path::new("/")).unwrap().is_empty());
    }
}
