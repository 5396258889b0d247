//! Assembles the application from settings: database, migrations, secrets, signing keys,
//! routes, and the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use secrecy::{ExposeSecret, SecretString};
use tollbooth_http::cache_guard::ReadThrough;
use tollbooth_http::endpoint::Endpoint;
use tollbooth_oauth::keys::{KeyError, KeyRing};
use tollbooth_oauth::session::SessionKeys;
use tollbooth_oauth::{OAuth, OAuthParts};
use tollbooth_resource::ManagementApi;
use tollbooth_resource::auth::ApiKeyCache;
use tollbooth_storage::rate_limit::{CounterStore, MemoryCounters, RateLimiter, RedisCounters};
use tollbooth_storage::sealing::{self, Sealer};
use tollbooth_storage::secrets::{self, SecretHasher};
use tollbooth_storage::{Backend, Database, StorageError, server_secrets};

use crate::settings::Settings;
use crate::{health, rate_limit, request_log};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Keys(#[from] KeyError),
    #[error("cannot listen on {address}: {source}")]
    Listen { address: String, source: std::io::Error },
    #[error("{0}")]
    Redis(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the issuer is not a URL: {0}")]
    Issuer(#[from] url::ParseError),
    #[error(
        "a tenant's resource has the identifier {0}, which token.audience or issuer now names: its tokens would be the management API's (docs/api.md, \"Resources\")"
    )]
    ReservedIdentifierTaken(String),
}

/// A tenant's resource may not have the management API's identifier or the issuer: checked
/// when a resource is written, and here, in case the settings changed since.
fn refuse_reserved_identifiers_taken(settings: &Settings, db: &Database) -> Result<(), StartError> {
    for reserved in [settings.oauth.audience.clone(), settings.oauth.issuer.to_string()] {
        let probe = reserved.clone();
        if db.run_blocking(|conn| tollbooth_storage::resources::identifier_in_use(conn, &probe, ""))? {
            return Err(StartError::ReservedIdentifierTaken(reserved));
        }
    }
    Ok(())
}

/// How often state that can no longer matter (expired codes, refresh tokens, revocations) is deleted.
const EXPIRED_STATE_CLEANUP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// Opens the database, applies pending migrations, and seals the stored secrets with the
/// key-encryption key (those stored before it, or under a key being rotated out).
pub fn open_database(settings: &Settings) -> Result<Database, StorageError> {
    let db = Database::connect(&settings.database)?;
    for migration in db.migrate()? {
        tracing::info!(%migration, "applied migration");
    }
    let db = db.with_sealer(sealer(settings)?);
    let resealed = db.run_blocking(|conn| sealing::reseal_stored(conn, db.sealer()))?;
    if resealed > 0 {
        tracing::info!(resealed, "sealed stored secrets with the current encryption key");
    }
    Ok(db)
}

/// The key-encryption keys: configured, or for SQLite a key file beside the database, made on
/// first start (owner-only). PostgreSQL serves several instances, which must share the key, so
/// it must be configured (docs/security.md, "Secrets at rest").
fn sealer(settings: &Settings) -> Result<Sealer, StorageError> {
    if !settings.secrets.encryption_keys.is_empty() {
        return Ok(Sealer::new(&settings.secrets.encryption_keys));
    }
    let unavailable = |message: String| StorageError::Unavailable(message);
    let (backend, target) = settings.database.target().map_err(unavailable)?;
    // Settings refuse PostgreSQL without keys; an in-memory database has nowhere to keep a file.
    if backend != Backend::Sqlite || target == ":memory:" {
        return Err(unavailable("set secrets.encryption_keys (TOLLBOOTH_SECRETS_ENCRYPTION_KEYS)".into()));
    }
    let path = std::path::PathBuf::from(format!("{target}.kek"));
    let key = match std::fs::read_to_string(&path) {
        Ok(key) => key,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            create_key_file(&path).map_err(|e| unavailable(format!("cannot write {}: {e}", path.display())))?;
            tracing::warn!(path = %path.display(), "made a key-encryption key file: keep it, and out of database backups");
            std::fs::read_to_string(&path).map_err(|e| unavailable(format!("cannot read {}: {e}", path.display())))?
        }
        Err(err) => return Err(unavailable(format!("cannot read {}: {err}", path.display()))),
    };
    let key = key.trim();
    if key.len() < 32 {
        return Err(unavailable(format!("{} holds no key-encryption key (fewer than 32 characters)", path.display())));
    }
    Ok(Sealer::new(&[SecretString::from(key.to_owned())]))
}

/// Writes a new key to a private temporary file, then links it into place, so nobody ever reads
/// a half-written key and of two processes starting at once both end up with the one that won.
fn create_key_file(path: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let temporary = path.with_extension(format!("kek.{}", ulid::Ulid::new()));
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary)?;
    let written = file.write_all(secrets::generate_server_secret().as_bytes()).and_then(|()| file.sync_all());
    let linked = written.and_then(|()| match std::fs::hard_link(&temporary, path) {
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = std::fs::remove_file(&temporary);
    linked
}

/// The pepper: configured, or generated once and stored sealed.
fn pepper(settings: &Settings, db: &Database) -> Result<SecretString, StorageError> {
    if let Some(pepper) = &settings.secrets.pepper {
        return Ok(pepper.clone());
    }
    let context = server_secrets::seal_context("pepper");
    let stored = db.run_blocking(|conn| {
        server_secrets::get_or_create(conn, "pepper", || {
            db.sealer().seal(secrets::generate_server_secret().as_str(), &context)
        })
    })?;
    db.sealer().open(&stored, &context).map_err(|e| StorageError::Unavailable(format!("the stored pepper: {e}")))
}

/// The hasher for stored secrets, keyed with the configured pepper or the stored one.
pub fn secret_hasher(settings: &Settings, db: &Database) -> Result<SecretHasher, StorageError> {
    Ok(SecretHasher::new(pepper(settings, db)?.expose_secret().as_bytes()))
}

/// The keys of sign-in sessions and CSRF tokens: derived from the pepper with HKDF, one label
/// each, so none of them is the key of the stored hashes.
pub fn session_keys(settings: &Settings, db: &Database) -> Result<SessionKeys, StorageError> {
    Ok(server_keys(settings, db)?.1)
}

/// The hasher of stored secrets and the session keys, from one reading of the pepper.
fn server_keys(settings: &Settings, db: &Database) -> Result<(SecretHasher, SessionKeys), StorageError> {
    let pepper = pepper(settings, db)?;
    let pepper = pepper.expose_secret().as_bytes();
    let derived = |label: &[u8]| SecretHasher::new(&sealing::derive_key(pepper, label));
    let sessions = SessionKeys { session: derived(b"tollbooth session v1"), csrf: derived(b"tollbooth csrf v1") };
    Ok((SecretHasher::new(pepper), sessions))
}

/// Operations endpoints answer a wrong method with a bare 405 (and `Allow`), as probes expect.
fn empty_refusal(_allow: &str) -> HttpResponse {
    HttpResponse::MethodNotAllowed().finish()
}

/// The limiter of docs/rate-limits.md over Redis when `redis_url` is set, else over memory; `None` when
/// rate limiting is switched off. Must run inside the actix system (Redis is tried once on it);
/// each HTTP worker connects to Redis at its first check.
fn rate_limiter(settings: &Settings) -> Result<Option<Arc<RateLimiter>>, StartError> {
    if !settings.rate_limit.enabled {
        tracing::warn!("rate limiting is switched off (rate_limit.enabled = false)");
        return Ok(None);
    }
    let store: Arc<dyn CounterStore> = match &settings.rate_limit.redis_url {
        Some(url) => {
            // Every thread that counts runs an actix system, and so a `LocalSet`.
            let spawn_local = |driver| {
                actix_web::rt::spawn(driver);
            };
            let limits = &settings.rate_limit;
            let redis = RedisCounters::new(url, limits.redis_cluster, limits.redis_timeout, spawn_local)
                .map_err(|e| StartError::Redis(e.to_string()))?;
            let redis = Arc::new(redis);
            let probing = redis.clone();
            actix_web::rt::spawn(async move { probing.probe().await });
            redis
        }
        None => Arc::new(MemoryCounters::default()),
    };
    Ok(Some(Arc::new(RateLimiter::new(store, settings.rate_limit.plans.clone(), settings.rate_limit.rules.clone()))))
}

/// The rustls configuration of the HTTPS listener (ring provider, TLS 1.2 and 1.3).
fn tls_config(paths: &crate::settings::TlsPaths) -> Result<rustls::ServerConfig, StartError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let tls = |what: &str, err: &dyn std::fmt::Display| StartError::Tls(format!("{what}: {err}"));
    let certs = CertificateDer::pem_file_iter(&paths.cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| tls(&format!("cannot read certificates from {}", paths.cert_path.display()), &e))?;
    let key = PrivateKeyDer::from_pem_file(&paths.key_path)
        .map_err(|e| tls(&format!("cannot read the private key from {}", paths.key_path.display()), &e))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls("protocol versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls("the certificate and key do not make a server identity", &e))
}

/// A server bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Builds everything; must be called inside an actix system (`actix_web::rt::System`).
    pub fn build(settings: &Settings) -> Result<Self, StartError> {
        crate::metrics::register();
        let db = open_database(settings)?;
        let (hasher, session_keys) = server_keys(settings, &db)?;
        if settings.secrets.pepper.is_none() {
            tracing::warn!("no secrets.pepper configured: using the one stored in the database");
        }
        refuse_reserved_identifiers_taken(settings, &db)?;
        let keys = Arc::new(KeyRing::load_or_create(db.clone(), settings.token.signing_algorithm)?);
        let rate_limiter = rate_limiter(settings)?;
        let oauth = web::Data::new(OAuth::new(
            settings.oauth.clone(),
            OAuthParts {
                db: db.clone(),
                keys: keys.clone(),
                hasher: hasher.clone(),
                session_keys,
                rate_limiter: rate_limiter.clone(),
            },
        ));
        let api = web::Data::new(ManagementApi {
            db,
            hasher,
            api_keys: ApiKeyCache::default(),
            oauth: oauth.clone(),
            max_access_token_ttl: settings.token.max_access_token_ttl,
            plans: settings.rate_limit.plans.keys().cloned().collect(),
            plan_default: settings.rate_limit.plan_default.clone(),
            rate_limiter,
            tenant_plans: ReadThrough::new(100_000, tollbooth_resource::TENANT_PLAN_CACHE_TTL),
            organization_plans: ReadThrough::new(100_000, tollbooth_resource::TENANT_PLAN_CACHE_TTL),
        });
        let request_policy = web::Data::new(request_log::RequestPolicy {
            trusted_proxies: settings.server.trusted_proxies.clone(),
            require_https: settings.server.require_https,
        });
        let metrics_access = web::Data::new(settings.metrics.clone());
        let expired_state_owner = oauth.clone();
        let audit_retention = settings.audit.retention;
        let longest_token_lifetime = chrono::Duration::seconds(settings.token.max_access_token_ttl);

        let listener = TcpListener::bind(settings.server.listen)
            .map_err(|source| StartError::Listen { address: settings.server.listen.to_string(), source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Listen { address: settings.server.listen.to_string(), source })?
            .port();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(rate_limit::enforce))
                .wrap(middleware::from_fn(request_log::request_context))
                .app_data(request_policy.clone())
                .app_data(oauth.clone())
                .app_data(api.clone())
                .app_data(metrics_access.clone())
                .service(Endpoint::new("/healthz").get(health::healthz).refusing_others_with(empty_refusal))
                .service(Endpoint::new("/readyz").get(health::readyz).refusing_others_with(empty_refusal))
                .service(Endpoint::new("/metrics").get(health::metrics).refusing_others_with(empty_refusal))
                .configure(tollbooth_oauth::routes)
                .configure(tollbooth_resource::routes)
                .configure(tollbooth_console::routes)
        });
        // actix handles SIGTERM/SIGINT: stop accepting, finish requests in flight, then exit.
        server = server.shutdown_timeout(settings.server.shutdown_timeout.as_secs());
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = match &settings.server.tls {
            Some(paths) => server.listen_rustls_0_23(listener, tls_config(paths)?),
            None => server.listen(listener),
        }
        .map_err(|source| StartError::Listen { address: settings.server.listen.to_string(), source })?
        .run();

        // Another instance or `tollbooth keys rotate` may rotate keys: re-read them now and then.
        let interval = settings.token.key_reload_interval;
        actix_web::rt::spawn(async move {
            loop {
                actix_web::rt::time::sleep(interval).await;
                if let Err(err) = keys.reload().await {
                    tracing::warn!(error = %err, "reloading signing keys failed");
                }
            }
        });
        // Expired codes, refresh tokens and revocations are dead weight: delete them now and then.
        actix_web::rt::spawn(async move {
            loop {
                match expired_state_owner.delete_expired_state(longest_token_lifetime).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "deleted expired codes, refresh tokens and revocations"),
                    Err(err) => tracing::warn!(error = %err, "deleting expired state failed"),
                }
                if let Some(retention) = audit_retention {
                    let before = tollbooth_storage::now() - retention;
                    match expired_state_owner
                        .db
                        .run(move |conn| tollbooth_storage::audit::delete_before(conn, before))
                        .await
                    {
                        Ok(0) => {}
                        Ok(deleted) => tracing::info!(deleted, "deleted audit events past their retention"),
                        Err(err) => tracing::warn!(error = %err, "deleting old audit events failed"),
                    }
                }
                actix_web::rt::time::sleep(EXPIRED_STATE_CLEANUP_INTERVAL).await;
            }
        });
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
