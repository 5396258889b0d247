//! The token endpoint's view of each tenant's resources (docs/oauth.md, "Audiences"): loaded
//! with one query per tenant, cached briefly so a busy tenant's token requests cost no database
//! round trip, and dropped from the cache at once when the management API changes them on this
//! instance.

use std::sync::Arc;
use std::time::Duration;

use tollbooth_http::cache_guard::ReadThrough;
use tollbooth_storage::resources::{self, Resource};
use tollbooth_storage::{Database, StorageError};

/// How long another instance's change to a tenant's resources can go unseen here.
const RESOURCE_CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct ResourceDirectory {
    db: Database,
    /// A load that raced a change here is not cached.
    cache: ReadThrough<Arc<Vec<Resource>>>,
}

impl ResourceDirectory {
    pub fn new(db: Database) -> Self {
        ResourceDirectory { db, cache: ReadThrough::new(100_000, RESOURCE_CACHE_TTL) }
    }

    /// The resources of `tenant_id` (a tenant id this server stored: a client's or a key's).
    pub async fn of_tenant(&self, tenant_id: &str) -> Result<Arc<Vec<Resource>>, StorageError> {
        let load = || {
            let (db, id) = (self.db.clone(), tenant_id.to_owned());
            async move { Ok(Arc::new(db.run(move |conn| resources::all_of_tenant(conn, &id)).await?)) }
        };
        self.cache.get_or_load(tenant_id, load).await
    }

    /// Forgets a tenant's resources after one of them was created, changed or deleted.
    pub fn invalidate(&self, tenant_id: &str) {
        self.cache.invalidate(tenant_id);
    }
}
