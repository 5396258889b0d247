//! Refresh tokens (RFC 6749 §6): opaque, stored as keyed hashes, rotated on every use, in
//! families whose reuse revokes them all (RFC 9700 §4.14).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::refresh_tokens;
use crate::{DbConnection, StorageError, revoked_tokens};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub token_hash: String,
    /// Every token descending from one authorization shares it.
    pub family_id: String,
    pub tenant_id: String,
    pub client_id: String,
    pub user_id: String,
    /// The scope of the original grant; a refresh may narrow the access token's, not this.
    pub scope: String,
    /// The access token issued together with this refresh token.
    pub access_jti: String,
    pub access_expires_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl RefreshToken {
    pub fn is_live(&self, now: NaiveDateTime) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}

pub fn insert(conn: &mut DbConnection, token: &RefreshToken) -> Result<(), StorageError> {
    diesel::insert_into(refresh_tokens::table).values(token.clone()).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, token_hash: &str) -> Result<Option<RefreshToken>, StorageError> {
    Ok(refresh_tokens::table.find(token_hash).select(RefreshToken::as_select()).first(conn).optional()?)
}

/// Marks the token used if nobody used it first; `false` when it was used already.
pub fn mark_used(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> Result<bool, StorageError> {
    let changed = diesel::update(refresh_tokens::table.find(token_hash).filter(refresh_tokens::used_at.is_null()))
        .set(refresh_tokens::used_at.eq(now))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Revokes every token of the family and the access tokens issued with them that are still
/// valid; returns the revoked access tokens' `jti`s.
pub fn revoke_family(
    conn: &mut DbConnection,
    family_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, StorageError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    let live_access: Vec<(String, String, NaiveDateTime)> = refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family_id))
        .filter(refresh_tokens::access_expires_at.gt(now))
        .select((refresh_tokens::access_jti, refresh_tokens::tenant_id, refresh_tokens::access_expires_at))
        .load(conn)?;
    for (jti, tenant_id, expires_at) in &live_access {
        revoked_tokens::revoke(conn, jti, tenant_id, *expires_at)?;
    }
    Ok(live_access.into_iter().map(|(jti, _, _)| jti).collect())
}

/// Deletes tokens that expired before `before`: they can no longer be used or reused.
pub fn delete_expired(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StorageError> {
    Ok(diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.le(before))).execute(conn)?)
}
