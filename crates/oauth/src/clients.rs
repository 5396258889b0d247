//! The token endpoint's view of OAuth clients: one indexed lookup by id, cached briefly so a
//! busy client costs no database round trip, and dropped from the cache at once when the
//! management API changes or deletes it on this instance.

use std::sync::Arc;
use std::time::Duration;

use tollbooth_http::cache_guard::ReadThrough;
use tollbooth_storage::clients::{self, Client};
use tollbooth_storage::ids::{self, Id};
use tollbooth_storage::{Database, StorageError};

/// How long another instance's change to a client can go unseen here.
const CLIENT_CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct ClientDirectory {
    db: Database,
    /// `None` remembers an unknown id, so guessing ids does not reach the database each time.
    /// A lookup that raced a change or deletion here is not cached.
    cache: ReadThrough<Option<Arc<Client>>>,
}

impl ClientDirectory {
    pub fn new(db: Database) -> Self {
        ClientDirectory { db, cache: ReadThrough::new(100_000, CLIENT_CACHE_TTL) }
    }

    /// The client with this id, from the cache or the database.
    pub async fn find(&self, client_id: &Id<ids::Client>) -> Result<Option<Arc<Client>>, StorageError> {
        let load = || {
            let (db, id) = (self.db.clone(), client_id.clone());
            async move { Ok(db.run(move |conn| clients::find(conn, &id)).await?.map(Arc::new)) }
        };
        self.cache.get_or_load(client_id.as_str(), load).await
    }

    /// Forgets every client (after an organization or tenant, and so its clients, was deleted).
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// Forgets a client after it was changed, rotated or deleted.
    pub fn invalidate(&self, client_id: &str) {
        self.cache.invalidate(client_id);
    }
}
