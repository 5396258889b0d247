//! `GET /api/v1/rate_limits` (SPEC §4, §5): the caller's tenant's usage in each window of its
//! plan, as the counters stand (reading it counts too, like every `/api/v1` request).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Resource;
use crate::auth::Principal;
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowUsageView {
    /// `10s`, `1m`, `1h`, `1d`…
    pub window: String,
    /// `all` requests, or only `writes`.
    pub class: &'static str,
    pub limit: u64,
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
    pub plan: Option<String>,
    /// One entry per window of the plan; empty for operator keys and when limiting is off.
    pub data: Vec<WindowUsageView>,
}

#[utoipa::path(get, path = "/api/v1/rate_limits", tag = "rate_limits",
    responses((status = 200, description = "The caller's usage per window", body = RateLimitUsage)))]
pub async fn usage(
    principal: Principal,
    resource: web::Data<Resource>,
) -> Result<HttpResponse, ApiError> {
    let (plan, data) = match (&principal.tenant_id, &resource.rate_limiter) {
        (Some(tenant_id), Some(limiter)) => {
            let plan = resource.tenant_plan(tenant_id).await?;
            let windows = limiter.tenant_usage(tenant_id, &plan).await;
            let data = windows
                .into_iter()
                .map(|usage| {
                    let class = if usage.name.starts_with("writes-") {
                        "writes"
                    } else {
                        "all"
                    };
                    WindowUsageView {
                        window: usage.window.label(),
                        class,
                        limit: usage.window.limit,
                        used: usage.used,
                        remaining: usage.remaining(),
                        reset: usage.reset_at,
                    }
                })
                .collect();
            (Some(plan), data)
        }
        _ => (None, Vec::new()),
    };
    Ok(HttpResponse::Ok().json(RateLimitUsage {
        object: "rate_limits",
        tenant_id: principal.tenant_id,
        plan,
        data,
    }))
}
