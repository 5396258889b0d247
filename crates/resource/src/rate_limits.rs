//! `GET /api/v1/rate_limits` (SPEC §4): the caller's usage in each window of its plan.
//! Rate limiting is not built yet, so the list of windows is empty.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitUsage {
    #[schema(example = "rate_limits")]
    pub object: &'static str,
    pub tenant_id: Option<String>,
    /// One entry per window of the tenant's plan (none until rate limiting lands).
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<serde_json::Value>,
}

#[utoipa::path(get, path = "/api/v1/rate_limits", tag = "rate_limits",
    responses((status = 200, description = "The caller's usage per window", body = RateLimitUsage)))]
pub async fn usage(principal: Principal) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(RateLimitUsage {
        object: "rate_limits",
        tenant_id: principal.tenant_id,
        data: Vec::new(),
    }))
}
