//! The token endpoint's view of each tenant's resources (docs/oauth.md, "Audiences"): loaded
//! with one query per tenant, cached briefly so a busy tenant's token requests cost no database
//! round trip, and dropped from the cache at once when the management API changes them on this
//! instance.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use tollbooth_http::cache_guard::InvalidationGuard;
use tollbooth_storage::resources::{self, Resource};
use tollbooth_storage::{Database, StorageError};

/// How long another instance's change to a tenant's resources can go unseen here.
const RESOURCE_CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct ResourceDirectory {
    db: Database,
    cache: Cache<String, Arc<Vec<Resource>>>,
    /// A load that raced a change here is not cached.
    guard: InvalidationGuard,
}

impl ResourceDirectory {
    pub fn new(db: Database) -> Self {
        let cache = Cache::builder().max_capacity(100_000).time_to_live(RESOURCE_CACHE_TTL).build();
        ResourceDirectory { db, cache, guard: InvalidationGuard::default() }
    }

    /// The resources of `tenant_id` (a tenant id this server stored: a client's or a key's).
    pub async fn of_tenant(&self, tenant_id: &str) -> Result<Arc<Vec<Resource>>, StorageError> {
        if let Some(hit) = self.cache.get(tenant_id) {
            return Ok(hit);
        }
        let id = tenant_id.to_owned();
        let began = self.guard.begin_read();
        let found = Arc::new(self.db.run(move |conn| resources::all_of_tenant(conn, &id)).await?);
        self.guard.store_unless_invalidated(began, || self.cache.insert(tenant_id.to_owned(), found.clone()));
        Ok(found)
    }

    /// Forgets a tenant's resources after one of them was created, changed or deleted.
    pub fn invalidate(&self, tenant_id: &str) {
        self.guard.invalidate(|| self.cache.invalidate(tenant_id));
    }
}
