//! `congvu dkim generate`: a DKIM signing key written into the data directory and
//! the TXT record to publish; it needs no server.

use super::client::CliError;
use crate::config::Config;

pub fn dkim_generate(config: &Config, domain: &str, selector: &str) -> Result<(), CliError> {
    let (path, record) = congvu_relay::dkim::generate(&config.server.data_dir, domain, selector)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    println!("private key written to {}", path.display());
    println!("publish this TXT record, then add the domain to [dkim] domains (selector {selector:?}):");
    println!();
    // A TXT string holds at most 255 bytes (RFC 1035 §3.3.14); a 2048-bit key needs
    // several, which resolvers join (RFC 6376 §3.6.2.2).
    let strings: Vec<String> = record
        .as_bytes()
        .chunks(250)
        .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk)))
        .collect();
    println!("{selector}._domainkey.{domain}. IN TXT ( {} )", strings.join(" "));
    Ok(())
}
