//! Resources: a tenant's APIs (docs/api.md, "Resources"). A resource's identifier is unique in
//! the whole deployment (it is the `aud` of the tokens for that API); its scopes are unique
//! within the tenant.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{resource_identifiers, resources, tenants};
use crate::{DbConnection, Json, StorageError};

/// An API of a tenant.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = resources)]
pub struct Resource {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// An absolute URI naming the API: the `aud` of its tokens (RFC 8707).
    pub identifier: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub scopes: Json<Vec<String>>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::reach::reach_repository!(resources, Resource, tenant_level);

/// Claims `identifier` for `tenant_id` for good (docs/api.md, "Resources"): `false` when another
/// tenant claimed it first, even if its resource is gone, as tokens for it may still be alive.
pub fn claim_identifier(conn: &mut DbConnection, identifier: &str, tenant_id: &str) -> Result<bool, StorageError> {
    let owner: Option<String> =
        resource_identifiers::table.find(identifier).select(resource_identifiers::tenant_id).first(conn).optional()?;
    match owner {
        Some(owner) => Ok(owner == tenant_id),
        None => {
            let claimed = diesel::insert_into(resource_identifiers::table)
                .values((
                    resource_identifiers::identifier.eq(identifier),
                    resource_identifiers::tenant_id.eq(tenant_id),
                    resource_identifiers::created_at.eq(crate::now()),
                ))
                .execute(conn)
                .map_err(StorageError::from_insert);
            match claimed {
                Ok(_) => Ok(true),
                // Another tenant claimed it at the same moment.
                Err(StorageError::Conflict(_)) => Ok(false),
                Err(other) => Err(other),
            }
        }
    }
}

/// Every resource of `tenant_id`.
pub fn all_of_tenant(conn: &mut DbConnection, tenant_id: &str) -> Result<Vec<Resource>, StorageError> {
    Ok(resources::table.filter(resources::tenant_id.eq(tenant_id)).select(Resource::as_select()).load(conn)?)
}

/// Whether a resource other than `except_id` has `identifier`, in any tenant.
pub fn identifier_in_use(conn: &mut DbConnection, identifier: &str, except_id: &str) -> Result<bool, StorageError> {
    let count: i64 = resources::table
        .filter(resources::identifier.eq(identifier))
        .filter(resources::id.ne(except_id))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Every resource of `tenant_id`, for a transaction about to store one: on PostgreSQL the
/// tenant's row stays locked against other such transactions until this one ends, so two
/// writers cannot both claim one scope (SQLite's write transactions already exclude each
/// other). Key-share lockers (objects being added to the tenant) are not held up.
pub fn all_of_tenant_for_write(conn: &mut DbConnection, tenant_id: &str) -> Result<Vec<Resource>, StorageError> {
    if let DbConnection::Postgresql(conn) = conn {
        tenants::table
            .filter(tenants::id.eq(tenant_id))
            .select(tenants::id)
            .for_no_key_update()
            .first::<String>(conn)
            .optional()?;
    }
    Ok(resources::table.filter(resources::tenant_id.eq(tenant_id)).select(Resource::as_select()).load(conn)?)
}
