use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, Pool, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StorageError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// One connection type for both backends, so repositories are written once.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the database is and how many connections to keep.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `sqlite://<path>` or `postgres://…` / `postgresql://…`.
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl DatabaseConfig {
    /// Splits the URL into its backend and what that backend's driver expects.
    pub fn target(&self) -> Result<(Backend, String), String> {
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("database_url `sqlite://` needs a file path, e.g. sqlite://data/tollbooth.db".into());
            }
            Ok((Backend::Sqlite, path.to_owned()))
        } else if self.url.starts_with("postgres://") || self.url.starts_with("postgresql://") {
            Ok((Backend::Postgres, self.url.clone()))
        } else {
            let scheme = self.url.split("://").next().unwrap_or_default();
            Err(format!("database_url has the unknown scheme `{scheme}`: use sqlite://<path> or postgres://…"))
        }
    }
}

/// A connection checked this recently is handed out without a liveness round trip (as
/// HikariCP's `aliveBypassWindowMs`): a `SELECT 1` before every checkout doubled the round
/// trips of most requests. The clock restarts only when a ping succeeds, and work that failed
/// on a connection voids it, so a connection the database dropped (a restart) fails at most
/// one request before its next checkout finds it dead and replaces it.
const ALIVE_BYPASS: Duration = Duration::from_secs(1);

/// A pooled connection and when it last answered a ping (`None`: ping it at next checkout).
struct Pooled {
    connection: DbConnection,
    last_checked: Option<Instant>,
}

/// The r2d2 manager: dispatches on the backend chosen at start-up (diesel's multi-connection
/// `establish` would hide the real error) and prepares each SQLite connection for concurrency.
#[derive(Debug)]
struct Manager {
    backend: Backend,
    target: String,
}

impl Manager {
    fn establish(&self) -> Result<DbConnection, r2d2::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside a writer; the busy timeout queues writers instead of failing.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => PgConnection::establish(&self.target)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
        }
    }
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        Ok(Pooled { connection: self.establish()?, last_checked: Some(Instant::now()) })
    }

    /// Called at checkout: pings a connection not checked within [`ALIVE_BYPASS`].
    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), r2d2::Error> {
        if pooled.last_checked.is_some_and(|checked| checked.elapsed() < ALIVE_BYPASS) {
            return Ok(());
        }
        pooled.connection.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)?;
        pooled.last_checked = Some(Instant::now());
        Ok(())
    }

    /// Called when a connection comes back: one left inside a broken transaction is dropped.
    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.connection.is_broken()
    }
}

/// A pool of connections to one database. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    /// One permit per connection, handed out first come, first served: work waits here, as a
    /// future, rather than as a blocking thread parked on the pool, so a burst does not pile
    /// up threads that contend for the connections in no particular order.
    permits: Arc<Semaphore>,
    backend: Backend,
}

impl Database {
    /// Opens the pool and checks that one connection can be made, with a clear error if not.
    pub fn connect(config: &DatabaseConfig) -> Result<Self, StorageError> {
        let (backend, target) = config.target().map_err(StorageError::Unavailable)?;
        if backend == Backend::Sqlite
            && let Some(dir) = std::path::Path::new(&target).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StorageError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let manager = Manager { backend, target };
        // Probe once up front: r2d2 would otherwise retry silently until its timeout.
        manager.establish().map_err(|e| StorageError::Unavailable(describe_connect_error(backend, &e)))?;
        let pool = Pool::builder()
            .max_size(config.max_connections)
            .min_idle(Some(1))
            .connection_timeout(config.connect_timeout)
            .build(manager)
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        let permits = Arc::new(Semaphore::new(config.max_connections as usize));
        Ok(Database { pool, permits, backend })
    }

    /// Connections the pool holds, and how many of them are idle.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    /// The error type is the caller's, so work that also validates can fail with its own errors.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let permit =
            self.permits.clone().acquire_owned().await.map_err(|_| StorageError::Unavailable("closed".into()))?;
        tokio::task::spawn_blocking(move || {
            // Held until the work is done, even if the request that asked for it went away.
            let _permit = permit;
            with_connection(&pool, work)
        })
        .await
        .map_err(|e| StorageError::Unavailable(format!("database task failed: {e}")))?
    }

    /// Runs `work` on the calling thread: for the CLI and start-up, never for request handlers.
    pub fn run_blocking<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        with_connection(&self.pool, work)
    }

    /// Applies the embedded migrations of this backend that have not run yet.
    pub fn migrate(&self) -> Result<Vec<String>, StorageError> {
        self.run_blocking(|conn| {
            let applied = match conn {
                DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
                DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
            }
            .map_err(|e| StorageError::Unavailable(format!("migration failed: {e}")))?;
            Ok(applied.iter().map(ToString::to_string).collect())
        })
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.run(|conn| conn.batch_execute("SELECT 1").map_err(StorageError::Query)).await
    }
}

/// Runs `work` on a pooled connection, on the calling thread.
fn with_connection<T, E: From<StorageError>>(
    pool: &Pool<Manager>,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let mut pooled = pool.get().map_err(|e| StorageError::Unavailable(e.to_string()))?;
    let result = work(&mut pooled.connection);
    if result.is_err() {
        // Perhaps the connection is gone: make its next checkout find out.
        pooled.last_checked = None;
    }
    result
}

fn describe_connect_error(backend: Backend, err: &r2d2::Error) -> String {
    match backend {
        Backend::Sqlite => format!("cannot open the SQLite database: {err}"),
        // libpq's message may echo the URL, password included; keep only its first line's gist.
        Backend::Postgres => {
            let text = err.to_string();
            let first = text.lines().next().unwrap_or_default();
            format!("cannot connect to PostgreSQL: {}", redact_url_password(first))
        }
    }
}

fn redact_url_password(text: &str) -> String {
    match (text.find("://"), text.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &text[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &text[..scheme_end + 3], &userinfo[..colon], &text[at..]),
                None => text.to_owned(),
            }
        }
        _ => text.to_owned(),
    }
}
