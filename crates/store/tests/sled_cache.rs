//! sled's cache held to `[store] cache_mb` (issue 11: sled ran with its 1 GiB
//! default). One test in a binary of its own, so the resident size it reads from
//! `/proc/self/status` is this test's alone.

use congvu_store::{SledStore, StoreOptions};

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn sled_keeps_no_more_than_cache_mb_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let options: StoreOptions = serde_json::from_str(r#"{"cache_mb": 8}"#).unwrap();
    let store = SledStore::open_with(tmp.path(), &options).unwrap();
    let tree = store.db().open_tree("test.cache").unwrap();
    let value = vec![7u8; 160];
    let before = rss_kb();
    // 400,000 small records (64 MiB) written, then read back: with sled's default
    // 1 GiB cache the resident size grew by 143 MB here, with 8 MiB by 28 MB.
    for round in 0..2 {
        for i in 0u32..400_000 {
            if round == 0 {
                tree.insert(i.to_be_bytes(), value.as_slice()).unwrap();
            } else {
                assert_eq!(tree.get(i.to_be_bytes()).unwrap().unwrap().len(), value.len());
            }
        }
        store.db().flush().unwrap();
    }
    let grown = rss_kb().saturating_sub(before);
    eprintln!("resident size growth through 64 MiB with cache_mb = 8: {grown} kB");
    assert!(grown < 64 * 1024, "grew by {grown} kB");
}
