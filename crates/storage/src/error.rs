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
    Query(#[from] diesel::result::Error),
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
            other => StorageError::Query(other),
        }
    }
}

impl From<serde_json::Error> for StorageError {
    fn from(err: serde_json::Error) -> Self {
        StorageError::Corrupt(err.to_string())
    }
}
