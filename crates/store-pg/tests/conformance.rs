//! The store's backend-independent tests (`congvu_store::conformance`, the same the
//! sled store runs) on PostgreSQL, with bodies in the database and again with
//! bodies in a body directory (`[store] blobs`): each on a fresh private cluster,
//! checked for consistency when it ends. Without PostgreSQL installed they skip,
//! except under `CI`, where they fail.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use congvu_store::conformance::Fresh;
use congvu_store_pg::cluster::Cluster;
use congvu_store_pg::{PgConfig, PgStore, migrate};

fn store(cluster: &Cluster, blobs: Option<&Path>) -> Arc<PgStore> {
    migrate(&cluster.url()).expect("migrate");
    Arc::new(
        PgStore::connect(&PgConfig {
            url: cluster.url(),
            password: None,
            blobs: blobs.map(Path::to_path_buf),
            pool_size: 8,
            statement_timeout: Duration::from_secs(30),
        })
        .expect("connect"),
    )
}

/// Bodies in the database. The store is dropped (and checked) before the cluster
/// stops.
fn fresh() -> Option<Fresh<Cluster>> {
    let cluster = Cluster::for_test()?;
    Some(Fresh::new(store(&cluster, None), cluster))
}

congvu_store::conformance_tests!(fresh());

mod with_a_body_directory {
    use super::*;

    fn fresh() -> Option<Fresh<(Cluster, tempfile::TempDir)>> {
        let cluster = Cluster::for_test()?;
        let blobs = tempfile::tempdir().expect("body directory");
        Some(Fresh::new(store(&cluster, Some(blobs.path())), (cluster, blobs)))
    }

    congvu_store::conformance_tests!(fresh());
}
