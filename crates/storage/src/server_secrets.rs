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
