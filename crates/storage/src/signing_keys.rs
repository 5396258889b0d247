use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::signing_keys;
use crate::{DbConnection, StorageError};

/// A JWT signing key. The current key has no `retired_at`; a retired key stays published
/// until `expires_at`, when no token it signed can still be valid.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKey {
    pub kid: String,
    pub algorithm: String,
    pub private_key_pem: String,
    pub public_jwk: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
}

/// Without the private key, sealed or not.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Keys still in the JWKS at `now`, newest first: the current one and the recently retired.
pub fn published(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<SigningKey>, StorageError> {
    Ok(signing_keys::table
        .filter(signing_keys::expires_at.is_null().or(signing_keys::expires_at.gt(now)))
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(SigningKey::as_select())
        .load(conn)?)
}

pub fn insert(conn: &mut DbConnection, key: &SigningKey) -> Result<(), StorageError> {
    diesel::insert_into(signing_keys::table).values(key).execute(conn).map_err(StorageError::from_insert)?;
    Ok(())
}

/// Makes `new_keys` the current keys and retires the others at `now`, keeping them
/// published until `retired_until`. Returns how many keys were retired.
pub fn rotate(
    conn: &mut DbConnection,
    new_keys: &[SigningKey],
    now: NaiveDateTime,
    retired_until: NaiveDateTime,
) -> Result<usize, StorageError> {
    conn.transaction(|conn| {
        let retired = diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
            .set((signing_keys::retired_at.eq(now), signing_keys::expires_at.eq(retired_until)))
            .execute(conn)?;
        for key in new_keys {
            diesel::insert_into(signing_keys::table).values(key).execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(retired)
    })
    .map_err(StorageError::from)
}

/// Every stored key, published or not, with its private key as stored: for re-sealing.
pub fn all_private_keys(conn: &mut DbConnection) -> Result<Vec<(String, String)>, StorageError> {
    Ok(signing_keys::table.select((signing_keys::kid, signing_keys::private_key_pem)).load(conn)?)
}

pub fn set_private_key(conn: &mut DbConnection, kid: &str, stored: &str) -> Result<(), StorageError> {
    diesel::update(signing_keys::table.find(kid)).set(signing_keys::private_key_pem.eq(stored)).execute(conn)?;
    Ok(())
}

/// What the private key of `kid` is sealed for: a sealed key moved to another row does not open.
pub fn seal_context(kid: &str) -> String {
    format!("signing_key:{kid}")
}
