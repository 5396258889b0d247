//! Which access tokens were revoked (RFC 7009), by `jti`, or with their client, user,
//! organization or tenant deleted. A lookup is cached for a second, so a busy token costs no
//! database round trip and a revocation made by another instance is seen within a second; one
//! made here is seen at once.

use std::time::Duration;

use moka::sync::Cache;
use tollbooth_storage::{Database, StorageError, revoked_tokens};

use crate::jwt::AccessTokenClaims;
use tollbooth_http::cache_guard::InvalidationGuard;

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

    /// Whether the token with these claims was revoked, or anything it names was deleted.
    pub async fn is_revoked(&self, claims: &AccessTokenClaims) -> Result<bool, StorageError> {
        if let Some(revoked) = self.cache.get(&claims.jti) {
            return Ok(revoked);
        }
        let jti = claims.jti.clone();
        let mut subjects = vec![claims.sub.clone(), claims.client_id.clone(), claims.tid.clone()];
        subjects.extend(claims.org_id.clone());
        let issued_at = tollbooth_storage::from_unix_seconds(claims.iat);
        let began = self.guard.begin_read();
        let revoked = self
            .db
            .run(move |conn| {
                let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
                revoked_tokens::is_revoked(conn, &jti, &subjects, issued_at)
            })
            .await?;
        self.guard.store_unless_invalidated(began, || self.cache.insert(claims.jti.clone(), revoked));
        Ok(revoked)
    }

    /// Drops every cached answer after a client, user, organization or tenant was revoked here
    /// (deleted, or a user demoted, in the change's own transaction): any of them may be wrong.
    pub fn forget_cached_answers(&self) {
        self.guard.invalidate(|| self.cache.invalidate_all());
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
