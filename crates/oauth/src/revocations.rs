//! Which access tokens were revoked (RFC 7009), by `jti`. A lookup is cached for a second, so
//! a busy token costs no database round trip and a revocation made by another instance is
//! seen within a second; one made here is seen at once.

use std::time::Duration;

use moka::sync::Cache;
use tollbooth_storage::{Database, StorageError, revoked_tokens};

use crate::cache_guard::InvalidationGuard;

const REVOCATION_CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Revocations {
    db: Database,
    cache: Cache<String, bool>,
    /// A lookup that raced a revocation here cannot cache "not revoked" over it.
    guard: InvalidationGuard,
}

impl Revocations {
    pub fn new(db: Database) -> Self {
        let cache = Cache::builder().max_capacity(100_000).time_to_live(REVOCATION_CACHE_TTL).build();
        Revocations { db, cache, guard: InvalidationGuard::default() }
    }

    pub async fn is_revoked(&self, jti: &str) -> Result<bool, StorageError> {
        if let Some(revoked) = self.cache.get(jti) {
            return Ok(revoked);
        }
        let lookup = jti.to_owned();
        let began = self.guard.begin_read();
        let revoked = self.db.run(move |conn| revoked_tokens::is_revoked(conn, &lookup)).await?;
        self.guard.store_unless_invalidated(began, || self.cache.insert(jti.to_owned(), revoked));
        Ok(revoked)
    }

    /// Revokes `jti` until `expires_at` (Unix seconds), when the token would have expired anyway.
    pub async fn revoke(&self, jti: &str, tenant_id: &str, expires_at: i64) -> Result<(), StorageError> {
        let expires_at = tollbooth_storage::from_unix_seconds(expires_at);
        let (id, tenant) = (jti.to_owned(), tenant_id.to_owned());
        self.db.run(move |conn| revoked_tokens::revoke(conn, &id, &tenant, expires_at)).await?;
        self.remember_revoked(jti);
        Ok(())
    }

    /// Records here that `jti` was revoked by a write made elsewhere (in a transaction).
    pub fn remember_revoked(&self, jti: &str) {
        self.guard.invalidate(|| self.cache.insert(jti.to_owned(), true));
    }

    /// Deletes revocations of tokens that have expired anyway (run periodically).
    pub async fn delete_expired(&self) -> Result<usize, StorageError> {
        let now = tollbooth_storage::now();
        self.db.run(move |conn| revoked_tokens::delete_expired(conn, now)).await
    }
}
