//! Rate limiting (docs/rate-limits.md) for everything but the endpoints clients authenticate to
//! (token, introspection, revocation: `tollbooth_oauth::limits` counts those per address and
//! per client): authenticated `/api/v1` requests count against their tenant's plan, everything
//! else without a tenant against the per-IP last line. Counted responses carry the rate-limit
//! headers; a refused request is answered 429 before it reaches its handler.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};
use tollbooth_http::rate_limit_headers::{self, unix_now};
use tollbooth_resource::ManagementApi;
use tollbooth_resource::auth::authenticate;
use tollbooth_resource::error::ApiError;
use tollbooth_storage::rate_limit::{Budget, Verdict};

/// Paths this middleware does not count: probes, and the endpoints of authenticated clients
/// (token, introspection, revocation), which count per client themselves: a resource server
/// introspecting from one address must not run into the per-IP last line.
fn uncounted(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/oauth/token" | "/oauth/introspect" | "/oauth/revoke")
        // Forward authentication counts each call against its caller's plan, and a refused
        // credential against the address (docs/protect-your-api.md): a proxy's one address
        // must not run into the per-IP last line.
        || path == "/verify"
        || path.starts_with("/verify/")
}

/// Whether a request counts in the write windows: a write method, except `POST
/// /api/v1/verify`, which changes nothing (docs/protect-your-api.md).
fn is_write(method: &Method, path: &str) -> bool {
    tollbooth_http::methods::is_write(method.as_str()) && path != "/api/v1/verify"
}

pub fn add_headers(response: &mut HttpResponse<impl MessageBody>, verdict: &Verdict) {
    rate_limit_headers::insert(response, rate_limit_headers::of(verdict, unix_now()));
}

pub async fn enforce(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if uncounted(request.path()) {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    }
    let api = request.app_data::<web::Data<ManagementApi>>().cloned();
    let limiter = api.as_ref().and_then(|r| r.rate_limiter.clone());
    let (Some(api), Some(limiter)) = (api, limiter) else {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    };
    let tenant = if request.path().starts_with("/api/v1/") {
        // Authenticates once; the handler reuses the principal. A failure is the handler's to
        // answer (401), and the request counts against its IP address.
        authenticate(request.request()).await.ok().and_then(|principal| principal.tenant_id)
    } else {
        None
    };
    let verdict = match tenant {
        Some(tenant_id) => {
            let plan = match api.tenant_plan(&tenant_id).await {
                Ok(plan) => plan,
                Err(err) => return Ok(request.into_response(err.error_response())),
            };
            limiter
                .count(Budget::Tenant {
                    tenant_id: &tenant_id,
                    plan: &plan,
                    write: is_write(request.method(), request.path()),
                })
                .await
        }
        None => {
            let address = tollbooth_http::client_address::rate_limit_address(request.request());
            limiter.count(Budget::Address(&address)).await
        }
    };
    if !verdict.allowed {
        crate::metrics::RATE_LIMIT_REFUSALS.inc();
        let mut refusal = ApiError::rate_limited(verdict.retry_after(unix_now())).error_response();
        add_headers(&mut refusal, &verdict);
        return Ok(request.into_response(refusal));
    }
    let headers = rate_limit_headers::of(&verdict, unix_now());
    // `GET /api/v1/rate_limits` answers from this verdict: no second round trip.
    request.extensions_mut().insert(verdict);
    let mut response = next.call(request).await?.map_into_boxed_body();
    rate_limit_headers::insert(response.response_mut(), headers);
    Ok(response)
}
