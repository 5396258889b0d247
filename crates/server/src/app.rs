//! Assembles the application from settings: database, migrations, secrets, signing keys,
//! routes, and the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, middleware, web};
use secrecy::ExposeSecret;
use tollbooth_oauth::clients::ClientDirectory;
use tollbooth_oauth::keys::{KeyError, KeyRing};
use tollbooth_oauth::{OAuth, OAuthSettings};
use tollbooth_resource::Resource;
use tollbooth_resource::auth::ApiKeyCache;
use tollbooth_storage::secrets::{self, SecretHasher};
use tollbooth_storage::{Database, StorageError, server_secrets};

use crate::settings::Settings;
use crate::{health, request_log};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Keys(#[from] KeyError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error("the issuer is not a URL: {0}")]
    Issuer(#[from] url::ParseError),
}

/// Opens the database and applies pending migrations.
pub fn open_database(settings: &Settings) -> Result<Database, StorageError> {
    let db = Database::connect(&settings.database)?;
    for migration in db.migrate()? {
        tracing::info!(%migration, "applied migration");
    }
    Ok(db)
}

/// The hasher for stored secrets, keyed with the configured pepper or the stored one.
pub fn secret_hasher(settings: &Settings, db: &Database) -> Result<SecretHasher, StorageError> {
    let pepper = match &settings.pepper {
        Some(pepper) => pepper.expose_secret().to_owned(),
        None => db.run_blocking(|conn| {
            server_secrets::get_or_create(conn, "pepper", secrets::generate_server_secret)
        })?,
    };
    Ok(SecretHasher::new(pepper.as_bytes()))
}

/// A server bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Builds everything; must be called inside an actix system (`actix_web::rt::System`).
    pub fn build(settings: &Settings) -> Result<Self, StartError> {
        let db = open_database(settings)?;
        let hasher = secret_hasher(settings, &db)?;
        if settings.pepper.is_none() {
            tracing::warn!("no secrets.pepper configured: using the one stored in the database");
        }
        let keys = Arc::new(KeyRing::load_or_create(
            db.clone(),
            settings.signing_algorithm,
        )?);
        let oauth = web::Data::new(OAuth::new(
            OAuthSettings {
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
            },
            keys.clone(),
            ClientDirectory::new(db.clone()),
            hasher.clone(),
        )?);
        let resource = web::Data::new(Resource {
            db,
            hasher,
            api_keys: ApiKeyCache::default(),
            oauth: oauth.clone(),
            max_access_token_ttl: settings.max_access_token_ttl,
            plans: crate::settings::PLANS
                .iter()
                .map(|p| p.to_string())
                .collect(),
            plan_default: settings.plan_default.clone(),
        });

        let listener = TcpListener::bind(settings.listen).map_err(|source| StartError::Listen {
            address: settings.listen.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Listen {
                address: settings.listen.to_string(),
                source,
            })?
            .port();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(request_log::request_context))
                .app_data(oauth.clone())
                .app_data(resource.clone())
                .route("/healthz", web::get().to(health::healthz))
                .configure(tollbooth_oauth::routes)
                .configure(tollbooth_resource::routes)
        });
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartError::Listen {
                address: settings.listen.to_string(),
                source,
            })?
            .run();

        // Another instance or `tollbooth keys rotate` may rotate keys: re-read them now and then.
        let interval = settings.key_reload_interval;
        actix_web::rt::spawn(async move {
            loop {
                actix_web::rt::time::sleep(interval).await;
                if let Err(err) = keys.reload().await {
                    tracing::warn!(error = %err, "reloading signing keys failed");
                }
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
