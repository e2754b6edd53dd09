//! The store's backend-independent tests (`congvu_store::conformance`, the same the
//! sled store runs) on PostgreSQL: each on a fresh private cluster, checked for
//! consistency when it ends.

use std::sync::Arc;
use std::time::Duration;

use congvu_store::MailStore;
use congvu_store_pg::cluster::Cluster;
use congvu_store_pg::{PgConfig, PgStore, migrate};

/// A fresh store on its own cluster; checked when dropped (the store goes first,
/// then the cluster stops).
struct Fresh {
    store: Arc<dyn MailStore>,
    _cluster: Cluster,
}

impl std::ops::Deref for Fresh {
    type Target = Arc<dyn MailStore>;
    fn deref(&self) -> &Arc<dyn MailStore> {
        &self.store
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let report = self.store.check().expect("consistency check");
            assert!(
                report.is_consistent(),
                "the test left an inconsistent store: {report:?}"
            );
        }
    }
}

fn fresh() -> Fresh {
    let Some(cluster) = Cluster::start() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "PostgreSQL's server is not installed: .ci/run installs postgresql"
        );
        panic!("PostgreSQL's server is not installed (apt-get install postgresql)");
    };
    migrate(&cluster.url()).expect("migrate");
    let store = PgStore::connect(&PgConfig {
        url: cluster.url(),
        password: None,
        pool_size: 8,
        statement_timeout: Duration::from_secs(30),
    })
    .expect("connect");
    Fresh {
        store: Arc::new(store),
        _cluster: cluster,
    }
}

congvu_store::conformance_tests!(fresh());
