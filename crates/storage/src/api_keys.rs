use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::api_keys;
use crate::{DbConnection, StorageError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
struct ApiKeyRow {
    id: String,
    tenant_id: Option<String>,
    organization_id: Option<String>,
    name: String,
    key_hash: String,
    redacted: String,
    previous_key_hash: Option<String>,
    previous_key_expires_at: Option<NaiveDateTime>,
    scopes: String,
    environment: String,
    expires_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// An API key. `tenant_id` is `None` for operator keys, which manage tenants.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: Option<String>,
    pub organization_id: Option<String>,
    pub name: String,
    pub key_hash: String,
    pub redacted: String,
    pub previous_key_hash: Option<String>,
    pub previous_key_expires_at: Option<NaiveDateTime>,
    pub scopes: Vec<String>,
    pub environment: String,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ApiKey {
    /// Whether the secret hashing to `hash` authenticates this key at `now`: the current secret
    /// until the key expires, the previous one only within its rotation grace period.
    pub fn authenticates(&self, hash: &str, now: NaiveDateTime) -> bool {
        if self.expires_at.is_some_and(|at| at <= now) {
            return false;
        }
        self.key_hash == hash
            || (self.previous_key_hash.as_deref() == Some(hash)
                && self.previous_key_expires_at.is_some_and(|at| at > now))
    }

    fn to_row(&self) -> Result<ApiKeyRow, StorageError> {
        Ok(ApiKeyRow {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            organization_id: self.organization_id.clone(),
            name: self.name.clone(),
            key_hash: self.key_hash.clone(),
            redacted: self.redacted.clone(),
            previous_key_hash: self.previous_key_hash.clone(),
            previous_key_expires_at: self.previous_key_expires_at,
            scopes: serde_json::to_string(&self.scopes)?,
            environment: self.environment.clone(),
            expires_at: self.expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StorageError;

    fn try_from(row: ApiKeyRow) -> Result<Self, StorageError> {
        Ok(ApiKey {
            scopes: serde_json::from_str(&row.scopes)?,
            id: row.id,
            tenant_id: row.tenant_id,
            organization_id: row.organization_id,
            name: row.name,
            key_hash: row.key_hash,
            redacted: row.redacted,
            previous_key_hash: row.previous_key_hash,
            previous_key_expires_at: row.previous_key_expires_at,
            environment: row.environment,
            expires_at: row.expires_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub fn insert(conn: &mut DbConnection, key: &ApiKey) -> Result<(), StorageError> {
    diesel::insert_into(api_keys::table)
        .values(key.to_row()?)
        .execute(conn)
        .map_err(StorageError::from_insert)?;
    Ok(())
}

/// The key whose current or previous secret has this keyed hash (one indexed lookup).
/// Whether it still authenticates is [`ApiKey::authenticates`]'s call.
pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> Result<Option<ApiKey>, StorageError> {
    let row = api_keys::table
        .filter(api_keys::key_hash.eq(hash).or(api_keys::previous_key_hash.eq(hash)))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()?;
    row.map(ApiKey::try_from).transpose()
}

/// Whether any operator key exists: an empty deployment has none.
pub fn operator_key_exists(conn: &mut DbConnection) -> Result<bool, StorageError> {
    let count: i64 = api_keys::table.filter(api_keys::tenant_id.is_null()).count().get_result(conn)?;
    Ok(count > 0)
}
