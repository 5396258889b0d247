//! Probes: `/healthz` (alive), `/readyz` (database and counter store), `/metrics` (Prometheus
//! text).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::{Encoder, TextEncoder};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tollbooth_resource::ManagementApi;
use tollbooth_storage::rate_limit::StoreStatus;

use crate::settings::MetricsSettings;

/// `GET /healthz`: the process is up and serving.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the database answers (503 when not), and which counter store is
/// counting: `memory`, `redis`, or `fallback` while Redis is unreachable (still ready: the
/// instance counts locally).
pub async fn readyz(api: web::Data<ManagementApi>) -> HttpResponse {
    let database = api.db.ping().await.is_ok();
    let counters = api.rate_limiter.as_ref().map_or("off", |l| l.store_status().name());
    let body = serde_json::json!({
        "status": if database { "ready" } else { "unavailable" },
        "database": if database { "ok" } else { "unreachable" },
        "counter_store": counters,
    });
    if database { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// Who may read `/metrics` (docs/security.md): it tells how busy each route and tenant plan is.
impl MetricsSettings {
    fn permits(&self, request: &HttpRequest) -> bool {
        let address = tollbooth_http::client_address::client_ip(request);
        if address.is_some_and(|ip| crate::request_log::in_ranges(&self.allow, ip)) {
            return true;
        }
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Compared as digests, so the comparison's time says nothing about the token.
        match (&self.bearer_token, presented) {
            (Some(token), Some(presented)) => {
                Sha256::digest(token.expose_secret().as_bytes()) == Sha256::digest(presented.trim().as_bytes())
            }
            _ => false,
        }
    }
}

/// `GET /metrics`: Prometheus text exposition of the registry, plus the values read at scrape
/// time (counter store, database pool); 403 for anyone `metrics.allow` and
/// `metrics.bearer_token` do not let in.
pub async fn metrics(
    request: HttpRequest,
    api: web::Data<ManagementApi>,
    access: web::Data<MetricsSettings>,
) -> HttpResponse {
    if !access.permits(&request) {
        return HttpResponse::Forbidden().content_type("text/plain").body("Metrics are not open to this address.\n");
    }
    let mut text = Vec::new();
    if let Err(err) = TextEncoder::new().encode(&prometheus::gather(), &mut text) {
        tracing::error!(error = %err, "encoding metrics failed");
    }
    let (fallbacks, up) = api
        .rate_limiter
        .as_ref()
        .map_or((0, 1), |l| (l.fallbacks(), u8::from(l.store_status() != StoreStatus::RedisFallback)));
    let (connections, idle) = api.db.pool_state();
    let statements = tollbooth_storage::STATEMENTS.load(std::sync::atomic::Ordering::Relaxed);
    let commits = tollbooth_storage::COMMITS.load(std::sync::atomic::Ordering::Relaxed);
    let scraped = format!(
        "# HELP tollbooth_counter_store_fallbacks_total Rate-limit checks counted locally because Redis did not answer.\n\
         # TYPE tollbooth_counter_store_fallbacks_total counter\n\
         tollbooth_counter_store_fallbacks_total {fallbacks}\n\
         # HELP tollbooth_counter_store_up 1 while the configured counter store answers, 0 while counting locally instead.\n\
         # TYPE tollbooth_counter_store_up gauge\n\
         tollbooth_counter_store_up {up}\n\
         # HELP tollbooth_db_pool_connections Database connections in the pool, by state.\n\
         # TYPE tollbooth_db_pool_connections gauge\n\
         tollbooth_db_pool_connections{{state=\"idle\"}} {idle}\n\
         tollbooth_db_pool_connections{{state=\"active\"}} {}\n\
         # HELP tollbooth_db_statements_total Statements sent to the database (each one round trip), BEGIN and COMMIT included.\n\
         # TYPE tollbooth_db_statements_total counter\n\
         tollbooth_db_statements_total {statements}\n\
         # HELP tollbooth_db_commits_total COMMITs sent (outermost transactions).\n\
         # TYPE tollbooth_db_commits_total counter\n\
         tollbooth_db_commits_total {commits}\n",
        connections.saturating_sub(idle)
    );
    text.extend_from_slice(scraped.as_bytes());
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(text)
}
