//! Decision 3380's rules through real SMTP submission (Python smtplib, STARTTLS, AUTH
//! PLAIN): each refusal arrives with its reply code, enhanced code and Vietnamese text
//! first; accepted mail carries X-Congvu-Policy; a legacy-encoded message is converted;
//! a delivery that crosses 90 % of the quota brings a warning.

mod common;

use std::io::Write;
use std::path::Path;

use common::{PASSWORD_A, PASSWORD_B, Ports, Server, fetch_inbox, send_mx, submit};

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    path.display().to_string()
}

/// A minimal PE executable: MZ, e_lfanew, the PE signature, an i386 header.
fn pe() -> Vec<u8> {
    let mut exe = vec![0u8; 0x200];
    exe[..2].copy_from_slice(b"MZ");
    exe[0x3c] = 0x40;
    exe[0x40..0x44].copy_from_slice(b"PE\0\0");
    exe[0x44..0x46].copy_from_slice(&0x14c_u16.to_le_bytes());
    exe
}

/// A stored (uncompressed) zip written by hand: enough for OOXML detection.
fn docx() -> Vec<u8> {
    let entries: [(&str, &[u8]); 2] = [
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document/>"),
    ];
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let common = |out: &mut Vec<u8>| {
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&[0; 4]); // flags, method (stored)
            out.extend_from_slice(&[0; 8]); // time, date, crc
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
        };
        out.extend_from_slice(b"PK\x03\x04");
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02\x14\x00");
        common(&mut central);
        central.extend_from_slice(&[0; 10]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_len = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0\x02\0\x02\0");
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

#[test]
fn each_rule_refuses_with_its_reply_and_vietnamese_text() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    let exe = write_file(&server.dir, "cong-van.pdf", &pe());
    let script = write_file(&server.dir, "ghi-chu.txt", b"#!/bin/sh\nrm -rf ~\n");
    let unknown = write_file(&server.dir, "du-lieu.dat", &[0, 1, 2, 3, 0xff, 0, 7, 9]);
    // (label, mailclient options, code, enhanced code, start of the Vietnamese text)
    let cases: [(&str, Vec<&str>, u16, &str, &str); 8] = [
        (
            "english subject",
            vec!["--subject", "Meeting invitation for Monday"],
            550,
            "5.7.1",
            "Tiêu đề thư phải viết bằng tiếng Việt",
        ),
        (
            "empty subject",
            vec!["--subject", "Re: "],
            550,
            "5.7.1",
            "Thư phải có tiêu đề bằng tiếng Việt",
        ),
        (
            "classified",
            vec!["--subject", "TỐI MẬT - Kế hoạch diễn tập"],
            550,
            "5.7.1",
            "Không được gửi tài liệu có độ mật (TỐI MẬT)",
        ),
        (
            "classified line",
            vec!["--body", "Kính gửi\nĐộ mật: Mật\n"],
            550,
            "5.7.1",
            "Không được gửi tài liệu có độ mật (MẬT)",
        ),
        (
            "exe named pdf",
            vec!["--attach", &exe],
            550,
            "5.7.1",
            "Tệp \"cong-van.pdf\" là chương trình hoặc mã lệnh (Windows PE executable)",
        ),
        (
            "script",
            vec!["--attach", &script],
            550,
            "5.7.1",
            "Tệp \"ghi-chu.txt\" là chương trình",
        ),
        (
            "unknown binary",
            vec!["--attach", &unknown],
            550,
            "5.7.1",
            "Tệp \"du-lieu.dat\" có định dạng unknown binary, không thuộc các định dạng được phép",
        ),
        (
            "10.5 MB pdf",
            vec!["--pdf-kib", "10752"],
            552,
            "5.3.4",
            "Tổng dung lượng tệp đính kèm và phần nội dung phụ 10.5 MB vượt quá giới hạn 10.0 MB",
        ),
    ];
    for (label, options, code, enhanced, vietnamese) in cases {
        let result = submit(&server, &a, PASSWORD_A, &a, &b, &options);
        assert_eq!(result["ok"], false, "{label}: {result}");
        assert_eq!(result["code"], code, "{label}: {result}");
        let message = result["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{enhanced} {vietnamese}")),
            "{label}: {message}"
        );
        assert!(
            message.contains(" / "),
            "{label}: English after the Vietnamese: {message}"
        );
    }
    let log = server.log();
    for reason in [
        "subject_not_vietnamese",
        "subject_empty",
        "classified_document",
        "dangerous_content",
        "format_not_allowed",
        "attachment_too_large",
    ] {
        assert!(log.contains(reason), "verdict {reason} not logged");
    }
    // Nothing refused was delivered.
    assert!(fetch_inbox(&server, &b, PASSWORD_B, &server.dir.join("inbox-b")).is_empty());
}

#[test]
fn nine_megabyte_pdf_passes_with_the_policy_header() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    let result = submit(
        &server,
        &a,
        PASSWORD_A,
        &a,
        &b,
        &["--pdf-kib", "9216", "--subject", "Thong bao lich hop"],
    );
    assert_eq!(result["ok"], true, "{result}");
    // Office Open XML is among the default formats (issue 10: the Ministry's standards).
    let docx = write_file(&server.dir, "bao-cao.docx", &docx());
    let result = submit(&server, &a, PASSWORD_A, &a, &b, &["--attach", &docx]);
    assert_eq!(result["ok"], true, "{result}");
    let messages = fetch_inbox(&server, &b, PASSWORD_B, &server.dir.join("inbox-b"));
    assert_eq!(messages.len(), 2);
    let text = String::from_utf8_lossy(&messages[0]);
    assert!(
        text.contains(
            "X-Congvu-Policy: origin=submission; pass=dangerous-content,attachment-cap,formats,encrypted,classified,\
             subject,legacy-encoding\r\n"
        ),
        "{}",
        &text[..600.min(text.len())]
    );
}

#[test]
fn tcvn3_message_is_converted_to_unicode() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    let mut raw = format!(
        "From: {a}\r\nTo: {b}\r\nSubject: =?iso-8859-1?Q?Th=ABng_b=B8o_l=DEch_h=E4p?=\r\nMessage-ID: <tcvn3@test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(b"C\xe9ng ho\xb5 x\xb7 h\xe9i ch\xf1 ngh\xdca Vi\xd6t Nam\r\n");
    let path = write_file(&server.dir, "tcvn3.eml", &raw);
    let result = submit(&server, &a, PASSWORD_A, &a, &b, &["--raw", &path]);
    assert_eq!(result["ok"], true, "{result}");
    let messages = fetch_inbox(&server, &b, PASSWORD_B, &server.dir.join("inbox-b"));
    let text = String::from_utf8_lossy(&messages[0]);
    assert!(
        text.contains("X-Congvu-Converted: TCVN3 -> Unicode NFC"),
        "{text}"
    );
    assert!(text.contains("tag=legacy_encoding"), "{text}");
    // Subject "Thông báo lịch họp", and the body re-encoded as UTF-8 base64.
    assert!(
        text.contains("Subject: =?UTF-8?B?VGjDtG5nIGLDoW8gbOG7i2NoIGjhu41w?="),
        "{text}"
    );
    assert!(
        text.contains("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64"),
        "{text}"
    );
}

#[test]
fn legacy_refusal_and_agency_relays_are_configurable() {
    let tempdir = tempfile::tempdir().unwrap();
    let mut server = Server::configure(tempdir.path().to_owned(), Ports::free());
    let mut config = std::fs::OpenOptions::new()
        .append(true)
        .open(&server.config_path)
        .unwrap();
    config
        .write_all(
            b"[policy]\nagency_relays = [\"127.0.0.0/8\"]\n[policy.legacy_encoding]\naction = \"reject\"\n",
        )
        .unwrap();
    server.spawn();
    let (_agency, a, b) = server.provision();
    let result = submit(
        &server,
        &a,
        PASSWORD_A,
        &a,
        &b,
        &["--subject", "Co^.ng va(n so^' 12 ve^` ke^' hoa.ch"],
    );
    assert_eq!(result["code"], 550, "{result}");
    let message = result["message"].as_str().unwrap();
    assert!(
        message.starts_with("5.6.0 Văn bản dùng bảng mã cũ VIQR"),
        "{message}"
    );

    // Port 25 from 127.0.0.1, now an agency relay: conduct rules bind (not just tag).
    let result = send_mx(
        &server,
        "vanthu@bacninh.gov.vn",
        &b,
        &["--subject", "Meeting invitation"],
    );
    assert_eq!(result["code"], 550, "{result}");
}

#[test]
fn crossing_ninety_percent_of_the_quota_delivers_one_warning() {
    let server = Server::start();
    let (_agency, a, b) = server.provision();
    server.cli_ok(&["account", "quota", &b, "2MB"], None);
    // About 1.9 MB once base64-encoded: 90-95 % of 2 MB.
    let result = submit(&server, &a, PASSWORD_A, &a, &b, &["--pdf-kib", "1400"]);
    assert_eq!(result["ok"], true, "{result}");
    let messages = fetch_inbox(&server, &b, PASSWORD_B, &server.dir.join("inbox-b"));
    assert_eq!(messages.len(), 2, "the message and one warning");
    let warning = String::from_utf8_lossy(&messages[1]);
    assert!(warning.contains("Auto-Submitted: auto-generated"), "{warning}");
    assert!(warning.contains(&format!("Hộp thư {b} đã dùng")), "{warning}");
}
