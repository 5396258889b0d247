use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::users;
use crate::{DbConnection, StorageError};

/// A user of a tenant (docs/api.md). `email` is stored lower-case and is unique per tenant.
#[derive(Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
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
    /// `member` or `admin` (docs/security.md): whether the user's tokens may carry management scopes.
    pub role: String,
}

/// The user of `tenant_id` with this (lower-case) email: for sign-in.
pub fn find_by_email(conn: &mut DbConnection, tenant_id: &str, email: &str) -> Result<Option<User>, StorageError> {
    // No stored email holds U+0000 (PostgreSQL cannot store it, and would fail on the query
    // instead of finding nothing): such an email is nobody's.
    if email.contains('\0') {
        return Ok(None);
    }
    Ok(users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Without the password hash: what an Argon2 hash would let an attacker try offline.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("organization_id", &self.organization_id)
            .field("role", &self.role)
            .field("has_password", &self.password_hash.is_some())
            .finish_non_exhaustive()
    }
}

crate::reach::reach_repository!(users, User, users::organization_id);

/// A user's roles (docs/security.md): only an admin's tokens may carry management scopes.
pub const ROLE_MEMBER: &str = "member";
pub const ROLE_ADMIN: &str = "admin";

/// Whether the change lowers the user from admin to member: their earlier tokens must stop.
pub fn lowers_role(before: &User, after: &User) -> bool {
    before.role == ROLE_ADMIN && after.role == ROLE_MEMBER
}
