use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::pagination::{Page, PageRequest};
use crate::schema::tenants;
use crate::{DbConnection, StorageError};

/// An isolated account (docs/api.md): its `plan` is its rate-limit policy, its `environment`
/// (`live` or `test`) the prefix of its keys.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tenants)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub environment: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, tenant: &Tenant) -> Result<(), StorageError> {
    diesel::insert_into(tenants::table).values(tenant).execute(conn).map_err(StorageError::from_insert)?;
    Ok(())
}

/// Stores every field of `tenant` if the row is still as it was read (its `updated_at` is
/// `read_at`); `false` means another writer came first and the caller should re-read.
pub fn update(conn: &mut DbConnection, tenant: &Tenant, read_at: NaiveDateTime) -> Result<bool, StorageError> {
    let changed = diesel::update(tenants::table.find(&tenant.id).filter(tenants::updated_at.eq(read_at)))
        .set(tenant.clone())
        .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes the tenant and everything in it (foreign keys cascade); audit events stay.
pub fn delete(conn: &mut DbConnection, id: &str) -> Result<(), StorageError> {
    diesel::delete(tenants::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Tenant, StorageError> {
    tenants::table.find(id).select(Tenant::as_select()).first(conn).optional()?.ok_or(StorageError::NotFound)
}

pub fn list(conn: &mut DbConnection, page: &PageRequest) -> Result<Page<Tenant>, StorageError> {
    crate::keyset_page!(conn, tenants::table.select(Tenant::as_select()).into_boxed(), tenants::id, page, Tenant)
}
