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
    Query(#[source] diesel::result::Error),
    /// The database work itself failed (its thread panicked or is gone): a bug, never retried.
    #[error("database work failed: {0}")]
    Failed(String),
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
/// answered 503; the pool pings that connection at its next checkout and replaces it if dead.
/// Any other failure is `Query`. The messages matched are PostgreSQL's in English
/// (`lc_messages`); in another language a lost connection stays `Query`, a 500.
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

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> StorageError {
        StorageError::from(Error::DatabaseError(kind, Box::new(message.to_owned())))
    }

    #[test]
    fn a_lost_connection_is_the_database_away() {
        for lost in [
            database_error(DatabaseErrorKind::ClosedConnection, "anything"),
            database_error(DatabaseErrorKind::UnableToSendCommand, "anything"),
            database_error(DatabaseErrorKind::Unknown, "terminating connection due to administrator command"),
            database_error(DatabaseErrorKind::Unknown, "the database system is shutting down"),
            database_error(DatabaseErrorKind::Unknown, "server closed the connection unexpectedly"),
        ] {
            assert!(matches!(lost, StorageError::Unavailable(_)), "{lost:?}");
        }
    }

    #[test]
    fn other_failures_stay_query_errors() {
        for other in [
            database_error(DatabaseErrorKind::Unknown, "syntax error at or near \"terminating connection\""),
            database_error(DatabaseErrorKind::CheckViolation, "new row violates check constraint"),
            StorageError::from(Error::NotFound),
        ] {
            assert!(matches!(other, StorageError::Query(_)), "{other:?}");
        }
    }
}
