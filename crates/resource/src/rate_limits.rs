//! `GET /api/v1/rate_limits` (docs/rate-limits.md): the caller's tenant's usage in each window of its
//! plan. The rate-limit middleware's check of this very request read every window (counting
//! it in the plan's windows), so the answer costs no further round trip to the counter store.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde::Serialize;
use tollbooth_storage::rate_limit::Verdict;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::ManagementApi;

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowUsageView {
    /// `10s`, `1m`, `1h`, `1d`…
    pub window: String,
    /// `all` requests, or only `writes`.
    pub class: &'static str,
    pub limit: u64,
    /// Requests counted in this window so far, this one included.
    pub used: u64,
    pub remaining: u64,
    /// Unix second at which the window resets.
    pub reset: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitUsage {
    #[schema(example = "rate_limits")]
    pub object: &'static str,
    pub tenant_id: Option<String>,
    /// The tenant's rate-limit plan.
    pub plan: Option<String>,
    /// One entry per window of the tenant's plan; empty for operator keys and when rate
    /// limiting is off.
    pub data: Vec<WindowUsageView>,
}

#[utoipa::path(get, path = "/api/v1/rate_limits", operation_id = "getRateLimits", tag = "rate_limits",
    responses((status = 200, description = "The caller's usage per window", body = RateLimitUsage)))]
pub async fn usage(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ApiError> {
    let plan = match &principal.tenant_id {
        Some(tenant_id) => Some(api.tenant_plan(tenant_id).await?),
        None => None,
    };
    let windows = match (&principal.tenant_id, request.extensions().get::<Verdict>()) {
        (Some(_), Some(verdict)) => verdict.windows.clone(),
        _ => Vec::new(),
    };
    let data = windows
        .into_iter()
        .map(|usage| WindowUsageView {
            window: usage.window.label(),
            class: usage.class.name(),
            limit: usage.window.limit,
            used: usage.used,
            remaining: usage.remaining(),
            reset: usage.reset_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(RateLimitUsage { object: "rate_limits", tenant_id: principal.tenant_id, plan, data }))
}
