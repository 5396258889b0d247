//! docs/rate-limits.md rate limits, against real counter stores: exact counts per window under heavy
//! concurrency (memory with one instance, Redis with two), epoch-aligned rollover, refusals
//! that cost nothing, shared tenant budgets, headers, the token endpoint's own limits, and a
//! Redis that goes away and comes back.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::peers::{PrivateRedis, free_port};
use crate::support::{Backend, TestApp, shared_redis};

fn plan_config(windows: &str, writes: &str, extra: &str) -> String {
    format!(
        "[rate_limit]\nplan_default = \"test\"\n\n[rate_limit.plans.test]\nwindows = [{windows}]\nwrites = [{writes}]\n{extra}"
    )
}

/// One answer seen by a client: its status and its rate-limit headers.
#[derive(Debug)]
struct Seen {
    status: u16,
    reset: Option<u64>,
    remaining: Option<u64>,
    retry_after: Option<u64>,
}

fn header(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// `clients` concurrent clients send `GET /api/v1/rate_limits` with `key`, round-robin over
/// `bases`, until `deadline`.
async fn hammer(bases: &[String], key: &str, clients: usize, deadline: Instant) -> Vec<Seen> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().unwrap();
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let (http, url, key) =
                (http.clone(), format!("{}/api/v1/rate_limits", bases[i % bases.len()]), key.to_owned());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while Instant::now() < deadline {
                    let response = http.get(&url).bearer_auth(&key).send().await.unwrap();
                    seen.push(Seen {
                        status: response.status().as_u16(),
                        reset: header(&response, "x-ratelimit-reset"),
                        remaining: header(&response, "x-ratelimit-remaining"),
                        retry_after: header(&response, "retry-after"),
                    });
                }
                seen
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Every window wholly inside the run saw exactly `limit` 2xx answers; every refusal was a
/// well-formed 429.
fn assert_exact(seen: &[Seen], window: u64, limit: usize, started: u64, ended: u64) {
    assert!(seen.iter().all(|s| s.status == 200 || s.status == 429), "only 200 and 429");
    let mut allowed: BTreeMap<u64, usize> = BTreeMap::new();
    for s in seen.iter().filter(|s| s.status == 200) {
        let reset = s.reset.expect("X-RateLimit-Reset on every counted answer");
        assert_eq!(reset % window, 0, "windows are aligned to the epoch");
        *allowed.entry(reset).or_default() += 1;
    }
    for (reset, count) in &allowed {
        assert!(*count <= limit, "window ending at {reset} allowed {count} > {limit}: {allowed:?}");
    }
    // Whole windows only: `started` and `ended` are truncated to the second.
    let full: Vec<(&u64, &usize)> =
        allowed.iter().filter(|(reset, _)| **reset - window > started && **reset <= ended).collect();
    assert!(full.len() >= 2, "the run covers at least two whole windows: {allowed:?}");
    for (reset, count) in full {
        assert_eq!(*count, limit, "window ending at {reset}: {allowed:?}");
    }
    for refusal in seen.iter().filter(|s| s.status == 429) {
        assert_eq!(refusal.remaining, Some(0));
        assert!(refusal.retry_after.is_some_and(|r| (1..=window).contains(&r)), "{refusal:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_allows_exactly_the_limit_per_window() {
    let config = plan_config("{ window = \"2s\", limit = 40 }", "", "");
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, &[]).await.unwrap();
    let started = unix_now();
    let seen =
        hammer(std::slice::from_ref(&app.base_url), &app.tenant_key, 200, Instant::now() + Duration::from_millis(8500))
            .await;
    assert_exact(&seen, 2, 40, started, unix_now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_allow_exactly_the_limit_per_window() {
    let Some(redis) = shared_redis() else { return };
    // A generous timeout: this test is about exactness while Redis answers, on a busy machine.
    let config = plan_config("{ window = \"2s\", limit = 40 }", "", "");
    let env = [("TOLLBOOTH_REDIS_URL", redis.as_str()), ("TOLLBOOTH_RATE_LIMIT_REDIS_TIMEOUT_MS", "5000")];
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, &env).await.unwrap();
    let config_path = app.config_path();
    let sibling = app.spawn_sibling(&config_path, &env);
    let started = unix_now();
    let bases = [app.base_url.clone(), sibling.base_url.clone()];
    let seen = hammer(&bases, &app.tenant_key, 200, Instant::now() + Duration::from_millis(8500)).await;
    assert_exact(&seen, 2, 40, started, unix_now());
    let ready: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["counter_store"], "redis");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_cost_nothing_and_tenants_share_one_budget() {
    refusals_cost_nothing_and_tenants_share_one_budget_with(&[]).await;
}

/// The same in Redis, whose script counts first and takes the counts back on a refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_cost_nothing_in_redis_either() {
    let Some(redis) = shared_redis() else { return };
    let env = [("TOLLBOOTH_REDIS_URL", redis.as_str()), ("TOLLBOOTH_RATE_LIMIT_REDIS_TIMEOUT_MS", "5000")];
    refusals_cost_nothing_and_tenants_share_one_budget_with(&env).await;
}

async fn refusals_cost_nothing_and_tenants_share_one_budget_with(env: &[(&str, &str)]) {
    let config = plan_config("{ window = \"1h\", limit = 6 }", "{ window = \"1h\", limit = 1 }", "");
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, env).await.unwrap();
    let key = app.tenant_key.clone();
    let write = app.call("POST", "/api/v1/organizations", &key, json!({"name": "only write"})).await.expect(201);
    let org_id = write.id();
    for _ in 0..3 {
        let refused = app.call("POST", "/api/v1/organizations", &key, json!({"name": "refused"})).await.expect(429);
        assert_eq!(refused.error(), "rate_limit_exceeded");
        assert!(refused.body["message"].as_str().unwrap().starts_with("Rate limit exceeded. Try again in "));
    }
    let usage = app.call("GET", "/api/v1/rate_limits", &key, Value::Null).await.expect(200);
    let windows: BTreeMap<String, u64> = usage.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (format!("{}/{}", w["class"].as_str().unwrap(), w["window"].as_str().unwrap()), w["used"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(
        windows,
        BTreeMap::from([("all/1h".to_owned(), 2), ("writes/1h".to_owned(), 1)]),
        "refusals consumed nothing"
    );
    assert_eq!(usage.body["plan"], "test");

    // Another key and an organization key of the tenant draw on the same budget (4 left of 6).
    let other_key = app.call("POST", "/api/v1/api_keys", &key, json!({"name": "k2", "scopes": ["admin"]})).await;
    assert_eq!(other_key.status, 429, "a write: the write window is full");
    let org_key = {
        // Keys are made through storage here: the tenant's write budget is spent.
        let hasher = tollbooth::app::secret_hasher(&app.settings, &app.db).unwrap();
        let (stored, secret) = tollbooth_storage::api_keys::new_key(
            &hasher,
            tollbooth_storage::api_keys::NewApiKey {
                rate_limit: None,
                tenant_id: Some(&app.tenant_id),
                organization_id: Some(&org_id),
                name: "org",
                scopes: vec!["admin".into()],
                environment: "live",
                expires_at: None,
            },
        );
        app.db.run(move |conn| tollbooth_storage::api_keys::insert(conn, &stored)).await.unwrap();
        secrecy::ExposeSecret::expose_secret(&secret).to_owned()
    };
    app.call("GET", "/api/v1/users", &org_key, Value::Null).await.expect(200);
    app.call("GET", "/api/v1/users", &key, Value::Null).await.expect(200);
    app.call("GET", "/api/v1/users", &org_key, Value::Null).await.expect(200);
    let last = app.call("GET", "/api/v1/users", &key, Value::Null).await.expect(200);
    assert_eq!(last.body["object"], "list");
    let refused = app.call("GET", "/api/v1/users", &key, Value::Null).await.expect(429);
    assert_eq!(refused.error(), "rate_limit_exceeded");
    app.call("GET", "/api/v1/users", &org_key, Value::Null).await.expect(429);
    // Another tenant has its own budget.
    let (_, other_tenant) = {
        let created =
            app.call("POST", "/api/v1/tenants", &app.operator_key, json!({"name": "Other"})).await.expect(201);
        (created.id(), created.body["api_key"]["key"].as_str().unwrap().to_owned())
    };
    app.call("GET", "/api/v1/users", &other_tenant, Value::Null).await.expect(200);
    let ready: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    let store = if env.is_empty() { "memory" } else { "redis" };
    assert_eq!(ready["counter_store"], store, "counted where the test meant to count");
    assert_eq!(fallbacks(&app).await, 0, "and never locally on the way");
}

/// `tollbooth_counter_store_fallbacks_total`: the checks counted locally for want of Redis.
async fn fallbacks(app: &TestApp) -> u64 {
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let line = metrics.lines().find_map(|l| l.strip_prefix("tollbooth_counter_store_fallbacks_total "));
    line.and_then(|value| value.parse().ok()).unwrap_or_else(|| panic!("no fallback count in {metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counted_answers_carry_rate_limit_headers_and_windows_roll_over() {
    let config = plan_config("{ window = \"2s\", limit = 3 }, { window = \"1h\", limit = 1000 }", "", "");
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, &[]).await.unwrap();
    // Start at the beginning of a 2 s window, so the three requests share it.
    while !unix_now().is_multiple_of(2) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = app.http.get(app.url("/api/v1/clients")).bearer_auth(&app.tenant_key).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(headers["x-ratelimit-limit"], "3", "the tightest window");
        let reset: u64 = headers["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        assert_eq!(reset % 2, 0);
        assert_eq!(headers["ratelimit-policy"], "\"2s\";q=3;w=2, \"1h\";q=1000;w=3600");
        assert!(headers["ratelimit"].to_str().unwrap().starts_with("\"2s\";r="));
        remaining.push(headers["x-ratelimit-remaining"].to_str().unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = app.http.get(app.url("/api/v1/clients")).bearer_auth(&app.tenant_key).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry));
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let next_window = app.http.get(app.url("/api/v1/clients")).bearer_auth(&app.tenant_key).send().await.unwrap();
    assert_eq!(next_window.status(), 200, "a new window starts at the epoch boundary");
    assert_eq!(next_window.headers()["x-ratelimit-remaining"], "2");
    // Probes are never counted.
    for _ in 0..5 {
        let health = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert!(health.headers().get("x-ratelimit-limit").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_is_limited_per_client() {
    let rules = "\n[rate_limit.rules]\ntoken_per_client = [{ window = \"1h\", limit = 3 }]\ntoken_per_ip = [{ window = \"1h\", limit = 100 }]\n";
    let config = plan_config("{ window = \"1s\", limit = 1000 }", "", rules);
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, &[]).await.unwrap();
    let (id, secret) = app.confidential_client(&[]).await;
    let (other_id, other_secret) = app.confidential_client(&[]).await;
    let ask = |id: &str, secret: &str| {
        app.http
            .post(app.url("/oauth/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    for expected_remaining in ["2", "1", "0"] {
        let response = ask(&id, &secret).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-ratelimit-remaining"], expected_remaining);
    }
    let refused = ask(&id, &secret).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "rate_limit_exceeded");
    assert_eq!(ask(&other_id, &other_secret).await.unwrap().status(), 200, "each client has its own budget");
}

async fn wait_for_store(app: &TestApp, status: &str) -> Value {
    for _ in 0..60 {
        // A counted request lets the instance notice; /readyz reports what it noticed.
        let _ = app.http.get(app.url("/api/v1/clients")).bearer_auth(&app.tenant_key).send().await;
        let ready: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
        if ready["counter_store"] == status {
            return ready;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the counter store never became {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_away_falls_back_to_local_counters_and_recovers() {
    let Some(redis) = PrivateRedis::on_free_port() else { return };
    let url = redis.url();
    let config = plan_config("{ window = \"1h\", limit = 100000 }", "", "");
    let app =
        TestApp::spawn_configured(Backend::Sqlite, &config, &[("TOLLBOOTH_REDIS_URL", url.as_str())]).await.unwrap();
    wait_for_store(&app, "redis").await;

    redis.stop();
    let started = Instant::now();
    for _ in 0..20 {
        let response = app.http.get(app.url("/api/v1/clients")).bearer_auth(&app.tenant_key).send().await.unwrap();
        assert_eq!(response.status(), 200, "no 5xx and no refusal while Redis is away");
    }
    assert!(started.elapsed() < Duration::from_secs(5), "no hang: {:?}", started.elapsed());
    let ready = wait_for_store(&app, "fallback").await;
    assert_eq!(ready["status"], "ready", "the instance stays ready on local counters");
    assert!(fallbacks(&app).await > 0, "checks were counted locally");
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tollbooth_counter_store_up 0"), "{metrics}");

    assert!(PrivateRedis::start(redis.port), "redis-server restarts");
    wait_for_store(&app, "redis").await;
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tollbooth_counter_store_up 1"), "{metrics}");
}

/// A Redis restart is no failure: each worker's connection, closed by Redis, is made again at
/// its next check, and not one check is counted locally (docs/rate-limits.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_sends_no_check_to_local_counting() {
    let Some(redis) = PrivateRedis::on_free_port() else { return };
    let url = redis.url();
    let config = plan_config("{ window = \"1h\", limit = 100000 }", "", "");
    let env = [
        ("TOLLBOOTH_REDIS_URL", url.as_str()),
        ("TOLLBOOTH_WORKERS", "2"),
        ("TOLLBOOTH_RATE_LIMIT_REDIS_TIMEOUT_MS", "5000"),
    ];
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, &env).await.unwrap();
    // A new HTTP connection each time, so that every worker (and so every Redis connection)
    // takes some: the server hands connections to its workers in turn.
    let calls_on_new_connections = async || {
        for _ in 0..8 {
            let client = reqwest::Client::new();
            let response = client.get(app.url("/api/v1/clients")).bearer_auth(&app.tenant_key).send().await.unwrap();
            assert_eq!(response.status(), 200);
        }
    };
    calls_on_new_connections().await;
    assert_eq!(fallbacks(&app).await, 0, "every worker counted in Redis");

    redis.stop();
    assert!(PrivateRedis::start(redis.port), "redis-server restarts and listens");
    calls_on_new_connections().await;
    assert_eq!(fallbacks(&app).await, 0, "no worker counted locally after the restart");
    // The restarted Redis's statistics start at zero: all 8 checks reached it (a worker's
    // first also asks for the script, which the restart forgot).
    let stats = std::process::Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "info", "commandstats"])
        .output()
        .expect("redis-cli runs");
    let stats = String::from_utf8_lossy(&stats.stdout);
    let scripts_run: u64 = stats
        .lines()
        .filter(|line| line.starts_with("cmdstat_evalsha:") || line.starts_with("cmdstat_eval:"))
        .filter_map(|line| line.split_once("calls=")?.1.split(',').next()?.parse::<u64>().ok())
        .sum();
    assert!(scripts_run >= 8, "{stats}");
    let ready: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["counter_store"], "redis");
}

/// A Redis that is not there shows in `/readyz` and `/metrics` from the start, not only after
/// a request was counted locally (docs/rate-limits.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_shows_before_any_check() {
    let url = format!("redis://127.0.0.1:{}/", free_port());
    let config = plan_config("{ window = \"1h\", limit = 100000 }", "", "");
    let app =
        TestApp::spawn_configured(Backend::Sqlite, &config, &[("TOLLBOOTH_REDIS_URL", url.as_str())]).await.unwrap();
    let started = Instant::now();
    loop {
        let ready: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
        if ready["counter_store"] == "fallback" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still {ready}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fallbacks(&app).await, 0, "seen before any check was counted locally");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticated_client_endpoints_count_per_client_not_per_address() {
    let rules = "\n[rate_limit.rules]\ntoken_per_client = [{ window = \"1h\", limit = 6 }]\nper_ip = [{ window = \"1h\", limit = 2 }]\n";
    let config = plan_config("{ window = \"1s\", limit = 1000 }", "", rules);
    let app = TestApp::spawn_configured(Backend::Sqlite, &config, &[]).await.unwrap();
    let (id, secret) = app.confidential_client(&[]).await;
    let token = app.access_token(&id, &secret, None).await; // 1 of the client's 6
    let introspect = || {
        app.http
            .post(app.url("/oauth/introspect"))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", token.as_str())])
            .send()
    };
    for _ in 0..5 {
        assert_eq!(introspect().await.unwrap().status(), 200, "the per-IP rule (2) does not apply");
    }
    let refused = introspect().await.unwrap();
    assert_eq!(refused.status(), 429, "the client's budget (6) does");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "rate_limit_exceeded");
    // Requests without a client still meet the per-IP last line.
    for expected in [200, 200, 429] {
        assert_eq!(app.http.get(app.url("/.well-known/jwks.json")).send().await.unwrap().status(), expected);
    }
}
