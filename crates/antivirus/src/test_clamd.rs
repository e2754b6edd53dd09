//! A private clamd for tests (feature `test-clamd`): Debian's `/usr/sbin/clamd` (package
//! `clamav-daemon`) started on a free loopback port or a temporary unix socket, with a
//! one-signature database written here (the EICAR test file's MD5, a `.hdb`
//! signature), stopped when dropped. The system service and freshclam are never
//! touched.
//!
//! ```ignore
//! let Some(clamd) = TestClamd::start(Listen::Tcp) else { return }; // skipped: no clamd
//! let scanner = Scanner::from_config(&clamd.config()).unwrap();
//! let eicar = eicar();
//! assert!(matches!(scanner.check(&[&[&eicar]]).await, Decision::Refuse { .. }));
//! ```
//!
//! Without clamd installed, [`TestClamd::start`] prints a loud notice and returns
//! `None` so the test can return early, except with `CI=true` in the environment,
//! where it panics: CI installs `clamav-daemon` (`.ci/run`), so a missing clamd there
//! is a failure, not a skip.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::config::{AntivirusConfig, ClamdAddress};

/// Where Debian's `clamav-daemon` installs the daemon.
pub const CLAMD_BINARY: &str = "/usr/sbin/clamd";
/// The name clamd reports for the EICAR file with the database written here (clamd
/// adds `.UNOFFICIAL` to signatures outside its official databases).
pub const EICAR_SIGNATURE: &str = "Eicar-Test-Signature.UNOFFICIAL";
/// MD5 of [`eicar`] (its 68 bytes); the tests detecting EICAR prove it.
const EICAR_MD5: &str = "44d88612fea8a8f36de82e1278abb02f";
/// Time allowed for clamd to load its database and answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The EICAR anti-virus test file (68 bytes), assembled from two halves so that this
/// source file is not itself the test file for a scanner.
pub fn eicar() -> Vec<u8> {
    [
        r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR",
        "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    ]
    .concat()
    .into_bytes()
}

/// How the test clamd listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listen {
    /// A free port on 127.0.0.1.
    Tcp,
    /// `clamd.sock` in the test's temporary directory.
    Unix,
}

/// A running private clamd; killed when dropped.
#[derive(Debug)]
pub struct TestClamd {
    child: Child,
    address: ClamdAddress,
    directory: TempDir,
}

impl TestClamd {
    /// A clamd with the default `StreamMaxLength` of this helper (100 MiB); `None`
    /// when clamd is not installed (see the module documentation).
    pub fn start(listen: Listen) -> Option<TestClamd> {
        TestClamd::start_with(listen, 100 * 1024 * 1024)
    }

    /// A clamd refusing streams over `stream_max_length` bytes.
    ///
    /// # Panics
    /// When clamd is missing and `CI=true`, or when it does not start.
    pub fn start_with(listen: Listen, stream_max_length: u64) -> Option<TestClamd> {
        if !Path::new(CLAMD_BINARY).exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{CLAMD_BINARY} is missing and CI=true: install Debian's clamav-daemon (.ci/run does)"
            );
            eprintln!(
                "\n*** SKIPPED: {CLAMD_BINARY} is missing, the antivirus test did not run. \
                 Install it: apt-get install --no-install-recommends clamav-daemon ***\n"
            );
            return None;
        }
        let directory = tempfile::tempdir().expect("temporary directory for clamd");
        let database = directory.path().join("db");
        fs::create_dir(&database).expect("database directory");
        let eicar_length = eicar().len();
        fs::write(
            database.join("eicar.hdb"),
            format!("{EICAR_MD5}:{eicar_length}:Eicar-Test-Signature\n"),
        )
        .expect("signature database");
        let (address, listen_lines) = match listen {
            Listen::Tcp => {
                let port = TcpListener::bind("127.0.0.1:0")
                    .and_then(|listener| listener.local_addr())
                    .expect("a free loopback port")
                    .port();
                (
                    ClamdAddress::Tcp(([127, 0, 0, 1], port).into()),
                    format!("TCPSocket {port}\nTCPAddr 127.0.0.1\n"),
                )
            }
            Listen::Unix => {
                let socket = directory.path().join("clamd.sock");
                let line = format!("LocalSocket {}\n", socket.display());
                (ClamdAddress::Unix(socket), line)
            }
        };
        // The same settings as /work/shared/interop/clamd-up.sh; clamd.conf(5).
        let conf = directory.path().join("clamd.conf");
        fs::write(
            &conf,
            format!(
                "Foreground yes\n{listen_lines}DatabaseDirectory {}\nTemporaryDirectory {}\n\
                 StreamMaxLength {stream_max_length}\nScanArchive yes\nScanMail yes\n",
                database.display(),
                directory.path().display(),
            ),
        )
        .expect("clamd.conf");
        let output = File::create(directory.path().join("clamd.out")).expect("clamd.out");
        let child = Command::new(CLAMD_BINARY)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("clamd.out"))
            .stderr(output)
            .spawn()
            .expect("clamd starts");
        let mut clamd = TestClamd {
            child,
            address,
            directory,
        };
        clamd.wait_for_pong();
        Some(clamd)
    }

    fn wait_for_pong(&mut self) {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if self.answers_ping() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("clamd exited ({status}) before answering:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "clamd did not answer PING within {START_TIMEOUT:?}:\n{}",
            self.output()
        );
    }

    fn answers_ping(&self) -> bool {
        fn ping(mut socket: impl Read + Write) -> std::io::Result<Vec<u8>> {
            socket.write_all(b"zPING\0")?;
            let mut reply = Vec::new();
            socket.read_to_end(&mut reply)?;
            Ok(reply)
        }
        let reply = match &self.address {
            ClamdAddress::Tcp(address) => TcpStream::connect(address).and_then(ping),
            ClamdAddress::Unix(path) => UnixStream::connect(path).and_then(ping),
        };
        reply.is_ok_and(|reply| crate::reply::parse_pong(&reply).is_ok())
    }

    fn output(&self) -> String {
        fs::read_to_string(self.directory.path().join("clamd.out")).unwrap_or_default()
    }

    pub fn address(&self) -> &ClamdAddress {
        &self.address
    }

    /// `[antivirus]` pointing at this clamd, every other key at its default.
    pub fn config(&self) -> AntivirusConfig {
        AntivirusConfig {
            clamd: Some(self.address.clone()),
            ..AntivirusConfig::default()
        }
    }

    /// Kills clamd now (for tests of an unreachable clamd); the address stays.
    pub fn stop(&mut self) {
        // Already gone is as good as killed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestClamd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A MIME message from `from` to `to` with a Vietnamese subject and one attachment,
/// base64-encoded (clamd's ScanMail decodes it).
pub fn message_with_attachment(from: &str, to: &str, name: &str, content: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Tài liệu\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGửi anh tài liệu.\r\n\
         --b1\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--b1--\r\n"
    )
    .into_bytes()
}

/// A zip archive holding one stored (uncompressed) file (APPNOTE.TXT §4.3).
pub fn stored_zip(name: &str, content: &[u8]) -> Vec<u8> {
    let crc = crc32(content).to_le_bytes();
    let size = u32::try_from(content.len()).unwrap().to_le_bytes();
    let name_length = u16::try_from(name.len()).unwrap().to_le_bytes();
    let common = [
        &[20, 0, 0, 0, 0, 0, 0, 0, 0, 0][..], // version, flags, stored, time, date
        &crc,
        &size,
        &size,
        &name_length,
        &[0, 0],
    ]
    .concat();
    let local = [&b"PK\x03\x04"[..], &common, name.as_bytes(), content].concat();
    let central = [
        &b"PK\x01\x02\x14\x00"[..],
        &common,
        &[0; 14], // comment length, disk, attributes (2 + 4), local header offset 0
        name.as_bytes(),
    ]
    .concat();
    let count = [1, 0];
    let end = [
        &b"PK\x05\x06\0\0\0\0"[..],
        &count,
        &count,
        &u32::try_from(central.len()).unwrap().to_le_bytes(),
        &u32::try_from(local.len()).unwrap().to_le_bytes(),
        &[0, 0],
    ]
    .concat();
    [local, central, end].concat()
}

/// CRC-32 (ISO 3309), as zip headers carry it.
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &byte| {
        (0..8).fold(crc ^ u32::from(byte), |crc, _| {
            (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg())
        })
    })
}
