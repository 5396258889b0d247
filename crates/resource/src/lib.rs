//! Tollbooth's management API (`/api/v1`, SPEC §4): authentication, the error type,
//! pagination, and one handler module per resource.

pub mod api_keys;
pub mod audit;
pub mod audit_logs;
pub mod auth;
pub mod clients;
mod crud;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod organizations;
pub mod pagination;
pub mod rate_limits;
mod rfc3339;
pub mod scopes;
pub mod tenants;
pub mod users;
mod validate;

use actix_web::{HttpResponse, web};
use std::sync::Arc;
use tollbooth_oauth::OAuth;

use tollbooth_storage::Database;
use tollbooth_storage::rate_limit::RateLimiter;
use tollbooth_storage::secrets::SecretHasher;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::ApiKeyCache;
use crate::error::ApiError;

/// The management API's shared state, handed to handlers as `web::Data<Resource>`.
pub struct Resource {
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
    pub tenant_plans: moka::sync::Cache<String, String>,
}

/// How long a tenant's plan is trusted without asking the database (a plan changed through
/// this instance takes effect at once).
pub const TENANT_PLAN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl Resource {
    /// The plan of `tenant_id`; the default plan if the tenant is gone.
    pub async fn tenant_plan(&self, tenant_id: &str) -> Result<String, ApiError> {
        if let Some(plan) = self.tenant_plans.get(tenant_id) {
            return Ok(plan);
        }
        let id = tenant_id.to_owned();
        let plan = match self.db.run(move |conn| tollbooth_storage::tenants::get(conn, &id)).await {
            Ok(tenant) => tenant.plan,
            Err(tollbooth_storage::StorageError::NotFound) => self.plan_default.clone(),
            Err(other) => return Err(other.into()),
        };
        self.tenant_plans.insert(tenant_id.to_owned(), plan.clone());
        Ok(plan)
    }
}

/// Registers `/api/v1`, the OpenAPI document and the explorer; the app must provide
/// `web::Data<Resource>` and `web::Data<OAuth>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/tenants", web::post().to(tenants::create))
            .route("/tenants", web::get().to(tenants::list))
            .route("/tenants/{id}", web::get().to(tenants::get))
            .route("/tenants/{id}", web::patch().to(tenants::update))
            .route("/tenants/{id}", web::delete().to(tenants::delete))
            .route("/organizations", web::post().to(organizations::create))
            .route("/organizations", web::get().to(organizations::list))
            .route("/organizations/{id}", web::get().to(organizations::get))
            .route("/organizations/{id}", web::patch().to(organizations::update))
            .route("/organizations/{id}", web::delete().to(organizations::delete))
            .route("/users", web::post().to(users::create))
            .route("/users", web::get().to(users::list))
            .route("/users/me", web::get().to(users::me))
            .route("/users/{id}", web::get().to(users::get))
            .route("/users/{id}", web::patch().to(users::update))
            .route("/users/{id}", web::delete().to(users::delete))
            .route("/clients", web::post().to(clients::create))
            .route("/clients", web::get().to(clients::list))
            .route("/clients/{id}", web::get().to(clients::get))
            .route("/clients/{id}", web::patch().to(clients::update))
            .route("/clients/{id}", web::delete().to(clients::delete))
            .route("/clients/{id}/secret", web::post().to(clients::rotate_secret))
            .route("/api_keys", web::post().to(api_keys::create))
            .route("/api_keys", web::get().to(api_keys::list))
            .route("/api_keys/{id}", web::get().to(api_keys::get))
            .route("/api_keys/{id}", web::delete().to(api_keys::delete))
            .route("/api_keys/{id}/rotate", web::post().to(api_keys::rotate))
            .route("/audit_logs", web::get().to(audit_logs::list))
            .route("/rate_limits", web::get().to(rate_limits::usage))
            .default_service(web::to(unknown_route)),
    )
    .route("/api/docs", web::get().to(docs_redirect))
    .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi::ApiDoc::openapi()));
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/api/docs/")).finish()
}

async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route"))
}
