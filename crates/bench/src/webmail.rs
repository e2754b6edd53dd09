//! `webmail`: the webmail against IMAP on the same 20,000-message folder (issue 16).
//!
//! The folder `Bench` is filled over IMAP ([`crate::imap::fill_mailbox`]); then, `runs`
//! times each on a fresh connection (a new TLS session; the webmail's sign-in cookie
//! and the IMAP login are made before the clock starts), the same operations both
//! ways, timed from the request's first byte to the answer's last:
//!
//! | operation | webmail | IMAP (as Thunderbird does it) |
//! |---|---|---|
//! | first page, newest first | `GET /mail?f=Bench` (50 lines) | `SELECT Bench` + `FETCH n-49:n (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])` |
//! | first page by subject | `GET /mail?f=Bench&sort=subject&desc=0` | `SELECT` + `SORT (SUBJECT) UTF-8 ALL` + the same FETCH of the first 50 |
//! | search a subject word | `GET /mail?f=Bench&subject=kimcuong` | `SELECT` + `SEARCH SUBJECT kimcuong` |
//! | open one message | `GET /mail/message?f=Bench&uid=U` | `UID FETCH U (BODY[])` in the folder already selected |
//!
//! The webmail's answers are checked (the page names the window and the total), the
//! IMAP replies must be OK. Loopback only. A tiny HTTP/1.1 client over the same
//! rustls stack as the IMAP side: no second TLS implementation in the comparison.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::imap::{Session, Target, command, fill_mailbox, tls_session};
use crate::{Error, loopback};

/// One HTTP/1.1 connection over TLS with the webmail's cookies.
struct Http {
    stream: BufReader<TlsStream<TcpStream>>,
    host: String,
    cookies: Vec<(String, String)>,
}

/// An answer: status, `Location`, body.
struct Answer {
    status: u16,
    location: String,
    body: String,
}

impl Http {
    async fn connect(target: &Target, https: SocketAddr) -> Result<Http, Error> {
        let stream = target
            .connector
            .connect(
                rustls_pki_types::ServerName::try_from(target.server_name.clone())?,
                TcpStream::connect(loopback(https)?).await?,
            )
            .await?;
        Ok(Http {
            stream: BufReader::new(stream),
            host: format!("{}:{}", target.server_name, https.port()),
            cookies: Vec::new(),
        })
    }

    async fn request(&mut self, method: &str, path: &str, form: Option<&str>) -> Result<Answer, Error> {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if !cookie.is_empty() {
            request.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        if let Some(form) = form {
            request.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                form.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(form.unwrap_or_default());
        self.stream.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line.split(' ').nth(1).ok_or("no status")?.parse()?;
        let (mut length, mut chunked, mut location) = (0usize, false, String::new());
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse()?,
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "location" => location = value.to_owned(),
                "set-cookie" => {
                    if let Some((key, rest)) = value.split_once('=') {
                        let value = rest.split(';').next().unwrap_or_default().to_owned();
                        self.cookies.retain(|(k, _)| k != key);
                        self.cookies.push((key.to_owned(), value));
                    }
                }
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim(), 16)?;
                let mut chunk = vec![0; size + 2];
                self.stream.read_exact(&mut chunk).await?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else {
            body.resize(length, 0);
            self.stream.read_exact(&mut body).await?;
        }
        Ok(Answer {
            status,
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// Percent-encodes a form value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs in to the webmail; the cookies stay with the returned value.
async fn sign_in(target: &Target, https: SocketAddr) -> Result<Vec<(String, String)>, Error> {
    let mut http = Http::connect(target, https).await?;
    let form = http.request("GET", "/console/login?next=/", None).await?;
    let csrf = form
        .body
        .split_once("name=\"csrf\" value=\"")
        .and_then(|(_, rest)| rest.get(..64))
        .ok_or("no CSRF token on the sign-in page")?
        .to_owned();
    let body = format!(
        "csrf={csrf}&login={}&password={}&next=%2F",
        encode(&target.user),
        encode(&target.password)
    );
    let answer = http.request("POST", "/console/login", Some(&body)).await?;
    if answer.status != 303 || answer.location != "/" {
        return Err(format!("sign-in answered {} {}", answer.status, answer.location).into());
    }
    Ok(http.cookies)
}

fn median(samples: &mut [f64]) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[0], samples[samples.len() - 1])
}

/// The IMAP side of one operation, on a logged-in session; returns the check's
/// failure, if any.
async fn imap_operation(session: &mut Session, step: usize, messages: usize, uid: u32) -> Result<(), Error> {
    // Opening a message happens in a folder already open; the rest opens it.
    if step != 3 {
        command(session, "s", b"SELECT Bench").await?;
    }
    let page = format!(
        "FETCH {}:{} (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
        messages.saturating_sub(49).max(1),
        messages
    );
    match step {
        0 => {
            command(session, "f", page.as_bytes()).await?;
        }
        1 => {
            let (untagged, _) = command(session, "o", b"SORT (SUBJECT) UTF-8 ALL").await?;
            let sorted: Vec<&str> = untagged
                .iter()
                .find(|l| l.starts_with("* SORT"))
                .map(|l| l.split(' ').skip(2).take(50).collect())
                .unwrap_or_default();
            let fetch = format!(
                "FETCH {} (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
                sorted.join(",")
            );
            command(session, "f", fetch.as_bytes()).await?;
        }
        2 => {
            command(session, "q", b"SEARCH SUBJECT kimcuong").await?;
        }
        _ => {
            command(session, "b", format!("UID FETCH {uid} (BODY[])").as_bytes()).await?;
        }
    }
    Ok(())
}

pub async fn webmail_timings(
    target: Target,
    https: SocketAddr,
    messages: usize,
    runs: usize,
) -> Result<(), Error> {
    let target = Arc::new(target);
    fill_mailbox(&target, messages).await?;
    let cookies = sign_in(&target, https).await?;
    let uid = u32::try_from(messages / 2).unwrap_or(1).max(1);
    let first = format!("1–{} / {messages}", messages.min(50));
    let steps = [
        (
            "first page, newest first",
            "/mail?f=Bench".to_owned(),
            first.clone(),
        ),
        (
            "first page by subject",
            "/mail?f=Bench&sort=subject&desc=0".to_owned(),
            first,
        ),
        (
            "search a subject word",
            "/mail?f=Bench&subject=kimcuong".to_owned(),
            format!("/ {}", messages.div_ceil(1000)),
        ),
        (
            "open one message",
            format!("/mail/message?f=Bench&uid={uid}"),
            "Noi dung kiem tra tai.".to_owned(),
        ),
    ];
    let mut web: Vec<Vec<f64>> = vec![Vec::new(); steps.len()];
    let mut imap: Vec<Vec<f64>> = vec![Vec::new(); steps.len()];
    for _ in 0..runs {
        for (i, (_, path, expected)) in steps.iter().enumerate() {
            let mut http = Http::connect(&target, https).await?;
            http.cookies = cookies.clone();
            let started = Instant::now();
            let answer = http.request("GET", path, None).await?;
            web[i].push(started.elapsed().as_secs_f64() * 1000.0);
            if answer.status != 200 || !answer.body.contains(expected.as_str()) {
                return Err(format!("{path}: {} without {expected:?}", answer.status).into());
            }
            let mut session = tls_session(&target).await?;
            let login = format!("LOGIN \"{}\" \"{}\"", target.user, target.password);
            command(&mut session, "l", login.as_bytes()).await?;
            if i == 3 {
                command(&mut session, "s", b"SELECT Bench").await?;
            }
            let started = Instant::now();
            imap_operation(&mut session, i, messages, uid).await?;
            imap[i].push(started.elapsed().as_secs_f64() * 1000.0);
            command(&mut session, "z", b"LOGOUT").await?;
        }
    }
    println!("{messages} messages, median (min–max) of {runs} runs, ms:");
    println!("| operation | webmail | IMAP |");
    println!("|---|---|---|");
    for (i, (name, _, _)) in steps.iter().enumerate() {
        let (w, w_min, w_max) = median(&mut web[i]);
        let (m, m_min, m_max) = median(&mut imap[i]);
        println!("| {name} | {w:.1} ({w_min:.1}–{w_max:.1}) | {m:.1} ({m_min:.1}–{m_max:.1}) |");
    }
    Ok(())
}
