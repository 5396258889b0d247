//! docs/protect-your-api.md over real HTTP: `GET /verify` (forward authentication) and
//! `POST /api/v1/verify` answer whether a key or token is good for one of the tenant's APIs,
//! whose it is, and whether its plan allows the call.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{AUDIENCE, Backend, TEST_API, TestApp};

on_both_databases!(
    a_key_is_good_for_the_apis_whose_scopes_it_holds,
    a_token_is_good_only_for_its_audience,
    code_verifies_credentials_within_its_reach_only,
);

/// `GET /verify` as a proxy asks it: the caller's `Authorization`, the API, maybe a scope.
async fn forward(app: &TestApp, credential: Option<&str>, query: &str) -> (u16, HeaderMap) {
    let mut request = app.http.get(app.url(&format!("/verify?{query}"))).header("X-Forwarded-Method", "GET");
    if let Some(credential) = credential {
        request = request.bearer_auth(credential);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.headers().clone())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

async fn key(app: &TestApp, scopes: &[&str]) -> (String, String) {
    let body = json!({"name": "caller", "scopes": scopes});
    let key = app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    (key.id(), key.body["key"].as_str().unwrap().to_owned())
}

async fn a_key_is_good_for_the_apis_whose_scopes_it_holds(app: TestApp) {
    let (id, secret) = key(&app, &["orders:read", "users:read"]).await;
    let resource = format!("resource={}", urlencoding(TEST_API));
    let (status, headers) = forward(&app, Some(&secret), &resource).await;
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(header(&headers, "x-tollbooth-tenant"), app.tenant_id);
    assert_eq!(header(&headers, "x-tollbooth-subject"), id);
    assert_eq!(header(&headers, "x-tollbooth-scopes"), "orders:read", "this API's scopes only");
    assert_eq!(header(&headers, "x-tollbooth-organization"), "-", "always sent, so no client's own stands in");

    let (status, headers) = forward(&app, Some(&secret), &format!("{resource}&scope=orders:write")).await;
    assert_eq!(status, 403, "a scope the key lacks");
    assert!(header(&headers, "www-authenticate").contains("insufficient_scope"));
    assert_eq!(forward(&app, Some(&secret), &format!("{resource}&scope=orders:read")).await.0, 200);

    let (status, headers) = forward(&app, None, &resource).await;
    assert_eq!(status, 401, "no credential");
    assert!(header(&headers, "www-authenticate").starts_with("Bearer"));
    assert_eq!(forward(&app, Some("sk_live_madeup"), &resource).await.0, 401);
    let (_, management_only) = key(&app, &["users:read"]).await;
    assert_eq!(forward(&app, Some(&management_only), &resource).await.0, 401, "a key for no scope of this API");
    assert_eq!(forward(&app, Some(&secret), "resource=https%3A%2F%2Fother.example").await.0, 401, "another API");
    assert_eq!(forward(&app, Some(&app.operator_key), &resource).await.0, 401, "the operator key is no tenant's");
    assert_eq!(forward(&app, Some(&secret), "").await.0, 422, "no resource named");

    // Envoy asks with the original method, path and query: the API comes from its header only.
    let envoy = |method: reqwest::Method, path: &str| {
        app.http
            .request(method, app.url(&format!("/verify{path}")))
            .bearer_auth(&secret)
            .header("X-Tollbooth-Resource", TEST_API)
    };
    let asked = envoy(reqwest::Method::POST, "/orders?tag=a&tag=b").send().await.unwrap();
    assert_eq!(asked.status(), 200, "any method, any query");
    let elsewhere = envoy(reqwest::Method::GET, "/orders?resource=https%3A%2F%2Fother.example&scope=orders:write");
    assert_eq!(elsewhere.send().await.unwrap().status(), 200, "the client's query names no API and no scope");
    let scoped =
        envoy(reqwest::Method::GET, "/orders").header("X-Tollbooth-Scope", "orders:write").send().await.unwrap();
    assert_eq!(scoped.status(), 403);

    app.call("DELETE", &format!("/api/v1/api_keys/{id}"), &app.tenant_key, Value::Null).await.expect(204);
    assert_eq!(forward(&app, Some(&secret), &resource).await.0, 401, "revoked: refused at once");
}

async fn a_token_is_good_only_for_its_audience(app: TestApp) {
    let (client_id, secret) = app.confidential_client(&["orders:read", "users:read"]).await;
    let resource = format!("resource={}", urlencoding(TEST_API));
    let for_api = token(&app, &client_id, &secret, Some(TEST_API), "orders:read").await;
    let (status, headers) = forward(&app, Some(&for_api), &resource).await;
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(header(&headers, "x-tollbooth-subject"), client_id);
    assert_eq!(header(&headers, "x-tollbooth-scopes"), "orders:read");
    let for_management = token(&app, &client_id, &secret, None, "users:read").await;
    assert_eq!(forward(&app, Some(&for_management), &resource).await.0, 401, "a token for the management API");
    let management = format!("resource={}", urlencoding(AUDIENCE));
    assert_eq!(forward(&app, Some(&for_management), &management).await.0, 401, "the management API is no tenant API");
    let (status, headers) = forward(&app, Some("a.b.c"), &resource).await;
    assert_eq!(status, 401);
    assert!(header(&headers, "www-authenticate").contains("invalid_token"));
}

async fn code_verifies_credentials_within_its_reach_only(app: TestApp) {
    let (id, secret) = key(&app, &["orders:read"]).await;
    let (_, caller) = key(&app, &["orders:read"]).await;
    let body = json!({"credential": secret, "resource": TEST_API, "scope": "orders:read"});
    let answer = app.call("POST", "/api/v1/verify", &caller, body).await.expect(200);
    assert_eq!(answer.body["valid"], true, "{}", answer.body);
    assert_eq!(answer.body["subject"], id.as_str());
    assert_eq!(answer.body["tenant_id"], app.tenant_id.as_str());
    assert_eq!(answer.body["scopes"], json!(["orders:read"]));

    let body = json!({"credential": secret, "resource": TEST_API, "scope": "orders:write"});
    let answer = app.call("POST", "/api/v1/verify", &caller, body).await.expect(200);
    assert_eq!(
        (answer.body["valid"].as_bool(), answer.body["error"].as_str()),
        (Some(false), Some("insufficient_scope"))
    );

    // Another tenant's caller learns nothing of this tenant's keys.
    let other = app.other_tenant_key().await;
    let body = json!({"credential": secret, "resource": TEST_API});
    let answer = app.call("POST", "/api/v1/verify", &other, body).await.expect(200);
    assert_eq!((answer.body["valid"].as_bool(), answer.body["subject"].clone()), (Some(false), Value::Null));
    // An organization's caller, only of its own organization's.
    let org =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Acme"})).await.expect(201).id();
    let body = json!({"name": "acme", "scopes": ["orders:read"], "organization_id": org});
    let org_key = app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    let org_secret = org_key.body["key"].as_str().unwrap().to_owned();
    let ask = |credential: &str| json!({"credential": credential, "resource": TEST_API});
    let answer = app.call("POST", "/api/v1/verify", &org_secret, ask(&secret)).await.expect(200);
    assert_eq!(answer.body["valid"], false, "the tenant's own key is out of its reach");
    let answer = app.call("POST", "/api/v1/verify", &org_secret, ask(&org_secret)).await.expect(200);
    assert_eq!(answer.body["valid"], true);
    assert_eq!(answer.body["organization_id"], org.as_str());
    let answer = app.call("POST", "/api/v1/verify", &caller, json!({"resource": TEST_API})).await.expect(422);
    assert_eq!(answer.body["errors"][0]["field"], "credential");
}

/// A client-credentials token for `resource` (RFC 8707), or for the management API.
async fn token(app: &TestApp, client_id: &str, secret: &str, resource: Option<&str>, scope: &str) -> String {
    let mut form = vec![("grant_type", "client_credentials"), ("scope", scope)];
    if let Some(resource) = resource {
        form.push(("resource", resource));
    }
    let response =
        app.http.post(app.url("/oauth/token")).basic_auth(client_id, Some(secret)).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn plan(windows: &str, writes: &str) -> String {
    format!(
        "[rate_limit]\nplan_default = \"test\"\n\n[rate_limit.plans.test]\nwindows = [{windows}]\nwrites = [{writes}]\n"
    )
}

/// The plan counts verified calls (writes in the write windows too), apart from the tenant's
/// management-API budget; a spent plan is 429 with `Retry-After` and the rate-limit headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_calls_count_against_the_plan_apart_from_the_management_api() {
    let config = plan("{ window = \"1h\", limit = 40 }", "{ window = \"1h\", limit = 2 }");
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, &[]).await.unwrap();
    let (_, secret) = key(&app, &["orders:write"]).await;
    let url = app.url(&format!("/verify?resource={}", urlencoding(TEST_API)));
    // Any method but the safe ones writes, a WebDAV one too.
    let write = |method| app.http.get(&url).bearer_auth(&secret).header("X-Original-Method", method).send();
    for method in ["POST", "PROPFIND"] {
        let allowed = write(method).await.unwrap();
        assert_eq!(allowed.status(), 200);
        assert!(allowed.headers().contains_key("x-ratelimit-remaining"));
    }
    let refused = write("PUT").await.unwrap();
    assert_eq!(refused.status(), 429, "the plan's write window is spent");
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
    let read = app.http.get(&url).bearer_auth(&secret).header("X-Forwarded-Method", "GET").send().await.unwrap();
    assert_eq!(read.status(), 200, "reads are counted in the other windows");
    let usage = app.call("GET", "/api/v1/rate_limits", &app.tenant_key, Value::Null).await.expect(200);
    let used: Vec<u64> = usage.body["data"].as_array().unwrap().iter().map(|w| w["used"].as_u64().unwrap()).collect();
    assert!(used.iter().all(|used| *used <= 3), "verified calls are not management-API calls: {used:?}");
}

/// A stranger's loop of made-up keys stops at the per-address limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_count_against_the_address() {
    let config = format!(
        "{}\n[rate_limit.rules]\nper_ip = [{{ window = \"1h\", limit = 5 }}]\n",
        plan("{ window = \"1h\", limit = 1000 }", "")
    );
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, &[]).await.unwrap();
    let resource = format!("resource={}", urlencoding(TEST_API));
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(forward(&app, Some(&format!("sk_live_madeup{i}")), &resource).await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    let (_, secret) = key(&app, &["orders:read"]).await;
    assert_eq!(forward(&app, Some(&secret), &resource).await.0, 200, "good credentials are not refused for it");
}

/// An organization with a plan of its own: its keys count against it, shared (and within the
/// tenant's plan); a key's own limit counts with the plans, in the same check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_plans_and_keys_own_limits_are_counted() {
    let config = format!(
        "{}\n[rate_limit.plans.small]\nwindows = [{{ window = \"1h\", limit = 3 }}]\n",
        plan("{ window = \"1h\", limit = 1000 }", "")
    );
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, &[]).await.unwrap();
    let unknown =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "X", "plan": "gold"})).await;
    assert_eq!(unknown.expect(422).body["errors"][0]["field"], "plan");
    let org =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Acme", "plan": "small"})).await;
    let org = org.expect(201);
    assert_eq!(org.body["plan"], "small");
    let org = org.id();
    let org_key = |name: &str| json!({"name": name, "scopes": ["orders:read"], "organization_id": org});
    let first = app.call("POST", "/api/v1/api_keys", &app.tenant_key, org_key("a")).await.expect(201);
    let second = app.call("POST", "/api/v1/api_keys", &app.tenant_key, org_key("b")).await.expect(201);
    let (_, tenant_level) = key(&app, &["orders:read"]).await;
    let resource = format!("resource={}", urlencoding(TEST_API));
    let mut statuses = Vec::new();
    for secret in [&first, &second, &first, &second].map(|k| k.body["key"].as_str().unwrap().to_owned()) {
        statuses.push(forward(&app, Some(&secret), &resource).await.0);
    }
    assert_eq!(statuses, [200, 200, 200, 429], "the organization's keys share its plan");
    let (status, headers) = forward(&app, Some(&tenant_level), &resource).await;
    assert_eq!(status, 200, "the tenant's plan has room for its other keys");
    assert_eq!(header(&headers, "x-ratelimit-limit"), "1000");

    // Back on the tenant's plan.
    let cleared =
        app.call("PATCH", &format!("/api/v1/organizations/{org}"), &app.tenant_key, json!({"plan": null})).await;
    assert_eq!(cleared.expect(200).body["plan"], Value::Null);
    assert_eq!(forward(&app, Some(first.body["key"].as_str().unwrap()), &resource).await.0, 200);

    // A key's own limit.
    let bad = json!({"name": "k", "scopes": ["orders:read"], "rate_limit": {"window": "soon", "limit": 0}});
    let refused = app.call("POST", "/api/v1/api_keys", &app.tenant_key, bad).await.expect(422);
    let fields: Vec<&str> =
        refused.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["rate_limit.window", "rate_limit.limit"]);
    let limited = json!({"name": "k", "scopes": ["orders:read"], "rate_limit": {"window": "1h", "limit": 2}});
    let limited = app.call("POST", "/api/v1/api_keys", &app.tenant_key, limited).await.expect(201);
    assert_eq!(limited.body["rate_limit"], json!({"window": "1h", "limit": 2}));
    let secret = limited.body["key"].as_str().unwrap().to_owned();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(forward(&app, Some(&secret), &resource).await.0);
    }
    assert_eq!(statuses, [200, 200, 429], "its own limit, though its plan has room");
    assert_eq!(forward(&app, Some(&tenant_level), &resource).await.0, 200, "the refusal counted nothing in the plan");
}

/// A server on `config`, and the secret of a key with `scope` in an organization on `plan`.
async fn organization_key_on_plan(config: &str, plan: &str, scope: &str) -> (TestApp, String) {
    let app = TestApp::spawn_configured(Backend::Sqlite, config, &[]).await.unwrap();
    let body = json!({"name": "Acme", "plan": plan});
    let org = app.call("POST", "/api/v1/organizations", &app.tenant_key, body).await.expect(201).id();
    let body = json!({"name": "a", "scopes": [scope], "organization_id": org});
    let key = app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    let secret = key.body["key"].as_str().unwrap().to_owned();
    (app, secret)
}

/// The tenant's plan is the ceiling: an organization with a bigger plan of its own still stops
/// at the tenant's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizations_plan_divides_the_tenants_never_exceeds_it() {
    let config = format!(
        "{}\n[rate_limit.plans.big]\nwindows = [{{ window = \"1h\", limit = 1000 }}]\n",
        plan("{ window = \"1h\", limit = 2 }", "")
    );
    let (app, secret) = organization_key_on_plan(&config, "big", "orders:read").await;
    let resource = format!("resource={}", urlencoding(TEST_API));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(forward(&app, Some(&secret), &resource).await.0);
    }
    assert_eq!(statuses, [200, 200, 429]);
}

/// An organization's write windows count writes, whatever windows the tenant's plan has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizations_write_windows_count_writes() {
    let config = format!(
        "{}\n[rate_limit.plans.careful]\nwindows = [{{ window = \"1h\", limit = 1000 }}]\nwrites = [{{ window = \"1h\", limit = 1 }}]\n",
        plan("{ window = \"1h\", limit = 1000 }", "")
    );
    let (app, secret) = organization_key_on_plan(&config, "careful", "orders:write").await;
    let url = app.url(&format!("/verify?resource={}", urlencoding(TEST_API)));
    let call =
        |method: &'static str| app.http.get(&url).bearer_auth(&secret).header("X-Forwarded-Method", method).send();
    assert_eq!(call("POST").await.unwrap().status(), 200);
    assert_eq!(call("POST").await.unwrap().status(), 429, "one write an hour");
    assert_eq!(call("GET").await.unwrap().status(), 200, "reads are not writes");
}
