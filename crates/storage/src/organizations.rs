use diesel::prelude::*;

use crate::schema::organizations;
use crate::{DbConnection, StorageError};

/// Whether organization `id` exists in `tenant_id`.
pub fn exists_in_tenant(
    conn: &mut DbConnection,
    tenant_id: &str,
    id: &str,
) -> Result<bool, StorageError> {
    let count: i64 = organizations::table
        .filter(organizations::tenant_id.eq(tenant_id))
        .filter(organizations::id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}
