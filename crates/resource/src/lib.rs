//! Tollbooth's management API (`/api/v1`, SPEC §4): authentication, the error type,
//! pagination, and one handler module per resource.

pub mod api_keys;
pub mod audit;
pub mod audit_logs;
pub mod auth;
pub mod authorization;
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

use actix_web::{HttpResponse, ResponseError, web};
use std::sync::Arc;
use tollbooth_http::endpoint::Endpoint;
use tollbooth_oauth::OAuth;

use tollbooth_storage::Database;
use tollbooth_storage::rate_limit::RateLimiter;
use tollbooth_storage::secrets::SecretHasher;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::ApiKeyCache;
use crate::error::{ApiError, ApiErrorKind};

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
    pub tenant_plans: moka::sync::Cache<String, String>,
}

/// How long a tenant's plan is trusted without asking the database (a plan changed through
/// this instance takes effect at once).
pub const TENANT_PLAN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl ManagementApi {
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
/// `web::Data<ManagementApi>` and `web::Data<OAuth>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let endpoints = [
        Endpoint::new("/tenants").post(tenants::create).get(tenants::list),
        Endpoint::new("/tenants/{id}").get(tenants::get).patch(tenants::update).delete(tenants::delete),
        Endpoint::new("/organizations").post(organizations::create).get(organizations::list),
        Endpoint::new("/organizations/{id}")
            .get(organizations::get)
            .patch(organizations::update)
            .delete(organizations::delete),
        Endpoint::new("/users").post(users::create).get(users::list),
        // Before `/users/{id}`, which would otherwise take `me` for an id.
        Endpoint::new("/users/me").get(users::me),
        Endpoint::new("/users/{id}").get(users::get).patch(users::update).delete(users::delete),
        Endpoint::new("/clients").post(clients::create).get(clients::list),
        Endpoint::new("/clients/{id}").get(clients::get).patch(clients::update).delete(clients::delete),
        Endpoint::new("/clients/{id}/secret").post(clients::rotate_secret),
        Endpoint::new("/api_keys").post(api_keys::create).get(api_keys::list),
        Endpoint::new("/api_keys/{id}").get(api_keys::get).delete(api_keys::delete),
        Endpoint::new("/api_keys/{id}/rotate").post(api_keys::rotate),
        Endpoint::new("/audit_logs").get(audit_logs::list),
        Endpoint::new("/rate_limits").get(rate_limits::usage),
    ];
    let mut api = web::scope("/api/v1");
    for endpoint in endpoints {
        api = api.service(endpoint.refusing_others_with(method_not_allowed));
    }
    cfg.service(api.default_service(web::to(unknown_route)))
        .route("/api/docs", web::get().to(docs_redirect))
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi::ApiDoc::openapi()));
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/api/docs/")).finish()
}

async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route"))
}

fn method_not_allowed(allow: &str) -> HttpResponse {
    ApiError::new(ApiErrorKind::MethodNotAllowed, format!("This path accepts {allow}.")).error_response()
}
