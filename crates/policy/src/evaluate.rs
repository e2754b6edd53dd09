//! The whole pipeline: parse once, walk once, run every rule the origin binds.
//!
//! Rules run in a fixed order — dangerous content, attachment cap, formats,
//! classification, subject, legacy encoding — and the first one that rejects decides
//! the refusal, so an official fixes the most serious problem first. Rules set to
//! `tag` (or softened to it by the origin) never stop the pipeline; their findings
//! go in the `X-Congvu-Policy` header.

use crate::classified::{find_stamp, find_stamp_in_name, find_stamp_in_text};
use crate::config::{Action, LegacyAction, Origin, PolicyConfig};
use crate::formats::{Budget, Detected, Problem, check_file, code_problem, detect, looks_like_text};
use crate::legacy::{self, Legacy};
use crate::mime::{ExtractedFile, Part, Role, Walked, walk};
use crate::rewrite::{Rewrite, rewrite};
use crate::subject::{SubjectClass, classify};
use crate::verdict::{Finding, ReasonCode, Rule, Verdict};

/// What is evaluated: the message as received (trace headers included or not) and
/// where it came from.
#[derive(Clone, Copy, Debug)]
pub struct MessageInput<'a> {
    pub raw: &'a [u8],
    pub origin: Origin,
}

/// A message re-encoded from a legacy encoding to Unicode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    pub encoding: Legacy,
    /// The whole message, subject and text parts re-encoded as UTF-8.
    pub message: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub origin: Origin,
    pub verdict: Verdict,
    /// Rules checked and passed, in order.
    pub passed: Vec<Rule>,
    /// Rules broken but only tagged.
    pub findings: Vec<Finding>,
    pub converted: Option<Converted>,
    /// For the log line; never the body.
    pub message_id: Option<String>,
    /// Files the walk decoded that a MIME reader would not see by itself (inside TNEF,
    /// uuencode/BinHex/yEnc blocks), for the antivirus; bounded by the message's
    /// inspection budget (`formats.max_zip_bytes`, `formats.max_zip_entries`).
    pub extracted: Vec<ExtractedFile>,
}

impl Evaluation {
    /// The header lines (CRLF-terminated) to add to an accepted message:
    /// `X-Congvu-Policy` always, `X-Congvu-Converted` after a conversion.
    pub fn headers(&self) -> String {
        let mut value = format!("origin={}", self.origin.as_str());
        if !self.passed.is_empty() {
            let passed: Vec<&str> = self.passed.iter().map(|r| r.as_str()).collect();
            value += &format!("; pass={}", passed.join(","));
        }
        if !self.findings.is_empty() {
            let tags: Vec<&str> = self.findings.iter().map(|f| f.reason.as_str()).collect();
            value += &format!("; tag={}", tags.join(","));
        }
        let mut out = format!("X-Congvu-Policy: {value}\r\n");
        if let Some(converted) = &self.converted {
            out += &format!(
                "X-Congvu-Converted: {} -> Unicode NFC (TCVN 6909:2001); original encoding converted by congvu\r\n",
                converted.encoding
            );
        }
        out
    }
}

/// The outcome of one rule on one message.
struct Run<'c> {
    config: &'c PolicyConfig,
    origin: Origin,
    passed: Vec<Rule>,
    findings: Vec<Finding>,
}

impl Run<'_> {
    /// Records a rule's outcome; `Err` carries the refusal.
    fn apply(&mut self, rule: Rule, finding: Option<Finding>) -> Result<(), Finding> {
        match (self.config.action(rule, self.origin), finding) {
            (Action::Off, _) => Ok(()),
            (_, None) => {
                self.passed.push(rule);
                Ok(())
            }
            (Action::Tag, Some(finding)) => {
                self.findings.push(finding);
                Ok(())
            }
            (Action::Reject, Some(finding)) => Err(finding),
        }
    }

    fn enabled(&self, rule: Rule) -> bool {
        self.config.action(rule, self.origin) != Action::Off
    }
}

/// Evaluates `input` against `config`. Pure: the same bytes and configuration always
/// give the same evaluation, and no input makes it panic.
pub fn evaluate(input: &MessageInput<'_>, config: &PolicyConfig) -> Evaluation {
    let mut run = Run {
        config,
        origin: input.origin,
        passed: Vec::new(),
        findings: Vec::new(),
    };
    let mut budget = Budget::new(&config.formats);
    let walked = walk(input.raw, &config.limits, &mut budget);
    let message_id = walked.as_ref().and_then(|w| w.message_id.clone());
    let (verdict, converted) = match &walked {
        None => {
            let finding = Finding::new(
                Rule::Formats,
                ReasonCode::Malformed,
                "Thư không đúng định dạng MIME, không đọc được",
                "The message is not valid MIME and cannot be read",
            );
            match run.apply(Rule::Formats, Some(finding)) {
                Ok(()) => (Verdict::Accept, None),
                Err(finding) => (Verdict::Refuse(finding), None),
            }
        }
        Some(walked) => match check_all(&mut run, walked, &mut budget) {
            Err(finding) => (Verdict::Refuse(finding), None),
            Ok(legacy) => match legacy {
                Some(Rewrite {
                    encoding,
                    subject,
                    parts,
                }) => {
                    let message = rewrite(input.raw, walked, subject.as_deref(), &parts);
                    (Verdict::Accept, Some(Converted { encoding, message }))
                }
                None => (Verdict::Accept, None),
            },
        },
    };
    Evaluation {
        origin: input.origin,
        verdict,
        passed: run.passed,
        findings: run.findings,
        converted,
        message_id,
        extracted: walked.map(|w| w.extracted).unwrap_or_default(),
    }
}

/// Whether a part that is not a document is what it claims to be; a part that is not
/// is checked as a document.
fn as_claimed(part: &Part<'_>) -> bool {
    let head = part.data.get(..part.data.len().min(SNIFF)).unwrap_or_default();
    let has = |marker: &[u8]| head.windows(marker.len()).any(|w| w.eq_ignore_ascii_case(marker));
    match part.role {
        Role::Body | Role::Tnef | Role::Pkcs7 => true,
        Role::InlineImage => matches!(detect(&part.data), Detected::Format(f) if f.is_image()),
        // DER: a SEQUENCE (X.690 §8.9).
        Role::Signature => head.first() == Some(&0x30),
        Role::Calendar => looks_like_text(head) && has(b"BEGIN:VCALENDAR"),
        Role::Card => looks_like_text(head) && has(b"BEGIN:VCARD"),
        Role::Report => looks_like_text(head),
        Role::Document => false,
    }
}

const SNIFF: usize = crate::formats::SNIFF_LEN;

fn check_all(
    run: &mut Run<'_>,
    walked: &Walked<'_>,
    budget: &mut Budget,
) -> Result<Option<Rewrite>, Finding> {
    let formats_rule = &run.config.formats;
    let unnamed = "(không tên / unnamed)".to_owned();
    let reports: Vec<_> = if run.enabled(Rule::DangerousContent) || run.enabled(Rule::Formats) {
        walked
            .parts
            .iter()
            .map(|part| {
                let path = part.path();
                if as_claimed(part) {
                    // Code is refused whatever role a part plays; scripts only in files.
                    let scripts = part.role != Role::Body;
                    let path = path.as_ref().unwrap_or(&unnamed);
                    crate::formats::FileReport {
                        dangerous: code_problem(path, part.name.as_deref(), &part.data, scripts),
                        format: None,
                        entry_names: Vec::new(),
                    }
                } else {
                    check_file(
                        path.as_deref(),
                        part.name.as_deref(),
                        &part.data,
                        formats_rule,
                        budget,
                    )
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    let allowed: Vec<String> = formats_rule
        .allowed
        .iter()
        .map(|f| format!(".{}", f.extension()))
        .collect();
    let allowed = allowed.join(" ");
    let finding = |problem: &Problem| problem_finding(problem, &allowed);
    let dangerous = walked
        .too_complex
        .map(too_complex)
        .or_else(|| reports.iter().find_map(|r| r.dangerous.as_ref()).map(finding));
    run.apply(Rule::DangerousContent, dangerous)?;

    let total: u64 = walked.parts.iter().filter(|p| p.counted).map(|p| p.size).sum();
    let cap = run.config.attachment_cap.max_bytes;
    let too_large = (total > cap).then(|| {
        Finding::new(
            Rule::AttachmentCap,
            ReasonCode::AttachmentTooLarge,
            format!(
                "Tổng dung lượng tệp đính kèm và phần nội dung phụ {} vượt quá giới hạn {} (Điều 9 Quy chế); hãy \
                 chia thành nhiều thư hoặc nén/giảm dung lượng tệp",
                mb(total),
                mb(cap)
            ),
            format!(
                "Attachments and other parts total {}, over the {} limit (Art. 9); split them over several \
                 messages or make the files smaller",
                mb(total),
                mb(cap)
            ),
        )
    });
    run.apply(Rule::AttachmentCap, too_large)?;

    let format = reports.iter().find_map(|r| r.format.as_ref()).map(finding);
    run.apply(Rule::Formats, format)?;

    let encrypted = walked.encrypted.then(|| {
        Finding::new(
            Rule::Encrypted,
            ReasonCode::EncryptedContent,
            "Thư được mã hóa (S/MIME) nên không kiểm tra được độ mật, định dạng và mã độc (Điều 8 Quy chế); hãy \
             gửi thư chỉ ký số, không mã hóa",
            "The message is encrypted (S/MIME), so it cannot be checked for classification, formats or code \
             (Art. 8); send it signed, not encrypted",
        )
    });
    run.apply(Rule::Encrypted, encrypted)?;

    if run.enabled(Rule::Classified) {
        let stamp = walked
            .subject
            .as_deref()
            .and_then(find_stamp)
            .map(|s| (s, "tiêu đề", "the subject".to_owned()))
            .or_else(|| {
                walked
                    .texts
                    .iter()
                    .find_map(|t| find_stamp_in_text(&t.text, t.html))
                    .map(|s| (s, "nội dung thư", "the message text".to_owned()))
            })
            .or_else(|| {
                walked
                    .quoted
                    .iter()
                    .find_map(|text| find_stamp_in_text(text, true))
                    .map(|s| (s, "thư chuyển tiếp", "a forwarded message".to_owned()))
            })
            .or_else(|| {
                let entries = reports
                    .iter()
                    .flat_map(|r| r.entry_names.iter().map(String::as_str));
                walked
                    .parts
                    .iter()
                    .filter_map(|a| a.name.as_deref())
                    .chain(entries)
                    .find_map(|name| {
                        find_stamp_in_name(name)
                            .map(|s| (s, "tên tệp đính kèm", format!("attachment name {name:?}")))
                    })
            });
        let finding = stamp.map(|(stamp, where_vi, where_en)| {
            Finding::new(
                Rule::Classified,
                ReasonCode::Classified,
                format!(
                    "Không được gửi tài liệu có độ mật ({}) qua thư điện tử công vụ (Điều 8 Quy chế); dấu mật ở {}",
                    stamp.as_str(),
                    where_vi
                ),
                format!(
                    "Classified documents ({}) may not be sent by official e-mail (Art. 8); stamp found in {}",
                    stamp.as_str(),
                    where_en
                ),
            )
        });
        run.apply(Rule::Classified, finding)?;
    }

    // The subject is judged as it will be delivered: converted from a legacy encoding
    // first when that is what will happen.
    let legacy_action = run.config.legacy_action(run.origin);
    let subject_legacy = walked.subject.as_deref().and_then(legacy::detect);
    let text_legacy: Vec<(usize, Legacy)> = walked
        .texts
        .iter()
        .enumerate()
        .filter_map(|(i, t)| legacy::detect(&t.text).map(|enc| (i, enc)))
        .collect();
    let encoding = subject_legacy.or_else(|| text_legacy.first().map(|(_, e)| *e));

    if run.enabled(Rule::Subject) {
        let subject = match (&walked.subject, subject_legacy) {
            (Some(s), Some(enc)) => legacy::convert(s, enc),
            (Some(s), None) => s.clone(),
            (None, _) => String::new(),
        };
        let finding = match classify(&subject) {
            SubjectClass::Vietnamese => None,
            SubjectClass::Empty => Some(Finding::new(
                Rule::Subject,
                ReasonCode::SubjectEmpty,
                "Thư phải có tiêu đề bằng tiếng Việt: trích yếu văn bản đính kèm hoặc mô tả ngắn nội dung (Điều 7 \
                 Quy chế)",
                "The subject is empty: give it in Vietnamese, the summary of the attached document or a short \
                 description (Art. 7)",
            )),
            SubjectClass::NotVietnamese => Some(Finding::new(
                Rule::Subject,
                ReasonCode::SubjectNotVietnamese,
                "Tiêu đề thư phải viết bằng tiếng Việt (Điều 7 Quy chế); hãy ghi trích yếu hoặc mô tả ngắn bằng \
                 tiếng Việt",
                "The subject must be in Vietnamese (Art. 7); write the summary or a short description in Vietnamese",
            )),
        };
        run.apply(Rule::Subject, finding)?;
    }

    if legacy_action == LegacyAction::Off {
        return Ok(None);
    }
    let Some(encoding) = encoding else {
        run.passed.push(Rule::LegacyEncoding);
        return Ok(None);
    };
    let finding = Finding::new(
        Rule::LegacyEncoding,
        ReasonCode::LegacyEncoding,
        format!(
            "Văn bản dùng bảng mã cũ {encoding}; hãy dùng bảng mã Unicode theo TCVN 6909:2001 (Điều 6 Quy chế), \
             ví dụ chuyển mã bằng Unikey"
        ),
        format!(
            "The text uses the legacy {encoding} encoding; use Unicode per TCVN 6909:2001 (Art. 6), e.g. convert \
             it with Unikey"
        ),
    );
    match legacy_action {
        LegacyAction::Off => Ok(None),
        LegacyAction::Tag => {
            run.findings.push(finding);
            Ok(None)
        }
        LegacyAction::Reject => Err(finding),
        // A signed message is never rewritten: the signature would break (RFC 8551
        // §3.1). The encoding is named instead.
        LegacyAction::Convert if walked.signed => {
            run.findings.push(finding);
            Ok(None)
        }
        LegacyAction::Convert => {
            run.findings.push(finding);
            let subject = match (&walked.subject, subject_legacy) {
                (Some(s), Some(enc)) => Some(legacy::convert(s, enc)),
                _ => None,
            };
            let parts = text_legacy
                .iter()
                .filter_map(|&(index, enc)| {
                    let part = walked.texts.get(index)?;
                    Some((index, legacy::convert(&part.text, enc)))
                })
                .collect();
            Ok(Some(Rewrite {
                encoding,
                subject,
                parts,
            }))
        }
    }
}

/// A message past a structure limit: refused under the dangerous-content rule.
fn too_complex(why: &'static str) -> Finding {
    Finding::new(
        Rule::DangerousContent,
        ReasonCode::MessageTooComplex,
        format!(
            "Thư có cấu trúc quá phức tạp để kiểm tra ({why}); hãy gửi trực tiếp các tệp, không lồng nhiều lớp"
        ),
        format!("The message is too complex to inspect ({why}); attach the files directly, without nesting"),
    )
}

/// Bytes as megabytes with one decimal, as officials read them.
fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// The finding for a file problem; `allowed` lists the allowed extensions.
fn problem_finding(problem: &Problem, allowed: &str) -> Finding {
    match problem {
        Problem::Dangerous { path, detected } => Finding::new(
            Rule::DangerousContent,
            ReasonCode::DangerousContent,
            format!(
                "Tệp \"{path}\" là chương trình hoặc mã lệnh ({detected}); không được gửi qua thư công vụ"
            ),
            format!("File \"{path}\" is a program or script ({detected}) and may not be sent"),
        ),
        Problem::NotAllowed { path, detected } => Finding::new(
            Rule::Formats,
            ReasonCode::FormatNotAllowed,
            format!(
                "Tệp \"{path}\" có định dạng {detected}, không thuộc các định dạng được phép ({allowed}, Điều 6 \
                 Quy chế); hãy chuyển sang định dạng được phép"
            ),
            format!(
                "File \"{path}\" is {detected}, not an allowed format (Art. 6: {allowed}); convert it to one"
            ),
        ),
        Problem::Mismatch {
            path,
            claimed,
            detected,
        } => Finding::new(
            Rule::Formats,
            ReasonCode::FormatMismatch,
            format!(
                "Tệp \"{path}\" có đuôi {claimed} nhưng nội dung là {detected}; hãy đặt đúng tên và định dạng"
            ),
            format!(
                "File \"{path}\" is named {claimed} but its content is {detected}; name and content must agree"
            ),
        ),
        Problem::Archive { path, why } => Finding::new(
            Rule::DangerousContent,
            ReasonCode::ArchiveTooComplex,
            format!("Không kiểm tra được tệp nén \"{path}\" ({why}); hãy gửi trực tiếp các tệp bên trong"),
            format!("Archive \"{path}\" cannot be inspected ({why}); attach the files directly"),
        ),
    }
}
