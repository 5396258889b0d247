//! Every response carries `X-Request-Id`, and every request is logged once, with its id,
//! method, route, status, latency and tenant; never its headers or body.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tollbooth_resource::auth::Principal;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn request_context(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = ulid::Ulid::new().to_string();
    let span = tracing::info_span!("request", request_id = %request_id);
    let method = request.method().clone();
    let started = Instant::now();
    let mut response = next.call(request).instrument(span.clone()).await?;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let tenant = response.request().extensions().get::<Principal>().and_then(|p| p.tenant_id.clone());
    tracing::info!(
        parent: &span,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = format_args!("{latency_ms:.3}"),
        tenant = tenant.as_deref().unwrap_or("-"),
        "request"
    );
    Ok(response)
}
