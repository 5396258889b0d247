//! Tollbooth's storage layer: the diesel schema, one repository module per object, the
//! connection pools for SQLite and PostgreSQL, embedded migrations and cursor pagination.
//!
//! Every repository function takes `&mut DbConnection` and is synchronous; callers reach it
//! through [`Database::run`], which queues the work for the pool's connection threads (one
//! per connection) so diesel never runs on an async worker.

pub mod api_keys;
pub mod audit;
pub mod authorization_codes;
pub mod clients;
mod db;
mod error;
pub mod ids;
mod json;
pub mod organizations;
pub mod pagination;
pub mod passwords;
pub mod rate_limit;
mod reach;
pub mod refresh_tokens;
pub mod resources;
pub mod revoked_tokens;
pub mod schema;
pub mod sealing;
pub mod secrets;
pub mod server_secrets;
pub mod signing_keys;
pub mod tenants;
pub mod users;
pub mod values;

pub use db::{Backend, COMMITS, Database, DatabaseConfig, DbConnection, STATEMENTS};
pub use error::StorageError;
pub use json::Json;

/// The current time as stored: naive UTC, truncated to microseconds so that a value
/// read back from either database compares equal to the one written.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A JWT time (Unix seconds, e.g. `exp`) as a stored timestamp.
pub fn from_unix_seconds(seconds: i64) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default().naive_utc()
}

/// The part of the data a caller may see: one tenant, or one organization inside it.
/// Every repository query for a caller filters by it, so another tenant's object is
/// simply not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub tenant_id: String,
    pub organization_id: Option<String>,
}

/// Runs `work` in one database transaction: all of it is stored, or none (an error from
/// `work` rolls back).
pub fn in_transaction<T, E: From<StorageError>>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    use diesel::Connection;
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    // SQLite: an outermost transaction takes the write lock up front (BEGIN IMMEDIATE), so the
    // busy timeout queues concurrent writers. A deferred transaction that reads and then writes
    // fails at once with SQLITE_BUSY when another writer committed in between (16 concurrent
    // refreshes of one token showed it). Nested calls become savepoints, as below.
    if let DbConnection::Sqlite(sqlite) = conn
        && matches!(AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth(), Ok(None))
    {
        AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
            .map_err(|err| E::from(StorageError::from(err)))?;
        let result = work(conn);
        let DbConnection::Sqlite(sqlite) = conn else { unreachable!("the connection cannot change backend") };
        return match result {
            Ok(value) => match AnsiTransactionManager::commit_transaction(sqlite) {
                Ok(()) => Ok(value),
                Err(err) => {
                    let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                    Err(E::from(StorageError::from(err)))
                }
            },
            Err(err) => {
                AnsiTransactionManager::rollback_transaction(sqlite).map_err(|e| E::from(StorageError::from(e)))?;
                Err(err)
            }
        };
    }
    enum Failure<E> {
        Work(E),
        Database(diesel::result::Error),
    }
    impl<E> From<diesel::result::Error> for Failure<E> {
        fn from(err: diesel::result::Error) -> Self {
            Failure::Database(err)
        }
    }
    conn.transaction(|conn| work(conn).map_err(Failure::Work)).map_err(|failure| match failure {
        Failure::Work(err) => err,
        Failure::Database(err) => E::from(StorageError::from(err)),
    })
}
