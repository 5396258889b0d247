//! Revoked access tokens, by `jti` (RFC 7009), and deleted token subjects: a deleted client,
//! user, organization or tenant is recorded here by its id (ids and `jti`s never collide: ids
//! carry a prefix), until every token it could appear in has expired. JWTs stay verifiable
//! offline; Tollbooth's own API and introspection also consult this list.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::revoked_tokens;
use crate::{DbConnection, StorageError};

/// Revokes `jti` (of a token of `tenant_id` that expires at `expires_at`). Revoking twice is
/// not an error.
pub fn revoke(
    conn: &mut DbConnection,
    jti: &str,
    tenant_id: &str,
    expires_at: NaiveDateTime,
) -> Result<(), StorageError> {
    // ON CONFLICT rather than catching the unique violation: on PostgreSQL that error would
    // abort the surrounding transaction (two requests revoking one family at once).
    // diesel's multi-backend has no upsert, so the statement runs on each backend's own type.
    let statement = diesel::insert_into(revoked_tokens::table)
        .values((
            revoked_tokens::jti.eq(jti),
            revoked_tokens::tenant_id.eq(tenant_id),
            revoked_tokens::expires_at.eq(expires_at),
            revoked_tokens::revoked_at.eq(crate::now()),
        ))
        .on_conflict_do_nothing();
    match conn {
        DbConnection::Postgresql(pg) => statement.execute(pg)?,
        DbConnection::Sqlite(sqlite) => statement.execute(sqlite)?,
    };
    Ok(())
}

/// Whether the token `jti`, issued at `issued_at`, is revoked: by its own `jti`, or because one
/// of `subjects` (the ids of its client, user, organization and tenant) carries a stamp
/// ([`revoke_subject`]) that reaches its issue time. One indexed query.
pub fn is_revoked(
    conn: &mut DbConnection,
    jti: &str,
    subjects: &[&str],
    issued_at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let count: i64 = revoked_tokens::table
        .filter(
            revoked_tokens::jti
                .eq(jti)
                .or(revoked_tokens::jti.eq_any(subjects).and(revoked_tokens::revoked_at.ge(issued_at))),
        )
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Revokes every token naming `subject` (a client, user, organization or tenant id) issued up
/// to `issued_until`, until `expires_at`, when all of them have expired anyway. A deletion
/// passes `expires_at` for both (no token of a deleted subject is ever good, even one minted by
/// an instance that had not seen the deletion yet); a demotion passes now plus a margin for the
/// clocks of other instances. Revoking again replaces the stamp.
pub fn revoke_subject(
    conn: &mut DbConnection,
    subject: &str,
    tenant_id: &str,
    issued_until: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), StorageError> {
    crate::in_transaction(conn, |conn| {
        diesel::delete(revoked_tokens::table.find(subject)).execute(conn)?;
        diesel::insert_into(revoked_tokens::table)
            .values((
                revoked_tokens::jti.eq(subject),
                revoked_tokens::tenant_id.eq(tenant_id),
                revoked_tokens::expires_at.eq(expires_at),
                revoked_tokens::revoked_at.eq(issued_until),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Deletes the entries of tokens that have expired by `now`; returns how many.
pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, StorageError> {
    Ok(diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.le(now))).execute(conn)?)
}
