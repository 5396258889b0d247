//! docs/capacity.md, "Scale-out": three instances behind nginx (round robin) on one PostgreSQL
//! and one Redis act as one server; and rate counters on a Redis Cluster of three masters stay
//! exact, each subject's counters in one slot, and a lost master means local counting, never a
//! 5xx. Skipped with a message when nginx, redis-server or the shared services are missing,
//! except under `CI=true`.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::peers::{self, Proxy};
use crate::support::{Backend, TestApp, eventually, shared_redis};

/// New tenants get `exact`: 40 calls an hour (and a day window, so each tenant has several
/// counters). The test's own tenant is moved to `roomy`, so the test's set-up counts nothing
/// that matters.
const LIMIT: usize = 40;
const PLANS: &str = r#"
[rate_limit]
plan_default = "exact"

[rate_limit.plans.exact]
windows = [{ window = "1h", limit = 40 }, { window = "1d", limit = 100000 }]

[rate_limit.plans.roomy]
windows = [{ window = "1s", limit = 1000000 }]
"#;

/// nginx passing every request to `instances` in turn (docs/deployment.md), never retrying a
/// refused request at another instance.
fn round_robin(instances: &[&str]) -> Proxy {
    let servers: String =
        instances.iter().map(|base| format!("server {};\n", base.trim_start_matches("http://"))).collect();
    peers::nginx(&[], |_, port| {
        format!(
            r#"    upstream tollbooth {{
        {servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://tollbooth;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream off;
        }}
    }}
"#
        )
    })
}

async fn status_of(http: &reqwest::Client, url: String, credential: &str) -> u16 {
    http.get(url).bearer_auth(credential).send().await.unwrap().status().as_u16()
}

/// Calls `url` `2 * LIMIT` times at once with `credential`: how many were admitted per
/// window reset (several only if the run crossed the hour), and how many refused.
async fn admitted_of_twice_the_limit(
    http: &reqwest::Client,
    urls: &[String],
    credential: &str,
    log: impl Fn() -> String,
) -> (BTreeMap<String, usize>, usize) {
    let calls: Vec<_> = (0..2 * LIMIT)
        .map(|call| {
            let (http, url, credential) = (http.clone(), urls[call % urls.len()].clone(), credential.to_owned());
            tokio::spawn(async move {
                let response = http.get(url).bearer_auth(credential).send().await.unwrap();
                let reset =
                    response.headers().get("x-ratelimit-reset").and_then(|v| v.to_str().ok()).map(str::to_owned);
                (response.status().as_u16(), reset)
            })
        })
        .collect();
    let mut admitted: BTreeMap<String, usize> = BTreeMap::new();
    let mut refused = 0;
    for call in calls {
        match call.await.unwrap() {
            (200, reset) => *admitted.entry(reset.unwrap_or_default()).or_default() += 1,
            (429, _) => refused += 1,
            (status, _) => panic!("unexpected {status}: {}", log()),
        }
    }
    (admitted, refused)
}

fn assert_exactly_the_limit(admitted: &BTreeMap<String, usize>, refused: usize) {
    assert!(!admitted.is_empty(), "something was admitted: {refused} refused");
    assert!(admitted.values().all(|count| *count <= LIMIT), "{admitted:?}");
    // All in one window, unless the test ran across the hour.
    if admitted.len() == 1 {
        assert_eq!((admitted.values().sum::<usize>(), refused), (LIMIT, LIMIT), "exactly the plan's limit");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_behind_nginx_act_as_one() {
    if !peers::installed("nginx", "-v", "Debian's nginx") {
        return;
    }
    let Some(redis) = shared_redis() else { return };
    // A generous Redis timeout: this test is about exactness while Redis answers.
    let env = [("TOLLBOOTH_REDIS_URL", redis.as_str()), ("TOLLBOOTH_RATE_LIMIT_REDIS_TIMEOUT_MS", "2000")];
    let Some(a) = TestApp::spawn_configured(Backend::Postgres, PLANS, &env).await else { return };
    let b = a.spawn_sibling(&a.config_path(), &env);
    let c = a.spawn_sibling(&a.config_path(), &env);
    let instances = [a.base_url.as_str(), b.base_url.as_str(), c.base_url.as_str()];
    let proxy = round_robin(&instances).ready().await;
    let http = &a.http;
    let on = |base: &str, path: &str| format!("{base}{path}");
    a.call("PATCH", &format!("/api/v1/tenants/{}", a.tenant_id), &a.operator_key, json!({"plan": "roomy"}))
        .await
        .expect(200);

    // A key revoked through one instance is refused by the others within the key cache's
    // second (docs/deployment.md), and at once through the one that revoked it.
    let body = json!({"name": "revoked", "scopes": ["clients:read"]});
    let key = a.call("POST", "/api/v1/api_keys", &a.tenant_key, body).await.expect(201);
    let secret = key.body["key"].as_str().unwrap().to_owned();
    for base in instances {
        assert_eq!(status_of(http, on(base, "/api/v1/clients"), &secret).await, 200, "{base} has seen (cached) it");
    }
    a.call("DELETE", &format!("/api/v1/api_keys/{}", key.id()), &a.tenant_key, Value::Null).await.expect(204);
    let revoked = Instant::now();
    assert_eq!(status_of(http, on(instances[0], "/api/v1/clients"), &secret).await, 401);
    for base in &instances[1..] {
        eventually(Duration::from_secs(3), || async {
            status_of(http, on(base, "/api/v1/clients"), &secret).await == 401
        })
        .await
        .unwrap_or_else(|| panic!("{base} never refuses the revoked key"));
    }
    let refused_by_all = revoked.elapsed();
    eprintln!("three instances: a revoked key refused by all {refused_by_all:?} after the revocation");
    assert!(refused_by_all <= Duration::from_millis(1300), "refused by all after {refused_by_all:?}");
    for _ in 0..instances.len() * 2 {
        assert_eq!(status_of(http, proxy.url("/api/v1/clients"), &secret).await, 401, "{}", proxy.log());
    }

    // A key rotated through one instance (no grace): every instance takes the new secret at
    // once (nothing cached it) and refuses the old one within the second.
    let body = json!({"name": "rotated", "scopes": ["clients:read"]});
    let key = a.call("POST", "/api/v1/api_keys", &a.tenant_key, body).await.expect(201);
    let old = key.body["key"].as_str().unwrap().to_owned();
    for base in instances {
        assert_eq!(status_of(http, on(base, "/api/v1/clients"), &old).await, 200);
    }
    let rotation = json!({"grace_period_seconds": 0});
    let rotated = http
        .post(on(instances[1], &format!("/api/v1/api_keys/{}/rotate", key.id())))
        .bearer_auth(&a.tenant_key)
        .json(&rotation)
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 200);
    let rotated_at = Instant::now();
    let new = rotated.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned();
    for base in instances {
        assert_eq!(status_of(http, on(base, "/api/v1/clients"), &new).await, 200, "{base} takes the new secret");
    }
    for base in instances {
        eventually(Duration::from_secs(3), || async {
            status_of(http, on(base, "/api/v1/clients"), &old).await == 401
        })
        .await
        .unwrap_or_else(|| panic!("{base} never refuses the rotated-out secret"));
    }
    eprintln!("three instances: a rotated-out secret refused by all {:?} after the rotation", rotated_at.elapsed());
    assert!(rotated_at.elapsed() <= Duration::from_millis(1300), "old secret refused after {:?}", rotated_at.elapsed());

    // A client deleted through one instance: its token and its secret are refused by the
    // others within the second (docs/security.md, "Deleting a client").
    let (client_id, client_secret) = a.confidential_client(&["clients:read"]).await;
    let token_from = |base: &str| {
        http.post(on(base, "/oauth/token"))
            .basic_auth(&client_id, Some(&client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let token_answer = token_from(instances[1]).await.unwrap();
    assert_eq!(token_answer.status(), 200);
    let token = token_answer.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    for base in instances {
        assert_eq!(status_of(http, on(base, "/api/v1/clients"), &token).await, 200);
        assert_eq!(token_from(base).await.unwrap().status(), 200, "{base} has seen (cached) the client");
    }
    let deleted = http
        .delete(on(instances[2], &format!("/api/v1/clients/{client_id}")))
        .bearer_auth(&a.tenant_key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let deleted_at = Instant::now();
    for base in instances {
        eventually(Duration::from_secs(3), || async {
            status_of(http, on(base, "/api/v1/clients"), &token).await == 401
                && token_from(base).await.unwrap().status() == 401
        })
        .await
        .unwrap_or_else(|| panic!("{base} never refuses the deleted client"));
    }
    eprintln!("three instances: a deleted client's token and secret refused by all {:?} after", deleted_at.elapsed());
    assert!(deleted_at.elapsed() <= Duration::from_millis(1300), "refused after {:?}", deleted_at.elapsed());

    // Limits are exact across the three: twice the plan's limit, at once, through nginx.
    let (_, limited_key) = a.create_tenant("Limited").await;
    let (admitted, refused) =
        admitted_of_twice_the_limit(http, &[proxy.url("/api/v1/users")], &limited_key, || proxy.log()).await;
    eprintln!(
        "three instances behind nginx: {admitted:?} admitted (by window reset), {refused} refused; limit {LIMIT}"
    );
    assert_exactly_the_limit(&admitted, refused);
}

/// Three Redis masters in cluster mode, started by the test on ports whose cluster-bus ports
/// (+10000) are free too; killed when dropped.
struct RedisCluster {
    nodes: Vec<(u16, Child)>,
    _dir: tempfile::TempDir,
}

impl RedisCluster {
    fn start() -> Option<RedisCluster> {
        if !peers::installed("redis-server", "--version", "Debian's redis-server") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let ports = cluster_ports(3);
        let nodes = ports
            .iter()
            .map(|port| {
                let process = Command::new("redis-server")
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--cluster-enabled", "yes"])
                    .args(["--cluster-config-file", &format!("nodes-{port}.conf"), "--cluster-node-timeout", "2000"])
                    .args(["--save", "", "--appendonly", "no", "--dir"])
                    .arg(dir.path())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                (*port, process)
            })
            .collect();
        let cluster = RedisCluster { nodes, _dir: dir };
        for port in &ports {
            let deadline = Instant::now() + Duration::from_secs(10);
            while cluster.cli(*port, &["ping"]) != "PONG" {
                assert!(Instant::now() < deadline, "redis-server on {port} did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let addresses: Vec<String> = ports.iter().map(|port| format!("127.0.0.1:{port}")).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .unwrap();
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stdout));
        for port in &ports {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !cluster.cli(*port, &["cluster", "info"]).contains("cluster_state:ok") {
                assert!(Instant::now() < deadline, "the cluster never became ok on {port}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(cluster)
    }

    /// `redis-cli -p port args…`'s answer, trimmed.
    fn cli(&self, port: u16, args: &[&str]) -> String {
        let output = Command::new("redis-cli").args(["-p", &port.to_string()]).args(args).output().unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn urls(&self) -> String {
        self.nodes.iter().map(|(port, _)| format!("redis://127.0.0.1:{port}/")).collect::<Vec<_>>().join(",")
    }

    /// Every Tollbooth counter in the cluster: (the node holding it, its key).
    fn counters(&self) -> Vec<(u16, String)> {
        self.nodes
            .iter()
            .flat_map(|(port, _)| {
                self.cli(*port, &["--scan", "--pattern", "tb:*"])
                    .lines()
                    .filter(|key| !key.is_empty())
                    .map(|key| (*port, key.to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn kill(&mut self, port: u16) {
        let (_, process) = self.nodes.iter_mut().find(|(p, _)| *p == port).unwrap();
        let _ = process.kill();
        let _ = process.wait();
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for (_, process) in &mut self.nodes {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

/// `count` ports below 55536 that are free, with their cluster-bus ports (+10000) free too.
fn cluster_ports(count: usize) -> Vec<u16> {
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    let start = 20_000 + (std::process::id() % 20_000) as u16;
    (start..55_000).filter(|port| free(*port) && free(port + 10_000)).take(count).collect()
}

/// The hash tag of a counter key, `tb:{tag}:…`.
fn hash_tag(key: &str) -> &str {
    key.split_once('{').and_then(|(_, rest)| rest.split_once('}')).map_or(key, |(tag, _)| tag)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_on_a_redis_cluster_are_exact_and_survive_a_lost_master() {
    let Some(mut cluster) = RedisCluster::start() else { return };
    let urls = cluster.urls();
    let env = [
        ("TOLLBOOTH_REDIS_URL", urls.as_str()),
        ("TOLLBOOTH_RATE_LIMIT_REDIS_CLUSTER", "true"),
        ("TOLLBOOTH_RATE_LIMIT_REDIS_TIMEOUT_MS", "1000"),
    ];
    let a = TestApp::spawn_configured(Backend::Sqlite, PLANS, &env).await.unwrap();
    let b = a.spawn_sibling(&a.config_path(), &env);
    let http = &a.http;
    a.call("PATCH", &format!("/api/v1/tenants/{}", a.tenant_id), &a.operator_key, json!({"plan": "roomy"}))
        .await
        .expect(200);
    // Exact across two instances, tenant after tenant, until three tenants are counted and
    // their counters sit on at least two of the three masters (each tenant's slot is a hash
    // of its id: a few tenants suffice).
    let urls = [a.url("/api/v1/users"), format!("{}/api/v1/users", b.base_url)];
    let mut limited = Vec::new();
    let mut master_of_tenant = Vec::new();
    let mut seen_tags = std::collections::BTreeSet::new();
    while limited.len() < 3 || master_of_tenant.iter().collect::<std::collections::BTreeSet<_>>().len() < 2 {
        assert!(limited.len() < 12, "twelve tenants all on one master: {master_of_tenant:?}");
        let key = a.create_tenant(&format!("Limited {}", limited.len())).await.1;
        let (admitted, refused) = admitted_of_twice_the_limit(http, &urls, &key, String::new).await;
        assert_exactly_the_limit(&admitted, refused);
        // This tenant's counters: the one new tag with an hour and a day window, both under
        // that tag (so in one slot, on one master, checked by one script).
        let counters = cluster.counters();
        let mut keys_of_tag: BTreeMap<String, Vec<u16>> = BTreeMap::new();
        for (port, key) in &counters {
            keys_of_tag.entry(hash_tag(key).to_owned()).or_default().push(*port);
        }
        let new: Vec<(&String, &Vec<u16>)> =
            keys_of_tag.iter().filter(|(tag, nodes)| nodes.len() == 2 && !seen_tags.contains(*tag)).collect();
        assert_eq!(new.len(), 1, "one new subject with both windows under one tag: {counters:?}");
        let (tag, nodes) = new[0];
        seen_tags.insert(tag.clone());
        master_of_tenant.push(nodes[0]);
        limited.push(key);
    }
    eprintln!("{} tenants' counters on masters {master_of_tenant:?}", limited.len());
    let ready: Value = http.get(a.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["counter_store"], "redis", "{ready}");
    let counters = cluster.counters();

    // A master killed: the instance counts every subject locally for a second at a time
    // (and the cluster, once it marks the master failed, refuses every slot); no request
    // fails and none hangs.
    let (victim, _) = counters[0].clone();
    cluster.kill(victim);
    let started = Instant::now();
    let mut statuses = BTreeMap::new();
    for round in 0..10 {
        for key in limited.iter().chain([&a.tenant_key]) {
            let url = if round % 2 == 0 { a.url("/api/v1/users") } else { format!("{}/api/v1/users", b.base_url) };
            *statuses.entry(status_of(http, url, key).await).or_insert(0) += 1;
        }
    }
    assert!(statuses.keys().all(|status| [200, 429].contains(status)), "no 5xx: {statuses:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "no hang: {:?}", started.elapsed());
    let fell_back = eventually(Duration::from_secs(10), || async {
        let _ = status_of(http, a.url("/api/v1/users"), &a.tenant_key).await;
        let ready: Value = http.get(a.url("/readyz")).send().await.unwrap().json().await.unwrap();
        ready["counter_store"] == "fallback" && ready["status"] == "ready"
    })
    .await;
    assert!(fell_back.is_some(), "the instance reports counting locally, and stays ready");
}
