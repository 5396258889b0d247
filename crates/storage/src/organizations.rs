use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::pagination::{Page, PageRequest};
use crate::schema::organizations;
use crate::{DbConnection, Json, Reach, StorageError};

/// A customer of a tenant (SPEC §1).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub domains: Json<Vec<String>>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub metadata: Json<serde_json::Map<String, serde_json::Value>>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, organization: &Organization) -> Result<(), StorageError> {
    diesel::insert_into(organizations::table)
        .values(organization.clone())
        .execute(conn)
        .map_err(StorageError::from_insert)?;
    Ok(())
}

/// Stores every field of `organization` if the row is still as it was read (its `updated_at` is
/// `read_at`); `false` means another writer came first and the caller should re-read.
pub fn update(
    conn: &mut DbConnection,
    organization: &Organization,
    read_at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let changed = diesel::update(
        organizations::table
            .find(&organization.id)
            .filter(organizations::updated_at.eq(read_at)),
    )
    .set(organization.clone())
    .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes the organization with its users, clients and keys (foreign keys cascade).
pub fn delete(conn: &mut DbConnection, id: &str) -> Result<(), StorageError> {
    diesel::delete(organizations::table.find(id)).execute(conn)?;
    Ok(())
}

/// The organization `id` if the caller can reach it: an organization-confined caller reaches
/// only its own.
pub fn get(conn: &mut DbConnection, reach: &Reach, id: &str) -> Result<Organization, StorageError> {
    crate::within_reach!(organizations, organizations::id, reach)
        .filter(organizations::id.eq(id.to_owned()))
        .select(Organization::as_select())
        .first(conn)
        .optional()?
        .ok_or(StorageError::NotFound)
}

pub fn list(
    conn: &mut DbConnection,
    reach: &Reach,
    page: &PageRequest,
) -> Result<Page<Organization>, StorageError> {
    let query = crate::within_reach!(organizations, organizations::id, reach)
        .select(Organization::as_select());
    crate::keyset_page!(conn, query, organizations::id, page, Organization)
}

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
