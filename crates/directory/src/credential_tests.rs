//! The verified-credential cache, Argon2's working memory and revocations, against
//! the real sled store: what a login storm and an administrator's change do.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use congvu_store::SledStore;
use tempfile::TempDir;

use crate::{
    CredentialCacheSettings, DefaultQuotas, Directory, DirectoryError, Secret, Settings, ThrottleLimits,
};

const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10));
const PASSWORD: &str = "mật khẩu đúng";

struct Fixture {
    dir: Directory,
    tuan: String,
    hoa: String,
    _store: Arc<SledStore>,
    _data: TempDir,
}

fn fixture(cache: CredentialCacheSettings) -> Fixture {
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let dir = Directory::open(
        store.db(),
        store.clone(),
        "thanhhoa.gov.vn",
        DefaultQuotas::default(),
    )
    .unwrap()
    .with_credential_cache(cache);
    dir.add_agency("sttt", "Sở Thông tin và Truyền thông", None)
        .unwrap();
    let mut addresses = Vec::new();
    for name in ["Nguyễn Anh Tuấn", "Lê Thị Hoa"] {
        let (record, _) = dir.add_person("sttt", name, None, None).unwrap();
        dir.set_password(&record.address, &secret(PASSWORD)).unwrap();
        addresses.push(record.address);
    }
    let hoa = addresses.pop().unwrap();
    let tuan = addresses.pop().unwrap();
    Fixture {
        dir,
        tuan,
        hoa,
        _store: store,
        _data: data,
    }
}

fn secret(s: &str) -> Secret<String> {
    Secret::new(s.to_owned())
}

impl Fixture {
    fn login(&self, address: &str, password: &str) -> bool {
        self.dir
            .authenticate_from(CLIENT, address, &secret(password))
            .unwrap()
            .is_some()
    }

    /// Argon2 runs so far.
    fn runs(&self) -> u64 {
        self.dir.scratch.runs()
    }
}

#[test]
fn a_verified_password_skips_argon2_until_changed_or_disabled() {
    let f = fixture(CredentialCacheSettings::default());
    let runs = f.runs();
    assert!(f.login(&f.tuan, PASSWORD));
    assert_eq!(f.runs(), runs + 1, "first login: Argon2");
    // Any login form of the account shares the entry (it is keyed by account).
    assert!(f.login(&f.tuan, PASSWORD));
    assert!(f.login(f.tuan.split('@').next().unwrap(), PASSWORD));
    assert_eq!(f.runs(), runs + 1, "cache hits");
    // A wrong password is never a hit, and never remembered.
    assert!(!f.login(&f.tuan, "mật khẩu sai"));
    assert!(!f.login(&f.tuan, "mật khẩu sai"));
    assert_eq!(f.runs(), runs + 3);

    // Password change: the old one is forgotten at once.
    f.dir.set_password(&f.tuan, &secret("mật khẩu mới 2024")).unwrap();
    let runs = f.runs();
    assert!(!f.login(&f.tuan, PASSWORD));
    assert!(f.login(&f.tuan, "mật khẩu mới 2024"));
    assert!(f.login(&f.tuan, "mật khẩu mới 2024"));
    assert_eq!(f.runs(), runs + 2);

    // Disabled: refused though cached; enabled again: verified afresh.
    assert!(f.login(&f.hoa, PASSWORD));
    f.dir.set_disabled(&f.hoa, true, "admin").unwrap();
    assert!(!f.login(&f.hoa, PASSWORD));
    f.dir.set_disabled(&f.hoa, false, "admin").unwrap();
    let runs = f.runs();
    assert!(f.login(&f.hoa, PASSWORD));
    assert_eq!(f.runs(), runs + 1, "the disable forgot the entry");
    // The other account's entry survived both.
    let runs = f.runs();
    assert!(f.login(&f.tuan, "mật khẩu mới 2024"));
    assert_eq!(f.runs(), runs);
}

#[test]
fn a_throttled_client_gets_no_cache_lookup() {
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let settings = Settings {
        login_throttle: ThrottleLimits {
            per_login: 2,
            per_address: 100,
            window: Duration::from_secs(600),
        },
        ..Settings::default()
    };
    let dir = Directory::open(
        store.db(),
        store.clone(),
        "thanhhoa.gov.vn",
        DefaultQuotas::default(),
    )
    .unwrap()
    .with_settings(settings)
    .unwrap();
    dir.add_agency("sttt", "Sở Thông tin và Truyền thông", None)
        .unwrap();
    let (tuan, _) = dir.add_person("sttt", "Nguyễn Anh Tuấn", None, None).unwrap();
    dir.set_password(&tuan.address, &secret(PASSWORD)).unwrap();
    // The owner logs in from elsewhere: the password is cached.
    let office: IpAddr = "192.0.2.99".parse().unwrap();
    assert!(
        dir.authenticate_from(office, &tuan.address, &secret(PASSWORD))
            .unwrap()
            .is_some()
    );
    // A guesser exhausts its budget; then even the right password is not checked,
    // against the cache or otherwise.
    for _ in 0..2 {
        let guess = dir.authenticate_from(CLIENT, &tuan.address, &secret("đoán thử 1"));
        assert_eq!(guess.unwrap(), None);
    }
    let runs = dir.scratch.runs();
    let right = dir.authenticate_from(CLIENT, &tuan.address, &secret(PASSWORD));
    assert!(
        matches!(right, Err(DirectoryError::Throttled { .. })),
        "{right:?}"
    );
    assert_eq!(dir.scratch.runs(), runs);
    // A cache hit from the owner's address is a success there: its count of
    // failures for the login is cleared, as after a verified password.
    for wrong in ["sai 1", "sai 2"] {
        let login = |password: &str| dir.authenticate_from(office, &tuan.address, &secret(password));
        assert!(login(wrong).unwrap().is_none());
        assert!(login(PASSWORD).unwrap().is_some());
    }
}

#[test]
fn the_cache_off_checks_every_time() {
    let f = fixture(CredentialCacheSettings {
        ttl: Duration::ZERO,
        entries: 10_000,
    });
    let runs = f.runs();
    for _ in 0..3 {
        assert!(f.login(&f.tuan, PASSWORD));
    }
    assert_eq!(f.runs(), runs + 3);
}

#[tokio::test]
async fn a_password_change_or_a_disable_revokes_the_sessions_it_opened() {
    let f = fixture(CredentialCacheSettings::default());
    let watched = |address: &str| {
        let (_, watch) = f
            .dir
            .authenticate_watched(CLIENT, address, &secret(PASSWORD))
            .unwrap()
            .unwrap();
        watch
    };
    let (mut first, mut second, hoa) = (watched(&f.tuan), watched(&f.tuan), watched(&f.hoa));
    assert!(!first.is_revoked() && !second.is_revoked());
    f.dir.set_password(&f.tuan, &secret("mật khẩu mới 2024")).unwrap();
    for watch in [&mut first, &mut second] {
        tokio::time::timeout(Duration::from_secs(1), watch.revoked())
            .await
            .expect("revoked at once");
    }
    assert!(!hoa.is_revoked(), "another account's sessions go on");
    // A login after the change is watched afresh.
    let (_, fresh) = f
        .dir
        .authenticate_watched(CLIENT, &f.tuan, &secret("mật khẩu mới 2024"))
        .unwrap()
        .unwrap();
    assert!(!fresh.is_revoked());
    f.dir.set_disabled(&f.hoa, true, "admin").unwrap();
    assert!(hoa.is_revoked());
    assert!(!fresh.is_revoked());
    // Re-enabling revokes nothing.
    f.dir.set_disabled(&f.hoa, false, "admin").unwrap();
    assert!(!fresh.is_revoked());
}

/// Logins per second with the cache and without, one thread, the same account:
/// the reconnect storm the cache is for. Prints the figures (`--nocapture`).
#[test]
fn login_throughput_with_and_without_the_cache() {
    let measure = |cache: CredentialCacheSettings, logins: u32| {
        let f = fixture(cache);
        assert!(f.login(&f.tuan, PASSWORD));
        let started = Instant::now();
        for _ in 0..logins {
            assert!(f.login(&f.tuan, PASSWORD));
        }
        f64::from(logins) / started.elapsed().as_secs_f64()
    };
    let without = measure(
        CredentialCacheSettings {
            ttl: Duration::ZERO,
            entries: 0,
        },
        20,
    );
    let with = measure(CredentialCacheSettings::default(), 2000);
    eprintln!(
        "login throughput, one thread: {without:.1}/s with Argon2 every time, {with:.0}/s from the cache"
    );
    assert!(with > without * 20.0, "{with:.1}/s vs {without:.1}/s");
}
