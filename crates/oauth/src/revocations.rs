//! Which access tokens were revoked (RFC 7009), by `jti`, or with their client, user,
//! organization or tenant deleted. A lookup is cached for a second, so a busy token costs no
//! database round trip and a revocation made by another instance is seen within a second; one
//! made here is seen at once. A token in use is looked up again ahead of its entry's expiry
//! (tollbooth_http::cache_guard).

use std::time::Duration;

use tollbooth_http::cache_guard::ReadThrough;
use tollbooth_storage::{Database, StorageError, revoked_tokens};

use crate::jwt::AccessTokenClaims;

const REVOCATION_CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Revocations {
    db: Database,
    /// By `jti`. A lookup that raced a revocation here cannot cache "not revoked" over it.
    cache: ReadThrough<bool>,
}

impl Revocations {
    pub fn new(db: Database) -> Self {
        Revocations { db, cache: ReadThrough::new(100_000, REVOCATION_CACHE_TTL) }
    }

    /// Whether the token with these claims was revoked, or anything it names was deleted.
    pub async fn is_revoked(&self, claims: &AccessTokenClaims) -> Result<bool, StorageError> {
        let load = || {
            let (db, jti) = (self.db.clone(), claims.jti.clone());
            let mut subjects = vec![claims.sub.clone(), claims.client_id.clone(), claims.tid.clone()];
            subjects.extend(claims.org_id.clone());
            let issued_at = tollbooth_storage::from_unix_seconds(claims.iat);
            let is_revoked = move |conn: &mut _| {
                let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
                revoked_tokens::is_revoked(conn, &jti, &subjects, issued_at)
            };
            async move { db.run(is_revoked).await }
        };
        self.cache.get_or_load(&claims.jti, load).await
    }

    /// Drops every cached answer after a client, user, organization or tenant was revoked here
    /// (deleted, or a user demoted, in the change's own transaction): any of them may be wrong.
    pub fn forget_cached_answers(&self) {
        self.cache.invalidate_all();
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
        self.cache.set(jti, true);
    }

    /// Deletes revocations of tokens that have expired anyway (run periodically).
    pub async fn delete_expired(&self) -> Result<usize, StorageError> {
        let now = tollbooth_storage::now();
        self.db.run(move |conn| revoked_tokens::delete_expired(conn, now)).await
    }
}
