use thiserror::Error;

/// What can go wrong below the API. Messages here are for logs, never for response bodies.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(diesel::result::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// An insert refers to an object (a tenant, say) that was deleted while the request ran.
    #[error("referenced object is gone: {0}")]
    ReferenceGone(String),
}

impl StorageError {
    /// Turns a unique-constraint failure into `Conflict` and a foreign-key failure into
    /// `ReferenceGone`, keeping every other error as is.
    pub fn from_insert(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StorageError::Conflict(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                StorageError::ReferenceGone(info.message().to_owned())
            }
            other => StorageError::from(other),
        }
    }
}

/// The beginnings of PostgreSQL's and libpq's messages for a connection the server ended or
/// lost (SQLSTATE class 57: a shutdown, a restart, a crash; or a broken socket).
const CONNECTION_LOST: &[&str] = &[
    "terminating connection",
    "the database system is",
    "server closed the connection",
    "no connection to the server",
    "could not receive data from server",
    "could not send data to server",
    "SSL connection has been closed",
];

/// A query that failed because the database went away (a restart, say) is `Unavailable`,
/// answered 503 and retried by the pool with a new connection; any other failure is `Query`.
impl From<diesel::result::Error> for StorageError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &err {
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => {
                StorageError::Unavailable(err.to_string())
            }
            Error::DatabaseError(_, info) if CONNECTION_LOST.iter().any(|lost| info.message().starts_with(lost)) => {
                StorageError::Unavailable(err.to_string())
            }
            _ => StorageError::Query(err),
        }
    }
}

impl From<serde_json::Error> for StorageError {
    fn from(err: serde_json::Error) -> Self {
        StorageError::Corrupt(err.to_string())
    }
}
