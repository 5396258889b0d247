//! Refresh tokens (RFC 6749 §6): opaque, stored as keyed hashes, rotated on every use, in
//! families whose reuse revokes them all (RFC 9700 §4.14).

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Nullable, Text, Timestamp};

use crate::schema::{clients, refresh_tokens, users};
use crate::{DbConnection, StorageError, in_transaction, revoked_tokens};

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
    /// When the user signed in, for the ID tokens of refreshes (OpenID Connect Core §12.2).
    pub auth_time: Option<NaiveDateTime>,
    /// The sign-in session of the original authorization.
    pub session_id: Option<String>,
    /// The `aud` of the grant's first access token: a refresh naming no `resource` keeps it.
    pub audience: Option<String>,
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

/// The token with this hash, if its client and user still exist. (On PostgreSQL their deletion
/// deletes their tokens by trigger, not by foreign key; the joins cover a refresh that raced it.)
pub fn find(conn: &mut DbConnection, token_hash: &str) -> Result<Option<RefreshToken>, StorageError> {
    Ok(find_with_holder(conn, token_hash)?.map(|(token, _)| token))
}

/// The token with this hash, and what a refresh needs of the user it was issued to, in one
/// round trip. `None` when the token, its client or its user is gone
/// (PostgreSQL keeps no foreign key from tokens to clients or users, so the joins say so).
fn find_with_holder(conn: &mut DbConnection, token_hash: &str) -> Result<Option<(RefreshToken, Holder)>, StorageError> {
    Ok(refresh_tokens::table
        .inner_join(clients::table.on(clients::id.eq(refresh_tokens::client_id)))
        .inner_join(users::table.on(users::id.eq(refresh_tokens::user_id)))
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            RefreshToken::as_select(),
            (users::organization_id, users::role, users::email, users::name, users::email_verified),
        ))
        .first(conn)
        .optional()?)
}

/// What a refresh takes from the token it uses up.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct UsedRefreshToken {
    pub family_id: String,
    pub tenant_id: String,
    pub user_id: String,
    /// The original grant's scope, which the successor keeps.
    pub scope: String,
    /// The user the token was issued to, as they are now.
    pub holder: Holder,
    /// When the user signed in and in which session, kept from the original authorization.
    pub auth_time: Option<NaiveDateTime>,
    pub session_id: Option<String>,
    pub audience: Option<String>,
}

/// What a refresh reads of the user a token was issued to, as they are now: their organization
/// and role (a refresh re-applies the rules a sign-in applies) and the claims an ID token
/// releases.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Holder {
    pub organization_id: Option<String>,
    pub role: String,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
}

/// The new token a refresh stores; the rest of its row comes from the token it replaces.
#[derive(Debug, Clone)]
pub struct Successor {
    pub token_hash: String,
    pub access_jti: String,
    pub access_expires_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Uses up the live token `used_hash` of client `client_id` and stores `successor` in its
/// place, atomically. `None`, with nothing changed, when there is no such live token (unknown,
/// another client's, expired, revoked, or used already, perhaps by a concurrent refresh).
///
/// On PostgreSQL this is one statement: one round trip and one implicit transaction, as the
/// refresh grant's cost is mostly round trips. SQLite has no data-modifying CTE, and its round
/// trips are function calls, so there it is a transaction of three statements.
pub fn use_and_replace(
    conn: &mut DbConnection,
    used_hash: &str,
    client_id: &str,
    successor: &Successor,
    now: NaiveDateTime,
) -> Result<Option<UsedRefreshToken>, StorageError> {
    match conn {
        DbConnection::Postgresql(pg) => {
            let statement = UseAndReplace { used_hash, client_id, successor, now };
            Ok(statement.get_result::<UsedRefreshToken>(pg).optional()?)
        }
        DbConnection::Sqlite(_) => in_transaction(conn, |conn| {
            let Some((row, holder)) = find_with_holder(conn, used_hash)? else {
                return Ok(None);
            };
            if row.client_id != client_id || !row.is_live(now) || !mark_used_if_live(conn, used_hash, now)? {
                return Ok(None);
            }
            let used = UsedRefreshToken {
                family_id: row.family_id,
                tenant_id: row.tenant_id,
                user_id: row.user_id,
                scope: row.scope,
                holder,
                auth_time: row.auth_time,
                session_id: row.session_id,
                audience: row.audience,
            };
            insert(conn, &successor_row(&used, client_id, successor, now))?;
            Ok(Some(used))
        }),
    }
}

fn successor_row(used: &UsedRefreshToken, client_id: &str, successor: &Successor, now: NaiveDateTime) -> RefreshToken {
    RefreshToken {
        token_hash: successor.token_hash.clone(),
        family_id: used.family_id.clone(),
        tenant_id: used.tenant_id.clone(),
        client_id: client_id.to_owned(),
        user_id: used.user_id.clone(),
        scope: used.scope.clone(),
        access_jti: successor.access_jti.clone(),
        access_expires_at: successor.access_expires_at,
        expires_at: successor.expires_at,
        used_at: None,
        revoked_at: None,
        created_at: now,
        auth_time: used.auth_time,
        session_id: used.session_id.clone(),
        audience: used.audience.clone(),
    }
}

/// PostgreSQL's one-statement [`use_and_replace`].
struct UseAndReplace<'a> {
    used_hash: &'a str,
    client_id: &'a str,
    successor: &'a Successor,
    now: NaiveDateTime,
}

/// A static query id lets diesel keep the statement prepared (raw `sql_query` is re-planned).
impl QueryId for UseAndReplace<'_> {
    type QueryId = UseAndReplace<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for UseAndReplace<'_> {
    type SqlType = (
        Text,
        Text,
        Text,
        Text,
        (Nullable<Text>, Text, Text, Text, Bool),
        Nullable<Timestamp>,
        Nullable<Text>,
        Nullable<Text>,
    );
}

impl QueryFragment<Pg> for UseAndReplace<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Under READ COMMITTED a concurrent UPDATE of the same row makes this one re-check its
        // conditions after the other commits, so only one refresh can use a token. The join
        // refuses a token whose user is gone (PostgreSQL has no foreign key to users here) and
        // reads the user's organization, without locking the user's row.
        out.push_sql("WITH used AS (UPDATE refresh_tokens SET used_at = ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" FROM users WHERE refresh_tokens.token_hash = ");
        out.push_bind_param::<Text, _>(self.used_hash)?;
        out.push_sql(" AND refresh_tokens.client_id = ");
        out.push_bind_param::<Text, _>(self.client_id)?;
        out.push_sql(" AND refresh_tokens.expires_at > ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(
            " AND refresh_tokens.used_at IS NULL AND refresh_tokens.revoked_at IS NULL \
             AND users.id = refresh_tokens.user_id RETURNING refresh_tokens.family_id, refresh_tokens.tenant_id, \
             refresh_tokens.user_id, refresh_tokens.scope, users.organization_id, users.role, users.email, \
             users.name, users.email_verified, \
             refresh_tokens.auth_time, refresh_tokens.session_id, refresh_tokens.audience), \
             successor AS (INSERT INTO refresh_tokens (token_hash, family_id, tenant_id, client_id, user_id, scope, \
             access_jti, access_expires_at, expires_at, created_at, auth_time, session_id, audience) SELECT ",
        );
        out.push_bind_param::<Text, _>(&self.successor.token_hash)?;
        out.push_sql(", family_id, tenant_id, ");
        out.push_bind_param::<Text, _>(self.client_id)?;
        out.push_sql(", user_id, scope, ");
        out.push_bind_param::<Text, _>(&self.successor.access_jti)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.successor.access_expires_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.successor.expires_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(
            ", auth_time, session_id, audience FROM used) SELECT family_id, tenant_id, user_id, scope, \
             organization_id, role, email, name, email_verified, auth_time, session_id, audience FROM used",
        );
        Ok(())
    }
}

impl RunQueryDsl<diesel::PgConnection> for UseAndReplace<'_> {}

/// Marks the token used unless it was used or revoked first; `false` then.
fn mark_used_if_live(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> Result<bool, StorageError> {
    let changed = diesel::update(
        refresh_tokens::table
            .find(token_hash)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
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

/// Revokes the family whose token was issued together with the access token `access_jti` (a
/// code's first use: RFC 6749 §4.1.2), as [`revoke_family`] does; no family, nothing revoked.
pub fn revoke_family_issued_with(
    conn: &mut DbConnection,
    access_jti: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, StorageError> {
    let family: Option<String> = refresh_tokens::table
        .filter(refresh_tokens::access_jti.eq(access_jti))
        .select(refresh_tokens::family_id)
        .first(conn)
        .optional()?;
    match family {
        Some(family_id) => revoke_family(conn, &family_id, now),
        None => Ok(Vec::new()),
    }
}

/// Deletes tokens that expired before `before`: they can no longer be used or reused.
pub fn delete_expired(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StorageError> {
    Ok(diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.le(before))).execute(conn)?)
}
