use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::organizations;
use crate::{DbConnection, StorageError};

/// A customer of a tenant (SPEC §1).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// A JSON array of strings, kept as its text: answers serve it as it is, without parsing.
    pub domains: String,
    /// A JSON object, kept as its text like `domains`.
    pub metadata: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Whether organization `id` exists in `tenant_id`.
pub fn exists_in_tenant(conn: &mut DbConnection, tenant_id: &str, id: &str) -> Result<bool, StorageError> {
    let count: i64 = organizations::table
        .filter(organizations::tenant_id.eq(tenant_id))
        .filter(organizations::id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

crate::reach::reach_repository!(organizations, Organization, organizations::id);
