//! docs/configuration.md `/metrics`: Prometheus text with requests by route template and status, latency
//! histograms, tokens issued by grant, rate-limit refusals, counter-store state and pool usage.

use serde_json::Value;

use crate::support::{Backend, TestApp};

/// The value of the sample whose line starts with `series`, if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(series)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_describe_requests_tokens_limits_and_pool() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (id, secret) = app.confidential_client(&["clients:read"]).await;
    let token = app.access_token(&id, &secret, None).await;
    app.call("GET", &format!("/api/v1/clients/{id}"), &token, Value::Null).await.expect(200);
    app.call("GET", "/api/v1/clients/client_01JD6ZZZZZZZZZZZZZZZZZZZZZ", &token, Value::Null).await.expect(404);

    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    let at_least_one = |series: &str| assert!(sample(&text, series).is_some_and(|v| v >= 1.0), "{series} in\n{text}");
    at_least_one("tollbooth_http_requests_total{route=\"/oauth/token\",status=\"200\"}");
    at_least_one("tollbooth_http_requests_total{route=\"/api/v1/clients/{id}\",status=\"200\"}");
    at_least_one("tollbooth_http_requests_total{route=\"/api/v1/clients/{id}\",status=\"404\"}");
    at_least_one("tollbooth_http_request_duration_seconds_count{route=\"/api/v1/clients/{id}\"}");
    assert!(text.contains("tollbooth_http_request_duration_seconds_bucket{route=\"/oauth/token\",le=\"0.005\"}"));
    at_least_one("tollbooth_tokens_issued_total{grant=\"client_credentials\"}");
    assert!(sample(&text, "tollbooth_rate_limit_refusals_total").is_some(), "listed before any refusal");
    assert_eq!(sample(&text, "tollbooth_counter_store_up"), Some(1.0));
    assert!(sample(&text, "tollbooth_db_pool_connections{state=\"idle\"}").is_some());
    // Route templates, not raw paths: ids do not become series.
    assert!(!text.contains(&id), "no object id in a label");
}

/// Finding: `/metrics` was open to anyone. It answers the configured addresses, and elsewhere
/// only a request with the configured bearer token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_restricted_to_addresses_or_a_token() {
    let token = "a-metrics-scraper-token-of-32-characters";
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        crate::support::UNMETERED,
        &[("TOLLBOOTH_METRICS_ALLOW", "10.9.0.0/16"), ("TOLLBOOTH_METRICS_BEARER_TOKEN", token)],
    )
    .await
    .unwrap();
    let stranger = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(stranger.status(), 403, "127.0.0.1 is not in metrics.allow here");
    let wrong = app.http.get(app.url("/metrics")).bearer_auth("a-guess").send().await.unwrap();
    assert_eq!(wrong.status(), 403);
    let scraper = app.http.get(app.url("/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(scraper.status(), 200);
    // By default the loopback scraper is let in (the other metrics test relies on it).
    let default = TestApp::spawn(Backend::Sqlite).await.unwrap();
    assert_eq!(default.http.get(default.url("/metrics")).send().await.unwrap().status(), 200);
}
