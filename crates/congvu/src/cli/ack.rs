//! `congvu ack <agency-address> <message-id>`: the keeper acknowledges receipt of a
//! message to an agency mailbox (Art. 16.2.a) — an admin API call (`POST
//! /api/v1/acks`, see `admin/ack.rs`) that records who and when and sends the RFC
//! 8098 MDN to the message's sender.

use serde_json::{Value, json};

use super::client::{Call, CliError, execute};
use crate::config::Config;

pub fn ack(config: &Config, agency: &str, message_id: &str) -> Result<(), CliError> {
    let body = json!({ "agency": agency, "message_id": message_id });
    let answer: Value = execute(config, Call::post("/api/v1/acks", body))?;
    let notified = answer["notified"].as_str().unwrap_or("?");
    let id = answer["record"]["message_id"].as_str().unwrap_or(message_id);
    println!("đã tiếp nhận <{id}>, thư báo gửi tới {notified}");
    println!("acknowledged <{id}>, notification sent to {notified}");
    Ok(())
}
