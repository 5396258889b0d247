//! Authorization codes (RFC 6749 §4.1): stored as keyed hashes, usable once, for 60 seconds.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::authorization_codes;
use crate::{DbConnection, StorageError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub tenant_id: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    /// Space-separated scope granted by the user.
    pub scope: String,
    /// The PKCE S256 challenge (RFC 7636), if the client sent one.
    pub code_challenge: Option<String>,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub issued_jti: Option<String>,
    pub issued_expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// OpenID Connect: the request's `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
    /// When the user signed in (the ID token's `auth_time`).
    pub auth_time: Option<NaiveDateTime>,
    /// The sign-in session the code was issued in (the ID token's `sid`).
    pub session_id: Option<String>,
    /// RFC 8707: the `resource` of the authorization request, which the token is then for.
    pub resource: Option<String>,
}

pub fn insert(conn: &mut DbConnection, code: &AuthorizationCode) -> Result<(), StorageError> {
    diesel::insert_into(authorization_codes::table).values(code.clone()).execute(conn)?;
    Ok(())
}

/// What presenting a code found.
#[derive(Debug, Clone, PartialEq)]
pub enum Redemption {
    /// First use, unexpired: the code is now used.
    Redeemed(AuthorizationCode),
    /// Used before: the tokens issued from its first use must be revoked (RFC 6749 §4.1.2).
    Reused(AuthorizationCode),
    /// Unknown or expired.
    Invalid,
}

/// Marks the code with this hash used, exactly once even under concurrent attempts.
pub fn redeem(conn: &mut DbConnection, code_hash: &str, now: NaiveDateTime) -> Result<Redemption, StorageError> {
    let claimed = diesel::update(
        authorization_codes::table
            .find(code_hash)
            .filter(authorization_codes::used_at.is_null())
            .filter(authorization_codes::expires_at.gt(now)),
    )
    .set(authorization_codes::used_at.eq(now))
    .execute(conn)?;
    let code =
        authorization_codes::table.find(code_hash).select(AuthorizationCode::as_select()).first(conn).optional()?;
    Ok(match (claimed, code) {
        (1, Some(code)) => Redemption::Redeemed(code),
        (_, Some(code)) if code.used_at.is_some_and(|used| used != now) => Redemption::Reused(code),
        _ => Redemption::Invalid,
    })
}

/// Remembers the access token issued from the code.
pub fn record_issued(
    conn: &mut DbConnection,
    code_hash: &str,
    jti: &str,
    expires_at: NaiveDateTime,
) -> Result<(), StorageError> {
    diesel::update(authorization_codes::table.find(code_hash))
        .set((authorization_codes::issued_jti.eq(jti), authorization_codes::issued_expires_at.eq(expires_at)))
        .execute(conn)?;
    Ok(())
}

/// Deletes codes that expired before `before` (used or not): they can no longer matter.
pub fn delete_expired(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StorageError> {
    Ok(diesel::delete(authorization_codes::table.filter(authorization_codes::expires_at.le(before))).execute(conn)?)
}
