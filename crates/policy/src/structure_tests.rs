//! Issue 10 through the whole pipeline: officials' everyday mail shapes pass with the
//! default configuration, and every hostile shape named in the issue is refused by the
//! right rule, on submission and from the Internet.

use crate::cms;
use crate::embedded;
use crate::formats::samples;
use crate::rewrite::base64_lines as b64;
use crate::tnef;
use crate::{Evaluation, MessageInput, Origin, PolicyConfig, ReasonCode, Verdict, evaluate};

/// A message with a Vietnamese subject whose body is `body` under `content_type`.
fn message(content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "From: a@thanhhoa.gov.vn\r\nTo: b@thanhhoa.gov.vn\r\nSubject: Báo cáo tình hình\r\n\
         MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n{body}"
    )
    .into_bytes()
}

/// multipart/mixed of a text body and the given parts (headers, body).
fn mixed(parts: &[(&str, String)]) -> Vec<u8> {
    let mut body =
        "--M\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKính gửi các đơn vị.\r\n".to_owned();
    for (headers, content) in parts {
        body += &format!("--M\r\n{headers}\r\n\r\n{content}\r\n");
    }
    body += "--M--\r\n";
    message("multipart/mixed; boundary=\"M\"", &body)
}

/// A base64 part's headers with `Content-Type` and an attachment file name.
fn file(content_type: &str, name: &str) -> String {
    format!(
        "Content-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64"
    )
}

fn run(raw: &[u8], origin: Origin) -> Evaluation {
    run_with(raw, origin, &PolicyConfig::default())
}

fn run_with(raw: &[u8], origin: Origin, config: &PolicyConfig) -> Evaluation {
    evaluate(&MessageInput { raw, origin }, config)
}

fn refused(evaluation: &Evaluation) -> Option<ReasonCode> {
    match &evaluation.verdict {
        Verdict::Accept => None,
        Verdict::Refuse(finding) => Some(finding.reason),
    }
}

fn signed_message() -> Vec<u8> {
    let signature: Vec<u8> = [0x30, 0x82, 0x05, 0x00]
        .into_iter()
        .chain((0..200).map(|i| i as u8))
        .collect();
    message(
        "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"S\"",
        &format!(
            "--S\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKính gửi.\r\n--S\r\n\
             Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n\
             Content-Disposition: attachment; filename=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             {}\r\n--S--\r\n",
            b64(&signature)
        ),
    )
}

fn html_with_screenshot(image: &[u8]) -> Vec<u8> {
    message(
        "multipart/related; boundary=\"R\"; type=\"multipart/alternative\"",
        &format!(
            "--R\r\nContent-Type: multipart/alternative; boundary=\"A\"\r\n\r\n--A\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nXem ảnh.\r\n--A\r\n\
             Content-Type: text/html; charset=utf-8\r\n\r\n<p>Xem ảnh <img src=\"cid:image001.png@01DA\"></p>\r\n\
             --A--\r\n--R\r\nContent-Type: image/png; name=\"image001.png\"\r\n\
             Content-Disposition: inline; filename=\"image001.png\"\r\nContent-ID: <image001.png@01DA>\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--R--\r\n",
            b64(image)
        ),
    )
}

fn png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.resize(3000, 7);
    png
}

fn xlsx() -> Vec<u8> {
    samples::zip(&[
        ("[Content_Types].xml", b"<Types/>", true),
        ("xl/workbook.xml", b"<workbook/>", true),
        ("xl/worksheets/sheet1.xml", b"<worksheet/>", true),
    ])
}

fn invite() -> Vec<u8> {
    mixed(&[(
        "Content-Type: text/calendar; charset=utf-8; method=REQUEST; name=\"invite.ics\"\r\n\
         Content-Disposition: attachment; filename=\"invite.ics\"",
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Họp giao ban\r\nEND:VEVENT\r\nEND:VCALENDAR"
            .to_owned(),
    )])
}

/// The four messages the issue saw refused, and the other everyday shapes.
#[test]
fn everyday_mail_passes_with_the_default_config() {
    let tnef_pdf = tnef::samples::tnef(&[("Báo cáo quý 3.pdf", &samples::pdf())]);
    let report = message(
        "multipart/report; report-type=delivery-status; boundary=\"D\"",
        "--D\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThư không gửi được.\r\n--D\r\n\
         Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n\
         Final-Recipient: rfc822; x@example\r\nAction: failed\r\nStatus: 5.1.1\r\n--D\r\n\
         Content-Type: text/rfc822-headers\r\n\r\nSubject: x\r\n--D--\r\n",
    );
    let inner = "Content-Type: multipart/mixed; boundary=\"I\"\r\n\r\n--I\r\nContent-Type: text/plain; \
                 charset=utf-8\r\n\r\nKính gửi.\r\n--I\r\nContent-Type: application/pdf; name=\"cv.pdf\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n"
        .to_owned()
        + &b64(&samples::pdf())
        + "\r\n--I--\r\n";
    let opaque = message(
        "application/pkcs7-mime; smime-type=signed-data; name=\"smime.p7m\"",
        &b64(&cms::samples::signed(inner.as_bytes(), true)),
    );
    let opaque = [&b"Content-Transfer-Encoding: base64\r\n"[..], &opaque].concat();
    let card = mixed(&[(
        "Content-Type: text/vcard; name=\"nguyen-van-a.vcf\"",
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Nguyễn Văn A\r\nEND:VCARD".to_owned(),
    )]);
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        ("S/MIME signed", signed_message()),
        ("HTML with a pasted screenshot", html_with_screenshot(&png())),
        (
            "bao-cao.xlsx",
            mixed(&[(
                &file(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "bao-cao.xlsx",
                ),
                b64(&xlsx()),
            )]),
        ),
        ("invite.ics", invite()),
        (
            "legacy .xls",
            mixed(&[(
                &file("application/vnd.ms-excel", "bang-luong.xls"),
                b64(&samples::ole2()),
            )]),
        ),
        (
            "zip of documents",
            mixed(&[(
                &file("application/zip", "ho-so.zip"),
                b64(&samples::zip(&[
                    ("a.pdf", &samples::pdf(), true),
                    ("b.xlsx", &xlsx(), false),
                ])),
            )]),
        ),
        (
            "winmail.dat",
            mixed(&[(&file("application/ms-tnef", "winmail.dat"), b64(&tnef_pdf))]),
        ),
        ("delivery report", report),
        ("opaque signed", opaque),
        ("vcard", card),
        (
            "RFC 2231 Vietnamese name",
            mixed(&[(
                "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n \
                 filename*=utf-8''B%C3%A1o%20c%C3%A1o.pdf\r\nContent-Transfer-Encoding: base64",
                b64(&samples::pdf()),
            )]),
        ),
    ];
    for (label, raw) in shapes {
        for origin in [Origin::Submission, Origin::Internet] {
            let evaluation = run(&raw, origin);
            assert_eq!(refused(&evaluation), None, "{label} {origin:?}: {evaluation:?}");
            assert!(
                evaluation.findings.is_empty(),
                "{label}: {:?}",
                evaluation.findings
            );
        }
    }
    // The files of winmail.dat are handed to the antivirus.
    let raw = mixed(&[(&file("application/ms-tnef", "winmail.dat"), b64(&tnef_pdf))]);
    let evaluation = run(&raw, Origin::Submission);
    assert_eq!(evaluation.extracted.len(), 1);
    assert_eq!(evaluation.extracted[0].name.as_deref(), Some("Báo cáo quý 3.pdf"));
    assert_eq!(evaluation.extracted[0].data, samples::pdf());
}

/// Every bypass of the issue, from the Internet (where conduct rules only tag) and on
/// submission: refused, and by the dangerous-content rule.
#[test]
fn hostile_shapes_are_refused_from_every_origin() {
    use ReasonCode::*;
    let pe = samples::pe();
    let odt_with_exe = samples::zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text", false),
        ("content.xml", b"<office:document-content/>", true),
        ("Object 1/setup.exe", &pe, true),
    ]);
    let forwards = |levels: usize, inner: Vec<u8>| {
        let mut raw = inner;
        for _ in 0..levels {
            raw = [&b"Subject: Fwd\r\nContent-Type: message/rfc822\r\n\r\n"[..], &raw].concat();
        }
        raw
    };
    let exe_message = mixed(&[(&file("application/octet-stream", "a.exe"), b64(&pe))]);
    let mut deep = "Subject: Kế hoạch\r\n".as_bytes().to_vec();
    for level in 0..33 {
        deep.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"L{level}\"\r\n\r\n--L{level}\r\n").as_bytes(),
        );
    }
    deep.extend_from_slice(b"Content-Type: text/plain\r\n\r\nx\r\n");
    let many_parts = {
        let parts: Vec<(&str, String)> = (0..1001)
            .map(|_| ("Content-Type: text/plain; name=\"a.txt\"", "x".to_owned()))
            .collect();
        mixed(&parts)
    };
    let mut seven_zip = b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec();
    seven_zip.resize(300, 1);
    let mut rar = b"Rar!\x1a\x07\x01\x00".to_vec();
    rar.resize(300, 1);
    let mut iso = vec![0; 0x8000];
    iso.extend_from_slice(b"\x01CD001\x01");
    iso.resize(0x9000, 0);
    let text_body = |body: String| message("text/plain; charset=utf-8", &body);
    let hqx = embedded::samples::binhex("setup.exe", &pe);
    let yenc = String::from_utf8_lossy(&embedded::samples::yencode("run.vbs", b"MsgBox 1")).into_owned();
    let rows: Vec<(&str, Vec<u8>, ReasonCode)> = vec![
        (
            "inline text/plain named .exe, first part",
            message(
                "multipart/mixed; boundary=\"M\"",
                &format!(
                    "--M\r\nContent-Type: text/plain; name=\"setup.exe\"\r\nContent-Disposition: inline; \
                     filename=\"setup.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--M--\r\n",
                    b64(&pe)
                ),
            ),
            DangerousContent,
        ),
        (
            "inline text/plain named .vbs",
            mixed(&[(
                "Content-Type: text/plain; name=\"run.vbs\"\r\nContent-Disposition: inline",
                "MsgBox 1".to_owned(),
            )]),
            DangerousContent,
        ),
        (
            "exe inside an .odt",
            mixed(&[(&file("application/vnd.oasis.opendocument.text", "bao-cao.odt"), b64(&odt_with_exe))]),
            DangerousContent,
        ),
        ("uuencoded exe in the body", text_body(embedded::samples::uuencode("setup.exe", &pe)), DangerousContent),
        ("BinHex exe in the body", text_body(format!("Kính gửi\n{hqx}")), DangerousContent),
        ("yEnc script in the body", text_body(yenc), DangerousContent),
        (
            "run.vbs.",
            mixed(&[(&file("text/plain", "run.vbs."), b64(b"MsgBox 1"))]),
            DangerousContent,
        ),
        (
            "run.vbs::$DATA",
            mixed(&[(&file("text/plain", "run.vbs::$DATA"), b64(b"MsgBox 1"))]),
            DangerousContent,
        ),
        (
            "RFC 2047 name",
            mixed(&[(&file("text/plain", "=?utf-8?B?cnVuLnZicw==?="), b64(b"MsgBox 1"))]),
            DangerousContent,
        ),
        (
            "RFC 2231 name",
            mixed(&[(
                "Content-Type: text/plain\r\nContent-Disposition: attachment; filename*=utf-8''run%2Evbs",
                "MsgBox 1".to_owned(),
            )]),
            DangerousContent,
        ),
        ("7z", mixed(&[(&file("application/x-7z-compressed", "a.7z"), b64(&seven_zip))]), ArchiveTooComplex),
        ("RAR named pdf", mixed(&[(&file("application/pdf", "a.pdf"), b64(&rar))]), ArchiveTooComplex),
        ("ISO named pdf", mixed(&[(&file("application/pdf", "a.pdf"), b64(&iso))]), ArchiveTooComplex),
        ("33 nested multiparts", deep, MessageTooComplex),
        ("exe under 4 forwarded messages", forwards(4, exe_message.clone()), DangerousContent),
        ("5 forwarded messages", forwards(5, exe_message), MessageTooComplex),
        ("1001 parts", many_parts, MessageTooComplex),
        (
            "exe in winmail.dat",
            mixed(&[(
                &file("application/ms-tnef", "winmail.dat"),
                b64(&tnef::samples::tnef(&[("Báo cáo.pdf", &samples::pdf()), ("setup.exe", &pe)])),
            )]),
            DangerousContent,
        ),
        ("exe as an inline image", html_with_screenshot(&pe), DangerousContent),
        (
            "exe inside opaque signed data",
            [
                &b"Content-Transfer-Encoding: base64\r\n"[..],
                &message(
                    "application/pkcs7-mime; smime-type=signed-data",
                    &b64(&cms::samples::signed(
                        format!(
                            "Content-Type: application/octet-stream; name=a.exe\r\nContent-Transfer-Encoding: \
                             base64\r\n\r\n{}",
                            b64(&pe)
                        )
                        .as_bytes(),
                        false,
                    )),
                ),
            ]
            .concat(),
            DangerousContent,
        ),
    ];
    for (label, raw, reason) in rows {
        for origin in [Origin::Submission, Origin::Internet] {
            let evaluation = run(&raw, origin);
            assert_eq!(
                refused(&evaluation),
                Some(reason),
                "{label} {origin:?}: {evaluation:?}"
            );
            if let Verdict::Refuse(finding) = &evaluation.verdict {
                assert_eq!(finding.rule, crate::Rule::DangerousContent, "{label}");
                let (code, enhanced, _) = finding.reply();
                assert_eq!((code, enhanced), (550, (5, 7, 1)), "{label}");
            }
        }
    }
    // Files decoded from bodies go to the antivirus.
    let raw = text_body(embedded::samples::uuencode("setup.exe", &pe));
    let mut config = PolicyConfig::default();
    config.dangerous_content.action = crate::Action::Tag;
    let evaluation = run_with(&raw, Origin::Submission, &config);
    assert_eq!(evaluation.extracted.len(), 1);
    assert_eq!(evaluation.extracted[0].data, pe);
}

/// The cap counts every file-like part: a 13 MiB inline text part after the body.
#[test]
fn inline_parts_count_towards_the_cap() {
    let big = "Nội dung phụ lục. ".repeat(13 * 1024 * 1024 / 20);
    let raw = mixed(&[(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: inline",
        big.clone(),
    )]);
    let evaluation = run(&raw, Origin::Submission);
    assert_eq!(refused(&evaluation), Some(ReasonCode::AttachmentTooLarge));
    let raw = mixed(&[("Content-Type: image/png\r\nContent-Disposition: inline", big)]);
    assert_eq!(
        refused(&run(&raw, Origin::Submission)),
        Some(ReasonCode::AttachmentTooLarge)
    );
}

/// Classified stamps hidden by zero-width spaces, fullwidth or Cyrillic letters.
#[test]
fn stamps_in_odd_unicode_are_found() {
    for subject in [
        "M\u{200B}Ậ\u{200B}T - Kế hoạch",
        "ＴỐＩ ＭẬＴ - Kế hoạch",
        "\u{041C}Ậ\u{0422} - Kế hoạch",
        "[\u{041C}\u{0410}\u{0422}] Kế hoạch",
        "T\u{00AD}ỐI M\u{2060}ẬT",
    ] {
        let raw =
            format!("Subject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKính gửi\r\n");
        let evaluation = run(raw.as_bytes(), Origin::Submission);
        assert_eq!(refused(&evaluation), Some(ReasonCode::Classified), "{subject}");
    }
}

/// Encrypted S/MIME: refused on submission, tagged from the Internet; the action is
/// configurable.
#[test]
fn encrypted_smime_has_its_own_rule() {
    let raw = [
        &b"Content-Transfer-Encoding: base64\r\n"[..],
        &message(
            "application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"",
            &b64(&cms::samples::enveloped()),
        ),
    ]
    .concat();
    let evaluation = run(&raw, Origin::Submission);
    assert_eq!(refused(&evaluation), Some(ReasonCode::EncryptedContent));
    let evaluation = run(&raw, Origin::Internet);
    assert!(evaluation.verdict.is_accept());
    let tags: Vec<ReasonCode> = evaluation.findings.iter().map(|f| f.reason).collect();
    assert_eq!(tags, [ReasonCode::EncryptedContent]);
    let mut config = PolicyConfig::default();
    config.encrypted.action = crate::Action::Off;
    let evaluation = run_with(&raw, Origin::Submission, &config);
    assert!(evaluation.verdict.is_accept());
}

/// A signed message in a legacy encoding is tagged, never rewritten.
#[test]
fn signed_messages_are_never_rewritten() {
    let tcvn3 = b"C\xe9ng ho\xb5 x\xb7 h\xe9i ch\xf1 ngh\xdca Vi\xd6t Nam\r\n\xa7\xe9c l\xcbp - T\xf9 do - H\xb9nh ph\xf3c\r\n";
    let mut raw = b"Subject: Th\xc3\xb4ng b\xc3\xa1o\r\nContent-Type: multipart/signed; \
protocol=\"application/pkcs7-signature\"; boundary=\"S\"\r\n\r\n--S\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(tcvn3);
    raw.extend_from_slice(
        b"--S\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n\
Content-Transfer-Encoding: base64\r\n\r\nMIIB\r\n--S--\r\n",
    );
    let evaluation = run(&raw, Origin::Submission);
    assert!(evaluation.verdict.is_accept(), "{evaluation:?}");
    assert!(evaluation.converted.is_none());
    let tags: Vec<ReasonCode> = evaluation.findings.iter().map(|f| f.reason).collect();
    assert_eq!(tags, [ReasonCode::LegacyEncoding]);
    // The same text unsigned is converted.
    let unsigned = [
        &b"Subject: Th\xc3\xb4ng b\xc3\xa1o\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"[..],
        tcvn3,
    ]
    .concat();
    assert!(run(&unsigned, Origin::Submission).converted.is_some());
}

/// 200 zip bombs in one message: refused, in bounded time (one budget per message,
/// not 100 MiB per attachment). The CPU time per evaluation is printed for the report:
/// `cargo test -p congvu-policy --release bombs -- --nocapture`.
#[test]
fn two_hundred_zip_bombs_cost_one_budget() {
    let bomb = samples::zip(&[("bomb.txt", &vec![0u8; 10 * 1024 * 1024], true)]);
    let parts: Vec<(String, String)> = (0..200)
        .map(|i| (file("application/zip", &format!("bom-{i}.zip")), b64(&bomb)))
        .collect();
    let parts: Vec<(&str, String)> = parts.iter().map(|(h, b)| (h.as_str(), b.clone())).collect();
    let raw = mixed(&parts);
    let cpu_ns = || -> Option<u64> {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        stat.split_whitespace().next()?.parse().ok()
    };
    let start = cpu_ns();
    let evaluation = run(&raw, Origin::Internet);
    let cpu_ms = cpu_ns()
        .zip(start)
        .map_or(f64::NAN, |(end, start)| (end - start) as f64 / 1e6);
    println!(
        "200 zip bombs ({} bytes, 10 MiB each inflated): CPU {cpu_ms:.1} ms per evaluation",
        raw.len()
    );
    assert_eq!(
        refused(&evaluation),
        Some(ReasonCode::ArchiveTooComplex),
        "{evaluation:?}"
    );
    // Debug builds are ~10× slower than release; either way far from 18 s.
    assert!(cpu_ms.is_nan() || cpu_ms < 5000.0, "{cpu_ms} ms");
}

/// A part carrying two names: whichever one a client shows, a script's name refuses
/// it (found by the second corpus: `filename` twice, or `name` ≠ `filename`).
#[test]
fn a_part_with_disagreeing_names_is_judged_by_the_dangerous_one() {
    let script = "TXNnQm94IDEK"; // "MsgBox 1\n"
    let cases = [
        "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"ghi-chu.txt\"; filename=\"run.vbs\"\r\n\
         Content-Transfer-Encoding: base64",
        "Content-Type: text/plain; name=\"run.vbs\"\r\nContent-Disposition: attachment; filename=\"ghi-chu.txt\"\r\n\
         Content-Transfer-Encoding: base64",
        "Content-Type: text/plain; name=\"ghi-chu.txt\"\r\nContent-Disposition: attachment; filename=\"run.vbs\"\r\n\
         Content-Transfer-Encoding: base64",
    ];
    for headers in cases {
        let raw = mixed(&[(headers, script.to_owned())]);
        for origin in [Origin::Submission, Origin::Internet] {
            assert_eq!(
                refused(&run(&raw, origin)),
                Some(ReasonCode::DangerousContent),
                "{headers}"
            );
        }
    }
    let agreeing = mixed(&[(&file("text/plain", "ghi-chu.txt"), "R2hpIGNow7ouCg==".to_owned())]);
    assert_eq!(refused(&run(&agreeing, Origin::Submission)), None);
}

/// Stamps the second corpus found missed: in a forwarded message's subject and
/// text, in HTML character references and across tags, and in a zip entry's name.
#[test]
fn stamps_in_forwards_html_and_zip_entry_names_are_found() {
    let forwarded = |headers: &str, body: &str| {
        mixed(&[(
            "Content-Type: message/rfc822",
            format!(
                "From: x@so.vn\r\nSubject: {headers}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
            ),
        )])
    };
    let html = |body: &str| message("text/html; charset=utf-8", body);
    let zip =
        crate::formats::samples::zip(&[("TỐI MẬT - Phương án.pdf", &crate::formats::samples::pdf(), false)]);
    use base64::Engine;
    let zipped = mixed(&[(
        &file("application/zip", "ho-so.zip"),
        base64::engine::general_purpose::STANDARD.encode(&zip),
    )]);
    let cases = [
        ("forwarded subject", forwarded("TUYỆT MẬT: kế hoạch", "Nội dung.")),
        ("forwarded body", forwarded("Kế hoạch", "Độ mật: Tối mật\r\n")),
        (
            "html references",
            html("<p>&#84;&#7888;&#73; &#77;&#7852;&#84;</p>"),
        ),
        ("html split", html("<p><b>TUYỆT M</b><span>ẬT</span></p>")),
        ("zip entry name", zipped),
    ];
    for (label, raw) in cases {
        assert_eq!(
            refused(&run(&raw, Origin::Submission)),
            Some(ReasonCode::Classified),
            "{label}"
        );
    }
    // Ordinary HTML is not a stamp: "mật khẩu" (password), entities, tags.
    let ordinary = html("<p>Đổi <b>mật</b> khẩu &amp; đăng nhập lại</p><div>Thân ái</div>");
    assert_eq!(refused(&run(&ordinary, Origin::Submission)), None);
}

/// A name in a format the policy does not know (`.html`) claims that format, which
/// is not allowed; it is not a naming mistake to be fixed by renaming.
#[test]
fn an_unknown_format_by_name_is_not_allowed_rather_than_misnamed() {
    use base64::Engine;
    let page = base64::engine::general_purpose::STANDARD.encode("<html><body>Tin tức</body></html>");
    let raw = mixed(&[(&file("text/html", "trang-tin.html"), page)]);
    assert_eq!(
        refused(&run(&raw, Origin::Submission)),
        Some(ReasonCode::FormatNotAllowed)
    );
}
