//! A login storm with the credential cache off (every login runs Argon2): the
//! resident size stays within the working memory of the checks allowed at once
//! (issue 11: 19 MiB allocated afresh per login, kept by the allocator, took a
//! server to 390 MB after 300 logins). One test in a binary of its own, so the
//! resident size it reads from `/proc/self/status` is this test's alone.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use congvu_directory::{CredentialCacheSettings, DefaultQuotas, Directory, Secret};
use congvu_store::SledStore;

/// Argon2 checks allowed at once, each 19 MiB.
const AT_ONCE: usize = 2;
const THREADS: usize = 16;
const LOGINS_PER_THREAD: usize = 3;

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn sixteen_threads_of_logins_keep_at_most_the_allowed_argon2_memory() {
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let directory = Directory::open(
        store.db(),
        store.clone(),
        "thanhhoa.gov.vn",
        DefaultQuotas::default(),
    )
    .unwrap()
    .with_password_checks(AT_ONCE)
    .with_credential_cache(CredentialCacheSettings {
        ttl: Duration::ZERO,
        entries: 0,
    });
    directory
        .add_agency("sttt", "Sở Thông tin và Truyền thông", None)
        .unwrap();
    let (tuan, _) = directory
        .add_person("sttt", "Nguyễn Anh Tuấn", None, None)
        .unwrap();
    let password = Secret::new("mật khẩu đúng".to_owned());
    directory.set_password(&tuan.address, &password).unwrap();
    let directory = Arc::new(directory);
    let before = rss_kb();
    let started = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let (directory, address, password) = (directory.clone(), tuan.address.clone(), password.clone());
            std::thread::spawn(move || {
                // One client address per thread: the throttle is not what is tested.
                let client = IpAddr::from([192, 0, 2, u8::try_from(i).unwrap()]);
                for _ in 0..LOGINS_PER_THREAD {
                    let ok = directory.authenticate_from(client, &address, &password).unwrap();
                    assert!(ok.is_some());
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let elapsed = started.elapsed();
    let grown = rss_kb().saturating_sub(before);
    let logins = THREADS * LOGINS_PER_THREAD;
    eprintln!(
        "{logins} Argon2 logins from {THREADS} threads, {AT_ONCE} at once: {:.1} logins/s, resident size +{grown} kB",
        logins as f64 / elapsed.as_secs_f64()
    );
    // The kept buffers, and room for the threads' stacks and the allocator.
    let bound_kb = (AT_ONCE as u64 + 1) * 19 * 1024;
    assert!(grown < bound_kb, "grew by {grown} kB, bound {bound_kb} kB");
}
