//! docs/capacity.md, "Bad days": faults under load. A PostgreSQL of the test's own restarted
//! under load; a Redis of its own stopped and started under load; the real binary killed
//! (SIGKILL) in the middle of writes on SQLite and on PostgreSQL. Each prints its figures
//! (`make chaos` runs these tests with `--nocapture`). Skipped with a message when PostgreSQL's
//! server programs or redis-server are missing, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use serde_json::{Value, json};
use tollbooth_storage::DbConnection;

use crate::shutdown::{binary, connect_once_up};
use crate::support::peers::{PrivateRedis, free_port};
use crate::support::{PostgresSchema, TestApp, UNMETERED, eventually, http_client, skip};

/// One request of a load: when it was sent and answered, from the load's start, and its
/// status (0: no answer at all).
#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Duration,
    answered: Duration,
    status: u16,
}

/// `workers` loops sending `request(worker, n)` for `duration`; every request's outcome.
async fn load<F>(workers: usize, duration: Duration, request: F) -> Vec<Sent>
where
    F: Fn(usize, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let began = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|worker| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut sent = Vec::new();
                let mut n = 0;
                while began.elapsed() < duration {
                    let at = began.elapsed();
                    let status = match request(worker, n).timeout(Duration::from_secs(10)).send().await {
                        Ok(response) => response.status().as_u16(),
                        Err(_) => 0,
                    };
                    sent.push(Sent { at, answered: began.elapsed(), status });
                    n += 1;
                }
                sent
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_by_key(|s| s.at);
    all
}

/// Statuses and how often each came.
fn tally(sent: &[Sent]) -> std::collections::BTreeMap<u16, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for s in sent {
        *counts.entry(s.status).or_insert(0) += 1;
    }
    counts
}

fn runs_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A PostgreSQL server of the test's own (initdb into a temporary directory), so that it can
/// be restarted without disturbing the other tests; stopped when dropped.
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    fn start() -> Option<PrivatePostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|version| version.path().join("bin"))
            .find(|bin| bin.join("initdb").is_file());
        let Some(bin) = bin else {
            skip("PostgreSQL's initdb is not installed (Debian's postgresql)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        if runs_as_root() {
            // PostgreSQL refuses to run as root: its files belong to the postgres user.
            assert!(Command::new("chown").arg("postgres").arg(dir.path()).status().unwrap().success());
        }
        let data = dir.path().join("data");
        let port = free_port();
        let postgres = PrivatePostgres { bin, data, port, _dir: dir };
        postgres.run("initdb", &["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"], &[]);
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            postgres.data.parent().unwrap().display()
        );
        postgres.run("pg_ctl", &["start", "-w", "-o", &options, "-l"], &[&postgres.log()]);
        Some(postgres)
    }

    fn log(&self) -> PathBuf {
        self.data.parent().unwrap().join("postgres.log")
    }

    /// `program -D <data>`, as the postgres user when the test runs as root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if runs_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.arg("-D").arg(&self.data);
        command
    }

    /// `program -D <data> args… paths…`, which must succeed.
    fn run(&self, program: &str, args: &[&str], paths: &[&Path]) {
        let output = self.command(program).args(args).args(paths).output().unwrap();
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.log()).unwrap_or_default()
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl restart -m fast`: open connections are cut, the server is down until it starts
    /// again; returns when it accepts connections.
    fn restart(&self) {
        self.run("pg_ctl", &["restart", "-w", "-m", "fast", "-l"], &[&self.log()]);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").args(["stop", "-m", "immediate"]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_recovers_without_restarting_tollbooth() {
    let Some(postgres) = PrivatePostgres::start() else { return };
    let Some(schema) = PostgresSchema::create(&postgres.url()).await else { return };
    let app = TestApp::spawn_on(Some(schema), UNMETERED, &[]).await;
    let postgres = Arc::new(postgres);

    // Reads and writes, six at a time, for eight seconds; the restart after two.
    let (http, base, key) = (app.http.clone(), app.base_url.clone(), app.tenant_key.clone());
    let load = tokio::spawn(load(6, Duration::from_secs(8), move |worker, n| {
        if (worker + n) % 2 == 0 {
            http.get(format!("{base}/api/v1/clients")).bearer_auth(&key)
        } else {
            http.post(format!("{base}/api/v1/organizations")).bearer_auth(&key).json(&json!({"name": "Chaos"}))
        }
    }));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let began = Instant::now();
    tokio::task::spawn_blocking({
        let postgres = postgres.clone();
        move || postgres.restart()
    })
    .await
    .unwrap();
    let restart_took = began.elapsed();
    let sent = load.await.unwrap();
    // The load began two seconds before the restart.
    let (restart_began, restart_ended) = (Duration::from_secs(2), Duration::from_secs(2) + restart_took);

    let failed: Vec<&Sent> = sent.iter().filter(|s| !(200..300).contains(&s.status)).collect();
    let in_flight = sent.iter().filter(|s| s.at <= restart_ended && s.answered >= restart_began).count();
    let recovered = failed.last().map_or(Duration::ZERO, |last| last.answered.saturating_sub(restart_ended));
    eprintln!(
        "PostgreSQL restarted under load: {} requests, {} failed {:?} of {in_flight} in flight during the \
         {restart_took:?} restart; the last failure answered {recovered:?} after PostgreSQL was back",
        sent.len(),
        failed.len(),
        tally(&failed.iter().map(|s| **s).collect::<Vec<_>>()),
    );
    assert!(failed.iter().all(|s| s.status == 503), "a database away is 503, never 500 or no answer: {failed:?}");
    assert!(failed.iter().all(|s| s.at <= restart_ended + Duration::from_secs(3)), "{failed:?}");
    assert!(recovered <= Duration::from_secs(3), "full recovery within a few seconds: {recovered:?}");
    let after = sent.iter().filter(|s| s.at > restart_ended + Duration::from_secs(3)).count();
    assert!(after > 0, "requests were sent after the recovery, and all of them answered 2xx");
    // The same process serves on: no restart of Tollbooth.
    let ready: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
}

/// New tenants get 30 calls an hour; the test's own tenant, `unmetered`.
const EXACT_AND_UNMETERED: &str = r#"
[rate_limit]
plan_default = "unmetered"

[rate_limit.plans.unmetered]
windows = [{ window = "1s", limit = 1000000 }]

[rate_limit.plans.exact]
windows = [{ window = "1h", limit = 30 }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_started_under_load_answers_every_request() {
    let Some(redis) = PrivateRedis::on_free_port() else { return };
    let url = redis.url();
    let app = TestApp::spawn_configured(
        crate::support::Backend::Sqlite,
        EXACT_AND_UNMETERED,
        &[("TOLLBOOTH_REDIS_URL", url.as_str())],
    )
    .await
    .unwrap();
    let store = async |app: &TestApp| -> String {
        let ready: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
        ready["counter_store"].as_str().unwrap_or_default().to_owned()
    };
    eventually(Duration::from_secs(5), || async { store(&app).await == "redis" }).await.expect("counting in Redis");

    // Six at a time for six seconds: Redis stops after 1.5 s and starts again at 3.5 s.
    let (http, base, key) = (app.http.clone(), app.base_url.clone(), app.tenant_key.clone());
    let load = tokio::spawn(load(6, Duration::from_secs(6), move |_, _| {
        http.get(format!("{base}/api/v1/clients")).bearer_auth(&key)
    }));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    redis.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = store(&app).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(PrivateRedis::start(redis.port), "redis-server starts again");
    let started_again = Instant::now();
    let recovered = eventually(Duration::from_secs(5), || async { store(&app).await == "redis" }).await;
    let sent = load.await.unwrap();
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let fallbacks = metrics.lines().find_map(|l| l.strip_prefix("tollbooth_counter_store_fallbacks_total ")).unwrap();
    eprintln!(
        "Redis stopped and started under load: {} requests answered {:?}; {fallbacks} counted locally; \
         counting in Redis again {:?} after it started",
        sent.len(),
        tally(&sent),
        recovered.map(|r| r.min(started_again.elapsed()))
    );
    assert_eq!(tally(&sent).keys().copied().collect::<Vec<_>>(), [200], "no 5xx, no refusal");
    assert_eq!(during, "fallback", "/readyz reports the fallback");
    assert!(recovered.is_some(), "and the recovery");
    assert!(fallbacks.parse::<u64>().unwrap() > 0, "{metrics}");

    // Exact again after the recovery: a tenant on 30 an hour gets exactly 30 of 60.
    let (tenant, limited_key) = app.create_tenant("Limited").await;
    app.call("PATCH", &format!("/api/v1/tenants/{tenant}"), &app.operator_key, json!({"plan": "exact"}))
        .await
        .expect(200);
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(app.http.get(app.url("/api/v1/users")).bearer_auth(&limited_key).send().await.unwrap().status());
    }
    let admitted = statuses.iter().filter(|s| s.as_u16() == 200).count();
    assert_eq!((admitted, statuses.len() - admitted), (30, 30), "{statuses:?}");
    assert_eq!(store(&app).await, "redis");
}

/// The real binary on `database_url`, with `config`: bootstrapped (the tenant's key), then
/// serving on `port`.
struct Server {
    process: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn environment(database_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TOLLBOOTH_DATABASE_URL", database_url.to_owned()),
        ("TOLLBOOTH_SECRETS_ENCRYPTION_KEYS", crate::support::TEST_ENCRYPTION_KEY.to_owned()),
        ("TOLLBOOTH_ISSUER", crate::support::ISSUER.to_owned()),
        ("TOLLBOOTH_LOG_LEVEL", "warn".to_owned()),
    ]
}

fn bootstrap(binary: &Path, config: &Path, database_url: &str) -> String {
    let output = Command::new(binary)
        .arg("--config")
        .arg(config)
        .args(["bootstrap", "--json"])
        .envs(environment(database_url))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    printed["tenant_key"].as_str().unwrap().to_owned()
}

fn serve(binary: &Path, config: &Path, database_url: &str) -> Server {
    let port = free_port();
    let process = Command::new(binary)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .envs(environment(database_url))
        .env("TOLLBOOTH_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server { process, port }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

#[derive(diesel::QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    let counted: Count = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).get_result(c),
        DbConnection::Postgresql(c) => diesel::sql_query(sql).get_result(c),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    counted.count
}

/// What a write acknowledged before the kill left: ids and the secrets last answered.
#[derive(Default)]
struct Acknowledged {
    keys: Vec<(String, String)>,
    clients: Vec<String>,
}

/// Four writers creating and rotating keys and clients until the server dies under them.
async fn write_until_killed(base: String, tenant_key: String) -> Acknowledged {
    let http = http_client();
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (http, base, tenant_key) = (http.clone(), base.clone(), tenant_key.clone());
            tokio::spawn(async move {
                let mut acknowledged = Acknowledged::default();
                let post = |path: String, body: Value| {
                    http.post(format!("{base}{path}")).bearer_auth(&tenant_key).json(&body).send()
                };
                for n in 0.. {
                    let body = json!({"name": format!("writer {writer} key {n}"), "scopes": ["clients:read"]});
                    let Ok(created) = post("/api/v1/api_keys".into(), body).await else { break };
                    assert_eq!(created.status(), 201);
                    let Ok(key) = created.json::<Value>().await else { break };
                    let id = key["id"].as_str().unwrap().to_owned();
                    acknowledged.keys.push((id.clone(), key["key"].as_str().unwrap().to_owned()));
                    let rotation = json!({"grace_period_seconds": 3600});
                    let Ok(rotated) = post(format!("/api/v1/api_keys/{id}/rotate"), rotation).await else { break };
                    assert_eq!(rotated.status(), 200);
                    let Ok(rotated) = rotated.json::<Value>().await else { break };
                    acknowledged.keys.last_mut().unwrap().1 = rotated["key"].as_str().unwrap().to_owned();
                    let body = json!({"name": format!("writer {writer} client {n}"), "redirect_uris": ["https://app.example/cb"]});
                    let Ok(created) = post("/api/v1/clients".into(), body).await else { break };
                    assert_eq!(created.status(), 201);
                    let Ok(client) = created.json::<Value>().await else { break };
                    let id = client["id"].as_str().unwrap().to_owned();
                    acknowledged.clients.push(id.clone());
                    let rotation = json!({"grace_period_seconds": 3600});
                    if post(format!("/api/v1/clients/{id}/secret"), rotation).await.is_err() {
                        break;
                    }
                }
                acknowledged
            })
        })
        .collect();
    let mut all = Acknowledged::default();
    for writer in writers {
        let acknowledged = writer.await.unwrap();
        all.keys.extend(acknowledged.keys);
        all.clients.extend(acknowledged.clients);
    }
    all
}

/// SIGKILL in the middle of writes: the database is consistent afterwards (SQLite's
/// integrity check; every key and client with its audit event; every rotated secret with its
/// rotation's event and its previous secret), nothing acknowledged is lost, and a restart
/// serves at once.
async fn killed_mid_write(database_url: &str) {
    let Some(binary) = binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tollbooth.toml");
    std::fs::write(&config, UNMETERED).unwrap();
    let tenant_key = bootstrap(&binary, &config, database_url);
    let mut server = serve(&binary, &config, database_url);
    drop(connect_once_up(server.port));
    let base = format!("http://127.0.0.1:{}", server.port);
    let writing = tokio::spawn(write_until_killed(base, tenant_key.clone()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.process.kill().unwrap(); // SIGKILL
    server.process.wait().unwrap();
    let acknowledged = writing.await.unwrap();
    assert!(acknowledged.keys.len() >= 2, "the writers wrote before the kill");

    let env = environment(database_url).into_iter().map(|(k, v)| (k.to_owned(), v));
    let settings = tollbooth::Settings::load(Some(&config), env).unwrap();
    let db = tollbooth::app::open_database(&settings).unwrap();
    let ids = |list: &[String]| list.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(",");
    let key_ids = ids(&acknowledged.keys.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>());
    let client_ids = ids(&acknowledged.clients);
    let (checks, keys, clients) = db
        .run_blocking(move |conn| {
            let integrity = match conn {
                DbConnection::Sqlite(c) => {
                    diesel::sql_query("PRAGMA integrity_check").get_result::<Check>(c).unwrap().integrity_check
                }
                DbConnection::Postgresql(_) => "ok".to_owned(),
            };
            let without_event = |table: &str, action: &str| {
                format!(
                    "SELECT count(*) AS count FROM {table} t WHERE NOT EXISTS \
                     (SELECT 1 FROM audit_events e WHERE e.target_id = t.id AND e.action = '{action}')"
                )
            };
            let checks = [
                ("integrity", i64::from(integrity != "ok")),
                ("keys without their creation's event", count(conn, &without_event("api_keys", "api_key.created"))),
                ("clients without their creation's event", count(conn, &without_event("clients", "client.created"))),
                (
                    "keys with a previous secret but no rotation event",
                    count(conn, &format!("{} AND t.previous_key_hash IS NOT NULL", without_event("api_keys", "api_key.rotated"))),
                ),
                (
                    "rotation events of keys that have no previous secret",
                    count(
                        conn,
                        "SELECT count(*) AS count FROM api_keys t WHERE t.previous_key_hash IS NULL AND EXISTS \
                         (SELECT 1 FROM audit_events e WHERE e.target_id = t.id AND e.action = 'api_key.rotated')",
                    ),
                ),
                (
                    "clients with a previous secret but no rotation event",
                    count(
                        conn,
                        &format!(
                            "{} AND t.previous_secret_hash IS NOT NULL",
                            without_event("clients", "client.secret_rotated")
                        ),
                    ),
                ),
                (
                    "rotation events of clients that have no previous secret",
                    count(
                        conn,
                        "SELECT count(*) AS count FROM clients t WHERE t.previous_secret_hash IS NULL AND EXISTS \
                         (SELECT 1 FROM audit_events e WHERE e.target_id = t.id AND e.action = 'client.secret_rotated')",
                    ),
                ),
            ];
            let keys = count(conn, &format!("SELECT count(*) AS count FROM api_keys WHERE id IN ({key_ids})"));
            let clients = if client_ids.is_empty() {
                0
            } else {
                count(conn, &format!("SELECT count(*) AS count FROM clients WHERE id IN ({client_ids})"))
            };
            Ok((checks, keys, clients))
        })
        .unwrap();
    drop(db);
    eprintln!(
        "killed mid-write ({}): {} keys and {} clients acknowledged before the kill; checks {checks:?}",
        if database_url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" },
        acknowledged.keys.len(),
        acknowledged.clients.len()
    );
    for (check, found) in checks {
        assert_eq!(found, 0, "{check}");
    }
    assert_eq!(keys as usize, acknowledged.keys.len(), "every acknowledged key is stored");
    assert_eq!(clients as usize, acknowledged.clients.len(), "every acknowledged client is stored");

    // A restart serves at once, with what was acknowledged.
    let started = Instant::now();
    let server = serve(&binary, &config, database_url);
    drop(connect_once_up(server.port));
    let base = format!("http://127.0.0.1:{}", server.port);
    let http = http_client();
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let serving = started.elapsed();
    let (_, last_secret) = acknowledged.keys.last().unwrap();
    let listed = http.get(format!("{base}/api/v1/clients")).bearer_auth(last_secret).send().await.unwrap();
    assert_eq!(listed.status(), 200, "the last acknowledged secret works after the restart");
    eprintln!("  the restarted server was ready {serving:?} after it started");
    assert!(serving < Duration::from_secs(10), "{serving:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_write_on_sqlite_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().unwrap();
    killed_mid_write(&format!("sqlite://{}", dir.path().join("tollbooth.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_write_on_postgres_leaves_a_consistent_database() {
    let Some(schema) = PostgresSchema::from_env().await else { return };
    killed_mid_write(&schema.url).await;
}
