//! HTTP metrics in the process's Prometheus registry. Routes are labelled by their template
//! (`/api/v1/clients/{id}`), so the number of series stays bounded.

use std::sync::LazyLock;

use prometheus::{
    HistogramVec, IntCounter, IntCounterVec, register_histogram_vec, register_int_counter, register_int_counter_vec,
};

pub static HTTP_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "tollbooth_http_requests_total",
        "HTTP requests, by route template and status.",
        &["route", "status"]
    )
    .expect("registered once")
});

pub static HTTP_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "tollbooth_http_request_duration_seconds",
        "Time to answer an HTTP request, by route template.",
        &["route"],
        vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
    )
    .expect("registered once")
});

pub static RATE_LIMIT_REFUSALS: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!("tollbooth_rate_limit_refusals_total", "Requests refused with 429.").expect("registered once")
});

/// Registers every metric now, so `/metrics` lists them before their first event.
pub fn register() {
    LazyLock::force(&HTTP_REQUESTS);
    LazyLock::force(&HTTP_DURATION);
    LazyLock::force(&RATE_LIMIT_REFUSALS);
    LazyLock::force(&tollbooth_oauth::metrics::TOKENS_ISSUED);
}

pub fn record_request(route: &str, status: actix_web::http::StatusCode, seconds: f64) {
    HTTP_REQUESTS.with_label_values(&[route, status.as_str()]).inc();
    HTTP_DURATION.with_label_values(&[route]).observe(seconds);
}
