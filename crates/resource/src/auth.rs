//! Who is calling: an API key or one of our access tokens becomes a [`Principal`] (docs/api.md
//! "Authentication"). API keys are looked up by their keyed hash and cached for a second, so
//! a busy key costs no database round trip; a key in steady use is read again ahead of its
//! expiry, off the request path, so it never misses at all.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use tollbooth_http::bearer;
use tollbooth_http::cache_guard::ReadThrough;
use tollbooth_oauth::jwt::TokenRejection;
use tollbooth_storage::api_keys::{self, ApiKey};
use tollbooth_storage::{Database, Reach, StorageError};

use crate::error::ApiError;
use crate::{ManagementApi, scopes};

/// How long a key seen here is trusted without asking the database again. A key deleted or
/// rotated through this instance is dropped from the cache at once. A key in use is read again
/// ahead of its expiry, in the background ([`ReadThrough`]).
const API_KEY_CACHE_TTL: Duration = Duration::from_secs(1);

/// What authenticated the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `current_secret`: presented with the key's current secret, not a rotated-out one still
    /// in its grace period.
    ApiKey {
        key_id: String,
        current_secret: bool,
    },
    AccessToken {
        jti: String,
        subject: String,
        client_id: String,
    },
    /// An admin signed in to the console (docs/console.md): they act with what an admin's
    /// access token could carry, `admin` within their reach.
    ConsoleUser {
        user_id: String,
    },
}

/// An authenticated caller: its tenant (none for operator keys), its organization if it is
/// confined to one, and its scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub credential: Credential,
    pub tenant_id: Option<String>,
    pub organization_id: Option<String>,
    pub scopes: Vec<String>,
}

impl Principal {
    /// The id written as the actor of audit events.
    pub fn actor_id(&self) -> &str {
        match &self.credential {
            Credential::ApiKey { key_id, .. } => key_id,
            Credential::AccessToken { subject, .. } => subject,
            Credential::ConsoleUser { user_id } => user_id,
        }
    }

    /// The console's signed-in `admin`, as a caller of the API's operations: the one rule
    /// (docs/security.md, "Authorization") then decides what they may do, within their tenant
    /// or, for an organization's admin, their organization. The console checks the role first.
    pub fn console_user(admin: &tollbooth_storage::users::User) -> Principal {
        Principal {
            credential: Credential::ConsoleUser { user_id: admin.id.clone() },
            tenant_id: Some(admin.tenant_id.clone()),
            organization_id: admin.organization_id.clone(),
            scopes: vec![scopes::ADMIN.to_owned()],
        }
    }

    pub fn has_scope(&self, needed: &str) -> bool {
        scopes::grants(&self.scopes, needed)
    }

    /// Fails with 403 `insufficient_scope` naming `needed` unless the caller holds it.
    pub fn require(&self, needed: &str) -> Result<(), ApiError> {
        if self.has_scope(needed) { Ok(()) } else { Err(ApiError::insufficient_scope(needed)) }
    }

    /// Like [`Principal::reach_with`], for actions on the tenant as a whole (creating an
    /// organization, reading audit logs): organization-confined callers are refused.
    pub fn tenant_reach_with(&self, needed: &str) -> Result<Reach, ApiError> {
        let reach = self.reach_with(needed)?;
        if reach.organization_id.is_some() {
            return Err(ApiError::new(
                crate::error::ApiErrorKind::InsufficientScope(needed.to_owned()),
                format!("This request needs `{needed}` at tenant level; organization keys cannot make it."),
            ));
        }
        Ok(reach)
    }

    /// The data this caller may touch, after checking it holds `needed`.
    pub fn reach_with(&self, needed: &str) -> Result<Reach, ApiError> {
        self.require(needed)?;
        self.reach_for(needed)
    }

    /// The data this caller may touch, for an action needing `needed`, whether or not it holds
    /// it: writes find the object first and leave the scope to [`Principal::authorize`] (a key
    /// may act on itself without it).
    pub fn reach_for(&self, needed: &str) -> Result<Reach, ApiError> {
        match &self.tenant_id {
            Some(tenant_id) => {
                Ok(Reach { tenant_id: tenant_id.clone(), organization_id: self.organization_id.clone() })
            }
            // An operator key manages tenants, not what is inside them.
            None => Err(ApiError::insufficient_scope(needed)),
        }
    }
}

/// Key hash → what the database said of it (`None`: no key has it).
#[derive(Clone)]
pub struct ApiKeyCache(ReadThrough<Option<Arc<ApiKey>>>);

impl Default for ApiKeyCache {
    fn default() -> Self {
        ApiKeyCache(ReadThrough::invalidated_by_value(100_000, API_KEY_CACHE_TTL))
    }
}

impl ApiKeyCache {
    /// Forgets every cached key for which `affected` holds (after a delete, a rotation, or the
    /// deletion of its organization or tenant), so it is refused at once on this instance,
    /// and keeps reads already in flight from caching it again.
    pub fn invalidate_where(&self, affected: impl Fn(&ApiKey) -> bool + Send + Sync + 'static) {
        self.0.invalidate_where(move |cached| cached.as_deref().is_some_and(&affected));
    }

    /// The key with this hash, from the cache or the database.
    async fn find(&self, db: &Database, hash: &str) -> Result<Option<Arc<ApiKey>>, ApiError> {
        let load = || {
            let (db, hash) = (db.clone(), hash.to_owned());
            async move {
                let found = db.run(move |conn| api_keys::find_by_hash(conn, &hash)).await;
                found.map(|key| key.map(Arc::new)).map_err(|e: StorageError| ApiError::from(e))
            }
        };
        self.0.get_or_load(hash, load).await
    }
}

/// The bearer credential of a request: `Authorization: Bearer …` or `API-Authorization: …`.
pub(crate) fn presented_credential(request: &HttpRequest) -> Option<&str> {
    let headers = request.headers();
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer::token_of);
    // `API-Authorization` takes the key alone or as a Bearer value.
    let api_authorization = || {
        headers
            .get("API-Authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(|v| bearer::token_of(v).unwrap_or(v))
    };
    bearer.or_else(api_authorization).filter(|v| !v.is_empty())
}

/// Authenticates the request once; the result is kept in the request's extensions so a
/// middleware (rate limiting) and the handler share it.
pub async fn authenticate(request: &HttpRequest) -> Result<Principal, ApiError> {
    if let Some(principal) = request.extensions().get::<Principal>() {
        return Ok(principal.clone());
    }
    let api = request
        .app_data::<web::Data<ManagementApi>>()
        .ok_or_else(|| ApiError::internal("ManagementApi state is not registered"))?;
    let credential = presented_credential(request).ok_or_else(ApiError::missing_api_key)?;
    let principal = if looks_like_jwt(credential) {
        by_access_token(api, credential, &api.oauth.settings.audience).await?
    } else {
        by_api_key(api, credential).await?.0
    };
    request.extensions_mut().insert(principal.clone());
    Ok(principal)
}

pub(crate) fn looks_like_jwt(credential: &str) -> bool {
    credential.split('.').count() == 3
}

/// The caller an API key names, and the key.
pub(crate) async fn by_api_key(api: &ManagementApi, secret: &str) -> Result<(Principal, Arc<ApiKey>), ApiError> {
    let hash = api.hasher.hash(secret);
    let key = api.api_keys.find(&api.db, &hash).await?;
    let key =
        key.filter(|key| key.authenticates(&hash, tollbooth_storage::now())).ok_or_else(ApiError::invalid_api_key)?;
    let principal = Principal {
        credential: Credential::ApiKey { key_id: key.id.clone(), current_secret: key.key_hash == hash },
        tenant_id: key.tenant_id.clone(),
        organization_id: key.organization_id.clone(),
        scopes: key.scopes.0.clone(),
    };
    Ok((principal, key))
}

/// The caller an access token for `audience` names (docs/oauth.md, "Audiences": a token for
/// another API is no credential here, whatever its scopes say).
pub(crate) async fn by_access_token(api: &ManagementApi, token: &str, audience: &str) -> Result<Principal, ApiError> {
    let claims = api.oauth.verify_access_token(token).await.map_err(|rejection| match rejection {
        TokenRejection::Expired => ApiError::token_expired(),
        TokenRejection::Invalid | TokenRejection::UnknownKey => ApiError::invalid_token(),
        TokenRejection::Unavailable => ApiError::unavailable("revoked tokens could not be checked"),
    })?;
    if claims.aud != audience {
        return Err(ApiError::invalid_token());
    }
    Ok(Principal {
        scopes: claims.scopes().map(str::to_owned).collect(),
        tenant_id: Some(claims.tid),
        organization_id: claims.org_id,
        credential: Credential::AccessToken { jti: claims.jti, subject: claims.sub, client_id: claims.client_id },
    })
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move { authenticate(&request).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> Arc<ApiKey> {
        let now = tollbooth_storage::now();
        Arc::new(ApiKey {
            id: id.into(),
            tenant_id: Some("ten_x".into()),
            organization_id: None,
            name: "k".into(),
            key_hash: format!("hash-{id}"),
            redacted: "sk_live_…abcd".into(),
            previous_key_hash: None,
            previous_key_expires_at: None,
            scopes: tollbooth_storage::Json(vec!["admin".into()]),
            environment: "live".into(),
            expires_at: None,
            created_at: now,
            updated_at: now,
            rate_limit_window_seconds: None,
            rate_limit_limit: None,
        })
    }

    /// What `cache` holds for "hash-a": the cached answer, or `None` (the probe reads nothing).
    async fn holds(cache: &ApiKeyCache) -> Option<Arc<ApiKey>> {
        let found = cache.0.get_or_load("hash-a", || async { Ok::<_, ()>(None) }).await.unwrap();
        cache.0.invalidate("hash-a");
        found
    }

    #[tokio::test]
    async fn a_read_that_raced_an_invalidation_is_not_cached() {
        let cache = ApiKeyCache::default();
        // Read begins, the key is deleted here meanwhile, then the read finishes.
        let raced = || {
            let cache = cache.clone();
            async move {
                cache.invalidate_where(|key| key.id == "key_a");
                Ok::<_, ()>(Some(key("key_a")))
            }
        };
        cache.0.get_or_load("hash-a", raced).await.unwrap();
        assert!(holds(&cache).await.is_none(), "what the read saw may be deleted");

        cache.0.get_or_load("hash-a", || async { Ok::<_, ()>(Some(key("key_a"))) }).await.unwrap();
        assert!(holds(&cache).await.is_some());
    }
}
