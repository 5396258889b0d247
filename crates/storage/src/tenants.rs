use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::schema::tenants;
use crate::{DbConnection, StorageError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
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
    diesel::insert_into(tenants::table)
        .values(tenant)
        .execute(conn)
        .map_err(StorageError::from_insert)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Tenant, StorageError> {
    tenants::table
        .find(id)
        .select(Tenant::as_select())
        .first(conn)
        .optional()?
        .ok_or(StorageError::NotFound)
}
