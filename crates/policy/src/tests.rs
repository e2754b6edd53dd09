//! Behaviour of the whole pipeline on real messages built here: one table row per
//! rule and origin, then the conversion and the header.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_parser::MessageParser;

use crate::formats::Format;
use crate::formats::samples;
use crate::legacy::Legacy;
use crate::{LegacyAction, MessageInput, Origin, PolicyConfig, ReasonCode, Rule, Verdict, evaluate};

/// A message with the given raw Subject line (None: no Subject header), a UTF-8 text
/// body, and attachments `(name, content type, bytes)` in base64.
fn message(subject: Option<&str>, body: &str, attachments: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut out = String::from(
        "From: a@thanhhoa.gov.vn\r\nTo: b@thanhhoa.gov.vn\r\nMessage-ID: <t1@thanhhoa.gov.vn>\r\n",
    );
    if let Some(subject) = subject {
        out += &format!("Subject: {subject}\r\n");
    }
    out += "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BOUND\"\r\n\r\n";
    out += &format!(
        "--BOUND\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    );
    for (name, content_type, data) in attachments {
        let encoded = STANDARD.encode(data);
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        out += &format!(
            "--BOUND\r\nContent-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; \
             filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            lines.join("\r\n")
        );
    }
    out += "--BOUND--\r\n";
    out.into_bytes()
}

fn verdict_code(verdict: &Verdict) -> Option<ReasonCode> {
    match verdict {
        Verdict::Accept => None,
        Verdict::Refuse(finding) => Some(finding.reason),
    }
}

#[test]
fn rules_table() {
    use Origin::*;
    use ReasonCode::*;
    let pdf = samples::pdf();
    let big_pdf = {
        let mut p = samples::pdf();
        p.resize(11 * 1024 * 1024, b' ');
        p
    };
    let nine_mb_pdf = {
        let mut p = samples::pdf();
        p.resize(9 * 1024 * 1024, b' ');
        p
    };
    let pe = samples::pe();
    let nested_exe = samples::zip(&[("inner.zip", &samples::zip(&[("setup.exe", &pe, true)]), true)]);
    let forwarded_exe = {
        let inner = message(
            Some("Công văn"),
            "x",
            &[("a.exe", "application/octet-stream", &pe)],
        );
        format!(
            "Subject: Chuyển tiếp: Công văn\r\nContent-Type: multipart/mixed; boundary=\"OUT\"\r\n\r\n--OUT\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nxem\r\n--OUT\r\nContent-Type: message/rfc822\r\n\r\n{}\r\n--OUT--\r\n",
            String::from_utf8(inner).unwrap()
        )
        .into_bytes()
    };
    let viet = Some("Thông báo lịch họp");
    type Row<'a> = (&'a str, Vec<u8>, Origin, Option<ReasonCode>, &'a [ReasonCode]);
    let rows: Vec<Row> = vec![
        (
            "plain vietnamese",
            message(viet, "Kính gửi", &[]),
            Submission,
            None,
            &[],
        ),
        (
            "utf-8 B subject",
            message(Some("=?UTF-8?B?VGjDtG5nIGLDoW8gbOG7i2NoIGjhu41w?="), "x", &[]),
            Submission,
            None,
            &[],
        ),
        (
            "utf-8 Q subject",
            message(Some("=?UTF-8?Q?Th=C3=B4ng_b=C3=A1o?="), "x", &[]),
            Submission,
            None,
            &[],
        ),
        (
            "windows-1258 subject",
            message(Some("=?windows-1258?Q?Gi=E2=ECy_m=F5=CCi_ho=F2p?="), "x", &[]),
            Submission,
            None,
            &[],
        ),
        (
            "unaccented",
            message(Some("Thong bao lich hop"), "x", &[]),
            Submission,
            None,
            &[],
        ),
        (
            "code subject",
            message(Some("V/v: 123/UBND-VP"), "x", &[]),
            Submission,
            None,
            &[],
        ),
        (
            "english",
            message(Some("Meeting invitation for Monday"), "x", &[]),
            Submission,
            Some(SubjectNotVietnamese),
            &[],
        ),
        (
            "english relay",
            message(Some("Meeting invitation for Monday"), "x", &[]),
            AgencyRelay,
            Some(SubjectNotVietnamese),
            &[],
        ),
        (
            "english internet",
            message(Some("Meeting invitation for Monday"), "x", &[]),
            Internet,
            None,
            &[SubjectNotVietnamese],
        ),
        (
            "empty subject",
            message(Some(""), "x", &[]),
            Submission,
            Some(SubjectEmpty),
            &[],
        ),
        (
            "prefix only",
            message(Some("Re: Fwd:"), "x", &[]),
            Submission,
            Some(SubjectEmpty),
            &[],
        ),
        (
            "no subject",
            message(None, "x", &[]),
            Submission,
            Some(SubjectEmpty),
            &[],
        ),
        (
            "pdf",
            message(viet, "x", &[("cong-van.pdf", "application/pdf", &pdf)]),
            Submission,
            None,
            &[],
        ),
        (
            "9 MB pdf",
            message(viet, "x", &[("cong-van.pdf", "application/pdf", &nine_mb_pdf)]),
            Submission,
            None,
            &[],
        ),
        (
            "11 MB pdf",
            message(viet, "x", &[("cong-van.pdf", "application/pdf", &big_pdf)]),
            Submission,
            Some(AttachmentTooLarge),
            &[],
        ),
        (
            "11 MB pdf internet",
            message(viet, "x", &[("cong-van.pdf", "application/pdf", &big_pdf)]),
            Internet,
            None,
            &[AttachmentTooLarge],
        ),
        (
            "doc",
            message(
                viet,
                "x",
                &[("to-trinh.doc", "application/msword", &samples::ole2())],
            ),
            Submission,
            None,
            &[],
        ),
        (
            "odt",
            message(
                viet,
                "x",
                &[(
                    "bao-cao.odt",
                    "application/vnd.oasis.opendocument.text",
                    &samples::odt(),
                )],
            ),
            Submission,
            None,
            &[],
        ),
        (
            "rtf",
            message(viet, "x", &[("ghi-chu.rtf", "application/rtf", &samples::rtf())]),
            Submission,
            None,
            &[],
        ),
        (
            "docx",
            message(
                viet,
                "x",
                &[("bao-cao.docx", "application/octet-stream", &samples::docx())],
            ),
            Submission,
            None,
            &[],
        ),
        (
            "unknown binary",
            message(
                viet,
                "x",
                &[("du-lieu.dat", "application/octet-stream", &[0, 1, 2, 3, 0xff, 0])],
            ),
            Submission,
            Some(FormatNotAllowed),
            &[],
        ),
        (
            "unknown binary internet",
            message(
                viet,
                "x",
                &[("du-lieu.dat", "application/octet-stream", &[0, 1, 2, 3, 0xff, 0])],
            ),
            Internet,
            None,
            &[FormatNotAllowed],
        ),
        (
            "doc named pdf",
            message(
                viet,
                "x",
                &[("cong-van.pdf", "application/pdf", &samples::ole2())],
            ),
            Submission,
            Some(FormatMismatch),
            &[],
        ),
        (
            "exe named pdf",
            message(viet, "x", &[("cong-van.pdf", "application/pdf", &pe)]),
            Submission,
            Some(DangerousContent),
            &[],
        ),
        (
            "exe internet",
            message(viet, "x", &[("cong-van.pdf", "application/pdf", &pe)]),
            Internet,
            Some(DangerousContent),
            &[],
        ),
        (
            "elf",
            message(
                viet,
                "x",
                &[("tool", "application/octet-stream", &samples::elf())],
            ),
            Submission,
            Some(DangerousContent),
            &[],
        ),
        (
            "script",
            message(
                viet,
                "x",
                &[("readme.txt", "text/plain", b"#!/bin/sh\nrm -rf ~\n")],
            ),
            Submission,
            Some(DangerousContent),
            &[],
        ),
        (
            "nested zip exe",
            message(viet, "x", &[("tai-lieu.zip", "application/zip", &nested_exe)]),
            Internet,
            Some(DangerousContent),
            &[],
        ),
        (
            "forwarded exe",
            forwarded_exe,
            Submission,
            Some(DangerousContent),
            &[],
        ),
        (
            "classified subject",
            message(Some("TỐI MẬT - Kế hoạch"), "x", &[]),
            Submission,
            Some(Classified),
            &[],
        ),
        (
            "classified line",
            message(viet, "Độ mật: Mật\r\nSố: 12", &[]),
            Submission,
            Some(Classified),
            &[],
        ),
        (
            "classified name",
            message(viet, "x", &[("MAT-ke-hoach.pdf", "application/pdf", &pdf)]),
            Submission,
            Some(Classified),
            &[],
        ),
        (
            "password",
            message(Some("Đổi mật khẩu"), "Giữ bí mật mật khẩu", &[]),
            Submission,
            None,
            &[],
        ),
        (
            "classified internet",
            message(Some("TỐI MẬT"), "x", &[]),
            Internet,
            None,
            &[Classified],
        ),
        ("empty input", Vec::new(), Submission, Some(Malformed), &[]),
    ];
    let config = PolicyConfig::default();
    for (label, raw, origin, refused, tags) in rows {
        let evaluation = evaluate(&MessageInput { raw: &raw, origin }, &config);
        assert_eq!(
            verdict_code(&evaluation.verdict),
            refused,
            "{label}: {evaluation:?}"
        );
        let found: Vec<ReasonCode> = evaluation.findings.iter().map(|f| f.reason).collect();
        assert_eq!(found, tags, "{label}");
    }
}

#[test]
fn refusals_carry_reply_and_vietnamese_first() {
    let raw = message(
        Some("Thông báo"),
        "x",
        &[("cong-van.pdf", "application/pdf", &samples::pe())],
    );
    let evaluation = evaluate(
        &MessageInput {
            raw: &raw,
            origin: Origin::Submission,
        },
        &PolicyConfig::default(),
    );
    let Verdict::Refuse(finding) = evaluation.verdict else {
        panic!("accepted an executable");
    };
    let (code, enhanced, text) = finding.reply();
    assert_eq!((code, enhanced), (550, (5, 7, 1)));
    assert!(text.starts_with("Tệp \"cong-van.pdf\" là chương trình"), "{text}");
    assert!(text.contains(" / File \"cong-van.pdf\" is a program"), "{text}");
    assert!(!text.contains('\n'));
    assert_eq!(ReasonCode::AttachmentTooLarge.smtp(), (552, (5, 3, 4)));
}

#[test]
fn accepted_header_lists_checks() {
    let raw = message(Some("Thông báo"), "x", &[]);
    let evaluation = evaluate(
        &MessageInput {
            raw: &raw,
            origin: Origin::Submission,
        },
        &PolicyConfig::default(),
    );
    assert_eq!(evaluation.message_id.as_deref(), Some("t1@thanhhoa.gov.vn"));
    assert_eq!(
        evaluation.headers(),
        "X-Congvu-Policy: origin=submission; pass=dangerous-content,attachment-cap,formats,encrypted,classified,\
         subject,legacy-encoding\r\n"
    );
    let all_rules: Vec<Rule> = evaluation.passed.clone();
    assert_eq!(all_rules.len(), Rule::ALL.len());
}

#[test]
fn off_rules_are_not_checked_and_zip_can_be_allowed() {
    let mut config = PolicyConfig::default();
    config.subject.action = crate::Action::Off;
    config.formats.allowed.push(Format::Zip);
    let zip = samples::zip(&[("a.pdf", &samples::pdf(), true)]);
    let raw = message(Some("Hello"), "x", &[("a.zip", "application/zip", &zip)]);
    let evaluation = evaluate(
        &MessageInput {
            raw: &raw,
            origin: Origin::Submission,
        },
        &config,
    );
    assert!(evaluation.verdict.is_accept(), "{evaluation:?}");
    assert!(!evaluation.passed.contains(&Rule::Subject));
}

/// TCVN3 as ISO-8859-1 (what Outlook sends), converted by default, refused on request.
#[test]
fn tcvn3_message_is_converted() {
    let raw = b"From: a@thanhhoa.gov.vn\r\nSubject: =?iso-8859-1?Q?Th=ABng_b=B8o_l=DEch_h=E4p?=\r\n\
Message-ID: <t3@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\nC\xe9ng ho\xb5 x\xb7 h\xe9i ch\xf1 ngh\xdca Vi\xd6t Nam\r\n\
\xa7\xe9c l\xcbp - T\xf9 do - H\xb9nh ph\xf3c\r\n";
    let config = PolicyConfig::default();
    let evaluation = evaluate(
        &MessageInput {
            raw,
            origin: Origin::Submission,
        },
        &config,
    );
    assert!(evaluation.verdict.is_accept(), "{evaluation:?}");
    let converted = evaluation.converted.as_ref().expect("converted");
    assert_eq!(converted.encoding, Legacy::Tcvn3);
    assert!(
        evaluation
            .headers()
            .contains("X-Congvu-Converted: TCVN3 -> Unicode NFC")
    );
    let parsed = MessageParser::default().parse(&converted.message).unwrap();
    assert_eq!(parsed.subject(), Some("Thông báo lịch họp"));
    assert_eq!(
        parsed.body_text(0).unwrap().trim_end(),
        "Cộng hoà xã hội chủ nghĩa Việt Nam\r\nĐộc lập - Tự do - Hạnh phúc"
    );
    assert_eq!(
        parsed.header_raw("From").map(str::trim),
        Some("a@thanhhoa.gov.vn")
    );

    let mut refuse = PolicyConfig::default();
    refuse.legacy_encoding.action = LegacyAction::Reject;
    let evaluation = evaluate(
        &MessageInput {
            raw,
            origin: Origin::Submission,
        },
        &refuse,
    );
    assert_eq!(
        verdict_code(&evaluation.verdict),
        Some(ReasonCode::LegacyEncoding)
    );

    // From the Internet: tagged, never rewritten (Art. 8.2).
    let evaluation = evaluate(
        &MessageInput {
            raw,
            origin: Origin::Internet,
        },
        &config,
    );
    assert!(evaluation.converted.is_none());
    assert_eq!(evaluation.findings.len(), 1);
}

/// VNI in a raw 8-bit subject and a multipart text part; the attachment survives.
#[test]
fn vni_multipart_is_converted_in_place() {
    // VNI text as windows-1252 bytes, as VNI fonts produce it.
    let latin1 = |s: &str| s.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>();
    let mut raw = latin1(
        "Subject: Coâng vaên soá 12 veà keá hoaïch\r\nMessage-ID: <v@x>\r\n\
         Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n\
         Content-Type: text/plain; charset=windows-1252\r\n\r\n",
    );
    raw.extend(latin1("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam\r\n"));
    raw.extend_from_slice(
        b"--B\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    raw.extend(STANDARD.encode(samples::pdf()).bytes());
    raw.extend_from_slice(b"\r\n--B--\r\n");
    let evaluation = evaluate(
        &MessageInput {
            raw: &raw,
            origin: Origin::Submission,
        },
        &PolicyConfig::default(),
    );
    assert!(evaluation.verdict.is_accept(), "{evaluation:?}");
    let converted = evaluation.converted.expect("converted");
    assert_eq!(converted.encoding, Legacy::Vni);
    let parsed = MessageParser::default().parse(&converted.message).unwrap();
    assert_eq!(parsed.subject(), Some("Công văn số 12 về kế hoạch"));
    assert_eq!(
        parsed.body_text(0).unwrap().trim_end(),
        "Cộng hòa xã hội chủ nghĩa Việt Nam"
    );
    assert_eq!(
        parsed.attachment(0).unwrap().contents(),
        samples::pdf().as_slice()
    );
}

/// Quoted-printable as a mailer writes it: every byte that is not printable ASCII (and
/// `=`) as `=XX`, a soft line break before 76 characters.
fn quoted_printable(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut line = 0;
    for &b in data {
        let encoded = if (b'!'..=b'~').contains(&b) && b != b'=' {
            vec![b]
        } else {
            format!("={b:02X}").into_bytes()
        };
        if line + encoded.len() > 75 {
            out.extend_from_slice(b"=\r\n");
            line = 0;
        }
        line += encoded.len();
        out.extend(encoded);
    }
    out
}

/// A message whose parts are `(headers, body)` as sent.
fn multipart(subject: &str, parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = format!(
        "From: a@thanhhoa.gov.vn\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"BOUND\"\r\n\r\n"
    )
    .into_bytes();
    for (headers, body) in parts {
        out.extend_from_slice(format!("--BOUND\r\n{headers}\r\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--BOUND--\r\n");
    out
}

fn attachment_part(name: &str, encoding: &str, body: Vec<u8>) -> (String, Vec<u8>) {
    (
        format!(
            "Content-Type: application/pdf; name=\"{name}\"\r\nContent-Disposition: attachment; \
             filename=\"{name}\"\r\nContent-Transfer-Encoding: {encoding}\r\n"
        ),
        body,
    )
}

fn base64_lines(data: &[u8]) -> Vec<u8> {
    let encoded = STANDARD.encode(data);
    let lines: Vec<&[u8]> = encoded.as_bytes().chunks(76).collect();
    lines.join(&b"\r\n"[..])
}

/// The cap counts decoded bytes exactly, whatever the transfer encoding: one byte
/// over is refused. Sizes around the cap give base64 padding 0, 1 and 2; QP is
/// soft-broken every 76 characters; two attachments add up.
#[test]
fn attachment_cap_is_exact_in_every_encoding() {
    let mut config = PolicyConfig::default();
    config.attachment_cap.max_bytes = 3000;
    let pdf = |len: usize| {
        let mut p = samples::pdf();
        p.resize(len, b'a');
        p
    };
    for len in 2997..=3003 {
        let encodings: [(&str, Vec<u8>); 4] = [
            ("base64", base64_lines(&pdf(len))),
            ("BASE64", STANDARD.encode(pdf(len)).into_bytes()),
            ("quoted-printable", quoted_printable(&pdf(len))),
            ("8bit", pdf(len)),
        ];
        for (encoding, body) in encodings {
            let raw = multipart("Công văn", &[attachment_part("cong-van.pdf", encoding, body)]);
            let evaluation = evaluate(
                &MessageInput {
                    raw: &raw,
                    origin: Origin::Submission,
                },
                &config,
            );
            let expected = (len > 3000).then_some(ReasonCode::AttachmentTooLarge);
            assert_eq!(verdict_code(&evaluation.verdict), expected, "{encoding} {len}");
        }
        let raw = multipart(
            "Công văn",
            &[
                attachment_part("a.pdf", "base64", base64_lines(&pdf(1500))),
                attachment_part("b.pdf", "quoted-printable", quoted_printable(&pdf(len - 1500))),
            ],
        );
        let evaluation = evaluate(
            &MessageInput {
                raw: &raw,
                origin: Origin::Submission,
            },
            &config,
        );
        let expected = (len > 3000).then_some(ReasonCode::AttachmentTooLarge);
        assert_eq!(verdict_code(&evaluation.verdict), expected, "two parts {len}");
    }
}

/// Encoded text parts are decoded before the rules read them; a forwarded message sent
/// in base64 or quoted-printable is decoded and its attachments checked; a body that is
/// not valid base64 is checked as received; MIME nested past the limit is refused.
#[test]
fn encoded_structures() {
    use ReasonCode::*;
    let stamp = "Độ mật: Mật\r\nSố: 12/KH-UBND\r\n";
    let text = |encoding: &str, body: Vec<u8>| {
        (
            format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {encoding}\r\n"),
            body,
        )
    };
    let forwarded = |encoding: &str, body: Vec<u8>| {
        (
            format!("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: {encoding}\r\n"),
            body,
        )
    };
    let exe_message = message(
        Some("Công văn"),
        "x",
        &[("cong-van.pdf", "application/pdf", &samples::pe())],
    );
    let pdf_message = message(
        Some("Công văn"),
        "x",
        &[("cong-van.pdf", "application/pdf", &samples::pdf())],
    );
    let mut deep = b"Subject: C\xc3\xb4ng v\xc4\x83n\r\n".to_vec();
    for level in 0..40 {
        deep.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"L{level}x\"\r\n\r\n--L{level}x\r\n")
                .as_bytes(),
        );
    }
    deep.extend_from_slice(b"Content-Type: text/plain\r\n\r\nx\r\n");
    let rows: Vec<(&str, Vec<u8>, Option<ReasonCode>)> = vec![
        (
            "base64 text stamp",
            multipart("Kế hoạch", &[text("base64", base64_lines(stamp.as_bytes()))]),
            Some(Classified),
        ),
        (
            "qp text stamp",
            multipart(
                "Kế hoạch",
                &[text("quoted-printable", quoted_printable(stamp.as_bytes()))],
            ),
            Some(Classified),
        ),
        (
            "base64 text",
            multipart("Kế hoạch", &[text("base64", base64_lines("Kính gửi".as_bytes()))]),
            None,
        ),
        (
            "base64 forwarded exe",
            multipart("Chuyển tiếp", &[forwarded("base64", base64_lines(&exe_message))]),
            Some(DangerousContent),
        ),
        (
            "qp forwarded exe",
            multipart(
                "Chuyển tiếp",
                &[forwarded("quoted-printable", quoted_printable(&exe_message))],
            ),
            Some(DangerousContent),
        ),
        (
            "base64 forwarded pdf",
            multipart("Chuyển tiếp", &[forwarded("base64", base64_lines(&pdf_message))]),
            None,
        ),
        (
            "7bit forwarded exe",
            multipart("Chuyển tiếp", &[forwarded("7bit", exe_message.clone())]),
            Some(DangerousContent),
        ),
        (
            "invalid base64",
            multipart(
                "Công văn",
                &[attachment_part(
                    "cong-van.pdf",
                    "base64",
                    b"this is not base64!".to_vec(),
                )],
            ),
            Some(FormatMismatch),
        ),
        ("deep multipart", deep, Some(MessageTooComplex)),
    ];
    for (label, raw, expected) in rows {
        let evaluation = evaluate(
            &MessageInput {
                raw: &raw,
                origin: Origin::Submission,
            },
            &PolicyConfig::default(),
        );
        assert_eq!(
            verdict_code(&evaluation.verdict),
            expected,
            "{label}: {evaluation:?}"
        );
    }
}

/// Timings for docs/benchmarks.md:
/// `cargo test -p congvu-policy --release -- --ignored --nocapture timings`.
#[test]
#[ignore]
fn timings() {
    use std::time::Instant;

    let paragraph = "Kính gửi các cơ quan, đơn vị. Thực hiện kế hoạch chuyển đổi số năm 2025, Sở Thông tin \
                     và Truyền thông đề nghị các đơn vị báo cáo tình hình triển khai trước ngày 15.\r\n";
    let small_body = paragraph.repeat(10 * 1024 / paragraph.len());
    let small = message(Some("Thông báo lịch họp giao ban"), &small_body, &[]);

    let each = 1_450_000;
    let pad = |mut data: Vec<u8>, byte: u8| {
        data.resize(each, byte);
        data
    };
    let pdf = pad(samples::pdf(), b' ');
    let doc = pad(samples::ole2(), 0);
    let odt = samples::zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text", false),
        ("content.xml", &vec![b'x'; each], false),
    ]);
    let rtf = pad(samples::rtf(), b' ');
    let txt = "Nội dung văn bản. ".repeat(each / 20).into_bytes();
    let large = message(
        Some("Báo cáo tổng kết năm 2024 kèm phụ lục"),
        "Xem các tệp đính kèm.",
        &[
            ("bao-cao.pdf", "application/pdf", &pdf),
            ("to-trinh.doc", "application/msword", &doc),
            ("phu-luc.odt", "application/vnd.oasis.opendocument.text", &odt),
            ("ghi-chu.rtf", "application/rtf", &rtf),
            ("danh-sach.txt", "text/plain", &txt),
        ],
    );
    // Nanoseconds this thread spent on a CPU (Linux schedstat): unlike wall time, not
    // inflated when the shared machine is loaded.
    let cpu_ns = || -> Option<u64> {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        stat.split_whitespace().next()?.parse().ok()
    };
    let config = PolicyConfig::default();
    for (label, raw, runs) in [
        ("10 KB plain", &small, 5000),
        ("10 MB, 5 attachments", &large, 40),
    ] {
        let input = MessageInput {
            raw,
            origin: Origin::Submission,
        };
        assert!(evaluate(&input, &config).verdict.is_accept(), "{label}");
        let cpu_start = cpu_ns();
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(evaluate(&input, &config));
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        let cpu_ms = cpu_ns().zip(cpu_start).map_or(f64::NAN, |(end, start)| {
            (end - start) as f64 / 1e6 / f64::from(runs)
        });
        times.sort_by(f64::total_cmp);
        let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "{label}: {} bytes, {runs} runs: wall median {:.3} ms, p90 {:.3} ms, max {:.3} ms; \
             CPU {cpu_ms:.3} ms per evaluation",
            raw.len(),
            p(0.5),
            p(0.9),
            p(1.0)
        );
    }
}
