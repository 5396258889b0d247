//! Tollbooth's management API (`/api/v1`, SPEC §4): authentication, the error type,
//! pagination, and one handler module per resource.

pub mod audit;
pub mod auth;
pub mod clients;
pub mod error;
pub mod extract;
pub mod pagination;
mod rfc3339;
pub mod scopes;
mod validate;

use actix_web::{HttpResponse, web};
use tollbooth_oauth::OAuth;
use tollbooth_storage::Database;
use tollbooth_storage::secrets::SecretHasher;

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
}

/// Registers `/api/v1`; the app must provide `web::Data<Resource>` and `web::Data<OAuth>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/clients", web::post().to(clients::create))
            .route("/clients", web::get().to(clients::list))
            .route("/clients/{id}", web::get().to(clients::get))
            .default_service(web::to(unknown_route)),
    );
}

async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route"))
}
