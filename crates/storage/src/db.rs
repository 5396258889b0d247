use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use diesel::connection::{InstrumentationEvent, SimpleConnection};
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
    /// Connections kept open ahead of need. The server keeps one; a CLI command none, so that
    /// no pool thread is still opening a connection when the process exits (libpq's TLS set-up
    /// racing OpenSSL's exit handlers crashes the process).
    pub min_idle: u32,
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

/// Statements sent to the database (each one round trip) and transactions committed, by this
/// process since it started: `/metrics` serves them, and docs/capacity.md divides them by
/// requests.
pub static STATEMENTS: AtomicU64 = AtomicU64::new(0);
pub static COMMITS: AtomicU64 = AtomicU64::new(0);

/// Every connection's instrumentation: two relaxed increments, nothing formatted.
fn count_round_trips(event: InstrumentationEvent<'_>) {
    match event {
        InstrumentationEvent::FinishQuery { .. } => {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
        }
        InstrumentationEvent::CommitTransaction { depth, .. } if depth.get() == 1 => {
            COMMITS.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
}

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
                conn.set_instrumentation(count_round_trips);
                // WAL lets readers run beside a writer; the busy timeout queues writers instead of failing.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                conn.set_instrumentation(count_round_trips);
                // Every statement is prepared once per connection with its values bound, and
                // each has one good plan whatever the values: lookups by key, and lists whose
                // byte order only the tenant's index gives (migration 000008). The generic plan
                // skips the per-execution planning (up to 100 µs for a page after a cursor,
                // more than running it) that PostgreSQL's automatic mode keeps doing here,
                // because a bound LIMIT makes a generic plan look costlier than it is.
                conn.batch_execute("SET plan_cache_mode = force_generic_plan").map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgresql(conn))
            }
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
    /// Seals and opens the secrets stored in a readable form (docs/security.md).
    sealer: std::sync::Arc<crate::sealing::Sealer>,
    /// Work for the connection threads, first come, first served.
    jobs: crossbeam_channel::Sender<Job>,
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
            .min_idle(Some(config.min_idle))
            .connection_timeout(config.connect_timeout)
            .build(manager)
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        let jobs = spawn_connection_threads(config.max_connections as usize)?;
        Ok(Database { pool, sealer: std::sync::Arc::new(crate::sealing::Sealer::new(&[])), jobs, backend })
    }

    /// The same database, sealing stored secrets with `sealer`.
    pub fn with_sealer(self, sealer: crate::sealing::Sealer) -> Self {
        Database { sealer: std::sync::Arc::new(sealer), ..self }
    }

    pub fn sealer(&self) -> &crate::sealing::Sealer {
        &self.sealer
    }

    /// Connections the pool holds, and how many of them are idle.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `work` with a pooled connection on one of the connection threads, in the order
    /// the calls came. The error type is the caller's, so work that also validates can fail
    /// with its own errors.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // Work whose request went away while it queued is not started; once started, it is
            // done even if the request goes away meanwhile.
            if !done.is_closed() {
                let _ = done.send(with_connection(&pool, work));
            }
        });
        self.jobs.send(job).map_err(|_| StorageError::Failed("the database threads are gone".into()))?;
        result.await.map_err(|_| StorageError::Failed("database task failed".into()))?
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

type Job = Box<dyn FnOnce() + Send>;

/// One thread per connection, each taking the next job as soon as it finishes one: under
/// load a job goes from the queue to a thread that is already awake, without a thread
/// being woken per request.
fn spawn_connection_threads(count: usize) -> Result<crossbeam_channel::Sender<Job>, StorageError> {
    let (sender, receiver) = crossbeam_channel::unbounded::<Job>();
    for n in 0..count {
        let receiver = receiver.clone();
        std::thread::Builder::new()
            .name(format!("db-{n}"))
            .spawn(move || {
                for job in receiver.iter() {
                    // A panicking job drops its answer channel (its request fails); the thread lives on.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .map_err(|e| StorageError::Unavailable(format!("cannot start a database thread: {e}")))?;
    }
    Ok(sender)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// One connection, so one connection thread: what one job does to it the next one sees.
    fn one_connection() -> Database {
        let config = DatabaseConfig {
            url: "sqlite://:memory:".into(),
            max_connections: 1,
            connect_timeout: Duration::from_secs(5),
            min_idle: 0,
        };
        Database::connect(&config).expect("in-memory SQLite")
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone() {
        let db = one_connection();
        let answer = db.run(|_| -> Result<(), StorageError> { panic!("a bug in one job") }).await;
        assert!(matches!(answer, Err(StorageError::Failed(_))), "a bug, not the database away: {answer:?}");
        let next = tokio::time::timeout(Duration::from_secs(5), db.ping()).await;
        next.expect("the thread lived on to take the next job").expect("ping");
    }

    #[tokio::test]
    async fn a_job_whose_caller_left_while_it_queued_is_not_started() {
        let db = one_connection();
        let busy = tokio::spawn({
            let db = db.clone();
            async move {
                db.run(|_| {
                    std::thread::sleep(Duration::from_millis(300));
                    Ok::<_, StorageError>(())
                })
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Arc::new(AtomicBool::new(false));
        let queued = db.run({
            let started = started.clone();
            move |_| {
                started.store(true, Ordering::SeqCst);
                Ok::<_, StorageError>(())
            }
        });
        assert!(tokio::time::timeout(Duration::from_millis(50), queued).await.is_err(), "still queued");
        busy.await.expect("join").expect("the first job");
        db.ping().await.expect("a later job runs");
        assert!(!started.load(Ordering::SeqCst), "the abandoned job was skipped");
    }
}
