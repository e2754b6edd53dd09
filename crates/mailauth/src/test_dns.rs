//! An authoritative DNS responder on 127.0.0.1 answering from a table (feature
//! `test-dns`): tests point [`crate::Verifier`] — or the server's
//! `[inbound_auth] dns_servers` — at it, so that no test asks the machine's DNS.
//! [`TestKey`] signs test messages; [`dkim_result`] checks a signature, for the
//! tests of outbound signing (`congvu-relay`).
//!
//! UDP only; names without any record get NXDOMAIN, known names without a record of
//! the type asked get an empty answer (NODATA). It runs on its own thread, so that
//! blocking and async tests can use it alike, until it is dropped.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_resolver::proto::op::{Edns, Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, MX, TXT};
use hickory_resolver::proto::rr::{Name, RData, Record};
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::generate::DkimKeyPair;
use mail_auth::dkim::{DkimSigner, Done};

use crate::{InboundAuthConfig, Input, Verifier};

/// Records by lower-case name without the trailing dot.
#[derive(Clone, Debug, Default)]
pub struct Zone {
    records: HashMap<String, Vec<RData>>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Zone {
    pub fn new() -> Zone {
        Zone::default()
    }

    /// A TXT record; text over 255 bytes is split into several strings, as it is
    /// published (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    pub fn txt(mut self, name: &str, text: &str) -> Zone {
        let strings = text
            .as_bytes()
            .chunks(255)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        self.records
            .entry(key(name))
            .or_default()
            .push(RData::TXT(TXT::new(strings)));
        self
    }

    pub fn a(mut self, name: &str, ip: Ipv4Addr) -> Zone {
        self.records.entry(key(name)).or_default().push(RData::A(A(ip)));
        self
    }

    pub fn mx(mut self, name: &str, preference: u16, exchange: &str) -> Zone {
        let exchange = Name::from_ascii(format!("{}.", key(exchange))).expect("valid MX exchange");
        self.records
            .entry(key(name))
            .or_default()
            .push(RData::MX(MX::new(preference, exchange)));
        self
    }

    /// The reply to one query datagram; `None` for what is not a query.
    fn answer(&self, datagram: &[u8]) -> Option<Vec<u8>> {
        let request = Message::from_vec(datagram).ok()?;
        let query = request.queries.first()?.clone();
        let mut response = Message::response(request.metadata.id, request.metadata.op_code);
        response.metadata.authoritative = true;
        response.metadata.recursion_desired = request.metadata.recursion_desired;
        response.metadata.recursion_available = true;
        response.add_query(query.clone());
        if request.edns.is_some() {
            let mut edns = Edns::new();
            edns.set_max_payload(1232);
            response.set_edns(edns);
        }
        match self.records.get(&key(&query.name().to_ascii())) {
            None => response.metadata.response_code = ResponseCode::NXDomain,
            Some(records) => {
                for rdata in records.iter().filter(|r| r.record_type() == query.query_type()) {
                    response.add_answer(Record::from_rdata(query.name().clone(), 60, rdata.clone()));
                }
            }
        }
        response.to_vec().ok()
    }
}

/// The running responder; stops when dropped.
pub struct Responder {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Responder {
    /// Binds a free UDP port on 127.0.0.1 and answers from `zone`.
    pub fn start(zone: Zone) -> std::io::Result<Responder> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((len, from)) = socket.recv_from(&mut buffer) else {
                    continue;
                };
                if let Some(reply) = zone.answer(&buffer[..len]) {
                    let _ = socket.send_to(&reply, from);
                }
            }
        });
        Ok(Responder {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An Ed25519 DKIM key (RFC 8463) for a domain, selector `sel`: fast to make.
pub struct TestKey {
    domain: String,
    record: String,
    signer: DkimSigner<Ed25519Key, Done>,
}

impl TestKey {
    pub fn new(domain: &str) -> TestKey {
        let pair = DkimKeyPair::generate_ed25519().expect("Ed25519 key");
        let key = Ed25519Key::from_pkcs8_der(pair.private_key()).expect("fresh key parses");
        TestKey {
            domain: domain.to_owned(),
            record: format!("v=DKIM1; k=ed25519; p={}", pair.encoded_public_key()),
            signer: DkimSigner::from_key(key)
                .domain(domain.to_owned())
                .selector("sel")
                .headers(["From", "To", "Subject", "Date", "Message-ID"]),
        }
    }

    /// `zone` with the key's TXT record at `sel._domainkey.<domain>`.
    pub fn publish(&self, zone: Zone) -> Zone {
        zone.txt(&format!("sel._domainkey.{}", self.domain), &self.record)
    }

    /// The message with a `DKIM-Signature:` field on top (CRLF line ends expected).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature = self.signer.sign(message).expect("DKIM signing");
        [signature.to_header().as_bytes(), message].concat()
    }
}

/// The DKIM result keyword (`pass`, `fail`, `neutral`, `none`, …) of `message`,
/// checked by [`Verifier`] against `zone` served by a [`Responder`].
pub async fn dkim_result(zone: Zone, message: &[u8]) -> &'static str {
    let dns = Responder::start(zone).expect("test DNS responder");
    let config = InboundAuthConfig {
        dns_servers: vec![crate::DnsServer(dns.addr())],
        ..InboundAuthConfig::default()
    };
    let verifier = Verifier::new(&config, "verifier.test").expect("verifier");
    let outcome = verifier
        .check(&Input {
            message,
            peer: std::net::Ipv4Addr::LOCALHOST.into(),
            helo: "verifier.test",
            mail_from: "",
            is_local_domain: &|_| false,
        })
        .await;
    outcome.dkim
}
