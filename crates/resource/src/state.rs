//! The management API's shared state, handed to handlers as `web::Data<ManagementApi>`.

use std::sync::Arc;

use actix_web::web;
use tollbooth_http::cache_guard::ReadThrough;
use tollbooth_oauth::OAuth;
use tollbooth_storage::Database;
use tollbooth_storage::rate_limit::RateLimiter;
use tollbooth_storage::secrets::SecretHasher;

use crate::auth::ApiKeyCache;
use crate::error::ApiError;

/// The management API's shared state, handed to handlers as `web::Data<ManagementApi>`.
pub struct ManagementApi {
    pub db: Database,
    pub hasher: SecretHasher,
    pub api_keys: ApiKeyCache,
    pub oauth: web::Data<OAuth>,
    /// The longest `access_token_ttl` a client may have.
    pub max_access_token_ttl: i64,
    /// The rate-limit plans a tenant may have, and the plan of new tenants.
    pub plans: Vec<String>,
    pub plan_default: String,
    /// `None` when rate limiting is switched off.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// Tenant id → plan, briefly: every counted request needs it.
    pub tenant_plans: ReadThrough<String>,
    /// Organization id → its own plan (`None`: its tenant's), briefly: every call verified for
    /// an organization's key or token needs it (docs/protect-your-api.md).
    pub organization_plans: ReadThrough<Option<String>>,
}

/// How long a tenant's or an organization's plan is trusted without asking the database (a
/// plan changed through this instance takes effect at once).
pub const TENANT_PLAN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl ManagementApi {
    /// The plan of `tenant_id`; the default plan if the tenant is gone.
    pub async fn tenant_plan(&self, tenant_id: &str) -> Result<String, ApiError> {
        let load = || {
            let (db, id, plan_default) = (self.db.clone(), tenant_id.to_owned(), self.plan_default.clone());
            async move {
                match db.run(move |conn| tollbooth_storage::tenants::get(conn, &id)).await {
                    Ok(tenant) => Ok(tenant.plan),
                    Err(tollbooth_storage::StorageError::NotFound) => Ok(plan_default),
                    Err(other) => Err(ApiError::from(other)),
                }
            }
        };
        self.tenant_plans.get_or_load(tenant_id, load).await
    }

    /// The own plan of an organization, if it has one (docs/protect-your-api.md).
    pub async fn organization_plan(&self, organization_id: &str) -> Result<Option<String>, ApiError> {
        let load = || {
            let (db, id) = (self.db.clone(), organization_id.to_owned());
            async move { Ok(db.run(move |conn| tollbooth_storage::organizations::plan_of(conn, &id)).await?) }
        };
        self.organization_plans.get_or_load(organization_id, load).await
    }
}
