//! A private PostgreSQL cluster for tests (feature `test-postgres`): Debian's
//! server binaries (`postgresql`, which `.ci/run` installs) run `initdb` in a
//! temporary directory and `pg_ctl` on a free loopback port; the cluster is stopped
//! and its directory removed when the value is dropped. The system service is never
//! touched. As root (CI), the cluster runs as the `postgres` user: `initdb` refuses
//! root.
//!
//! `fsync` is off: a test cluster that loses its data in a machine crash loses
//! nothing a test needs, and every test runs much faster. A committed transaction
//! still survives the death of any congvu process, which is what the tests kill.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running private cluster with a database `congvu`.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    port: u16,
}

/// The newest installed server's binaries, if any.
fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort_by_key(|path| {
        path.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

impl Cluster {
    /// A cluster for a test, or `None` (the test then skips, saying so) when
    /// PostgreSQL's server is not installed; under `CI` that is a failure instead:
    /// `.ci/run` installs it.
    pub fn for_test() -> Option<Cluster> {
        let cluster = Cluster::start();
        if cluster.is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL's server is not installed: .ci/run installs postgresql"
            );
            eprintln!("SKIPPED: PostgreSQL not installed");
        }
        cluster
    }

    /// Starts a cluster; `None` when PostgreSQL's server is not installed (the
    /// caller decides whether that may be skipped: under `CI` it may not).
    pub fn start() -> Option<Cluster> {
        let bin = server_binaries()?;
        let dir = tempfile::Builder::new().prefix("congvu-pg").tempdir().ok()?;
        let as_postgres = is_root();
        if as_postgres {
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            assert!(owned, "chown of the test cluster's directory to postgres failed");
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        let cluster = Cluster {
            dir,
            bin,
            as_postgres,
            port,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str()?,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
            ],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            cluster.dir.path().display()
        );
        let log = cluster.dir.path().join("log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str()?,
                "-l",
                log.to_str()?,
                "-w",
                "-t",
                "60",
                "-o",
                &options,
                "start",
            ],
        );
        let admin = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .expect("connect to the test cluster");
            let driver = tokio::spawn(connection);
            client
                .batch_execute("CREATE DATABASE congvu")
                .await
                .expect("create the test database");
            drop(client);
            let _ = driver.await;
        });
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server's programs (as `postgres` when we are root); panics
    /// with its output when it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let output = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&path)
                .args(args)
                .current_dir(self.dir.path())
                .output()
        } else {
            Command::new(&path)
                .args(args)
                .current_dir(self.dir.path())
                .output()
        };
        match output {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(error) => panic!("{} could not run: {error}", path.display()),
        }
    }

    /// The database's URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/congvu", self.port)
    }

    /// The directory the cluster lives in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let path = self.bin.join("pg_ctl");
        let args = ["-D", data.to_str().unwrap_or_default(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&path)
                .args(args)
                .output()
        } else {
            Command::new(&path).args(args).output()
        };
    }
}
