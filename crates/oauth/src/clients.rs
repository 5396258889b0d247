//! The token endpoint's view of OAuth clients: one indexed lookup by id, cached briefly so a
//! busy client costs no database round trip, and dropped from the cache at once when the
//! management API changes or deletes it on this instance.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use tollbooth_storage::clients::{self, Client};
use tollbooth_storage::ids::{self, Id};
use tollbooth_storage::{Database, StorageError};

use tollbooth_http::cache_guard::InvalidationGuard;

/// How long another instance's change to a client can go unseen here.
const CLIENT_CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct ClientDirectory {
    db: Database,
    /// `None` remembers an unknown id, so guessing ids does not reach the database each time.
    cache: Cache<String, Option<Arc<Client>>>,
    /// A lookup that raced a change or deletion here is not cached.
    guard: InvalidationGuard,
}

impl ClientDirectory {
    pub fn new(db: Database) -> Self {
        let cache = Cache::builder().max_capacity(100_000).time_to_live(CLIENT_CACHE_TTL).build();
        ClientDirectory { db, cache, guard: InvalidationGuard::default() }
    }

    /// The client with this id, from the cache or the database.
    pub async fn find(&self, client_id: &Id<ids::Client>) -> Result<Option<Arc<Client>>, StorageError> {
        if let Some(hit) = self.cache.get(client_id.as_str()) {
            return Ok(hit);
        }
        let id = client_id.clone();
        let began = self.guard.begin_read();
        let found = self.db.run(move |conn| clients::find(conn, &id)).await?.map(Arc::new);
        self.guard.store_unless_invalidated(began, || self.cache.insert(client_id.to_string(), found.clone()));
        Ok(found)
    }

    /// Forgets every client (after an organization or tenant, and so its clients, was deleted).
    pub fn invalidate_all(&self) {
        self.guard.invalidate(|| self.cache.invalidate_all());
    }

    /// Forgets a client after it was changed, rotated or deleted.
    pub fn invalidate(&self, client_id: &str) {
        self.guard.invalidate(|| self.cache.invalidate(client_id));
    }
}
