use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::pagination::{Page, PageRequest};
use crate::schema::users;
use crate::{DbConnection, Reach, StorageError};

/// A user of a tenant (SPEC §1). `email` is stored lower-case and is unique per tenant.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub organization_id: Option<String>,
    pub email: String,
    pub name: String,
    /// Argon2id PHC string; `None` for a user who cannot sign in with a password.
    pub password_hash: Option<String>,
    pub email_verified: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Fails with `Conflict` when the email is taken in the tenant.
pub fn insert(conn: &mut DbConnection, user: &User) -> Result<(), StorageError> {
    diesel::insert_into(users::table)
        .values(user.clone())
        .execute(conn)
        .map_err(StorageError::from_insert)?;
    Ok(())
}

/// Stores every field of `user` if the row is still as it was read (its `updated_at` is
/// `read_at`); `false` means another writer came first and the caller should re-read.
pub fn update(
    conn: &mut DbConnection,
    user: &User,
    read_at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let changed = diesel::update(
        users::table
            .find(&user.id)
            .filter(users::updated_at.eq(read_at)),
    )
    .set(user.clone())
    .execute(conn)
    .map_err(StorageError::from_insert)?;
    Ok(changed == 1)
}

pub fn delete(conn: &mut DbConnection, id: &str) -> Result<(), StorageError> {
    diesel::delete(users::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, reach: &Reach, id: &str) -> Result<User, StorageError> {
    crate::within_reach!(users, users::organization_id, reach)
        .filter(users::id.eq(id.to_owned()))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or(StorageError::NotFound)
}

pub fn list(
    conn: &mut DbConnection,
    reach: &Reach,
    page: &PageRequest,
) -> Result<Page<User>, StorageError> {
    let query =
        crate::within_reach!(users, users::organization_id, reach).select(User::as_select());
    crate::keyset_page!(conn, query, users::id, page, User)
}

/// The user of `tenant_id` with this (lower-case) email: for sign-in.
pub fn find_by_email(
    conn: &mut DbConnection,
    tenant_id: &str,
    email: &str,
) -> Result<Option<User>, StorageError> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}
