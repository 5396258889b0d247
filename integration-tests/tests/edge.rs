//! docs/configuration.md at the edge: `require_https`, and forwarding headers believed only from trusted
//! proxies (client address, `X-Forwarded-Proto`, `X-Request-Id`).

use serde_json::{Value, json};

use crate::support::{Backend, TestApp, UNMETERED};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_required_unless_a_trusted_proxy_vouches() {
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        UNMETERED,
        &[("TOLLBOOTH_REQUIRE_HTTPS", "true"), ("TOLLBOOTH_TRUSTED_PROXIES", "127.0.0.0/8")],
    )
    .await
    .unwrap();
    let plain = app.http.get(app.url("/api/v1/clients")).bearer_auth(&app.tenant_key).send().await.unwrap();
    assert_eq!(plain.status(), 403);
    assert!(plain.headers().contains_key("x-request-id"));
    let body: Value = plain.json().await.unwrap();
    assert_eq!(body["error"], "https_required");
    let vouched = app
        .http
        .get(app.url("/api/v1/clients"))
        .bearer_auth(&app.tenant_key)
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(vouched.status(), 200);
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200, "probes stay open");

    // The same header from an address that is not a trusted proxy counts for nothing.
    let untrusted =
        TestApp::spawn_configured(Backend::Sqlite, UNMETERED, &[("TOLLBOOTH_REQUIRE_HTTPS", "true")]).await.unwrap();
    let claimed = untrusted
        .http
        .get(untrusted.url("/api/v1/clients"))
        .bearer_auth(&untrusted.tenant_key)
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(claimed.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_client_address_and_request_id_come_only_from_trusted_proxies() {
    let trusted = TestApp::spawn_configured(Backend::Sqlite, UNMETERED, &[("TOLLBOOTH_TRUSTED_PROXIES", "127.0.0.1")])
        .await
        .unwrap();
    let (request_id, ip) = create_forwarded(&trusted, "203.0.113.7, 127.0.0.1", "lb-abc-123").await;
    assert_eq!(request_id, "lb-abc-123", "a trusted proxy's request id is kept");
    assert_eq!(ip, "203.0.113.7", "the client the proxy forwarded for");

    let untrusted = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (request_id, ip) = create_forwarded(&untrusted, "203.0.113.7", "forged-id").await;
    assert_ne!(request_id, "forged-id");
    assert_eq!(ip, "127.0.0.1", "forwarding headers from strangers are ignored");
}

/// Creates an organization through `app` with the headers a proxy passes on; the answer's
/// request id and the address its audit event recorded.
async fn create_forwarded(app: &TestApp, forwarded_for: &str, request_id: &str) -> (String, Value) {
    let response = app
        .http
        .post(app.url("/api/v1/organizations"))
        .bearer_auth(&app.tenant_key)
        .header("x-forwarded-for", forwarded_for)
        .header("x-request-id", request_id)
        .json(&json!({"name": "Forwarded"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let answered_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let events = app.call("GET", "/api/v1/audit_logs", &app.tenant_key, Value::Null).await.expect(200);
    (answered_id, events.body["data"][0]["ip"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_https_listener_serves_tls_with_hsts() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();
    let (cert, key) = (cert_path.display().to_string(), key_path.display().to_string());
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        UNMETERED,
        &[
            ("TOLLBOOTH_TLS_CERT_PATH", cert.as_str()),
            ("TOLLBOOTH_TLS_KEY_PATH", key.as_str()),
            ("TOLLBOOTH_REQUIRE_HTTPS", "true"),
        ],
    )
    .await
    .unwrap();
    let port = url::Url::parse(&app.base_url).unwrap().port().unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    let response = client
        .get(format!("https://localhost:{port}/api/v1/clients"))
        .bearer_auth(&app.tenant_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "HTTPS satisfies require_https");
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
    // The listener speaks only TLS.
    assert!(app.http.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_err());

    let half = tollbooth::Settings::load(None, vec![("TOLLBOOTH_TLS_CERT_PATH".into(), cert)]);
    assert!(half.err().unwrap().to_string().contains("tls.cert_path"), "both or neither");
}

/// An IPv4 proxy that reaches a dual-stack listener arrives as `::ffff:127.0.0.1`: it is still
/// the proxy `trusted_proxies` names, and the client it forwards for is believed
/// (docs/security.md, "Trust boundaries").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipv4_proxy_is_trusted_on_a_dual_stack_listener() {
    // The server's URL is 127.0.0.1: it needs a [::] socket that takes IPv4 connections too.
    let dual_stack = std::net::TcpListener::bind("[::]:0").and_then(|listener| {
        let port = listener.local_addr()?.port();
        std::net::TcpStream::connect(("127.0.0.1", port)).map(drop)
    });
    if dual_stack.is_err() {
        eprintln!("skipped: this machine's [::] sockets take no IPv4 connections");
        return;
    }
    let env = [("TOLLBOOTH_LISTEN", "[::]:0"), ("TOLLBOOTH_TRUSTED_PROXIES", "127.0.0.1")];
    let app = TestApp::spawn_configured(Backend::Sqlite, UNMETERED, &env).await.unwrap();
    let (request_id, ip) = create_forwarded(&app, "203.0.113.7", "dual-1").await;
    assert_eq!(ip, "203.0.113.7", "the client the IPv4 proxy forwarded for");
    assert_eq!(request_id, "dual-1", "the trusted proxy's request id is kept");
}
