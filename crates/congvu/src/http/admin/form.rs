//! A request rendered as the official form of the regulation's appendix (Mẫu 01, 02,
//! 03), in Vietnamese, as HTML with print CSS: the agency prints it, the head signs and
//! stamps it (Art. 4).

use congvu_report::render::escape;
use std::collections::HashMap;

use congvu_directory::request::{Form, Line, Request};
use congvu_directory::{AccountRecord, Directory, DirectoryError};

const STYLE: &str = r#"
@page { size: A4; margin: 2cm 2cm 2cm 3cm; }
body { font-family: "Times New Roman", serif; font-size: 13pt; line-height: 1.4; max-width: 17cm; margin: 1cm auto; }
.head { display: flex; justify-content: space-between; text-align: center; }
.number { text-align: right; }
.head .agency { width: 40%; font-weight: bold; text-transform: uppercase; }
.head .nation { width: 58%; }
.head .nation b { display: block; }
.head .motto { font-weight: bold; text-decoration: underline; }
.date { text-align: right; font-style: italic; margin-top: 1em; }
h1 { text-align: center; font-size: 14pt; margin: 1.5em 0 0.2em; }
h2 { text-align: center; font-size: 13pt; margin: 0 0 1.2em; }
.to { text-align: center; margin-bottom: 1em; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; }
th, td { border: 1px solid #000; padding: 3pt 5pt; vertical-align: top; }
th { font-weight: bold; text-align: center; }
td.n { text-align: center; width: 2.5em; }
.sign { width: 45%; margin-left: 55%; text-align: center; margin-top: 2em; }
.sign .role { font-weight: bold; }
.sign .hint { font-style: italic; }
.meta { font-size: 10pt; color: #444; border-top: 1px solid #999; margin-top: 3em; padding-top: 0.5em; }
@media print { .meta { display: none; } body { margin: 0; } }
"#;

/// The directory entries the form's lines name by address (Mẫu 02/03 list people by
/// name, position and department); absent once purged.
pub fn officials_named(
    directory: &Directory,
    request: &Request,
) -> Result<HashMap<String, AccountRecord>, DirectoryError> {
    let mut named = HashMap::new();
    for line in &request.lines {
        let address = match line {
            Line::ChangeOfficial { address, .. }
            | Line::MoveOfficial { address, .. }
            | Line::ConvertAddress { address, .. }
            | Line::DeleteOfficial { address, .. } => address,
            _ => continue,
        };
        if let Some(record) = directory.lookup(address)? {
            named.insert(address.clone(), record);
        }
    }
    Ok(named)
}

fn opt(value: &Option<String>) -> String {
    escape(value.as_deref().unwrap_or(""))
}

/// `2024-05-07` → `ngày 07 tháng 05 năm 2024`.
fn vietnamese_date(date: &str) -> String {
    let mut parts = date.splitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => format!("ngày {d} tháng {m} năm {y}"),
        _ => "ngày ... tháng ... năm ...".to_owned(),
    }
}

pub fn render(request: &Request, named: &HashMap<String, AccountRecord>) -> String {
    let (title, body) = match request.form {
        Form::New => ("CẤP MỚI HỘP THƯ ĐIỆN TỬ CÔNG VỤ", new_body(request)),
        Form::Change => (
            "THAY ĐỔI THÔNG TIN HỘP THƯ ĐIỆN TỬ CÔNG VỤ",
            change_body(request, named),
        ),
        Form::Delete => ("XÓA HỘP THƯ ĐIỆN TỬ CÔNG VỤ CÁ NHÂN", delete_body(request, named)),
    };
    let date = request
        .filing_date
        .as_deref()
        .map(vietnamese_date)
        .unwrap_or_else(|| "ngày ... tháng ... năm ...".to_owned());
    let r = &request.requester;
    format!(
        r#"<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8">
<title>Mẫu {number} — yêu cầu số {id}</title>
<style>{STYLE}</style></head><body>
<div class="head">
  <div class="agency">{agency}</div>
  <div class="nation"><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><span class="motto">Độc lập - Tự do - Hạnh phúc</span></div>
</div>
<p class="date">Thanh Hóa, {date}</p>
<p class="number">Mẫu {number}</p>
<h1>PHIẾU YÊU CẦU</h1>
<h2>{title}</h2>
<p class="to">Kính gửi: Văn phòng UBND tỉnh.</p>
<p>Họ và tên người yêu cầu: {requester}</p>
<p>Chức vụ: {position}</p>
<p>Cơ quan công tác: {agency_name}</p>
<p>Điện thoại liên lạc: {phone}</p>
<p>Ngày quyết định có hiệu lực: {effective}</p>
{body}
<div class="sign"><div class="role">Thủ trưởng đơn vị</div><div class="hint">(Ký tên, đóng dấu)</div></div>
<div class="meta">Yêu cầu số {id} · trạng thái: {state:?} · người lập: {filed_by}{late}</div>
</body></html>
"#,
        number = request.form.number(),
        id = request.id,
        agency = escape(&request.agency_name),
        agency_name = escape(&request.agency_name),
        requester = escape(&r.name),
        position = opt(&r.position),
        phone = opt(&r.phone),
        effective = escape(&vietnamese_date(&request.effective_date)),
        state = request.state,
        filed_by = escape(&request.filed_by),
        late = match (request.late, request.days_after_effect) {
            (true, Some(days)) => format!(" · NỘP MUỘN: {days} ngày sau ngày hiệu lực (Điều 15.3)"),
            _ => String::new(),
        },
    )
}

fn new_body(request: &Request) -> String {
    let agencies: Vec<String> = request
        .lines
        .iter()
        .filter_map(|l| match l {
            Line::NewAgency { abbr, name, .. } => Some(format!("{} ({})", escape(abbr), escape(name))),
            _ => None,
        })
        .collect();
    let mut rows = String::new();
    for (i, official) in request
        .lines
        .iter()
        .filter_map(|l| match l {
            Line::NewOfficial(o) => Some(o),
            _ => None,
        })
        .enumerate()
    {
        rows.push_str(&format!(
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            i + 1,
            escape(&official.name),
            opt(&official.position),
            opt(&official.department)
        ));
    }
    format!(
        "<p>Nội dung yêu cầu:</p>\n<p>1. Đề nghị cấp mới hộp thư điện tử công vụ cơ quan với tên viết tắt là: {}</p>\n\
         <p>2. Đề nghị cấp mới hộp thư điện tử công vụ cá nhân trong danh sách:</p>\n\
         <table><tr><th>STT</th><th>Họ và tên</th><th>Chức vụ</th><th>Bộ phận công tác</th></tr>\n{rows}</table>\n",
        if agencies.is_empty() {
            "—".to_owned()
        } else {
            agencies.join("; ")
        }
    )
}

fn person(named: &HashMap<String, AccountRecord>, address: &str) -> String {
    match named.get(address) {
        Some(r) => format!("{} ({})", escape(&r.display_name), escape(address)),
        None => escape(address),
    }
}

fn change_body(request: &Request, named: &HashMap<String, AccountRecord>) -> String {
    let mut agency_items = String::new();
    let mut person_items = String::new();
    for line in &request.lines {
        match line {
            Line::RenameAgency { agency, name } => agency_items.push_str(&format!(
                "<li>Đổi tên cơ quan {} thành: {}</li>\n",
                escape(agency),
                escape(name)
            )),
            Line::ChangeOfficial {
                address,
                position,
                department,
                phone,
            } => person_items.push_str(&format!(
                "<li>{}: chức vụ {}; bộ phận công tác {}; điện thoại {}</li>\n",
                person(named, address),
                opt(position),
                opt(department),
                opt(phone)
            )),
            Line::MoveOfficial {
                address,
                position,
                department,
                ..
            } => person_items.push_str(&format!(
                "<li>{}: chuyển công tác đến {}; chức vụ {}; bộ phận công tác {}</li>\n",
                person(named, address),
                escape(&request.agency_name),
                opt(position),
                opt(department)
            )),
            Line::ConvertAddress { address, .. } => person_items.push_str(&format!(
                "<li>{}: chuyển đổi địa chỉ theo Điều 3 (giữ địa chỉ cũ làm bí danh)</li>\n",
                person(named, address)
            )),
            _ => {}
        }
    }
    format!(
        "<p>Nội dung yêu cầu:</p>\n<p>1. Đề nghị thay đổi thông tin của hộp thư điện tử công vụ cơ quan như sau:</p>\n<ul>{agency_items}</ul>\n\
         <p>2. Đề nghị thay đổi thông tin hộp thư điện tử công vụ cá nhân:</p>\n<ul>{person_items}</ul>\n"
    )
}

fn delete_body(request: &Request, named: &HashMap<String, AccountRecord>) -> String {
    let mut rows = String::new();
    let mut n = 0;
    let mut dissolved = String::new();
    for line in &request.lines {
        match line {
            Line::DeleteOfficial { address, reason } => {
                n += 1;
                let record = named.get(address);
                rows.push_str(&format!(
                    "<tr><td class=\"n\">{n}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    record.map(|r| escape(&r.display_name)).unwrap_or_default(),
                    record.map(|r| opt(&r.position)).unwrap_or_default(),
                    record.map(|r| opt(&r.department)).unwrap_or_default(),
                    escape(address),
                    escape(reason.vietnamese()),
                ));
            }
            Line::DissolveAgency { agency, decision } => dissolved.push_str(&format!(
                "<p>Xóa hộp thư cơ quan {} theo quyết định: {}</p>\n",
                escape(agency),
                escape(decision)
            )),
            _ => {}
        }
    }
    format!(
        "<p>Nội dung yêu cầu: Đề nghị xóa hộp thư điện tử công vụ cá nhân trong danh sách:</p>\n\
         <table><tr><th>STT</th><th>Họ và tên</th><th>Chức vụ</th><th>Bộ phận công tác</th>\
         <th>Địa chỉ hộp thư được cấp</th><th>Lý do</th></tr>\n{rows}</table>\n{dissolved}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let cases = [
            ("Sở TT&TT", "Sở TT&amp;TT"),
            ("<script>", "&lt;script&gt;"),
            ("a\"b'c", "a&quot;b&#39;c"),
        ];
        for (input, want) in cases {
            assert_eq!(escape(input), want);
        }
    }

    #[test]
    fn dates_in_vietnamese() {
        assert_eq!(vietnamese_date("2024-05-07"), "ngày 07 tháng 05 năm 2024");
        assert_eq!(vietnamese_date("bad"), "ngày ... tháng ... năm ...");
    }
}
