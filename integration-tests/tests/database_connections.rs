//! Pooled PostgreSQL connections that the database drops (a restart, a failover, an idle
//! timeout) are replaced: each fails at most one request, and the server recovers by itself.

use serde_json::Value;

use crate::support::{Backend, TestApp, UNMETERED};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_database_drops_are_replaced() {
    let env = [("TOLLBOOTH_DATABASE_MAX_CONNECTIONS", "2")];
    let Some(app) = TestApp::spawn_configured(Backend::Postgres, UNMETERED, &env).await else { return };
    for _ in 0..3 {
        app.call("GET", "/api/v1/organizations", &app.tenant_key, Value::Null).await.expect(200);
    }
    let cut = app.terminate_database_connections().await;
    assert!(cut >= 1, "the server held connections");
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let answer = app.call("GET", "/api/v1/organizations", &app.tenant_key, Value::Null).await;
        if answer.status != 200 {
            // A connection lost is the database away, briefly: 503, worth retrying.
            assert_eq!(answer.status, 503, "{}", answer.body);
            assert_eq!(answer.error(), "service_unavailable", "an error body of docs/api.md: {}", answer.body);
        }
        statuses.push(answer.status);
    }
    let failed = statuses.iter().filter(|status| **status != 200).count();
    assert!(failed <= cut, "each dropped connection fails at most one request: {statuses:?}");
    assert!(statuses[4..].iter().all(|status| *status == 200), "recovered: {statuses:?}");
}
