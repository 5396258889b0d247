//! `TestApp::spawn()`: a bootstrapped server on port 0 with a database of its own.

pub mod api;

pub mod peers;

use std::sync::mpsc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel::{Connection, PgConnection, RunQueryDsl};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tollbooth::bootstrap::{FirstTenant, bootstrap};
use tollbooth::{Application, Settings, app};
use tollbooth_storage::Database;

pub const ISSUER: &str = "http://tollbooth.test";
/// The test tenant's API, and the scopes it defines.
pub const TEST_API: &str = "https://api.tollbooth.test";
pub const TEST_API_SCOPES: &[&str] =
    &["read", "write", "read:things", "write:things", "a", "b", "c", "orders:read", "orders:write"];
pub const TEST_ENCRYPTION_KEY: &str = "test-key-encryption-key-of-32-characters";
pub const AUDIENCE: &str = "http://tollbooth.test/api";
/// The admin user every bootstrap creates (its password is `TestApp::admin_password`).
pub const FIRST_ADMIN_EMAIL: &str = "first-admin@tollbooth.test";
const POSTGRES_URL_VAR: &str = "TOLLBOOTH_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An HTTP client that follows no redirect. reqwest is built without a default TLS provider
/// (no aws-lc): ring's is installed first, once.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Whether a missing service must fail the run (CI) rather than skip the test.
pub fn services_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips the test with a message saying what it needs, or fails it under `CI=true`.
pub fn skip(missing: &str) {
    assert!(!services_required(), "CI=true but {missing}");
    eprintln!("skipped: {missing}");
}

/// The shared Redis of the test run (`TOLLBOOTH_TEST_REDIS_URL`), or `None` after [`skip`].
pub fn shared_redis() -> Option<String> {
    let url = std::env::var("TOLLBOOTH_TEST_REDIS_URL").ok();
    if url.is_none() {
        skip("TOLLBOOTH_TEST_REDIS_URL is not set (nor, perhaps, TOLLBOOTH_TEST_DATABASE_URL)");
    }
    url
}

pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub operator_key: String,
    pub tenant_id: String,
    pub tenant_key: String,
    /// The generated password of the bootstrap's admin user, [`FIRST_ADMIN_EMAIL`].
    pub admin_password: String,
    pub db: Database,
    pub settings: Settings,
    handle: RunningServer,
    _dir: tempfile::TempDir,
    postgres_schema: Option<PostgresSchema>,
}

impl TestApp {
    /// A server on `backend`, or `None` (with a message) when PostgreSQL is not configured
    /// outside CI.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_configured(backend, UNMETERED, &[]).await
    }

    /// Like [`TestApp::spawn`], with `config` as the `--config` file and `env` as extra
    /// `TOLLBOOTH_*` variables.
    pub async fn spawn_configured(backend: Backend, config: &str, env: &[(&str, &str)]) -> Option<TestApp> {
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PostgresSchema::from_env().await?),
        };
        Some(Self::spawn_on(postgres, config, env).await)
    }

    /// A server on `postgres` (a schema of its own), or on SQLite when `None`.
    pub async fn spawn_on(postgres: Option<PostgresSchema>, config: &str, env: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match &postgres {
            Some(schema) => schema.url.clone(),
            None => format!("sqlite://{}", dir.path().join("tollbooth.db").display()),
        };
        let config_path = dir.path().join("tollbooth.toml");
        std::fs::write(&config_path, config).expect("config file");
        let settings = Self::settings(&config_path, database_url, env);

        let (db, keys) = tokio::task::spawn_blocking({
            let settings = settings.clone();
            move || {
                let db = app::open_database(&settings).expect("database opens");
                let hasher = app::secret_hasher(&settings, &db).expect("pepper");
                let first = FirstTenant {
                    name: "Test tenant",
                    plan: &settings.rate_limit.plan_default,
                    admin_email: FIRST_ADMIN_EMAIL,
                    issuer: settings.oauth.issuer.as_str(),
                };
                let keys = bootstrap(&db, &hasher, first).expect("bootstrap").expect("empty database");
                store_test_api(&db, &keys.tenant_id);
                (db, keys)
            }
        })
        .await
        .expect("join");
        let (base_url, handle) = start_server(settings.clone());
        TestApp {
            base_url,
            http: http_client(),
            operator_key: keys.operator_key.expose_secret().to_owned(),
            tenant_id: keys.tenant_id,
            tenant_key: keys.tenant_key.expose_secret().to_owned(),
            admin_password: keys.admin_password.expose_secret().to_owned(),
            db,
            settings,
            handle,
            _dir: dir,
            postgres_schema: postgres,
        }
    }

    /// A server whose issuer is its own address (`http://127.0.0.1:<port>`), for relying
    /// parties that fetch discovery from the issuer and check it names itself.
    pub async fn spawn_at_own_address(backend: Backend) -> Option<TestApp> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (listen, issuer) = (format!("127.0.0.1:{port}"), format!("http://127.0.0.1:{port}"));
        let env = [("TOLLBOOTH_LISTEN", listen.as_str()), ("TOLLBOOTH_ISSUER", issuer.as_str())];
        Self::spawn_configured(backend, UNMETERED, &env).await
    }

    /// Ends, from the database's side, every PostgreSQL connection of this test's server (as a
    /// database restart would); returns how many. Panics on SQLite.
    pub async fn terminate_database_connections(&self) -> usize {
        let postgres = self.postgres_schema.as_ref().expect("a PostgreSQL test");
        let (base, schema) = (postgres.base.clone(), postgres.schema.clone());
        tokio::task::spawn_blocking(move || {
            #[derive(diesel::QueryableByName)]
            struct Terminated {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                count: i64,
            }
            let mut conn = PgConnection::establish(&base).expect("connect");
            let terminated: Terminated = diesel::sql_query(
                "SELECT count(pg_terminate_backend(pid)) AS count FROM pg_stat_activity WHERE application_name = $1",
            )
            .bind::<diesel::sql_types::Text, _>(&schema)
            .get_result(&mut conn)
            .expect("terminate");
            usize::try_from(terminated.count).expect("count")
        })
        .await
        .expect("join")
    }

    /// Another server on this one's database, with `env` on top of this one's settings: for
    /// tests of several instances. It stops when the returned handle is dropped.
    pub fn spawn_sibling(&self, config_path: &std::path::Path, env: &[(&str, &str)]) -> Sibling {
        let settings = Self::settings(config_path, self.settings.database.url.clone(), env);
        let (base_url, handle) = start_server(settings);
        Sibling { base_url, _handle: handle }
    }

    fn settings(config: &std::path::Path, database_url: String, extra_env: &[(&str, &str)]) -> Settings {
        let mut env = vec![
            ("TOLLBOOTH_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("TOLLBOOTH_ISSUER".to_owned(), ISSUER.to_owned()),
            ("TOLLBOOTH_DATABASE_URL".to_owned(), database_url),
            ("TOLLBOOTH_WORKERS".to_owned(), "2".to_owned()),
            ("TOLLBOOTH_TOKEN_KEY_RELOAD_SECONDS".to_owned(), "1".to_owned()),
            ("TOLLBOOTH_DATABASE_MAX_CONNECTIONS".to_owned(), "4".to_owned()),
            // PostgreSQL needs a configured key-encryption key; SQLite makes a key file.
            ("TOLLBOOTH_SECRETS_ENCRYPTION_KEYS".to_owned(), TEST_ENCRYPTION_KEY.to_owned()),
        ];
        env.extend(extra_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Settings::load(Some(config), env).expect("test settings are valid")
    }

    /// The `--config` file this server was started with.
    pub fn config_path(&self) -> std::path::PathBuf {
        self._dir.path().join("tollbooth.toml")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `POST /api/v1/clients` with the tenant key; panics unless 201.
    pub async fn create_client(&self, body: Value) -> Value {
        let response =
            self.http.post(self.url("/api/v1/clients")).bearer_auth(&self.tenant_key).json(&body).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body
    }

    /// A confidential client-credentials client with `scopes`: its id and secret.
    pub async fn confidential_client(&self, scopes: &[&str]) -> (String, String) {
        let client = self.create_client(json!({ "name": "Backend service", "scopes": scopes })).await;
        (client["id"].as_str().unwrap().to_owned(), client["client_secret"].as_str().unwrap().to_owned())
    }

    /// What introspection (RFC 7662) says of `token`, asked by a new client of the test tenant:
    /// how the tests check a token for the test tenant's API, which `/api/v1` refuses.
    pub async fn introspect(&self, token: &str) -> Value {
        let (id, secret) = self.confidential_client(&[]).await;
        let response =
            self.http.post(self.url("/oauth/introspect")).basic_auth(id, Some(secret)).form(&[("token", token)]);
        response.send().await.unwrap().json().await.unwrap()
    }

    /// A client-credentials access token for the client, by Basic.
    pub async fn access_token(&self, client_id: &str, secret: &str, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `POST /api/v1/tenants` with the operator key: the new tenant's id and admin key.
    pub async fn create_tenant(&self, name: &str) -> (String, String) {
        let response = self
            .http
            .post(self.url("/api/v1/tenants"))
            .bearer_auth(&self.operator_key)
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let tenant: Value = response.json().await.unwrap();
        (tenant["id"].as_str().unwrap().to_owned(), tenant["api_key"]["key"].as_str().unwrap().to_owned())
    }

    /// The private key of a stored signing key, opened: the database holds it sealed.
    pub fn private_key_pem(&self, key: &tollbooth_storage::signing_keys::SigningKey) -> String {
        assert!(key.private_key_pem.starts_with("sealed:v1:"), "signing keys are stored sealed");
        let context = tollbooth_storage::signing_keys::seal_context(&key.kid);
        self.db.sealer().open(&key.private_key_pem, &context).expect("the test key opens it").expose_secret().to_owned()
    }

    /// This server's settings with other key-encryption keys (comma-separated; empty for none).
    pub fn settings_with_keys(&self, keys: &str) -> Settings {
        let mut settings = self.settings.clone();
        settings.secrets.encryption_keys =
            keys.split(',').filter(|k| !k.is_empty()).map(|k| secrecy::SecretString::from(k.to_owned())).collect();
        settings
    }

    /// A second tenant's admin key.
    pub async fn other_tenant_key(&self) -> String {
        self.create_tenant("Other").await.1
    }
}

/// Clients and keys hold only scopes an API defines (docs/api.md, "Resources"): the test
/// tenant has one API with the scopes the tests give their clients, stored before the server
/// starts (so that it counts against no rate limit and leaves no audit event).
fn store_test_api(db: &tollbooth_storage::Database, tenant_id: &str) {
    use tollbooth_storage::resources::{self, Resource};
    let now = tollbooth_storage::now();
    let api = Resource {
        id: tollbooth_storage::ids::new_id(tollbooth_storage::ids::RESOURCE),
        tenant_id: tenant_id.to_owned(),
        name: "Test API".into(),
        identifier: TEST_API.into(),
        scopes: tollbooth_storage::Json(TEST_API_SCOPES.iter().map(|s| s.to_string()).collect()),
        created_at: now,
        updated_at: now,
    };
    db.run_blocking(|conn| {
        assert!(resources::claim_identifier(conn, TEST_API, tenant_id)?);
        resources::insert(conn, &api)
    })
    .expect("the test API is stored");
}

/// Starts a server on its own thread and actix system; its URL and handle once it listens.
/// A server started by a test, in a thread of its own: stopped, and its thread waited for, when
/// dropped. So no server is still running (signing, reloading keys, closing pools) when the
/// test binary exits and its libraries' exit handlers tear down what such a thread may be using.
pub struct RunningServer {
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    /// Stops the server and waits (up to ten seconds) for its thread to end; once.
    fn shut_down(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        drop(self.handle.stop(false));
        let started = std::time::Instant::now();
        while !thread.is_finished() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn start_server(settings: Settings) -> (String, RunningServer) {
    let (sender, receiver) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match Application::build(&settings) {
                Ok(application) => {
                    let _ = sender.send(Ok((application.port(), application.handle())));
                    let _ = application.run_until_stopped().await;
                }
                Err(err) => {
                    let _ = sender.send(Err(err.to_string()));
                }
            }
        })
    });
    let (port, handle) =
        receiver.recv_timeout(Duration::from_secs(30)).expect("server starts in time").expect("server builds");
    (format!("http://127.0.0.1:{port}"), RunningServer { handle, thread: Some(thread) })
}

/// A second server on a [`TestApp`]'s database.
pub struct Sibling {
    pub base_url: String,
    _handle: RunningServer,
}

/// The test config: tenants get a plan no functional test runs into. Rate-limit tests bring
/// their own.
pub const UNMETERED: &str = r#"
[rate_limit]
plan_default = "unmetered"

[rate_limit.plans.unmetered]
windows = [{ window = "1s", limit = 1000000 }]
"#;

impl Drop for TestApp {
    fn drop(&mut self) {
        // The server first, then its schema (PostgresSchema's drop).
        self.handle.shut_down();
    }
}

/// A schema of a test's own in the PostgreSQL at `base`; dropped with it.
pub struct PostgresSchema {
    /// The database URL that puts the server in the schema and names its connections after it.
    pub url: String,
    base: String,
    schema: String,
}

impl PostgresSchema {
    /// A schema in the test run's PostgreSQL (`TOLLBOOTH_TEST_DATABASE_URL`), or `None` after
    /// [`skip`].
    pub async fn from_env() -> Option<PostgresSchema> {
        let Ok(base) = std::env::var(POSTGRES_URL_VAR) else {
            skip(&format!("{POSTGRES_URL_VAR} is not set: this test runs on PostgreSQL"));
            return None;
        };
        Self::create(&base).await
    }

    /// `None`, with a message, when PostgreSQL is unreachable outside CI.
    pub async fn create(base: &str) -> Option<PostgresSchema> {
        let schema = format!("t_{}", ulid::Ulid::new().to_string().to_lowercase());
        let created = tokio::task::spawn_blocking({
            let (base, schema) = (base.to_owned(), schema.clone());
            move || {
                let mut conn = PgConnection::establish(&base)?;
                diesel::sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut conn)?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            }
        })
        .await
        .expect("join");
        if let Err(err) = created {
            skip(&format!("PostgreSQL at {base} is unreachable: {err}"));
            return None;
        }
        let separator = if base.contains('?') { '&' } else { '?' };
        // The schema also names the connections, so a test can find (and cut) its own.
        let url = format!("{base}{separator}options=-csearch_path%3D{schema}&application_name={schema}");
        Some(PostgresSchema { url, base: base.to_owned(), schema })
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        let (base, schema) = (self.base.clone(), self.schema.clone());
        // Best effort: a leftover schema only costs disk space in the test database.
        let _ = std::thread::spawn(move || {
            if let Ok(mut conn) = PgConnection::establish(&base) {
                let _ = diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut conn);
            }
        })
        .join();
    }
}

/// Declares each listed `async fn name(app: TestApp)` as a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::support::TestApp::spawn($crate::support::Backend::Sqlite).await.unwrap();
                    super::$name(app).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::support::TestApp::spawn($crate::support::Backend::Postgres).await {
                        super::$name(app).await
                    }
                }
            )*
        }
    };
}

/// Polls `check` until it holds or `limit` passes; how long it took.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}
