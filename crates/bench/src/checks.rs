//! `checks`: the time each end-of-DATA check takes per message, in process, with the
//! functions the SMTP session calls — `congvu_policy::evaluate`,
//! `congvu_smime::Verifier::verify` and `congvu_antivirus::Scanner::check` against a
//! running clamd on loopback — over the given message files, `--runs` times each.
//! Prints p50 and p99 per check and for the three together.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use congvu_antivirus::{AntivirusConfig, ClamdAddress, Decision, Scanner};
use congvu_policy::{MessageInput, Origin, PolicyConfig, Verdict, evaluate};
use congvu_smime::{SmimeConfig, Verifier};

use crate::Error;

pub struct Checks {
    pub messages: Vec<PathBuf>,
    pub clamd: ClamdAddress,
    pub ca_file: Option<PathBuf>,
    pub runs: usize,
}

/// The `q`-quantile (0..=1) of sorted durations, in milliseconds.
fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let index = ((sorted.len().saturating_sub(1)) as f64 * q).round() as usize;
    sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

pub async fn run(checks: Checks) -> Result<(), Error> {
    if let ClamdAddress::Tcp(addr) = &checks.clamd {
        crate::loopback(*addr)?;
    }
    let policy = PolicyConfig::default();
    let smime = Verifier::new(&SmimeConfig {
        ca_file: checks.ca_file.clone(),
    })?;
    let scanner = Scanner::from_config(&AntivirusConfig {
        clamd: Some(checks.clamd.clone()),
        ..AntivirusConfig::default()
    })
    .ok_or("no clamd address")?;
    scanner.ping().await?;
    println!("message                      bytes  check      p50 ms    p99 ms");
    for path in &checks.messages {
        let message = std::fs::read(path)?;
        let mut times: [Vec<Duration>; 4] = Default::default();
        for _ in 0..checks.runs {
            let started = Instant::now();
            let evaluation = evaluate(
                &MessageInput {
                    raw: &message,
                    origin: Origin::Submission,
                },
                &policy,
            );
            let policy_done = Instant::now();
            std::hint::black_box(smime.verify(&message, SystemTime::now()));
            let smime_done = Instant::now();
            let whole: [&[u8]; 1] = [&message];
            let files: Vec<[&[u8]; 1]> = evaluation.extracted.iter().map(|f| [f.data.as_slice()]).collect();
            let mut streams = vec![&whole[..]];
            streams.extend(files.iter().map(|f| &f[..]));
            let decision = scanner.check(&streams).await;
            let done = Instant::now();
            if let Verdict::Refuse(finding) = &evaluation.verdict {
                return Err(format!(
                    "{}: refused by the policy: {}",
                    path.display(),
                    finding.reason.as_str()
                )
                .into());
            }
            if !matches!(decision, Decision::Accept) {
                return Err(format!("{}: antivirus said {decision:?}", path.display()).into());
            }
            times[0].push(policy_done - started);
            times[1].push(smime_done - policy_done);
            times[2].push(done - smime_done);
            times[3].push(done - started);
        }
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let result = smime.verify(&message, SystemTime::now());
        for (label, mut samples) in ["policy", "s/mime", "clamd", "all three"].into_iter().zip(times) {
            samples.sort();
            println!(
                "{name:<24} {:>9}  {label:<9} {:>7.2}   {:>7.2}",
                message.len(),
                quantile(&samples, 0.5),
                quantile(&samples, 0.99)
            );
        }
        println!(
            "{name:<24}            smime={} ({})",
            result.result.as_str(),
            result.reason.as_str()
        );
    }
    Ok(())
}
