use diesel::prelude::*;

use crate::schema::server_secrets;
use crate::{DbConnection, StorageError};

/// The stored secret called `name`, created with `make` if there is none yet. Two instances
/// starting at once both end up with the one that was stored first.
pub fn get_or_create(
    conn: &mut DbConnection,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<String, StorageError> {
    let existing = || server_secrets::table.find(name).select(server_secrets::value);
    if let Some(value) = existing().first::<String>(conn).optional()? {
        return Ok(value);
    }
    let inserted = diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::value.eq(make()),
            server_secrets::created_at.eq(crate::now()),
        ))
        .execute(conn)
        .map_err(StorageError::from_insert);
    match inserted {
        Ok(_) | Err(StorageError::Conflict(_)) => Ok(existing().first::<String>(conn)?),
        Err(other) => Err(other),
    }
}

/// Every stored secret as stored: for re-sealing.
pub fn all(conn: &mut DbConnection) -> Result<Vec<(String, String)>, StorageError> {
    Ok(server_secrets::table.select((server_secrets::name, server_secrets::value)).load(conn)?)
}

pub fn set(conn: &mut DbConnection, name: &str, stored: &str) -> Result<(), StorageError> {
    diesel::update(server_secrets::table.find(name)).set(server_secrets::value.eq(stored)).execute(conn)?;
    Ok(())
}

/// What the secret `name` is sealed for.
pub fn seal_context(name: &str) -> String {
    format!("server_secret:{name}")
}
