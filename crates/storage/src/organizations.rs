use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{organizations, tenants};
use crate::{DbConnection, StorageError};

/// A customer of a tenant (docs/api.md).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organizations, treat_none_as_null = true)]
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
    /// Its own rate-limit plan for calls verified for its keys and tokens; `None`: its tenant's.
    pub plan: Option<String>,
}

/// The own plan of organization `id` (`None`: its tenant's, or no such organization).
pub fn plan_of(conn: &mut DbConnection, id: &str) -> Result<Option<String>, StorageError> {
    use diesel::prelude::*;
    let plan: Option<Option<String>> = crate::schema::organizations::table
        .filter(crate::schema::organizations::id.eq(id))
        .select(crate::schema::organizations::plan)
        .first(conn)
        .optional()?;
    Ok(plan.flatten())
}

/// Whether organization `id` exists in `tenant_id`, for a transaction about to add an object
/// to it. On PostgreSQL the tenant's and the organization's rows stay share-locked until the
/// transaction ends, so deleting either meanwhile waits and then cascades to the new object,
/// instead of the insert failing on a reference that vanished after this check. The tenant is
/// locked first because deleting a tenant locks it before its organizations: taking them in
/// the other order deadlocks against that delete. SQLite's write transactions
/// (`BEGIN IMMEDIATE`) already exclude each other.
pub fn exists_in_tenant_for_insert(conn: &mut DbConnection, tenant_id: &str, id: &str) -> Result<bool, StorageError> {
    let organization = organizations::table
        .filter(organizations::tenant_id.eq(tenant_id))
        .filter(organizations::id.eq(id))
        .select(organizations::id);
    let found: Option<String> = match conn {
        DbConnection::Postgresql(conn) => {
            let tenant = tenants::table.filter(tenants::id.eq(tenant_id)).select(tenants::id);
            if tenant.for_key_share().first::<String>(conn).optional()?.is_none() {
                return Ok(false);
            }
            organization.for_key_share().first(conn).optional()?
        }
        DbConnection::Sqlite(conn) => organization.first(conn).optional()?,
    };
    Ok(found.is_some())
}

crate::reach::reach_repository!(organizations, Organization, organizations::id);

/// Every scope held by what deleting the organization would delete with it: its API keys' and
/// clients' scopes, and `admin` when one of its users is an admin (docs/security.md: a cascade
/// acts on each object it deletes).
pub fn scopes_held_within(conn: &mut DbConnection, id: &str) -> Result<Vec<String>, StorageError> {
    use crate::schema::{api_keys, clients, users};
    let key_scopes: Vec<String> =
        api_keys::table.filter(api_keys::organization_id.eq(id)).select(api_keys::scopes).distinct().load(conn)?;
    let client_scopes: Vec<String> =
        clients::table.filter(clients::organization_id.eq(id)).select(clients::scopes).distinct().load(conn)?;
    let mut held: Vec<String> = Vec::new();
    for text in key_scopes.into_iter().chain(client_scopes) {
        // Unreadable scopes must not pass for none: the check would fail open.
        let crate::Json(scopes) = crate::Json::<Vec<String>>::try_from(text)?;
        for scope in scopes {
            if !held.contains(&scope) {
                held.push(scope);
            }
        }
    }
    let admins: i64 = users::table
        .filter(users::organization_id.eq(id))
        .filter(users::role.eq(crate::users::ROLE_ADMIN))
        .count()
        .get_result(conn)?;
    if admins > 0 && !held.iter().any(|s| s == "admin") {
        held.push("admin".to_owned());
    }
    Ok(held)
}
