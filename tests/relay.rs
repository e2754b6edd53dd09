//! Outbound relay end to end: two congvu instances relaying through a configured
//! route, a scripted destination that answers 4xx then 5xx, and `kill -9` during the
//! delivery of 500 messages (delivered at least once, none lost), and a private
//! instance of Debian's Postfix as the destination. No test asks real DNS: every
//! destination is a `[[routes]]` next hop on 127.0.0.1.

mod common;

use std::collections::{HashMap, HashSet};

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::sink::{Script, fake_destination, fake_session};
use common::*;

/// A fast retry schedule so retries happen within a test. The sweep is long: mail
/// leaves because submission wakes the relay, retries when they are due (issue 13).
const FAST_QUEUE: &str = "
[queue]
scan_interval_secs = 60
retry_initial_secs = 1
retry_max_secs = 2
connect_timeout_secs = 5
reply_timeout_secs = 10
";

/// A server configured like the harness's, for `domain`, relaying `routes`.
fn server(domain: &str, extra: &str) -> (tempfile::TempDir, Server) {
    let tempdir = tempfile::tempdir().unwrap();
    let server = Server::configure(tempdir.path().to_owned(), Ports::free());
    let config = std::fs::read_to_string(&server.config_path).unwrap();
    let config = config
        .replace(
            &format!("primary = \"{DOMAIN}\""),
            &format!("primary = \"{domain}\""),
        )
        .replace("[queue]\nenabled = false\n", "");
    assert!(
        !config.contains("[queue]"),
        "the harness's [queue] section is replaced"
    );
    std::fs::write(&server.config_path, format!("{config}\n{FAST_QUEUE}\n{extra}")).unwrap();
    (tempdir, server)
}

/// A port where nothing listens, outside the kernel's ephemeral range (32768–60999)
/// so that no `bind(0)` of a parallel test (`Ports::free`, fake servers) gets it
/// before this test starts its server there.
fn stopped_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

fn route(domain: &str, port: u16) -> String {
    format!(
        "[[routes]]\ndomains = [\"{domain}\"]\nnext_hop = \"127.0.0.1:{port}\"\ntls = \"opportunistic\"\n"
    )
}

/// Official `from` (password A) sends to `to` through submission.
fn send(server: &Server, from: &str, to: &str, message_id: &str) -> serde_json::Value {
    submit(server, from, PASSWORD_A, from, to, &["--message-id", message_id])
}

/// The INBOX of `user`, each message's raw text.
fn inbox(server: &Server, user: &str, password: &str) -> Vec<String> {
    let out_dir = tempfile::tempdir().unwrap();
    fetch_inbox(server, user, password, out_dir.path())
        .iter()
        .map(|message| String::from_utf8_lossy(message).into_owned())
        .collect()
}

fn wait_for<T>(what: &str, seconds: u64, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn official_of_a_reaches_official_of_b_through_a_route_signed_with_dkim() {
    let (_b_dir, mut b) = server("bacninh.gov.vn", "");
    b.spawn();
    let (_b_agency, _b1, b2) = b.provision();

    let (_a_dir, mut a) = server(
        DOMAIN,
        &format!(
            "{}\n[dkim]\ndomains = [\"{DOMAIN}\"]\nselector = \"s2026\"\n",
            route("bacninh.gov.vn", b.ports.smtp)
        ),
    );
    let record = a.cli_ok(
        &["dkim", "generate", "--domain", DOMAIN, "--selector", "s2026"],
        None,
    );
    assert!(
        record.contains("s2026._domainkey.thanhhoa.gov.vn. IN TXT") && record.contains("v=DKIM1; k=rsa; p=")
    );
    a.spawn();
    let (_agency, a1, _a2) = a.provision();

    let started = Instant::now();
    let sent = send(&a, &a1, &b2, "<relay-1@test.thanhhoa.gov.vn>");
    assert_eq!(sent["ok"], true, "{sent}");
    let message = wait_for("the message at B", 30, || {
        inbox(&b, &b2, PASSWORD_B)
            .into_iter()
            .find(|m| m.contains("<relay-1@test.thanhhoa.gov.vn>"))
    });
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "relayed after {took:?}: woken by submission, not the 60 s sweep"
    );
    assert!(
        message.contains("DKIM-Signature:") && message.contains("d=thanhhoa.gov.vn"),
        "{message}"
    );
    assert!(message.contains("s=s2026"));
    assert_eq!(
        dkim_result(&record, "s2026._domainkey.thanhhoa.gov.vn.", &message),
        "pass"
    );
    wait_for("an empty queue at A", 10, || {
        a.cli_ok(&["queue", "list"], None)
            .contains("0 message(s)")
            .then_some(())
    });
}

/// A private Postfix instance of this test: its own configuration, queue and log in
/// a temporary directory, smtpd on a loopback port, mail for `postfix.test`
/// delivered by the `virtual` transport into Maildirs there. Stopped when dropped
/// (`postfix stop`, then the foreground master is killed if still there).
struct PrivatePostfix {
    dir: tempfile::TempDir,
    port: u16,
    master: std::process::Child,
}

impl PrivatePostfix {
    /// `None` when Postfix cannot run here (not installed, or not root); under
    /// `CI=true` that is a failure instead.
    fn start() -> Option<PrivatePostfix> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let installed = std::path::Path::new("/usr/sbin/postfix").exists();
        if !(root && installed) {
            let why = format!("Postfix installed: {installed}, running as root: {root}");
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "the Postfix interop test cannot run in CI ({why}); .ci/run installs postfix"
            );
            eprintln!("SKIPPED: {why}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        // The `virtual` delivery agent runs as nobody: it must reach mail/.
        for (path, mode) in [("", 0o755), ("/mail", 0o777), ("/etc", 0o755), ("/spool", 0o755)] {
            let path = format!("{d}{path}");
            std::fs::create_dir_all(&path).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let port = stopped_port().port();
        std::fs::write(
            format!("{d}/etc/main.cf"),
            format!(
                "compatibility_level = 3.6\nqueue_directory = {d}/spool\ndata_directory = {d}/data\n\
                 myhostname = mx.postfix.test\nmydomain = postfix.test\nmyorigin = postfix.test\n\
                 inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmydestination =\n\
                 mynetworks = 127.0.0.0/8\nalias_maps =\nalias_database =\n\
                 smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n\
                 virtual_mailbox_domains = postfix.test\nvirtual_mailbox_base = {d}/mail\n\
                 virtual_mailbox_maps = texthash:{d}/etc/vmailbox\n\
                 virtual_uid_maps = static:65534\nvirtual_gid_maps = static:65534\n\
                 maillog_file_prefixes = {d}\nmaillog_file = {d}/maillog\nsyslog_name = postfix-congvu-test\n"
            ),
        )
        .unwrap();
        std::fs::write(format!("{d}/etc/vmailbox"), "vanthu@postfix.test vanthu/\n").unwrap();
        let services = [
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "virtual unix - n n - - virtual",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ];
        std::fs::write(
            format!("{d}/etc/master.cf"),
            format!("127.0.0.1:{port} inet n - n - - smtpd\n{}\n", services.join("\n")),
        )
        .unwrap();
        // `check` creates the queue directories with Postfix's owners and modes.
        let check = Command::new("/usr/sbin/postfix")
            .args(["-c", &format!("{d}/etc"), "check"])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "postfix check: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let master = Command::new("/usr/sbin/postfix")
            .args(["-c", &format!("{d}/etc"), "start-fg"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let postfix = PrivatePostfix { dir, port, master };
        wait_for("the private Postfix's smtpd", 30, || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Some(postfix)
    }

    fn maildir(&self, user: &str) -> std::path::PathBuf {
        self.dir.path().join("mail").join(user)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }
}

impl Drop for PrivatePostfix {
    fn drop(&mut self) {
        let _ = Command::new("/usr/sbin/postfix")
            .args(["-c", &self.dir.path().join("etc").display().to_string(), "stop"])
            .output();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.master.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.master.kill();
        let _ = self.master.wait();
    }
}

/// Debian's Postfix, a private instance started by the test, receives a message
/// relayed through a route and stores it (its `virtual` agent writes the Maildir).
#[test]
fn delivers_to_debians_postfix() {
    let Some(postfix) = PrivatePostfix::start() else {
        return;
    };
    let (_dir, mut a) = server(DOMAIN, &route("postfix.test", postfix.port));
    a.spawn();
    let (_agency, a1, _a2) = a.provision();
    let id = format!("<postfix-{}@test.thanhhoa.gov.vn>", std::process::id());
    assert_eq!(send(&a, &a1, "vanthu@postfix.test", &id)["ok"], true);
    let maildir = postfix.maildir("vanthu");
    let probe = || {
        ["new", "cur"].iter().find_map(|sub| {
            std::fs::read_dir(maildir.join(sub))
                .ok()?
                .flatten()
                .find(|f| std::fs::read_to_string(f.path()).is_ok_and(|text| text.contains(&id)))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while probe().is_none() {
        assert!(
            Instant::now() < deadline,
            "not delivered by Postfix within 60 s; its log:\n{}",
            postfix.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        postfix.log().contains("status=sent (delivered to maildir)"),
        "{}",
        postfix.log()
    );
    wait_for("an empty queue", 10, || {
        a.cli_ok(&["queue", "list"], None)
            .contains("0 message(s)")
            .then_some(())
    });
}

/// Verifies the DKIM signature of `message` (as stored at the destination) against
/// the TXT record printed by `congvu dkim generate`, published at `name` by a DNS
/// responder on 127.0.0.1; the result's name (`pass`, …).
fn dkim_result(printed: &str, name: &str, message: &str) -> String {
    use congvu_mailauth::test_dns::{Zone, dkim_result};
    // The record is printed as quoted strings of at most 250 bytes: join them.
    let record: String = printed
        .lines()
        .filter(|l| l.contains("IN TXT"))
        .flat_map(|l| l.split('"').skip(1).step_by(2))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(dkim_result(Zone::new().txt(name, &record), message.as_bytes()))
        .to_owned()
}

#[test]
fn temporary_failures_are_retried_and_permanent_ones_bounce_to_the_senders_inbox() {
    let (addr, script) = fake_destination();
    script.lock().unwrap().rcpt_reply = Some("451 4.2.1 try again later");
    // A port where nothing listens (a stopped server).
    let stopped = stopped_port();
    let routes = format!(
        "{}\n{}",
        route("congty.vn", addr.port()),
        route("dong.vn", stopped.port())
    );
    let (_dir, mut a) = server(DOMAIN, &routes);
    a.spawn();
    let (_agency, a1, _a2) = a.provision();

    assert_eq!(
        send(&a, &a1, "giamdoc@congty.vn", "<retry@test.thanhhoa.gov.vn>")["ok"],
        true
    );
    // 4xx: kept, retried (attempts grow), nothing bounced.
    wait_for("two deferred attempts", 20, || {
        let list = a.cli_ok(&["queue", "list"], None);
        let attempts: u32 = list.lines().nth(1)?.split_whitespace().nth(2)?.parse().ok()?;
        (attempts >= 2).then_some(())
    });
    let shown = a.cli_ok(&["queue", "show", "1"], None);
    assert!(
        shown.contains("451 4.2.1") && shown.contains("giamdoc@congty.vn"),
        "{shown}"
    );
    assert!(inbox(&a, &a1, PASSWORD_A).is_empty(), "no bounce for 4xx");

    // Now the destination refuses for good: one bounce in the sender's INBOX.
    script.lock().unwrap().rcpt_reply = Some("550 5.1.1 no such user");
    a.cli_ok(&["queue", "retry", "1"], None);
    let bounce = wait_for("the bounce", 20, || inbox(&a, &a1, PASSWORD_A).into_iter().next());
    assert!(bounce.contains("report-type=delivery-status"), "{bounce}");
    assert!(
        bounce.contains("Final-Recipient: rfc822; giamdoc@congty.vn") && bounce.contains("Status: 5.1.1")
    );
    assert!(
        bounce.contains("<retry@test.thanhhoa.gov.vn>"),
        "original headers attached"
    );
    assert!(a.cli_ok(&["queue", "list"], None).contains("0 message(s)"));
    assert!(script.lock().unwrap().received.is_empty());

    // A stopped destination: refused connections are retried; once it is back, the
    // message is delivered.
    assert_eq!(
        send(&a, &a1, "chanhvanphong@dong.vn", "<back@test.thanhhoa.gov.vn>")["ok"],
        true
    );
    wait_for("a refused attempt", 20, || {
        a.cli_ok(&["queue", "show", "2"], None)
            .contains("4.4.1")
            .then_some(())
    });
    let back = TcpListener::bind(stopped).unwrap();
    let script = Arc::new(Mutex::new(Script::default()));
    let shared = script.clone();
    std::thread::spawn(move || {
        for stream in back.incoming().flatten() {
            let _ = fake_session(stream, &shared);
        }
    });
    wait_for("delivery once the destination is back", 30, || {
        let received = script.lock().unwrap().received.clone();
        (received == ["<back@test.thanhhoa.gov.vn>"]).then_some(())
    });
    wait_for("an empty queue", 10, || {
        a.cli_ok(&["queue", "list"], None)
            .contains("0 message(s)")
            .then_some(())
    });
    // An operator deletes a message that keeps being deferred: gone, no report.
    script.lock().unwrap().rcpt_reply = Some("451 4.2.1 try again later");
    assert_eq!(
        send(&a, &a1, "chanhvanphong@dong.vn", "<deleted@test.thanhhoa.gov.vn>")["ok"],
        true
    );
    wait_for("a deferred attempt", 20, || {
        a.cli_ok(&["queue", "show", "3"], None)
            .contains("451")
            .then_some(())
    });
    assert!(
        a.cli_ok(&["queue", "delete", "3"], None)
            .contains("queue entry 3 deleted")
    );
    assert!(a.cli_ok(&["queue", "list"], None).contains("0 message(s)"));
    let missing = a.cli(&["queue", "show", "3"], None);
    assert!(
        !missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("no queue entry 3")
    );
    assert_eq!(inbox(&a, &a1, PASSWORD_A).len(), 1, "only the earlier bounce");
}

#[test]
fn kill_9_during_outbound_delivery_loses_nothing() {
    const CLIENTS: usize = 10;
    const PER_CLIENT: usize = 50;
    let (addr, script) = fake_destination();
    // Hold every message in the queue while it fills.
    script.lock().unwrap().rcpt_reply = Some("451 4.3.2 not yet");
    let (_dir, mut a) = server(DOMAIN, &route("congty.vn", addr.port()));
    a.spawn();
    let (_agency, a1, _a2) = a.provision();
    let acked_path = a.dir.join("acked.txt");
    let flood = Command::new("python3")
        .arg(repo_root().join("tests/py/mailclient.py"))
        .args(submission_args(
            &a,
            "flood",
            &a1,
            PASSWORD_A,
            &a1,
            "vanthu@congty.vn",
        ))
        .args(["--clients", &CLIENTS.to_string()])
        .args(["--count", &PER_CLIENT.to_string(), "--seconds", "300"])
        .args(["--acked", &acked_path.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("python3");
    assert!(
        flood.status.success(),
        "{}",
        String::from_utf8_lossy(&flood.stderr)
    );
    let acked: HashSet<String> = std::fs::read_to_string(&acked_path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(acked.len(), CLIENTS * PER_CLIENT, "every submission acknowledged");

    // Open the gate, slowly, and pull the plug part-way through.
    {
        let mut script = script.lock().unwrap();
        script.rcpt_reply = None;
        script.delay = Duration::from_millis(20);
    }
    wait_for("a part of the queue delivered", 120, || {
        (script.lock().unwrap().received.len() >= 100).then_some(())
    });
    a.kill9();
    let at_crash = script.lock().unwrap().received.len();
    script.lock().unwrap().delay = Duration::ZERO;
    a.spawn();
    wait_for("every acknowledged message delivered", 180, || {
        let received: HashSet<String> = script.lock().unwrap().received.iter().cloned().collect();
        acked.is_subset(&received).then_some(())
    });
    wait_for("an empty queue", 30, || {
        a.cli_ok(&["queue", "list"], None)
            .contains("0 message(s)")
            .then_some(())
    });
    let received = script.lock().unwrap().received.clone();
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for id in &received {
        *counts.entry(id).or_default() += 1;
    }
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    println!(
        "kill -9 relay: {} acknowledged, {} delivered before the crash, {} deliveries in all, {} duplicates, 0 lost",
        acked.len(),
        at_crash,
        received.len(),
        duplicates
    );
    assert!(
        received.iter().all(|id| acked.contains(id)),
        "nothing delivered that was not acknowledged"
    );
    // Only deliveries in flight at the crash (4 connections) or not yet recorded can repeat.
    assert!(
        duplicates <= 50,
        "{duplicates} duplicates: far more than were in flight"
    );
}
