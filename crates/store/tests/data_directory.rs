//! The data directory as the store leaves it on disk (issue 11): private modes, and
//! `[store]`'s options.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use congvu_store::blob::{BlobStore, Contents};
use congvu_store::{SledStore, StoreOptions};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn directories_are_private_and_blob_files_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let store = SledStore::open(&data).unwrap();
    for dir in [
        data.clone(),
        data.join("meta"),
        data.join("blobs"),
        data.join("blobs/ab"),
    ] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    // The file the issue found readable by every local user.
    assert_eq!(mode(&data.join("meta/db")), 0o600);
    let loose = SledStore::loose_modes(&data).unwrap();
    assert!(loose.is_empty(), "{loose:?}");
    drop(store);

    let blobs = BlobStore::open(&tmp.path().join("other-blobs")).unwrap();
    let parts: &[&[u8]] = &[b"Subject: x\r\n\r\nbody\r\n"];
    let contents = Contents::new(parts);
    blobs.put(&contents).unwrap();
    assert_eq!(mode(&blobs.path(&contents.id())), 0o600);

    // An operator's looser directory is kept as it is, and reported.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _store = SledStore::open(&data).unwrap();
    let loose = SledStore::loose_modes(&data).unwrap();
    assert_eq!(loose.len(), 1, "{loose:?}");
    assert_eq!((loose[0].path.as_path(), loose[0].mode), (data.as_path(), 0o755));
}

#[test]
fn options_default_and_refuse_unknown_keys() {
    assert_eq!(StoreOptions::default().cache_mb, 64);
    let empty: StoreOptions = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, StoreOptions::default());
    assert!(serde_json::from_str::<StoreOptions>(r#"{"cache": 1}"#).is_err());
}
