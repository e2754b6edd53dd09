//! The store's backend-independent tests (`congvu_store::conformance`, the same the
//! sled store runs) on PostgreSQL: each on a fresh private cluster, checked for
//! consistency when it ends. Without PostgreSQL installed they skip, except under
//! `CI`, where they fail.

use std::sync::Arc;
use std::time::Duration;

use congvu_store::conformance::Fresh;
use congvu_store_pg::cluster::Cluster;
use congvu_store_pg::{PgConfig, PgStore, migrate};

fn fresh() -> Option<Fresh<Cluster>> {
    let cluster = Cluster::for_test()?;
    migrate(&cluster.url()).expect("migrate");
    let store = PgStore::connect(&PgConfig {
        url: cluster.url(),
        password: None,
        pool_size: 8,
        statement_timeout: Duration::from_secs(30),
    })
    .expect("connect");
    // The store is dropped (and checked) before the cluster stops.
    Some(Fresh::new(Arc::new(store), cluster))
}

congvu_store::conformance_tests!(fresh());
