//! A scripted SMTP destination on 127.0.0.1 for the relay tests: it records what it
//! receives, and from whom.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The scripted destination: answers RCPT with `rcpt_reply` (250 when `None`),
/// waits `delay` before accepting data, records the Message-ID of each message.
#[derive(Default)]
pub struct Script {
    pub rcpt_reply: Option<&'static str>,
    pub delay: Duration,
    pub received: Vec<String>,
    /// The EHLO name of the client that sent each message of `received`.
    pub received_from: Vec<String>,
}

pub fn fake_destination() -> (SocketAddr, Arc<Mutex<Script>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let script = Arc::new(Mutex::new(Script::default()));
    let shared = script.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let script = shared.clone();
            std::thread::spawn(move || {
                let _ = fake_session(stream, &script);
            });
        }
    });
    (addr, script)
}

pub fn fake_session(stream: TcpStream, script: &Mutex<Script>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 fake ESMTP\r\n")?;
    let mut accepted = 0;
    let mut client = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply = match command.as_str() {
            "EHLO" => {
                client = line[4..].trim().to_owned();
                "250-fake\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".to_string()
            }
            "MAIL" => {
                accepted = 0;
                "250 ok\r\n".into()
            }
            "RCPT" => match script.lock().unwrap().rcpt_reply {
                Some(reply) => format!("{reply}\r\n"),
                None => {
                    accepted += 1;
                    "250 ok\r\n".into()
                }
            },
            "DATA" if accepted == 0 => "554 no valid recipients\r\n".into(),
            "DATA" => {
                out.write_all(b"354 go\r\n")?;
                let mut message_id = String::new();
                loop {
                    let mut data = String::new();
                    if lines.read_line(&mut data)? == 0 {
                        return Ok(());
                    }
                    if data == ".\r\n" {
                        break;
                    }
                    if let Some(id) = data.strip_prefix("Message-ID:") {
                        message_id = id.trim().to_string();
                    }
                }
                let delay = script.lock().unwrap().delay;
                std::thread::sleep(delay);
                let mut script = script.lock().unwrap();
                script.received.push(message_id);
                script.received_from.push(client.clone());
                "250 queued\r\n".into()
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => "250 ok\r\n".into(),
        };
        out.write_all(reply.as_bytes())?;
    }
}
